// Rate limits of API keys, stored in PostgreSQL (rate-limiter-flexible's Prisma store), so they
// hold across restarts and instances. One limiter per (kind, points), fixed one-minute windows.
// Stored keys never hold an address in clear, nor anything an unkeyed hash would give back (an
// IPv4 address and a key id are a small space to try): they are keyed digests under HASH_KEY.
// (The per-phone limit counts the challenges table itself; see the challenge service.)
import { RateLimiterPrisma, RateLimiterRes } from "rate-limiter-flexible";
import type { PrismaClient } from "../generated/prisma/client.js";
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

export type RateLimits = {
  /** Counts one request against `subject`; throws AppError RATE_LIMITED (429, Retry-After) beyond `limit`. */
  consume(kind: LimitKind, subject: string, limit: number): Promise<void>;
  /** Counts one failure against `subject` without refusing anything (the next `refuseIfSpent` does). */
  countFailure(kind: LimitKind, subject: string, limit: number): Promise<void>;
  /** Throws AppError RATE_LIMITED (429, Retry-After) once `limit` points of the window are spent. */
  refuseIfSpent(kind: LimitKind, subject: string, limit: number): Promise<void>;
};

export function createRateLimits(
  prisma: PrismaClient,
  hasher: Pick<Hasher, "keyed">,
  onLimited?: (kind: LimitKind) => void,
): RateLimits {
  const limiters = new Map<string, RateLimiterPrisma>();
  const limiterFor = (kind: LimitKind, points: number) => {
    const id = `${kind}:${points}`;
    let limiter = limiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterPrisma({
        storeClient: prisma,
        tableName: "rateLimit",
        keyPrefix: kind,
        points,
        duration: DURATION_SECONDS[kind],
        // Expired rows are purged by the retention job, not by a timer per limiter.
        clearExpiredByTimeout: false,
      });
      limiters.set(id, limiter);
    }
    return limiter;
  };
  // The subject may contain an address: only its keyed digest (128 bits) is stored.
  const keyOf = (kind: LimitKind, subject: string) => hasher.keyed("rate-limit", `${kind}|${subject}`).slice(0, 32);
  const refusal = (kind: LimitKind, msBeforeNext: number) => {
    onLimited?.(kind);
    return new AppError("RATE_LIMITED", TITLES[kind], { retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)), reason: kind });
  };
  return {
    async consume(kind, subject, limit) {
      try {
        await limiterFor(kind, limit).consume(keyOf(kind, subject));
      } catch (error) {
        if (error instanceof RateLimiterRes) throw refusal(kind, error.msBeforeNext);
        throw error;
      }
    },
    async countFailure(kind, subject, limit) {
      await limiterFor(kind, limit).penalty(keyOf(kind, subject), 1);
    },
    async refuseIfSpent(kind, subject, limit) {
      const state = await limiterFor(kind, limit).get(keyOf(kind, subject));
      if (state && state.consumedPoints >= limit) throw refusal(kind, state.msBeforeNext);
    },
  };
}
