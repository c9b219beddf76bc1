// When a failed callback is tried again. Pure: attempts and `now` in, a time (or "give up") out.

/**
 * Waits after the 1st, 2nd, … failed attempt, in seconds: 10 s, 1 min, 5 min, 30 min, 1 h, 2 h,
 * 4 h, 8 h, 8 h. Ten attempts over 84,970 s (≈ 23.6 h): a receiver that is down for most of a day
 * still gets the event, as with the SMS providers' own retries.
 */
export const RETRY_SCHEDULE_SECONDS: readonly number[] = [10, 60, 300, 1800, 3600, 7200, 14_400, 28_800, 28_800];

/**
 * The time of the next attempt after `attemptsMade` attempts (the last one failed), or undefined
 * when the schedule is used up and the event is given up.
 */
export function nextAttemptAt(attemptsMade: number, now: Date, schedule: readonly number[] = RETRY_SCHEDULE_SECONDS): Date | undefined {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) throw new RangeError("attemptsMade must be a whole number from 1");
  const waitSeconds = schedule[attemptsMade - 1];
  return waitSeconds === undefined ? undefined : new Date(now.getTime() + waitSeconds * 1000);
}
