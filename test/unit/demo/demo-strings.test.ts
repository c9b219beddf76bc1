// The demo page's wording and language choice.
import { describe, expect, test } from "@jest/globals";
import { PURPOSES, SUPPORTED_LOCALES } from "../../../src/challenges/sms-text.js";
import { DEMO_STRINGS, pickDefaultCountry, pickPageLanguage } from "../../../src/demo/demo-strings.js";

/** Every string of a dictionary, by dotted key. */
function entries(value: object, prefix = ""): [string, string][] {
  return Object.entries(value).flatMap(([k, v]) => (typeof v === "string" ? [[`${prefix}${k}`, v] as [string, string]] : entries(v as object, `${prefix}${k}.`)));
}

describe("the demo dictionary", () => {
  test("has the same keys in every language, none empty, and a label for every purpose", () => {
    const english = entries(DEMO_STRINGS.en).map(([k]) => k);
    for (const locale of SUPPORTED_LOCALES) {
      const strings = entries(DEMO_STRINGS[locale]);
      expect(strings.map(([k]) => k)).toEqual(english);
      for (const [key, value] of strings) expect([key, value.trim().length > 0]).toEqual([key, true]);
      expect(Object.keys(DEMO_STRINGS[locale].purposes).sort()).toEqual([...PURPOSES].sort());
    }
  });

  test("is translated: German and French differ from English on the visible labels", () => {
    for (const key of ["heading", "submit", "simulate", "country", "phone"] as const) {
      expect(DEMO_STRINGS.de[key]).not.toBe(DEMO_STRINGS.en[key]);
      expect(DEMO_STRINGS.fr[key]).not.toBe(DEMO_STRINGS.en[key]);
    }
  });
});

describe("pickPageLanguage", () => {
  test.each([
    ["de", undefined, "de"],
    ["FR", "de", "fr"],
    [undefined, "de-AT,en;q=0.5", "de"],
    [undefined, "es, fr;q=0.3", "fr"],
    ["it", "ja", "en"],
    [["de", "fr"], undefined, "en"],
    [undefined, undefined, "en"],
  ])("?lang=%j with Accept-Language %j gives %s", (query, accept, expected) => {
    expect(pickPageLanguage(query, accept)).toBe(expected);
  });
});

describe("pickDefaultCountry", () => {
  const known = (c: string) => ["AT", "CH", "US", "DE", "FR", "GB", "BE"].includes(c);
  test.each([
    ["de", "de-AT,de;q=0.9", "AT"],
    ["fr", "fr-CH", "CH"],
    ["fr", "en-US,fr-BE;q=0.8", "BE"],
    ["de", "en-US", "DE"],
    ["en", "en-US", "US"],
    ["en", undefined, "GB"],
    ["fr", "fr-ZZ", "FR"],
  ] as const)("on a %s page with Accept-Language %j: %s", (language, accept, expected) => {
    expect(pickDefaultCountry(language, accept, known)).toBe(expected);
  });
});
