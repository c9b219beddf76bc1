import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { ALPHANUMERIC_ALPHABET, NUMERIC_ALPHABET, type CodeAlphabet } from "../../../src/challenges/code-policy.js";
import {
  PURPOSES,
  SMS_FIELD_MAX_LENGTH,
  SUPPORTED_LOCALES,
  buildSmsBody,
  buildSmsUris,
  resolveLocale,
  type Locale,
  type Purpose,
  type SmsContext,
} from "../../../src/challenges/sms-text.js";
import { findSmsCode } from "../../../src/challenges/sms-code.js";
import { gsm7Septets } from "../../../src/outbound/gsm7.js";

const FC_SEED = 20_240_611;
const PAYMENT: SmsContext = { amount: "49.90", currency: "EUR", merchant: "Shop XY" };

/** Plain words that must appear for each purpose, so the user reads what they approve. */
const PURPOSE_WORDS: Record<Locale, Record<Purpose, RegExp>> = {
  en: {
    signup: /sign up/,
    login: /log in/,
    password_reset: /reset my password/,
    profile_change: /change my profile/,
    transaction: /confirm payment/,
    appointment: /confirm my appointment/,
  },
  de: {
    signup: /Registrierung/,
    login: /Anmeldung/,
    password_reset: /Zurücksetzen meines Passworts/,
    profile_change: /Änderung meines Profils/,
    transaction: /Bestätigung der Zahlung/,
    appointment: /Bestätigung meines Termins/,
  },
  fr: {
    signup: /m'inscrire/,
    login: /me connecter/,
    password_reset: /réinitialiser mon mot de passe/,
    profile_change: /modifier mon profil/,
    transaction: /confirmer le paiement/,
    appointment: /confirmer mon rendez-vous/,
  },
};

const combinations = SUPPORTED_LOCALES.flatMap((locale) => PURPOSES.map((purpose) => [locale, purpose] as const));

describe("resolveLocale", () => {
  it.each<[string | undefined, string | undefined, Locale]>([
    [undefined, undefined, "en"],
    ["de", undefined, "de"],
    ["de-DE", undefined, "de"],
    ["de-AT", "fr", "de"],
    ["fr_CA", undefined, "fr"],
    ["FR", undefined, "fr"],
    [" en-GB ", "de", "en"],
    ["es", "de", "de"],
    ["es-ES", "fr-FR", "fr"],
    ["es", "it", "en"],
    ["", "fr", "fr"],
    [undefined, "de", "de"],
    ["es-ES,fr;q=0.8,de;q=0.5", undefined, "fr"],
    ["deu", undefined, "en"],
    ["d", undefined, "en"],
  ])("%j with app default %j is %s", (requested, appDefault, locale) => {
    expect(resolveLocale(requested, appDefault)).toBe(locale);
  });

  it("lists the supported locales", () => {
    expect(SUPPORTED_LOCALES).toEqual(["en", "de", "fr"]);
  });
});

describe("buildSmsBody", () => {
  it("lists the purposes of the API", () => {
    expect(PURPOSES).toEqual(["signup", "login", "password_reset", "profile_change", "transaction", "appointment"]);
  });

  it.each(combinations)("in %s for %s names the app and the purpose, with the code first and once", (locale, purpose) => {
    const body = buildSmsBody({ appName: "ACME Bank", purpose, code: "482913", locale, context: PAYMENT });
    expect(body).toContain("ACME Bank");
    expect(body).toMatch(PURPOSE_WORDS[locale][purpose]);
    expect(body.startsWith("482913 ")).toBe(true);
    expect(body.split("482913")).toHaveLength(2);
    expect(findSmsCode(body, { length: 6, alphabet: "numeric", appName: "ACME Bank" })).toBe("482913");
    expect(body.endsWith(".")).toBe(true);
  });

  it.each(combinations)("in %s for %s fits one GSM 7-bit segment with a typical app and context", (locale, purpose) => {
    const body = buildSmsBody({
      appName: "Stadtwerke München",
      purpose,
      code: "K7P9XA4M",
      locale,
      context: { amount: "1249.90", currency: "EUR", merchant: "Möbelhaus Schneider", description: "Tue 14 May, 10:30" },
    });
    const septets = gsm7Septets(body);
    expect(septets).toBeDefined();
    expect(septets).toBeLessThanOrEqual(160);
  });

  it.each<[Locale, string]>([
    ["en", "482913 is my ACME code to confirm payment of 49.90 EUR to Shop XY."],
    ["de", "482913 ist mein Code für ACME zur Bestätigung der Zahlung von 49,90 € an Shop XY."],
    ["fr", "482913 est mon code ACME pour confirmer le paiement de 49,90 € à Shop XY."],
  ])("in %s shows amount, currency and merchant of a payment", (locale, expected) => {
    expect(buildSmsBody({ appName: "ACME", purpose: "transaction", code: "482913", locale, context: PAYMENT })).toBe(expected);
  });

  it.each<[SmsContext | undefined, string]>([
    [undefined, "482913 is my ACME code to confirm a payment."],
    [{}, "482913 is my ACME code to confirm a payment."],
    [{ merchant: "Shop XY" }, "482913 is my ACME code to confirm a payment to Shop XY."],
    [{ amount: "49.90" }, "482913 is my ACME code to confirm payment of 49.90."],
    [{ currency: "EUR", merchant: "Shop XY" }, "482913 is my ACME code to confirm a payment to Shop XY."],
    [{ ...PAYMENT, description: "Order 1234" }, "482913 is my ACME code to confirm payment of 49.90 EUR to Shop XY (Order 1234)."],
  ])("words a payment with partial context %j", (context, expected) => {
    const input = { appName: "ACME", purpose: "transaction" as const, code: "482913", locale: "en" as const };
    expect(buildSmsBody(context ? { ...input, context } : input)).toBe(expected);
  });

  it("adds a description to other purposes, and no payment details", () => {
    expect(
      buildSmsBody({
        appName: "Dr. Martin",
        purpose: "appointment",
        code: "482913",
        locale: "de",
        context: { ...PAYMENT, description: "Di 14.05., 10:30" },
      }),
    ).toBe("482913 ist mein Code für Dr. Martin zur Bestätigung meines Termins (Di 14.05., 10:30).");
  });

  it("leaves the app out when its name has nothing printable", () => {
    const input = { purpose: "login" as const, code: "482913" };
    expect(buildSmsBody({ ...input, appName: " \u200B\u202E ", locale: "en" })).toBe("482913 is my code to log in.");
    expect(buildSmsBody({ ...input, appName: "", locale: "de" })).toBe("482913 ist mein Code zur Anmeldung.");
    expect(buildSmsBody({ ...input, appName: "\n", locale: "fr" })).toBe("482913 est mon code pour me connecter.");
  });

  it("falls back to English for a locale it does not know", () => {
    expect(buildSmsBody({ appName: "ACME", purpose: "login", code: "482913", locale: "__proto__" as Locale })).toBe(
      "482913 is my ACME code to log in.",
    );
  });

  it("refuses an unknown purpose rather than word it as another one", () => {
    for (const purpose of ["refund", "__proto__", "constructor"]) {
      expect(() => buildSmsBody({ appName: "ACME", purpose: purpose as Purpose, code: "482913", locale: "en" })).toThrow(RangeError);
    }
  });

  describe("sanitises the app name and context", () => {
    it("removes bidi, zero-width and control characters", () => {
      const body = buildSmsBody({
        appName: "AC\u202EME\u200B Bank\u0007",
        purpose: "transaction",
        code: "482913",
        locale: "en",
        context: { amount: "49\u200B.90", currency: "\u2066EUR\u2069", merchant: "Shop\u0000 XY\u202C" },
      });
      expect(body).toBe("482913 is my ACME Bank code to confirm payment of 49.90 EUR to Shop XY.");
    });

    it("collapses whitespace and line breaks into single spaces", () => {
      const body = buildSmsBody({ appName: "  ACME\n\n\tBank\u2028 ", purpose: "login", code: "482913", locale: "en" });
      expect(body).toBe("482913 is my ACME Bank code to log in.");
    });

    it("caps the length of each field", () => {
      const long = "X".repeat(500);
      const body = buildSmsBody({
        appName: `App${long}`,
        purpose: "transaction",
        code: "482913",
        locale: "en",
        context: { amount: `1${"0".repeat(100)}`, currency: "EURO-DOLLAR", merchant: `M${long}`, description: `D${long}` },
      });
      expect(body).toContain(`App${"X".repeat(SMS_FIELD_MAX_LENGTH.appName - 3)} code`);
      expect(body).toContain(`of 1${"0".repeat(SMS_FIELD_MAX_LENGTH.amount - 1)} EURO- to`);
      expect(body).toContain(` to M${"X".repeat(SMS_FIELD_MAX_LENGTH.merchant - 1)} (`);
      expect(body).toContain(`(D${"X".repeat(SMS_FIELD_MAX_LENGTH.description - 1)}).`);
    });

    it("does not split an emoji when capping", () => {
      const body = buildSmsBody({ appName: "😀".repeat(40), purpose: "login", code: "482913", locale: "en" });
      expect(body).toContain(`my ${"😀".repeat(SMS_FIELD_MAX_LENGTH.appName)} code`);
      expect(() => encodeURIComponent(body)).not.toThrow();
    });

    it("keeps the code first when the app name and context hold other codes", () => {
      const body = buildSmsBody({
        appName: "111111 Bank 22 22 22",
        purpose: "transaction",
        code: "482913",
        locale: "fr",
        context: { amount: "333333", currency: "444", merchant: "555 555", description: "666666" },
      });
      expect(findSmsCode(body, { length: 6, alphabet: "numeric", appName: "111111 Bank 22 22 22" })).toBe("482913");
    });
  });
});

const appNameArb = fc.oneof(
  fc.constantFrom("ACME", "Shop 24", "1&1", "Bank 123 456", "A1 B2 C3", "K7P 9XA", "Stadtwerke München", "Le Café", "7-Eleven"),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(..."0123456789ABCKPX .-\u200B\u202E"), maxLength: 40 }),
);
const fieldArb = fc.option(
  fc.oneof(fc.string({ maxLength: 50 }), fc.string({ unit: fc.constantFrom(..."0123456789 .,-ABX\u2066"), maxLength: 50 })),
  { nil: undefined },
);
const contextArb = fc.option(
  fc.record({ amount: fieldArb, currency: fieldArb, merchant: fieldArb, description: fieldArb }, { requiredKeys: [] }),
  { nil: undefined },
);
const policyAndCodeArb = fc
  .record({ length: fc.integer({ min: 4, max: 8 }), alphabet: fc.constantFrom<CodeAlphabet>("numeric", "alphanumeric") })
  .chain((policy) => {
    const symbols = policy.alphabet === "numeric" ? NUMERIC_ALPHABET : ALPHANUMERIC_ALPHABET;
    return fc.tuple(
      fc.constant(policy),
      fc.string({ unit: fc.constantFrom(...symbols), minLength: policy.length, maxLength: policy.length }),
    );
  });

describe("buildSmsBody properties", () => {
  it("always yields its code, and nothing once the code is removed, whatever the app name and context", () => {
    fc.assert(
      fc.property(
        policyAndCodeArb,
        appNameArb,
        contextArb,
        fc.constantFrom(...PURPOSES),
        fc.constantFrom(...SUPPORTED_LOCALES),
        ([policy, code], appName, context, purpose, locale) => {
          const body = buildSmsBody({ appName, purpose, code, locale, ...(context ? { context } : {}) });
          expect(findSmsCode(body, { ...policy, appName })).toBe(code);
          expect(findSmsCode(body.slice(code.length), { ...policy, appName })).toBeUndefined();
        },
      ),
      { seed: FC_SEED, numRuns: 2000 },
    );
  });

  it("never contains control, bidi or zero-width characters, nor a line break", () => {
    fc.assert(
      fc.property(appNameArb, contextArb, fc.constantFrom(...PURPOSES), fc.constantFrom(...SUPPORTED_LOCALES), (appName, context, purpose, locale) => {
        const body = buildSmsBody({ appName, purpose, code: "482913", locale, ...(context ? { context } : {}) });
        expect(body).not.toMatch(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u);
        expect(body).not.toMatch(/\s{2}/);
      }),
      { seed: FC_SEED, numRuns: 1000 },
    );
  });
});

describe("buildSmsUris", () => {
  it("builds the iOS and Android forms", () => {
    expect(buildSmsUris("+33700000000", "482913 is my ACME code to log in.")).toEqual({
      ios: "sms:+33700000000&body=482913%20is%20my%20ACME%20code%20to%20log%20in.",
      android: "sms:+33700000000?body=482913%20is%20my%20ACME%20code%20to%20log%20in.",
    });
  });

  it("keeps only + and digits of the recipient, so it cannot add parameters", () => {
    expect(buildSmsUris("+33 7 00&body=evil", "x").android).toBe("sms:+33700?body=x");
  });

  it("encodes bodies so that they decode back exactly", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (body) => {
        const { ios, android } = buildSmsUris("+33700000000", body);
        expect(decodeURIComponent(ios.slice("sms:+33700000000&body=".length))).toBe(body);
        expect(decodeURIComponent(android.slice("sms:+33700000000?body=".length))).toBe(body);
        expect(ios.indexOf("&", 4)).toBe("sms:+33700000000".length);
        expect(android.split("?")).toHaveLength(2);
      }),
      { seed: FC_SEED, numRuns: 1000 },
    );
  });

  it("round-trips real bodies in every locale", () => {
    for (const [locale, purpose] of combinations) {
      const body = buildSmsBody({ appName: "Café & Co? #1", purpose, code: "482913", locale, context: PAYMENT });
      const { ios, android } = buildSmsUris("+33700000000", body);
      expect(decodeURIComponent(ios.split("&body=")[1] ?? "")).toBe(body);
      expect(decodeURIComponent(android.split("?body=")[1] ?? "")).toBe(body);
    }
  });

  it("does not throw on a lone surrogate", () => {
    expect(buildSmsUris("+33700000000", "a\uD800b").android).toBe("sms:+33700000000?body=a%EF%BF%BDb");
  });
});

describe("amounts in the reader's format (the issue-14 finding: the German SMS read 49.90 EUR)", () => {
  it.each<[Locale, string, string, string]>([
    ["en", "1249.90", "EUR", "482913 is my ACME code to confirm payment of 1,249.90 EUR to Shop."],
    ["de", "1249.90", "EUR", "482913 ist mein Code für ACME zur Bestätigung der Zahlung von 1.249,90 € an Shop."],
    ["fr", "1249.90", "EUR", "482913 est mon code ACME pour confirmer le paiement de 1 249,90 € à Shop."],
    ["de", "49.9", "GBP", "482913 ist mein Code für ACME zur Bestätigung der Zahlung von 49,9 £ an Shop."],
    // A symbol outside GSM 7-bit (₹) would make the SMS UCS-2: the ISO code is written instead.
    ["de", "100", "INR", "482913 ist mein Code für ACME zur Bestätigung der Zahlung von 100 INR an Shop."],
  ])("in %s, %s %s", (locale, amount, currency, expected) => {
    const body = buildSmsBody({ appName: "ACME", purpose: "transaction", code: "482913", locale, context: { amount, currency, merchant: "Shop" } });
    expect(body).toBe(expected);
    expect(gsm7Septets(body)).toBeDefined();
    expect(findSmsCode(body, { length: 6, alphabet: "numeric", appName: "ACME" })).toBe("482913");
  });
});
