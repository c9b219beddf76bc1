import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { ALPHANUMERIC_ALPHABET, NUMERIC_ALPHABET, type CodeAlphabet } from "../../../src/challenges/code-policy.js";
import { findSmsCode, normalizeSmsText, type SmsCodeRule } from "../../../src/challenges/sms-code.js";
import { buildSmsBody } from "../../../src/challenges/sms-text.js";

const FC_SEED = 20_240_611;
const SIX_DIGITS: SmsCodeRule = { length: 6, alphabet: "numeric", appName: "ACME Bank" };
const SIX_ALPHANUMERIC: SmsCodeRule = { length: 6, alphabet: "alphanumeric", appName: "ACME Bank" };

/** Every zero-width and bidi control character SECURITY.md and PRODUCT.md name. */
const INVISIBLES = [
  "\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF",
  "\u200E", "\u200F", "\u202A", "\u202B", "\u202C", "\u202D", "\u202E",
  "\u2066", "\u2067", "\u2068", "\u2069", "\u061C",
];

describe("normalizeSmsText", () => {
  it("applies NFKC, so full-width digits and letters become ASCII", () => {
    expect(normalizeSmsText("４８２９１３ ＡＢＣ")).toBe("482913 ABC");
  });

  it("removes every zero-width and bidi control character", () => {
    expect(normalizeSmsText(`4${INVISIBLES.join("")}8`)).toBe("48");
  });

  it("upper-cases", () => {
    expect(normalizeSmsText("code 4k7p")).toBe("CODE 4K7P");
  });

  it("reads decimal digits of other scripts as ASCII digits", () => {
    expect(normalizeSmsText("٤٨٢٩١٣ ۴۸۲۹۱۳ ४८२९१३ ৪৮২৯১৩ ๔๘๒๙๑๓")).toBe("482913 482913 482913 482913 482913");
  });

  it("keeps a normal sentence readable", () => {
    expect(normalizeSmsText("Voilà mon code : 482913 !")).toBe("VOILÀ MON CODE : 482913 !");
  });
});

describe("findSmsCode", () => {
  describe("finds the code in what users really send", () => {
    it.each([
      ["482913", "the bare code"],
      ["482913 is my ACME Bank code to log in.", "our English body"],
      ["482913 ist mein Code für ACME Bank zur Anmeldung.", "our German body"],
      ["482913 est mon code ACME Bank pour me connecter.", "our French body"],
      ["482913 is my ACME Bank code to confirm payment of 49.90 EUR to Shop 24.", "our payment body"],
      ["My code is 482913", "English, code at the end"],
      ["Hi, here is 482913 for the login, thanks", "English, code in the middle"],
      ["Here is my code: 482913", "English, words of our wording before the code"],
      ["Mein Code lautet 482913.", "German, full stop after the code"],
      ["Das ist mein Code: 482913", "German, words of our wording before the code"],
      ["Hallo! Der Code ist „482913“, danke", "German quotes"],
      ["Voici mon code : 482913 !", "French spacing before punctuation"],
      ["Code «482913» pour ACME", "French guillemets"],
      ['My code is "482913".', "English quotes"],
      ["[482913]", "brackets"],
      ["(482913)", "parentheses"],
      ["#482913", "hash sign"],
      ["code:482913", "colon without space"],
      ["✅ 482913 🙏", "emoji around"],
      ["🔑482913🔑", "emoji glued to it"],
      ["４８２９１３", "full-width digits"],
      ["Code：４８２９１３", "full-width colon and digits"],
      ["48\u200B2913", "zero-width space inside"],
      ["4\u200D8\u200C2\u20609\uFEFF1\u200E3", "several invisible characters inside"],
      ["\u202E482913\u202C", "a right-to-left override around"],
      ["\u2067482913\u2069", "a right-to-left isolate around"],
      ["482 913", "two groups with a space"],
      ["482-913", "two groups with a hyphen"],
      ["48 29 13", "three groups with spaces"],
      ["48.29.13", "three groups with dots"],
      ["4 8 2 9 1 3", "every digit apart"],
      ["482\u00A0913", "a no-break space between groups"],
      ["482‑913", "a non-breaking hyphen between groups"],
      ["Code: 482 913.", "groups with punctuation around"],
      ["٤٨٢٩١٣", "Arabic-Indic digits"],
      ["4️⃣8️⃣2️⃣9️⃣1️⃣3️⃣", "keycap emoji"],
      ["Pay 49.90 EUR, code 482913", "an amount that has not the code's length"],
      ["Paiement de 1 249,90 € — code 482913", "a French amount"],
      ["Order 4829131, code 482913", "a longer number before"],
      ["Hallo, mein Code: 482 913 (Termin 14:30)", "a time after"],
    ])("%j (%s)", (text) => {
      expect(findSmsCode(text, SIX_DIGITS)).toBe("482913");
    });

    it("finds an alphanumeric code typed in lower case", () => {
      expect(findSmsCode("my code is 4k7p9x", SIX_ALPHANUMERIC)).toBe("4K7P9X");
      expect(findSmsCode("Code: 4k7-p9x", SIX_ALPHANUMERIC)).toBe("4K7P9X");
      expect(findSmsCode("ｃｏｄｅ ４ｋ７ｐ９ｘ", SIX_ALPHANUMERIC)).toBe("4K7P9X");
      expect(findSmsCode("4K7P9X est mon code ACME Bank pour me connecter.", SIX_ALPHANUMERIC)).toBe("4K7P9X");
    });

    it("finds codes of every length from 4 to 8", () => {
      for (const code of ["4829", "48291", "482913", "4829135", "48291357"]) {
        expect(findSmsCode(`Code ${code}.`, { ...SIX_DIGITS, length: code.length })).toBe(code);
      }
    });

    it("finds the code at the end of a 1,600-character message", () => {
      const text = `${"Lorem ipsum dolor sit amet, ".repeat(57)}482913`;
      expect(text.length).toBeGreaterThan(1600);
      expect(findSmsCode(text, SIX_DIGITS)).toBe("482913");
    });
  });

  describe("refuses what is not a code", () => {
    it.each([
      ["4829131", "a longer digit run (no sliding window)"],
      ["48291", "a shorter digit run"],
      ["482913482913", "a code repeated without a separator"],
      ["code482913", "a code glued to letters"],
      ["482913x", "a code glued to a letter after it"],
      ["482  913", "groups with two spaces"],
      ["482 - 913", "groups with a spaced hyphen"],
      ["482\n913", "groups on two lines"],
      ["482,913", "groups with a comma"],
      ["482/913", "groups with a slash"],
      ["49.90 EUR", "an amount"],
      ["Total: 1,249.90 EUR", "an amount with thousands"],
      ["Call me at 10:30", "a time"],
      ["", "an empty text"],
      ["👍", "an emoji"],
      ["4829\u0663", "five digits, one of them Arabic-Indic"],
    ])("%j (%s)", (text) => {
      expect(findSmsCode(text, SIX_DIGITS)).toBeUndefined();
    });

    it("does not take letters for digits, nor look-alikes for alphanumeric symbols", () => {
      expect(findSmsCode("ABCDEF", SIX_DIGITS)).toBeUndefined();
      expect(findSmsCode("4K7P9O", SIX_ALPHANUMERIC)).toBeUndefined();
      expect(findSmsCode("4K7P91", SIX_ALPHANUMERIC)).toBeUndefined();
      expect(findSmsCode("4k7p9l", SIX_ALPHANUMERIC)).toBeUndefined();
    });

    it("takes dotted groups of exactly the code's length, as users type 48.29", () => {
      expect(findSmsCode("49.90 EUR", { ...SIX_DIGITS, length: 4 })).toBe("4990");
    });

    it("returns nothing for a policy it cannot apply", () => {
      expect(findSmsCode("482913", { ...SIX_DIGITS, length: 0 })).toBeUndefined();
      expect(findSmsCode("482913", { ...SIX_DIGITS, length: 6.5 })).toBeUndefined();
      expect(findSmsCode("482913", { ...SIX_DIGITS, alphabet: "hex" as CodeAlphabet })).toBeUndefined();
      expect(findSmsCode("482913", { ...SIX_DIGITS, alphabet: "__proto__" as CodeAlphabet })).toBeUndefined();
    });
  });

  describe("reads one code per SMS: the first", () => {
    it("takes the first of several codes, and only it", () => {
      expect(findSmsCode("111111 222222 111111 333333 444444", SIX_DIGITS)).toBe("111111");
      expect(findSmsCode("123456 654321", SIX_DIGITS)).toBe("123456");
      expect(findSmsCode("482913 482-913 48 29 13", SIX_DIGITS)).toBe("482913");
    });

    it("takes the first group of a grouped run", () => {
      expect(findSmsCode("12 34 56 78 90 12 34", SIX_DIGITS)).toBe("123456");
      expect(findSmsCode("1 2 3 4 5 6 7 8 9", SIX_DIGITS)).toBe("123456");
    });

    it("takes a phone number typed before the code for the code (the first code-shaped group)", () => {
      expect(findSmsCode("Tel. +33 6 12 34 56 78 code 482913", SIX_DIGITS)).toBe("123456");
    });

    it("takes an alphabet-only word of the code's length before an alphanumeric code for the code", () => {
      expect(findSmsCode("Thanks, 4k7p9x", SIX_ALPHANUMERIC)).toBe("THANKS");
    });

    it("handles 200,000 characters of digit groups", () => {
      expect(findSmsCode("1 ".repeat(100_000), SIX_DIGITS)).toBe("111111");
      expect(findSmsCode("9".repeat(200_000), SIX_DIGITS)).toBeUndefined();
    });
  });

  describe("never reads the service's own wording", () => {
    it("reads nothing of a prefilled body whose code the user deleted, in every locale", () => {
      const context = { amount: "97.8689", currency: "EUR", merchant: "Mallory 123456", description: "654321" };
      for (const locale of ["en", "de", "fr"] as const) {
        const body = buildSmsBody({ appName: "ACME Bank", purpose: "transaction", code: "379261", locale, context });
        expect(findSmsCode(body, SIX_DIGITS)).toBe("379261");
        expect(findSmsCode(body.replace("379261", ""), SIX_DIGITS)).toBeUndefined();
        expect(findSmsCode(`Hello! ${body.replace("379261 ", "")}`, SIX_DIGITS)).toBeUndefined();
      }
    });

    it("reads an app name with digits as wording, not as a code", () => {
      const rule = { ...SIX_DIGITS, appName: "Shop 123 456" };
      const body = buildSmsBody({ appName: rule.appName, purpose: "login", code: "482913", locale: "en" });
      expect(findSmsCode(body, rule)).toBe("482913");
      expect(findSmsCode(body.replace("482913 ", ""), rule)).toBeUndefined();
    });

    it("cuts at the earliest opening, whatever the locale of the body", () => {
      expect(findSmsCode("est mon code ACME Bank pour 111111 is my ACME Bank code to 222222", SIX_DIGITS)).toBeUndefined();
    });
  });
});

/** An app name that the words below never spell, so no random text holds the wording's opening. */
const policyArb = fc.record({
  length: fc.integer({ min: 4, max: 8 }),
  alphabet: fc.constantFrom<CodeAlphabet>("numeric", "alphanumeric"),
  appName: fc.constant("Zebulon"),
});

function codeArb(policy: SmsCodeRule): fc.Arbitrary<string> {
  const symbols = policy.alphabet === "numeric" ? NUMERIC_ALPHABET : ALPHANUMERIC_ALPHABET;
  return fc.string({ unit: fc.constantFrom(...symbols), minLength: policy.length, maxLength: policy.length });
}

const wordArb = fc.oneof(
  fc.constantFrom(
    "my", "code", "is", "for", "login", "the", "Thanks", "mein", "Code", "ist", "für", "die", "Anmeldung", "Danke",
    "mon", "code", "est", "pour", "la", "connexion", "merci", "ACME", "Bank", "Shop", "XY", "EUR", "49.90", "€",
    "😀", "🙏🏽", "👨‍👩‍👧", "✅", "—", "…", "!", "?", ":", "«", "»", "„", "“", "\"", "(", ")", "1", "12", "2024",
  ),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }),
  fc.string({ unit: fc.constantFrom(..."abcxyz0123456789 .-"), minLength: 1, maxLength: 8 }),
);

/** Separators around the code: never empty, so the code stays a token of its own. */
const edgeArb = fc.constantFrom(" ", "  ", ": ", " \"", "\" ", "(", ")", "\n", ". ", ", ", "!", " « ", " » ", "\t", " 🙂 ");

describe("findSmsCode properties", () => {
  it("finds a valid code among any words that hold no code-shaped group", () => {
    fc.assert(
      fc.property(
        policyArb.chain((policy) =>
          fc.record({
            policy: fc.constant(policy),
            code: codeArb(policy),
            before: fc.array(wordArb, { maxLength: 10 }),
            after: fc.array(wordArb, { maxLength: 10 }),
            left: edgeArb,
            right: edgeArb,
          }),
        ),
        ({ policy, code, before, after, left, right }) => {
          fc.pre(findSmsCode(before.join(" "), policy) === undefined);
          const text = `${before.join(" ")}${left}${code}${right}${after.join(" ")}`;
          expect(findSmsCode(text, policy)).toBe(code);
          const typedInLowerCase = `${before.join(" ")}${left}${code.toLowerCase()}${right}${after.join(" ")}`;
          expect(findSmsCode(typedInLowerCase, policy)).toBe(code);
        },
      ),
      { seed: FC_SEED, numRuns: 1000 },
    );
  });

  it("finds a code typed in groups of single spaces, hyphens or dots", () => {
    fc.assert(
      fc.property(
        policyArb.chain((policy) => fc.tuple(fc.constant(policy), codeArb(policy))),
        fc.array(fc.nat(), { maxLength: 7 }),
        fc.constantFrom(" ", "-", ".", "\u00A0", "\u2010"),
        ([policy, code], cuts, joiner) => {
          const positions = new Set(cuts.map((c) => 1 + (c % (code.length - 1))));
          const grouped = [...code].map((ch, i) => (positions.has(i) ? `${joiner}${ch}` : ch)).join("");
          expect(findSmsCode(`Code: ${grouped}!`, policy)).toBe(code);
        },
      ),
      { seed: FC_SEED, numRuns: 500 },
    );
  });

  it("gives the same code when zero-width or bidi characters are inserted anywhere", () => {
    fc.assert(
      fc.property(
        policyArb.chain((policy) =>
          fc.record({
            policy: fc.constant(policy),
            code: codeArb(policy),
            before: fc.array(wordArb, { maxLength: 6 }),
            after: fc.array(wordArb, { maxLength: 6 }),
          }),
        ),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...INVISIBLES)), { minLength: 1, maxLength: 12 }),
        ({ policy, code, before, after }, insertions) => {
          const text = [...before, code, ...after].join(" ");
          const chars = Array.from(text);
          for (const [at, invisible] of insertions) chars.splice(at % (chars.length + 1), 0, invisible);
          const expected = findSmsCode(text, policy);
          expect(findSmsCode(chars.join(""), policy)).toBe(expected);
          if (findSmsCode(before.join(" "), policy) === undefined) expect(expected).toBe(code);
        },
      ),
      { seed: FC_SEED, numRuns: 1000 },
    );
  });

  it("never throws, and returns nothing or one code of the policy's length and alphabet", () => {
    const textArb = fc.oneof(
      fc.string({ unit: "binary", maxLength: 2000 }),
      fc.string({ unit: "grapheme", maxLength: 2000 }),
      fc.string({ unit: fc.constantFrom(..."0123456789 .-\u200B4k7PXO"), maxLength: 2000 }),
      fc.string({ unit: fc.constantFrom(..."٤٨٢ ４８２ 48 29 13\u202E"), maxLength: 2000 }),
    );
    fc.assert(
      fc.property(textArb, policyArb, (text, policy) => {
        const code = findSmsCode(text, policy);
        if (code === undefined) return;
        expect(code).toHaveLength(policy.length);
        const symbols = policy.alphabet === "numeric" ? NUMERIC_ALPHABET : ALPHANUMERIC_ALPHABET;
        for (const ch of code) expect(symbols).toContain(ch);
      }),
      { seed: FC_SEED, numRuns: 1000 },
    );
  });

  it("reads the first of several codes and nothing after it, whatever follows", () => {
    fc.assert(
      fc.property(
        policyArb.chain((policy) =>
          fc.record({
            policy: fc.constant(policy),
            codes: fc.array(codeArb(policy), { minLength: 1, maxLength: 5 }),
            words: fc.array(wordArb, { maxLength: 8 }),
            separator: fc.constantFrom(" ", ", ", " and ", "\n", " / "),
          }),
        ),
        ({ policy, codes, words, separator }) => {
          const text = `${codes.join(separator)} ${words.join(" ")}`;
          expect(findSmsCode(text, policy)).toBe(codes[0]);
        },
      ),
      { seed: FC_SEED, numRuns: 1000 },
    );
  });
});
