import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  ALPHANUMERIC_ALPHABET,
  DEFAULT_CODE_POLICY,
  NUMERIC_ALPHABET,
  createCodeGenerator,
  entropyBits,
  shortestStrongLength,
  validateCodePolicy,
  type CodeAlphabet,
  type CodePolicy,
} from "../../../src/challenges/code-policy.js";

const FC_SEED = 20_240_611;

function policy(overrides: Partial<Record<keyof CodePolicy, unknown>>): CodePolicy {
  return { ...DEFAULT_CODE_POLICY, ...overrides } as CodePolicy;
}

function fieldsOf(p: CodePolicy): string[] {
  return validateCodePolicy(p).map((e) => e.field);
}

describe("code alphabets", () => {
  it("numeric has the ten digits", () => {
    expect(NUMERIC_ALPHABET).toBe("0123456789");
  });

  it("alphanumeric is upper case without the look-alikes 0, O, 1, I, L", () => {
    expect(ALPHANUMERIC_ALPHABET).toBe("23456789ABCDEFGHJKMNPQRSTUVWXYZ");
    expect(ALPHANUMERIC_ALPHABET).toHaveLength(31);
    expect(new Set(ALPHANUMERIC_ALPHABET).size).toBe(31);
    for (const lookAlike of "0O1IL") expect(ALPHANUMERIC_ALPHABET).not.toContain(lookAlike);
  });
});

describe("DEFAULT_CODE_POLICY", () => {
  it("is 6 digits for 300 seconds with 5 attempts, full assurance, and valid", () => {
    expect(DEFAULT_CODE_POLICY).toEqual({ length: 6, alphabet: "numeric", ttlSeconds: 300, maxAttempts: 5, lowAssurance: false, lockoutSeconds: 900 });
    expect(validateCodePolicy(DEFAULT_CODE_POLICY)).toEqual([]);
  });

  it("cannot be changed by accident", () => {
    expect(Object.isFrozen(DEFAULT_CODE_POLICY)).toBe(true);
  });
});

describe("entropyBits", () => {
  it.each<[number, CodeAlphabet, number]>([
    [4, "numeric", 13.29],
    [5, "numeric", 16.61],
    [6, "numeric", 19.93],
    [8, "numeric", 26.58],
    [4, "alphanumeric", 19.82],
    [5, "alphanumeric", 24.77],
    [6, "alphanumeric", 29.73],
    [8, "alphanumeric", 39.63],
  ])("%i %s characters carry %f bits", (length, alphabet, bits) => {
    expect(entropyBits({ length, alphabet })).toBeCloseTo(bits, 2);
  });
});

describe("validateCodePolicy", () => {
  it.each<[string, Partial<Record<keyof CodePolicy, unknown>>, string[]]>([
    ["the default", {}, []],
    ["4 digits", { length: 4 }, ["length"]],
    ["4 digits with lowAssurance", { length: 4, lowAssurance: true }, []],
    ["5 digits", { length: 5 }, ["length"]],
    ["5 digits with lowAssurance", { length: 5, lowAssurance: true }, []],
    ["6 digits, NIST's 20-bit floor", { length: 6 }, []],
    ["8 digits", { length: 8 }, []],
    ["4 alphanumeric (19.82 bits)", { length: 4, alphabet: "alphanumeric" }, ["length"]],
    ["4 alphanumeric with lowAssurance", { length: 4, alphabet: "alphanumeric", lowAssurance: true }, []],
    ["5 alphanumeric", { length: 5, alphabet: "alphanumeric" }, []],
    ["length 3", { length: 3, lowAssurance: true }, ["length"]],
    ["length 9", { length: 9 }, ["length"]],
    ["length 6.5", { length: 6.5 }, ["length"]],
    ["length NaN", { length: Number.NaN }, ["length"]],
    ["length as a string", { length: "6" }, ["length"]],
    ["an unknown alphabet", { alphabet: "hex" }, ["alphabet"]],
    ["an alphabet name in capitals", { alphabet: "NUMERIC" }, ["alphabet"]],
    ["ttl 60 s", { ttlSeconds: 60 }, []],
    ["ttl 600 s", { ttlSeconds: 600 }, []],
    ["ttl 59 s", { ttlSeconds: 59 }, ["ttlSeconds"]],
    ["ttl 601 s", { ttlSeconds: 601 }, ["ttlSeconds"]],
    ["ttl 90.5 s", { ttlSeconds: 90.5 }, ["ttlSeconds"]],
    ["ttl Infinity", { ttlSeconds: Number.POSITIVE_INFINITY }, ["ttlSeconds"]],
    ["1 attempt", { maxAttempts: 1 }, []],
    ["10 attempts", { maxAttempts: 10 }, []],
    ["0 attempts", { maxAttempts: 0 }, ["maxAttempts"]],
    ["11 attempts", { maxAttempts: 11 }, ["maxAttempts"]],
    ["-1 attempts", { maxAttempts: -1 }, ["maxAttempts"]],
    ["lowAssurance as a string", { lowAssurance: "true" }, ["lowAssurance"]],
    ["a lock-out of 60 s", { lockoutSeconds: 60 }, []],
    ["a lock-out of a day", { lockoutSeconds: 86_400 }, []],
    ["a lock-out of 59 s", { lockoutSeconds: 59 }, ["lockoutSeconds"]],
    ["a lock-out over a day", { lockoutSeconds: 86_401 }, ["lockoutSeconds"]],
    [
      "everything wrong at once",
      { length: 2, alphabet: "emoji", ttlSeconds: 3600, maxAttempts: 100, lockoutSeconds: 0, lowAssurance: null },
      ["length", "alphabet", "ttlSeconds", "maxAttempts", "lockoutSeconds", "lowAssurance"],
    ],
  ])("%s gives errors on %j", (_name, overrides, fields) => {
    expect(fieldsOf(policy(overrides))).toEqual(fields);
  });

  it("explains an entropy refusal and how to lift it", () => {
    const [error] = validateCodePolicy(policy({ length: 4 }));
    expect(error?.message).toMatch(/13\.3 bits/);
    expect(error?.message).toMatch(/lowAssurance/);
  });

  it("names the bounds in range errors", () => {
    expect(validateCodePolicy(policy({ ttlSeconds: 5 }))).toEqual([
      { field: "ttlSeconds", message: "must be an integer from 60 to 600" },
    ]);
  });
});

describe("createCodeGenerator", () => {
  const alphabetOf: Record<CodeAlphabet, string> = { numeric: NUMERIC_ALPHABET, alphanumeric: ALPHANUMERIC_ALPHABET };

  it("always draws codes of the policy's length from its alphabet", () => {
    const generate = createCodeGenerator();
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 8 }), fc.constantFrom<CodeAlphabet>("numeric", "alphanumeric"), (length, alphabet) => {
        const code = generate({ length, alphabet });
        expect(code).toHaveLength(length);
        for (const ch of code) expect(alphabetOf[alphabet]).toContain(ch);
      }),
      { seed: FC_SEED, numRuns: 2000 },
    );
  });

  it("accepts a full policy", () => {
    expect(createCodeGenerator()(DEFAULT_CODE_POLICY)).toMatch(/^[0-9]{6}$/);
  });

  it("refuses lengths and alphabets outside the policy bounds", () => {
    const generate = createCodeGenerator();
    expect(() => generate({ length: 3, alphabet: "numeric" })).toThrow(RangeError);
    expect(() => generate({ length: 9, alphabet: "numeric" })).toThrow(RangeError);
    expect(() => generate({ length: 6, alphabet: "hex" as CodeAlphabet })).toThrow(RangeError);
  });

  /**
   * Pearson's chi-square over symbol counts. The bounds are far in the tail (p < 1e-12 for a
   * fair source), so the test only fails on a real bias, such as a modulo bias or a stuck
   * position, never by chance.
   */
  function chiSquare(counts: number[], expected: number): number {
    return counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
  }

  it.each<[CodeAlphabet, number, number]>([
    ["numeric", 6, 100],
    ["alphanumeric", 6, 200],
  ])("draws %s symbols roughly uniformly at every position", (alphabet, length, bound) => {
    const generate = createCodeGenerator();
    const symbols = alphabetOf[alphabet];
    const draws = 20_000;
    const perPosition = Array.from({ length }, () => new Array<number>(symbols.length).fill(0));
    for (let i = 0; i < draws; i += 1) {
      const code = generate({ length, alphabet });
      [...code].forEach((ch, position) => {
        const counts = perPosition[position];
        if (counts) counts[symbols.indexOf(ch)] = (counts[symbols.indexOf(ch)] ?? 0) + 1;
      });
    }
    const overall = symbols.split("").map((_, s) => perPosition.reduce((sum, counts) => sum + (counts[s] ?? 0), 0));
    expect(chiSquare(overall, (draws * length) / symbols.length)).toBeLessThan(bound);
    for (const counts of perPosition) {
      expect(chiSquare(counts, draws / symbols.length)).toBeLessThan(bound);
    }
  });

  it("rarely repeats a 6-digit code over 1,000 draws", () => {
    // 1,000 draws from 10^6 codes: about 0.5 collisions are expected; 20 would mean a broken source.
    const generate = createCodeGenerator();
    const codes = new Set(Array.from({ length: 1000 }, () => generate({ length: 6, alphabet: "numeric" })));
    expect(codes.size).toBeGreaterThan(980);
  });
});

describe("shortestStrongLength", () => {
  it("is 6 digits and 5 alphanumeric characters, the shortest codes over the 20-bit floor", () => {
    expect(shortestStrongLength("numeric")).toBe(6);
    expect(shortestStrongLength("alphanumeric")).toBe(5);
    expect(validateCodePolicy(policy({ length: 5 }))).not.toEqual([]);
    expect(validateCodePolicy(policy({ length: 4, alphabet: "alphanumeric" }))).not.toEqual([]);
  });
});
