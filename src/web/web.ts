// The service's own web pages (the demo at `/`, the dashboard at `/dashboard`): plain HTML
// templates and static CSS/JS files in this folder, no build step, no framework, nothing fetched
// from another host. Every page and file goes out with a strict Content-Security-Policy: scripts
// and styles only from this origin, no inline script, no inline style, no framing.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import express, { type Response, type Router } from "express";

/**
 * This folder in the source tree, also when the code runs compiled from dist/ (tsc copies no
 * HTML, CSS or JS): two levels up from this module is the repository root in both layouts.
 */
export const WEB_DIR = fileURLToPath(new URL("../../src/web/", import.meta.url));

/** URL prefix of the files in src/web/assets/. */
export const ASSETS_PATH = "/web";

/**
 * `img-src data:` is for the QR code, an SVG the server draws and the page shows as a data: URL
 * (no markup of the server's answer is ever inserted as HTML). `connect-src 'self'` covers the
 * API calls and the status stream. `form-action 'self'`, `base-uri 'none'` and
 * `frame-ancestors 'none'` close the remaining injection and clickjacking paths.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Security headers of every page and asset. */
export function setPageHeaders(res: Response): void {
  res.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.setHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
}

/** Sends an HTML page: never cached (pages carry per-request wording), with the security headers. */
export function sendPage(res: Response, html: string, status = 200): void {
  setPageHeaders(res);
  res.setHeader("Cache-Control", "no-store");
  res.status(status).type("text/html; charset=utf-8").send(html);
}

/** The CSS, JS and icon files of src/web/assets/, under ASSETS_PATH. */
export function webAssets(): Router {
  return express.Router().use(
    ASSETS_PATH,
    express.static(path.join(WEB_DIR, "assets"), {
      index: false,
      redirect: false,
      dotfiles: "ignore",
      fallthrough: true,
      setHeaders: (res) => {
        setPageHeaders(res);
        res.setHeader("Cache-Control", "no-cache");
      },
    }),
  );
}

export function readTemplate(name: string): string {
  return readFileSync(path.join(WEB_DIR, name), "utf8");
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** JSON for a `<script type="application/json">` data block: `<` escaped so no text can close the element. */
export function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/**
 * Fills `{{name}}` with the escaped text of `text[name]` and `{{{name}}}` with `html[name]`, markup
 * the caller built (and escaped) itself. A placeholder without a value is an error, so a missing
 * translation cannot go unnoticed.
 */
export function renderTemplate(template: string, text: Record<string, string>, html: Record<string, string> = {}): string {
  return template.replace(/\{\{(\{)?([\w.]+)\}?\}\}/g, (_match, raw: string | undefined, name: string) => {
    const value = raw ? html[name] : text[name];
    if (value === undefined) throw new Error(`template placeholder ${name} has no value`);
    return raw ? value : escapeHtml(value);
  });
}
