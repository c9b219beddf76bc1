// Fault test (issue: "stops PostgreSQL while a retrying sender delivers webhooks: 0 lost,
// 0 duplicated, every answer within 5 s"). Runs against a private PostgreSQL it starts itself, so
// it can kill it: `npm run test:fault` (not part of `npm test`; .ci/run runs it).
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { loadConfig } from "../../src/config.js";
import { openPostgres, type Database } from "../../src/db/database.js";
import { createLogger } from "../../src/http/logger.js";
import { signStandardWebhook } from "../../src/providers/standard-webhooks.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { startPrivatePostgres, type PrivatePostgres } from "./private-postgres.js";
import { sendWithRetries } from "./retrying-sender.js";

const SECRET = `whsec_${Buffer.from("fault-test-generic-secret-32byte").toString("base64")}`;
const MESSAGES = 300;
const RATE = 50; // webhooks per second
const DOWN_AT_MS = 1500;
const DOWN_FOR_MS = 5000;

const ENV = {
  HASH_KEY: "fault-test-hash-key-0123456789abcdefghijklmnop",
  GENERIC_WEBHOOK_SECRET: SECRET,
  RATE_LIMIT_SECRET_KEY_PER_MINUTE: "100000",
  RATE_LIMIT_PHONE_PER_HOUR: "100",
};

let pg: PrivatePostgres;
/** Set-up and final counts go through this runtime; the service under test runs in its own process. */
let database: Database;
let runtime: Runtime;
let server: ChildProcess;
let baseUrl: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  pg = await startPrivatePostgres();
  const config = loadConfig({ DATABASE_URL: pg.url, ...ENV, LOG_LEVEL: "silent" });
  database = openPostgres({ url: pg.url, poolSize: 2, connectTimeoutMs: 2000, statementTimeoutMs: 3000 });
  runtime = await createRuntime(config, { logger: createLogger("silent"), database, collectDefaultMetrics: false });
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  // The service as it runs in production: its own process, real configuration, default deadlines.
  server = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    env: { ...process.env, ...ENV, DATABASE_URL: pg.url, PORT: String(port), LOG_LEVEL: "warn", NODE_OPTIONS: "" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 300; i++) {
    const ready = await fetch(`${baseUrl}/readyz`).then((r) => r.ok).catch(() => false);
    if (ready) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the service did not become ready");
}, 120_000);

afterAll(async () => {
  server?.kill("SIGTERM");
  await runtime?.close();
  pg?.destroy();
});

test(`PostgreSQL killed for ${DOWN_FOR_MS / 1000} s under ${RATE} webhooks/s from a retrying sender: 0 lost, 0 duplicated, every answer within 5 s`, async () => {
  const created = await runtime.apps.create({ name: "Fault", numbers: [{ number: "+447400000777" }] });
  const number = created.app.numbers[0]!.e164;
  const principal = (await runtime.apps.authenticate(created.secretKey))!;
  const challenges: { id: string; code: string; phone: string }[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const phone = `+3361${String(2_000_000 + i).padStart(7, "0")}`;
    const { challenge } = await runtime.challenges.create(principal, { phone, purpose: "login" });
    challenges.push({ id: challenge.id, code: challenge.code!, phone });
  }

  const messages = challenges.map((c, i) => {
    const body = JSON.stringify({ messageId: `fault-${i}`, from: c.phone, to: number, text: c.code });
    return {
      id: `fault-${i}`,
      send: async () => {
        const id = `wh_${i}_${Date.now()}`;
        const ts = Math.floor(Date.now() / 1000);
        const res = await fetch(`${baseUrl}/v1/inbound/generic`, {
          method: "POST",
          headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signStandardWebhook(SECRET, id, ts, body) },
          body,
          signal: AbortSignal.timeout(15_000),
        });
        await res.arrayBuffer();
        return res.status;
      },
    };
  });

  const { monitorEventLoopDelay } = await import("node:perf_hooks");
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let killed = false;
  let restarted: Promise<unknown> | undefined;
  const report = await sendWithRetries({
    messages,
    ratePerSecond: RATE,
    retryDelayMs: 250,
    giveUpAfterMs: 60_000,
    onTick: (elapsed) => {
      if (!killed && elapsed >= DOWN_AT_MS) {
        killed = true;
        restarted = pg
          .kill()
          .then(() => new Promise((resolve) => setTimeout(resolve, DOWN_FOR_MS)))
          .then(() => pg.start());
      }
    },
  });
  await restarted;
  loop.disable();
  process.stdout.write(`[fault] event loop delay max ${Math.round(loop.max / 1e6)} ms, p99 ${Math.round(loop.percentile(99) / 1e6)} ms\n`);

  const [{ rows, verified, distinctIds }] = await database.withConnection((sql) =>
    sql.query<{ rows: number; verified: number; distinctIds: number }>(
      `SELECT count(*)::int AS rows,
              count(*) FILTER (WHERE outcome = 'verified')::int AS verified,
              count(DISTINCT provider_message_id)::int AS "distinctIds"
         FROM inbound_messages`,
    ),
  ) as [{ rows: number; verified: number; distinctIds: number }];
  const [{ challengesVerified }] = (await database.withConnection((sql) =>
    sql.query<{ challengesVerified: number }>(`SELECT count(*)::int AS "challengesVerified" FROM challenges WHERE status = 'verified'`),
  )) as [{ challengesVerified: number }];

  const figures = {
    sent: report.sent,
    acknowledged: report.acknowledged,
    attempts: report.attempts.length,
    answered503: report.answers503,
    otherFailures: report.otherFailures,
    lost: report.sent - rows,
    duplicated: rows - distinctIds,
    verifiedChallenges: challengesVerified,
    slowestAnswerMs: report.maxMs,
  };
  const slow = report.attempts.filter((a) => a.ms > 3000);
  if (slow.length) process.stdout.write(`[fault] slow answers: ${JSON.stringify(slow.slice(0, 20))}\n`);
  process.stdout.write(`\n[fault] PostgreSQL killed ${DOWN_FOR_MS / 1000} s: ${JSON.stringify(figures)}\n`);

  expect(killed).toBe(true);
  expect(report.answers503).toBeGreaterThan(0); // the outage was felt…
  expect(report.unacknowledged).toEqual([]); // …yet every message was acknowledged in the end
  expect(rows).toBe(MESSAGES); // 0 lost
  expect(distinctIds).toBe(MESSAGES); // 0 duplicated
  expect(verified).toBe(MESSAGES);
  expect(challengesVerified).toBe(MESSAGES);
  expect(report.maxMs).toBeLessThan(5000); // every answer within 5 s
}, 180_000);
