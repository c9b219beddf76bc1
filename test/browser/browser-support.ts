// Browser tests: Debian's Chromium driven by playwright-core, against the service listening on
// 127.0.0.1 in this process (the harness's runtime and test database). Without /usr/bin/chromium
// the suites are skipped by name instead of failing.
import { describe, test } from "@jest/globals";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import playwright from "playwright-core";
import type { Browser, Page } from "playwright-core";
import type { Harness } from "../support/harness.js";

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM_PATH);

/**
 * `describe` when Chromium is installed; otherwise the suite is skipped and one skipped test says
 * why, so that a run without Chromium reports it instead of passing silently.
 */
export function describeInChromium(name: string, body: () => void): void {
  if (hasChromium) {
    describe(name, body);
    return;
  }
  test.skip("browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium): skipped", () => undefined);
  describe.skip(name, body);
}

/** Flags for a quiet, offline-by-default browser: no sandbox (CI containers), no background traffic. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(): Promise<Browser> {
  return playwright.chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SCREENSHOT_DIR = path.join(ROOT, "test-artifacts", "screenshots");
const DOCS_SCREENSHOT_DIR = path.join(ROOT, "docs", "screenshots");

/** Saves a screenshot as a test artifact (test-artifacts/screenshots/<name>.png, gitignored). */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Copies an artifact to docs/screenshots/<docsName>.png, which the README shows. Only when that
 * file is missing or UPDATE_SCREENSHOTS=1 is set: each run draws new codes and times, and a test
 * run should not leave committed files changed.
 */
export function publishScreenshot(artifact: string, docsName: string): void {
  const target = path.join(DOCS_SCREENSHOT_DIR, `${docsName}.png`);
  if (existsSync(target) && process.env.UPDATE_SCREENSHOTS !== "1") return;
  mkdirSync(DOCS_SCREENSHOT_DIR, { recursive: true });
  copyFileSync(artifact, target);
}

/** The harness's app listening on an ephemeral port of 127.0.0.1. */
export async function listen(h: Harness): Promise<{ base: string; close(): Promise<void> }> {
  const server: Server = h.app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    async close() {
      h.runtime.beginShutdown(); // ends open event streams
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The few DOM globals the in-page checks use (tsconfig has no DOM library). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type BrowserElement = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type BrowserGlobals = { document: any; getComputedStyle(el: BrowserElement): any; NodeFilter: { SHOW_TEXT: number } };

/** What a page did that it should not: console errors, uncaught exceptions, requests to other hosts. */
export type PageProblems = { consoleErrors: string[]; pageErrors: string[]; foreignRequests: string[]; failedRequests: string[] };

export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], foreignRequests: [], failedRequests: [] };
  page.on("console", (message) => {
    if (message.type() === "error") problems.consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => problems.pageErrors.push(error.message));
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.protocol === "data:") return; // the QR code image, drawn by the server
    if (url.hostname !== "127.0.0.1") problems.foreignRequests.push(request.url());
  });
  page.on("requestfailed", (request) => {
    // A status stream the page aborts itself (start again, navigation) is not a failure.
    if (request.failure()?.errorText === "net::ERR_ABORTED" && request.url().endsWith("/events")) return;
    problems.failedRequests.push(`${request.url()} ${request.failure()?.errorText ?? ""}`);
  });
  return problems;
}

export const NO_PROBLEMS: PageProblems = { consoleErrors: [], pageErrors: [], foreignRequests: [], failedRequests: [] };

/**
 * WCAG 2.x contrast of every visible text on the page against its effective background (the
 * first opaque background up the tree): at least 4.5:1, or 3:1 for large text (24px, or 18.66px
 * bold). Returns the failures.
 */
export async function contrastFailures(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    // Runs in the page; the project compiles without the DOM library, so its globals are untyped here.
    const { document, getComputedStyle, NodeFilter } = globalThis as unknown as BrowserGlobals;
    const parse = (c: string): [number, number, number, number] | undefined => {
      const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(c);
      return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : undefined;
    };
    const luminance = ([r, g, b]: number[]) => {
      const ch = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * ch(r!) + 0.7152 * ch(g!) + 0.0722 * ch(b!);
    };
    const background = (el: BrowserElement | null): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c[3] >= 0.99) return c;
      }
      return [255, 255, 255];
    };
    const failures: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!el || !node.textContent?.trim()) continue;
      if (el.closest("svg, [hidden], script, style")) continue;
      const style = getComputedStyle(el);
      const rect = el.getBoundingClientRect();
      if (style.visibility === "hidden" || style.display === "none" || rect.width === 0 || rect.height === 0) continue;
      if (rect.bottom < 0) continue; // the skip link waits above the page until focused
      const fg = parse(style.color)!;
      const l1 = luminance(fg);
      const l2 = luminance(background(el));
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      const size = Number.parseFloat(style.fontSize);
      const isLarge = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (isLarge ? 3 : 4.5)) failures.push(`${ratio.toFixed(2)}:1 "${node.textContent.trim().slice(0, 40)}" (${style.color})`);
    }
    return failures;
  });
}
