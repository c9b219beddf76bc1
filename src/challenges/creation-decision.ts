// Whether a new challenge may be created for a phone, and with which attempt count. Pure: the facts
// are read in the creating transaction, under the phone's lock (challenge-sql.ts, LOCK_KEYS.phone),
// and this decides on them and `now` alone; the service applies the decision.
import { countedFailures, isLocked, type FailureState } from "./attempts.js";

/** At most this many pending challenges per phone and app (PRODUCT.md: rate limits). */
export const MAX_PENDING_PER_PHONE = 3;
/** The window of the per-phone creation limit. */
export const PHONE_WINDOW_MS = 3600_000;

/** What the creating transaction read about this (app, phone), stale pending challenges already expired. */
export type CreationFacts = {
  failure: FailureState | undefined;
  pendingCount: number;
  /** Challenges of this app and phone created in the window ending now, and the oldest of them. */
  createdInWindow: number;
  oldestInWindow: Date | undefined;
};

export type CreationRules = {
  /** Challenges per phone and app per window (the app's override, else the configured default). */
  phonePerHour: number;
  lockoutSeconds: number;
  /** The app's code lifetime: when a pending challenge will have made room at the latest. */
  codeTtlSeconds: number;
};

export type CreationRefusal =
  | { kind: "refused"; code: "PHONE_LOCKED"; retryAfterSeconds: number }
  | { kind: "refused"; code: "TOO_MANY_PENDING"; retryAfterSeconds: number }
  | { kind: "refused"; code: "RATE_LIMITED"; retryAfterSeconds: number };

/** `attempts`: the phone's wrong codes that still count, carried by the new challenge (NIST: a new secret does not reset them). */
export type CreationDecision = { kind: "create"; attempts: number } | CreationRefusal;

/** The start of the per-phone window that ends at `now`. */
export const phoneWindowStart = (now: Date) => new Date(now.getTime() - PHONE_WINDOW_MS);

/**
 * In this order: a locked phone is refused until its lock-out ends; a phone with
 * MAX_PENDING_PER_PHONE pending challenges is refused (one will have expired within the code
 * lifetime); a phone that reached its hourly limit is refused until the oldest challenge of the
 * window leaves it. The limit counts the challenges themselves (an idempotent replay creates
 * nothing and so counts nothing).
 */
export function decideCreation(facts: CreationFacts, rules: CreationRules, now: Date): CreationDecision {
  const seconds = (ms: number) => Math.ceil(ms / 1000);
  if (isLocked(facts.failure, now)) {
    return { kind: "refused", code: "PHONE_LOCKED", retryAfterSeconds: seconds((facts.failure?.lockedUntil?.getTime() ?? 0) - now.getTime()) };
  }
  if (facts.pendingCount >= MAX_PENDING_PER_PHONE) {
    return { kind: "refused", code: "TOO_MANY_PENDING", retryAfterSeconds: rules.codeTtlSeconds };
  }
  if (facts.createdInWindow >= rules.phonePerHour) {
    const freeAt = (facts.oldestInWindow?.getTime() ?? now.getTime()) + PHONE_WINDOW_MS;
    return { kind: "refused", code: "RATE_LIMITED", retryAfterSeconds: seconds(freeAt - now.getTime()) };
  }
  return { kind: "create", attempts: countedFailures(facts.failure, now, rules.lockoutSeconds) };
}
