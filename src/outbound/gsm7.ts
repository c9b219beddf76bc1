// SMS encodings and sizes (3GPP TS 23.038, "GSM 03.38"): a text in the GSM 7-bit default alphabet
// fits 160 septets in one SMS (characters of the extension table, such as €, take two); any other
// character makes the whole message UCS-2, 70 UTF-16 code units in one SMS. Longer texts are sent
// in parts of 153 septets or 67 code units (a header takes the rest), and each part costs a
// message, so our texts are built to fit one.

/** The basic character set (one septet each). */
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/** The extension table (escape + character: two septets each). */
const GSM_EXTENSION = "^{}\\[~]|€\f";

const BASIC = new Set(Array.from(GSM_BASIC));
const EXTENSION = new Set(Array.from(GSM_EXTENSION));

export const SINGLE_SMS_SEPTETS = 160;
export const SINGLE_SMS_UCS2_UNITS = 70;

export type SmsEncoding = "GSM-7" | "UCS-2";

export type SmsSize = {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  /** What one SMS holds in that encoding. */
  singleLimit: number;
  /** Parts the text is sent in. */
  parts: number;
};

export function isGsm7(text: string): boolean {
  for (const ch of text) if (!BASIC.has(ch) && !EXTENSION.has(ch)) return false;
  return true;
}

/** Septets of a GSM-7 text, or undefined when the text needs UCS-2. */
export function gsm7Septets(text: string): number | undefined {
  let septets = 0;
  for (const ch of text) {
    if (BASIC.has(ch)) septets += 1;
    else if (EXTENSION.has(ch)) septets += 2;
    else return undefined;
  }
  return septets;
}

export function smsSize(text: string): SmsSize {
  const septets = gsm7Septets(text);
  if (septets !== undefined) {
    return { encoding: "GSM-7", units: septets, singleLimit: SINGLE_SMS_SEPTETS, parts: septets <= 160 ? 1 : Math.ceil(septets / 153) };
  }
  const units = text.length;
  return { encoding: "UCS-2", units, singleLimit: SINGLE_SMS_UCS2_UNITS, parts: units <= 70 ? 1 : Math.ceil(units / 67) };
}

export function fitsOneSms(text: string): boolean {
  return smsSize(text).parts === 1;
}

/** Look-alikes that have a GSM-7 form; applied only to text the app supplied, never to our wording. */
const REPLACEMENTS: Record<string, string> = {
  "\u2018": "'",
  "\u2019": "'",
  "\u201A": "'",
  "\u201C": '"',
  "\u201D": '"',
  "\u201E": '"',
  "\u00AB": '"',
  "\u00BB": '"',
  "\u2013": "-",
  "\u2014": "-",
  "\u2212": "-",
  "\u2026": "...",
  "\u00A0": " ",
  "\u202F": " ",
  "ç": "c",
  "œ": "oe",
  "Œ": "OE",
};

/**
 * The text in the GSM 7-bit alphabet where that is possible without changing what it says:
 * typographic quotes and dashes become ASCII, letters outside GSM lose their accent (`ê` → `e`,
 * `ł` stays: it has no decomposition). Characters that have no GSM form stay as they are, and the
 * message is then sent as UCS-2. Keeping GSM-7 doubles the room of one SMS.
 */
export function toGsm7WherePossible(text: string): string {
  let out = "";
  for (const ch of text) {
    if (BASIC.has(ch) || EXTENSION.has(ch)) {
      out += ch;
      continue;
    }
    const replaced = REPLACEMENTS[ch];
    if (replaced !== undefined) {
      out += replaced;
      continue;
    }
    const stripped = ch.normalize("NFD").replace(/\p{M}+/gu, "");
    out += stripped !== ch && isGsm7(stripped) ? stripped : ch;
  }
  return out;
}
