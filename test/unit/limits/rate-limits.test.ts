// The batched limiter against a store shared by several instances (one Map, atomic like the row):
// exact for one instance and for limits below 64, within limit × (1 + (N − 1)/64) for N instances,
// and writing far less than once per request.
import { afterEach, describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import { createRateLimits, LOCAL_SHARE_DIVISOR, type RateLimits, type RateLimitStore, type WindowCount } from "../../../src/limits/rate-limit-repository.js";
import { AppError } from "../../../src/shared/errors.js";

function sharedStore() {
  const rows = new Map<string, WindowCount>();
  let writes = 0;
  const store: RateLimitStore = {
    async add(key, points, nowMs, durationMs) {
      writes++;
      await Promise.resolve(); // answered later, like a database
      const row = rows.get(key);
      const next = !row || row.expireMs <= nowMs ? { points, expireMs: nowMs + durationMs } : { points: row.points + points, expireMs: row.expireMs };
      rows.set(key, next);
      return { ...next };
    },
    async read(key, nowMs) {
      const row = rows.get(key);
      return row && row.expireMs > nowMs ? { ...row } : undefined;
    },
  };
  return { store, rows, writes: () => writes };
}

const hasher = { keyed: (_purpose: string, text: string) => text.padEnd(32, "x") };
let opened: RateLimits[] = [];
afterEach(async () => {
  await Promise.all(opened.map((l) => l.close()));
  opened = [];
});
const open = (store: RateLimitStore, now: () => number) => {
  const limiter = createRateLimits(store, hasher, undefined, { now, flushIntervalMs: 3_600_000 });
  opened.push(limiter);
  return limiter;
};
const admitted = async (limiter: RateLimits, limit: number) => {
  try {
    await limiter.consume("secret_key", "key_1", limit);
    return true;
  } catch (error) {
    if (error instanceof AppError && error.code === "RATE_LIMITED") return false;
    throw error;
  }
};

describe("the batched rate limiter", () => {
  test("one instance admits exactly the limit, then refuses with the window's remaining time", async () => {
    const { store, writes } = sharedStore();
    let t = 1_000_000;
    const limiter = open(store, () => t);
    for (const limit of [1, 8, 63, 64, 1000]) {
      t += 60_000;
      const results: boolean[] = [];
      for (let i = 0; i < limit + 1; i++) results.push(await admitted(limiter, limit));
      expect(results.filter(Boolean)).toHaveLength(limit);
      expect(results.at(-1)).toBe(false);
    }
    // 1000 requests of a 1000-limit cost about 64·ln(1000) writes, not 1000.
    expect(writes()).toBeLessThan(1 + 8 + 63 + 64 + 700);
    t += 1000;
    await expect(limiter.consume("secret_key", "key_1", 1000)).rejects.toMatchObject({ code: "RATE_LIMITED", extra: { retryAfterSeconds: 59 } });
  });

  test("a new window starts when the old one ends", async () => {
    const { store } = sharedStore();
    let t = 0;
    const limiter = open(store, () => t);
    expect(await admitted(limiter, 1)).toBe(true);
    expect(await admitted(limiter, 1)).toBe(false);
    t += 60_000;
    expect(await admitted(limiter, 1)).toBe(true);
  });

  test("limits below 64 are exact across instances: limit − 1 on one, the limit on another, limit + 1 refused on both", async () => {
    const { store } = sharedStore();
    const a = open(store, () => 0);
    const b = open(store, () => 0);
    for (let i = 0; i < 7; i++) expect(await admitted(a, 8)).toBe(true);
    expect(await admitted(b, 8)).toBe(true);
    expect(await admitted(b, 8)).toBe(false);
    expect(await admitted(a, 8)).toBe(false);
  });

  test("N instances, requests interleaved at random, admit at most limit × (1 + (N − 1)/64) and, once flushed, no fewer than the limit", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.nat(), { minLength: 200, maxLength: 6000 }),
        fc.array(fc.boolean(), { maxLength: 6000 }),
        async (n, limit, picks, flushes) => {
          const { store } = sharedStore();
          const instances = Array.from({ length: n }, () => open(store, () => 0));
          let count = 0;
          for (const [i, pick] of picks.entries()) {
            const instance = instances[pick % n]!;
            if (await admitted(instance, limit)) count++;
            if (flushes[i]) await instance.flush();
          }
          expect(count).toBeLessThanOrEqual(Math.floor(limit * (1 + (n - 1) / LOCAL_SHARE_DIVISOR)));
          if (picks.length >= limit * 2) expect(count).toBeGreaterThanOrEqual(Math.min(limit, picks.length));
          await Promise.all(instances.map((l) => l.close()));
          opened = [];
        },
      ),
      { numRuns: 60 },
    );
  });

  test("a closing instance writes its unwritten counts, so a restarted one goes on from them", async () => {
    const { store, rows } = sharedStore();
    const first = open(store, () => 0);
    for (let i = 0; i < 500; i++) expect(await admitted(first, 1000)).toBe(true);
    expect([...rows.values()][0]!.points).toBeLessThan(500);
    await first.close();
    expect([...rows.values()][0]!.points).toBe(500);
    const second = open(store, () => 0);
    let more = 0;
    while (await admitted(second, 1000)) more++;
    expect(more).toBe(500);
  });
});
