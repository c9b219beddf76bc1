import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
  type CountryCode,
  type PhoneNumber,
  type PhoneNumberType,
} from "libphonenumber-js/max";
import metadata from "libphonenumber-js/max/metadata";

export type PhoneRejectionReason = "invalid" | "invalid_country" | "too_short" | "too_long" | "not_mobile";

export const PHONE_REJECTION_REASONS = [
  "invalid",
  "invalid_country",
  "too_short",
  "too_long",
  "not_mobile",
] as const satisfies readonly PhoneRejectionReason[];

export type ParsedPhone = {
  /** `+` and up to 15 digits. */
  e164: string;
  /** ISO 3166 alpha-2; undefined for non-geographic numbers (+800, +882…). */
  country: string | undefined;
  /** libphonenumber's type (`MOBILE`, `FIXED_LINE_OR_MOBILE`) or undefined when the metadata cannot tell. */
  type: string | undefined;
  masked: string;
};

export type PhoneResult =
  | { ok: true; phone: ParsedPhone }
  | { ok: false; reason: PhoneRejectionReason; detail: string; /** libphonenumber's type of a number that cannot send SMS. */ lineType?: string };

export type SenderResult =
  | { ok: true; e164: string; country: string | undefined }
  | { ok: false; reason: PhoneRejectionReason };

export const MAX_PHONE_INPUT_LENGTH = 64;

type Rejection = { ok: false; reason: PhoneRejectionReason; detail: string };

/**
 * Line types a personal phone can text from. FIXED_LINE_OR_MOBILE covers countries such as the
 * US whose numbering plan does not tell the two apart. Every other type is refused, including
 * any type a future libphonenumber adds.
 */
const SMS_CAPABLE_TYPES: ReadonlySet<PhoneNumberType> = new Set<PhoneNumberType>(["MOBILE", "FIXED_LINE_OR_MOBILE"]);

const TYPE_LABELS: Partial<Record<PhoneNumberType, string>> = {
  FIXED_LINE: "fixed-line",
  VOIP: "VoIP",
  TOLL_FREE: "toll-free",
  PREMIUM_RATE: "premium-rate",
  SHARED_COST: "shared-cost",
  PAGER: "pager",
  UAN: "universal access (UAN)",
  VOICEMAIL: "voicemail",
  PERSONAL_NUMBER: "personal (forwarding)",
};

const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
/** The digits libphonenumber also reads: Arabic-Indic and Eastern Arabic-Indic (Persian, Urdu). */
const ARABIC_DIGIT = /[\u0660-\u0669\u06F0-\u06F9]/g;
const SEPARATORS = /[\s.\-\u2010-\u2015\u2212()/]/g;
const LETTER = /\p{L}/u;
const DIALLABLE = /^(\+)?([0-9]+)$/;

function toAsciiDigits(text: string): string {
  return text.replace(ARABIC_DIGIT, (d) => String((d.charCodeAt(0) & 0x0f) % 10));
}

/**
 * Reduces typed or reported input to `+digits` or `digits`, or explains why it cannot be a
 * number: NFKC turns full-width `＋３３…` into ASCII, invisible and bidi characters go, and
 * spaces, dots, dashes, slashes and parentheses are separators. A leading `00` is the
 * international prefix and becomes `+`.
 */
function toDiallable(input: string): { ok: true; international: boolean; digits: string } | Rejection {
  if (input.length > MAX_PHONE_INPUT_LENGTH) {
    return { ok: false, reason: "invalid", detail: `The phone number is longer than ${MAX_PHONE_INPUT_LENGTH} characters.` };
  }
  const normalized = toAsciiDigits(input.replace(INVISIBLE, "").normalize("NFKC")).trim();
  if (normalized === "") {
    return { ok: false, reason: "invalid", detail: "The phone number is empty." };
  }
  if (LETTER.test(normalized)) {
    return { ok: false, reason: "invalid", detail: "A phone number cannot contain letters." };
  }
  const compact = normalized.replace(SEPARATORS, "");
  if (compact === "" || compact === "+") {
    return { ok: false, reason: "invalid", detail: "The phone number has no digits." };
  }
  const match = DIALLABLE.exec(compact);
  if (!match) {
    return {
      ok: false,
      reason: "invalid",
      detail: "A phone number may contain only digits, a leading +, spaces, dots, dashes, slashes and parentheses.",
    };
  }
  const digits = match[2] ?? "";
  if (match[1] === "+") return { ok: true, international: true, digits };
  if (digits.startsWith("00")) return { ok: true, international: true, digits: digits.slice(2) };
  return { ok: true, international: false, digits };
}

/**
 * libphonenumber's own verdict, mapped to our reasons. A valid number is settled by one parse: it
 * matches a type of its country, whose lengths are among the country's possible ones, so the length
 * check below could say nothing of it. Only a number that is not valid is checked for its length,
 * to say why (that check parses the text again: one parse less per valid number, the common case
 * of every creation and every inbound SMS).
 */
function checkValidity(text: string, country: CountryCode | undefined): { ok: true; number: PhoneNumber } | Rejection {
  const options = country ? { defaultCountry: country } : {};
  const parsed = parsePhoneNumberFromString(text, options);
  if (parsed?.isValid()) return { ok: true, number: parsed };
  const lengthIssue = validatePhoneNumberLength(text, options);
  switch (lengthIssue) {
    case "TOO_SHORT":
      return { ok: false, reason: "too_short", detail: "The phone number is too short." };
    case "TOO_LONG":
      return { ok: false, reason: "too_long", detail: "The phone number is too long." };
    case "INVALID_LENGTH":
      return { ok: false, reason: "invalid", detail: "The phone number does not have a valid length for its country." };
    case "INVALID_COUNTRY":
      return text.startsWith("+")
        ? { ok: false, reason: "invalid_country", detail: "The country calling code does not exist." }
        : {
            ok: false,
            reason: "invalid_country",
            detail: "A national number needs a country; give one or use the international format with +.",
          };
    case "NOT_A_NUMBER":
      return { ok: false, reason: "invalid", detail: "This is not a phone number." };
    case undefined:
      break;
  }
  return { ok: false, reason: "invalid", detail: "This is not a valid phone number." };
}

/**
 * Parses a phone number typed by a user: international (`+…`, `00…`) or national with a
 * country. Accepts MOBILE and FIXED_LINE_OR_MOBILE numbers, and a valid number whose type is
 * undefined: with the full metadata a valid number always has a type, so undefined only
 * appears with metadata that lacks the type patterns; the number is valid, refusing it would
 * lock out real users, and the line type can be checked again where the provider reports it.
 * A trunk zero after the country code (`+33 0612345678`, `+33 (0)6…`) is accepted, as
 * libphonenumber drops it: people write numbers this way, and the E.164 result is the same.
 */
export function parsePhone(input: string, options: { country?: string }): PhoneResult {
  let country: CountryCode | undefined;
  if (options.country !== undefined) {
    const upper = options.country.trim().toUpperCase();
    if (!isSupportedCountry(upper)) {
      return { ok: false, reason: "invalid_country", detail: "The country is not a known ISO 3166 alpha-2 code." };
    }
    country = upper;
  }
  const diallable = toDiallable(input);
  if (!diallable.ok) return diallable;
  const text = diallable.international ? `+${diallable.digits}` : diallable.digits;
  const checked = checkValidity(text, diallable.international ? undefined : country);
  if (!checked.ok) return checked;

  const type = checked.number.getType();
  if (type !== undefined && !SMS_CAPABLE_TYPES.has(type)) {
    return {
      ok: false,
      reason: "not_mobile",
      lineType: type,
      detail: `This is a ${TYPE_LABELS[type] ?? "non-mobile"} number (${type}), which cannot send text messages; use a mobile number.`,
    };
  }
  const e164 = checked.number.number;
  return { ok: true, phone: { e164, country: checked.number.country, type, masked: maskPhone(e164) } };
}

/**
 * Normalises a sender or recipient as SMS providers report it: `+E.164`, bare international
 * digits (`33612345678`: Vonage, Plivo, smsmode) or a `00` prefix. Bare digits are read as
 * international first, as the providers document them. Only when that is no valid number and a
 * `country` is given (the country of our number the SMS was sent to) are they read as a national
 * number of that country: `0612345678` sent to a French number is +33612345678. Alphanumeric
 * senders (`ACME`) are refused. Any valid number passes: line types are checked elsewhere.
 */
export function normalizeSender(raw: string, options: { country?: string | undefined } = {}): SenderResult {
  const diallable = toDiallable(raw);
  if (!diallable.ok) return { ok: false, reason: diallable.reason };
  let checked = checkValidity(`+${diallable.digits}`, undefined);
  const country = options.country?.toUpperCase();
  // Not international: then the national reading decides, its reason included.
  if (!checked.ok && !diallable.international && country && isSupportedCountry(country)) checked = checkValidity(diallable.digits, country);
  if (!checked.ok) return { ok: false, reason: checked.reason };
  return { ok: true, e164: checked.number.number, country: checked.number.country };
}

/**
 * Country calling codes, geographic and non-geographic (800, 882…). ITU-T E.164 calling codes
 * are prefix-free, so at most one of a number's 1-, 2- and 3-digit prefixes is in this set.
 */
const CALLING_CODES: ReadonlySet<string> = new Set([
  ...Object.keys(metadata.country_calling_codes),
  ...Object.keys(metadata.nonGeographic),
]);

/** Trailing digits shown by maskPhone, and the fewest digits that must stay hidden for them to show. */
const MASK_VISIBLE_TAIL = 2;
const MASK_MIN_HIDDEN = 4;
const MASK_CHAR = "•";

/**
 * Display form that never reveals the full number: `+`, the country calling code, one `•` per
 * hidden digit, and the last 2 digits — `+33612345678` → `+33•••••••78`. The last 2 digits
 * show only when at least 4 digits stay hidden (`+6831234` → `+683••••`). When no calling
 * code is recognised, every digit but the last 2 is hidden. Only ASCII digits of the input
 * are used; input without digits gives "".
 */
export function maskPhone(e164: string): string {
  const digits = e164.replace(/[^0-9]/g, "");
  if (digits === "") return "";
  let callingCode = "";
  for (let size = 1; size <= 3 && size < digits.length; size += 1) {
    if (CALLING_CODES.has(digits.slice(0, size))) {
      callingCode = digits.slice(0, size);
      break;
    }
  }
  const rest = digits.slice(callingCode.length);
  const tail = rest.length >= MASK_MIN_HIDDEN + MASK_VISIBLE_TAIL ? rest.slice(-MASK_VISIBLE_TAIL) : "";
  return `+${callingCode}${MASK_CHAR.repeat(rest.length - tail.length)}${tail}`;
}
