// The reference pages in a real browser: Swagger UI's "Try it out" creates a challenge with the
// documented example as it is, and a problem's `type` link opens the error reference scrolled to
// its code.
import type { Server } from "node:http";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { Browser, BrowserContext } from "playwright-core";
import { CREATE_CHALLENGE_EXAMPLES } from "../../src/openapi/openapi.js";
import { startHarness, type Harness } from "../support/harness.js";
import { freePort } from "../support/walkthrough.js";
import { type BrowserGlobals, contrastFailures, describeInChromium, launchChromium, NO_PROBLEMS, saveScreenshot, watchPage } from "./browser-support.js";

describeInChromium("the API reference and the error reference in Chromium", () => {
  let h: Harness;
  let server: Server;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // The document names its server by PUBLIC_BASE_URL, where "Try it out" sends: this one.
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    h = await startHarness({ env: { PUBLIC_BASE_URL: base } });
    server = h.app.listen(port, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await h?.close();
  });

  async function open(path: string) {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto(`${base}${path}`);
    return { page, problems };
  }

  test("Swagger's Try it out on POST /v1/challenges succeeds with the default example", async () => {
    const app = await h.createApp({ name: "Swagger" });
    const { page, problems } = await open("/docs");
    // Authorize with the secret key (the first security scheme of the operation).
    await page.getByRole("button", { name: /Authorize/ }).first().click();
    const dialog = page.locator(".dialog-ux .modal-ux");
    await dialog.waitFor();
    await dialog.locator("input[type=text], input[type=password]").first().fill(app.sk);
    await dialog.locator("button.modal-btn.auth.authorize").first().click();
    await dialog.locator("button.btn-done").first().click();

    const operation = page.locator("#operations-Challenges-createChallenge");
    await operation.locator(".opblock-summary").first().click();
    await operation.getByRole("button", { name: "Try it out" }).click();
    // The body Swagger UI offers is the first documented example, as it is.
    const body = operation.locator("textarea.body-param__text");
    await body.waitFor();
    expect(JSON.parse(await body.inputValue())).toEqual(CREATE_CHALLENGE_EXAMPLES.login.value);
    await operation.getByRole("button", { name: "Execute" }).click();
    const status = operation.locator(".live-responses-table .response .response-col_status").first();
    await status.waitFor();
    expect((await status.textContent())?.trim()).toMatch(/^201/);
    const answer = (await operation.locator(".live-responses-table .response-col_description pre").first().textContent()) ?? "";
    expect(JSON.parse(answer)).toMatchObject({ status: "pending", purpose: "login", code: expect.stringMatching(/^\d{6}$/) });
    await saveScreenshot(page, "docs-try-it-out");

    // It really made a challenge of that app.
    const rows = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM challenges c JOIN apps a ON a.id = c.app_id WHERE a.name = 'Swagger'`);
    expect(rows).toEqual([{ n: 1 }]);
    expect(problems).toEqual(NO_PROBLEMS);
  });

  test("a problem's type link opens the error reference scrolled to its code, marked as the target", async () => {
    const problem = await fetch(`${base}/v1/challenges`, {
      method: "POST",
      headers: { authorization: `Bearer ${(await h.createApp()).sk}`, "content-type": "application/json" },
      body: JSON.stringify({ phone: "12", purpose: "login" }),
    });
    const { type } = (await problem.json()) as { type: string; code: string };
    expect(type).toBe(`${base}/docs/errors#invalid-phone`);

    const { page, problems } = await open(type.slice(base.length));
    const section = page.locator("#invalid-phone");
    await expect(section.textContent()).resolves.toMatch(/^INVALID_PHONE/);
    // Scrolled to it: the heading is at the top of the viewport, and highlighted as :target.
    const box = await section.boundingBox();
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.y).toBeLessThan(60);
    const targeted = await page.evaluate(() => {
      const { document } = globalThis as unknown as BrowserGlobals;
      return document.querySelector(":target")?.id;
    });
    expect(targeted).toBe("invalid-phone");
    // Rendered, not raw Markdown; readable.
    await expect(page.locator("h1").textContent()).resolves.toBe("Error codes");
    expect(await page.locator("body").textContent()).not.toMatch(/^## /m);
    expect(await contrastFailures(page)).toEqual([]);
    await saveScreenshot(page, "docs-errors");
    expect(problems).toEqual(NO_PROBLEMS);
  });
});
