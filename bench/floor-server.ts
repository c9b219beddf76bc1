// The least-work floor for the webhook path: what any service must do at the least for an inbound
// SMS that verifies a challenge, written as plainly as it can be. Plain node:http and pg; the
// Standard Webhooks signature checked with node:crypto over the raw bytes; the payload's fields
// read as given (the benchmark sends E.164 numbers); the first run of six digits taken as the code;
// phone and code HMACed as stored; then ONE statement that stores the message once (a redelivery
// changes nothing), verifies the one pending, unexpired challenge of that number's app, phone and
// code, and NOTIFYs (the schema's trigger, as for the service). No owner cache, no normalisation,
// no lock, no logging, no metrics: not a service one could run, a floor to measure against.
//
// bench/reference-server.ts, by contrast, runs this project's own statement and parsing without
// Express and Prisma; the floor shows what the statement itself and the rest cost.
//
// Env: DATABASE_URL, HASH_KEY, GENERIC_WEBHOOK_SECRET, PORT, HOST, DB_POOL_SIZE (default 10).
// Run: node --import tsx bench/floor-server.ts
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import pg from "pg";
import { createHasher, randomId } from "../src/shared/crypto.js";

const env = process.env;
const hasher = createHasher((env.HASH_KEY ?? "").split(","));
const secret = Buffer.from((env.GENERIC_WEBHOOK_SECRET ?? "").replace(/^whsec_/, ""), "base64");
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.DB_POOL_SIZE ?? 10) });

/** The one statement: $1 message row id, $2 provider message id, $3 recipient, $4 sender hash, $5 code hash, $6 text length. */
export const FLOOR_SQL = `
WITH verified AS (
  UPDATE challenges c SET status = 'verified', verified_at = now(), finished_at = now()
    FROM virtual_numbers n
   WHERE n.e164 = $3 AND c.app_id = n.app_id AND c.phone_hash = $4 AND c.code_hash = $5
     AND c.status = 'pending' AND c.expires_at > now()
     AND NOT EXISTS (SELECT 1 FROM inbound_messages m WHERE m.provider = 'generic' AND m.provider_message_id = $2)
  RETURNING c.id, c.app_id
), stored AS (
  INSERT INTO inbound_messages (id, provider, provider_message_id, app_id, challenge_id, sender_hash, recipient, text_length, outcome, received_at, created_at)
  SELECT $1, 'generic', $2, (SELECT app_id FROM verified), (SELECT id FROM verified), $4, $3, $6::int,
         CASE WHEN EXISTS (SELECT 1 FROM verified) THEN 'verified'::"InboundOutcome" ELSE 'no_pending_challenge'::"InboundOutcome" END, now(), now()
  ON CONFLICT (provider, provider_message_id) DO NOTHING
  RETURNING outcome::text
)
SELECT (SELECT outcome FROM stored) AS outcome`;

function signatureOk(h: http.IncomingHttpHeaders, body: Buffer): boolean {
  const id = h["webhook-id"];
  const ts = h["webhook-timestamp"];
  const sig = h["webhook-signature"];
  if (typeof id !== "string" || typeof ts !== "string" || typeof sig !== "string") return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const expected = createHmac("sha256", secret).update(`${id}.${ts}.`).update(body).digest();
  return sig.split(" ").some((part) => {
    const given = Buffer.from(part.startsWith("v1,") ? part.slice(3) : "", "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

async function handle(body: Buffer): Promise<{ status: number; body: string }> {
  let p: { messageId?: unknown; from?: unknown; to?: unknown; text?: unknown };
  try {
    p = JSON.parse(body.toString("utf8")) as typeof p;
  } catch {
    return { status: 400, body: "{}" };
  }
  if (typeof p.messageId !== "string" || typeof p.from !== "string" || typeof p.to !== "string" || typeof p.text !== "string") {
    return { status: 400, body: "{}" };
  }
  const code = /\d{6}/.exec(p.text)?.[0] ?? "";
  const { rows } = await pool.query<{ outcome: string | null }>({
    name: "floor",
    text: FLOOR_SQL,
    values: [randomId("msg"), p.messageId, p.to, hasher.phone(p.from), hasher.code(code), p.text.length],
  });
  const outcome = rows[0]?.outcome ?? "duplicate";
  return { status: 200, body: `{"results":[{"messageId":${JSON.stringify(p.messageId)},"outcome":"${outcome}"}]}` };
}

const server = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    res.end('{"status":"ok"}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const reply = (status: number, text: string) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(text);
    };
    const body = Buffer.concat(chunks);
    if (req.method !== "POST" || req.url !== "/v1/inbound/generic") return reply(404, "{}");
    if (!signatureOk(req.headers, body)) return reply(401, "{}");
    handle(body).then(
      (r) => reply(r.status, r.body),
      () => reply(503, "{}"),
    );
  });
});
server.keepAliveTimeout = 5_000;
server.listen(Number(env.PORT ?? 3100), env.HOST ?? "127.0.0.1");
const stop = () => server.close(() => void pool.end().then(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
