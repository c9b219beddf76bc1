// Rate limits of API keys, stored in PostgreSQL (rate-limiter-flexible's Prisma store), so they
// hold across restarts and instances. One limiter per (kind, points), fixed one-minute windows.
// Stored keys never hold an address in clear. (The per-phone limit counts the challenges table
// itself; see the challenge service.)
import { RateLimiterPrisma, RateLimiterRes } from "rate-limiter-flexible";
import type { PrismaClient } from "../generated/prisma/client.js";
import { sha256Hex } from "../shared/crypto.js";
import { AppError } from "../shared/errors.js";

export type LimitKind = "publishable_key" | "secret_key";

const DURATION_SECONDS: Record<LimitKind, number> = { publishable_key: 60, secret_key: 60 };

const TITLES: Record<LimitKind, string> = {
  publishable_key: "Too many challenges from this client; try again later",
  secret_key: "Too many requests with this secret key; slow down",
};

export type RateLimits = {
  /** Counts one request against `subject`; throws AppError RATE_LIMITED (429, Retry-After) beyond `limit`. */
  consume(kind: LimitKind, subject: string, limit: number): Promise<void>;
};

export function createRateLimits(prisma: PrismaClient, onLimited?: (kind: LimitKind) => void): RateLimits {
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
  return {
    async consume(kind, subject, limit) {
      try {
        // The subject may contain an address: only its digest becomes part of the stored key.
        await limiterFor(kind, limit).consume(sha256Hex(subject).slice(0, 32));
      } catch (error) {
        if (error instanceof RateLimiterRes) {
          onLimited?.(kind);
          throw new AppError("RATE_LIMITED", TITLES[kind], {
            retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)),
            reason: kind,
          });
        }
        throw error;
      }
    },
  };
}
