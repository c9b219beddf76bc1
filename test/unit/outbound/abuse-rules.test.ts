// The money and abuse rules as tables: destinations, caps, the conversion switch, the retry schedule.
import { describe, expect, it } from "@jest/globals";
import { checkSmsDestination, decideCaps, decideConversion } from "../../../src/outbound/abuse-rules.js";
import { nextOutboundAttemptAt } from "../../../src/outbound/outbox-schedule.js";
import { maskEmail, numberPrefix } from "../../../src/outbound/outbox.js";

describe("checkSmsDestination", () => {
  it.each<[string | undefined, string | undefined, string[], string]>([
    ["MOBILE", "FR", ["FR"], "ok"],
    ["FIXED_LINE_OR_MOBILE", "US", ["US"], "ok"],
    ["PREMIUM_RATE", "FR", ["FR"], "number_type"],
    ["SHARED_COST", "FR", ["FR"], "number_type"],
    ["TOLL_FREE", "GB", ["GB"], "number_type"],
    ["VOIP", "GB", ["GB"], "number_type"],
    ["PERSONAL_NUMBER", "GB", ["GB"], "number_type"],
    ["UAN", "GB", ["GB"], "number_type"],
    ["PAGER", "GB", ["GB"], "number_type"],
    ["FIXED_LINE", "DE", ["DE"], "number_type"],
    [undefined, "DE", ["DE"], "number_type"],
    ["MOBILE", "DE", ["FR"], "country"],
    ["MOBILE", "DE", [], "country"],
    ["MOBILE", undefined, ["FR"], "country"],
  ])("%s in %s, allowed %j → %s", (type, country, allowed, expected) => {
    const decision = checkSmsDestination({ type, country }, allowed);
    expect(decision.ok ? "ok" : decision.rule).toBe(expected);
  });
});

describe("decideCaps", () => {
  const caps = { phonePerHour: 5, prefixPerHour: 50, countryPerHour: 500, appPerDay: 1000 };
  it.each<[number, number, number, number, string]>([
    [0, 0, 0, 0, "ok"],
    [4, 49, 499, 999, "ok"],
    [5, 0, 0, 0, "recipient"],
    [0, 50, 0, 0, "prefix"],
    [0, 0, 500, 0, "country"],
    [0, 0, 0, 1000, "app"],
    [9, 99, 999, 9999, "recipient"],
    [0, 60, 600, 2000, "prefix"],
    [0, 10, 600, 2000, "country"],
  ])("recipient %i, prefix %i, country %i, app %i → %s", (phoneLastHour, prefixLastHour, countryLastHour, appLastDay, expected) => {
    const decision = decideCaps({ phoneLastHour, prefixLastHour, countryLastHour, appLastDay }, caps);
    expect(decision.ok ? "ok" : decision.cap).toBe(expected);
  });

  it("says how long the window is", () => {
    expect(decideCaps({ phoneLastHour: 5, prefixLastHour: 0, countryLastHour: 0, appLastDay: 0 }, caps)).toEqual({ ok: false, cap: "recipient", limit: 5, retryAfterSeconds: 3600 });
    expect(decideCaps({ phoneLastHour: 0, prefixLastHour: 0, countryLastHour: 0, appLastDay: 1000 }, caps)).toMatchObject({ retryAfterSeconds: 86_400 });
  });
});

describe("decideConversion", () => {
  const caps = { minConversionPercent: 20, conversionMinSent: 20 };
  it.each<[number, number, typeof caps, boolean]>([
    [19, 0, caps, false], // too few sends to judge
    [20, 4, caps, false], // exactly 20 %
    [20, 3, caps, true], // 15 %
    [100, 19, caps, true],
    [100, 20, caps, false],
    [1000, 0, caps, true], // pumping: many sends, nothing verified
    [1000, 0, { minConversionPercent: 0, conversionMinSent: 20 }, false], // switch off
    [5, 0, { minConversionPercent: 50, conversionMinSent: 1 }, true],
  ])("sent %i, verified %i → paused %s", (sent, verified, c, paused) => {
    expect(decideConversion({ sent, verified }, c).paused).toBe(paused);
  });
});

describe("nextOutboundAttemptAt", () => {
  const now = new Date("2026-12-03T10:00:00Z");
  const deadline = new Date("2026-12-03T10:05:00Z");
  it.each<[number, number | undefined, string | undefined]>([
    [1, undefined, "2026-12-03T10:00:02.000Z"],
    [2, undefined, "2026-12-03T10:00:05.000Z"],
    [6, undefined, "2026-12-03T10:01:00.000Z"],
    [40, undefined, "2026-12-03T10:01:00.000Z"],
    [1, 30, "2026-12-03T10:00:30.000Z"], // Retry-After longer than the schedule
    [1, 1, "2026-12-03T10:00:02.000Z"], // shorter: the schedule wins
    [1, 100_000, undefined], // capped at 10 min, past the deadline: give up
  ])("after attempt %i with Retry-After %s → %s", (attempts, retryAfter, expected) => {
    expect(nextOutboundAttemptAt(attempts, now, deadline, retryAfter)?.toISOString()).toBe(expected);
  });

  it("gives up when the next attempt would be at or after the deadline", () => {
    expect(nextOutboundAttemptAt(1, new Date("2026-12-03T10:04:58Z"), deadline)).toBeUndefined();
    expect(() => nextOutboundAttemptAt(0, now, deadline)).toThrow(RangeError);
  });
});

describe("what the outbox keeps of a recipient", () => {
  it.each([
    ["+33612345678", "+33612"],
    ["+4915123456789", "+49151"],
    ["+14155550123", "+1415"],
    ["+447400123456", "+44740"],
  ])("%s has the prefix %s", (e164, prefix) => {
    expect(numberPrefix(e164)).toBe(prefix);
  });

  it("masks e-mail addresses", () => {
    expect(maskEmail("jane.doe@example.com")).toBe("j•••@example.com");
    expect(maskEmail("nobody")).toBe("•••");
  });
});
