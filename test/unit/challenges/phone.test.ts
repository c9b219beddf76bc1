import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  getCountries,
  getExampleNumber,
  parsePhoneNumberFromString,
  type CountryCode,
  type PhoneNumber,
} from "libphonenumber-js/max";
import examples from "libphonenumber-js/mobile/examples";
import { maskPhone, normalizeSender, parsePhone, type PhoneResult } from "../../../src/challenges/phone.js";

const FC_SEED = 20_240_611;

function e164Of(result: PhoneResult): string | undefined {
  return result.ok ? result.phone.e164 : undefined;
}

function rejectionOf(result: PhoneResult): string | undefined {
  return result.ok ? undefined : result.reason;
}

describe("parsePhone", () => {
  describe("accepts mobile numbers", () => {
    it.each([
      ["+33 6 12 34 56 78", undefined, "+33612345678", "FR"],
      ["06 12 34 56 78", "FR", "+33612345678", "FR"],
      ["06.12.34.56.78", "fr", "+33612345678", "FR"],
      ["06-12-34-56-78", "Fr", "+33612345678", "FR"],
      ["0033 6 12 34 56 78", undefined, "+33612345678", "FR"],
      ["0151 23456789", "DE", "+4915123456789", "DE"],
      ["(0151) 2345-6789", "DE", "+4915123456789", "DE"],
      ["0151/23456789", "DE", "+4915123456789", "DE"],
      ["+49 151 23456789", undefined, "+4915123456789", "DE"],
      ["07400 123456", "GB", "+447400123456", "GB"],
      ["+44 7400 123456", "DE", "+447400123456", "GB"],
      ["(201) 555-0123", "US", "+12015550123", "US"],
      ["+1 201-555-0123", undefined, "+12015550123", "US"],
      ["  +33612345678\n", undefined, "+33612345678", "FR"],
    ])("%j with country %j is %s", (input, country, e164, expectedCountry) => {
      const result = parsePhone(input, country === undefined ? {} : { country });
      expect(result).toEqual({
        ok: true,
        phone: expect.objectContaining({ e164, country: expectedCountry }),
      });
    });

    it("reports the line type and a masked form", () => {
      expect(parsePhone("+33612345678", {})).toEqual({
        ok: true,
        phone: { e164: "+33612345678", country: "FR", type: "MOBILE", masked: "+33•••••••78" },
      });
    });

    it("accepts FIXED_LINE_OR_MOBILE numbers, as North American numbers cannot be told apart", () => {
      const result = parsePhone("+1 201 555 0123", {});
      expect(result.ok && result.phone.type).toBe("FIXED_LINE_OR_MOBILE");
    });

    it("accepts a trunk zero after the country code, as libphonenumber drops it", () => {
      expect(e164Of(parsePhone("+33 0612345678", {}))).toBe("+33612345678");
      expect(e164Of(parsePhone("+33 (0)6 12 34 56 78", {}))).toBe("+33612345678");
      expect(e164Of(parsePhone("+49 0151 23456789", {}))).toBe("+4915123456789");
    });

    it("keeps the leading zero where it belongs to the number (Italy)", () => {
      // Italian fixed lines keep their 0 in E.164, so +39 06… is a Rome landline, not a trunk zero.
      expect(parsePhone("+39 06 1234 5678", {})).toMatchObject({ ok: false, reason: "not_mobile" });
      expect(e164Of(parsePhone("+39 312 345 6789", {}))).toBe("+393123456789");
    });

    it("reads full-width digits and plus sign", () => {
      expect(e164Of(parsePhone("＋３３６１２３４５６７８", {}))).toBe("+33612345678");
      expect(e164Of(parsePhone("０６ １２ ３４ ５６ ７８", { country: "FR" }))).toBe("+33612345678");
    });

    it("reads Arabic-Indic and Persian digits as libphonenumber does", () => {
      expect(e164Of(parsePhone("+٣٣٦١٢٣٤٥٦٧٨", {}))).toBe("+33612345678");
      expect(e164Of(parsePhone("+۳۳۶۱۲۳۴۵۶۷۸", {}))).toBe("+33612345678");
    });

    it("ignores zero-width and bidi control characters anywhere", () => {
      for (const invisible of ["\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u200E", "\u200F", "\u202A", "\u202E", "\u2066", "\u2069", "\u061C"]) {
        expect(e164Of(parsePhone(`${invisible}+33 6${invisible}12 34${invisible}56 78${invisible}`, {}))).toBe("+33612345678");
      }
    });

    it("accepts a non-breaking or narrow no-break space as separator", () => {
      expect(e164Of(parsePhone("+33\u00A06\u202F12\u00A034\u00A056\u00A078", {}))).toBe("+33612345678");
    });

    it("accepts a non-geographic mobile number, which has no country", () => {
      expect(parsePhone("+870 773 111 632", {})).toEqual({
        ok: true,
        phone: { e164: "+870773111632", country: undefined, type: "MOBILE", masked: "+870•••••••32" },
      });
    });
  });

  describe("refuses numbers that cannot send an SMS from a personal phone", () => {
    it.each([
      ["+33 1 23 45 67 89", "FIXED_LINE"],
      ["01 23 45 67 89", "FIXED_LINE"],
      ["+49 30 123456", "FIXED_LINE"],
      ["+33 9 12 34 56 78", "VOIP"],
      ["+44 56 1234 5678", "VOIP"],
      ["+1 800 555 1212", "TOLL_FREE"],
      ["+800 1234 5678", "TOLL_FREE"],
      ["+33 8 99 12 34 56", "PREMIUM_RATE"],
      ["+44 845 464 7000", "PREMIUM_RATE"],
      ["+33 8 10 12 34 56", "SHARED_COST"],
      ["+44 76 0012 3456", "PAGER"],
      ["+44 300 123 4567", "UAN"],
      ["+44 70 1234 5678", "PERSONAL_NUMBER"],
      ["+49 700 12345678", "PERSONAL_NUMBER"],
    ])("%j is not_mobile (%s)", (input, type) => {
      const result = parsePhone(input, { country: "FR" });
      expect(result).toEqual({ ok: false, reason: "not_mobile", lineType: type, detail: expect.stringContaining(type) });
    });
  });

  describe("refuses invalid input with a reason", () => {
    it.each([
      ["", "invalid"],
      ["   ", "invalid"],
      ["+", "invalid"],
      ["ACME", "invalid"],
      ["InfoSMS", "invalid"],
      ["+33 6 12 34 56 7A", "invalid"],
      ["tel:+33612345678", "invalid"],
      ["+33612345678 ext. 12", "invalid"],
      ["+33612345678#12", "invalid"],
      ["+33612345678;ext=12", "invalid"],
      ["33+612345678", "invalid"],
      ["++33612345678", "invalid"],
      ["+33 6 12 34 56 78".padEnd(65, " "), "invalid"],
      ["+336", "too_short"],
      ["+33 6 12 34", "too_short"],
      ["+33 6 12 34 56 78 9", "too_long"],
      ["+1234567890123456", "too_long"],
      ["+33 6 12 34 56 78 90 12 34", "too_long"],
      ["+999 1234 5678", "invalid_country"],
      ["06 12 34 56 78", "invalid_country"],
      ["+33 7 00 00 00 00", "invalid"],
    ])("%j is %s", (input, reason) => {
      expect(rejectionOf(parsePhone(input, {}))).toBe(reason);
    });

    it("refuses an unknown country code", () => {
      expect(parsePhone("06 12 34 56 78", { country: "XX" })).toMatchObject({ ok: false, reason: "invalid_country" });
      expect(parsePhone("06 12 34 56 78", { country: "FRA" })).toMatchObject({ ok: false, reason: "invalid_country" });
      expect(parsePhone("+33612345678", { country: "" })).toMatchObject({ ok: false, reason: "invalid_country" });
    });

    it("never puts the number in the detail", () => {
      for (const input of ["+33 1 23 45 67 89", "+33 6 12 34 56 78 9", "+336", "06 12 34 56 78", "ACME 0612"]) {
        const result = parsePhone(input, {});
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.detail).not.toMatch(/\d{3}/);
          expect(result.detail).toMatch(/^[A-Z].*\.$/);
        }
      }
    });
  });
});

describe("normalizeSender", () => {
  it.each([
    ["+33612345678", "+33612345678", "FR"],
    ["33612345678", "+33612345678", "FR"],
    ["0033612345678", "+33612345678", "FR"],
    ["4915123456789", "+4915123456789", "DE"],
    ["12015550123", "+12015550123", "US"],
    [" 447400123456", "+447400123456", "GB"],
    ["+1 (201) 555-0123", "+12015550123", "US"],
    ["＋３３６１２３４５６７８", "+33612345678", "FR"],
    ["+33\u200B612345678", "+33612345678", "FR"],
    ["+331 23 45 67 89", "+33123456789", "FR"],
    ["+8816123456789", "+8816123456789", undefined],
  ])("%j is %s", (raw, e164, country) => {
    expect(normalizeSender(raw)).toEqual({ ok: true, e164, country });
  });

  it.each([
    ["ACME", "invalid"],
    ["InfoSMS", "invalid"],
    ["Bank123", "invalid"],
    ["", "invalid"],
    ["38100", "too_short"],
    ["0612345678", "invalid_country"],
    ["+3361234567890123", "too_long"],
    ["9991234567", "invalid_country"],
  ])("refuses %j (%s)", (raw, reason) => {
    expect(normalizeSender(raw)).toEqual({ ok: false, reason });
  });

  it("reads bare digits as international when no country is given", () => {
    // "0612345678" would be a French mobile nationally; as international digits it is +0…, no such code.
    expect(normalizeSender("0612345678").ok).toBe(false);
    expect(normalizeSender("612345678").ok).toBe(false);
  });

  it.each([
    ["0612345678", "FR", "+33612345678"],
    ["06 12 34 56 78", "fr", "+33612345678"],
    ["07400123456", "GB", "+447400123456"],
    ["015123456789", "DE", "+4915123456789"],
  ])("reads %j nationally with the country %s of the number it was sent to", (raw, country, e164) => {
    expect(normalizeSender(raw, { country })).toMatchObject({ ok: true, e164 });
  });

  it("prefers the international reading, and never reads +… or 00… nationally", () => {
    // Valid as international digits (+33…): the country of the recipient does not change that.
    expect(normalizeSender("33612345678", { country: "GB" })).toMatchObject({ ok: true, e164: "+33612345678" });
    expect(normalizeSender("+0612345678", { country: "FR" }).ok).toBe(false);
    expect(normalizeSender("00612345678", { country: "FR" }).ok).toBe(false);
  });

  it("refuses a national number that is not valid in the given country, or with an unknown country", () => {
    expect(normalizeSender("0612345678", { country: "US" })).toEqual({ ok: false, reason: "invalid" });
    expect(normalizeSender("0112", { country: "FR" })).toEqual({ ok: false, reason: "too_short" });
    expect(normalizeSender("0612345678", { country: "XX" }).ok).toBe(false);
    expect(normalizeSender("ACME", { country: "FR" })).toEqual({ ok: false, reason: "invalid" });
  });
});

describe("maskPhone", () => {
  it.each([
    ["+33612345678", "+33•••••••78"],
    ["+4915123456789", "+49•••••••••89"],
    ["+12015550123", "+1••••••••23"],
    ["+447400123456", "+44••••••••56"],
    ["+80012345678", "+800••••••78"],
    ["+6831234", "+683••••"],
    ["+68312345", "+683•••••"],
    ["+290123456", "+290••••56"],
    ["+99912345678", "+•••••••••78"],
    ["", ""],
    ["no digits", ""],
  ])("%j is shown as %j", (e164, masked) => {
    expect(maskPhone(e164)).toBe(masked);
  });
});

/** Valid numbers that parsePhone accepts, derived from libphonenumber's mobile examples. */
const acceptedTypes = new Set(["MOBILE", "FIXED_LINE_OR_MOBILE", undefined]);
const isAccepted = (n: PhoneNumber | undefined): n is PhoneNumber =>
  n !== undefined && n.isValid() && acceptedTypes.has(n.getType());
const exampleCountries = getCountries().filter((c) => isAccepted(getExampleNumber(c, examples)));

const mobileNumberArb: fc.Arbitrary<PhoneNumber> = fc
  .record({
    country: fc.constantFrom<CountryCode>(...exampleCountries),
    replaced: fc.integer({ min: 0, max: 5 }),
    digits: fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 5, maxLength: 5 }),
  })
  .map(({ country, replaced, digits }) => {
    const example = getExampleNumber(country, examples) as PhoneNumber;
    const nsn = example.nationalNumber;
    const varied = nsn.slice(0, nsn.length - replaced) + digits.slice(0, replaced);
    const variant = parsePhoneNumberFromString(`+${example.countryCallingCode}${varied}`);
    return isAccepted(variant) ? variant : example;
  });

function spaced(digits: string, cuts: number[], separator: string): string {
  const positions = new Set(cuts.map((c) => c % Math.max(1, digits.length)));
  return [...digits].map((d, i) => (positions.has(i) && i > 0 ? `${separator}${d}` : d)).join("");
}

describe("parsePhone properties", () => {
  it("has mobile examples for most countries to draw from", () => {
    expect(exampleCountries.length).toBeGreaterThan(200);
  });

  it("round-trips valid mobile numbers from international, national and spaced forms", () => {
    fc.assert(
      fc.property(
        mobileNumberArb,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.constantFrom(" ", ".", "-", "\u00A0", " - "),
        (number, cuts, separator) => {
          const e164 = number.number;
          expect(e164Of(parsePhone(number.formatInternational(), {}))).toBe(e164);
          expect(e164Of(parsePhone(e164, {}))).toBe(e164);
          expect(e164Of(parsePhone(`00${e164.slice(1)}`, {}))).toBe(e164);
          expect(e164Of(parsePhone(`+${spaced(e164.slice(1), cuts, separator)}`, {}))).toBe(e164);
          if (number.country !== undefined) {
            const national = number.formatNational();
            expect(e164Of(parsePhone(national, { country: number.country }))).toBe(e164);
            expect(e164Of(parsePhone(national, { country: number.country.toLowerCase() }))).toBe(e164);
            expect(e164Of(parsePhone(spaced(national.replace(/\D/g, ""), cuts, separator), { country: number.country }))).toBe(e164);
          }
          expect(normalizeSender(e164.slice(1))).toEqual({ ok: true, e164, country: number.country });
        },
      ),
      { seed: FC_SEED, numRuns: 1000 },
    );
  });

  it("never throws on arbitrary strings and countries", () => {
    const country = fc.option(fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom("FR", "de", "us", "GB")), { nil: undefined });
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }), fc.stringMatching(/^\+?[0-9 ()-]{0,24}$/)),
        country,
        (input, c) => {
          const result = parsePhone(input, c === undefined ? {} : { country: c });
          expect(typeof result.ok).toBe("boolean");
          const sender = normalizeSender(input);
          expect(typeof sender.ok).toBe("boolean");
          maskPhone(input);
        },
      ),
      { seed: FC_SEED, numRuns: 2000 },
    );
  });

  it("never accepts a result that is not E.164 or whose mask shows more than code and 2 digits", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^(\+|00)?[0-9]{1,17}$/), fc.constantFrom("FR", "DE", "US", "GB", "IN", "BR"), (input, c) => {
        const result = parsePhone(input, { country: c });
        if (result.ok) {
          expect(result.phone.e164).toMatch(/^\+[1-9][0-9]{1,14}$/);
          expect(result.phone.masked).toBe(maskPhone(result.phone.e164));
        }
      }),
      { seed: FC_SEED, numRuns: 2000 },
    );
  });
});

describe("maskPhone properties", () => {
  it("shows exactly the country calling code and the last 2 digits of valid numbers with 6 or more national digits", () => {
    fc.assert(
      fc.property(mobileNumberArb, (number) => {
        const masked = maskPhone(number.number);
        const callingCode = number.countryCallingCode;
        const nsn = number.number.slice(1 + callingCode.length);
        // Short national numbers (Ascension +247 40123) show no tail, so that 4 digits stay hidden.
        const tail = nsn.length >= 6 ? nsn.slice(-2) : "";
        expect(masked).toBe(`+${callingCode}${"•".repeat(nsn.length - tail.length)}${tail}`);
        expect(maskPhone(number.number)).toBe(masked);
      }),
      { seed: FC_SEED, numRuns: 500 },
    );
  });

  it("never shows a run of the number's digits longer than a calling code, nor more than 5 digits in all", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,20}$/), (digits) => {
        const masked = maskPhone(`+${digits}`);
        const runs = masked.slice(1).match(/[0-9]+/g) ?? [];
        const [lead, tail] = masked.slice(1).startsWith("•") ? ["", runs[0] ?? ""] : [runs[0] ?? "", runs[1] ?? ""];
        expect(lead.length).toBeLessThanOrEqual(3);
        expect(tail.length).toBeLessThanOrEqual(2);
        expect(runs.length).toBeLessThanOrEqual(2);
        expect(digits.startsWith(lead)).toBe(true);
        expect(digits.endsWith(tail)).toBe(true);
        // One mark per hidden digit, and at least 4 hidden whenever a tail shows.
        const hidden = [...masked].filter((ch) => ch === "•").length;
        expect(lead.length + hidden + tail.length).toBe(digits.length);
        if (tail.length > 0) expect(hidden).toBeGreaterThanOrEqual(4);
      }),
      { seed: FC_SEED, numRuns: 2000 },
    );
  });
});
