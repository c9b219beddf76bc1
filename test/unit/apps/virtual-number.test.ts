// Virtual numbers as operators type them (long numbers, short codes of a country) and as providers
// name them in deliveries (recipientKeys): pure functions, table-tested, with properties over real
// numbers of libphonenumber's metadata.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { getCountries, getExampleNumber } from "libphonenumber-js/max";
import examples from "libphonenumber-js/mobile/examples";
import { countryOfNumber, describeNumber, parseVirtualNumber, recipientKeys } from "../../../src/apps/virtual-number.js";

const FC_SEED = 20_261_203;

describe("parseVirtualNumber", () => {
  it.each([
    ["+447400000100", undefined, "+447400000100", null],
    ["447400000100", undefined, "+447400000100", null],
    ["0033 6 12 34 56 78", undefined, "+33612345678", null],
    ["36034", "FR", "36034", "FR"],
    ["36034", "fr", "36034", "FR"],
    [" 36034 ", "FR", "36034", "FR"],
    ["123", "US", "123", "US"],
    ["12345678", "DE", "12345678", "DE"],
    ["0612345678", "FR", "+33612345678", null],
    // 9 digits or more are a national number, even without a trunk 0 (FR 1 23 45 67 89).
    ["123456789", "FR", "+33123456789", null],
    ["+33612345678", "FR", "+33612345678", null],
  ])("reads %j (country %s) as key %s, country %s", (input, country, key, expectedCountry) => {
    expect(parseVirtualNumber(input, country)).toEqual({ ok: true, address: { key, country: expectedCountry } });
  });

  it.each([
    ["36034", undefined, "a short code needs its country (e.g. --country FR)"],
    ["ACME", undefined, "not a valid E.164 number (invalid)"],
    ["0612345678", undefined, "not a valid E.164 number (invalid_country)"],
    ["36034", "XX", '"XX" is not an ISO 3166 alpha-2 country code'],
    ["36034", "FRA", '"FRA" is not an ISO 3166 alpha-2 country code'],
    ["12", "FR", "neither a short code nor a valid number of FR (too_short)"],
    ["012345678", "FR", "neither a short code nor a valid number of FR (invalid)"],
    ["0112", "FR", "neither a short code nor a valid number of FR (too_short)"],
    ["1234567890123", "FR", "neither a short code nor a valid number of FR (too_long)"],
    ["+447400000100", "FR", "+447400000100 is a number of GB, not of FR"],
    ["0612345678", "US", "neither a short code nor a valid number of US (invalid)"],
  ])("refuses %j (country %s): %s", (input, country, message) => {
    expect(parseVirtualNumber(input, country)).toEqual({ ok: false, message });
  });

  it("reads every country's example mobile number, international without a country and national with it (property)", () => {
    const countries = getCountries().filter((c) => getExampleNumber(c, examples) !== undefined);
    fc.assert(
      fc.property(fc.constantFrom(...countries), (country) => {
        const example = getExampleNumber(country, examples)!;
        expect(parseVirtualNumber(example.number, undefined)).toEqual({ ok: true, address: { key: example.number, country: null } });
        const national = example.formatNational();
        const read = parseVirtualNumber(national, country);
        // A national spelling of 3 to 8 digits without a trunk 0 is a short code by design.
        if (read.ok && read.address.country === null) expect(read.address.key).toBe(example.number);
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
  });
});

describe("recipientKeys", () => {
  it.each([
    ["36034", ["36034"]],
    [" 36034 ", ["36034"]],
    ["+447400000100", ["+447400000100"]],
    ["447400000100", ["+447400000100"]],
    ["0033612345678", ["+33612345678"]],
    ["29012345", ["29012345"]],
    // Digits that are also a valid international number (+290 Saint Helena, +683 Niue): both readings, short code first.
    ["29051234", ["29051234", "+29051234"]],
    ["6837123", ["6837123", "+6837123"]],
    ["+36034", []],
    ["36 034", []],
    ["ACME", []],
    ["", []],
    ["123456789", []],
  ])("%j may be registered under %j", (to, keys) => {
    expect(recipientKeys(to)).toEqual(keys);
  });

  it("names every registered key the way a provider writes it (property)", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9][0-9]{2,7}$/), (digits) => {
        expect(recipientKeys(digits)[0]).toBe(digits);
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
  });
});

describe("countryOfNumber and describeNumber", () => {
  it("gives a short code's own country, else the long number's", () => {
    expect(countryOfNumber({ e164: "36034", country: "FR" })).toBe("FR");
    expect(countryOfNumber({ e164: "+447400000100", country: null })).toBe("GB");
    expect(countryOfNumber({ e164: "36034", country: null })).toBeUndefined();
  });

  it("shows short codes with their country", () => {
    expect(describeNumber({ e164: "36034", country: "FR" })).toBe("36034 (FR short code)");
    expect(describeNumber({ e164: "+447400000100", country: null })).toBe("+447400000100");
  });
});
