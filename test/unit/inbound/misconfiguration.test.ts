// The misconfiguration reporter: every report counts (the metric), the warning is written at most
// once per provider, reason and number an hour, and says what to do; refusals that reveal a set-up
// problem are told apart from forgeries.
import { Writable } from "node:stream";
import { describe, expect, it } from "@jest/globals";
import { createLogger } from "../../../src/http/logger.js";
import {
  createMisconfigurationReporter,
  MISCONFIGURATION_LOG_INTERVAL_MS,
  misconfigurationHint,
  misconfigurationOfRefusal,
  type Misconfiguration,
} from "../../../src/inbound/misconfiguration.js";
import { fixedClock } from "../../../src/shared/clock.js";

function reporter() {
  const clock = fixedClock("2031-05-04T10:00:00.000Z");
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const counted: string[] = [];
  const r = createMisconfigurationReporter({ clock, logger: createLogger("info", sink), count: (provider, reason) => counted.push(`${provider}/${reason}`) });
  return { r, clock, lines, counted };
}

const SHORT_CODE: Misconfiguration = { provider: "smsmode", reason: "unknown_number", number: "36034", senderMasked: "+33•••••••04" };

describe("the misconfiguration reporter", () => {
  it("counts every delivery, but warns once an hour per provider, reason and number", () => {
    const { r, clock, lines, counted } = reporter();
    for (let i = 0; i < 5; i++) r.report(SHORT_CODE);
    expect(counted).toEqual(Array(5).fill("smsmode/unknown_number"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, provider: "smsmode", reason: "unknown_number", number: "36034", sender: "+33•••••••04" });
    expect(String(lines[0]!.msg)).toContain("36034");
    expect(String(lines[0]!.msg)).toContain("apps add-number <app-id> --number 36034 --provider smsmode --country <CC>");

    clock.advance(MISCONFIGURATION_LOG_INTERVAL_MS - 1);
    r.report(SHORT_CODE);
    expect(lines).toHaveLength(1);
    clock.advance(1);
    r.report(SHORT_CODE);
    expect(lines).toHaveLength(2);
    // The second warning says how many were not written since the first.
    expect(lines[1]).toMatchObject({ sameSinceLastLog: 5 });
  });

  it("warns separately for another number, another reason and another provider", () => {
    const { r, lines } = reporter();
    r.report(SHORT_CODE);
    r.report({ ...SHORT_CODE, number: "+33700000001" });
    r.report({ ...SHORT_CODE, reason: "other_provider" });
    r.report({ ...SHORT_CODE, provider: "sinch" });
    r.report({ provider: "vonage", reason: "unsigned", detail: "sig and timestamp are required" });
    r.report({ provider: "vonage", reason: "unsigned", detail: "sig and timestamp are required" });
    expect(lines.map((l) => [l.provider, l.reason, l.number ?? null])).toEqual([
      ["smsmode", "unknown_number", "36034"],
      ["smsmode", "unknown_number", "+33700000001"],
      ["smsmode", "other_provider", "36034"],
      ["sinch", "unknown_number", "36034"],
      ["vonage", "unsigned", null],
    ]);
  });

  it("warns again after a clock set back (never stays silent for longer than the interval)", () => {
    const { r, clock, lines } = reporter();
    r.report(SHORT_CODE);
    clock.advance(-60_000);
    r.report(SHORT_CODE);
    expect(lines).toHaveLength(2);
  });

});

describe("what a refusal reveals", () => {
  it.each([
    ["WEBHOOK_NOT_CONFIGURED", "not_configured"],
    ["WEBHOOK_SIGNATURE_MISSING", "unsigned"],
    ["WEBHOOK_SIGNATURE_INVALID", undefined],
    ["WEBHOOK_TIMESTAMP_OUT_OF_RANGE", undefined],
    ["WEBHOOK_PAYLOAD_INVALID", undefined],
  ])("%s is %s", (code, reason) => {
    expect(misconfigurationOfRefusal(code)).toBe(reason);
  });
});

describe("the hints", () => {
  it.each<[Misconfiguration, string]>([
    [{ provider: "twilio", reason: "unknown_number", number: "+447400000199" }, "apps add-number <app-id> --number +447400000199 --provider twilio)"],
    [{ provider: "twilio", reason: "other_provider", number: "+447400000199" }, "registered with another provider"],
    [{ provider: "bird", reason: "unmapped_channel", number: "channel:614208aa" }, "--channel <channel id>"],
    [{ provider: "sinch", reason: "not_configured", detail: "no path token configured for this provider" }, "no path token configured"],
    [{ provider: "vonage", reason: "unsigned", detail: "enable signing" }, "without signature or path token"],
  ])("%j says %s", (event, text) => {
    expect(misconfigurationHint(event)).toContain(text);
  });
});
