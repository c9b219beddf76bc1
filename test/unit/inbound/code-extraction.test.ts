import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { ALPHANUMERIC_ALPHABET, NUMERIC_ALPHABET, type CodeAlphabet } from "../../../src/challenges/code-policy.js";
import { MAX_CODE_CANDIDATES, extractCodeCandidates, normalizeSmsText } from "../../../src/inbound/code-extraction.js";

const FC_SEED = 20_240_611;
const SIX_DIGITS = { length: 6, alphabet: "numeric" } as const;
const SIX_ALPHANUMERIC = { length: 6, alphabet: "alphanumeric" } as const;

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

describe("extractCodeCandidates", () => {
  describe("finds the code in what users really send", () => {
    it.each([
      ["482913", "the bare code"],
      ["482913 is my ACME Bank code to log in.", "our English body"],
      ["482913 ist mein Code für ACME Bank zur Anmeldung.", "our German body"],
      ["482913 est mon code ACME Bank pour me connecter.", "our French body"],
      ["482913 is my ACME Bank code to confirm payment of 49.90 EUR to Shop 24.", "our payment body"],
      ["My code is 482913", "English, code at the end"],
      ["Hi, here is 482913 for the login, thanks", "English, code in the middle"],
      ["Mein Code lautet 482913.", "German, full stop after the code"],
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
      ["Tel. +33 6 12 34 56 78 code 482913", "a phone number before (only 3 candidates at most)"],
    ])("%j (%s)", (text) => {
      expect(extractCodeCandidates(text, SIX_DIGITS)).toContain("482913");
    });

    it("finds the code first when nothing before it looks like a code", () => {
      expect(extractCodeCandidates("Hallo, mein Code: 482 913 (Termin 14:30)", SIX_DIGITS)).toEqual(["482913"]);
    });

    it("finds an alphanumeric code typed in lower case", () => {
      expect(extractCodeCandidates("my code is 4k7p9x", SIX_ALPHANUMERIC)).toEqual(["4K7P9X"]);
      expect(extractCodeCandidates("Code: 4k7-p9x", SIX_ALPHANUMERIC)).toEqual(["4K7P9X"]);
      expect(extractCodeCandidates("ｃｏｄｅ ４ｋ７ｐ９ｘ", SIX_ALPHANUMERIC)).toEqual(["4K7P9X"]);
    });

    it("finds codes of every length from 4 to 8", () => {
      for (const code of ["4829", "48291", "482913", "4829135", "48291357"]) {
        expect(extractCodeCandidates(`Code ${code}.`, { length: code.length, alphabet: "numeric" })).toEqual([code]);
      }
    });

    it("finds the code at the end of a 1,600-character message", () => {
      const text = `${"Lorem ipsum dolor sit amet, ".repeat(57)}482913`;
      expect(text.length).toBeGreaterThan(1600);
      expect(extractCodeCandidates(text, SIX_DIGITS)).toEqual(["482913"]);
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
      expect(extractCodeCandidates(text, SIX_DIGITS)).toEqual([]);
    });

    it("does not take letters for digits, nor look-alikes for alphanumeric symbols", () => {
      expect(extractCodeCandidates("ABCDEF", SIX_DIGITS)).toEqual([]);
      expect(extractCodeCandidates("4K7P9O", SIX_ALPHANUMERIC)).toEqual([]);
      expect(extractCodeCandidates("4K7P91", SIX_ALPHANUMERIC)).toEqual([]);
      expect(extractCodeCandidates("4k7p9l", SIX_ALPHANUMERIC)).toEqual([]);
    });

    it("takes dotted groups of exactly the code's length, as users type 48.29", () => {
      expect(extractCodeCandidates("49.90 EUR", { length: 4, alphabet: "numeric" })).toEqual(["4990"]);
    });

    it("returns nothing for a policy it cannot apply", () => {
      expect(extractCodeCandidates("482913", { length: 0, alphabet: "numeric" })).toEqual([]);
      expect(extractCodeCandidates("482913", { length: 6.5, alphabet: "numeric" })).toEqual([]);
      expect(extractCodeCandidates("482913", { length: 6, alphabet: "hex" as CodeAlphabet })).toEqual([]);
      expect(extractCodeCandidates("482913", { length: 6, alphabet: "__proto__" as CodeAlphabet })).toEqual([]);
    });
  });

  describe("bounds the guesses one SMS carries", () => {
    it("is 3 candidates", () => {
      expect(MAX_CODE_CANDIDATES).toBe(3);
    });

    it("returns at most 3 distinct candidates, in text order", () => {
      expect(extractCodeCandidates("111111 222222 111111 333333 444444", SIX_DIGITS)).toEqual(["111111", "222222", "333333"]);
    });

    it("returns each code once", () => {
      expect(extractCodeCandidates("482913 482-913 48 29 13", SIX_DIGITS)).toEqual(["482913"]);
    });

    it("takes each start of a grouped run, still at most 3", () => {
      expect(extractCodeCandidates("12 34 56 78 90 12 34", SIX_DIGITS)).toEqual(["123456", "345678", "567890"]);
      expect(extractCodeCandidates("1 2 3 4 5 6 7 8 9", SIX_DIGITS)).toEqual(["123456", "234567", "345678"]);
    });

    it("handles 200,000 characters of digit groups", () => {
      expect(extractCodeCandidates("1 ".repeat(100_000), SIX_DIGITS)).toEqual(["111111"]);
      expect(extractCodeCandidates("9".repeat(200_000), SIX_DIGITS)).toEqual([]);
    });
  });
});

const policyArb = fc.record({
  length: fc.integer({ min: 4, max: 8 }),
  alphabet: fc.constantFrom<CodeAlphabet>("numeric", "alphanumeric"),
});

function codeArb(policy: { length: number; alphabet: CodeAlphabet }): fc.Arbitrary<string> {
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

describe("extractCodeCandidates properties", () => {
  it("finds a valid code among any words that hold no candidate, and only it", () => {
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
          fc.pre(extractCodeCandidates([...before, ...after].join(" "), policy).length === 0);
          fc.pre(extractCodeCandidates(before.join(" "), policy).length === 0);
          fc.pre(extractCodeCandidates(after.join(" "), policy).length === 0);
          const text = `${before.join(" ")}${left}${code}${right}${after.join(" ")}`;
          expect(extractCodeCandidates(text, policy)).toEqual([code]);
          const typedInLowerCase = `${before.join(" ")}${left}${code.toLowerCase()}${right}${after.join(" ")}`;
          expect(extractCodeCandidates(typedInLowerCase, policy)).toEqual([code]);
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
          expect(extractCodeCandidates(`Code: ${grouped}!`, policy)).toEqual([code]);
        },
      ),
      { seed: FC_SEED, numRuns: 500 },
    );
  });

  it("gives the same candidates when zero-width or bidi characters are inserted anywhere", () => {
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
          const expected = extractCodeCandidates(text, policy);
          expect(extractCodeCandidates(chars.join(""), policy)).toEqual(expected);
          if (extractCodeCandidates([...before, ...after].join(" "), policy).length === 0) {
            expect(expected).toContain(code);
          }
        },
      ),
      { seed: FC_SEED, numRuns: 1000 },
    );
  });

  it("never throws and never returns more than 3 candidates, each of the policy's length and alphabet", () => {
    const textArb = fc.oneof(
      fc.string({ unit: "binary", maxLength: 2000 }),
      fc.string({ unit: "grapheme", maxLength: 2000 }),
      fc.string({ unit: fc.constantFrom(..."0123456789 .-\u200B4k7PXO"), maxLength: 2000 }),
      fc.string({ unit: fc.constantFrom(..."٤٨٢ ４８２ 48 29 13\u202E"), maxLength: 2000 }),
    );
    fc.assert(
      fc.property(textArb, policyArb, (text, policy) => {
        const candidates = extractCodeCandidates(text, policy);
        expect(candidates.length).toBeLessThanOrEqual(MAX_CODE_CANDIDATES);
        expect(new Set(candidates).size).toBe(candidates.length);
        const symbols = policy.alphabet === "numeric" ? NUMERIC_ALPHABET : ALPHANUMERIC_ALPHABET;
        for (const candidate of candidates) {
          expect(candidate).toHaveLength(policy.length);
          for (const ch of candidate) expect(symbols).toContain(ch);
        }
      }),
      { seed: FC_SEED, numRuns: 1000 },
    );
  });
});
