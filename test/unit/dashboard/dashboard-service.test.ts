// The dashboard's pure parts: the period, its buckets and the gap-free series.
import { describe, expect, test } from "@jest/globals";
import { bucketSecondsFor, fillSeries, resolvePeriod, seriesStart } from "../../../src/dashboard/dashboard-service.js";
import { AppError } from "../../../src/shared/errors.js";

const HOUR = 3600_000;
const now = new Date("2031-06-02T08:17:30.000Z");

describe("resolvePeriod", () => {
  test("defaults to the 24 hours before now, or before the given end", () => {
    expect(resolvePeriod({}, now)).toEqual({ from: new Date(now.getTime() - 24 * HOUR), to: now });
    const to = new Date("2031-06-01T00:00:00.000Z");
    expect(resolvePeriod({ to }, now)).toEqual({ from: new Date(to.getTime() - 24 * HOUR), to });
  });

  test.each([
    ["an empty period", { from: now, to: now }],
    ["a reversed period", { from: new Date(now.getTime() + 1), to: now }],
    ["more than 400 days", { from: new Date(now.getTime() - 401 * 24 * HOUR), to: now }],
  ])("refuses %s", (_what, period) => {
    expect(() => resolvePeriod(period, now)).toThrow(AppError);
  });
});

describe("buckets", () => {
  test.each([
    [HOUR, 300],
    [3 * HOUR, 300],
    [3 * HOUR + 1, 3600],
    [72 * HOUR, 3600],
    [7 * 24 * HOUR, 86_400],
  ])("a period of %i ms has buckets of %i s", (ms, seconds) => {
    expect(bucketSecondsFor(ms)).toBe(seconds);
  });

  test("start on whole buckets, and the series has every bucket with zeros where nothing happened", () => {
    const start = seriesStart(now, 3600);
    expect(start.toISOString()).toBe("2031-06-02T08:00:00.000Z");
    const to = new Date(now.getTime() + 3 * HOUR);
    const series = fillSeries(
      [
        { kind: "created", bucket: 0, count: 2 },
        { kind: "verified", bucket: 2, count: 1 },
        { kind: "created", bucket: 99, count: 5 }, // outside the window: ignored
      ],
      start,
      to,
      3600,
    );
    expect(series).toEqual([
      { start: "2031-06-02T08:00:00.000Z", created: 2, verified: 0 },
      { start: "2031-06-02T09:00:00.000Z", created: 0, verified: 0 },
      { start: "2031-06-02T10:00:00.000Z", created: 0, verified: 1 },
      { start: "2031-06-02T11:00:00.000Z", created: 0, verified: 0 },
    ]);
  });
});
