// The retry schedule of callbacks: a pure function of the attempts made and `now`.
import { describe, expect, test } from "@jest/globals";
import { nextAttemptAt, RETRY_SCHEDULE_SECONDS } from "../../../src/callbacks/callback-schedule.js";

const now = new Date("2026-11-22T10:00:00.000Z");
const after = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();

describe("nextAttemptAt", () => {
  test.each([
    [1, 10],
    [2, 60],
    [3, 300],
    [4, 1800],
    [5, 3600],
    [6, 7200],
    [7, 14_400],
    [8, 28_800],
    [9, 28_800],
  ])("after %i failed attempt(s) the next one is %i s later", (attempts, seconds) => {
    expect(nextAttemptAt(attempts, now)?.toISOString()).toBe(after(seconds));
  });

  test("after the tenth failed attempt the event is given up", () => {
    expect(nextAttemptAt(10, now)).toBeUndefined();
    expect(nextAttemptAt(11, now)).toBeUndefined();
  });

  test("the waits grow and add up to about a day (between 20 and 24 hours)", () => {
    for (let i = 1; i < RETRY_SCHEDULE_SECONDS.length; i++) {
      expect(RETRY_SCHEDULE_SECONDS[i]!).toBeGreaterThanOrEqual(RETRY_SCHEDULE_SECONDS[i - 1]!);
    }
    const total = RETRY_SCHEDULE_SECONDS.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(20 * 3600);
    expect(total).toBeLessThanOrEqual(24 * 3600);
  });

  test("a custom schedule is followed, then given up", () => {
    expect(nextAttemptAt(1, now, [1, 2])?.toISOString()).toBe(after(1));
    expect(nextAttemptAt(2, now, [1, 2])?.toISOString()).toBe(after(2));
    expect(nextAttemptAt(3, now, [1, 2])).toBeUndefined();
  });

  test("a count below one attempt is a programming error", () => {
    expect(() => nextAttemptAt(0, now)).toThrow(RangeError);
    expect(() => nextAttemptAt(1.5, now)).toThrow(RangeError);
  });
});
