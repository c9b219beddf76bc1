// The outbound side of a challenge (channels `sms` and `email`): the money and abuse rules checked
// before anything is written, and the code's message enqueued in the very transaction that stores
// the code (at creation, or at a fallback), so there is never a code without its message nor a
// message without its code. Sending itself is the outbound feature's dispatcher (src/outbound/).
import type { AppRecord } from "../apps/app-directory.js";
import type { Transaction } from "../db/database.js";
import type { AbuseGuard } from "../outbound/abuse-guard.js";
import { buildOutboundEmail, buildOutboundSms } from "../outbound/message-text.js";
import type { EnqueuedMessage, Outbox, OutboundInput } from "../outbound/outbox.js";
import type { CreationExtra } from "./challenge-sql.js";
import type { ProviderName } from "../providers/registry.js";
import { outboundCountriesOf, type ChosenChannel } from "./channels.js";
import type { ParsedPhone } from "./phone.js";
import type { Locale, Purpose, SmsContext } from "./sms-text.js";

/** What the challenges feature needs of the outbound feature. */
export type CodeSending = {
  outbox: Pick<Outbox, "enqueueIn" | "enqueueScript">;
  guard: Pick<AbuseGuard, "check">;
};

export type OutboundChoice = Exclude<ChosenChannel, { channel: "sms_mo" }>;

/** Throws the problem (PHONE_NOT_MOBILE, COUNTRY_NOT_ALLOWED, OUTBOUND_CAP_REACHED, OUTBOUND_PAUSED) when this code must not be sent. */
export async function checkCodeMaySend(sending: CodeSending, app: AppRecord, chosen: OutboundChoice, phone: ParsedPhone | undefined): Promise<void> {
  if (chosen.channel === "sms") {
    if (!phone) throw new RangeError("an SMS needs the phone");
    await sending.guard.check({ channel: "sms", appId: app.id, phone, allowedCountries: outboundCountriesOf(app) });
  } else {
    await sending.guard.check({ channel: "email", appId: app.id, email: chosen.email });
  }
}

export type CodeMessage = {
  app: AppRecord;
  challengeId: string;
  chosen: OutboundChoice;
  /** The recipient of an SMS (unused for e-mail). */
  phone: Pick<ParsedPhone, "e164" | "country"> | undefined;
  code: string;
  purpose: Purpose;
  locale: Locale;
  context: SmsContext | null;
  expiresInSeconds: number;
};

/** The outbox's input for the message of this challenge's new code. SMS go from the app's first number through that number's provider. */
function outboundInputOf(m: CodeMessage): OutboundInput {
  const text = { appName: m.app.name, purpose: m.purpose, code: m.code, locale: m.locale, ...(m.context ? { context: m.context } : {}) };
  if (m.chosen.channel === "sms") {
    if (!m.phone) throw new RangeError("an SMS needs the phone");
    const number = m.app.numbers[0]!;
    return {
      channel: "sms",
      appId: m.app.id,
      challengeId: m.challengeId,
      provider: number.provider as ProviderName,
      from: number.e164,
      to: { e164: m.phone.e164, country: m.phone.country },
      text: buildOutboundSms(text),
    };
  }
  const email = buildOutboundEmail({ ...text, expiresInSeconds: m.expiresInSeconds });
  return { channel: "email", appId: m.app.id, challengeId: m.challengeId, to: m.chosen.email, ...email };
}

/** Enqueues the outbound message of this challenge's new code inside the transaction that stores the code (`tx`): a fallback. */
export async function enqueueCodeMessage(sending: CodeSending, tx: Transaction, m: CodeMessage): Promise<EnqueuedMessage> {
  return sending.outbox.enqueueIn(tx, outboundInputOf(m));
}

/** The same message as SQL that commits with the challenge's creation (challenge-sql.ts, CreationExtra). */
export function codeMessageScript(sending: CodeSending, m: CodeMessage): { extra: CreationExtra; enqueued: EnqueuedMessage } {
  const { script, enqueued } = sending.outbox.enqueueScript(outboundInputOf(m));
  return { extra: script, enqueued };
}
