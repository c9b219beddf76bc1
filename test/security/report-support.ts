// Helpers of the measurement files of `npm run security-report` (test/security/*.report.ts): where
// figures are written, a real listening server on a harness (so requests run concurrently on real
// sockets, not through supertest's server per request), and the privacy scan of figure 11.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { Harness } from "../support/harness.js";

export const REPORT_DIR = process.env.SECURITY_REPORT_DIR ?? path.resolve("test-artifacts", "security-report");

/** Writes one figure's measurement for scripts/security-report.ts to print. */
export function writeFigure(name: string, data: unknown): void {
  mkdirSync(path.join(REPORT_DIR, "figures"), { recursive: true });
  writeFileSync(path.join(REPORT_DIR, "figures", `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
}

/**
 * For suite files (not *.report.ts) that also feed a figure: writes it only under
 * `npm run security-report` (SECURITY_REPORT_DIR set), so `npm test` leaves no files behind.
 */
export function writeFigureWhenReporting(name: string, data: unknown): void {
  if (process.env.SECURITY_REPORT_DIR) writeFigure(name, data);
}

/** The harness's Express app listening on a free local port. */
export async function serve(h: Harness): Promise<{ url: string; close(): Promise<void> }> {
  const server = h.app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs `fn` over `items` with at most `concurrency` at once. */
export async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

/** A valid French mobile number per index (+33 6 1x xx xx xx: libphonenumber accepts them all as mobile). */
export const mobileAt = (n: number) => `+3361${String(n % 10_000_000).padStart(7, "0")}`;

/** What must never be found in clear: phones (as sent, E.164) and codes (right and wrong ones). */
export type Secrets = { phones: Set<string>; codes: Set<string> };
export const newSecrets = (): Secrets => ({ phones: new Set(), codes: new Set() });

/**
 * The test database as a dump: `pg_dump --data-only` on PostgreSQL (the real thing an operator
 * would back up), every row as JSON on PGlite (or where pg_dump is missing).
 */
export async function dumpDatabase(h: Harness): Promise<{ method: string; text: string }> {
  if (h.db.kind === "postgres" && h.db.url) {
    try {
      const { stdout } = await promisify(execFile)("pg_dump", ["--data-only", "--no-owner", h.db.url], { maxBuffer: 1024 * 1024 * 1024 });
      return { method: "pg_dump --data-only", text: stdout };
    } catch {
      // pg_dump not installed, or of another major version: fall back to the rows as JSON.
    }
  }
  const tables = await h.db.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
  const parts: string[] = [];
  for (const { tablename } of tables) {
    const rows = await h.db.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t`);
    parts.push(...rows.map((r) => r.row));
  }
  return { method: "every row as JSON", text: parts.join("\n") };
}

/**
 * Where a phone or a code occurs in `text` as a whole token (a run of letters and digits): a code
 * inside a hex digest or an id is not a leak, "123456" between quotes, tabs or spaces is. Phones
 * are looked for as their international digits (with or without "+", "00"), and as the national
 * number with and without its trunk 0.
 */
export function findLeaks(text: string, secrets: Secrets): { phones: string[]; codes: string[] } {
  const tokens = new Set(text.match(/[0-9A-Za-z]+/g) ?? []);
  const phones: string[] = [];
  for (const phone of secrets.phones) {
    const digits = phone.replace(/\D/g, "");
    const national = parsePhoneNumberFromString(phone)?.nationalNumber ?? digits;
    if ([digits, `00${digits}`, national, `0${national}`].some((form) => tokens.has(form))) phones.push(phone);
  }
  const codes = [...secrets.codes].filter((code) => tokens.has(code));
  return { phones, codes };
}

/** Scans a harness's database dump and captured logs for the secrets of a measurement run. */
export async function privacyScan(h: Harness, secrets: Secrets) {
  const dump = await dumpDatabase(h);
  const logs = h.logs();
  const inDump = findLeaks(dump.text, secrets);
  const inLogs = findLeaks(logs, secrets);
  return {
    dumpMethod: dump.method,
    dumpBytes: Buffer.byteLength(dump.text),
    logLines: logs.split("\n").filter((l) => l.trim() !== "").length,
    phonesChecked: secrets.phones.size,
    codesChecked: secrets.codes.size,
    leaksInDump: [...inDump.phones.map((p) => `phone ${p}`), ...inDump.codes.map((c) => `code ${c}`)],
    leaksInLogs: [...inLogs.phones.map((p) => `phone ${p}`), ...inLogs.codes.map((c) => `code ${c}`)],
  };
}
