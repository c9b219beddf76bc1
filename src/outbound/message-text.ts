// The texts of codes we send (the classic direction): SMS and e-mail, in en, de and fr.
//
// What the first source document asks, and what this module guarantees:
// - the code first, so the user can read it in the notification without opening the message;
// - the app's name and the purpose, and for a payment the amount and the payee
//   (`123456 is your Acme code to confirm 49.90 EUR to Shop. Do not share it.`), so the user
//   reads what the code approves and a fraudster's "just read me the code" is harder;
// - amounts in the reader's own format (`49,90 €` in German and French);
// - one SMS: 160 GSM 7-bit septets, or 70 UCS-2 characters when a name needs characters outside
//   GSM-7 (what the app supplied is first brought into GSM-7 where that changes nothing it says).
//   When the optional parts do not fit, they are shortened in a fixed order: the description goes,
//   then merchant and app name are shortened, then the "do not share" sentence goes, then merchant
//   and app name go, and last the amount. Code and purpose always stay.
// Property tests (test/unit/outbound/message-text.test.ts) hold every text to this.
import { formatAmount, sanitizeDisplayText } from "../shared/display-text.js";
import { isLocale, isPurpose, type Locale, type Purpose, type SmsContext } from "../challenges/sms-text.js";
import { fitsOneSms, toGsm7WherePossible } from "./gsm7.js";

export type OutboundTextInput = {
  appName: string;
  purpose: Purpose;
  code: string;
  locale: Locale;
  context?: SmsContext;
};

export type EmailTextInput = OutboundTextInput & {
  /** How long the code stays valid, shown in the e-mail. */
  expiresInSeconds?: number;
};

export type EmailText = { subject: string; text: string; html: string };

/** Caps in code points before any shortening. */
const CAPS = { appName: 30, merchant: 30, description: 40, amount: 17, currency: 5 } as const;
/** E-mail has room: longer caps, the same sanitising. */
const EMAIL_CAPS = { appName: 60, merchant: 60, description: 100, amount: 17, currency: 5 } as const;
/** Merchant and app name are first shortened down to this many characters before they go. */
const MIN_NAME_CHARS = 12;

type Fields = { app: string; amount: string; merchant: string; description: string; warn: boolean };

type Wording = {
  sentence: (code: string, f: Fields) => string;
  purposes: Record<Purpose, (f: Fields) => string>;
  warning: string;
  subject: (code: string, app: string) => string;
  expires: (minutes: number) => string;
  ignore: string;
};

const withDescription = (f: Fields) => (f.description ? ` (${f.description})` : "");

const WORDING: Record<Locale, Wording> = {
  en: {
    sentence: (code, f) => `${code} is your ${f.app ? `${f.app} ` : ""}code to `,
    purposes: {
      signup: () => "sign up",
      login: () => "log in",
      password_reset: () => "reset your password",
      profile_change: () => "change your profile",
      transaction: ({ amount, merchant }) => `confirm ${amount || "a payment"}${merchant ? ` to ${merchant}` : ""}`,
      appointment: () => "confirm your appointment",
    },
    warning: " Do not share it.",
    subject: (code, app) => `${code} is your ${app ? `${app} ` : ""}code`,
    expires: (m) => `It expires in ${m} minute${m === 1 ? "" : "s"}.`,
    ignore: "If you did not ask for this code, ignore this message.",
  },
  de: {
    sentence: (code, f) => `${code} ist dein Code ${f.app ? `für ${f.app} ` : ""}`,
    purposes: {
      signup: () => "zur Registrierung",
      login: () => "zur Anmeldung",
      password_reset: () => "zum Zurücksetzen deines Passworts",
      profile_change: () => "zur Änderung deines Profils",
      transaction: ({ amount, merchant }) =>
        `zur Bestätigung ${amount ? `von ${amount}` : "einer Zahlung"}${merchant ? ` an ${merchant}` : ""}`,
      appointment: () => "zur Bestätigung deines Termins",
    },
    warning: " Gib ihn nicht weiter.",
    subject: (code, app) => `${code} ist dein Code${app ? ` für ${app}` : ""}`,
    expires: (m) => `Er ist ${m} Minute${m === 1 ? "" : "n"} gültig.`,
    ignore: "Wenn du diesen Code nicht angefordert hast, ignoriere diese Nachricht.",
  },
  // Kept within GSM-7: é, è, à are in it; ç, ê are not.
  fr: {
    sentence: (code, f) => `${code} est votre code ${f.app ? `${f.app} ` : ""}pour `,
    purposes: {
      signup: () => "vous inscrire",
      login: () => "vous connecter",
      password_reset: () => "réinitialiser votre mot de passe",
      profile_change: () => "modifier votre profil",
      transaction: ({ amount, merchant }) => `confirmer ${amount || "un paiement"}${merchant ? ` à ${merchant}` : ""}`,
      appointment: () => "confirmer votre rendez-vous",
    },
    warning: " Ne le partagez pas.",
    subject: (code, app) => `${code} est votre code${app ? ` ${app}` : ""}`,
    expires: (m) => `Il expire dans ${m} minute${m === 1 ? "" : "s"}.`,
    ignore: "Si vous n'avez pas demandé ce code, ignorez ce message.",
  },
};

function wordingOf(input: OutboundTextInput): { locale: Locale; wording: Wording } {
  // Never a default purpose: the text must state the real one (victim-relay defence).
  if (!isPurpose(input.purpose)) throw new RangeError(`unknown purpose: ${String(input.purpose)}`);
  const locale = isLocale(input.locale) ? input.locale : "en";
  return { locale, wording: WORDING[locale] };
}

function fieldsOf(input: OutboundTextInput, locale: Locale, caps: typeof CAPS | typeof EMAIL_CAPS, gsm: boolean): Fields {
  const context = input.context ?? {};
  const clean = (value: string | undefined, cap: number) => {
    const text = sanitizeDisplayText(value, cap);
    return gsm ? toGsm7WherePossible(text) : text;
  };
  const isPayment = input.purpose === "transaction";
  const amountValue = isPayment ? sanitizeDisplayText(context.amount, caps.amount) : "";
  const currency = amountValue ? sanitizeDisplayText(context.currency, caps.currency) : "";
  return {
    app: clean(input.appName, caps.appName),
    amount: amountValue ? clean(formatAmount(amountValue, currency, locale), 40) : "",
    merchant: isPayment ? clean(context.merchant, caps.merchant) : "",
    description: clean(context.description, caps.description),
    warn: true,
  };
}

function render(wording: Wording, purpose: Purpose, code: string, f: Fields): string {
  return `${wording.sentence(code, f)}${wording.purposes[purpose](f)}${withDescription(f)}.${f.warn ? wording.warning : ""}`;
}

const shorten = (text: string, chars: number) => Array.from(text).slice(0, chars).join("").trim();

/**
 * The SMS that carries the code, within one SMS (see the header). Throws RangeError on an unknown
 * purpose; an unknown locale is written in English.
 */
export function buildOutboundSms(input: OutboundTextInput): string {
  const { locale, wording } = wordingOf(input);
  const code = input.code;
  let f = fieldsOf(input, locale, CAPS, true);
  const text = () => render(wording, input.purpose, code, f);
  if (fitsOneSms(text())) return text();

  // 1. The description goes.
  f = { ...f, description: "" };
  if (fitsOneSms(text())) return text();
  // 2. Merchant, then app name, shortened (one character at a time, down to MIN_NAME_CHARS).
  for (const key of ["merchant", "app"] as const) {
    while (!fitsOneSms(text()) && Array.from(f[key]).length > MIN_NAME_CHARS) {
      f = { ...f, [key]: shorten(f[key], Array.from(f[key]).length - 1) };
    }
    if (fitsOneSms(text())) return text();
  }
  // 3. The warning goes, then merchant and app name, then the amount.
  const steps: Partial<Fields>[] = [{ warn: false }, { merchant: "" }, { app: "" }, { amount: "" }];
  for (const step of steps) {
    f = { ...f, ...step };
    if (fitsOneSms(text())) return text();
  }
  // Code (≤ 8 characters) and purpose alone always fit; kept for a caller outside the API rules.
  return text();
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

/**
 * The e-mail that carries the code: the code first in the subject and in both parts, the same
 * sentence as the SMS (app, purpose, amount and payee), how long it is valid, and what to do if the
 * reader did not ask for it. Plain text and an HTML alternative with the same content, every
 * value escaped.
 */
export function buildOutboundEmail(input: EmailTextInput): EmailText {
  const { locale, wording } = wordingOf(input);
  const f = fieldsOf(input, locale, EMAIL_CAPS, false);
  const sentence = render(wording, input.purpose, input.code, f);
  const minutes = input.expiresInSeconds ? Math.max(1, Math.round(input.expiresInSeconds / 60)) : undefined;
  const lines = [sentence, ...(minutes ? [wording.expires(minutes)] : []), "", wording.ignore];
  const subject = wording.subject(input.code, f.app);
  const html = [
    "<!doctype html>",
    `<html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family: sans-serif; line-height: 1.5">',
    `<p style="font-size: 28px; font-weight: bold; letter-spacing: 4px; margin: 0 0 16px">${escapeHtml(input.code)}</p>`,
    `<p>${escapeHtml(sentence)}</p>`,
    ...(minutes ? [`<p>${escapeHtml(wording.expires(minutes))}</p>`] : []),
    `<p style="color: #555">${escapeHtml(wording.ignore)}</p>`,
    "</body></html>",
  ].join("\n");
  return { subject, text: `${lines.join("\n")}\n`, html };
}
