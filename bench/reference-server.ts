// The floor for the webhook path: a plain node:http + pg server that does the same work as
// POST /v1/inbound/generic for a message that verifies a challenge, and nothing else — no Express,
// no Prisma, no logging, no metrics, no request deadline. The benchmark states the service's
// throughput as a fraction of this server's, measured in the same run on the same database server.
//
// Same work: the Standard Webhooks signature over the raw bytes (the project's verifier), the
// payload's shape, sender and recipient normalised to E.164 (libphonenumber, the project's
// normaliser), the virtual number's owner looked up (and cached, as the service does), the SMS's
// code found (the service's rule) and HMACed, then the very same SQL statement as the service
// (src/challenges/challenge-sql.ts), prepared the same way (a named statement per connection). Only the verified path is complete here: a message that
// verifies nothing is stored as `no_pending_challenge` (the service would go on to count a wrong code).
//
// Env: DATABASE_URL, HASH_KEY, GENERIC_WEBHOOK_SECRET, PORT, HOST, DB_POOL_SIZE (default 10).
// Run: node --import tsx bench/reference-server.ts
import http from "node:http";
import pg from "pg";
import { maskPhone, normalizeSender } from "../src/challenges/phone.js";
import { findSmsCode } from "../src/challenges/sms-code.js";
import { verifyStandardWebhook } from "../src/providers/standard-webhooks.js";
import { createHasher, randomId } from "../src/shared/crypto.js";
import type { CodeAlphabet } from "../src/challenges/code-policy.js";
import { verifyInOneStatement, type OneStatementRow } from "../src/challenges/challenge-sql.js";

const env = process.env;
const hasher = createHasher((env.HASH_KEY ?? "").split(","));
const secrets = (env.GENERIC_WEBHOOK_SECRET ?? "").split(",");
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.DB_POOL_SIZE ?? 10) });

const MAX_BODY = 256 * 1024;
const isText = (v: unknown, max: number): v is string => typeof v === "string" && v.length >= 1 && v.length <= max;

type Owner = { appId: string; appName: string; provider: string; codeLength: number; codeAlphabet: CodeAlphabet };

// The same owner cache as the service: the statement re-checks the owner, so it cannot go stale.
const owners = new Map<string, Owner>();

async function findNumber(e164: string): Promise<Owner | undefined> {
  const cached = owners.get(e164);
  if (cached) return cached;
  const { rows } = await pool.query<{ app_id: string; name: string; provider: string; code_length: number; code_alphabet: string }>(
    `SELECT n.app_id, a.name, n.provider, a.code_length, a.code_alphabet FROM virtual_numbers n JOIN apps a ON a.id = n.app_id WHERE n.e164 = $1`,
    [e164],
  );
  const r = rows[0];
  const owner = r && { appId: r.app_id, appName: r.name, provider: r.provider, codeLength: r.code_length, codeAlphabet: r.code_alphabet as CodeAlphabet };
  if (owner) owners.set(e164, owner);
  return owner;
}

async function record(body: Buffer): Promise<{ status: number; body: string }> {
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  } catch {
    return { status: 400, body: '{"code":"WEBHOOK_PAYLOAD_INVALID"}' };
  }
  if (!isText(p.messageId, 200) || !isText(p.from, 64) || !isText(p.to, 64) || typeof p.text !== "string" || p.text.length > 10_000) {
    return { status: 400, body: '{"code":"WEBHOOK_PAYLOAD_INVALID"}' };
  }
  const now = new Date();
  const sender = normalizeSender(p.from);
  const recipient = normalizeSender(p.to);
  const owner = recipient.ok ? await findNumber(recipient.e164) : undefined;
  if (!owner || owner.provider !== "generic" || !sender.ok || !recipient.ok) {
    return { status: 422, body: '{"code":"REFERENCE_HANDLES_THE_VERIFIED_PATH_ONLY"}' };
  }
  const code = findSmsCode(p.text.slice(0, 2000), { length: owner.codeLength, alphabet: owner.codeAlphabet, appName: owner.appName });
  const row = {
    id: randomId("msg"),
    provider: "generic",
    providerMessageId: p.messageId,
    appId: owner.appId,
    senderHash: hasher.phone(sender.e164),
    senderMasked: maskPhone(sender.e164),
    senderCountry: sender.country ?? null,
    recipient: recipient.e164,
    textLength: [...p.text].length,
    parts: 1,
    lineType: null,
    carrier: null,
    receivedAt: now,
    now,
  };
  let outcome: string;
  try {
    // As the service: a text without a code skips the statement.
    const rows =
      code === undefined
        ? []
        : (
            await pool.query<OneStatementRow>(
              verifyInOneStatement({
                ...row,
                codeLength: owner.codeLength,
                codeAlphabet: owner.codeAlphabet,
                phoneHashes: hasher.phoneAll(sender.e164),
                codeHashes: hasher.codeAll(code),
              }),
            )
          ).rows;
    if (rows[0]?.challengeId) {
      outcome = "verified";
    } else {
      // Not the path this server measures: store the message (or find it stored) and stop there.
      const claimed = await pool.query(
        `INSERT INTO inbound_messages (id, provider, provider_message_id, app_id, sender_hash, sender_masked, sender_country,
                                       recipient, text_length, parts, outcome, received_at, created_at)
         VALUES ($1, 'generic', $2, $3, $4, $5, $6, $7, $8, 1, 'no_pending_challenge', $9, $9)
         ON CONFLICT (provider, provider_message_id) DO NOTHING`,
        [row.id, row.providerMessageId, row.appId, row.senderHash, row.senderMasked, row.senderCountry, row.recipient, row.textLength, now],
      );
      outcome = claimed.rowCount === 1 ? "no_pending_challenge" : "duplicate";
    }
  } catch (error) {
    if ((error as { code?: string }).code !== "23505") throw error;
    outcome = "duplicate";
  }
  return { status: 200, body: JSON.stringify({ results: [{ messageId: p.messageId, outcome }] }) };
}

const server = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    res.end('{"status":"ok"}');
    return;
  }
  if (req.method !== "POST" || req.url !== "/v1/inbound/generic") {
    res.statusCode = 404;
    res.end();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (c: Buffer) => {
    size += c.length;
    if (size <= MAX_BODY) chunks.push(c);
  });
  req.on("end", () => {
    const reply = (status: number, body: string) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body);
    };
    if (size > MAX_BODY) return reply(413, "{}");
    const body = Buffer.concat(chunks);
    const h = req.headers;
    const verdict = verifyStandardWebhook(
      secrets,
      { id: h["webhook-id"] as string, timestamp: h["webhook-timestamp"] as string, signature: h["webhook-signature"] as string },
      body,
      new Date(),
    );
    if (!verdict.ok) return reply(401, JSON.stringify({ code: verdict.code }));
    record(body).then(
      (r) => reply(r.status, r.body),
      () => reply(503, '{"code":"SERVICE_UNAVAILABLE"}'),
    );
  });
});
server.keepAliveTimeout = 5_000;
server.listen(Number(env.PORT ?? 3100), env.HOST ?? "127.0.0.1");
const stop = () => server.close(() => void pool.end().then(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
