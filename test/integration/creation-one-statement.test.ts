// A plain creation in one statement (src/challenges/challenge-sql.ts, CREATE_PLAIN_SQL, calling the
// database function reverse_otp_create_challenge of the migration 20261204150000): it inserts the
// challenge exactly when isPlainCreation (src/challenges/creation-decision.ts) holds for the facts
// it read, and otherwise changes nothing but the expiry of stale challenges. The states are built
// with plain SQL on a real database (PostgreSQL, or PGlite when DATABASE_URL is not set); the
// behaviour through HTTP (limits, lock-out, replacement, races of concurrent creations) is tested
// by creation-limits, attempts-and-expiry and concurrency.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { toFacts } from "../../src/challenges/challenge-repository.js";
import { CREATE_PLAIN_NAME, CREATE_PLAIN_SQL, createPlainValues, LOCK_KEYS, type CreatePlainRow, type NewChallengeRow } from "../../src/challenges/challenge-sql.js";
import { isPlainCreation, MAX_PENDING_PER_PHONE, phoneWindowStart } from "../../src/challenges/creation-decision.js";
import { randomId } from "../../src/shared/crypto.js";
import { startHarness, type Harness } from "../support/harness.js";

let h: Harness;
let appId: string;
let numberId: string;
let e164: string;
beforeAll(async () => {
  h = await startHarness();
  const app = await h.createApp();
  appId = app.appId;
  e164 = app.number;
  numberId = app.app.numbers[0]!.id;
});
afterAll(async () => {
  await h?.close();
});

const NOW = new Date("2026-12-04T12:00:00.000Z");
const LIMIT = 5;
let phoneCounter = 0;
const nextPhoneHash = () => `test-phone-${phoneCounter++}`;

function newRow(phoneHash: string, clientHash: string): Omit<NewChallengeRow, "attempts"> {
  return {
    id: randomId("chl"),
    appId,
    virtualNumberId: numberId,
    phoneHash,
    phoneMasked: "+33 6 •• •• •• 42",
    phoneCountry: "FR",
    codeHash: randomId("code"),
    pollTokenHash: randomId("poll"),
    purpose: "login",
    context: { merchant: "Shop" },
    locale: "en",
    maxAttempts: 5,
    idempotencyKey: null,
    requestFingerprint: null,
    clientHash,
    createdAt: NOW,
    expiresAt: new Date(NOW.getTime() + 300_000),
    channel: "sms_mo",
    phoneSealed: null,
  };
}

async function createPlain(phoneHash: string, clientHash = "client-a") {
  const row = newRow(phoneHash, clientHash);
  const q = { appId, phoneHash, phoneHashes: [phoneHash], clientHashes: [clientHash], now: NOW, windowStart: phoneWindowStart(NOW) };
  const values = createPlainValues({ ...q, limit: LIMIT, maxPendingBefore: MAX_PENDING_PER_PHONE - 1 }, row);
  const [result] = await h.runtime.database.statement<CreatePlainRow>(CREATE_PLAIN_NAME, CREATE_PLAIN_SQL, values);
  if (!result) throw new Error("no row");
  return { row, result, plain: isPlainCreation(toFacts(result), { phonePerHour: LIMIT }) };
}

/** A challenge row written directly, as an earlier creation would have left it. */
async function seedChallenge(phoneHash: string, o: { client?: string; status?: string; createdAgoMs?: number; expiresInMs?: number } = {}) {
  const createdAt = new Date(NOW.getTime() - (o.createdAgoMs ?? 60_000));
  const expiresAt = new Date(NOW.getTime() + (o.expiresInMs ?? 240_000));
  const id = randomId("chl");
  await h.db.query(
    `INSERT INTO challenges (id, app_id, virtual_number_id, phone_hash, phone_masked, code_hash, poll_token_hash, purpose, locale,
                             max_attempts, client_hash, created_at, expires_at, status)
     VALUES ($1, $2, $3, $4, 'x', $5, 'p', 'login', 'en', 5, $6, $7::timestamptz, $8::timestamptz, $9::"ChallengeStatus")`,
    [id, appId, numberId, phoneHash, randomId("code"), o.client ?? "client-a", createdAt.toISOString(), expiresAt.toISOString(), o.status ?? "pending"],
  );
  return id;
}

async function challengesOf(phoneHash: string) {
  return h.db.query<{ id: string; status: string; attempts: number; context: unknown; created_at: Date | string }>(
    "SELECT id, status::text AS status, attempts, context, created_at FROM challenges WHERE phone_hash = $1 ORDER BY created_at, id",
    [phoneHash],
  );
}

describe("the one-statement creation", () => {
  test("a phone never seen: inserts the challenge as given, with 0 attempts, and returns its number", async () => {
    const phone = nextPhoneHash();
    const { row, result, plain } = await createPlain(phone);
    expect(plain).toBe(true);
    expect(result.inserted).toBe(true);
    expect(result.virtualNumber).toBe(e164);
    const rows = await challengesOf(phone);
    expect(rows.map((r) => [r.id, r.status, r.attempts])).toEqual([[row.id, "pending", 0]]);
    expect(rows[0]!.context).toEqual({ merchant: "Shop" });
    expect(new Date(rows[0]!.created_at).toISOString()).toBe(NOW.toISOString());
  });

  type State = { pending?: number; client?: string; finished?: number; createdAgoMs?: number };
  test.each<[string, State, boolean]>([
    ["two pending of this client: joins them", { pending: MAX_PENDING_PER_PHONE - 1 }, true],
    ["three pending of this client: one would be replaced", { pending: MAX_PENDING_PER_PHONE }, false],
    ["three pending of another client: not this client's", { pending: MAX_PENDING_PER_PHONE, client: "client-b" }, true],
    ["one below the hourly limit (finished challenges count too)", { finished: LIMIT - 1 }, true],
    ["the hourly limit reached", { finished: LIMIT }, false],
    ["the hourly limit reached an hour ago: out of the window", { finished: LIMIT, createdAgoMs: 3_600_000 }, true],
  ])("%s", async (_name, state, inserts) => {
    const phone = nextPhoneHash();
    const seeded: string[] = [];
    for (let i = 0; i < (state.pending ?? 0); i++) seeded.push(await seedChallenge(phone, { client: state.client ?? "client-a", createdAgoMs: 60_000 - i }));
    for (let i = 0; i < (state.finished ?? 0); i++) seeded.push(await seedChallenge(phone, { status: "verified", createdAgoMs: state.createdAgoMs ?? 60_000 }));
    const { row, result, plain } = await createPlain(phone);
    expect(result.inserted).toBe(inserts);
    expect(plain).toBe(inserts); // the function's test and isPlainCreation agree
    const ids = (await challengesOf(phone)).map((r) => r.id).sort();
    expect(ids).toEqual((inserts ? [...seeded, row.id] : seeded).sort());
    if (!inserts) expect(result.virtualNumber).toBeNull();
  });

  test("a wrong-code row of the phone at this app, even one that no longer counts: inserts nothing, returns it", async () => {
    const phone = nextPhoneHash();
    await h.db.query("INSERT INTO phone_failures (app_id, phone_hash, failures, updated_at) VALUES ($1, $2, 2, $3::timestamptz)", [
      appId,
      phone,
      new Date(NOW.getTime() - 86_400_000).toISOString(),
    ]);
    const { result, plain } = await createPlain(phone);
    expect(result.inserted).toBe(false);
    expect(plain).toBe(false);
    expect(Number(result.failures)).toBe(2);
    expect(await challengesOf(phone)).toEqual([]);
  });

  test("stale pending challenges expire first and neither count nor block", async () => {
    const phone = nextPhoneHash();
    const stale: string[] = [];
    for (let i = 0; i < MAX_PENDING_PER_PHONE; i++) stale.push(await seedChallenge(phone, { createdAgoMs: 400_000 - i, expiresInMs: -100_000 }));
    const { row, result } = await createPlain(phone);
    expect(result.inserted).toBe(true);
    expect(result.pendingIds).toEqual([]);
    const rows = await challengesOf(phone);
    expect(rows.filter((r) => stale.includes(r.id)).map((r) => r.status)).toEqual(["expired", "expired", "expired"]);
    expect(rows.find((r) => r.id === row.id)?.status).toBe("pending");
  });

  test("returns this client's pending challenges oldest first, as the two-round-trip path reads them", async () => {
    const phone = nextPhoneHash();
    const older = await seedChallenge(phone, { createdAgoMs: 120_000 });
    const newer = await seedChallenge(phone, { createdAgoMs: 60_000 });
    await seedChallenge(phone, { client: "client-b" });
    const { result } = await createPlain(phone);
    expect(result.pendingIds).toEqual([older, newer]);
    expect(result.createdInWindow).toBe(2);
  });

  test("a code taken among the phone's pending challenges: a unique violation, and nothing of the statement stays", async () => {
    const phone = nextPhoneHash();
    const stale = await seedChallenge(phone, { expiresInMs: -1000 });
    const first = await createPlain(phone);
    expect(first.result.inserted).toBe(true);
    await h.db.query("UPDATE challenges SET status = 'pending', finished_at = NULL WHERE id = $1", [stale]);
    const row = { ...newRow(phone, "client-a"), codeHash: first.row.codeHash };
    const q = { appId, phoneHash: phone, phoneHashes: [phone], clientHashes: ["client-a"], now: NOW, windowStart: phoneWindowStart(NOW) };
    const values = createPlainValues({ ...q, limit: LIMIT, maxPendingBefore: MAX_PENDING_PER_PHONE - 1 }, row);
    await expect(h.runtime.database.statement(CREATE_PLAIN_NAME, CREATE_PLAIN_SQL, values)).rejects.toThrow(/challenges_pending_phone_code_key|nique constraint/);
    // The stale challenge that the failed statement had expired is pending again: all of it was rolled back.
    const rows = await challengesOf(phone);
    expect(rows.map((r) => [r.id, r.status])).toEqual(expect.arrayContaining([[stale, "pending"], [first.row.id, "pending"]]));
    expect(rows).toHaveLength(2);
  });

  test("takes the phone's lock (the key of the two-round-trip path): waits while another transaction holds it", async () => {
    if (h.db.kind !== "postgres") return; // PGlite has one connection: nothing can hold a lock beside it
    const phone = nextPhoneHash();
    const { default: pg } = await import("pg");
    const holder = new pg.Client({ connectionString: h.db.url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [LOCK_KEYS.phone(appId, phone)]);
      // Meanwhile the holder inserts a pending challenge for the same client; the statement must see it.
      const seeded = await seedChallengeOn(holder, phone);
      let settled = false;
      const creating = createPlain(phone).finally(() => (settled = true));
      // Until the statement waits for the lock (seen in pg_locks), however long the machine takes to send it.
      for (;;) {
        const { rows } = await holder.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
        if (rows[0]!.n > 0) break;
        expect(settled).toBe(false);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await holder.query("COMMIT");
      const { result } = await creating;
      expect(result.inserted).toBe(true);
      expect(result.pendingIds).toEqual([seeded]);
    } finally {
      await holder.end();
    }
  });
});

async function seedChallengeOn(client: { query(sql: string, params: unknown[]): Promise<unknown> }, phoneHash: string): Promise<string> {
  const id = randomId("chl");
  await client.query(
    `INSERT INTO challenges (id, app_id, virtual_number_id, phone_hash, phone_masked, code_hash, poll_token_hash, purpose, locale,
                             max_attempts, client_hash, created_at, expires_at)
     VALUES ($1, $2, $3, $4, 'x', $5, 'p', 'login', 'en', 5, 'client-a', $6::timestamptz, $7::timestamptz)`,
    [id, appId, numberId, phoneHash, randomId("code"), new Date(NOW.getTime() - 1000).toISOString(), new Date(NOW.getTime() + 60_000).toISOString()],
  );
  return id;
}
