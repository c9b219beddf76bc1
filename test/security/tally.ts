// Jest set-up file of `npm run security-report` (jest.security.config.js), not of `npm test`.
// Counts, per test file, what the service's own metrics count: refused webhook requests by reason
// and stored inbound outcomes. It wraps prom-client's Counter#inc in this file's module registry,
// the one the test file's runtimes use, so every harness of the file is counted, whatever test
// sends the request (prom-client's constructor binds `inc` to `incWithoutExemplar`, so that is the
// method wrapped, before any counter exists). Written to $SECURITY_REPORT_DIR/tally/<file>.json after the file's tests.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, expect } from "@jest/globals";
import { Counter } from "prom-client";

const tally = { rejections: {} as Record<string, number>, outcomes: {} as Record<string, number> };
type Incrementable = { incWithoutExemplar: (...args: unknown[]) => unknown };
const proto = Counter.prototype as unknown as Incrementable;
const original = proto.incWithoutExemplar;
proto.incWithoutExemplar = function (this: Counter, ...args: unknown[]) {
  const [labels, value] = args;
  const by = typeof labels === "object" && labels !== null ? (labels as Record<string, string>) : undefined;
  const n = typeof value === "number" ? value : typeof labels === "number" ? labels : 1;
  const name = (this as unknown as { name: string }).name;
  if (by && name === "reverse_otp_webhook_rejections_total") tally.rejections[String(by.reason)] = (tally.rejections[String(by.reason)] ?? 0) + n;
  if (by && name === "reverse_otp_inbound_messages_total") tally.outcomes[String(by.outcome)] = (tally.outcomes[String(by.outcome)] ?? 0) + n;
  return original.apply(this, args);
};

afterAll(() => {
  const dir = process.env.SECURITY_REPORT_DIR;
  const testPath = expect.getState().testPath;
  if (!dir || !testPath) return;
  mkdirSync(path.join(dir, "tally"), { recursive: true });
  const name = path.relative(process.cwd(), testPath).replace(/[\\/]/g, "__");
  writeFileSync(path.join(dir, "tally", `${name}.json`), `${JSON.stringify({ file: path.relative(process.cwd(), testPath), ...tally }, null, 2)}\n`);
});
