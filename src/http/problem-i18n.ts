// The `detail` of problem answers, and their field messages, in the language the client asks for
// with Accept-Language: English (the words the code throws), German or French. `code`, `reason`,
// `title` and field names stay as they are: clients branch on those, people read `detail`.
//
// German and French say, per code, what went wrong and what to do; where a reason (or a phone's
// line type) says more, they say that. They are less specific than the English text in a few cases
// (a route's path, an app's own country list): those stay in the field errors or the English text.
// A field message this table does not know stays in English rather than being guessed.
import type { ErrorCode, FieldError } from "../shared/errors.js";

export type ProblemLocale = "en" | "de" | "fr";
type Translated = Exclude<ProblemLocale, "en">;

/**
 * The best of en/de/fr for an Accept-Language header (RFC 9110 §12.5.4: quality values, language
 * ranges like `de-CH` matching `de`, `*` matching the default). English when nothing matches.
 */
export function negotiateLocale(header: string | undefined): ProblemLocale {
  if (!header) return "en";
  let best: { locale: ProblemLocale; q: number; order: number } | undefined;
  header.split(",").slice(0, 20).forEach((part, order) => {
    const [range = "", ...params] = part.trim().toLowerCase().split(";");
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0 || q > 1) return;
    const language = range.trim().split("-")[0];
    const locale: ProblemLocale | undefined = language === "*" ? "en" : language === "en" || language === "de" || language === "fr" ? language : undefined;
    if (!locale) return;
    if (!best || q > best.q) best = { locale, q, order };
  });
  return best?.locale ?? "en";
}

/** What went wrong, per code, for people. */
const CODE_DETAILS: Record<Translated, Record<ErrorCode, string>> = {
  de: {
    INVALID_REQUEST: "Die Anfrage konnte nicht gelesen werden.",
    INVALID_JSON: "Der Inhalt der Anfrage ist kein gültiges JSON.",
    VALIDATION_FAILED: "Die Anfrage enthält ungültige oder unbekannte Felder.",
    UNAUTHENTICATED: "Es fehlt ein gültiger API-Schlüssel (Authorization: Bearer <Schlüssel>).",
    FORBIDDEN: "Dieser Schlüssel darf das nicht.",
    NOT_FOUND: "Das gibt es hier nicht.",
    METHOD_NOT_ALLOWED: "Diese HTTP-Methode ist hier nicht erlaubt.",
    CHALLENGE_NOT_VERIFIED: "Die Prüfung ist nicht bestätigt.",
    CHALLENGE_ALREADY_CONSUMED: "Diese Bestätigung wurde bereits verwendet.",
    CHALLENGE_NOT_PENDING: "Die Prüfung ist nicht mehr offen.",
    IDEMPOTENCY_KEY_REUSED: "Dieser Idempotency-Key wurde für eine andere Anfrage verwendet.",
    PAYLOAD_TOO_LARGE: "Der Inhalt der Anfrage ist zu groß.",
    UNSUPPORTED_MEDIA_TYPE: "Dieser Inhaltstyp wird nicht unterstützt.",
    INVALID_PHONE: "Das ist keine gültige Telefonnummer.",
    PHONE_NOT_MOBILE: "Diese Nummer kann keine SMS senden; bitte eine Mobilfunknummer verwenden.",
    COUNTRY_NOT_ALLOWED: "Nummern aus diesem Land sind hier nicht zugelassen.",
    PHONE_LOCKED: "Von dieser Nummer kamen zu viele falsche Codes; bitte später erneut versuchen.",
    RATE_LIMITED: "Zu viele Anfragen; bitte später erneut versuchen.",
    OUTBOUND_CAP_REACHED: "Es wurden zu viele Codes gesendet; bitte später erneut versuchen.",
    OUTBOUND_PAUSED: "Das Senden von Codes ist für diese App vorübergehend angehalten.",
    CHANNEL_NOT_ALLOWED: "Dieser Weg für den Code ist für diese App oder diese Prüfung nicht möglich.",
    WRONG_CODE: "Der Code ist falsch.",
    NO_VIRTUAL_NUMBER: "Die App hat keine Nummer, an die eine SMS gehen kann.",
    WEBHOOK_SIGNATURE_MISSING: "Der Webhook ist nicht signiert.",
    WEBHOOK_SIGNATURE_INVALID: "Die Signatur des Webhooks ist ungültig.",
    WEBHOOK_TIMESTAMP_OUT_OF_RANGE: "Der Zeitstempel des Webhooks liegt außerhalb der Toleranz.",
    WEBHOOK_NOT_CONFIGURED: "Für diesen Anbieter ist kein Geheimnis eingerichtet.",
    WEBHOOK_PAYLOAD_INVALID: "Der Inhalt des Webhooks ist ungültig.",
    UNKNOWN_PROVIDER: "Diesen SMS-Anbieter gibt es nicht.",
    SERVICE_UNAVAILABLE: "Der Dienst ist gerade nicht verfügbar; bitte gleich erneut versuchen.",
    INTERNAL: "Interner Fehler.",
  },
  fr: {
    INVALID_REQUEST: "La requête n'a pas pu être lue.",
    INVALID_JSON: "Le corps de la requête n'est pas du JSON valide.",
    VALIDATION_FAILED: "La requête contient des champs invalides ou inconnus.",
    UNAUTHENTICATED: "Il manque une clé d'API valide (Authorization: Bearer <clé>).",
    FORBIDDEN: "Cette clé ne permet pas cette action.",
    NOT_FOUND: "Cette ressource n'existe pas.",
    METHOD_NOT_ALLOWED: "Cette méthode HTTP n'est pas acceptée ici.",
    CHALLENGE_NOT_VERIFIED: "La vérification n'est pas confirmée.",
    CHALLENGE_ALREADY_CONSUMED: "Cette vérification a déjà été utilisée.",
    CHALLENGE_NOT_PENDING: "La vérification n'est plus en attente.",
    IDEMPOTENCY_KEY_REUSED: "Cette Idempotency-Key a servi pour une autre requête.",
    PAYLOAD_TOO_LARGE: "Le corps de la requête est trop volumineux.",
    UNSUPPORTED_MEDIA_TYPE: "Ce type de contenu n'est pas pris en charge.",
    INVALID_PHONE: "Ce n'est pas un numéro de téléphone valide.",
    PHONE_NOT_MOBILE: "Ce numéro ne peut pas envoyer de SMS ; utilisez un numéro de mobile.",
    COUNTRY_NOT_ALLOWED: "Les numéros de ce pays ne sont pas acceptés ici.",
    PHONE_LOCKED: "Trop de codes erronés depuis ce numéro ; réessayez plus tard.",
    RATE_LIMITED: "Trop de requêtes ; réessayez plus tard.",
    OUTBOUND_CAP_REACHED: "Trop de codes ont été envoyés ; réessayez plus tard.",
    OUTBOUND_PAUSED: "L'envoi de codes est suspendu pour cette application.",
    CHANNEL_NOT_ALLOWED: "Ce moyen de recevoir le code n'est pas possible pour cette application ou cette vérification.",
    WRONG_CODE: "Le code est incorrect.",
    NO_VIRTUAL_NUMBER: "L'application n'a aucun numéro auquel envoyer le SMS.",
    WEBHOOK_SIGNATURE_MISSING: "Le webhook n'est pas signé.",
    WEBHOOK_SIGNATURE_INVALID: "La signature du webhook est invalide.",
    WEBHOOK_TIMESTAMP_OUT_OF_RANGE: "L'horodatage du webhook est hors de la tolérance.",
    WEBHOOK_NOT_CONFIGURED: "Aucun secret n'est configuré pour ce fournisseur.",
    WEBHOOK_PAYLOAD_INVALID: "Le contenu du webhook est invalide.",
    UNKNOWN_PROVIDER: "Ce fournisseur de SMS n'existe pas.",
    SERVICE_UNAVAILABLE: "Le service est momentanément indisponible ; réessayez dans un instant.",
    INTERNAL: "Erreur interne.",
  },
};

/** Finer words where `reason` says more than the code (keys: `CODE:reason`). */
const REASON_DETAILS: Record<Translated, Record<string, string>> = {
  de: {
    "INVALID_PHONE:too_short": "Die Telefonnummer ist zu kurz.",
    "INVALID_PHONE:too_long": "Die Telefonnummer ist zu lang.",
    "INVALID_PHONE:invalid_country": "Das Land fehlt oder ist unbekannt; bitte ein Land wählen oder die Nummer international mit + angeben.",
    "FORBIDDEN:POLL_TOKEN_REQUIRED":
      "Ein veröffentlichbarer Schlüssel liest eine Prüfung nur mit ihrem Poll-Token: den Header X-Poll-Token aus der Antwort der Erstellung mitsenden oder den geheimen Schlüssel verwenden.",
    "RATE_LIMITED:phone": "Zu viele Prüfungen für diese Telefonnummer; bitte später erneut versuchen.",
    "RATE_LIMITED:publishable_key": "Zu viele Prüfungen von diesem Gerät; bitte später erneut versuchen.",
    "RATE_LIMITED:secret_key": "Zu viele Anfragen mit diesem geheimen Schlüssel; bitte langsamer.",
  },
  fr: {
    "INVALID_PHONE:too_short": "Le numéro de téléphone est trop court.",
    "INVALID_PHONE:too_long": "Le numéro de téléphone est trop long.",
    "INVALID_PHONE:invalid_country": "Le pays manque ou est inconnu ; choisissez un pays ou écrivez le numéro au format international avec +.",
    "FORBIDDEN:POLL_TOKEN_REQUIRED":
      "Une clé publiable ne lit une vérification qu'avec son jeton de suivi : envoyez l'en-tête X-Poll-Token reçu à la création, ou utilisez la clé secrète.",
    "RATE_LIMITED:phone": "Trop de vérifications pour ce numéro ; réessayez plus tard.",
    "RATE_LIMITED:publishable_key": "Trop de vérifications depuis cet appareil ; réessayez plus tard.",
    "RATE_LIMITED:secret_key": "Trop de requêtes avec cette clé secrète ; ralentissez.",
  },
};

/** A number that cannot send SMS, by its line type (libphonenumber's names). */
const LINE_TYPES: Record<Translated, { sentence: (type: string) => string; names: Record<string, string> }> = {
  de: {
    sentence: (type) => `Das ist eine ${type}, die keine SMS senden kann; bitte eine Mobilfunknummer verwenden.`,
    names: {
      FIXED_LINE: "Festnetznummer",
      VOIP: "VoIP-Nummer",
      TOLL_FREE: "kostenlose Servicenummer",
      PREMIUM_RATE: "Mehrwertnummer",
      SHARED_COST: "Servicenummer mit geteilten Kosten",
      PAGER: "Pager-Nummer",
      UAN: "Servicenummer (UAN)",
      VOICEMAIL: "Mailbox-Nummer",
      PERSONAL_NUMBER: "persönliche Weiterleitungsnummer",
    },
  },
  fr: {
    sentence: (type) => `C'est un ${type}, qui ne peut pas envoyer de SMS ; utilisez un numéro de mobile.`,
    names: {
      FIXED_LINE: "numéro de ligne fixe",
      VOIP: "numéro VoIP",
      TOLL_FREE: "numéro vert",
      PREMIUM_RATE: "numéro surtaxé",
      SHARED_COST: "numéro à coût partagé",
      PAGER: "numéro de bipeur",
      UAN: "numéro d'accès universel",
      VOICEMAIL: "numéro de messagerie vocale",
      PERSONAL_NUMBER: "numéro personnel de renvoi",
    },
  },
};

/** Field messages: exact texts and patterns of the messages the request schemas and services use. */
const FIELD_MESSAGES: Record<Translated, [RegExp, string][]> = {
  de: [
    [/^required$/, "erforderlich"],
    [/^required for purpose transaction$/, "für den Zweck transaction erforderlich"],
    [/^only description is allowed for this purpose$/, "für diesen Zweck ist nur description erlaubt"],
    [/^Invalid option: expected one of (.+)$/, "muss einer dieser Werte sein: $1"],
    [/^Unrecognized keys?: (.+)$/, "unbekanntes Feld: $1"],
    [/^must be an ISO 3166 alpha-2 country code$/, "muss ein Ländercode nach ISO 3166 sein (zwei Buchstaben)"],
    [/^must be an ISO 4217 code like EUR$/, "muss ein Währungscode nach ISO 4217 sein, etwa EUR"],
    [/^must be a decimal like 49\.90 \(at most 12 digits, 4 decimals\)$/, "muss ein Betrag wie 49.90 sein (höchstens 12 Stellen, 4 Nachkommastellen)"],
    [/^must be a language tag like en or de-DE$/, "muss ein Sprach-Tag wie en oder de-DE sein"],
    [/^must not contain control characters$/, "darf keine Steuerzeichen enthalten"],
    [/^must be a whole number of seconds from 0 to 30$/, "muss eine ganze Zahl von Sekunden zwischen 0 und 30 sein"],
    [/^Too big: expected string to have <=(\d+) characters?$/, "darf höchstens $1 Zeichen haben"],
    [/^Too small: expected string to have >=(\d+) characters?$/, "muss mindestens $1 Zeichen haben"],
    [/^Invalid input: expected (\w+), received (\w+)$/, "falscher Typ: erwartet $1"],
  ],
  fr: [
    [/^required$/, "obligatoire"],
    [/^required for purpose transaction$/, "obligatoire pour l'objet transaction"],
    [/^only description is allowed for this purpose$/, "seul description est permis pour cet objet"],
    [/^Invalid option: expected one of (.+)$/, "doit être l'une de ces valeurs : $1"],
    [/^Unrecognized keys?: (.+)$/, "champ inconnu : $1"],
    [/^must be an ISO 3166 alpha-2 country code$/, "doit être un code pays ISO 3166 (deux lettres)"],
    [/^must be an ISO 4217 code like EUR$/, "doit être un code de devise ISO 4217, comme EUR"],
    [/^must be a decimal like 49\.90 \(at most 12 digits, 4 decimals\)$/, "doit être un montant comme 49.90 (12 chiffres et 4 décimales au plus)"],
    [/^must be a language tag like en or de-DE$/, "doit être une étiquette de langue comme en ou de-DE"],
    [/^must not contain control characters$/, "ne doit pas contenir de caractères de contrôle"],
    [/^must be a whole number of seconds from 0 to 30$/, "doit être un nombre entier de secondes entre 0 et 30"],
    [/^Too big: expected string to have <=(\d+) characters?$/, "doit avoir au plus $1 caractères"],
    [/^Too small: expected string to have >=(\d+) characters?$/, "doit avoir au moins $1 caractères"],
    [/^Invalid input: expected (\w+), received (\w+)$/, "type incorrect : $1 attendu"],
  ],
};

export type LocalizableProblem = {
  code: ErrorCode;
  detail: string;
  reason?: string | undefined;
  /** The phone's line type, for PHONE_NOT_MOBILE. */
  lineType?: string | undefined;
  errors?: FieldError[] | undefined;
};

/** The problem's detail in `locale`, for people. */
export function localizedDetail(problem: LocalizableProblem, locale: ProblemLocale): string {
  if (locale === "en") return problem.detail;
  if (problem.code === "PHONE_NOT_MOBILE" && problem.lineType) {
    const name = LINE_TYPES[locale].names[problem.lineType];
    if (name) return LINE_TYPES[locale].sentence(name);
  }
  return (problem.reason && REASON_DETAILS[locale][`${problem.code}:${problem.reason}`]) || CODE_DETAILS[locale][problem.code];
}

/** A field message in `locale`; English when the table does not know it. */
export function localizedFieldMessage(message: string, locale: ProblemLocale): string {
  if (locale === "en") return message;
  for (const [pattern, replacement] of FIELD_MESSAGES[locale]) {
    if (pattern.test(message)) return message.replace(pattern, replacement);
  }
  return message;
}

/**
 * The problem's detail and field errors in `locale`. A field error that repeats the detail (the
 * phone's) is translated as the detail, so a page showing both never shows two languages.
 */
export function localizeProblem(problem: LocalizableProblem, locale: ProblemLocale): { detail: string; errors?: FieldError[] } {
  const detail = localizedDetail(problem, locale);
  if (!problem.errors) return { detail };
  return {
    detail,
    errors: problem.errors.map((e) => ({ field: e.field, message: e.message === problem.detail ? detail : localizedFieldMessage(e.message, locale) })),
  };
}
