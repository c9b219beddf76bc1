// What a virtual number is, and how providers name it. Pure: plain text in, plain data out.
//
// A virtual number is either a long number, kept in E.164 (`+447400000100`), or a short code of
// one country (`36034` in France), kept as its digits with the country beside them. Both live in
// the `e164` column of `virtual_numbers`, which is the matching key: an E.164 key always starts
// with `+` and a short-code key never does, so the two can never be confused (a CHECK constraint
// of the migration holds the database to it). Short codes are matched exactly as providers write
// them: digits only (smsmode's reply callback says `numero=36034`).
import { isSupportedCountry } from "libphonenumber-js/max";
import { normalizeSender } from "../challenges/phone.js";

/** Short codes as providers write them: 3 to 8 digits and nothing else. */
const SHORT_CODE = /^[0-9]{3,8}$/;

export type VirtualNumberAddress = {
  /** The matching key: E.164 for a long number, the digits of a short code. */
  key: string;
  /** The country of a short code; null for a long number (E.164 tells its country). */
  country: string | null;
};

export type VirtualNumberParse = { ok: true; address: VirtualNumberAddress } | { ok: false; message: string };

/**
 * Reads a virtual number as an operator types it. Without a country: an international number
 * (`+447400000100`, `00447400000100`, `447400000100`). With a country: a short code of that
 * country (3 to 8 digits, no leading 0: `36034` with FR), or a long number, national
 * (`0612345678` with FR) or international, that must belong to that country. National long
 * numbers begin with a trunk 0 in the countries where short codes are common; where they do not
 * (Italy, Spain, the US…) they have 9 digits or more, so the two readings never meet.
 */
export function parseVirtualNumber(input: string, country?: string): VirtualNumberParse {
  const text = input.trim();
  if (country === undefined) {
    const parsed = normalizeSender(text);
    if (parsed.ok) return { ok: true, address: { key: parsed.e164, country: null } };
    if (SHORT_CODE.test(text)) return { ok: false, message: "a short code needs its country (e.g. --country FR)" };
    return { ok: false, message: `not a valid E.164 number (${parsed.reason})` };
  }
  const upper = country.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(upper) || !isSupportedCountry(upper)) {
    return { ok: false, message: `"${country}" is not an ISO 3166 alpha-2 country code` };
  }
  if (SHORT_CODE.test(text) && !text.startsWith("0")) return { ok: true, address: { key: text, country: upper } };
  const parsed = normalizeSender(text, { country: upper });
  if (!parsed.ok) return { ok: false, message: `neither a short code nor a valid number of ${upper} (${parsed.reason})` };
  if (parsed.country !== upper) return { ok: false, message: `${parsed.e164} is a number of ${parsed.country ?? "no country"}, not of ${upper}` };
  return { ok: true, address: { key: parsed.e164, country: null } };
}

/**
 * The keys under which the number a provider names as the recipient may be registered, in the
 * order they are tried: the digits exactly as written when they can be a short code, then the
 * E.164 reading (`+33…`, `0033…` or bare international digits). Empty when it can be neither.
 */
export function recipientKeys(to: string): string[] {
  const text = to.trim();
  const keys: string[] = [];
  if (SHORT_CODE.test(text)) keys.push(text);
  const parsed = normalizeSender(text);
  if (parsed.ok && !keys.includes(parsed.e164)) keys.push(parsed.e164);
  return keys;
}

/** The country a sender written nationally (`0612…`) is read with: the short code's, or the long number's own. */
export function countryOfNumber(number: { e164: string; country: string | null }): string | undefined {
  if (number.country) return number.country;
  const parsed = normalizeSender(number.e164);
  return parsed.ok ? parsed.country : undefined;
}

/** How a number is shown to operators: `+447400000100`, or `36034 (FR short code)`. */
export function describeNumber(number: { e164: string; country: string | null }): string {
  return number.country ? `${number.e164} (${number.country} short code)` : number.e164;
}
