// The dashboard in a real browser: after a day of challenges and SMS, an operator enters the admin
// token and sees the numbers, the funnel and outcome charts, the time chart and the breakdowns,
// and narrows them with the filters.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Browser, Page } from "playwright-core";
import { fixedClock } from "../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";
import { contrastFailures, hasChromium, launchChromium, listen, NO_PROBLEMS, publishScreenshot, saveScreenshot, watchPage } from "./browser-support.js";

const ADMIN_TOKEN = "dashboard-admin-token-0123456789";

const suite = hasChromium ? describe : describe.skip;
if (!hasChromium) {
  test.skip("dashboard browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium): skipped", () => undefined);
}

suite("the dashboard in Chromium", () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof listen>>;
  let browser: Browser;

  /** What the seeded data adds up to, counted while seeding. */
  const expected = { created: 0, received: 0, verified: 0, wrongCode: 0, acme: { created: 0, received: 0, verified: 0 }, travelCreated: 0 };

  beforeAll(async () => {
    // Twenty hours of traffic, an hour apart, ending about an hour ago: a steppable clock (so the
    // chart over time has bars across the day) and a distinct phone per challenge.
    const HOUR = 3600_000;
    const start = Date.now() - 21 * HOUR;
    const clock = fixedClock(new Date(start));
    h = await startHarness({ clock, env: { ADMIN_TOKEN, DEMO_ENABLED: "false" } });
    const acme = await h.createApp({ name: "Acme Shop" });
    const travel = await h.createApp({ name: "Travel Co" });
    const mobile = (i: number) =>
      [`+3361234${String(5000 + i).padStart(4, "0")}`, `+491512345${String(6000 + i).padStart(4, "0")}`, `+447400${123000 + i}`][i % 3]!;
    let n = 0;
    for (let hour = 0; hour < 20; hour++) {
      clock.set(new Date(start + hour * HOUR));
      for (let j = 0; j < 1 + ((hour * 7) % 4); j++) {
        const phone = mobile(n++);
        const isTravel = (hour + j) % 5 === 0;
        const app = isTravel ? travel : acme;
        const body = isTravel
          ? { phone, purpose: "transaction", context: { amount: "99.00", currency: "EUR", merchant: "Rail" } }
          : { phone, purpose: j % 2 === 1 ? "signup" : "login" };
        const c = (await h.createChallenge(app.sk, body)).body;
        expected.created++;
        if (isTravel) expected.travelCreated++;
        else expected.acme.created++;
        clock.advance(5_000 + ((hour * 17 + j * 7) % 40) * 1000);
        const fate = (hour * 3 + j) % 6; // four in six verified, one wrong code, one never answered
        if (fate === 5) continue;
        const text = fate === 4 ? (c.code === "000000" ? "111111" : "000000") : c.smsBody;
        const outcome = (await h.sendSms({ from: phone, to: app.number, text })).body.results[0].outcome;
        expect(outcome).toBe(fate === 4 ? "wrong_code" : "verified");
        expected.received++;
        if (!isTravel) expected.acme.received++;
        if (fate === 4) expected.wrongCode++;
        else {
          expected.verified++;
          if (!isTravel) expected.acme.verified++;
        }
      }
    }
    expect((await h.sendSms({ from: PHONES.fr2, to: "+447400999999", text: "123456" })).body.results[0].outcome).toBe("unknown_number");

    server = await listen(h);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await h?.close();
  });

  const text = (page: Page, selector: string) => page.locator(selector).textContent();

  test("asks for the admin token, refuses a wrong one, then shows the numbers, charts and breakdowns, and filters by app", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto(`${server.base}/dashboard`);
    await expect(page.locator("#dashboard").isHidden()).resolves.toBe(true);

    await page.getByLabel("Admin token").fill("not-the-admin-token");
    await page.getByRole("button", { name: "Open the dashboard" }).click();
    await page.getByRole("alert").filter({ hasText: "This token is not valid." }).waitFor();
    await expect(page.locator("#dashboard").isHidden()).resolves.toBe(true);

    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Open the dashboard" }).click();
    await page.locator("#dashboard").waitFor({ state: "visible" });
    const { created, received, verified } = expected;
    expect(verified).toBeGreaterThan(0);
    await expect(text(page, "#n-created")).resolves.toBe(String(created));
    await expect(text(page, "#n-received")).resolves.toBe(String(received));
    await expect(text(page, "#n-verified")).resolves.toBe(String(verified));
    await expect(text(page, "#n-conversion")).resolves.toBe(`${Math.round((verified / created) * 1000) / 10} %`);
    // Verified 5 to 44 seconds after creation.
    await expect(text(page, "#n-p50")).resolves.toMatch(/^\d+(\.\d)? s$/);

    // The funnel chart: one bar per step, with its value, and an accessible description.
    const funnel = page.locator("#funnel-chart svg");
    await expect(funnel.getAttribute("role")).resolves.toBe("img");
    const bars = await page.$$eval("#funnel-chart g", (gs) => gs.map((g) => [g.getAttribute("data-label"), g.getAttribute("data-value")]));
    expect(bars).toEqual([
      ["Created", String(created)],
      ["SMS received", String(received)],
      ["Verified", String(verified)],
    ]);
    await expect(page.locator("#funnel-chart desc").textContent()).resolves.toBe(`Created: ${created}, SMS received: ${received}, Verified: ${verified}`);
    const outcomes = await page.$$eval("#outcomes-chart g", (gs) => Object.fromEntries(gs.map((g) => [g.getAttribute("data-label"), g.getAttribute("data-value")])));
    expect(outcomes).toEqual({ verified: String(verified), "wrong code": String(expected.wrongCode), "unknown number": "1" });
    // The misconfiguration panel: the SMS to a number no app owns, in the last hour.
    await expect(text(page, "#unowned")).resolves.toMatch(
      /^Deliveries for numbers no app owns: 1 in the last hour, last from \+33•••••••32 for \+447400999999 \(generic, \d\d:\d\d UTC\)\.$/,
    );
    await expect(page.locator("#unowned").getAttribute("class")).resolves.toBe("message message-error");
    // Hourly bars across the day.
    expect(await page.locator("#series-chart rect.bar-created").count()).toBeGreaterThanOrEqual(10);
    expect(await page.locator("#series-chart rect.bar-verified").count()).toBeGreaterThanOrEqual(10);
    await expect(page.locator("#series-chart desc").textContent()).resolves.toMatch(new RegExp(`^2[45] buckets of 60 minutes; ${created} created, ${verified} verified$`));

    const byApp = page.locator("table", { hasText: "By app" });
    await expect(byApp.locator("tbody tr").count()).resolves.toBe(2);
    const acme = expected.acme;
    await expect(byApp.locator("tbody tr", { hasText: "Acme Shop" }).locator("td").allTextContents()).resolves.toEqual([
      String(acme.created),
      String(acme.received),
      String(acme.verified),
      `${Math.round((acme.verified / acme.created) * 1000) / 10} %`,
      expect.stringMatching(/ s$/),
      expect.stringMatching(/ s$/),
    ]);
    expect(await contrastFailures(page)).toEqual([]);
    publishScreenshot(await saveScreenshot(page, "dashboard"), "dashboard");

    // Filtering by app redraws everything for that app only.
    await page.getByLabel("App").selectOption({ label: "Travel Co" });
    await page.locator("#n-created", { hasText: new RegExp(`^${expected.travelCreated}$`) }).waitFor();
    await expect(text(page, "#n-verified")).resolves.toBe(String(verified - acme.verified));
    await expect(byApp.locator("tbody tr").count()).resolves.toBe(1);
    await expect(byApp.locator("tbody tr").locator("th").textContent()).resolves.toBe("Travel Co");

    expect({ ...problems, consoleErrors: problems.consoleErrors.filter((e) => !/status of 401/.test(e)) }).toEqual(NO_PROBLEMS);
    await context.close();
  });

  test("without ADMIN_TOKEN the dashboard page says it is disabled", async () => {
    const other = await startHarness({ env: { DEMO_ENABLED: "false" } });
    const otherServer = await listen(other);
    try {
      const page = await browser.newPage();
      const problems = watchPage(page);
      const response = await page.goto(`${otherServer.base}/dashboard`);
      expect(response?.status()).toBe(404);
      await expect(page.locator("h1").textContent()).resolves.toBe("The dashboard is disabled");
      expect({ ...problems, consoleErrors: problems.consoleErrors.filter((e) => !/status of 404/.test(e)) }).toEqual(NO_PROBLEMS);
      await page.close();
    } finally {
      await otherServer.close();
      await other.close();
    }
  });
});
