import { ALPHANUMERIC_ALPHABET, NUMERIC_ALPHABET, type CodeAlphabet } from "../challenges/code-policy.js";

/**
 * Most candidates one SMS may yield. This bounds the guesses one message can carry: the
 * matcher tries each candidate against the sender's pending challenges, so without a bound a
 * long text of digit groups would be thousands of attempts counted as one.
 */
export const MAX_CODE_CANDIDATES = 3;

/**
 * Characters that render as nothing or only steer rendering: all format characters (Cf:
 * zero-width space/joiners U+200B–U+200D, word joiner U+2060, BOM U+FEFF, the bidi controls
 * U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, U+061C, soft hyphen…), the other default
 * ignorables (variation selectors, Hangul fillers…), and the combining keycap U+20E3 so that
 * a code typed as keycap emoji (4️⃣8️⃣…) reads as digits.
 */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\u20E3]/gu;

const NON_ASCII_DIGIT = /(?![0-9])\p{Nd}/gu;
const DECIMAL_DIGIT = /^\p{Nd}$/u;
const digitValues = new Map<string, string>();

/**
 * Unicode encodes every decimal digit (Nd) in runs of ten, 0 to 9 in order, so the value of a
 * digit is its distance from the start of its run, modulo 10 (a few scripts have two runs
 * back to back). Lets users whose keyboard types Arabic-Indic, Persian, Devanagari… digits
 * send the code as they see it. The cache holds at most the few hundred Nd characters.
 */
function toAsciiDigit(digit: string): string {
  const cached = digitValues.get(digit);
  if (cached !== undefined) return cached;
  const codePoint = digit.codePointAt(0) ?? 0;
  let runStart = codePoint;
  while (runStart > 0 && DECIMAL_DIGIT.test(String.fromCodePoint(runStart - 1))) runStart -= 1;
  const value = String((codePoint - runStart) % 10);
  digitValues.set(digit, value);
  return value;
}

/**
 * Canonical form of an SMS text for code matching: invisible characters removed (so
 * `48\u200B2913` is `482913`), Unicode NFKC (full-width and other compatibility forms become
 * ASCII), decimal digits of any script as ASCII digits, upper case.
 *
 * Invisible characters go before NFKC so that inserting them anywhere changes nothing, not
 * even the composition of accents; NFKC maps no visible character to an invisible one.
 */
export function normalizeSmsText(text: string): string {
  return text
    .replace(INVISIBLE, "")
    .normalize("NFKC")
    .replace(NON_ASCII_DIGIT, toAsciiDigit)
    .toUpperCase();
}

/** A token: a letter or digit, then letters, combining marks and digits. */
const TOKEN = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu;
/** One of these, alone between two tokens, joins them into one group: `482 913`, `482-913`, `48.29.13`. */
const GROUP_JOINERS = new Set([" ", "-", ".", "\u2010", "\u2011", "\u2012", "\u2013", "\u2212"]);

const ALPHABET_TOKEN: ReadonlyMap<string, RegExp> = new Map<CodeAlphabet, RegExp>([
  ["numeric", new RegExp(`^[${NUMERIC_ALPHABET}]+$`)],
  ["alphanumeric", new RegExp(`^[${ALPHANUMERIC_ALPHABET}]+$`)],
]);

/**
 * The codes an SMS may carry, distinct, in text order, at most MAX_CODE_CANDIDATES.
 *
 * A candidate is one token, or consecutive tokens each separated by a single group joiner,
 * whose total length is exactly `policy.length` and whose characters all belong to the
 * alphabet. A longer token yields nothing: no sliding window inside `4829131`, which would
 * turn one SMS into many guesses.
 *
 * Runs in one pass over the tokens with a window of at most `policy.length` tokens. Groups
 * of one length ordered by start are ordered by end too (a later group ending no later would
 * be a strict part of the earlier one, hence shorter), so the window yields text order.
 */
export function extractCodeCandidates(text: string, policy: { length: number; alphabet: CodeAlphabet }): string[] {
  const codeLength = policy.length;
  const alphabetToken = ALPHABET_TOKEN.get(policy.alphabet);
  if (!Number.isInteger(codeLength) || codeLength < 1 || alphabetToken === undefined) return [];

  const normalized = normalizeSmsText(text);
  const candidates = new Set<string>();
  // Consecutive joinable alphabet tokens whose total length is at most codeLength.
  const window: string[] = [];
  let windowLength = 0;
  let previousEnd = -1;
  let isPreviousInAlphabet = false;

  for (const match of normalized.matchAll(TOKEN)) {
    const token = match[0];
    const start = match.index;
    const isInAlphabet = alphabetToken.test(token);
    const isJoined =
      isPreviousInAlphabet && start - previousEnd === 1 && GROUP_JOINERS.has(normalized.charAt(previousEnd));
    previousEnd = start + token.length;
    isPreviousInAlphabet = isInAlphabet;

    if (!isJoined) {
      window.length = 0;
      windowLength = 0;
    }
    if (!isInAlphabet) continue;

    window.push(token);
    windowLength += token.length;
    while (windowLength > codeLength) {
      windowLength -= window.shift()?.length ?? windowLength;
    }
    if (windowLength === codeLength) {
      candidates.add(window.join(""));
      if (candidates.size >= MAX_CODE_CANDIDATES) break;
    }
  }
  return [...candidates];
}
