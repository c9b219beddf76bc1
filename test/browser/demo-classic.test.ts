// The demo's classic path in a real browser: a visitor gets a reverse code, clicks "Can't send an
// SMS? Get a code instead", sees the SMS the demo outbox kept (sent by the running dispatcher),
// types a wrong code (attempts left, the field marked invalid), then the right one, and sees
// "verified" — with no request leaving 127.0.0.1.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startHarness, type Harness } from "../support/harness.js";
import {
  contrastFailures,
  describeInChromium,
  launchChromium,
  listen,
  NO_PROBLEMS,
  publishScreenshot,
  saveScreenshot,
  watchPage,
  type BrowserGlobals,
  type PageProblems,
} from "./browser-support.js";


describeInChromium("the demo's classic path in Chromium", () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof listen>>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    h = await startHarness({ env: { DEMO_ENABLED: "true" } });
    // The dispatcher sends the outbox as in a running server (woken by NOTIFY).
    await h.runtime.outbound.dispatcher.start();
    server = await listen(h);
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await h?.runtime.outbound.dispatcher.stop();
    await h?.close();
  });

  async function open(path: string): Promise<{ page: Page; problems: PageProblems }> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto(`${server.base}${path}`);
    return { page, problems };
  }

  /** The browser logs each 422 answer (a wrong code) as a console error; nothing else may be there. */
  const without422 = (problems: PageProblems) => ({ ...problems, consoleErrors: problems.consoleErrors.filter((e) => !/status of 422/.test(e)) });

  async function startChallenge(page: Page, phone: string, submitLabel: string) {
    await page.locator("#country").selectOption("FR");
    await page.locator("#phone").fill(phone);
    await page.getByRole("button", { name: submitLabel }).click();
    await page.locator('#status[data-status="pending"]').waitFor();
    return (await page.locator("#code").textContent()) ?? "";
  }

  test("in English: fall back to SMS, read it on the demo phone, a wrong code shows attempts left, the right one verifies", async () => {
    const { page, problems } = await open("/?lang=en");
    const reverseCode = await startChallenge(page, "06 12 34 56 01", "Get my code");
    expect(reverseCode).toMatch(/^\d{6}$/);

    const fallback = page.getByRole("button", { name: "Can't send an SMS? Get a code instead" });
    await fallback.click();
    await page.locator("#classic").waitFor({ state: "visible" });
    // The reverse steps (code to text, QR code, simulation) are gone; focus is on the code field.
    await expect(page.locator("#reverse-steps").isHidden()).resolves.toBe(true);
    await expect(page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.activeElement.id)).resolves.toBe("typed-code");

    // The SMS the dispatcher handed to the demo outbox: a new code, code first.
    const sms = page.locator("#outbox-sms");
    await expect(sms.getAttribute("aria-live")).resolves.toBe("polite");
    await page.locator("#outbox-sms", { hasText: /^\d{6} is your Demo code to log in\./ }).waitFor();
    const text = (await sms.textContent()) ?? "";
    const code = text.slice(0, 6);
    expect(code).not.toBe(reverseCode);

    // A wrong code (the old reverse one, now dead): attempts left, the field marked invalid.
    const field = page.getByLabel("Code from the SMS");
    await field.fill(reverseCode);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.locator("#check-status", { hasText: /^Wrong code: \d attempts left\.$/ }).waitFor();
    await expect(field.getAttribute("aria-invalid")).resolves.toBe("true");
    await expect(field.getAttribute("aria-describedby")).resolves.toBe("typed-code-hint check-status");
    await expect(page.locator("#status").getAttribute("data-status")).resolves.toBe("pending");
    await expect(page.locator("#result-heading").textContent()).resolves.toBe("2. Type the code we sent");
    await expect(page.locator("#status").textContent()).resolves.toBe("Waiting for the code you type…");
    expect(await contrastFailures(page)).toEqual([]);
    publishScreenshot(await saveScreenshot(page, "demo-classic"), "demo-classic");

    await field.fill(code);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.locator('#status[data-status="verified"]').waitFor();
    await expect(page.locator("#status").textContent()).resolves.toBe("Verified: the phone number is confirmed.");
    await expect(field.getAttribute("aria-invalid")).resolves.toBe(null);
    await expect(page.locator("#check-form").isHidden()).resolves.toBe(true);
    // The demo phone still shows the SMS; the stored challenge is a verified sms one.
    await expect(sms.textContent()).resolves.toBe(text);
    const rows = await h.db.query<{ status: string; channel: string }>(
      `SELECT status::text, channel::text FROM challenges WHERE phone_masked = '+33•••••••01'`,
    );
    expect(rows).toEqual([{ status: "verified", channel: "sms" }]);

    await saveScreenshot(page, "demo-classic-verified");
    expect(without422(problems)).toEqual(NO_PROBLEMS);
  });

  test("in German and French the classic path speaks the page's language", async () => {
    for (const [lang, submit, fallback, verify, wrongText, phone] of [
      ["de", "Meinen Code holen", "Keine SMS möglich? Code zuschicken lassen", "Bestätigen", /^Falscher Code: noch \d Versuche\.$/, "06 12 34 56 02"],
      ["fr", "Obtenir mon code", "Impossible d'envoyer un SMS ? Recevez un code", "Vérifier", /^Code erroné : encore \d essais\.$/, "06 12 34 56 03"],
    ] as const) {
      const { page, problems } = await open(`/?lang=${lang}`);
      await startChallenge(page, phone, submit);
      await page.getByRole("button", { name: fallback }).click();
      await page.locator("#outbox-sms", { hasText: /^\d{6} / }).waitFor();
      await page.locator("#typed-code").fill("000000");
      await page.getByRole("button", { name: verify }).click();
      // 000000 is wrong unless the draw made it the code: then it verifies.
      await page.locator("#check-status", { hasText: wrongText }).or(page.locator('#status[data-status="verified"]')).waitFor();
      expect(without422(problems)).toEqual(NO_PROBLEMS);
    }
  });
});
