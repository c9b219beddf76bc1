// `npm run chaos`: the fault scenarios of SECURITY.md figures 8 and 9, on a private PostgreSQL of
// its own (initdb/pg_ctl on a free port, test/fault/private-postgres.ts) and the service in its own
// process with its default deadlines, under a retrying sender (test/fault/retrying-sender.ts) that
// delivers 100 webhooks/s, each verifying a distinct pending challenge:
//
//   baseline   no fault: the control row (what this machine does at that rate)
//   kill-5s    PostgreSQL killed (pg_ctl -m immediate stop) for 5 s, then started again
//   kill-30s   the same for 30 s
//   freeze-10s PostgreSQL frozen (SIGSTOP on the postmaster and every backend) for 10 s, then SIGCONT:
//              every webhook answered while frozen must be a 503 within 5 s, none lost after
//   app-kill   the service killed with SIGKILL mid-load and started again: the sender sees
//              connection errors (a dead process) and retries
//
// For each: messages sent and acknowledged, attempts, 503 answers, connection errors, lost
// (a message without its inbound row, or whose challenge is not verified), duplicated (more than
// one row or verification for a message), slowest answer and p99. Exits 1 when a scenario loses or
// duplicates anything, when an answer took over 5 s, when something else than a 503 was answered
// while the database was down or frozen, or when a message was never acknowledged. Connection
// errors are the sender's view of a dead process, counted apart (they are no answer); outside the
// app-kill scenario one that took over 5 s fails the run too.
//
// The sender retries like Sinch's SMS callbacks (first retry after 5 s, then doubling, ±25 %
// jitter); `--first-retry` and `--max-retry-delay` (ms) make it more eager.
//
//   npm run chaos                              # all five, about 3 minutes
//   npm run chaos -- --only freeze-10s,app-kill
//   npm run chaos -- --rate 50 --json out.json
//   CHAOS_TIMELINE=1 npm run chaos -- --only freeze-10s   # per-second timeline, the service's connections
//
// Needs the PostgreSQL server binaries (/usr/lib/postgresql/*/bin); runs them as the `postgres`
// user when started as root. DATABASE_URL is not used. The service's log goes to a file in the
// temporary folder (its path is printed).
import { spawn, type ChildProcess } from "node:child_process";
import { randomInt } from "node:crypto";
import { closeSync, copyFileSync, openSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { maskPhone } from "../src/challenges/phone.js";
import { loadConfig } from "../src/config.js";
import { openPostgres } from "../src/db/database.js";
import { createLogger } from "../src/http/logger.js";
import { signStandardWebhook } from "../src/providers/standard-webhooks.js";
import { createRuntime } from "../src/runtime.js";
import { randomId } from "../src/shared/crypto.js";
import { startPrivatePostgres, type PrivatePostgres } from "../test/fault/private-postgres.js";
import { sendWithRetries, type Attempt } from "../test/fault/retrying-sender.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const LIMIT_MS = 5000;

const { values: args } = parseArgs({
  options: {
    only: { type: "string" },
    rate: { type: "string", default: "100" },
    "first-retry": { type: "string", default: "5000" },
    "max-retry-delay": { type: "string", default: "80000" },
    json: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

type Ctx = { pg: PrivatePostgres; service: Service; log: (line: string) => void };
type Window = { from: number; to: number };
type Scenario = {
  key: string;
  title: string;
  /** Seconds of load at the sender's rate (messages = rate × loadSeconds). */
  loadSeconds: number;
  /** When the fault starts, in ms after the first message. */
  faultAtMs: number;
  /** Runs the fault and its repair; returns the window during which the fault held, up to the start of the repair (ms after the first message). */
  fault: (ctx: Ctx, t0: number) => Promise<Window>;
  /** Connection errors are expected (the service process is dead for a while). */
  processDies?: boolean;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SCENARIOS: Scenario[] = [
  {
    key: "baseline",
    title: "no fault (control)",
    loadSeconds: 8,
    faultAtMs: 0,
    fault: async () => ({ from: Number.NaN, to: Number.NaN }),
  },
  {
    key: "kill-5s",
    title: "PostgreSQL killed 5 s",
    loadSeconds: 12,
    faultAtMs: 3000,
    fault: async ({ pg }, t0) => {
      await pg.kill();
      const from = Date.now() - t0;
      await sleep(5000);
      const to = Date.now() - t0; // the repair starts: answers before this are the outage's
      await pg.start();
      return { from, to };
    },
  },
  {
    key: "kill-30s",
    title: "PostgreSQL killed 30 s",
    loadSeconds: 36,
    faultAtMs: 3000,
    fault: async ({ pg }, t0) => {
      await pg.kill();
      const from = Date.now() - t0;
      await sleep(30_000);
      const to = Date.now() - t0; // the repair starts: answers before this are the outage's
      await pg.start();
      return { from, to };
    },
  },
  {
    key: "freeze-10s",
    title: "PostgreSQL frozen 10 s (SIGSTOP)",
    loadSeconds: 18,
    faultAtMs: 3000,
    fault: async ({ pg }, t0) => {
      pg.freeze();
      const from = Date.now() - t0;
      await sleep(10_000);
      const to = Date.now() - t0;
      pg.thaw();
      return { from, to };
    },
  },
  {
    key: "app-kill",
    title: "service killed -9, restarted",
    loadSeconds: 12,
    faultAtMs: 4000,
    processDies: true,
    fault: async ({ service, log }, t0) => {
      await service.kill9();
      const from = Date.now() - t0;
      await service.start();
      const to = Date.now() - t0;
      log(`  service down for ${((to - from) / 1000).toFixed(1)} s (SIGKILL to ready)`);
      return { from, to };
    },
  },
];

if (args.help) {
  process.stdout.write(`npm run chaos [-- --only ${SCENARIOS.map((s) => s.key).join(",")}] [--rate 100] [--first-retry 5000] [--max-retry-delay 80000] [--json file]\n`);
  process.exit(0);
}

const RATE = Number(args.rate);
if (!Number.isFinite(RATE) || RATE <= 0) throw new Error("--rate must be a positive number");
/**
 * The sender's retry schedule, by default Sinch's documented one for SMS callbacks: first retry
 * 5 s after a failure, then doubling (10, 20, 40, 80 s…), here with ±25 % jitter. Other providers
 * wait as long or longer (Standard Webhooks senders such as Svix: 5 s, then 5 min). A much more
 * eager sender turns a long outage into a retry storm: 3,000 messages waiting during a 30 s outage
 * at 100/s retry at 3,000/cap per second; try `--first-retry 250 --max-retry-delay 8000`.
 */
const FIRST_RETRY_MS = Number(args["first-retry"]);
const MAX_RETRY_DELAY_MS = Number(args["max-retry-delay"]);
if (!Number.isFinite(FIRST_RETRY_MS) || FIRST_RETRY_MS < 10) throw new Error("--first-retry must be at least 10 (ms)");
if (!Number.isFinite(MAX_RETRY_DELAY_MS) || MAX_RETRY_DELAY_MS < FIRST_RETRY_MS) throw new Error("--max-retry-delay must be at least --first-retry (ms)");
const only = args.only?.split(",").map((s) => s.trim());
const unknown = only?.filter((k) => !SCENARIOS.some((s) => s.key === k)) ?? [];
if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.key).join(", ")}`);
const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.key));

const SECRET = `whsec_${Buffer.from("chaos-generic-webhook-secret-32b").toString("base64")}`;
const NUMBER = "+447400000888";
const ENV = {
  HASH_KEY: "chaos-hash-key-0123456789abcdefghijklmnopqrstuv",
  GENERIC_WEBHOOK_SECRET: SECRET,
  RATE_LIMIT_PHONE_PER_HOUR: "100",
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

type Service = { baseUrl: string; start(): Promise<void>; kill9(): Promise<void>; stop(): Promise<void> };

/** The service as in production: its own process, `node --import tsx src/server.ts`, default deadlines. */
function serviceOn(databaseUrl: string, port: number, logFile: string): Service {
  const baseUrl = `http://127.0.0.1:${port}`;
  // The service writes its log straight into the file (pino writes synchronously: a pipe that this
  // busy process drained late would stall the service and be measured as its own slowness).
  const logFd = openSync(logFile, "a");
  let child: ChildProcess | undefined;
  const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once("exit", () => resolve())));
  return {
    baseUrl,
    async start() {
      const c = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
        cwd: ROOT,
        env: { ...process.env, ...ENV, DATABASE_URL: databaseUrl, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", NODE_OPTIONS: "" },
        stdio: ["ignore", logFd, logFd],
      });
      child = c;
      for (let i = 0; i < 1200; i++) {
        if (c.exitCode !== null) throw new Error(`the service exited during start-up (see ${logFile})`);
        const ready = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) })
          .then((r) => r.ok)
          .catch(() => false);
        if (ready) return;
        await sleep(50);
      }
      throw new Error(`the service did not become ready (see ${logFile})`);
    },
    async kill9() {
      if (!child) return;
      child.kill("SIGKILL");
      await exited(child);
    },
    async stop() {
      if (!child) return;
      child.kill("SIGTERM");
      const c = child;
      await Promise.race([exited(c), sleep(15_000).then(() => c.kill("SIGKILL"))]);
      closeSync(logFd);
    },
  };
}

/**
 * A fresh process compiles its queries on first use: 300 webhooks from phones without a challenge
 * (stored as no_pending_challenge, through the same transaction) before the first scenario, so the
 * control row measures the steady state, not the start-up.
 */
async function warmUp(service: Service) {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < 300; i = next++) {
      const body = JSON.stringify({ messageId: `warmup-${i}`, from: `+3362${String(i).padStart(7, "0")}`, to: NUMBER, text: "123456" });
      const id = `wh_warmup_${i}`;
      const ts = Math.floor(Date.now() / 1000);
      await fetch(`${service.baseUrl}/v1/inbound/generic`, {
        method: "POST",
        headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signStandardWebhook(SECRET, id, ts, body) },
        body,
      })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
}

type Pending = { messageId: string; challengeId: string; phone: string; code: string };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

type Result = {
  scenario: string;
  title: string;
  messages: number;
  sent: number;
  acknowledged: number;
  attempts: number;
  answers503: number;
  otherAnswers: Record<string, number>;
  connectionErrors: number;
  lost: number;
  duplicated: number;
  slowestAnswerMs: number;
  p99AnswerMs: number;
  slowestConnectionErrorMs: number;
  faultWindowMs: Window;
  /** Attempts started while the fault held: answered before the repair (and how), after it, or not at all. */
  duringFault: { attempts: number; answeredWhileFaulty: number; answered503WhileFaulty: number; slowestAnswerWhileFaultyMs: number; answeredAfterRepair: number; connectionErrors: number };
  runSeconds: number;
  problems: string[];
};

async function main() {
  const started = Date.now();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`chaos: ${scenarios.map((s) => s.key).join(", ")} at ${RATE} webhooks/s; ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);

  const pgServer = await startPrivatePostgres();
  const logFile = path.join(os.tmpdir(), `reverse-otp-chaos-${process.pid}.log`);
  let service: Service | undefined;
  try {
    // Set-up: the app through the service's own code, on a runtime in this process closed before
    // any fault; the challenges in bulk with SQL, hashed with the service's own hasher (creating
    // 8,600 through the API would take minutes and measure nothing this run is about).
    const database = openPostgres({ url: pgServer.url, poolSize: 2, connectTimeoutMs: 5000, statementTimeoutMs: 30_000, onPoolError: () => undefined });
    const runtime = await createRuntime(loadConfig({ DATABASE_URL: pgServer.url, ...ENV, LOG_LEVEL: "silent" }), {
      logger: createLogger("silent"),
      database,
      collectDefaultMetrics: false,
    });
    const created = await runtime.apps.create({ name: "Chaos", numbers: [{ number: NUMBER }] });
    const hasher = runtime.hasher;
    await runtime.close();
    const total = scenarios.reduce((n, s) => n + Math.round(s.loadSeconds * RATE), 0);
    if (total > 20_000) throw new Error("too many challenges for one run; lower --rate or pick fewer scenarios");
    const t = Date.now();
    const perScenario = new Map<string, Pending[]>();
    const seed = new pg.Client({ connectionString: pgServer.url });
    await seed.connect();
    let phoneIndex = 0;
    for (const s of scenarios) {
      const list: Pending[] = [];
      for (let i = 0; i < Math.round(s.loadSeconds * RATE); i++) {
        const phone = `+3361${String(3_000_000 + phoneIndex++).padStart(7, "0")}`;
        list.push({ messageId: `chaos-${s.key}-${i}`, challengeId: randomId("chl"), phone, code: String(randomInt(0, 1_000_000)).padStart(6, "0") });
      }
      // Pending for an hour: the last scenario starts minutes after this.
      await seed.query(
        `INSERT INTO challenges (id, app_id, virtual_number_id, phone_hash, phone_masked, phone_country, code_hash,
                                 poll_token_hash, purpose, locale, status, max_attempts, created_at, expires_at)
         SELECT id, $1, $2, ph, pm, 'FR', ch, th, 'login', 'en', 'pending', 5, now(), now() + interval '1 hour'
           FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(id, ph, pm, ch, th)`,
        [
          created.app.id,
          created.app.numbers[0]!.id,
          list.map((c) => c.challengeId),
          list.map((c) => hasher.phone(c.phone)),
          list.map((c) => maskPhone(c.phone)),
          list.map((c) => hasher.code(c.code)),
          list.map(() => hasher.token(randomId("pt", 43))),
        ],
      );
      perScenario.set(s.key, list);
    }
    await seed.query("ANALYZE challenges");
    await seed.end();
    log(`set-up: ${total} pending challenges created in ${((Date.now() - t) / 1000).toFixed(1)} s; service log: ${logFile}`);

    service = serviceOn(pgServer.url, await freePort(), logFile);
    await service.start();
    await warmUp(service);

    const results: Result[] = [];
    for (const s of scenarios) {
      log(`\n${s.key}: ${s.title}, ${Math.round(s.loadSeconds * RATE)} messages over ${s.loadSeconds} s, fault at ${s.faultAtMs / 1000} s`);
      results.push(await runScenario(s, perScenario.get(s.key)!, { pg: pgServer, service, log }, pgServer.url));
      // Back to a steady state before the next scenario.
      for (let i = 0; i < 600; i++) {
        const ready = await fetch(`${service.baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok).catch(() => false);
        if (ready) break;
        await sleep(100);
      }
    }

    printTable(results);
    const failed = results.filter((r) => r.problems.length > 0);
    const seconds = (Date.now() - started) / 1000;
    log(`\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "CPU"}, ${Math.round(os.totalmem() / 1e9)} GB, Node ${process.version}, load average now ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}; total run ${seconds.toFixed(0)} s`);
    if (args.json) {
      writeFileSync(args.json, `${JSON.stringify({ rate: RATE, firstRetryMs: FIRST_RETRY_MS, maxRetryDelayMs: MAX_RETRY_DELAY_MS, machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, results }, null, 2)}\n`);
      log(`JSON: ${args.json}`);
    }
    if (failed.length > 0) {
      log(`\nFAILED: ${failed.map((r) => `${r.scenario} (${r.problems.join("; ")})`).join(", ")}`);
      process.exitCode = 1;
    } else {
      log("\nOK: 0 lost, 0 duplicated, every answer within 5 s in every scenario.");
    }
  } finally {
    await service?.stop().catch(() => undefined);
    if (process.env.CHAOS_TIMELINE) copyFileSync(pgServer.logFile, `${logFile}.postgres`);
    pgServer.destroy();
  }
}

async function runScenario(s: Scenario, pending: Pending[], ctx: Ctx, databaseUrl: string): Promise<Result> {
  const { service } = ctx;
  let attemptNo = 0;
  const messages = pending.map((p) => {
    const body = JSON.stringify({ messageId: p.messageId, from: p.phone, to: NUMBER, text: p.code });
    return {
      id: p.messageId,
      send: async () => {
        // Every attempt is signed anew (a new webhook-id and timestamp), as providers do.
        const id = `wh_${p.messageId}_${++attemptNo}`;
        const ts = Math.floor(Date.now() / 1000);
        const res = await fetch(`${service.baseUrl}/v1/inbound/generic`, {
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

  // The sender's own event loop: a lagging sender would inflate the answer times it measures.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t0 = Date.now();
  const state: { fault?: Promise<Window> } = {};
  const timer = setTimeout(() => {
    state.fault = s.fault(ctx, t0);
  }, s.faultAtMs);
  // CHAOS_TIMELINE=1: what the service's connections do, sampled every second on a connection of our own.
  let sampling = Boolean(process.env.CHAOS_TIMELINE);
  const samples = (async () => {
    while (sampling) {
      const at = ((Date.now() - t0) / 1000).toFixed(0);
      const c = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 800, query_timeout: 800 });
      try {
        await c.connect();
        const { rows } = await c.query<{ s: string }>(
          `SELECT string_agg(state || coalesce('/' || wait_event_type, '') || ' ×' || n, ', ') AS s
             FROM (SELECT state, wait_event_type, count(*) AS n FROM pg_stat_activity WHERE application_name = 'reverse-otp' GROUP BY 1, 2) t`,
        );
        ctx.log(`    [${at} s] service connections: ${rows[0]?.s ?? "none"}`);
      } catch {
        ctx.log(`    [${at} s] PostgreSQL does not answer`);
      } finally {
        c.end().catch(() => undefined);
      }
      await sleep(1000);
    }
  })();
  const report = await sendWithRetries({ messages, ratePerSecond: RATE, retryDelayMs: FIRST_RETRY_MS, maxRetryDelayMs: MAX_RETRY_DELAY_MS, giveUpAfterMs: 180_000 });
  clearTimeout(timer);
  loop.disable();
  sampling = false;
  await samples;
  const fault = state.fault;
  const window = fault ? await fault : { from: Number.NaN, to: Number.NaN };
  const runSeconds = (Date.now() - t0) / 1000;

  // What the database holds, read on a connection of its own.
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const rows = (
    await client.query<{ id: string; rows: number; verified: number }>(
      `SELECT provider_message_id AS id, count(*)::int AS rows, count(*) FILTER (WHERE outcome = 'verified')::int AS verified
         FROM inbound_messages WHERE provider = 'generic' AND provider_message_id LIKE $1 GROUP BY 1`,
      [`chaos-${s.key}-%`],
    )
  ).rows;
  const challengeIds = pending.map((p) => p.challengeId);
  const statuses = (await client.query<{ id: string; status: string }>(`SELECT id, status::text AS status FROM challenges WHERE id = ANY($1)`, [challengeIds])).rows;
  const verifications = (
    await client.query<{ challenge_id: string; n: number }>(
      `SELECT challenge_id, count(*)::int AS n FROM inbound_messages WHERE outcome = 'verified' AND challenge_id = ANY($1) GROUP BY 1`,
      [challengeIds],
    )
  ).rows;
  await client.end();
  const rowsById = new Map(rows.map((r) => [r.id, r]));
  const statusById = new Map(statuses.map((r) => [r.id, r.status]));
  const verificationsById = new Map(verifications.map((r) => [r.challenge_id, r.n]));
  let lost = 0;
  let duplicated = 0;
  const lostSamples: string[] = [];
  for (const p of pending) {
    const row = rowsById.get(p.messageId);
    const status = statusById.get(p.challengeId);
    if (!row || row.verified !== 1 || status !== "verified") {
      lost += 1;
      if (lostSamples.length < 5) lostSamples.push(`${p.messageId}: ${row ? `${row.rows} row(s), ${row.verified} verified` : "no row"}, challenge ${status}`);
    }
    if ((row?.rows ?? 0) > 1 || (verificationsById.get(p.challengeId) ?? 0) > 1) duplicated += 1;
  }

  const answered = report.attempts.filter((a) => a.status > 0);
  const connectionErrors = report.attempts.filter((a) => a.status === 0);
  const sortedMs = answered.map((a) => a.ms).sort((a, b) => a - b);
  const otherAnswers: Record<string, number> = {};
  for (const a of answered) if (a.status !== 503 && (a.status < 200 || a.status >= 300)) otherAnswers[a.status] = (otherAnswers[a.status] ?? 0) + 1;
  const during = report.attempts.filter((a) => a.atMs >= window.from && a.atMs < window.to);
  const answeredWhileFaulty = during.filter((a) => a.status > 0 && a.atMs + a.ms <= window.to);

  const problems: string[] = [];
  if (!fault) problems.push("the fault never happened (load too short)");
  // While the database is down or frozen, whatever is answered must be a 503 (retry later).
  if (!s.processDies && notA503(answeredWhileFaulty) > 0) problems.push(`${notA503(answeredWhileFaulty)} answers other than 503 while the fault held`);
  if (lost > 0) problems.push(`${lost} lost (${lostSamples.join("; ")})`);
  if (duplicated > 0) problems.push(`${duplicated} duplicated`);
  if (report.unacknowledged.length > 0) problems.push(`${report.unacknowledged.length} never acknowledged`);
  const slowest = sortedMs.at(-1) ?? 0;
  if (slowest > LIMIT_MS) problems.push(`slowest answer ${slowest} ms (> ${LIMIT_MS} ms; ${answered.filter((a) => a.ms > LIMIT_MS).length} answers)`);
  const slowestError = connectionErrors.reduce((m, a) => Math.max(m, a.ms), 0);
  // Outside the process kill, "no answer" is a failure to answer too: it may not take longer than an answer.
  if (!s.processDies && slowestError > LIMIT_MS) problems.push(`a request got no answer for ${slowestError} ms`);
  if (Object.keys(otherAnswers).length > 0) problems.push(`unexpected answers ${JSON.stringify(otherAnswers)}`);

  if (process.env.CHAOS_TIMELINE) {
    // Per second of the run: attempts started, their answers, and the slowest of them.
    const bySecond = new Map<number, Attempt[]>();
    for (const a of report.attempts) {
      const k = Math.floor(a.atMs / 1000);
      bySecond.set(k, [...(bySecond.get(k) ?? []), a]);
    }
    const slow = report.attempts.filter((a) => a.ms > 4500);
    ctx.log(`    slow attempts (${slow.length}): ${slow.slice(0, 40).map((a) => `${a.messageId.split("-").at(-1)}@${a.atMs}:${a.status}/${a.ms}ms`).join(" ")}`);
    for (const [sec, list] of [...bySecond.entries()].sort((x, y) => x[0] - y[0])) {
      const count = (f: (a: Attempt) => boolean) => list.filter(f).length;
      ctx.log(`    t=${String(sec).padStart(3)} s: ${String(list.length).padStart(5)} attempts, 2xx ${count((a) => a.status >= 200 && a.status < 300)}, 503 ${count((a) => a.status === 503)}, no answer ${count((a) => a.status === 0)}, slowest ${list.reduce((m, a) => Math.max(m, a.ms), 0)} ms`);
    }
  }
  const result: Result = {
    scenario: s.key,
    title: s.title,
    messages: pending.length,
    sent: report.sent,
    acknowledged: report.acknowledged,
    attempts: report.attempts.length,
    answers503: report.answers503,
    otherAnswers,
    connectionErrors: connectionErrors.length,
    lost,
    duplicated,
    slowestAnswerMs: slowest,
    p99AnswerMs: percentile(sortedMs, 99),
    slowestConnectionErrorMs: slowestError,
    faultWindowMs: window,
    duringFault: {
      attempts: during.length,
      answeredWhileFaulty: answeredWhileFaulty.length,
      answered503WhileFaulty: answeredWhileFaulty.filter((a) => a.status === 503).length,
      slowestAnswerWhileFaultyMs: answeredWhileFaulty.reduce((m, a) => Math.max(m, a.ms), 0),
      answeredAfterRepair: during.filter((a) => a.status > 0 && a.atMs + a.ms > window.to).length,
      connectionErrors: during.filter((a) => a.status === 0).length,
    },
    runSeconds,
    problems,
  };
  const d = result.duringFault;
  if (fault && Number.isFinite(window.from)) {
    ctx.log(
      `  fault from ${(window.from / 1000).toFixed(1)} s to ${(window.to / 1000).toFixed(1)} s: ${d.attempts} attempts started meanwhile; ` +
        `${d.answeredWhileFaulty} answered before the repair (${d.answered503WhileFaulty} of them 503, slowest ${d.slowestAnswerWhileFaultyMs} ms), ` +
        `${d.answeredAfterRepair} after it, ${d.connectionErrors} connection errors`,
    );
  }
  ctx.log(`  sender's event loop delay: p99 ${Math.round(loop.percentile(99) / 1e6)} ms, max ${Math.round(loop.max / 1e6)} ms`);
  ctx.log(`  ${problems.length === 0 ? "ok" : `PROBLEMS: ${problems.join("; ")}`} (${runSeconds.toFixed(1)} s)`);
  return result;
}

/** Answers other than 503 among these (a 2xx while the database is down would be a lie). */
function notA503(answers: Attempt[]): number {
  return answers.filter((a) => a.status !== 503).length;
}

function printTable(results: Result[]) {
  const cols: [string, number, (r: Result) => string | number][] = [
    ["scenario", 34, (r) => r.title],
    ["sent", 6, (r) => r.sent],
    ["acked", 6, (r) => r.acknowledged],
    ["attempts", 9, (r) => r.attempts],
    ["503", 7, (r) => r.answers503],
    ["conn err", 9, (r) => r.connectionErrors],
    ["lost", 5, (r) => r.lost],
    ["dup", 4, (r) => r.duplicated],
    ["slowest", 9, (r) => `${r.slowestAnswerMs} ms`],
    ["p99", 8, (r) => `${r.p99AnswerMs} ms`],
    ["", 5, (r) => (r.problems.length === 0 ? "ok" : "FAIL")],
  ];
  let out = `\nChaos at ${RATE} webhooks/s from a retrying sender (first retry after ${FIRST_RETRY_MS / 1000} s, doubling up to ${MAX_RETRY_DELAY_MS / 1000} s, ±25 %)\n`;
  out += `${cols.map(([h, w], i) => (i === 0 ? h.padEnd(w) : h.padStart(w))).join(" ")}\n`;
  for (const r of results) out += `${cols.map(([, w, f], i) => (i === 0 ? String(f(r)).padEnd(w) : String(f(r)).padStart(w))).join(" ")}\n`;
  out += "slowest and p99: answers only (connection errors are no answer: the process was dead).\n";
  process.stdout.write(out);
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
