// What an SMS that verified nothing means (src/challenges/verification.ts, decideUnmatched), table-style.
import { describe, expect, it } from "@jest/globals";
import type { ChallengeStatus } from "../../../src/challenges/challenge-view.js";
import { decideUnmatched } from "../../../src/challenges/verification.js";

describe("decideUnmatched", () => {
  it.each<[ChallengeStatus | undefined, boolean, string]>([
    ["expired", true, "expired"],
    ["expired", false, "expired"],
    ["verified", true, "duplicate"],
    ["verified", false, "duplicate"],
    ["cancelled", true, "wrong_code"],
    ["failed", true, "wrong_code"],
    ["cancelled", false, "no_pending_challenge"],
    [undefined, true, "wrong_code"],
    [undefined, false, "no_pending_challenge"],
  ])("the code's challenge %s, pending challenges: %s → %s", (codeMatchStatus, hasPending, outcome) => {
    expect(decideUnmatched({ codeMatchStatus, hasPending })).toBe(outcome);
  });
});
