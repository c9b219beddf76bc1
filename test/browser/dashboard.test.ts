// The dashboard in a real browser: after a day of challenges and SMS, an operator enters the admin
// token and sees the numbers, the funnel and outcome charts, the time chart and the breakdowns,
// and narrows them with the filters.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { Browser, Page } from "playwright-core";
import { fixedClock } from "../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";
import {
  type BrowserElement,
  type BrowserGlobals,
  contrastFailures,
  describeInChromium,
  launchChromium,
  listen,
  NO_PROBLEMS,
  publishScreenshot,
  saveScreenshot,
  watchPage,
} from "./browser-support.js";

/** axe-core's browser build, from the npm package (a development dependency). */
const AXE_SOURCE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

const ADMIN_TOKEN = "dashboard-admin-token-0123456789";

describeInChromium("the dashboard in Chromium", () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof listen>>;
  let browser: Browser;

  /** What the seeded data adds up to, counted while seeding. */
  const expected = {
    created: 0,
    received: 0,
    verified: 0,
    wrongCode: 0,
    acme: { created: 0, received: 0, verified: 0 },
    travelCreated: 0,
    /** Final statuses as of the harness clock's "now" after seeding. */
    statuses: { verified: 0, expired: 0, failed: 0, cancelled: 0, pending: 0 },
  };
  /** Creation times of the challenges left unanswered or answered wrongly once: expired or pending at the end. */
  const open: number[] = [];

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
        if (fate === 5) {
          open.push(Date.parse(c.expiresAt));
          continue;
        }
        const text = fate === 4 ? (c.code === "000000" ? "111111" : "000000") : c.smsBody;
        const outcome = (await h.sendSms({ from: phone, to: app.number, text })).body.results[0].outcome;
        expect(outcome).toBe(fate === 4 ? "wrong_code" : "verified");
        expected.received++;
        if (!isTravel) expected.acme.received++;
        if (fate === 4) {
          expected.wrongCode++;
          open.push(Date.parse(c.expiresAt));
        } else {
          expected.verified++;
          if (!isTravel) expected.acme.verified++;
        }
      }
    }
    // One challenge cancelled, and one failed after five wrong codes from its phone.
    const cancelled = (await h.createChallenge(acme.sk, { phone: "+33612349001", purpose: "password_reset" })).body;
    expect((await h.http().post(`/v1/challenges/${cancelled.id}/cancel`).set("Authorization", `Bearer ${acme.sk}`)).status).toBe(200);
    const failing = (await h.createChallenge(acme.sk, { phone: "+33612349002", purpose: "profile_change" })).body;
    for (let i = 0; i < 5; i++) {
      await h.sendSms({ from: "+33612349002", to: acme.number, text: failing.code === "000000" ? "111111" : "000000" });
    }
    expected.created += 2;
    expected.acme.created += 2;
    expected.received += 1;
    expected.acme.received += 1;
    expected.wrongCode += 5;
    expected.statuses.cancelled = 1;
    expected.statuses.failed = 1;
    expected.statuses.verified = expected.verified;
    const now = clock.now().getTime();
    expected.statuses.expired = open.filter((expiresAt) => expiresAt <= now).length;
    expected.statuses.pending = open.length - expected.statuses.expired;
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
    await expect(text(page, "#n-conversion")).resolves.toBe(`${Math.round((verified / created) * 1000) / 10} %`);
    // Every status is counted; they add up to the challenges created.
    const statuses = expected.statuses;
    expect(statuses.expired).toBeGreaterThan(0);
    expect(statuses.verified + statuses.expired + statuses.failed + statuses.cancelled + statuses.pending).toBe(created);
    for (const [status, count] of Object.entries(statuses)) await expect(text(page, `#s-${status}`)).resolves.toBe(String(count));
    // Messages, as the outcome chart counts them: each verified one, each wrong code, the unknown number.
    const inbound = verified + expected.wrongCode + 1;
    await expect(text(page, "#n-inbound")).resolves.toBe(String(inbound));
    await expect(text(page, "#outcomes-total")).resolves.toBe(`(${inbound} SMS)`);
    // Verified 5 to 44 seconds after creation.
    await expect(text(page, "#n-p50")).resolves.toMatch(/^\d+(\.\d)? s$/);

    // The funnel chart: one bar per step, with its value, and an accessible description.
    const funnel = page.locator("#funnel-chart svg");
    await expect(funnel.getAttribute("role")).resolves.toBe("img");
    const bars = await page.$$eval("#funnel-chart g", (gs) => gs.map((g) => [g.getAttribute("data-label"), g.getAttribute("data-value")]));
    expect(bars).toEqual([
      ["Created", String(created)],
      ["Got an SMS", String(received)],
      ["Verified", String(verified)],
    ]);
    await expect(page.locator("#funnel-chart desc").textContent()).resolves.toBe(`Created: ${created}, Got an SMS: ${received}, Verified: ${verified}`);
    const outcomes = await page.$$eval("#outcomes-chart g", (gs) => Object.fromEntries(gs.map((g) => [g.getAttribute("data-label"), g.getAttribute("data-value")])));
    expect(outcomes).toEqual({ Verified: String(verified), "Wrong code": String(expected.wrongCode), "Unknown number": "1" });
    // Purposes by their names, not their ids.
    await expect(page.locator("table", { hasText: "By purpose" }).locator("tbody th").allTextContents()).resolves.toEqual(
      expect.arrayContaining(["Log-in", "Sign-up", "Payment", "Password reset", "Profile change"]),
    );
    await expect(page.locator("#purpose option").allTextContents()).resolves.toContain("Password reset");
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
    await page.getByLabel("App", { exact: true }).selectOption({ label: "Travel Co" });
    await page.locator("#n-created", { hasText: new RegExp(`^${expected.travelCreated}$`) }).waitFor();
    await expect(text(page, "#s-verified")).resolves.toBe(String(verified - acme.verified));
    await expect(byApp.locator("tbody tr").count()).resolves.toBe(1);
    await expect(byApp.locator("tbody tr").locator("th").textContent()).resolves.toBe("Travel Co");

    expect({ ...problems, consoleErrors: problems.consoleErrors.filter((e) => !/status of 401/.test(e)) }).toEqual(NO_PROBLEMS);
    await context.close();
  });

  test("on a phone: readable chart text, no label over its bar, tables that say they scroll, and axe finds nothing", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto(`${server.base}/dashboard`);
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Open the dashboard" }).click();
    await page.locator("#dashboard").waitFor({ state: "visible" });
    await page.locator("#funnel-chart svg").waitFor();

    const layout = await page.evaluate(() => {
      const { document, getComputedStyle } = globalThis as unknown as BrowserGlobals;
      const texts = [...document.querySelectorAll(".chart svg text")].map((t: BrowserElement) => {
        const svg = t.ownerSVGElement;
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return { text: t.textContent, px: Number.parseFloat(getComputedStyle(t).fontSize) * scale };
      });
      const overlaps: string[] = [];
      const outside: string[] = [];
      const intersects = (a: BrowserElement, b: BrowserElement) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      for (const g of document.querySelectorAll(".chart g[data-label]")) {
        const rect = g.querySelector("rect").getBoundingClientRect();
        const svgBox = g.ownerSVGElement.getBoundingClientRect();
        for (const t of g.querySelectorAll("text")) {
          const box = t.getBoundingClientRect();
          if (rect.width > 0 && intersects(box, rect)) overlaps.push(`${g.getAttribute("data-label")}: "${t.textContent}"`);
          if (box.right > svgBox.right + 1 || box.left < svgBox.left - 1) outside.push(`"${t.textContent}"`);
        }
      }
      const tables = [...document.querySelectorAll(".breakdown")].map((b: BrowserElement) => {
        const wrap = b.querySelector(".table-wrap");
        return { overflows: wrap.scrollWidth > wrap.clientWidth + 1, hint: !b.querySelector(".scroll-hint").hidden, tabindex: wrap.getAttribute("tabindex"), name: wrap.getAttribute("aria-label") };
      });
      return { texts, overlaps, outside, tables, pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth };
    });
    expect(layout.texts.length).toBeGreaterThan(10);
    expect(layout.texts.filter((t) => t.px < 12)).toEqual([]);
    expect(layout.overlaps).toEqual([]);
    expect(layout.outside).toEqual([]);
    expect(layout.pageOverflow).toBe(0);
    // On 390 px the breakdown tables do not fit: each says so, and the keyboard can scroll it.
    expect(layout.tables.some((t) => t.overflows)).toBe(true);
    for (const t of layout.tables) expect(t).toEqual({ overflows: t.overflows, hint: t.overflows, tabindex: "0", name: expect.stringMatching(/^By /) });

    // axe-core (the npm package), run in the page: no violation of any of its rules.
    await page.evaluate(readFileSync(AXE_SOURCE, "utf8"));
    const violations = await page.evaluate(async () => {
      const { axe, document } = globalThis as unknown as BrowserGlobals & {
        axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
      };
      const result = await axe.run(document, { resultTypes: ["violations"] });
      return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    });
    expect(violations).toEqual([]);
    expect(await contrastFailures(page)).toEqual([]);
    await saveScreenshot(page, "dashboard-phone");
    expect(problems).toEqual(NO_PROBLEMS);
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
