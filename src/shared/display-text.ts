// Text meant for people inside SMS and e-mail bodies: sanitising what apps send us (app names,
// merchants, descriptions), and amounts in the reader's own number and currency format.

export type DisplayLocale = "en" | "de" | "fr";

const WHITE_SPACE = /\p{White_Space}+/gu;
/**
 * Control, format (zero-width, bidi overrides and isolates), surrogate, private-use and
 * unassigned characters, and other default ignorables. Bidi controls could make the text
 * read differently from the order it is sent in; invisible ones could hide text.
 */
const UNSAFE = /[\p{C}\p{Default_Ignorable_Code_Point}]/gu;

/** Text safe to place in a body: NFC, one line, no invisible or reordering characters, capped in code points. */
export function sanitizeDisplayText(value: string | undefined, maxLength: number): string {
  if (value === undefined) return "";
  const clean = value.normalize("NFC").replace(WHITE_SPACE, " ").replace(UNSAFE, "").replace(/ {2,}/g, " ").trim();
  return Array.from(clean).slice(0, maxLength).join("").trim();
}

/** The API's amount rule (challenge-schemas.ts): up to 12 digits and 4 decimals. */
const AMOUNT = /^\d{1,12}(\.(\d{1,4}))?$/;
const CURRENCY = /^[A-Z]{3}$/;

/**
 * Characters a currency symbol may use and still be sent as GSM 7-bit (GSM 03.38 basic set and
 * the € of its extension table). A symbol outside it (`₹`, `zł`, `₺`) would turn the whole SMS into
 * UCS-2 and halve its room, so such currencies are written with their ISO code instead.
 */
const GSM_SAFE_SYMBOL = /^[A-Za-z$£¥€.]+$/;

/** Intl puts no-break and narrow no-break spaces in amounts (fr: `1 249,90 €`); SMS alphabets lack them. */
const NO_BREAK_SPACES = /[\u00A0\u202F\u2007]/g;

const INTL_LOCALE: Record<DisplayLocale, string> = { en: "en-GB", de: "de-DE", fr: "fr-FR" };

/**
 * An amount as the reader's locale writes it: German and French with their decimal comma, digit
 * grouping and symbol after the number (`49,90 €`, `1.249,90 €`, `1 249,90 €`); English with the
 * ISO code after the number (`49.90 EUR`, `1,249.90 EUR`), the form of the product's examples,
 * which reads the same to British, American and Irish readers whatever the currency. The decimals
 * given are kept as given (`49.9` stays one decimal, `49` none): the app states the amount, we
 * only format it. The digits are formatted from the string, never through a binary float.
 *
 * Anything that is not a well-formed amount and ISO 4217 code (a caller outside the API schema)
 * is shown as given, `amount currency`, so the reader still sees every character the app sent.
 */
export function formatAmount(amount: string, currency: string, locale: DisplayLocale): string {
  const match = AMOUNT.exec(amount);
  if (!match || !CURRENCY.test(currency)) return currency ? `${amount} ${currency}` : amount;
  const decimals = match[2]?.length ?? 0;
  const options = { minimumFractionDigits: decimals, maximumFractionDigits: decimals, useGrouping: true } as const;
  // Intl.NumberFormat v3 formats a decimal string exactly (no rounding through a double).
  const asDecimal = amount as unknown as number;
  if (locale === "en") {
    return `${new Intl.NumberFormat(INTL_LOCALE.en, options).format(asDecimal)} ${currency}`;
  }
  let format: Intl.NumberFormat;
  try {
    format = new Intl.NumberFormat(INTL_LOCALE[locale], { ...options, style: "currency", currency, currencyDisplay: "symbol" });
  } catch {
    return `${amount} ${currency}`;
  }
  const parts = format.formatToParts(asDecimal);
  const symbol = parts.find((p) => p.type === "currency")?.value ?? "";
  const text = GSM_SAFE_SYMBOL.test(symbol)
    ? parts.map((p) => p.value).join("")
    : parts.map((p) => (p.type === "currency" ? currency : p.value)).join("");
  return text.replace(NO_BREAK_SPACES, " ").trim();
}
