import { formatAmount, sanitizeDisplayText as sanitize } from "../shared/display-text.js";

export const SUPPORTED_LOCALES = ["en", "de", "fr"] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];

export const PURPOSES = ["signup", "login", "password_reset", "profile_change", "transaction", "appointment"] as const;
export type Purpose = (typeof PURPOSES)[number];

export type SmsContext = { amount?: string; currency?: string; merchant?: string; description?: string };

export type SmsBodyInput = {
  appName: string;
  purpose: Purpose;
  code: string;
  locale: Locale;
  context?: SmsContext;
};

/** Caps in code points, so that a typical body stays within one 160-character GSM segment. */
export const SMS_FIELD_MAX_LENGTH = {
  appName: 30,
  // The API allows 12 digits, a point and 4 decimals: 17 characters (a shorter cap would change the amount).
  amount: 17,
  currency: 5,
  merchant: 30,
  description: 40,
} as const;

export function isLocale(value: string): value is Locale {
  return (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

export function isPurpose(value: string): value is Purpose {
  return (PURPOSES as readonly string[]).includes(value);
}

/** The supported language of the first entry that has one: `de-DE`, `fr_CA`, `es, fr;q=0.8`. */
function matchLocale(tags: string | undefined): Locale | undefined {
  if (tags === undefined) return undefined;
  for (const entry of tags.split(",")) {
    const language = (entry.split(";")[0] ?? "").trim().split(/[-_]/)[0]?.toLowerCase() ?? "";
    if (isLocale(language)) return language;
  }
  return undefined;
}

/** The requested locale if supported, else the app's default if supported, else `en`. */
export function resolveLocale(requested?: string, appDefault?: string): Locale {
  return matchLocale(requested) ?? matchLocale(appDefault) ?? "en";
}

type Fields = { app: string; amount: string; merchant: string };

/** What the user approves, per locale; `app` may be empty. */
const WORDING: Record<Locale, { intro: (app: string) => string; purposes: Record<Purpose, (f: Fields) => string> }> = {
  en: {
    intro: (app) => (app ? `is my ${app} code to` : "is my code to"),
    purposes: {
      signup: () => "sign up",
      login: () => "log in",
      password_reset: () => "reset my password",
      profile_change: () => "change my profile",
      transaction: ({ amount, merchant }) =>
        `confirm ${amount ? `payment of ${amount}` : "a payment"}${merchant ? ` to ${merchant}` : ""}`,
      appointment: () => "confirm my appointment",
    },
  },
  de: {
    intro: (app) => (app ? `ist mein Code für ${app}` : "ist mein Code"),
    purposes: {
      signup: () => "zur Registrierung",
      login: () => "zur Anmeldung",
      password_reset: () => "zum Zurücksetzen meines Passworts",
      profile_change: () => "zur Änderung meines Profils",
      transaction: ({ amount, merchant }) =>
        `zur Bestätigung ${amount ? `der Zahlung von ${amount}` : "einer Zahlung"}${merchant ? ` an ${merchant}` : ""}`,
      appointment: () => "zur Bestätigung meines Termins",
    },
  },
  // Wording kept within the GSM 7-bit alphabet (é, è, à are in it; ê, ç are not).
  fr: {
    intro: (app) => (app ? `est mon code ${app} pour` : "est mon code pour"),
    purposes: {
      signup: () => "m'inscrire",
      login: () => "me connecter",
      password_reset: () => "réinitialiser mon mot de passe",
      profile_change: () => "modifier mon profil",
      transaction: ({ amount, merchant }) =>
        `confirmer ${amount ? `le paiement de ${amount}` : "un paiement"}${merchant ? ` à ${merchant}` : ""}`,
      appointment: () => "confirmer mon rendez-vous",
    },
  },
};

/**
 * The SMS the user's phone sends to us, e.g. `482913 is my ACME code to confirm payment of
 * 49.90 EUR to Shop XY.` (German: `… der Zahlung von 49,90 € an Shop XY.`) It names the app and the purpose (and amount and merchant for a
 * payment) so the user reads what they approve before sending it.
 *
 * The code comes first, followed by a space and the wording (see `wordingOpenings`): the SMS code
 * rule (sms-code.ts) reads the first code-shaped group of the text and never what follows, so the
 * app name and the context (which may hold digits, short words, even another challenge's code) are
 * never read as a code. App name and context are sanitised (see `sanitize`) and capped.
 */
export function buildSmsBody(input: SmsBodyInput): string {
  const caps = SMS_FIELD_MAX_LENGTH;
  const context = input.context ?? {};
  const app = sanitize(input.appName, caps.appName);
  const amountValue = sanitize(context.amount, caps.amount);
  const currency = amountValue ? sanitize(context.currency, caps.currency) : "";
  const locale = isLocale(input.locale) ? input.locale : "en";
  const fields: Fields = {
    app,
    // In the reader's format: `49.90 EUR` (en), `49,90 €` (de, fr); see formatAmount.
    amount: amountValue ? formatAmount(amountValue, currency, locale) : "",
    merchant: input.purpose === "transaction" ? sanitize(context.merchant, caps.merchant) : "",
  };
  const description = sanitize(context.description, caps.description);
  const wording = WORDING[locale];
  // Never a default wording: the body must state the real purpose (victim-relay defence).
  if (!isPurpose(input.purpose)) throw new RangeError(`unknown purpose: ${String(input.purpose)}`);
  const purpose = wording.purposes[input.purpose];
  return `${input.code} ${wording.intro(app)} ${purpose(fields)}${description ? ` (${description})` : ""}.`;
}

/**
 * How the service's own wording opens in the body of each locale, for an app of this name: the text
 * that follows the code (`is my ACME code to`, `ist mein Code für ACME`, `est mon code ACME pour`).
 * Everything the service writes into a body (the app name, the purpose, amount, merchant and
 * description) comes after it, so the SMS code rule (sms-code.ts) never reads past it.
 */
export function wordingOpenings(appName: string): string[] {
  const app = sanitize(appName, SMS_FIELD_MAX_LENGTH.appName);
  return SUPPORTED_LOCALES.map((locale) => WORDING[locale].intro(app));
}

/**
 * `sms:` links that open the SMS app with recipient and body filled in. iOS reads the body
 * after `&`, Android after `?`. Only `+` and digits of `to` are kept so that it cannot add
 * parameters; lone surrogates (which encodeURIComponent refuses) become U+FFFD.
 */
export function buildSmsUris(to: string, body: string): { ios: string; android: string } {
  const recipient = to.replace(/[^+0-9]/g, "");
  const encoded = encodeURIComponent(body.replace(/\p{Cs}/gu, "\uFFFD"));
  return { ios: `sms:${recipient}&body=${encoded}`, android: `sms:${recipient}?body=${encoded}` };
}
