// The creation decision (src/challenges/creation-decision.ts), table-style: plain facts and `now` in,
// a decision out. The integration tests (rate-limits, creation-limits, attempts-and-expiry) cover the
// same rules through HTTP on a database.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { decideCreation, isPlainCreation, MAX_PENDING_PER_PHONE, PHONE_WINDOW_MS, type CreationFacts, type CreationDecision } from "../../../src/challenges/creation-decision.js";

const NOW = new Date("2026-11-22T10:00:00.000Z");
const at = (secondsFromNow: number) => new Date(NOW.getTime() + secondsFromNow * 1000);
const RULES = { phonePerHour: 10, lockoutSeconds: 900 };
const NOTHING: CreationFacts = { failure: undefined, pendingIds: [], createdInWindow: 0, oldestInWindow: undefined };
const CREATE = { kind: "create", attempts: 0, replaces: [] as string[] } satisfies CreationDecision;

describe("decideCreation", () => {
  it.each<[string, Partial<CreationFacts>, CreationDecision]>([
    ["a phone never seen", {}, CREATE],
    ["two wrong codes a minute ago: the new challenge carries them", { failure: { failures: 2, lockedUntil: null, updatedAt: at(-60) } }, { ...CREATE, attempts: 2 }],
    ["wrong codes quiet for the lock-out period: they no longer count", { failure: { failures: 4, lockedUntil: null, updatedAt: at(-900) } }, CREATE],
    ["locked for 10 more minutes", { failure: { failures: 5, lockedUntil: at(600), updatedAt: at(-300) } }, { kind: "refused", code: "PHONE_LOCKED", retryAfterSeconds: 600 }],
    ["locked for 0.4 more seconds: Retry-After rounds up", { failure: { failures: 5, lockedUntil: new Date(NOW.getTime() + 400), updatedAt: at(-900) } }, { kind: "refused", code: "PHONE_LOCKED", retryAfterSeconds: 1 }],
    ["a lock-out that ended: the count starts again", { failure: { failures: 5, lockedUntil: NOW, updatedAt: at(-900) } }, CREATE],
    ["one below the pending limit: nothing replaced", { pendingIds: ["a", "b"] }, CREATE],
    ["the pending limit reached: the oldest is replaced, never refused", { pendingIds: ["a", "b", "c"] }, { ...CREATE, replaces: ["a"] }],
    ["above the pending limit (a limit lowered since): the oldest surplus is replaced", { pendingIds: ["a", "b", "c", "d", "e"] }, { ...CREATE, replaces: ["a", "b", "c"] }],
    ["the hourly limit reached, the oldest 20 minutes ago", { createdInWindow: 10, oldestInWindow: at(-1200) }, { kind: "refused", code: "RATE_LIMITED", retryAfterSeconds: 2400 }],
    ["one below the hourly limit", { createdInWindow: 9, oldestInWindow: at(-1200) }, CREATE],
    ["locked and over the hourly limit: the lock-out is said first", { failure: { failures: 5, lockedUntil: at(60), updatedAt: NOW }, pendingIds: ["a", "b", "c"], createdInWindow: 10, oldestInWindow: at(-10) }, { kind: "refused", code: "PHONE_LOCKED", retryAfterSeconds: 60 }],
    ["over the hourly limit with pending ones: refused, nothing replaced", { pendingIds: ["a", "b", "c"], createdInWindow: 10, oldestInWindow: at(-10) }, { kind: "refused", code: "RATE_LIMITED", retryAfterSeconds: 3590 }],
  ])("%s", (_name, facts, decision) => {
    expect(decideCreation({ ...NOTHING, ...facts }, RULES, NOW)).toEqual(decision);
  });

  it("keeps at most MAX_PENDING_PER_PHONE pending per client, the new one included", () => {
    for (let n = 0; n <= 6; n++) {
      const pendingIds = Array.from({ length: n }, (_, i) => `c${i}`);
      const decision = decideCreation({ ...NOTHING, pendingIds }, RULES, NOW);
      if (decision.kind !== "create") throw new Error("refused");
      expect(n - decision.replaces.length + 1).toBe(Math.min(n + 1, MAX_PENDING_PER_PHONE));
      expect(decision.replaces).toEqual(pendingIds.slice(0, decision.replaces.length)); // the oldest ones
    }
  });

  it("applies the app's own hourly limit", () => {
    const facts = { ...NOTHING, createdInWindow: 2, oldestInWindow: at(-PHONE_WINDOW_MS / 1000 + 5) };
    expect(decideCreation(facts, { ...RULES, phonePerHour: 2 }, NOW)).toEqual({ kind: "refused", code: "RATE_LIMITED", retryAfterSeconds: 5 });
    expect(decideCreation(facts, { ...RULES, phonePerHour: 3 }, NOW)).toEqual(CREATE);
  });
});

// The one-statement creation (the database function reverse_otp_create_challenge) inserts a challenge
// with 0 attempts and replaces nothing exactly when isPlainCreation holds: that must be what
// decideCreation would have decided. test/integration/creation-one-statement.test.ts checks that the
// function's test is this one.
describe("isPlainCreation", () => {
  const date = fc.integer({ min: -7200, max: 7200 }).map(at);
  const facts: fc.Arbitrary<CreationFacts> = fc.record({
    failure: fc.option(
      fc.record({ failures: fc.integer({ min: 0, max: 10 }), lockedUntil: fc.option(date, { nil: null }), updatedAt: date }),
      { nil: undefined },
    ),
    pendingIds: fc.array(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 6 }),
    createdInWindow: fc.integer({ min: 0, max: 20 }),
    oldestInWindow: fc.option(date, { nil: undefined }),
  });
  const rules = fc.record({ phonePerHour: fc.integer({ min: 1, max: 15 }), lockoutSeconds: fc.integer({ min: 1, max: 7200 }) });

  it("when it holds, decideCreation creates with no attempts carried and nothing replaced", () => {
    fc.assert(
      fc.property(facts, rules, (f, r) => {
        if (isPlainCreation(f, r)) expect(decideCreation(f, r, NOW)).toEqual(CREATE);
      }),
      { numRuns: 5_000 },
    );
  });

  it.each<[string, Partial<CreationFacts>, boolean]>([
    ["a phone never seen", {}, true],
    ["two pending: the new one joins them", { pendingIds: ["a", "b"] }, true],
    ["three pending: one is replaced", { pendingIds: ["a", "b", "c"] }, false],
    ["one below the hourly limit", { createdInWindow: 9 }, true],
    ["the hourly limit reached", { createdInWindow: 10 }, false],
    ["wrong codes that no longer count: not plain (the two-round-trip path decides)", { failure: { failures: 4, lockedUntil: null, updatedAt: at(-900) } }, false],
  ])("%s: %s", (_name, f, plain) => {
    expect(isPlainCreation({ ...NOTHING, ...f }, RULES)).toBe(plain);
  });
});
