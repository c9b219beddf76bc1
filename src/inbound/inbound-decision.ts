// What an inbound SMS that verified nothing means. Pure: plain data in, outcome out.
import type { ChallengeStatus } from "../challenges/challenge-view.js";
import type { InboundOutcome } from "../providers/provider.js";

export type UnmatchedFacts = {
  /** Effective status (expiry applied) of the newest challenge of this phone whose code the text holds. */
  codeMatchStatus: ChallengeStatus | undefined;
  /** Whether the phone has pending, unexpired challenges at this app. */
  hasPending: boolean;
};

export function decideUnmatched(facts: UnmatchedFacts): InboundOutcome {
  switch (facts.codeMatchStatus) {
    // The right code, too late: not a guess, so it is not counted against the phone.
    case "expired":
      return "expired";
    // The code of a challenge already verified: a second SMS with the same code changes nothing.
    case "verified":
      return "duplicate";
    default:
      break;
  }
  // A code the phone never had (or one of a cancelled/failed challenge) while it has pending ones:
  // a wrong code, counted. Without pending challenges there is nothing to guess at.
  return facts.hasPending ? "wrong_code" : "no_pending_challenge";
}

/** Reported line types that cannot prove possession of a personal phone. */
const REFUSED_LINE_TYPES = new Set(["voip", "landline", "wireline", "fixed", "fixed_line", "fixed-line", "toll_free", "premium", "pager"]);

export function isRefusedLineType(lineType: string | undefined): boolean {
  return lineType !== undefined && REFUSED_LINE_TYPES.has(lineType.trim().toLowerCase().replace(/\s+/g, "_"));
}
