// `npm run bench`: load tests of the service in its own process against PostgreSQL, with the
// webhook path also measured on two smaller servers in the same run, on the same database server:
// the reference (bench/reference-server.ts: this project's statement and parsing without Express
// and Prisma) and the least-work floor (bench/floor-server.ts: node:http, pg, the signature and ONE
// statement). Every path's saturated throughput is printed as a ratio to the floor's webhook rate,
// and the SQL statements each path sends per request are counted on the wire (a short run through
// test/support/statement-counter.ts). Creation is also measured against a real peer in the same
// run: better-auth's phone-number plugin (bench/peer-better-auth.ts), whose send-otp gets the same
// saturation run right after ours. Prints tables and the targets met or missed; writes
// bench/results/latest.json.
//
//   npm run bench                                  # everything, about 3 minutes
//   npm run bench -- --only webhook,status         # some scenarios (create, status, webhook, longpoll)
//   npm run bench -- --duration 20 --rounds 3      # longer saturation runs, more service/reference rounds
//   npm run bench -- --help
//
// The database server is BENCH_DATABASE_URL, else DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres;
// each run creates its own databases there and drops them at the end.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { signStandardWebhook } from "../src/providers/standard-webhooks.js";
import { createHasher } from "../src/shared/crypto.js";
import { backendCpuBetween, backendCpuSeconds, countOutcomes, createBenchDatabase, serverVersion, type BenchDatabase } from "./lib/database.js";
import { runFanOut, type FanOutResult } from "./lib/long-poll.js";
import { runPaced, runSaturation, type BenchRequest, type LoadResult } from "./lib/load.js";
import { startServer, type ServerProcess } from "./lib/process.js";
import { seedApp, seedChallenges, type SeededApp, type SeededChallenge } from "./lib/seed.js";
import { startStatementCounter, type StatementCounter } from "../test/support/statement-counter.js";
import { round } from "./lib/stats.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const { values: args } = parseArgs({
  options: {
    only: { type: "string", default: "create,status,webhook,longpoll" },
    duration: { type: "string", default: "10" },
    "paced-duration": { type: "string", default: "15" },
    rounds: { type: "string", default: "2" },
    connections: { type: "string", default: "32" },
    waiters: { type: "string", default: "5000" },
    "pool-size": { type: "string", default: "10" },
    "database-url": { type: "string" },
    keep: { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
    "service-dir": { type: "string" },
    entry: { type: "string", default: "dist" },
    "node-args": { type: "string", default: "" },
    "no-statements": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

if (args.help) {
  process.stdout.write(`npm run bench -- [options]
  --only LIST           scenarios: create,status,webhook,longpoll (default: all); create includes
                        the peer, better-auth's phone-number send-otp
  --duration S          seconds of each saturation run (default 10)
  --paced-duration S    seconds of each fixed-rate run (default 15)
  --rounds N            service/reference alternations of the webhook saturation run (default 2)
  --connections N       autocannon connections in saturation runs (default 32)
  --waiters N           long-poll waiters (default 5000)
  --pool-size N         database connections of the service, the reference, the floor and the peer (default 10, the service's default)
  --database-url URL    PostgreSQL server to create the benchmark databases on
  --keep                keep the benchmark databases
  --cpu-prof            write CPU profiles of the service processes to bench/results/profiles/
  --service-dir DIR     run the service from another checkout (e.g. an older commit, to measure a change)
  --entry dist|source   run the compiled dist/server.js, as \`npm run start:prod\` does (default; built
                        first with \`npm run build\`), or src/server.ts through tsx, as \`npm start\` does
  --node-args="ARGS"    extra node options for the service process, after those of \`npm run start:prod\`
                        (e.g. --node-args="--max-semi-space-size=16" to measure V8's default young generation)
  --no-statements       skip counting SQL statements per request (a short run through a counting proxy)
`);
  process.exit(0);
}

const only = new Set(args.only!.split(",").map((s) => s.trim()));
const SAT_SECONDS = Number(args.duration);
const PACED_SECONDS = Number(args["paced-duration"]);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const WAITERS = Number(args.waiters);
const POOL_SIZE = args["pool-size"]!;
const SERVICE_DIR = path.resolve(args["service-dir"] ?? ROOT);
if (args.entry !== "source" && args.entry !== "dist") throw new Error("--entry must be source or dist");
const ENTRY = args.entry === "dist" ? "dist/server.js" : "src/server.ts";
if (args.entry === "dist") {
  // The service as deployed: compiled once (`npm run build`), then `node dist/server.js`.
  process.stderr.write(`building ${path.relative(process.cwd(), SERVICE_DIR) || "."} (npm run build)…\n`);
  const build = spawnSync("npm", ["run", "--silent", "build"], { cwd: SERVICE_DIR, stdio: ["ignore", "ignore", "inherit"] });
  if (build.status !== 0 || !existsSync(path.join(SERVICE_DIR, ENTRY))) throw new Error(`npm run build failed in ${SERVICE_DIR}`);
}
/** The node options of `npm run start:prod` (V8's heap sizing), which the compiled service runs with. */
function productionNodeOptions(dir: string): string[] {
  const scripts = (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { scripts?: Record<string, string> }).scripts ?? {};
  const words = (scripts["start:prod"] ?? "").split(/\s+/);
  return words.filter((w) => w.startsWith("--"));
}
// --node-args come last: V8 takes the last value of an option given twice.
const NODE_ARGS = [...(args.entry === "dist" ? productionNodeOptions(SERVICE_DIR) : []), ...args["node-args"]!.split(/\s+/).filter(Boolean)];
const ADMIN_URL = args["database-url"] ?? process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

// The targets of issues 6 and 12 (2 cores, PostgreSQL on the same host).
const TARGETS = {
  webhookRate: 200,
  webhookP99Ms: 50,
  webhookShareOfReference: 0.6,
  webhookShareOfFloor: 0.5,
  createShareOfFloor: 0.4,
  createShareOfPeer: 1,
  statusRate: 500,
  statusP99Ms: 20,
  secretShareOfPollToken: 0.8,
  waiters: 5000,
  waitersMaxMB: 200,
  wakeP99Ms: 100,
};

const HASH_KEY = "bench-hash-key-0123456789abcdefghijklmnopqrstuvwxyz";
const SECRET = `whsec_${Buffer.from("reverse-otp-benchmark-secret-32b").toString("base64")}`;
const NUMBER = "+447400000100";
const hasher = createHasher([HASH_KEY]);
/** The peer for creation: better-auth as installed (a devDependency pinned in package.json). */
const PEER = {
  name: "better-auth",
  version: (JSON.parse(readFileSync(path.join(ROOT, "node_modules/better-auth/package.json"), "utf8")) as { version: string }).version,
  path: "/api/auth/phone-number/send-otp",
};

/** The service as deployed: PostgreSQL, its own process, logs at warn. Rate limits are raised so
 *  the benchmark measures the path (the limiter still counts every keyed request, in batches). */
const SERVICE_ENV = {
  HASH_KEY,
  GENERIC_WEBHOOK_SECRET: SECRET,
  LOG_LEVEL: "warn",
  DB_POOL_SIZE: POOL_SIZE,
  RATE_LIMIT_SECRET_KEY_PER_MINUTE: "10000000",
  RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE: "1000000",
  RATE_LIMIT_PHONE_PER_HOUR: "100000",
  // Thousands of long-polls from one client (this machine), and /metrics read without a token.
  WAITERS_PER_CLIENT: "1000000",
  WAITERS_PER_CHALLENGE: "100000",
  METRICS_PUBLIC: "true",
};

type Row = {
  scenario: string;
  target: string;
  load: string;
  result: LoadResult;
  rssMB: number;
  peakMB: number;
  cpuPercent: number;
  /** CPU milliseconds per request of the server's process, and of its database's PostgreSQL backends (undefined if unreadable). */
  cpuMsPerRequest: number;
  dbCpuMsPerRequest?: number;
};

const rows: Row[] = [];
const fanOuts: { scenario: string; result: FanOutResult }[] = [];
const fanOutFailures: string[] = [];
/** SQL statements per request, by path and server (counted on the wire). */
const statementCounts: { path: string; server: string; perRequest: number }[] = [];
const log = (line: string) => process.stderr.write(`${line}\n`);

function webhook(messageId: string, c: SeededChallenge): BenchRequest {
  const body = JSON.stringify({ messageId, from: c.phone, to: NUMBER, text: `${c.code} is my Bench code to log in.` });
  const id = `wh_${messageId}`;
  const ts = Math.floor(Date.now() / 1000);
  return {
    method: "POST",
    path: "/v1/inbound/generic",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(ts),
      "webhook-signature": signStandardWebhook(SECRET, id, ts, body),
    },
    body,
  };
}

const isVerified = (_status: number, body: string) => body.includes('"outcome":"verified"');

/** The database each server under load runs on (its backends' CPU is counted with the server's). */
const databaseOf = new Map<ServerProcess, BenchDatabase>();

/** Runs `fn` against `server`, recording its memory and CPU share, and the CPU per request of it and of its database's backends. */
async function measure(scenario: string, server: ServerProcess, load: string, fn: () => Promise<LoadResult>): Promise<Row> {
  const db = databaseOf.get(server);
  const backends0 = db ? await backendCpuSeconds(db.pool, db.name) : undefined;
  const cpu0 = server.cpuSeconds();
  const t0 = Date.now();
  const result = await fn();
  const cpuSeconds = server.cpuSeconds() - cpu0;
  const cpu = (cpuSeconds / ((Date.now() - t0) / 1000)) * 100;
  const backends = db && backends0 ? backendCpuBetween(backends0, await backendCpuSeconds(db.pool, db.name)) : undefined;
  const requests = Math.max(1, result.requests);
  const { rssMB, peakMB } = server.memory();
  const row: Row = {
    scenario,
    target: server.name,
    load,
    result,
    rssMB,
    peakMB,
    cpuPercent: cpu,
    cpuMsPerRequest: (cpuSeconds * 1000) / requests,
    ...(backends && backends > 0 ? { dbCpuMsPerRequest: (backends * 1000) / requests } : {}),
  };
  rows.push(row);
  log(
    `  ${scenario} ${server.name} ${load}: ${result.requests} requests, ${result.errors} errors, p50 ${round(result.latencyMs.p50)} ms, p99 ${round(result.latencyMs.p99)} ms, ${round(result.throughput, 0)}/s, RSS ${round(rssMB)} MB, CPU ${round(row.cpuMsPerRequest, 2)} ms/request + database ${row.dbCpuMsPerRequest === undefined ? "?" : round(row.dbCpuMsPerRequest, 2)} ms`,
  );
  return row;
}

/** Hands out seeded challenges one by one (undefined when none are left). */
function cursor<T>(items: T[]) {
  let i = 0;
  return { next: () => items[i++] };
}

async function startService(db: BenchDatabase, name: string): Promise<ServerProcess> {
  return startServer({
    name,
    script: path.join(SERVICE_DIR, ENTRY),
    cwd: SERVICE_DIR,
    env: { ...SERVICE_ENV, DATABASE_URL: db.url },
    readyPath: "/readyz",
    nodeArgs: [...NODE_ARGS, ...(args["cpu-prof"] ? ["--cpu-prof", "--cpu-prof-dir", path.join(ROOT, "bench/results/profiles")] : [])],
  });
}

/** The reference or the floor server (bench/<name>-server.ts) on `url`. */
function startSmallServer(name: "reference" | "floor", url: string, poolSize: string): Promise<ServerProcess> {
  return startServer({
    name,
    script: path.join(ROOT, `bench/${name}-server.ts`),
    env: { HASH_KEY, GENERIC_WEBHOOK_SECRET: SECRET, DATABASE_URL: url, DB_POOL_SIZE: poolSize },
    readyPath: "/healthz",
  });
}

/** The peer (bench/peer-better-auth.ts) on `url`, a database of its own where it creates its tables. */
function startPeer(url: string, poolSize: string): Promise<ServerProcess> {
  return startServer({
    name: PEER.name,
    script: path.join(ROOT, "bench/peer-better-auth.ts"),
    env: { DATABASE_URL: url, DB_POOL_SIZE: poolSize },
    readyPath: "/healthz",
  });
}

/** A send-otp request to the peer for the `n`th of a run's distinct numbers. */
function sendOtp(prefix: string, n: number): BenchRequest {
  return {
    method: "POST",
    path: PEER.path,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ phoneNumber: `${prefix}${String(n).padStart(7, "0")}` }),
  };
}

async function main() {
  const machine = {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGB: round(os.totalmem() / 1e9, 1),
    node: process.version,
    postgres: await serverVersion(ADMIN_URL),
    loadAverageAtStart: os.loadavg().map((l) => round(l, 2)),
    platform: `${os.type()} ${os.release()}`,
  };
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GB, Node ${machine.node}, PostgreSQL ${machine.postgres}, load ${machine.loadAverageAtStart.join(" ")}`);

  const databases: BenchDatabase[] = [];
  const servers: ServerProcess[] = [];
  const cleanup = async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
    if (!args.keep) for (const d of databases) await d.drop().catch(() => undefined);
  };
  process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));

  try {
    // ---- Service under request/response load, and the reference for the webhook path.
    if (only.has("create") || only.has("status") || only.has("webhook")) {
      const db = await createBenchDatabase(ADMIN_URL, "service");
      databases.push(db);
      const app = await seedApp(db.pool, NUMBER);
      log(`seeding ${db.name}…`);
      // Enough distinct pending challenges for warm-up, the paced run and the saturation rounds at up to 2,500/s.
      const webhookSeedCount = 4_000 + PACED_SECONDS * TARGETS.webhookRate + ROUNDS * SAT_SECONDS * 2_500;
      const webhookSeeds = only.has("webhook") ? await seedChallenges(db.pool, hasher, app, { count: webhookSeedCount, firstPhone: 0 }) : [];
      const statusSeeds = only.has("status") ? await seedChallenges(db.pool, hasher, app, { count: 2_000, firstPhone: 100_000 }) : [];
      const service = await startService(db, "service");
      servers.push(service);
      databaseOf.set(service, db);

      let peerDb: BenchDatabase | undefined;
      if (only.has("create")) {
        peerDb = await createBenchDatabase(ADMIN_URL, "peer", { ourSchema: false });
        databases.push(peerDb);
        const peer = await startPeer(peerDb.url, POOL_SIZE);
        servers.push(peer);
        await createScenario(service, app, peer);
        await peer.stop();
      }
      if (only.has("status")) await statusScenario(service, statusSeeds, app);
      if (only.has("webhook")) {
        // The smaller servers, each on a database of its own seeded alike.
        const smaller = async (name: "reference" | "floor", count: number): Promise<WebhookTarget> => {
          const smallDb = await createBenchDatabase(ADMIN_URL, name);
          databases.push(smallDb);
          const smallApp = await seedApp(smallDb.pool, NUMBER);
          log(`seeding ${smallDb.name}…`);
          const seeds = await seedChallenges(smallDb.pool, hasher, smallApp, { count, firstPhone: 0 });
          const server = await startSmallServer(name, smallDb.url, POOL_SIZE);
          servers.push(server);
          databaseOf.set(server, smallDb);
          return { server, db: smallDb, seeds };
        };
        const reference = await smaller("reference", webhookSeedCount);
        // The floor may run at twice the others' rate: seeded for 6,000/s.
        const floor = await smaller("floor", webhookSeedCount + ROUNDS * SAT_SECONDS * 3_500);
        await webhookScenario([{ server: service, db, seeds: webhookSeeds }, reference, floor]);
        await reference.server.stop();
        await floor.server.stop();
      }
      await service.stop();
      if (!args["no-statements"]) await statementScenario(db, app, peerDb);
    }

    // ---- Long-poll fan-out, on a fresh service process so that its memory figures start clean.
    if (only.has("longpoll")) {
      const db = await createBenchDatabase(ADMIN_URL, "longpoll");
      databases.push(db);
      const app = await seedApp(db.pool, NUMBER);
      const distinct = await seedChallenges(db.pool, hasher, app, { count: WAITERS, firstPhone: 200_000 });
      const shared = await seedChallenges(db.pool, hasher, app, { count: 50, firstPhone: 300_000 });
      const warmUp = await seedChallenges(db.pool, hasher, app, { count: 1_000, firstPhone: 400_000 });
      const service = await startService(db, "service");
      servers.push(service);
      try {
        await longPollScenario(service, distinct, shared, warmUp);
      } catch (error) {
        // Reported (a missed target), not fatal: the figures of the other scenarios still get printed.
        fanOutFailures.push(`long-poll warm-up: ${error instanceof Error ? error.message : String(error)}`);
        log(`  FAILED: ${fanOutFailures.at(-1)}`);
      }
      await service.stop();
    }
  } finally {
    await cleanup();
  }
  report({ ...machine, loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)) });
}

async function createScenario(service: ServerProcess, app: SeededApp, peer: ServerProcess) {
  log("challenge creation");
  let n = 0;
  const next = (): BenchRequest => ({
    method: "POST",
    path: "/v1/challenges",
    headers: { "content-type": "application/json", authorization: `Bearer ${app.secretKey}` },
    body: JSON.stringify({ phone: `+3362${String(n++).padStart(7, "0")}`, purpose: "login" }),
  });
  const created = (status: number) => status === 201;
  await runSaturation({ baseUrl: service.baseUrl, connections: CONNECTIONS, durationSeconds: 2, next, check: created }); // warm-up
  // No target for creation; 50/s is well below what it sustains, so the latency is not a queue's.
  await measure("create", service, "50/s", () => runPaced({ baseUrl: service.baseUrl, rate: 50, durationSeconds: PACED_SECONDS, next, check: created }));
  await measure("create", service, `${CONNECTIONS} conns`, () =>
    runSaturation({ baseUrl: service.baseUrl, connections: CONNECTIONS, durationSeconds: SAT_SECONDS, next, check: created }),
  );
  // The peer: the same saturation run, right after ours, a distinct number per request.
  log(`challenge creation, peer: ${PEER.name} ${PEER.version} phone-number send-otp`);
  let p = 0;
  const nextOtp = () => sendOtp("+3364", p++);
  const sent = (status: number, body: string) => status === 200 && body.includes("code sent");
  await runSaturation({ baseUrl: peer.baseUrl, connections: CONNECTIONS, durationSeconds: 2, next: nextOtp, check: sent }); // warm-up
  await measure("create", peer, `${CONNECTIONS} conns`, () =>
    runSaturation({ baseUrl: peer.baseUrl, connections: CONNECTIONS, durationSeconds: SAT_SECONDS, next: nextOtp, check: sent }),
  );
}

async function statusScenario(service: ServerProcess, seeds: SeededChallenge[], app: SeededApp) {
  const pending = (_s: number, body: string) => body.includes('"status":"pending"');
  // As a browser polls (its poll token), and as a backend polls (its secret key).
  const ways = [
    { scenario: "status", headers: (c: SeededChallenge): Record<string, string> => ({ "x-poll-token": c.pollToken }) },
    { scenario: "status sk", headers: (): Record<string, string> => ({ authorization: `Bearer ${app.secretKey}` }) },
  ];
  for (const way of ways) {
    log(`status reads (${way.scenario === "status" ? "poll token" : "secret key"})`);
    let n = 0;
    const next = (): BenchRequest => {
      const c = seeds[n++ % seeds.length]!;
      return { method: "GET", path: `/v1/challenges/${c.id}`, headers: way.headers(c) };
    };
    await runSaturation({ baseUrl: service.baseUrl, connections: CONNECTIONS, durationSeconds: 2, next, check: pending }); // warm-up
    await measure(way.scenario, service, `${TARGETS.statusRate}/s`, () =>
      runPaced({ baseUrl: service.baseUrl, rate: TARGETS.statusRate, durationSeconds: PACED_SECONDS, next, check: pending }),
    );
    await measure(way.scenario, service, `${CONNECTIONS} conns`, () =>
      runSaturation({ baseUrl: service.baseUrl, connections: CONNECTIONS, durationSeconds: SAT_SECONDS, next, check: pending }),
    );
  }
}

/**
 * SQL statements per request of each path, counted on the wire: a service and the floor whose
 * connections go through the statement counter, sequential requests (so nothing else runs in
 * between but the background: the rate limiter's batched writes, the expiry sweep), the count
 * divided by the requests. A short run after the load runs, on a fresh process.
 */
async function statementScenario(db: BenchDatabase, app: SeededApp, peerDb: BenchDatabase | undefined) {
  log("statements per request (counted on the wire)");
  const REQUESTS = 200;
  const seeds = await seedChallenges(db.pool, hasher, app, { count: REQUESTS * 3 + 20, firstPhone: 500_000 });
  const counter = await startStatementCounter(db.url);
  const counted = await startService({ ...db, url: counter.url }, "service");
  let floorCounted: ServerProcess | undefined;
  let peerCounter: StatementCounter | undefined;
  let peerCounted: ServerProcess | undefined;
  try {
    const send = async (baseUrl: string, r: BenchRequest) => {
      const res = await fetch(`${baseUrl}${r.path}`, { method: r.method, headers: r.headers, ...(r.body ? { body: r.body } : {}) });
      await res.text();
      if (res.status >= 300) throw new Error(`${r.method} ${r.path}: ${res.status}`);
    };
    const count = async (pathName: string, server: ServerProcess, make: (i: number) => BenchRequest, through = counter) => {
      for (let i = 0; i < 5; i++) await send(server.baseUrl, make(i)); // warm-up: connections, caches
      through.reset();
      for (let i = 5; i < REQUESTS + 5; i++) await send(server.baseUrl, make(i));
      const perRequest = through.count() / REQUESTS;
      statementCounts.push({ path: pathName, server: server.name, perRequest });
      log(`  ${pathName} ${server.name}: ${round(perRequest, 2)} statements per request`);
    };
    let phone = 0;
    await count("create (secret key)", counted, () => ({
      method: "POST",
      path: "/v1/challenges",
      headers: { "content-type": "application/json", authorization: `Bearer ${app.secretKey}` },
      body: JSON.stringify({ phone: `+3363${String(phone++).padStart(7, "0")}`, purpose: "login" }),
    }));
    await count("status (poll token)", counted, (i) => ({ method: "GET", path: `/v1/challenges/${seeds[i]!.id}`, headers: { "x-poll-token": seeds[i]!.pollToken } }));
    await count("status (secret key)", counted, (i) => ({ method: "GET", path: `/v1/challenges/${seeds[i]!.id}`, headers: { authorization: `Bearer ${app.secretKey}` } }));
    await count("webhook (verifies)", counted, (i) => webhook(`count-${i}`, seeds[REQUESTS + i]!));
    await counted.stop(); // its background work (sweeps, batched writes) must not count for the floor
    floorCounted = await startSmallServer("floor", counter.url, "2");
    const floorDbSeeds = seeds.slice(2 * REQUESTS + 10);
    await count("webhook (verifies)", floorCounted, (i) => webhook(`count-floor-${i}`, floorDbSeeds[i]!));
    if (peerDb) {
      // The peer's own database, through a counter of its own.
      peerCounter = await startStatementCounter(peerDb.url);
      peerCounted = await startPeer(peerCounter.url, "2");
      await count("create (send-otp)", peerCounted, (i) => sendOtp("+3365", i), peerCounter);
    }
  } finally {
    await counted.stop();
    await floorCounted?.stop();
    await peerCounted?.stop();
    await counter.close();
    await peerCounter?.close();
  }
}

type WebhookTarget = { server: ServerProcess; db: BenchDatabase; seeds: SeededChallenge[] };

async function webhookScenario(targets: WebhookTarget[]) {
  log("webhook verification (each request verifies a distinct pending challenge)");
  const cursors = targets.map((t) => {
    const c = cursor(t.seeds);
    let n = 0;
    // Out of seeded challenges, requests re-send a verified one: answered `duplicate`, so counted as
    // errors (seed more with a longer run).
    const next = (): BenchRequest => webhook(`bench-${n++}`, c.next() ?? t.seeds[n % t.seeds.length]!);
    return { ...t, cursor: c, next };
  });
  for (const t of cursors) {
    await runSaturation({ baseUrl: t.server.baseUrl, connections: CONNECTIONS, durationSeconds: 2, next: t.next, check: isVerified }); // warm-up
  }
  for (const t of cursors) {
    await measure("webhook", t.server, `${TARGETS.webhookRate}/s`, () =>
      runPaced({ baseUrl: t.server.baseUrl, rate: TARGETS.webhookRate, durationSeconds: PACED_SECONDS, next: t.next, check: isVerified }),
    );
  }
  // Saturation, alternating service and reference so that a noisy neighbour hurts both alike.
  for (let r = 1; r <= ROUNDS; r++) {
    for (const t of r % 2 === 1 ? cursors : [...cursors].reverse()) {
      await measure(`webhook r${r}`, t.server, `${CONNECTIONS} conns`, () =>
        runSaturation({
          baseUrl: t.server.baseUrl,
          connections: CONNECTIONS,
          durationSeconds: SAT_SECONDS,
          next: t.next,
          check: isVerified,
        }),
      );
    }
  }
  for (const t of cursors) {
    const outcomes = await countOutcomes(t.db.pool, "bench-");
    log(`  ${t.server.name} stored outcomes: ${JSON.stringify(outcomes)}`);
  }
}

async function longPollScenario(service: ServerProcess, distinct: SeededChallenge[], shared: SeededChallenge[], warmUp: SeededChallenge[]) {
  let n = 0;
  const webhookFor = (c: SeededChallenge) => webhook(`lp-${n++}`, c);
  // Warm the fresh process up (JIT, pool, the number's owner) as any serving instance is: long-polls
  // on half of the warm-up challenges, woken by webhooks, and webhooks for the rest.
  log("long-poll: warming up");
  const half = Math.floor(warmUp.length / 2);
  await runFanOut({ service, challenges: warmUp.slice(0, half), waitersPerChallenge: 1, verifyCount: half, webhookRate: 250, webhookFor });
  const rest = cursor(warmUp.slice(half));
  await runSaturation({ baseUrl: service.baseUrl, connections: 8, durationSeconds: 1, next: () => webhookFor(rest.next() ?? warmUp[0]!) });
  const run = async (scenario: string, options: Omit<Parameters<typeof runFanOut>[0], "service" | "webhookFor">) => {
    try {
      const result = await runFanOut({ service, webhookFor, ...options });
      fanOuts.push({ scenario, result });
      logFanOut(result);
    } catch (error) {
      // Reported (and counted as a missed target), not fatal: the other figures still get printed.
      fanOutFailures.push(`${scenario}: ${error instanceof Error ? error.message : String(error)}`);
      log(`  FAILED: ${fanOutFailures.at(-1)}`);
    }
  };
  const verifyCount = Math.min(2000, distinct.length);
  log(`long-poll: ${distinct.length} waiters on as many challenges; ${verifyCount} verified at ${TARGETS.webhookRate}/s`);
  await run("long-poll, 1 waiter per challenge", { challenges: distinct, waitersPerChallenge: 1, verifyCount, webhookRate: TARGETS.webhookRate });
  const perChallenge = Math.max(1, Math.round(WAITERS / shared.length));
  log(`long-poll: ${perChallenge * shared.length} waiters, ${perChallenge} on each of ${shared.length} challenges, all verified at 10/s`);
  await run(`long-poll, ${perChallenge} waiters per challenge`, { challenges: shared, waitersPerChallenge: perChallenge, verifyCount: shared.length, webhookRate: 10 });
}

function logFanOut(r: FanOutResult) {
  log(
    `  ${r.waiters} waiters open in ${round(r.secondsToOpen)} s; woken ${r.woken}, errors ${r.errors}; wake p50 ${round(r.wakeMs.p50)} ms p99 ${round(r.wakeMs.p99)} ms; RSS idle ${round(r.rssIdleMB)} MB, waiting ${round(r.rssWaitingMB)} MB, peak ${round(r.peakMB)} MB`,
  );
}

function pad(s: string, n: number, right = false) {
  return right ? s.padStart(n) : s.padEnd(n);
}

function report(machine: Record<string, unknown>) {
  const out: string[] = [];
  out.push("");
  out.push(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GB RAM, ${machine.platform}; Node ${machine.node}; PostgreSQL ${machine.postgres} on the same host`);
  out.push(`Service: node ${[...NODE_ARGS, ENTRY].join(" ")}`);
  out.push(`Load average at start ${(machine.loadAverageAtStart as number[]).join(" ")}, at end ${(machine.loadAverageAtEnd as number[]).join(" ")}`);
  out.push("");
  const header = ["scenario", "server", "load", "requests", "errors", "p50 ms", "p99 ms", "req/s", "RSS MB", "peak MB", "CPU %", "ms/req", "db ms/req"];
  const widths = [14, 11, 10, 9, 7, 8, 8, 8, 7, 8, 6, 7, 10];
  out.push(header.map((h, i) => pad(h, widths[i]!, i > 2)).join(" "));
  for (const r of rows) {
    out.push(
      [
        r.scenario,
        r.target,
        r.load,
        String(r.result.requests),
        String(r.result.errors),
        String(round(r.result.latencyMs.p50)),
        String(round(r.result.latencyMs.p99)),
        String(round(r.result.throughput, 0)),
        String(round(r.rssMB, 0)),
        String(round(r.peakMB, 0)),
        String(round(r.cpuPercent, 0)),
        String(round(r.cpuMsPerRequest, 2)),
        r.dbCpuMsPerRequest === undefined ? "?" : String(round(r.dbCpuMsPerRequest, 2)),
      ]
        .map((v, i) => pad(v, widths[i]!, i > 2))
        .join(" "),
    );
  }
  if (fanOuts.length > 0) {
    out.push("");
    out.push("Long-poll fan-out (waitSeconds=30): wake-up = webhook sent → waiter answered");
    for (const { scenario, result: r } of fanOuts) {
      out.push(
        `  ${scenario}: ${r.waiters} waiters (${round(r.secondsToOpen)} s to open), ${r.verifiedChallenges} challenges verified at ${r.webhookRate}/s, ` +
          `${r.woken} woken, ${r.errors} errors; wake-up p50 ${round(r.wakeMs.p50)} ms, p99 ${round(r.wakeMs.p99)} ms, max ${round(r.wakeMs.max)} ms ` +
          `(after the webhook's answer: p50 ${round(r.afterWebhookAnswerMs.p50)} ms, p99 ${round(r.afterWebhookAnswerMs.p99)} ms); ` +
          `RSS idle ${round(r.rssIdleMB)} MB, waiting ${round(r.rssWaitingMB)} MB (${round(r.kbPerWaiter)} kB per waiter), peak ${round(r.peakMB)} MB`,
      );
    }
  }

  // Targets.
  const checks: { target: string; measured: string; met: boolean }[] = [];
  const find = (scenario: string, target: string, load?: string) =>
    rows.filter((r) => r.scenario.startsWith(scenario) && r.target === target && (load === undefined || r.load === load));
  const sum = (rs: Row[], f: (r: Row) => number) => rs.reduce((a, r) => a + f(r), 0);
  /** Correct answers per second over saturated runs, weighted by their duration. */
  const satRate = (rs: Row[]) => sum(rs, (r) => r.result.throughput * r.result.durationSeconds) / sum(rs, (r) => r.result.durationSeconds);
  const saturated = (scenario: string, target: string) => find(scenario, target, `${CONNECTIONS} conns`).filter((r) => r.scenario === scenario || scenario.endsWith(" r"));
  const floorRows = find("webhook r", "floor");
  const floorRate = floorRows.length > 0 ? satRate(floorRows) : undefined;
  /** CPU ms per request over saturated runs (weighted by requests): the server's process, and with its database's backends. */
  const cpuPerRequest = (rs: Row[]) => {
    const requests = sum(rs, (r) => r.result.requests);
    const process = sum(rs, (r) => r.cpuMsPerRequest * r.result.requests) / requests;
    const withDb = rs.every((r) => r.dbCpuMsPerRequest !== undefined) ? process + sum(rs, (r) => r.dbCpuMsPerRequest! * r.result.requests) / requests : undefined;
    return { process, withDb };
  };
  const floorCpu = floorRows.length > 0 ? cpuPerRequest(floorRows).withDb : undefined;
  const shares: { path: string; rate: number; share?: number; cpuMs: number; cpuWithDbMs?: number; cpuShare?: number }[] = [];
  for (const [pathName, scenario, target] of [
    ["webhook, least-work floor", "webhook r", "floor"],
    ["webhook, reference (same SQL)", "webhook r", "reference"],
    ["webhook, service", "webhook r", "service"],
    ["creation (secret key)", "create", "service"],
    ["creation, better-auth send-otp", "create", PEER.name],
    ["status read (poll token)", "status", "service"],
    ["status read (secret key)", "status sk", "service"],
  ] as const) {
    const rs = saturated(scenario, target);
    if (rs.length === 0) continue;
    const rate = satRate(rs);
    const cpu = cpuPerRequest(rs);
    shares.push({
      path: pathName,
      rate,
      ...(floorRate ? { share: rate / floorRate } : {}),
      cpuMs: cpu.process,
      ...(cpu.withDb === undefined ? {} : { cpuWithDbMs: cpu.withDb }),
      ...(cpu.withDb !== undefined && floorCpu !== undefined ? { cpuShare: floorCpu / cpu.withDb } : {}),
    });
  }
  if (shares.length > 0) {
    out.push("");
    out.push(`Saturated throughput (${CONNECTIONS} connections), as a ratio to the least-work floor's webhook rate:`);
    for (const sh of shares) out.push(`  ${pad(sh.path, 32)} ${pad(String(round(sh.rate, 0)), 6, true)}/s  ${sh.share === undefined ? "" : `${round(sh.share, 2)}×`}`);
    // On a busy machine throughput mostly says what share of the cores each run got; the CPU that
    // a request costs (the server's process and its PostgreSQL backends, not the load generator
    // nor the kernel's loopback) depends much less on the neighbours.
    out.push("");
    out.push("CPU per request at saturation: the server's process + its database's PostgreSQL backends, and the floor's total as a share of it:");
    for (const sh of shares) {
      out.push(
        `  ${pad(sh.path, 32)} ${pad(String(round(sh.cpuMs, 2)), 6, true)} + ${sh.cpuWithDbMs === undefined ? "?" : `${round(sh.cpuWithDbMs - sh.cpuMs, 2)} = ${round(sh.cpuWithDbMs, 2)}`} ms  ${sh.cpuShare === undefined ? "" : `${round(sh.cpuShare, 2)}×`}`,
      );
    }
  }
  if (statementCounts.length > 0) {
    out.push("");
    out.push("SQL statements per request (counted on the wire; batched rate-limit writes and background work included):");
    for (const c of statementCounts) out.push(`  ${pad(`${c.path}, ${c.server}`, 32)} ${round(c.perRequest, 2)}`);
  }
  const shareOf = (p: string) => shares.find((sh) => sh.path === p);
  const webhookShare = shareOf("webhook, service")?.share;
  if (webhookShare !== undefined) {
    checks.push({ target: `webhook throughput ≥ ${TARGETS.webhookShareOfFloor * 100} % of the least-work floor`, measured: `${round(webhookShare * 100, 0)} %`, met: webhookShare >= TARGETS.webhookShareOfFloor });
  }
  const createShare = shareOf("creation (secret key)")?.share;
  if (createShare !== undefined) {
    checks.push({ target: `creation throughput ≥ ${TARGETS.createShareOfFloor * 100} % of the floor's webhook rate`, measured: `${round(createShare * 100, 0)} %`, met: createShare >= TARGETS.createShareOfFloor });
  }
  const createRate = shareOf("creation (secret key)")?.rate;
  const peerCreateRate = shareOf("creation, better-auth send-otp")?.rate;
  const createRatioToPeer = createRate !== undefined && peerCreateRate ? createRate / peerCreateRate : undefined;
  if (createRatioToPeer !== undefined) {
    checks.push({
      target: `creation ≥ ${TARGETS.createShareOfPeer}× ${PEER.name} send-otp (saturated, ${PEER.name} ${PEER.version})`,
      measured: `${round(createRate!, 0)}/s vs ${round(peerCreateRate!, 0)}/s = ${round(createRatioToPeer, 2)}×`,
      met: createRatioToPeer >= TARGETS.createShareOfPeer,
    });
  }
  const pollRate = shareOf("status read (poll token)")?.rate;
  const secretRate = shareOf("status read (secret key)")?.rate;
  if (pollRate && secretRate) {
    checks.push({
      target: `status reads with the secret key ≥ ${TARGETS.secretShareOfPollToken * 100} % of those with a poll token (saturated)`,
      measured: `${round(secretRate, 0)}/s vs ${round(pollRate, 0)}/s = ${round((secretRate / pollRate) * 100, 0)} %`,
      met: secretRate / pollRate >= TARGETS.secretShareOfPollToken,
    });
  }
  const satService = find("webhook r", "service");
  const satReference = find("webhook r", "reference");
  let ratio: number | undefined;
  if (satService.length > 0 && satReference.length > 0) {
    const rate = (rs: Row[]) => sum(rs, (r) => r.result.throughput * r.result.durationSeconds) / sum(rs, (r) => r.result.durationSeconds);
    ratio = rate(satService) / rate(satReference);
    checks.push({
      target: `webhook throughput ≥ ${TARGETS.webhookShareOfReference * 100} % of the reference`,
      measured: `${round(rate(satService), 0)}/s vs ${round(rate(satReference), 0)}/s = ${round(ratio * 100, 0)} %`,
      met: ratio >= TARGETS.webhookShareOfReference,
    });
  }
  const pacedWebhook = find("webhook", "service", `${TARGETS.webhookRate}/s`)[0];
  if (pacedWebhook) {
    checks.push({
      target: `webhook p99 < ${TARGETS.webhookP99Ms} ms at ${TARGETS.webhookRate}/s`,
      measured: `p99 ${round(pacedWebhook.result.latencyMs.p99)} ms, ${pacedWebhook.result.errors} errors`,
      met: pacedWebhook.result.latencyMs.p99 < TARGETS.webhookP99Ms && pacedWebhook.result.errors === 0,
    });
  }
  for (const [scenario, way] of [["status", "poll token"], ["status sk", "secret key"]] as const) {
    const paced = rows.find((r) => r.scenario === scenario && r.target === "service" && r.load === `${TARGETS.statusRate}/s`);
    if (!paced) continue;
    checks.push({
      target: `status read (${way}) p99 < ${TARGETS.statusP99Ms} ms at ${TARGETS.statusRate}/s`,
      measured: `p99 ${round(paced.result.latencyMs.p99)} ms, ${paced.result.errors} errors`,
      met: paced.result.latencyMs.p99 < TARGETS.statusP99Ms && paced.result.errors === 0,
    });
  }
  for (const failure of fanOutFailures) {
    out.push(`  FAILED ${failure}`);
    checks.push({ target: "long-poll fan-out", measured: failure, met: false });
  }
  const lp = fanOuts.find((f) => f.scenario.includes("1 waiter per challenge"))?.result;
  if (lp) {
    checks.push({
      target: `${TARGETS.waiters} long-poll waiters within ${TARGETS.waitersMaxMB} MB`,
      measured: `${lp.waiters} waiters, peak RSS ${round(lp.peakMB)} MB`,
      met: lp.waiters >= TARGETS.waiters && lp.peakMB <= TARGETS.waitersMaxMB,
    });
    const worst = Math.max(...fanOuts.map((f) => f.result.wakeMs.p99));
    checks.push({
      target: `wake-up p99 < ${TARGETS.wakeP99Ms} ms`,
      measured: fanOuts.map((f) => `${round(f.result.wakeMs.p99)} ms (${f.scenario.replace("long-poll, ", "")})`).join(", "),
      met: worst < TARGETS.wakeP99Ms && fanOuts.every((f) => f.result.errors === 0),
    });
  }
  if (checks.length > 0) {
    out.push("");
    out.push("Targets (2 cores, PostgreSQL on the same host):");
    for (const c of checks) out.push(`  [${c.met ? "met" : "NOT MET"}] ${c.target}: ${c.measured}`);
  }
  process.stdout.write(`${out.join("\n")}\n`);

  const dir = path.join(ROOT, "bench/results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "latest.json");
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine,
        options: { serviceDir: SERVICE_DIR, entry: ENTRY, nodeArgs: NODE_ARGS, saturationSeconds: SAT_SECONDS, pacedSeconds: PACED_SECONDS, rounds: ROUNDS, connections: CONNECTIONS, waiters: WAITERS, poolSize: Number(POOL_SIZE) },
        rows,
        fanOuts,
        fanOutFailures,
        webhookShareOfReference: ratio,
        floorWebhookRate: floorRate,
        sharesOfFloor: shares,
        peer: { name: PEER.name, version: PEER.version, path: PEER.path, createRate: peerCreateRate, createRatioToPeer },
        statementsPerRequest: statementCounts,
        targets: checks,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`\nWritten: ${path.relative(process.cwd(), file)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
