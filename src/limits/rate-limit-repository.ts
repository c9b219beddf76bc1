// Rate limits of API keys and admin tokens: fixed windows counted in PostgreSQL (`rate_limits`), so
// they hold across restarts and instances, without one write per request.
//
// Each instance counts locally and writes its counts in batches: a key's row is written when the
// instance has used up its local allowance for the key (that write also decides the request at
// hand, exactly), and once a second for the counts admitted since the last write. The allowance is
// 1/64 of what the row says is left of the window (`LOCAL_SHARE_DIVISOR`), so:
// - one instance is exact: nobody else writes the row, and it never admits more than is left;
// - N instances admit at most limit × (1 + (N − 1)/64) in a window (each other instance may hold
//   at most 1/64 of the limit unwritten): 4 instances, limit × 1.047;
// - a limit below 64 has no local allowance: every admitted request writes, and is exact;
// - a spent window is refused locally until it ends (its row only grows), without a write.
// An instance that dies without closing loses its unwritten counts (at most 1/64 of the limit per
// key); a closing instance writes them. docs/security.md states the bound.
//
// rate-limiter-flexible (which this replaces) writes the row on every request; none of the
// libraries we know batch a PostgreSQL-backed limiter, so the batching is written here, around one
// SQL statement. Stored keys never hold an address in clear, nor anything an unkeyed hash would
// give back (an IPv4 address and a key id are a small space to try): they are keyed digests under
// HASH_KEY. (The per-phone limit counts the challenges table itself; see the challenge service.)
import type { StatementRunner } from "../db/database.js";
import type { Hasher } from "../shared/crypto.js";
import { AppError } from "../shared/errors.js";

export type LimitKind = "publishable_key" | "secret_key" | "admin_token" | "code_check_challenge" | "code_check_phone" | "code_check_client";

const DURATION_SECONDS: Record<LimitKind, number> = {
  publishable_key: 60,
  secret_key: 60,
  admin_token: 900,
  code_check_challenge: 60,
  code_check_phone: 60,
  code_check_client: 60,
};

const TITLES: Record<LimitKind, string> = {
  publishable_key: "Too many challenges from this client; try again later",
  secret_key: "Too many requests with this secret key; slow down",
  admin_token: "Too many wrong admin tokens from this client; try again later",
  code_check_challenge: "Too many codes typed for this challenge; try again later",
  code_check_phone: "Too many codes typed for this phone number; try again later",
  code_check_client: "Too many codes typed from this client; try again later",
};

/** Each instance may admit this fraction (1/64) of what is left of a window before it writes. */
export const LOCAL_SHARE_DIVISOR = 64;

/** How often the counts admitted locally are written (and the others' read back). */
const FLUSH_INTERVAL_MS = 1000;

export type RateLimits = {
  /** Counts one request against `subject`; throws AppError RATE_LIMITED (429, Retry-After) beyond `limit`. */
  consume(kind: LimitKind, subject: string, limit: number): Promise<void>;
  /** Counts one failure against `subject` without refusing anything (the next `refuseIfSpent` does). */
  countFailure(kind: LimitKind, subject: string, limit: number): Promise<void>;
  /** Throws AppError RATE_LIMITED (429, Retry-After) once `limit` points of the window are spent. */
  refuseIfSpent(kind: LimitKind, subject: string, limit: number): Promise<void>;
  /** Writes the counts admitted locally and not yet written (also done every second), after any write in flight. */
  flush(): Promise<void>;
  /** Stops the periodic writes after a last flush. */
  close(): Promise<void>;
};

/** A window's row: its count and when it ends (epoch ms). */
export type WindowCount = { points: number; expireMs: number };

/** Where windows are counted: one atomic statement each. */
export type RateLimitStore = {
  /** Adds `points` to the window of `key` (a new window of `durationMs` if it ended), returning the row. */
  add(key: string, points: number, nowMs: number, durationMs: number): Promise<WindowCount>;
  /** The current window of `key`, if one is running. */
  read(key: string, nowMs: number): Promise<WindowCount | undefined>;
};

const ADD_SQL = `INSERT INTO rate_limits AS r (key, points, expire) VALUES ($1, $2::int, $4::timestamptz)
ON CONFLICT (key) DO UPDATE SET
  points = CASE WHEN r.expire IS NULL OR r.expire <= $3::timestamptz THEN EXCLUDED.points ELSE r.points + EXCLUDED.points END,
  expire = CASE WHEN r.expire IS NULL OR r.expire <= $3::timestamptz THEN EXCLUDED.expire ELSE r.expire END
RETURNING r.points, (extract(epoch from r.expire) * 1000)::float8 AS expire_ms`;

const READ_SQL = `SELECT points, (extract(epoch from expire) * 1000)::float8 AS expire_ms FROM rate_limits WHERE key = $1 AND expire > $2::timestamptz`;

type Row = { points: number | string; expire_ms: number | string };
const toCount = (row: Row): WindowCount => ({ points: Number(row.points), expireMs: Number(row.expire_ms) });

/** The `rate_limits` table as a store (PostgreSQL or PGlite, through the hot-path statement runner). */
export function createRateLimitStore(statement: StatementRunner): RateLimitStore {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    async add(key, points, nowMs, durationMs) {
      const [row] = await statement<Row>("rate_limit_add", ADD_SQL, [key, points, iso(nowMs), iso(nowMs + durationMs)]);
      return toCount(row!);
    },
    async read(key, nowMs) {
      const [row] = await statement<Row>("rate_limit_read", READ_SQL, [key, iso(nowMs)]);
      return row ? toCount(row) : undefined;
    },
  };
}

/** What this instance knows of one key's window. */
type Entry = {
  limit: number;
  durationMs: number;
  windowEndMs: number;
  /** Admitted here and not yet written. */
  unwritten: number;
  /** How many more this instance may admit before it writes. */
  allowance: number;
  /** The window's count reached the limit: every further request is refused until it ends. */
  spent: boolean;
};

export function createRateLimits(
  store: RateLimitStore,
  hasher: Pick<Hasher, "keyed">,
  onLimited?: (kind: LimitKind) => void,
  options: { now?: () => number; flushIntervalMs?: number } = {},
): RateLimits {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  // The subject may contain an address: only its keyed digest (128 bits) is stored.
  const keyOf = (kind: LimitKind, subject: string) => `${kind}:${hasher.keyed("rate-limit", `${kind}|${subject}`).slice(0, 32)}`;
  const refusal = (kind: LimitKind, msBeforeNext: number) => {
    onLimited?.(kind);
    return new AppError("RATE_LIMITED", TITLES[kind], { retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)), reason: kind });
  };

  /** Writes the unwritten counts plus `extra` (this request's point) and takes what the row says as the new state. */
  async function write(key: string, entry: Entry, extra: number, at: number): Promise<WindowCount> {
    const carried = entry.unwritten;
    entry.unwritten = 0; // taken now: concurrent requests start counting anew
    let count: WindowCount;
    try {
      count = await store.add(key, carried + extra, at, entry.durationMs);
    } catch (error) {
      entry.unwritten += carried;
      throw error;
    }
    entry.windowEndMs = count.expireMs;
    entry.spent = entry.spent || count.points >= entry.limit;
    entry.allowance = Math.floor(Math.max(0, entry.limit - count.points) / LOCAL_SHARE_DIVISOR);
    return count;
  }

  async function flush(): Promise<void> {
    const at = now();
    const writes: Promise<unknown>[] = [];
    for (const [key, entry] of entries) {
      if (at >= entry.windowEndMs) {
        entries.delete(key); // counts of an ended window no longer matter
      } else if (entry.unwritten > 0) {
        writes.push(write(key, entry, 0, at).catch(() => undefined)); // kept for the next round
      }
    }
    await Promise.all(writes);
  }

  let flushing: Promise<void> | undefined;
  const timer = setInterval(() => {
    flushing ??= flush().finally(() => (flushing = undefined));
  }, options.flushIntervalMs ?? FLUSH_INTERVAL_MS);
  timer.unref();

  return {
    async consume(kind, subject, limit) {
      const key = keyOf(kind, subject);
      const at = now();
      let entry = entries.get(key);
      if (!entry || at >= entry.windowEndMs) {
        entry = { limit, durationMs: DURATION_SECONDS[kind] * 1000, windowEndMs: Infinity, unwritten: 0, allowance: 0, spent: false };
        entries.set(key, entry);
      } else if (entry.limit !== limit) {
        // The app's limit changed: decide by the row again.
        Object.assign(entry, { limit, allowance: 0, spent: false });
      }
      if (entry.spent) throw refusal(kind, entry.windowEndMs - at);
      if (entry.allowance > 0) {
        entry.allowance--;
        entry.unwritten++;
        return;
      }
      const count = await write(key, entry, 1, at);
      if (count.points > limit) throw refusal(kind, count.expireMs - at);
    },
    async countFailure(kind, subject) {
      await store.add(keyOf(kind, subject), 1, now(), DURATION_SECONDS[kind] * 1000);
    },
    async refuseIfSpent(kind, subject, limit) {
      const at = now();
      const count = await store.read(keyOf(kind, subject), at);
      if (count && count.points >= limit) throw refusal(kind, count.expireMs - at);
    },
    async flush() {
      await flushing; // a periodic write in flight lands before this returns
      await flush();
    },
    async close() {
      clearInterval(timer);
      await flushing;
      await flush();
    },
  };
}
