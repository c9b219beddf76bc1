// The service wired for a test: real runtime and Express app on a test database of its own, a
// controllable clock, captured logs, and helpers that act like an app and like an SMS provider.
import { Writable } from "node:stream";
import request from "supertest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/http/logger.js";
import { withStableShapes } from "../../src/http/stable-shapes.js";
import { signStandardWebhook } from "../../src/providers/standard-webhooks.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { fixedClock, systemClock, type Clock } from "../../src/shared/clock.js";
import { randomId } from "../../src/shared/crypto.js";
import { openPostgres } from "../../src/db/database.js";
import { DEFAULT_POOL_SIZE, onPostgres, openTestDatabase, type TestDatabase } from "./database.js";
import { startStatementCounter, type StatementCounter } from "./statement-counter.js";

export const TEST_HASH_KEY = "test-hash-key-0123456789abcdefghijklmnopqrstuvwxyz";
export const TEST_GENERIC_SECRET = `whsec_${Buffer.from("reverse-otp-test-generic-secret!").toString("base64")}`;

/** Phone numbers that libphonenumber accepts as mobile. */
export const PHONES = {
  fr: "+33612345678",
  fr2: "+33698765432",
  de: "+4915123456789",
  gb: "+447400123456",
} as const;

/**
 * The pool of the race tests (50 requests at once): enough connections for that many transactions
 * to interleave on the server, few enough that two runs of the suite at once, each with two
 * workers, stay well under the server's 100 connections (see "Connections" in docs/testing.md).
 */
export const RACE_POOL_SIZE = 12;

export type Harness = Awaited<ReturnType<typeof startHarness>>;

export type HarnessOptions = {
  clock?: Clock & Partial<ReturnType<typeof fixedClock>>;
  env?: Record<string, string>;
  poolSize?: number;
  testDatabase?: TestDatabase;
  /** On PostgreSQL: the service's connections go through a statement counter (`statements`). */
  countStatements?: boolean;
  /** How often the runtime writes its rate-limit counts (default every second). */
  rateLimitFlushIntervalMs?: number;
};

/** A test database whose service connections pass through a statement counter (PostgreSQL only). */
async function openCountedDatabase(poolSize: number): Promise<{ testDb: TestDatabase; counter: StatementCounter }> {
  const direct = await openTestDatabase({ poolSize });
  const counter = await startStatementCounter(direct.url!);
  const database = openPostgres({ url: counter.url, poolSize, connectTimeoutMs: 5000, statementTimeoutMs: 10_000 });
  const drop = async () => {
    await database.close();
    await direct.drop();
    await counter.close();
  };
  return { testDb: { ...direct, database, drop }, counter };
}

export async function startHarness(options: HarnessOptions = {}) {
  const counted = options.countStatements && onPostgres && !options.testDatabase ? await openCountedDatabase(options.poolSize ?? DEFAULT_POOL_SIZE) : undefined;
  const testDb = options.testDatabase ?? counted?.testDb ?? (await openTestDatabase({ poolSize: options.poolSize ?? DEFAULT_POOL_SIZE }));
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const config = loadConfig({
    HASH_KEY: TEST_HASH_KEY,
    GENERIC_WEBHOOK_SECRET: TEST_GENERIC_SECRET,
    PUBLIC_BASE_URL: "https://otp.example.test",
    LOG_LEVEL: "debug",
    // A loaded test machine can take seconds for a cold first query; tests of deadlines set their own.
    REQUEST_TIMEOUT_MS: "60000",
    ...options.env,
  });
  const logger = createLogger(config.logLevel, sink);
  const clock = options.clock ?? systemClock;
  const runtime: Runtime = await createRuntime(config, {
    logger,
    clock,
    database: testDb.database,
    collectDefaultMetrics: false,
    ...(options.rateLimitFlushIntervalMs === undefined ? {} : { rateLimitFlushIntervalMs: options.rateLimitFlushIntervalMs }),
  });
  const app = runtime.buildHttpApp();
  // Through the same request listener as src/server.ts (withStableShapes around the Express app).
  const listener = withStableShapes(app);
  const http = () => request(listener);

  let numberCounter = 0;
  /** A fresh virtual number per app (they are unique): UK mobile numbers +44 7400 000xxx. */
  const nextNumber = () => `+447400000${String(100 + (numberCounter++ % 900)).padStart(3, "0")}`;

  async function createApp(input: Partial<Parameters<Runtime["apps"]["create"]>[0]> = {}) {
    const created = await runtime.apps.create({ name: "Acme", numbers: [{ number: nextNumber() }], ...input });
    return {
      appId: created.app.id,
      number: created.app.numbers[0]!.e164,
      sk: created.secretKey,
      pk: created.publishableKey,
      app: created.app,
    };
  }

  function signedGeneric(payload: unknown, opts: { secret?: string; timestamp?: number; id?: string } = {}) {
    const body = typeof payload === "string" ? payload : JSON.stringify(payload);
    const id = opts.id ?? randomId("wh");
    const timestamp = opts.timestamp ?? Math.floor(clock.now().getTime() / 1000);
    return {
      body,
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signStandardWebhook(opts.secret ?? TEST_GENERIC_SECRET, id, timestamp, body),
      },
    };
  }

  /** Delivers an inbound SMS through the generic provider, correctly signed. */
  async function sendSms(sms: { from: string; to: string; text: string; messageId?: string }) {
    const signed = signedGeneric({ messageId: sms.messageId ?? randomId("sms"), from: sms.from, to: sms.to, text: sms.text });
    return http().post("/v1/inbound/generic").set(signed.headers).send(signed.body);
  }

  async function createChallenge(key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    return http().post("/v1/challenges").set("Authorization", `Bearer ${key}`).set(headers).send(body);
  }

  async function countRows(): Promise<Record<string, number>> {
    const tables = ["challenges", "inbound_messages", "phone_failures", "apps", "api_keys", "virtual_numbers"];
    const out: Record<string, number> = {};
    for (const t of tables) {
      const [row] = await testDb.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t}"`);
      out[t] = row?.n ?? 0;
    }
    return out;
  }

  /**
   * Another instance of the service on the same database, as a second process would be
   * (PostgreSQL only: its own pool and LISTEN connections). Close it to end it, as a stopped
   * process would (it writes what it holds, e.g. its rate-limit counts).
   */
  async function startInstance() {
    if (!onPostgres) throw new Error("a second instance needs PostgreSQL (embedded PGlite is one process)");
    const database = openPostgres({ url: testDb.url!, poolSize: 4, connectTimeoutMs: 5000, statementTimeoutMs: 10_000 });
    const other = await createRuntime(config, { logger: createLogger("silent"), clock, database, collectDefaultMetrics: false });
    const otherListener = withStableShapes(other.buildHttpApp());
    return { runtime: other, http: () => request(otherListener), close: () => other.close() };
  }

  return {
    app,
    http,
    runtime,
    startInstance,
    config,
    clock,
    db: testDb,
    /** The statement counter (`countStatements` on PostgreSQL), else undefined. */
    statements: counted?.counter,
    logs: () => logLines.join(""),
    createApp,
    createChallenge,
    signedGeneric,
    sendSms,
    countRows,
    async close() {
      await testDb.drop();
    },
  };
}
