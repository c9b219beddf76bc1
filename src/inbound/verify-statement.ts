// The webhook's common case — a message that verifies a challenge — as ONE SQL statement, so it
// costs one round trip and one implicit transaction instead of eight round trips (number look-up,
// BEGIN, claim, conditional UPDATE, clear failures, outcome UPDATE, COMMIT), sent as a named
// prepared statement (parsed once per connection). Kept free of Prisma so that the benchmark's
// reference server (bench/reference-server.ts) runs the very same SQL the same way.
//
// What it does, atomically (one statement is one transaction):
//   owner     the number still belongs to the app the caller cached, through this provider, with
//             the code policy the caller extracted candidates with; otherwise nothing happens and
//             the caller drops its cached owner (so the cache can never act on stale data);
//   verified  the conditional UPDATE (the race gate, as in the step-by-step path): pending,
//             unexpired challenges of this app and phone whose code is among the candidates become
//             verified — unless this provider message id was already stored (a retry after commit);
//   claimed   the inbound message row, stored directly with outcome `verified`, only if something
//             was verified. No ON CONFLICT here: a duplicate delivery committed meanwhile makes the
//             INSERT fail with a unique violation, which aborts the whole statement, the UPDATE
//             included (nothing verified, no NOTIFY, no callback event) — the caller answers
//             `duplicate`, as the claim-first path would;
//   cleared   the phone's wrong-code count, deleted as after any verification.
//
// Concurrent deliveries: the second UPDATE of the same challenge waits for the first's row lock,
// then re-checks `status = 'pending'` on the committed row (PostgreSQL's EvalPlanQual) and updates
// nothing. Lock order: this statement locks the challenge before it inserts the message row, the
// step-by-step path the other way round; so that a delivery on each path of the same message
// cannot deadlock, both first take a transaction-scoped advisory lock on the message id
// (`claim_lock` here, InboundSteps.claim there), evaluated before the UPDATE locks any row.
// When nothing was verified the statement changed nothing, and the caller runs the step-by-step
// transaction (wrong codes, expiry, unknown numbers…), whose semantics are unchanged.
//
// Parameters are typed by casts in the SQL (timestamps as ISO strings), so node-postgres, Prisma's
// PostgreSQL adapter and PGlite all pass them the same way.

export type OneStatementVerification = {
  /** The inbound message row, as the step-by-step path would store it. */
  id: string;
  provider: string;
  providerMessageId: string;
  appId: string;
  senderHash: string;
  senderMasked: string;
  senderCountry: string | null;
  recipient: string;
  textLength: number;
  parts: number;
  lineType: string | null;
  carrier: string | null;
  receivedAt: Date;
  now: Date;
  /** The code policy that produced `codeHashes`; checked against the app's current one. */
  codeLength: number;
  codeAlphabet: string;
  phoneHashes: string[];
  codeHashes: string[];
};

/** The prepared statement's name (node-postgres parses it once per connection). */
export const VERIFY_STATEMENT_NAME = "reverse_otp_verify_in_one_statement";

export const VERIFY_IN_ONE_STATEMENT_SQL = `
WITH claim_lock AS (
  SELECT pg_advisory_xact_lock(hashtextextended('inbound-claim:' || $2 || ':' || $3, 0))
), owner AS (
  SELECT 1 FROM virtual_numbers n JOIN apps a ON a.id = n.app_id
   WHERE n.e164 = $8 AND n.app_id = $4 AND n.provider = $2 AND a.code_length = $15::int AND a.code_alphabet = $16
), verified AS (
  UPDATE challenges SET status = 'verified', verified_at = $14::timestamptz, finished_at = $14::timestamptz
   WHERE id = (SELECT c.id FROM challenges c
                WHERE c.app_id = $4 AND c.phone_hash = ANY($17::text[]) AND c.code_hash = ANY($18::text[])
                  AND c.status = 'pending' AND c.expires_at > $14::timestamptz
                ORDER BY c.created_at DESC, c.id LIMIT 1)
     AND status = 'pending' AND expires_at > $14::timestamptz
     AND EXISTS (SELECT 1 FROM owner)
     AND EXISTS (SELECT 1 FROM claim_lock)
     AND NOT EXISTS (SELECT 1 FROM inbound_messages m WHERE m.provider = $2 AND m.provider_message_id = $3)
  RETURNING id
), claimed AS (
  INSERT INTO inbound_messages (id, provider, provider_message_id, app_id, challenge_id, sender_hash, sender_masked,
                                sender_country, recipient, text_length, parts, line_type, carrier, outcome, received_at, created_at)
  SELECT $1, $2, $3, $4, (SELECT min(id) FROM verified), $5, $6, $7, $8, $9::int, $10::int, $11, $12, 'verified',
         $13::timestamptz, $14::timestamptz
   WHERE EXISTS (SELECT 1 FROM verified)
  RETURNING challenge_id
), cleared AS (
  DELETE FROM phone_failures WHERE app_id = $4 AND phone_hash = ANY($17::text[]) AND EXISTS (SELECT 1 FROM claimed)
)
SELECT EXISTS (SELECT 1 FROM owner) AS "owned", (SELECT challenge_id FROM claimed) AS "challengeId"`;

/** The parameters of VERIFY_IN_ONE_STATEMENT_SQL, in order ($1…$18). */
export function verifyInOneStatementParams(v: OneStatementVerification): unknown[] {
  return [
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
    v.phoneHashes,
    v.codeHashes,
  ];
}

/** The statement's one row: whether the cached owner still holds, and the verified challenge. */
export type OneStatementRow = { owned: boolean; challengeId: string | null };
