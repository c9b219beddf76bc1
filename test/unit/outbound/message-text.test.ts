// The texts of codes we send. Wording as the first source document asks (code first, app,
// purpose, amount and payee), one SMS (3GPP TS 23.038: 160 GSM 7-bit septets or 70 UCS-2 units).
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { PURPOSES, SUPPORTED_LOCALES, type Locale, type Purpose } from "../../../src/challenges/sms-text.js";
import { gsm7Septets, isGsm7, smsSize, toGsm7WherePossible } from "../../../src/outbound/gsm7.js";
import { buildOutboundEmail, buildOutboundSms } from "../../../src/outbound/message-text.js";

const FC_SEED = 20_261_203;
const PAYMENT = { amount: "49.90", currency: "EUR", merchant: "Shop" };

describe("buildOutboundSms", () => {
  it.each<[Locale, string]>([
    ["en", "123456 is your Acme code to confirm 49.90 EUR to Shop. Do not share it."],
    ["de", "123456 ist dein Code für Acme zur Bestätigung von 49,90 € an Shop. Gib ihn nicht weiter."],
    ["fr", "123456 est votre code Acme pour confirmer 49,90 € à Shop. Ne le partagez pas."],
  ])("words a payment in %s with amount (in the reader's format) and payee", (locale, expected) => {
    expect(buildOutboundSms({ appName: "Acme", purpose: "transaction", code: "123456", locale, context: PAYMENT })).toBe(expected);
  });

  it.each<[Locale, Purpose, string]>([
    ["en", "login", "482913 is your Acme code to log in. Do not share it."],
    ["en", "signup", "482913 is your Acme code to sign up. Do not share it."],
    ["en", "password_reset", "482913 is your Acme code to reset your password. Do not share it."],
    ["de", "profile_change", "482913 ist dein Code für Acme zur Änderung deines Profils. Gib ihn nicht weiter."],
    ["fr", "appointment", "482913 est votre code Acme pour confirmer votre rendez-vous. Ne le partagez pas."],
  ])("in %s for %s", (locale, purpose, expected) => {
    expect(buildOutboundSms({ appName: "Acme", purpose, code: "482913", locale })).toBe(expected);
  });

  it("writes a payment without amount or merchant plainly, and a description in brackets", () => {
    expect(buildOutboundSms({ appName: "Acme", purpose: "transaction", code: "482913", locale: "en" })).toBe(
      "482913 is your Acme code to confirm a payment. Do not share it.",
    );
    expect(
      buildOutboundSms({ appName: "Dr. Martin", purpose: "appointment", code: "482913", locale: "de", context: { description: "Di 14.05., 10:30" } }),
    ).toBe("482913 ist dein Code für Dr. Martin zur Bestätigung deines Termins (Di 14.05., 10:30). Gib ihn nicht weiter.");
  });

  it("keeps payment details out of other purposes", () => {
    const text = buildOutboundSms({ appName: "Acme", purpose: "login", code: "482913", locale: "en", context: PAYMENT });
    expect(text).not.toContain("49");
    expect(text).not.toContain("Shop");
  });

  it("brings the app's names into GSM-7 where that changes nothing they say, so the SMS stays GSM-7", () => {
    const text = buildOutboundSms({ appName: "Crêperie “Chez Françoise”", purpose: "login", code: "482913", locale: "fr" });
    expect(text).toBe('482913 est votre code Creperie "Chez Francoise" pour vous connecter. Ne le partagez pas.');
    expect(isGsm7(text)).toBe(true);
  });

  it("shortens in the documented order when a name needs UCS-2 (70 characters)", () => {
    const text = buildOutboundSms({
      appName: "東京銀行オンライン",
      purpose: "transaction",
      code: "482913",
      locale: "en",
      context: { amount: "1249.90", currency: "EUR", merchant: "Möbelhaus Schneider GmbH & Co. KG", description: "Order 2024-11-0001" },
    });
    expect(smsSize(text)).toMatchObject({ encoding: "UCS-2", parts: 1 });
    // Description gone, merchant shortened, then the warning gone; amount kept.
    expect(text).toBe("482913 is your 東京銀行オンライン code to confirm 1,249.90 EUR to Möbelhaus Sc.");
  });

  it("drops the description first when GSM-7 overflows", () => {
    const text = buildOutboundSms({
      appName: "Stadtwerke München Kundenportal",
      purpose: "transaction",
      code: "K7P9XA4M",
      locale: "de",
      context: { amount: "123456789012.1234", currency: "EUR", merchant: "Möbelhaus Schneider GmbH & Co", description: "Rechnung 2024-11-0001 vom 14.11." },
    });
    expect(text.startsWith("K7P9XA4M ist dein Code für Stadtwerke München")).toBe(true);
    expect(text).toContain("123.456.789.012,1234 €");
    expect(text).not.toContain("Rechnung");
    expect(gsm7Septets(text)).toBeLessThanOrEqual(160);
  });

  it("refuses an unknown purpose rather than word it as another one", () => {
    expect(() => buildOutboundSms({ appName: "A", purpose: "refund" as Purpose, code: "1234", locale: "en" })).toThrow(RangeError);
  });

  const codeArb = fc.oneof(
    fc.stringMatching(/^[0-9]{4,8}$/),
    fc.stringMatching(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4,8}$/),
  );
  const textArb = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: "grapheme", maxLength: 80 }),
    fc.constantFrom("Möbelhaus Schneider", "東京銀行", "Crêperie 🥞", "Shop & Co. — “Best”", "\u202Eevil\u200B", ""),
  );
  it("property: every text starts with the code, fits one SMS, and names the purpose's app only as sanitised", () => {
    fc.assert(
      fc.property(
        codeArb,
        fc.constantFrom(...PURPOSES),
        fc.constantFrom(...SUPPORTED_LOCALES),
        textArb,
        fc.record(
          {
            amount: fc.oneof(fc.stringMatching(/^\d{1,12}(\.\d{1,4})?$/), textArb),
            currency: fc.oneof(fc.constantFrom("EUR", "USD", "GBP", "INR", "CHF", "JPY"), textArb),
            merchant: textArb,
            description: textArb,
          },
          { requiredKeys: [] },
        ),
        (code, purpose, locale, appName, context) => {
          const text = buildOutboundSms({ appName, purpose, code, locale, context });
          expect(text.startsWith(`${code} `)).toBe(true);
          expect(smsSize(text).parts).toBe(1);
          expect(text).not.toMatch(/[\p{Cc}\p{Cf}\u2028\u2029]/u);
        },
      ),
      { seed: FC_SEED, numRuns: 3000 },
    );
  });
});

describe("toGsm7WherePossible", () => {
  it.each([
    ["Françoise", "Francoise"],
    ["être", "etre"],
    ["“quoted” – ‘x’…", "\"quoted\" - 'x'..."],
    ["Müller ß Ñ é à", "Müller ß Ñ é à"],
    ["łódź", "łodz"],
    ["東京", "東京"],
  ])("%s → %s", (input, expected) => {
    expect(toGsm7WherePossible(input)).toBe(expected);
  });
});

describe("buildOutboundEmail", () => {
  it("puts the code first in the subject and in both parts, with the same wording as the SMS", () => {
    const mail = buildOutboundEmail({ appName: "Acme", purpose: "transaction", code: "123456", locale: "de", context: PAYMENT, expiresInSeconds: 300 });
    expect(mail.subject).toBe("123456 ist dein Code für Acme");
    expect(mail.text).toBe(
      "123456 ist dein Code für Acme zur Bestätigung von 49,90 € an Shop. Gib ihn nicht weiter.\nEr ist 5 Minuten gültig.\n\nWenn du diesen Code nicht angefordert hast, ignoriere diese Nachricht.\n",
    );
    expect(mail.html).toMatch(/<body[^>]*>\n<p[^>]*>123456<\/p>/);
    expect(mail.html).toContain("zur Bestätigung von 49,90 € an Shop.");
  });

  it.each(SUPPORTED_LOCALES)("is written in %s", (locale) => {
    const mail = buildOutboundEmail({ appName: "Acme", purpose: "login", code: "482913", locale, expiresInSeconds: 60 });
    expect(mail.subject.startsWith("482913 ")).toBe(true);
    expect(mail.text.startsWith("482913 ")).toBe(true);
    expect(mail.html).toContain(`<html lang="${locale}">`);
  });

  it("escapes what the app supplied in the HTML part", () => {
    const mail = buildOutboundEmail({ appName: "<script>alert(1)</script>", purpose: "transaction", code: "482913", locale: "en", context: { merchant: `"><img src=x>` } });
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).not.toContain("<img");
    expect(mail.html).toContain("&lt;script&gt;");
  });
});

describe("GSM 03.38 sizes", () => {
  it.each<[string, number | undefined]>([
    ["abc", 3],
    ["49,90 €", 8],
    ["[x]", 5],
    ["Müller ß", 8],
    ["ç", undefined],
    ["é", 1],
    ["🥞", undefined],
  ])("%j takes %s septets", (text, septets) => {
    expect(gsm7Septets(text)).toBe(septets);
  });

  it.each<[string, string, number]>([
    ["a".repeat(160), "GSM-7", 1],
    ["a".repeat(161), "GSM-7", 2],
    ["€".repeat(80), "GSM-7", 1],
    ["€".repeat(81), "GSM-7", 2],
    ["東".repeat(70), "UCS-2", 1],
    ["東".repeat(71), "UCS-2", 2],
    ["🥞".repeat(35), "UCS-2", 1],
  ])("%#: the text is %s in %i part(s)", (text, encoding, parts) => {
    expect(smsSize(text)).toMatchObject({ encoding, parts });
  });
});
