// Every word of the demo page, in the three languages the SMS text speaks (see sms-text.ts).
// The page is rendered in one language (`?lang=`, else Accept-Language, else English); the
// strings its script needs travel with it as a JSON data block.
import { resolveLocale, SUPPORTED_LOCALES, type Locale, type Purpose } from "../challenges/sms-text.js";

export type DemoStrings = {
  htmlTitle: string;
  skipLink: string;
  languageNav: string;
  heading: string;
  intro: string;
  formHeading: string;
  country: string;
  phone: string;
  /** `{example}`: a mobile number of the selected country in its national format; `{country}`: its name. */
  phoneHint: string;
  purpose: string;
  purposes: Record<Purpose, string>;
  smsLanguage: string;
  amount: string;
  currency: string;
  merchant: string;
  transactionHint: string;
  submit: string;
  creating: string;
  resultHeading: string;
  yourCode: string;
  yourPhone: string;
  textTo: string;
  smsText: string;
  openSms: string;
  qrHeading: string;
  qrAlt: string;
  expires: string;
  statusHeading: string;
  status: {
    connecting: string;
    pending: string;
    verified: string;
    expired: string;
    failed: string;
    cancelled: string;
    reconnecting: string;
  };
  simulate: string;
  simulateHint: string;
  simulating: string;
  simulated: string;
  startOver: string;
  /** "Can't send an SMS? Get a code instead": the classic direction (demo-outbox.ts). */
  fallback: string;
  fallbackHint: string;
  fallingBack: string;
  classicHeading: string;
  demoPhone: string;
  waitingForSms: string;
  /** `{status}`: the delivery status of an SMS the demo outbox did not get. */
  smsNotShown: string;
  typedCode: string;
  typedCodeHint: string;
  /** The status line while a sent code waits to be typed. */
  classicPending: string;
  check: string;
  checking: string;
  /** `{n}`: the attempts left before the phone is locked out. */
  attemptsLeft: string;
  noAttemptsLeft: string;
  errorPrefix: string;
  networkError: string;
  footer: string;
};

/** Names of the languages in themselves, for the language links and the SMS language menu. */
export const LANGUAGE_NAMES: Record<Locale, string> = { en: "English", de: "Deutsch", fr: "Français" };

export const DEMO_STRINGS: Record<Locale, DemoStrings> = {
  en: {
    htmlTitle: "reverse-otp demo",
    skipLink: "Skip to the form",
    languageNav: "Language of this page",
    heading: "Verify a phone number with one SMS",
    intro:
      "Enter a phone number and get a code. Text the code to our number from that phone: this page shows the result as soon as the SMS arrives. Everything runs on this server.",
    formHeading: "1. Your phone number",
    country: "Country",
    phone: "Phone number",
    phoneHint: "The number you will send the SMS from, e.g. {example} ({country}).",
    purpose: "What is the code for?",
    purposes: {
      signup: "Sign up",
      login: "Log in",
      password_reset: "Reset a password",
      profile_change: "Change a profile",
      transaction: "Confirm a payment",
      appointment: "Confirm an appointment",
    },
    smsLanguage: "Language of the SMS",
    amount: "Amount",
    currency: "Currency",
    merchant: "Merchant",
    transactionHint: "The SMS names the amount and the merchant, so the user reads what they approve.",
    submit: "Get my code",
    creating: "Creating your code…",
    resultHeading: "2. Send the SMS",
    yourCode: "Your code",
    yourPhone: "Your phone",
    textTo: "Text it to",
    smsText: "The SMS to send",
    openSms: "Open my messaging app",
    qrHeading: "On a computer? Scan this with your phone's camera.",
    qrAlt: "QR code that opens your messaging app with this SMS ready to send",
    expires: "Valid until",
    statusHeading: "3. Status",
    status: {
      connecting: "Connecting…",
      pending: "Waiting for your SMS…",
      verified: "Verified: the phone number is confirmed.",
      expired: "Expired: this code is no longer valid. Start again.",
      failed: "Failed: too many wrong codes were sent.",
      cancelled: "Cancelled.",
      reconnecting: "Connection lost, reconnecting…",
    },
    simulate: "Simulate the SMS",
    simulateHint: "No phone at hand? The server sends the SMS webhook, signed as your SMS provider would sign it.",
    simulating: "Sending the SMS…",
    simulated: "SMS delivered to the webhook; waiting for the verification.",
    startOver: "Start again",
    fallback: "Can't send an SMS? Get a code instead",
    fallbackHint: "We send a new code to your phone by SMS and you type it in. In this demo the SMS stays on this server and is shown here.",
    fallingBack: "Sending the code…",
    classicHeading: "2. Type the code we sent",
    demoPhone: "Demo phone",
    waitingForSms: "Waiting for the SMS…",
    smsNotShown: "The SMS cannot be shown here (delivery: {status}).",
    typedCode: "Code from the SMS",
    typedCodeHint: "The code you received, e.g. 123456.",
    classicPending: "Waiting for the code you type…",
    check: "Verify",
    checking: "Checking…",
    attemptsLeft: "Wrong code: {n} attempts left.",
    noAttemptsLeft: "Wrong code: no attempts left.",
    errorPrefix: "That did not work:",
    networkError: "The server could not be reached.",
    footer: "reverse-otp demo mode: the page, the service and its database all run on this server.",
  },
  de: {
    htmlTitle: "reverse-otp Demo",
    skipLink: "Zum Formular springen",
    languageNav: "Sprache dieser Seite",
    heading: "Eine Telefonnummer mit einer einzigen SMS bestätigen",
    intro:
      "Geben Sie eine Telefonnummer ein und holen Sie sich einen Code. Senden Sie den Code von diesem Telefon per SMS an unsere Nummer: Diese Seite zeigt das Ergebnis, sobald die SMS ankommt. Alles läuft auf diesem Server.",
    formHeading: "1. Ihre Telefonnummer",
    country: "Land",
    phone: "Telefonnummer",
    phoneHint: "Die Nummer, von der Sie die SMS senden, z. B. {example} ({country}).",
    purpose: "Wofür ist der Code?",
    purposes: {
      signup: "Registrierung",
      login: "Anmeldung",
      password_reset: "Passwort zurücksetzen",
      profile_change: "Profil ändern",
      transaction: "Zahlung bestätigen",
      appointment: "Termin bestätigen",
    },
    smsLanguage: "Sprache der SMS",
    amount: "Betrag",
    currency: "Währung",
    merchant: "Händler",
    transactionHint: "Die SMS nennt Betrag und Händler, damit man liest, was man bestätigt.",
    submit: "Meinen Code holen",
    creating: "Ihr Code wird erstellt…",
    resultHeading: "2. SMS senden",
    yourCode: "Ihr Code",
    yourPhone: "Ihr Telefon",
    textTo: "Senden an",
    smsText: "Die zu sendende SMS",
    openSms: "Nachrichten-App öffnen",
    qrHeading: "Am Computer? Scannen Sie diesen Code mit der Kamera Ihres Telefons.",
    qrAlt: "QR-Code, der Ihre Nachrichten-App mit dieser SMS zum Senden öffnet",
    expires: "Gültig bis",
    statusHeading: "3. Status",
    status: {
      connecting: "Verbindung wird hergestellt…",
      pending: "Warten auf Ihre SMS…",
      verified: "Bestätigt: Die Telefonnummer ist verifiziert.",
      expired: "Abgelaufen: Dieser Code gilt nicht mehr. Bitte neu beginnen.",
      failed: "Fehlgeschlagen: Es wurden zu viele falsche Codes gesendet.",
      cancelled: "Abgebrochen.",
      reconnecting: "Verbindung unterbrochen, neuer Versuch…",
    },
    simulate: "SMS simulieren",
    simulateHint: "Kein Telefon zur Hand? Der Server sendet den SMS-Webhook, signiert wie von Ihrem SMS-Anbieter.",
    simulating: "SMS wird gesendet…",
    simulated: "SMS an den Webhook zugestellt; die Bestätigung folgt.",
    startOver: "Neu beginnen",
    fallback: "Keine SMS möglich? Code zuschicken lassen",
    fallbackHint: "Wir schicken einen neuen Code per SMS an dein Telefon, du gibst ihn ein. In dieser Demo bleibt die SMS auf diesem Server und wird hier angezeigt.",
    fallingBack: "Der Code wird gesendet…",
    classicHeading: "2. Gib den gesendeten Code ein",
    demoPhone: "Demo-Telefon",
    waitingForSms: "Warte auf die SMS…",
    smsNotShown: "Die SMS kann hier nicht angezeigt werden (Zustellung: {status}).",
    typedCode: "Code aus der SMS",
    typedCodeHint: "Der Code, den du erhalten hast, z. B. 123456.",
    classicPending: "Warte auf den eingegebenen Code…",
    check: "Bestätigen",
    checking: "Wird geprüft…",
    attemptsLeft: "Falscher Code: noch {n} Versuche.",
    noAttemptsLeft: "Falscher Code: keine Versuche mehr.",
    errorPrefix: "Das hat nicht geklappt:",
    networkError: "Der Server ist nicht erreichbar.",
    footer: "reverse-otp im Demo-Modus: Seite, Dienst und Datenbank laufen auf diesem Server.",
  },
  fr: {
    htmlTitle: "Démo reverse-otp",
    skipLink: "Aller au formulaire",
    languageNav: "Langue de cette page",
    heading: "Vérifier un numéro de téléphone avec un seul SMS",
    intro:
      "Saisissez un numéro de téléphone et obtenez un code. Envoyez ce code par SMS à notre numéro depuis ce téléphone : cette page affiche le résultat dès que le SMS arrive. Tout tourne sur ce serveur.",
    formHeading: "1. Votre numéro de téléphone",
    country: "Pays",
    phone: "Numéro de téléphone",
    phoneHint: "Le numéro depuis lequel vous enverrez le SMS, par exemple {example} ({country}).",
    purpose: "À quoi sert le code\u00a0?",
    purposes: {
      signup: "Inscription",
      login: "Connexion",
      password_reset: "Réinitialiser un mot de passe",
      profile_change: "Modifier un profil",
      transaction: "Confirmer un paiement",
      appointment: "Confirmer un rendez-vous",
    },
    smsLanguage: "Langue du SMS",
    amount: "Montant",
    currency: "Devise",
    merchant: "Commerçant",
    transactionHint: "Le SMS indique le montant et le commerçant : on lit ce que l'on approuve.",
    submit: "Obtenir mon code",
    creating: "Création de votre code…",
    resultHeading: "2. Envoyez le SMS",
    yourCode: "Votre code",
    yourPhone: "Votre téléphone",
    textTo: "À envoyer au",
    smsText: "Le SMS à envoyer",
    openSms: "Ouvrir ma messagerie",
    qrHeading: "Sur un ordinateur\u00a0? Scannez ce code avec l'appareil photo de votre téléphone.",
    qrAlt: "QR code qui ouvre votre messagerie avec ce SMS prêt à partir",
    expires: "Valable jusqu'à",
    statusHeading: "3. Statut",
    status: {
      connecting: "Connexion…",
      pending: "En attente de votre SMS…",
      verified: "Vérifié : le numéro de téléphone est confirmé.",
      expired: "Expiré : ce code n'est plus valable. Recommencez.",
      failed: "Échec : trop de codes erronés ont été envoyés.",
      cancelled: "Annulé.",
      reconnecting: "Connexion perdue, nouvelle tentative…",
    },
    simulate: "Simuler le SMS",
    simulateHint: "Pas de téléphone sous la main\u00a0? Le serveur envoie le webhook du SMS, signé comme le ferait votre fournisseur.",
    simulating: "Envoi du SMS…",
    simulated: "SMS remis au webhook ; la vérification suit.",
    startOver: "Recommencer",
    fallback: "Impossible d'envoyer un SMS ? Recevez un code",
    fallbackHint: "Nous envoyons un nouveau code par SMS à votre téléphone et vous le saisissez. Dans cette démo, le SMS reste sur ce serveur et s'affiche ici.",
    fallingBack: "Envoi du code…",
    classicHeading: "2. Saisissez le code envoyé",
    demoPhone: "Téléphone de démo",
    waitingForSms: "En attente du SMS…",
    smsNotShown: "Le SMS ne peut pas être affiché ici (remise : {status}).",
    typedCode: "Code reçu par SMS",
    typedCodeHint: "Le code reçu, par exemple 123456.",
    classicPending: "En attente du code saisi…",
    check: "Vérifier",
    checking: "Vérification…",
    attemptsLeft: "Code erroné : encore {n} essais.",
    noAttemptsLeft: "Code erroné : plus aucun essai.",
    errorPrefix: "Cela n'a pas fonctionné :",
    networkError: "Le serveur est injoignable.",
    footer: "reverse-otp en mode démo : la page, le service et sa base de données tournent sur ce serveur.",
  },
};

/** The page language: `?lang=` when supported, else the first supported Accept-Language entry, else English. */
export function pickPageLanguage(queryLang: unknown, acceptLanguage: string | undefined): Locale {
  if (typeof queryLang === "string" && (SUPPORTED_LOCALES as readonly string[]).includes(queryLang.toLowerCase())) {
    return queryLang.toLowerCase() as Locale;
  }
  return resolveLocale(acceptLanguage);
}

const DEFAULT_COUNTRY: Record<Locale, string> = { en: "GB", de: "DE", fr: "FR" };

/**
 * The country preselected in the list: the region of the first Accept-Language tag in the page's
 * language (`de-AT` on a German page), else the language's usual country (a German page read on an
 * `en-US` browser starts with Germany).
 */
export function pickDefaultCountry(language: Locale, acceptLanguage: string | undefined, isKnown: (country: string) => boolean): string {
  for (const entry of (acceptLanguage ?? "").split(",").slice(0, 10)) {
    const match = /^([a-z]{2,3})[-_]([a-z]{2})\b/i.exec(entry.trim());
    const region = match?.[2]?.toUpperCase();
    if (match?.[1]?.toLowerCase() === language && region && isKnown(region)) return region;
  }
  return DEFAULT_COUNTRY[language];
}
