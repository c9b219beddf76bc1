// The channel rules (src/challenges/channels.ts): which channels exist and which an app allows, the
// channel a request asks for, where SMS codes may go by default, and how a typed code is read.
import { describe, expect, test } from "@jest/globals";
import { checkChannels, chooseChannel, mayFallBackToSms, normalizeChannels, outboundCountriesOf, readTypedCode } from "../../../src/challenges/channels.js";
import { AppError } from "../../../src/shared/errors.js";

const number = (e164: string, country: string | null = null) => ({ id: "num_x", e164, provider: "generic", country, channelId: null });

describe("an app's channels", () => {
  test("are normalised (trimmed, lower case, once each) and checked", () => {
    expect(normalizeChannels([" SMS ", "sms_mo", "sms", ""])).toEqual(["sms", "sms_mo"]);
    expect(checkChannels(["sms_mo", "sms", "email"])).toEqual([]);
    expect(checkChannels([])).toEqual([{ field: "channels", message: "at least one of sms_mo, sms, email" }]);
    expect(checkChannels(["fax"])).toEqual([{ field: "channels", message: '"fax" is not a channel; one of sms_mo, sms, email' }]);
  });

  test("outbound countries default to the countries of the app's numbers (long numbers and short codes)", () => {
    expect(outboundCountriesOf({ outboundCountries: ["FR"], numbers: [number("+447400000100")] })).toEqual(["FR"]);
    expect(outboundCountriesOf({ outboundCountries: [], numbers: [number("+447400000100"), number("36034", "FR"), number("+447400000101")] })).toEqual(["GB", "FR"]);
  });

  test("a fallback to SMS needs the app to allow sms", () => {
    expect(mayFallBackToSms({ channels: ["sms_mo", "sms"] })).toBe(true);
    expect(mayFallBackToSms({ channels: ["sms_mo", "email"] })).toBe(false);
  });
});

describe("the channel a request asks for", () => {
  const app = { channels: ["sms_mo", "sms", "email"] };
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return error instanceof AppError ? [error.code, error.extra.errors?.[0]?.field ?? error.extra.reason] : error;
    }
    throw new Error("expected a refusal");
  };

  test("sms_mo by default; sms; email with its address", () => {
    expect(chooseChannel(app, {})).toEqual({ channel: "sms_mo" });
    expect(chooseChannel(app, { channel: "sms" })).toEqual({ channel: "sms" });
    expect(chooseChannel(app, { channel: "email", email: "jane@example.com" })).toEqual({ channel: "email", email: "jane@example.com" });
  });

  test("email without an address, an address without email, and a channel the app does not allow are refused", () => {
    expect(refusal(() => chooseChannel(app, { channel: "email" }))).toEqual(["VALIDATION_FAILED", "email"]);
    expect(refusal(() => chooseChannel(app, { channel: "sms", email: "jane@example.com" }))).toEqual(["VALIDATION_FAILED", "email"]);
    expect(refusal(() => chooseChannel({ channels: ["sms_mo"] }, { channel: "sms" }))).toEqual(["CHANNEL_NOT_ALLOWED", "sms"]);
    expect(refusal(() => chooseChannel({ channels: ["sms"] }, {}))).toEqual(["CHANNEL_NOT_ALLOWED", "sms_mo"]);
  });
});

describe("a typed code", () => {
  test.each([
    [" 601 836 ", "numeric", "601836"],
    ["601-836", "numeric", "601836"],
    ["ab2-c3d", "alphanumeric", "AB2C3D"],
    ["60.18.36", "numeric", "601836"],
  ] as const)("%j (%s) is read as %s", (typed, alphabet, code) => {
    expect(readTypedCode(typed, alphabet)).toBe(code);
  });
});
