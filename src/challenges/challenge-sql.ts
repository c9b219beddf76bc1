// The hand-written SQL of the challenges feature and its advisory-lock keys, each named with its
// reason. Everything else the feature sends is built by Prisma in challenge-repository.ts. Kept
// free of Prisma, so that the benchmark's reference server (bench/reference-server.ts) runs the
// very same statement the same way.
//
// Parameters are typed by casts in the SQL (timestamps as ISO strings), so node-postgres, Prisma's
// PostgreSQL adapter and PGlite all pass them the same way.
import type { InboundRow } from "../inbound/inbound-repository.js";

// ---- Advisory locks (transaction-scoped: pg_advisory_xact_lock, released at COMMIT/ROLLBACK) ----

/**
 * The keys of the feature's advisory locks. The strings are a protocol between instances (an
 * instance of an older version must lock the same key during a rolling deploy): change them only
 * with all instances stopped.
 */
export const LOCK_KEYS = {
  /**
   * One (app, phone). Held by a creation from its first read to its insert: without it, concurrent
   * creations each count the phone's pending (and recent) challenges before any of them commits,
   * and all pass the limits. Held by the counting of a wrong code too, so that a creation made
   * meanwhile waits and then sees the new count (and the lock-out, if that code was the last).
   */
  phone: (appId: string, phoneHash: string) => `challenge-create:${appId}:${phoneHash}`,
  /**
   * One inbound message (provider, provider message id). Taken first by both verification paths:
   * the one-statement path locks the challenge before it inserts the message row, the step-by-step
   * path inserts (claims) the message row before it locks the challenge; without this lock the two
   * could deadlock on one message delivered to two instances at once.
   */
  inboundMessage: (provider: string, providerMessageId: string) => `inbound-claim:${provider}:${providerMessageId}`,
} as const;

/** Takes the transaction-scoped advisory lock of a LOCK_KEYS key ($1). */
export const TAKE_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

// ---- Creation: one short transaction, two round trips (Database#shortTransaction) ---------------

export { sqlLiteral, type SqlValue } from "../db/sql-literal.js";
import { sqlLiteral, type SqlValue } from "../db/sql-literal.js";

/** Marks the creation's scripts, so that statement counts can tell them apart (test/integration/statement-counts.test.ts). */
export const CREATION_MARKER = "/* reverse-otp: challenge creation */";

export type CreationFactsQuery = { appId: string; phoneHash: string; phoneHashes: readonly string[]; clientHashes: readonly string[]; now: Date; windowStart: Date };

/**
 * The first round trip of a creation, right after BEGIN: the phone's lock (LOCK_KEYS.phone), held
 * until COMMIT; stale pending challenges of the phone (any app) become expired, so they neither
 * count nor block a code; then, in one row, the facts the decision needs (creation-decision.ts):
 * the phone's wrong-code count at this app (any client), and this client's pending challenges of
 * the phone (oldest first) and its creations in the window. Each statement of the script takes its
 * own snapshot after the lock is held, so it sees everything the lock's previous holder committed.
 */
export function creationFactsScript(q: CreationFactsQuery): string {
  const app = sqlLiteral(q.appId);
  const phones = sqlLiteral(q.phoneHashes);
  const clients = sqlLiteral(q.clientHashes);
  const now = sqlLiteral(q.now);
  return `${CREATION_MARKER}
SELECT pg_advisory_xact_lock(hashtextextended(${sqlLiteral(LOCK_KEYS.phone(q.appId, q.phoneHash))}, 0));
UPDATE challenges SET status = 'expired', finished_at = ${now}
 WHERE phone_hash = ANY(${phones}) AND status = 'pending' AND expires_at <= ${now};
SELECT f.failures, f.locked_until AS "lockedUntil", f.updated_at AS "failureUpdatedAt",
       ARRAY(SELECT c.id FROM challenges c
              WHERE c.app_id = ${app} AND c.phone_hash = ANY(${phones}) AND c.client_hash = ANY(${clients}) AND c.status = 'pending'
              ORDER BY c.created_at, c.id) AS "pendingIds",
       w.n AS "createdInWindow", w.oldest AS "oldestInWindow"
  FROM (SELECT count(*)::int AS n, min(created_at) AS oldest FROM challenges
         WHERE app_id = ${app} AND phone_hash = ANY(${phones}) AND client_hash = ANY(${clients}) AND created_at > ${sqlLiteral(q.windowStart)}) w
  LEFT JOIN LATERAL (SELECT failures, locked_until, updated_at FROM phone_failures
                      WHERE app_id = ${app} AND phone_hash = ANY(${phones}) ORDER BY updated_at DESC LIMIT 1) f ON true`;
}

/** The row of creationFactsScript. */
export type CreationFactsRow = {
  failures: number | null;
  lockedUntil: Date | string | null;
  failureUpdatedAt: Date | string | null;
  pendingIds: string[];
  createdInWindow: number;
  oldestInWindow: Date | string | null;
};

/** The columns of a new challenge, in the order of the INSERT below. */
export type NewChallengeRow = {
  id: string;
  appId: string;
  virtualNumberId: string;
  phoneHash: string;
  phoneMasked: string;
  phoneCountry: string | null;
  codeHash: string;
  pollTokenHash: string;
  purpose: string;
  context: Record<string, string> | null;
  locale: string;
  maxAttempts: number;
  attempts: number;
  idempotencyKey: string | null;
  requestFingerprint: string | null;
  clientHash: string;
  createdAt: Date;
  expiresAt: Date;
  channel: "sms_mo" | "sms" | "email";
  /** The phone, sealed, for a reverse challenge that may still fall back to SMS; otherwise null. */
  phoneSealed: string | null;
};

/**
 * What else commits with a new challenge (for example the outbound message of its code): `cte`, a
 * data-modifying common table expression of the insert's statement (written `name AS (…)`; it may
 * read the new row from `inserted`), and `after`, statements that return no rows (a NOTIFY), run
 * after it in the same round trip, before COMMIT. Both run only if the challenge is inserted: when
 * the INSERT fails (a code taken, an idempotency key used meanwhile) the whole script is rolled back.
 */
export type CreationExtra = { cte: string; after?: string };

/**
 * The second round trip, ending with COMMIT: the client's pending challenges that the new one
 * replaces expire now (only while still pending: waiters and callbacks hear `expired`, and their
 * code, sent later, is "the right code, too late", not a wrong code counted against the phone),
 * and the challenge is inserted; the row comes back with its virtual number's E.164 (so nothing is
 * read again after the commit). A unique violation (the code is taken among the phone's pending
 * challenges, or the idempotency key was used concurrently) fails the script, and the transaction
 * is rolled back.
 */
export function creationInsertScript(row: NewChallengeRow, replaces: readonly string[], now: Date, extras: readonly CreationExtra[] = []): string {
  const columns: [string, SqlValue][] = [
    ["id", row.id],
    ["app_id", row.appId],
    ["virtual_number_id", row.virtualNumberId],
    ["phone_hash", row.phoneHash],
    ["phone_masked", row.phoneMasked],
    ["phone_country", row.phoneCountry],
    ["code_hash", row.codeHash],
    ["poll_token_hash", row.pollTokenHash],
    ["purpose", row.purpose],
    ["context", row.context === null ? null : { json: row.context }],
    ["locale", row.locale],
    ["max_attempts", row.maxAttempts],
    ["attempts", row.attempts],
    ["idempotency_key", row.idempotencyKey],
    ["request_fingerprint", row.requestFingerprint],
    ["client_hash", row.clientHash],
    ["created_at", row.createdAt],
    ["expires_at", row.expiresAt],
    ["channel", row.channel],
    ["phone_sealed", row.phoneSealed],
  ];
  const casts: Record<string, string> = { purpose: '::"Purpose"', channel: '::"ChallengeChannel"' };
  const values = columns.map(([name, value]) => `${sqlLiteral(value)}${casts[name] ?? ""}`);
  return `${CREATION_MARKER}
WITH replaced AS (
  UPDATE challenges SET status = 'expired', finished_at = ${sqlLiteral(now)}
   WHERE id = ANY(${sqlLiteral(replaces)}) AND status = 'pending'
), inserted AS (
  INSERT INTO challenges (${columns.map(([name]) => name).join(", ")})
  VALUES (${values.join(", ")})
  RETURNING id, app_id AS "appId", status::text AS status, purpose::text AS purpose, phone_masked AS "phoneMasked",
            created_at AS "createdAt", expires_at AS "expiresAt", verified_at AS "verifiedAt", consumed_at AS "consumedAt",
            max_attempts AS "maxAttempts", attempts, poll_token_hash AS "pollTokenHash", code_hash AS "codeHash", locale, context,
            request_fingerprint AS "requestFingerprint", channel::text AS channel, virtual_number_id
)${extras.map((extra) => `, ${extra.cte}`).join("")}
SELECT i.*, n.e164 AS "virtualNumber" FROM inserted i JOIN virtual_numbers n ON n.id = i.virtual_number_id${extras
    .filter((extra) => extra.after)
    .map((extra) => `;\n${extra.after}`)
    .join("")}`;
}

// ---- Creation in one statement: the plain case --------------------------------------------------

/**
 * A reverse challenge's creation in ONE statement, one round trip: a named prepared statement that
 * calls the database function `reverse_otp_create_challenge` (migration
 * 20261204150000_creation_in_one_statement). The function takes the phone's lock (LOCK_KEYS.phone,
 * as the two-round-trip path does, so both kinds of creation and the counting of wrong codes
 * serialise on it), expires the phone's stale challenges, reads the facts, and inserts the
 * challenge only when the decision on them is plain (creation-decision.ts, isPlainCreation: no
 * wrong-code row, under the window's limit, nothing to replace): "create, 0 attempts, nothing
 * replaced", which is what the caller built the row for. Otherwise it inserts nothing and returns
 * the facts, read under the lock: the caller refuses on them (a refusal needs nothing else), or
 * creates through the two-round-trip path, which reads them again under the lock.
 *
 * Why a function: inside it, each statement takes its own snapshot after the lock is held (one
 * statement of plain SQL would read with a snapshot taken before it waited for the lock), and its
 * statements are planned once per connection. Measured with pgbench (8 connections, the same
 * work): about 0.2 ms of PostgreSQL's CPU per creation, against 0.6 ms for the two scripts of literal
 * SQL (docs/performance.md).
 */
export const CREATE_PLAIN_NAME = "reverse_otp_create_plain";
export const CREATE_PLAIN_SQL = `SELECT out_failures AS failures, out_locked_until AS "lockedUntil", out_failure_updated_at AS "failureUpdatedAt",
       out_pending_ids AS "pendingIds", out_created_in_window AS "createdInWindow", out_oldest_in_window AS "oldestInWindow",
       out_inserted AS inserted, out_virtual_number AS "virtualNumber"
  FROM reverse_otp_create_challenge($1::text, $2::text, $3::text[], $4::text[], $5::timestamptz, $6::timestamptz, $7::int, $8::int,
       $9::text, $10::text, $11::text, $12::text, $13::text, $14::text, $15::text, $16::"Purpose", $17::jsonb, $18::text,
       $19::int, $20::text, $21::text, $22::text, $23::timestamptz, $24::"ChallengeChannel", $25::text)`;

/** The parameters of CREATE_PLAIN_SQL, in order. `limit`: creations allowed in the window; `maxPendingBefore`: pending challenges the new one may join without replacing one. */
export function createPlainValues(q: CreationFactsQuery & { limit: number; maxPendingBefore: number }, row: Omit<NewChallengeRow, "attempts">): unknown[] {
  return [
    LOCK_KEYS.phone(q.appId, q.phoneHash),
    q.appId,
    q.phoneHashes,
    q.clientHashes,
    q.now.toISOString(),
    q.windowStart.toISOString(),
    q.limit,
    q.maxPendingBefore,
    row.id,
    row.virtualNumberId,
    row.phoneHash,
    row.phoneMasked,
    row.phoneCountry,
    row.codeHash,
    row.pollTokenHash,
    row.purpose,
    row.context === null ? null : JSON.stringify(row.context),
    row.locale,
    row.maxAttempts,
    row.idempotencyKey,
    row.requestFingerprint,
    row.clientHash,
    row.expiresAt.toISOString(),
    row.channel,
    row.phoneSealed,
  ];
}

/** The row of CREATE_PLAIN_SQL: the facts, whether the challenge was inserted, and its number's E.164 when it was. */
export type CreatePlainRow = CreationFactsRow & { inserted: boolean; virtualNumber: string | null };

// ---- Verification: the race gate ------------------------------------------------------------

/**
 * The one pending, unexpired challenge of (app, phone) holding the code, if any: the newest, should
 * two ever hold it (the partial unique index keeps codes unique among a phone's pending challenges
 * for one HASH_KEY; after a key rotation, a challenge hashed with the old key and one with the new
 * key could share a code). One SMS verifies at most one challenge (sms-code.ts), and this makes it
 * so by construction. Placeholders and the hash tests (`= ANY($2::text[])`, `IN ($18)`) are given,
 * so both statements below can use it.
 */
const oneMatchingPending = (p: { appId: string; phoneHashIs: string; codeHashIs: string; now: string }) => `
  SELECT c.id FROM challenges c
   WHERE c.app_id = ${p.appId} AND c.phone_hash ${p.phoneHashIs} AND c.code_hash ${p.codeHashIs}
     AND c.status = 'pending' AND c.expires_at > ${p.now}::timestamptz AND c.channel = 'sms_mo'
   ORDER BY c.created_at DESC, c.id LIMIT 1`;

/**
 * The step-by-step path's race gate: one conditional UPDATE moves the matching challenge from
 * pending to verified, only while it is pending and unexpired. Two deliveries at once: the second
 * waits for the row lock, then re-checks `status = 'pending'` on the committed row (PostgreSQL's
 * EvalPlanQual) and updates nothing. $1 app id, $2 phone hashes, $3 code hashes, $4 now.
 */
export const VERIFY_ONE_PENDING_SQL = `
UPDATE challenges SET status = 'verified', verified_at = $4::timestamptz, finished_at = $4::timestamptz
 WHERE id = (${oneMatchingPending({ appId: "$1", phoneHashIs: "= ANY($2::text[])", codeHashIs: "= ANY($3::text[])", now: "$4" })})
   AND status = 'pending' AND expires_at > $4::timestamptz
RETURNING id`;

/**
 * The webhook's common case — a message that verifies a challenge — as ONE statement, so it costs
 * one round trip and one implicit transaction instead of eight (number look-up, BEGIN, claim,
 * conditional UPDATE, clear failures, outcome UPDATE, COMMIT), sent as a named prepared statement
 * (parsed once per connection).
 *
 * What it does, atomically (one statement is one transaction):
 *   owner     the number still belongs to the app the caller cached, through this provider, with
 *             the code policy the caller read the code with; otherwise nothing happens and the
 *             caller drops its cached owner (so the cache can never act on stale data);
 *   verified  the race gate, as VERIFY_ONE_PENDING_SQL: the one pending, unexpired challenge of
 *             this app and phone with the SMS's code becomes verified — unless this provider
 *             message id was already stored (a retry after commit);
 *   claimed   the inbound message row (the inbound gateway's record, handed over as parameters),
 *             stored directly with outcome `verified`, only if something was verified. This is the
 *             one statement of the challenges feature that writes `inbound_messages`: the message
 *             and the state change it causes commit together. No ON CONFLICT here: a duplicate
 *             delivery committed meanwhile makes the INSERT fail with a unique violation, which
 *             aborts the whole statement, the UPDATE included (nothing verified, no NOTIFY, no
 *             callback event) — the caller answers `duplicate`, as the claim-first path would;
 *   cleared   the phone's wrong-code count, deleted as after any verification.
 *
 * Lock order: see LOCK_KEYS.inboundMessage (`claim_lock`, evaluated before the UPDATE locks any
 * row). When nothing was verified the statement changed nothing, and the caller runs the
 * step-by-step path, which decides every other outcome.
 *
 * The phone's and the code's digests (one per HASH_KEY) are one parameter each, in `IN (…)` lists,
 * so the text depends on how many there are (one statement name per count). Not `= ANY($n::text[])`:
 * for an array parameter the planner assumes ten elements, so the generic plan of the prepared
 * statement looked costlier than a plan made for the values at hand, and PostgreSQL planned the
 * statement again at every execution (pg_prepared_statements: 0 generic plans, 100 custom plans
 * out of 100). That planning cost the backend about 0.4 ms of CPU per webhook, as much as the rest
 * of the statement (measured 3 December 2026, see docs/performance.md); with lists of known length
 * the generic plan is chosen after the first five executions and the statement is planned no more.
 */
function verifyInOneStatementSql(phoneCount: number, codeCount: number): string {
  const list = (first: number, count: number) => `IN (${Array.from({ length: count }, (_, i) => `$${first + i}`).join(", ")})`;
  const phoneHashIs = list(18, phoneCount);
  const codeHashIs = list(18 + phoneCount, codeCount);
  return `
WITH claim_lock AS (
  SELECT pg_advisory_xact_lock(hashtextextended($17, 0))
), owner AS (
  SELECT 1 FROM virtual_numbers n JOIN apps a ON a.id = n.app_id
   WHERE n.e164 = $8 AND n.app_id = $4 AND n.provider = $2 AND a.code_length = $15::int AND a.code_alphabet = $16
), verified AS (
  UPDATE challenges SET status = 'verified', verified_at = $14::timestamptz, finished_at = $14::timestamptz
   WHERE id = (${oneMatchingPending({ appId: "$4", phoneHashIs, codeHashIs, now: "$14" })})
     AND status = 'pending' AND expires_at > $14::timestamptz
     AND EXISTS (SELECT 1 FROM owner)
     AND EXISTS (SELECT 1 FROM claim_lock)
     AND NOT EXISTS (SELECT 1 FROM inbound_messages m WHERE m.provider = $2 AND m.provider_message_id = $3)
  RETURNING id
), claimed AS (
  INSERT INTO inbound_messages (id, provider, provider_message_id, app_id, challenge_id, sender_hash, sender_masked,
                                sender_country, recipient, text_length, parts, line_type, carrier, outcome, received_at, created_at)
  SELECT $1, $2, $3, $4, (SELECT id FROM verified), $5, $6, $7, $8, $9::int, $10::int, $11, $12, 'verified',
         $13::timestamptz, $14::timestamptz
   WHERE EXISTS (SELECT 1 FROM verified)
  RETURNING challenge_id
), cleared AS (
  DELETE FROM phone_failures WHERE app_id = $4 AND phone_hash ${phoneHashIs} AND EXISTS (SELECT 1 FROM claimed)
)
SELECT EXISTS (SELECT 1 FROM owner) AS "owned", (SELECT challenge_id FROM claimed) AS "challengeId"`;
}

/** The statement's text and name per number of phone and code digests (in practice one entry: one per HASH_KEY). */
const oneStatementTexts = new Map<string, { name: string; text: string }>();

export type OneStatementVerification = Omit<InboundRow, "appId" | "createdAt"> & {
  /** The inbound message row is stored with this app (the cached owner) and `now` as its creation time. */
  appId: string;
  now: Date;
  /** The code policy the code was read with; checked against the app's current one. */
  codeLength: number;
  codeAlphabet: string;
  /** At least one each (one per HASH_KEY). */
  phoneHashes: string[];
  codeHashes: string[];
};

/**
 * The one-statement verification of `v` as a named prepared statement: its name (node-postgres
 * parses it once per connection), its text and its parameters.
 */
export function verifyInOneStatement(v: OneStatementVerification): { name: string; text: string; values: unknown[] } {
  if (v.phoneHashes.length === 0 || v.codeHashes.length === 0) throw new Error("verifyInOneStatement needs a phone digest and a code digest");
  const shape = `${v.phoneHashes.length}_${v.codeHashes.length}`;
  let statement = oneStatementTexts.get(shape);
  if (!statement) {
    statement = { name: `reverse_otp_verify_in_one_statement_${shape}`, text: verifyInOneStatementSql(v.phoneHashes.length, v.codeHashes.length) };
    oneStatementTexts.set(shape, statement);
  }
  const values = [
    v.id,
    v.provider,
    v.providerMessageId,
    v.appId,
    v.senderHash,
    v.senderMasked,
    v.senderCountry,
    v.recipient,
    v.textLength,
    v.parts,
    v.lineType,
    v.carrier,
    v.receivedAt.toISOString(),
    v.now.toISOString(),
    v.codeLength,
    v.codeAlphabet,
    LOCK_KEYS.inboundMessage(v.provider, v.providerMessageId),
    ...v.phoneHashes,
    ...v.codeHashes,
  ];
  return { ...statement, values };
}

/** The statement's one row: whether the cached owner still holds, and the verified challenge. */
export type OneStatementRow = { owned: boolean; challengeId: string | null };

// ---- Reads --------------------------------------------------------------------------------------

/**
 * A challenge as status reads, long-polls and their re-reads need it, in one statement, prepared
 * (Database#statement); an outbound challenge's latest message (its `delivery`) joined by index. Read with Prisma and the virtual number, a relation,
 * it was two round trips per status read and per long-poll wake-up. $1 the challenge id.
 */
export const FIND_BY_ID_SQL = `SELECT c.id, c.app_id AS "appId", c.status::text AS status, c.purpose::text AS purpose, c.phone_masked AS "phoneMasked",
       c.created_at AS "createdAt", c.expires_at AS "expiresAt", c.verified_at AS "verifiedAt", c.consumed_at AS "consumedAt",
       c.max_attempts AS "maxAttempts", c.attempts, c.poll_token_hash AS "pollTokenHash", c.channel::text AS channel,
       d.status::text AS "deliveryStatus", d.updated_at AS "deliveryUpdatedAt"
  FROM challenges c
  LEFT JOIN LATERAL (
    SELECT m.status, m.updated_at FROM outbound_messages m
     WHERE m.challenge_id = c.id AND c.channel <> 'sms_mo'
     ORDER BY m.created_at DESC, m.id DESC LIMIT 1
  ) d ON true
 WHERE c.id = $1`;

export const FIND_BY_ID_NAME = "reverse_otp_find_challenge";
