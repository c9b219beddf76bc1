// Wrong-code accounting per (app, phone). Pure rules; the inbound and challenge services apply them.
//
// NIST SP 800-63B: creating a new secret must not reset the failure count. So the count lives on the
// phone, not on a challenge. It resets on a successful verification, and it fades when the phone has
// been quiet (or locked) for the lock-out period, so that a few typos spread over days never add up
// to a lock-out, and a lock-out ends by itself.

export type FailureState = { failures: number; lockedUntil: Date | null; updatedAt: Date };

/** Failures that still count at `now`. */
export function countedFailures(state: FailureState | undefined, now: Date, lockoutSeconds: number): number {
  if (!state) return 0;
  if (state.lockedUntil) return state.lockedUntil.getTime() > now.getTime() ? state.failures : 0;
  return state.updatedAt.getTime() + lockoutSeconds * 1000 > now.getTime() ? state.failures : 0;
}

export function isLocked(state: FailureState | undefined, now: Date): boolean {
  return !!state?.lockedUntil && state.lockedUntil.getTime() > now.getTime();
}

/** The state after one more wrong code; `lockedNow` when this failure reaches the limit. */
export function afterWrongCode(
  state: FailureState | undefined,
  now: Date,
  policy: { maxAttempts: number; lockoutSeconds: number },
): FailureState & { lockedNow: boolean } {
  const failures = countedFailures(state, now, policy.lockoutSeconds) + 1;
  const lockedNow = failures >= policy.maxAttempts;
  return {
    failures,
    lockedUntil: lockedNow ? new Date(now.getTime() + policy.lockoutSeconds * 1000) : null,
    updatedAt: now,
    lockedNow,
  };
}
