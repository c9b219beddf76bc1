// When the outbox tries a message again. Pure: attempts, `now`, the deadline and the provider's
// Retry-After in; a time, or "give up" (the delivery becomes `failed`), out.

/**
 * Waits after the 1st, 2nd, … retryable failure, in seconds, then every 60 s until the deadline.
 * Short at first: a code is useful for minutes, and most provider hiccups (a 503, a timeout,
 * throttling) pass within seconds.
 */
export const OUTBOUND_RETRY_SECONDS: readonly number[] = [2, 5, 10, 20, 30, 60];

export function nextOutboundAttemptAt(
  attemptsMade: number,
  now: Date,
  deadline: Date,
  retryAfterSeconds?: number,
  schedule: readonly number[] = OUTBOUND_RETRY_SECONDS,
): Date | undefined {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) throw new RangeError("attemptsMade must be a whole number from 1");
  const planned = schedule[Math.min(attemptsMade, schedule.length) - 1] ?? 60;
  // The provider's own Retry-After is honoured when it asks for longer (never for more than 10 min).
  const waitSeconds = Math.max(planned, Math.min(retryAfterSeconds ?? 0, 600));
  const at = new Date(now.getTime() + waitSeconds * 1000);
  return at < deadline ? at : undefined;
}
