// The creation decision (src/challenges/creation-decision.ts), table-style: plain facts and `now` in,
// a decision out. The integration tests (rate-limits, attempts-and-expiry) cover the same rules
// through HTTP on a database.
import { describe, expect, it } from "@jest/globals";
import { decideCreation, MAX_PENDING_PER_PHONE, PHONE_WINDOW_MS, type CreationFacts, type CreationDecision } from "../../../src/challenges/creation-decision.js";

const NOW = new Date("2026-11-22T10:00:00.000Z");
const at = (secondsFromNow: number) => new Date(NOW.getTime() + secondsFromNow * 1000);
const RULES = { phonePerHour: 10, lockoutSeconds: 900, codeTtlSeconds: 300 };
const NOTHING: CreationFacts = { failure: undefined, pendingCount: 0, createdInWindow: 0, oldestInWindow: undefined };

describe("decideCreation", () => {
  it.each<[string, Partial<CreationFacts>, CreationDecision]>([
    ["a phone never seen", {}, { kind: "create", attempts: 0 }],
    ["two wrong codes a minute ago: the new challenge carries them", { failure: { failures: 2, lockedUntil: null, updatedAt: at(-60) } }, { kind: "create", attempts: 2 }],
    ["wrong codes quiet for the lock-out period: they no longer count", { failure: { failures: 4, lockedUntil: null, updatedAt: at(-900) } }, { kind: "create", attempts: 0 }],
    ["locked for 10 more minutes", { failure: { failures: 5, lockedUntil: at(600), updatedAt: at(-300) } }, { kind: "refused", code: "PHONE_LOCKED", retryAfterSeconds: 600 }],
    ["locked for 0.4 more seconds: Retry-After rounds up", { failure: { failures: 5, lockedUntil: new Date(NOW.getTime() + 400), updatedAt: at(-900) } }, { kind: "refused", code: "PHONE_LOCKED", retryAfterSeconds: 1 }],
    ["a lock-out that ended: the count starts again", { failure: { failures: 5, lockedUntil: NOW, updatedAt: at(-900) } }, { kind: "create", attempts: 0 }],
    ["the pending limit reached", { pendingCount: MAX_PENDING_PER_PHONE }, { kind: "refused", code: "TOO_MANY_PENDING", retryAfterSeconds: 300 }],
    ["one below the pending limit", { pendingCount: MAX_PENDING_PER_PHONE - 1 }, { kind: "create", attempts: 0 }],
    ["the hourly limit reached, the oldest 20 minutes ago", { createdInWindow: 10, oldestInWindow: at(-1200) }, { kind: "refused", code: "RATE_LIMITED", retryAfterSeconds: 2400 }],
    ["one below the hourly limit", { createdInWindow: 9, oldestInWindow: at(-1200) }, { kind: "create", attempts: 0 }],
    ["locked and over every limit: the lock-out is said first", { failure: { failures: 5, lockedUntil: at(60), updatedAt: NOW }, pendingCount: 3, createdInWindow: 10, oldestInWindow: at(-10) }, { kind: "refused", code: "PHONE_LOCKED", retryAfterSeconds: 60 }],
    ["over both limits: the pending limit is said first", { pendingCount: 3, createdInWindow: 10, oldestInWindow: at(-10) }, { kind: "refused", code: "TOO_MANY_PENDING", retryAfterSeconds: 300 }],
  ])("%s", (_name, facts, decision) => {
    expect(decideCreation({ ...NOTHING, ...facts }, RULES, NOW)).toEqual(decision);
  });

  it("applies the app's own hourly limit", () => {
    const facts = { ...NOTHING, createdInWindow: 2, oldestInWindow: at(-PHONE_WINDOW_MS / 1000 + 5) };
    expect(decideCreation(facts, { ...RULES, phonePerHour: 2 }, NOW)).toEqual({ kind: "refused", code: "RATE_LIMITED", retryAfterSeconds: 5 });
    expect(decideCreation(facts, { ...RULES, phonePerHour: 3 }, NOW)).toEqual({ kind: "create", attempts: 0 });
  });
});
