// Seeding with plain SQL, using the project's own hashing (HMACs under HASH_KEY, SHA-256 of poll
// tokens and keys), so the service sees rows exactly like the ones it writes itself. Seeding
// through the API would take minutes and would measure challenge creation, not the path under test.
import { randomInt } from "node:crypto";
import type pg from "pg";
import { generateKey } from "../../src/apps/keys.js";
import { maskPhone } from "../../src/challenges/phone.js";
import { randomId, type Hasher } from "../../src/shared/crypto.js";

export type SeededApp = { appId: string; numberId: string; number: string; secretKey: string; publishableKey: string };

export type SeededChallenge = { id: string; phone: string; code: string; pollToken: string };

export async function seedApp(pool: pg.Pool, number: string): Promise<SeededApp> {
  const appId = randomId("app");
  const numberId = randomId("num");
  const secret = generateKey("secret");
  const publishable = generateKey("publishable");
  await pool.query(`INSERT INTO apps (id, name) VALUES ($1, 'Bench')`, [appId]);
  await pool.query(`INSERT INTO virtual_numbers (id, app_id, e164, provider) VALUES ($1, $2, $3, 'generic')`, [numberId, appId, number]);
  for (const k of [secret, publishable]) {
    await pool.query(`INSERT INTO api_keys (id, app_id, kind, key_hash, hint) VALUES ($1, $2, $3, $4, $5)`, [
      randomId("key"),
      appId,
      k.kind,
      k.hash,
      k.hint,
    ]);
  }
  return { appId, numberId, number, secretKey: secret.key, publishableKey: publishable.key };
}

/** French mobile numbers +33 6 1x xx xx xx: every one of them is a valid mobile for libphonenumber. */
export const phoneAt = (n: number) => `+3361${String(n).padStart(7, "0")}`;

/**
 * `count` pending challenges of distinct phones (phoneAt(firstPhone + i)), six-digit codes, a
 * lifetime of `ttlSeconds` from now. Inserted in batches with unnest().
 */
export async function seedChallenges(
  pool: pg.Pool,
  hasher: Hasher,
  app: SeededApp,
  options: { count: number; firstPhone: number; ttlSeconds?: number },
): Promise<SeededChallenge[]> {
  const out: SeededChallenge[] = [];
  const now = Date.now();
  const expiresAt = new Date(now + (options.ttlSeconds ?? 3600) * 1000).toISOString();
  const BATCH = 5000;
  for (let start = 0; start < options.count; start += BATCH) {
    const cols = { id: [] as string[], phoneHash: [] as string[], masked: [] as string[], codeHash: [] as string[], tokenHash: [] as string[] };
    for (let i = start; i < Math.min(options.count, start + BATCH); i++) {
      const phone = phoneAt(options.firstPhone + i);
      const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
      const pollToken = randomId("pt", 43);
      const c = { id: randomId("chl"), phone, code, pollToken };
      out.push(c);
      cols.id.push(c.id);
      cols.phoneHash.push(hasher.phone(phone));
      cols.masked.push(maskPhone(phone));
      cols.codeHash.push(hasher.code(code));
      cols.tokenHash.push(hasher.token(pollToken));
    }
    await pool.query(
      `INSERT INTO challenges (id, app_id, virtual_number_id, phone_hash, phone_masked, phone_country, code_hash,
                               poll_token_hash, purpose, locale, status, max_attempts, created_at, expires_at)
       SELECT id, $1, $2, ph, pm, 'FR', ch, th, 'login', 'en', 'pending', 5, now(), $3::timestamptz
         FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS t(id, ph, pm, ch, th)`,
      [app.appId, app.numberId, expiresAt, cols.id, cols.phoneHash, cols.masked, cols.codeHash, cols.tokenHash],
    );
  }
  await pool.query("ANALYZE challenges");
  return out;
}
