// THE rule of what an inbound SMS says: which code it carries. Both verification paths (the
// one-statement path and the step-by-step path, sms-verification.ts) take the code from
// `findSmsCode` and nothing else, so they cannot disagree.
//
// One SMS carries at most one code, and only the code the user was asked to send:
//
//   1. The text is normalised (`normalizeSmsText`): invisible characters removed, Unicode NFKC,
//      digits of any script as ASCII digits, upper case.
//   2. The service's own wording ends what is read: the text from the first place where the
//      opening of the body the service writes for this app stands (`wordingOpenings` of
//      sms-text.ts: `is my ACME code to`, `ist mein Code für ACME`, `est mon code ACME pour`) is
//      never read. Everything the service puts into the SMS (app name, purpose, amount, merchant,
//      description) follows that opening, so none of it can be read as a code — not even when the
//      user deleted the code from the prefilled text before sending it.
//   3. The code is the FIRST code-shaped group of what remains: a token, or tokens each separated
//      by one space, hyphen or dot (`482 913`, `482-913`, `48.29.13`, as users type codes), of
//      exactly the policy's length, every character in its alphabet. Later groups are never
//      read: a text with several codes carries the first one only, so one SMS is one guess and
//      verifies at most one challenge. Every body the service writes starts with the code.
//
// Tolerated around the code, as PRODUCT.md promises: any wording before it that holds no
// code-shaped group (`My code is 482913`, `Code: 482 913`), any text after it, punctuation, emoji,
// quotes, full-width and other scripts' digits, lower case. Not read: a code written after another
// code-shaped group (a phone number typed before it, or, with alphanumeric codes, a word of the
// code's length made only of the alphabet's letters, such as THANKS for six characters); such an
// SMS carries that first group, which counts as a wrong code as any other wrong code does.
import { ALPHANUMERIC_ALPHABET, NUMERIC_ALPHABET, type CodeAlphabet } from "./code-policy.js";
import { wordingOpenings } from "./sms-text.js";

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

export type SmsCodeRule = { length: number; alphabet: CodeAlphabet; appName: string };

/**
 * The code the SMS carries under the rule at the top of this file, or undefined when it carries
 * none (or the rule cannot be applied: an unknown alphabet or a length that is not a positive
 * integer).
 */
export function findSmsCode(text: string, rule: SmsCodeRule): string | undefined {
  const normalized = normalizeSmsText(text);
  let end = normalized.length;
  for (const opening of normalizedOpenings(rule.appName)) {
    const at = normalized.indexOf(opening);
    if (at >= 0 && at < end) end = at;
  }
  return firstCodeShapedGroup(normalized.slice(0, end), rule);
}

/** The wording's openings for an app name, normalised like a text; remembered per name (a handful of apps). */
const openingsByAppName = new Map<string, string[]>();
function normalizedOpenings(appName: string): string[] {
  let openings = openingsByAppName.get(appName);
  if (!openings) {
    openings = wordingOpenings(appName)
      .map(normalizeSmsText)
      .filter((opening) => opening.length > 0);
    if (openingsByAppName.size >= 1000) openingsByAppName.clear();
    openingsByAppName.set(appName, openings);
  }
  return openings;
}

/**
 * The first code-shaped group of an already normalised text: one token, or consecutive tokens
 * each separated by a single group joiner, whose total length is exactly `policy.length` and
 * whose characters all belong to the alphabet. A longer token yields nothing: no sliding window
 * inside `4829131`, which would turn one SMS into many guesses.
 *
 * Runs in one pass over the tokens with a window of at most `policy.length` tokens, and stops at
 * the first group.
 */
function firstCodeShapedGroup(normalized: string, policy: { length: number; alphabet: CodeAlphabet }): string | undefined {
  const codeLength = policy.length;
  const alphabetToken = ALPHABET_TOKEN.get(policy.alphabet);
  if (!Number.isInteger(codeLength) || codeLength < 1 || alphabetToken === undefined) return undefined;

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
    if (windowLength === codeLength) return window.join("");
  }
  return undefined;
}
