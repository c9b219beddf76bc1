// Whether a new challenge may be created for a phone, with which attempt count, and which older
// challenges it replaces. Pure: the facts are read in the creating transaction, under the phone's
// lock (challenge-sql.ts, LOCK_KEYS.phone), and this decides on them and `now` alone; the
// repository applies the decision in the same transaction.
//
// The limits policy (docs/security.md, "Per-phone limits"): the lock-out after wrong codes belongs
// to the phone (at one app), whoever asks, because a guesser could otherwise move to another client;
// every other limit belongs to the phone AND the client that asks (one API key, and for a
// publishable key one IPv4 address or IPv6 /64), so that one client can neither use up another's
// allowance nor learn anything about it from the answers.
import { countedFailures, isLocked, type FailureState } from "./attempts.js";

/** At most this many pending challenges per phone, app and client; a newer one replaces the oldest. */
export const MAX_PENDING_PER_PHONE = 3;
/** The window of the per-phone creation limit. */
export const PHONE_WINDOW_MS = 3600_000;

/** What the creating transaction read about this (app, phone), stale pending challenges already expired. */
export type CreationFacts = {
  /** The phone's wrong-code count at this app (all clients: the lock-out protects against guessing). */
  failure: FailureState | undefined;
  /** This client's pending challenges of this phone, oldest first. */
  pendingIds: readonly string[];
  /** Challenges of this app, phone and client created in the window ending now, and the oldest of them. */
  createdInWindow: number;
  oldestInWindow: Date | undefined;
};

export type CreationRules = {
  /** Challenges per phone, app and client per window (the app's override, else the configured default). */
  phonePerHour: number;
  lockoutSeconds: number;
};

export type CreationRefusal =
  | { kind: "refused"; code: "PHONE_LOCKED"; retryAfterSeconds: number }
  | { kind: "refused"; code: "RATE_LIMITED"; retryAfterSeconds: number };

/**
 * `attempts`: the phone's wrong codes that still count, carried by the new challenge (NIST: a new
 * secret does not reset them). `replaces`: this client's older pending challenges of the phone that
 * the new one ends (they expire now), so that it keeps at most MAX_PENDING_PER_PHONE.
 */
export type CreationDecision = { kind: "create"; attempts: number; replaces: readonly string[] } | CreationRefusal;

/** The start of the per-phone window that ends at `now`. */
export const phoneWindowStart = (now: Date) => new Date(now.getTime() - PHONE_WINDOW_MS);

/**
 * In this order: a locked phone is refused until its lock-out ends (whoever asks); a client that
 * reached its hourly limit for the phone is refused until the oldest of its challenges of the window
 * leaves it; otherwise the challenge is created, replacing the client's oldest pending challenges
 * of the phone beyond MAX_PENDING_PER_PHONE − 1. The limit counts the challenges themselves (an
 * idempotent replay creates nothing and so counts nothing).
 */
export function decideCreation(facts: CreationFacts, rules: CreationRules, now: Date): CreationDecision {
  const seconds = (ms: number) => Math.ceil(ms / 1000);
  if (isLocked(facts.failure, now)) {
    return { kind: "refused", code: "PHONE_LOCKED", retryAfterSeconds: seconds((facts.failure?.lockedUntil?.getTime() ?? 0) - now.getTime()) };
  }
  if (facts.createdInWindow >= rules.phonePerHour) {
    const freeAt = (facts.oldestInWindow?.getTime() ?? now.getTime()) + PHONE_WINDOW_MS;
    return { kind: "refused", code: "RATE_LIMITED", retryAfterSeconds: seconds(freeAt - now.getTime()) };
  }
  const surplus = Math.max(0, facts.pendingIds.length - (MAX_PENDING_PER_PHONE - 1));
  return {
    kind: "create",
    attempts: countedFailures(facts.failure, now, rules.lockoutSeconds),
    replaces: facts.pendingIds.slice(0, surplus),
  };
}

/**
 * Whether the decision on these facts is plain: "create, with no attempts carried and nothing
 * replaced", whatever the lock-out period — the phone has no wrong-code row at this app, the client
 * is under its limit for the phone, and it has at most MAX_PENDING_PER_PHONE − 1 pending challenges
 * of it. Most creations are plain (a first code, or a second one while the first is pending), and a
 * plain creation needs nothing decided between reading the facts and inserting: the database
 * function `reverse_otp_create_challenge` (challenge-sql.ts, CREATE_PLAIN_SQL) tests exactly this
 * and inserts in the same statement. When it holds, decideCreation agrees (test/unit/challenges/creation-decision.test.ts).
 */
export function isPlainCreation(facts: CreationFacts, rules: Pick<CreationRules, "phonePerHour">): boolean {
  return facts.failure === undefined && facts.createdInWindow < rules.phonePerHour && facts.pendingIds.length <= MAX_PENDING_PER_PHONE - 1;
}
