// Verification of challenges: the one module that decides what verifies a challenge and what a
// wrong code does. Today by SMS (the reverse direction), called by the inbound gateway
// (src/inbound/inbound-service.ts) for a message from a valid sender to a known number.
//
// What may change a challenge, and where (every write goes through challenge-repository.ts; who is
// told of a change is in challenge-notices.ts):
//   pending  → verified   here: by SMS (both paths below); by a typed code next (see the end)
//   pending  → failed     here: the wrong code that reaches the phone's attempt limit (countWrongCode)
//   pending  → expired    here (the right code, too late); challenge-service.ts (creation expires
//                         the phone's stale ones; the sweeper); and at read time (effectiveStatus)
//   pending  → cancelled  challenge-service.ts (cancel)
//   verified → consumed   challenge-service.ts (consume)
//
// Verification by SMS has two paths with one rule: the SMS's code is `findSmsCode` (sms-code.ts),
// at most one challenge is verified, and the race gate is one conditional UPDATE (challenge-sql.ts).
//   - verifySmsInOneStatement: the common case, when the gateway has the number's owner cached —
//     one statement that verifies, records the message and clears the phone's count, or does
//     nothing at all (no match, stale owner, duplicate message id);
//   - verifySmsStepByStep: every outcome, in one transaction that first records (claims) the
//     message through the gateway's log, so a duplicate delivery stops before it changes anything.
import type { NumberOwner } from "../apps/app-directory.js";
import type { Transaction } from "../db/database.js";
import type { InboundRow } from "../inbound/inbound-repository.js";
import type { InboundOutcome } from "../providers/provider.js";
import type { Hasher } from "../shared/crypto.js";
import { afterWrongCode, type FailureState } from "./attempts.js";
import type { ChallengeForCode } from "./challenge-repository.js";
import { readTypedCode } from "./channels.js";
import type { CodeAlphabet } from "./code-policy.js";
import { safeEqual } from "../shared/crypto.js";
import type { ChallengeRepository, OneStatementResult, VerificationSteps } from "./challenge-repository.js";
import { effectiveStatus, type ChallengeStatus } from "./challenge-view.js";
import { findSmsCode } from "./sms-code.js";

/** An SMS from a valid sender (E.164) to one of the owner's numbers. */
export type SmsToVerify = { owner: NumberOwner; senderE164: string; text: string; now: Date };

/**
 * How the gateway records the message inside the verification's transaction: claimed first (false
 * when the message id is already stored: a duplicate delivery), its outcome set at the end.
 */
export type MessageLog = (tx: Transaction) => {
  claim(outcome: InboundOutcome): Promise<boolean>;
  setOutcome(outcome: InboundOutcome, challengeId: string | null): Promise<void>;
};

export type UnmatchedFacts = {
  /** Effective status (expiry applied) of the newest challenge of this phone with the SMS's code. */
  codeMatchStatus: ChallengeStatus | undefined;
  /** Whether the phone has pending, unexpired challenges at this app. */
  hasPending: boolean;
};

/** What an SMS that verified nothing means. Pure: plain data in, outcome out. */
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
  // A code the phone never had (or one of a cancelled/failed challenge), or no code at all, while it
  // has pending challenges: a wrong code, counted. Without pending challenges there is nothing to guess at.
  return facts.hasPending ? "wrong_code" : "no_pending_challenge";
}

/**
 * A wrong code from this phone, counted on the phone (not on a challenge: NIST SP 800-63B, a new
 * challenge must not reset the count; see attempts.ts) under the phone's lock, and recorded on its
 * pending challenges, which fail at the limit. Every way of verifying counts wrong codes here.
 */
async function countWrongCode(
  steps: VerificationSteps,
  p: { appId: string; phoneHash: string; phoneHashes: string[]; policy: { maxAttempts: number; lockoutSeconds: number }; now: Date; locked?: FailureState },
  /** The phone's state as locked in this transaction, when the caller already holds it. */
  locked?: FailureState,
): Promise<FailureState> {
  const state = p.locked ?? (await steps.lockFailureState(p.appId, p.phoneHash, p.now));
  const next = afterWrongCode(state, p.now, p.policy);
  await steps.saveFailureState(p.appId, p.phoneHash, next);
  await steps.applyFailures({ appId: p.appId, phoneHashes: p.phoneHashes, failures: next.failures, fail: next.lockedNow, now: p.now });
  return next;
}

/**
 * Whether a typed code is the challenge's: its HMAC under every HASH_KEY compared with the stored
 * digest by crypto.timingSafeEqual, every key's digest compared (no early exit), so the time taken
 * says nothing of how close the guess was (the digests of close codes share nothing anyway).
 */
export function typedCodeMatches(hasher: Pick<Hasher, "codeAll">, typed: string, alphabet: CodeAlphabet, codeHash: string): boolean {
  let matches = false;
  for (const digest of hasher.codeAll(readTypedCode(typed, alphabet))) {
    matches = safeEqual(digest, codeHash) || matches;
  }
  return matches;
}

export function createVerification(deps: { challenges: ChallengeRepository; hasher: Hasher }) {
  const { challenges, hasher } = deps;

  /** The HMACs (one per HASH_KEY) of the SMS's code, empty when it carries none. */
  const codeHashesOf = (sms: SmsToVerify): string[] => {
    const { policy, appName } = sms.owner;
    const code = findSmsCode(sms.text, { length: policy.codeLength, alphabet: policy.codeAlphabet, appName });
    return code === undefined ? [] : hasher.codeAll(code);
  };

  return {
    /**
     * The one-statement path, for an owner the gateway had cached: verifies and records `message`
     * with outcome `verified`, or does nothing and says why (`no_match`: the step-by-step path
     * decides; `stale_owner`: the gateway drops its cached owner; `duplicate`: the message id is
     * already stored).
     */
    async verifySmsInOneStatement(sms: SmsToVerify, message: InboundRow): Promise<OneStatementResult["kind"]> {
      const codeHashes = codeHashesOf(sms);
      if (codeHashes.length === 0) return "no_match";
      const { policy } = sms.owner;
      const result = await challenges.verifyInOneStatement({
        ...message,
        appId: sms.owner.appId,
        now: sms.now,
        codeLength: policy.codeLength,
        codeAlphabet: policy.codeAlphabet,
        phoneHashes: hasher.phoneAll(sms.senderE164),
        codeHashes,
      });
      return result.kind;
    },

    /** The step-by-step path: decides every outcome, in one transaction with the message's record. */
    async verifySmsStepByStep(sms: SmsToVerify, log: MessageLog): Promise<InboundOutcome> {
      const { owner, now } = sms;
      const phoneHashes = hasher.phoneAll(sms.senderE164);
      const codeHashes = codeHashesOf(sms);
      const q = { appId: owner.appId, phoneHashes, codeHashes, now };

      return challenges.verificationTransaction(async (steps, tx) => {
        const record = log(tx);
        // Claim first: a duplicate delivery stops here before it can count or change anything.
        if (!(await record.claim("no_pending_challenge"))) return "duplicate";

        const verifiedId = codeHashes.length > 0 ? await steps.verifyOnePending(q) : undefined;
        if (verifiedId) {
          await steps.clearFailures(owner.appId, phoneHashes);
          await record.setOutcome("verified", verifiedId);
          return "verified";
        }

        const match = codeHashes.length > 0 ? await steps.findCodeMatch(q) : undefined;
        const outcome = decideUnmatched({
          codeMatchStatus: match ? effectiveStatus(match, now) : undefined,
          hasPending: await steps.hasPending(q),
        });
        if (outcome === "expired" && match) await steps.expireIfPending(match.id, now);
        if (outcome === "wrong_code") {
          await countWrongCode(steps, { appId: owner.appId, phoneHash: hasher.phone(sms.senderE164), phoneHashes, policy: owner.policy, now });
        }
        await record.setOutcome(outcome, match?.id ?? null);
        return outcome;
      });
    },

    /**
     * Verification by a typed code (the classic direction: POST /v1/challenges/:id/check), for a
     * challenge of channel `sms` or `email`. The typed code's HMAC under every HASH_KEY is compared
     * with the stored one in constant time (no early exit, timingSafeEqual); then, in one
     * transaction holding the phone's lock: the right code verifies through the race gate (a
     * conditional UPDATE of this pending, unexpired row) and clears the phone's count; a wrong one
     * is counted by countWrongCode — the same per-phone count and lock-out as wrong codes by SMS.
     */
    async verifyTypedCode(
      c: Pick<ChallengeForCode, "id" | "appId" | "phoneHash" | "codeHash">,
      typed: string,
      policy: { codeAlphabet: CodeAlphabet; maxAttempts: number; lockoutSeconds: number },
      now: Date,
    ): Promise<{ kind: "verified" } | { kind: "wrong_code"; attemptsRemaining: number } | { kind: "not_pending" }> {
      const matches = typedCodeMatches(hasher, typed, policy.codeAlphabet, c.codeHash);
      const phoneHashes = [c.phoneHash];
      return challenges.verificationTransaction(async (steps) => {
        const locked = await steps.lockFailureState(c.appId, c.phoneHash, now);
        if (matches) {
          if (!(await steps.verifyTypedCode({ id: c.id, codeHash: c.codeHash, now }))) return { kind: "not_pending" as const };
          await steps.clearFailures(c.appId, phoneHashes);
          return { kind: "verified" as const };
        }
        // A wrong code counts only against a challenge still open to it (not one just verified or expired).
        if (!(await steps.isPendingOutbound(c.id, now))) return { kind: "not_pending" as const };
        const next = await countWrongCode(steps, { appId: c.appId, phoneHash: c.phoneHash, phoneHashes, policy, now, locked });
        return { kind: "wrong_code" as const, attemptsRemaining: Math.max(0, policy.maxAttempts - next.failures) };
      });
    },
  };
}

export type Verification = ReturnType<typeof createVerification>;
