// The outbox's writing side: what the challenges feature calls, inside its own transaction, to have
// a code sent (enqueue), and how a message is prepared for storage. Sending is the dispatcher's
// (outbound-dispatcher.ts); nothing here talks to a provider.
//
//   const outbox = createOutbox({ repository, hasher, sealer, clock, deadlineSeconds, emailFrom });
//   await prisma.$transaction(async (tx) => {
//     … insert the challenge …
//     const { id, delivery } = await outbox.enqueueIn(tx, { channel: "sms", appId, challengeId,
//       provider: "twilio", from: "+447400000100", to: { e164, country }, text });
//   });
//
// The message then exists if and only if the transaction commits, and the dispatchers are woken at
// commit (NOTIFY). Recipient and text are sealed; they are erased once the message is final.
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { maskPhone } from "../challenges/phone.js";
import type { ProviderName } from "../providers/registry.js";
import type { Clock } from "../shared/clock.js";
import { hmacSha256Hex, randomId, type Hasher, type Sealer } from "../shared/crypto.js";
import { enqueueScript, type DeliveryStatus, type NewOutboundRow, type OutboxRepository, type OutboxTransaction } from "./outbox-repository.js";

export type OutboundSmsInput = {
  channel: "sms";
  appId: string;
  challengeId?: string;
  /** The provider of the app's virtual number; the number is the sender. */
  provider: ProviderName;
  from: string;
  to: { e164: string; country?: string | undefined };
  text: string;
};

export type OutboundEmailInput = {
  channel: "email";
  appId: string;
  challengeId?: string;
  to: string;
  subject: string;
  text: string;
  html: string;
};

export type OutboundInput = OutboundSmsInput | OutboundEmailInput;

/** The sealed payload: what the dispatcher needs to send, and nothing stored in clear. */
export type OutboundPayload =
  | { channel: "sms"; to: string; text: string }
  | { channel: "email"; to: string; subject: string; text: string; html: string };

export type EnqueuedMessage = { id: string; delivery: { status: DeliveryStatus; updatedAt: Date } };

export type OutboxDeps = {
  repository: Pick<OutboxRepository, "enqueueIn" | "enqueue">;
  hasher: Pick<Hasher, "phone">;
  /** The key of the e-mail address HMAC (the primary HASH_KEY). */
  hashKey: string;
  sealer: Pick<Sealer, "seal">;
  clock: Clock;
  /** How long the dispatcher keeps trying before the delivery is `failed`. */
  deadlineSeconds: number;
  /** EMAIL_FROM, stored as the sender of e-mails. */
  emailFrom: string | undefined;
};

/** Our message ids carry 131 random bits (randomId); `msg_` + 22 base62 characters. */
export const newMessageId = () => randomId("msg");

/**
 * Country calling code and the first three national digits (`+33612`): narrow enough that a cap on
 * it stops pumping into one operator's range, wide enough that it names no one.
 */
export function numberPrefix(e164: string): string | null {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return null;
  return `+${parsed.countryCallingCode}${String(parsed.nationalNumber).slice(0, 3)}`;
}

/** Keyed digest of an e-mail address (lower-cased), domain-separated from phone digests. */
export const emailDigest = (key: string, address: string) => hmacSha256Hex(key, `email:${address.trim().toLowerCase()}`);

/** `jane.doe@example.com` → `j•••@example.com`. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf("@");
  if (at <= 0) return "•••";
  return `${Array.from(address)[0]}•••${address.slice(at)}`;
}

const emailAddressOf = (from: string | undefined) => /<([^>]+)>/.exec(from ?? "")?.[1] ?? from ?? "";

export function createOutbox(deps: OutboxDeps) {
  /** The row for `input`, enqueued at `now`. */
  function prepare(input: OutboundInput, now: Date): NewOutboundRow {
    const id = newMessageId();
    const deadlineAt = new Date(now.getTime() + deps.deadlineSeconds * 1000);
    const common = { id, appId: input.appId, challengeId: input.challengeId ?? null, createdAt: now, deadlineAt };
    if (input.channel === "sms") {
      const payload: OutboundPayload = { channel: "sms", to: input.to.e164, text: input.text };
      return {
        ...common,
        channel: "sms",
        provider: input.provider,
        sender: input.from,
        recipientHash: deps.hasher.phone(input.to.e164),
        recipientMasked: maskPhone(input.to.e164),
        country: input.to.country ?? null,
        prefix: numberPrefix(input.to.e164),
        sealedPayload: deps.sealer.seal(JSON.stringify(payload)),
      };
    }
    const payload: OutboundPayload = { channel: "email", to: input.to, subject: input.subject, text: input.text, html: input.html };
    return {
      ...common,
      channel: "email",
      provider: "smtp",
      sender: emailAddressOf(deps.emailFrom),
      recipientHash: emailDigest(deps.hashKey, input.to),
      recipientMasked: maskEmail(input.to),
      country: null,
      prefix: null,
      sealedPayload: deps.sealer.seal(JSON.stringify(payload)),
    };
  }

  const answer = (row: NewOutboundRow): EnqueuedMessage => ({ id: row.id, delivery: { status: "queued", updatedAt: row.createdAt } });

  return {
    prepare,
    /** Enqueues inside the caller's transaction (the challenge's): the message commits with it, or not at all. */
    async enqueueIn(tx: OutboxTransaction, input: OutboundInput): Promise<EnqueuedMessage> {
      const row = prepare(input, deps.clock.now());
      await deps.repository.enqueueIn(tx, row);
      return answer(row);
    },
    /**
     * The message as SQL that commits with a challenge's creation (its `cte` and `after`, see
     * outbox-repository.ts enqueueScript), and the answer it will have once committed.
     */
    enqueueScript(input: OutboundInput): { script: { cte: string; after: string }; enqueued: EnqueuedMessage } {
      const row = prepare(input, deps.clock.now());
      return { script: enqueueScript(row), enqueued: answer(row) };
    },
    /** Enqueues in a transaction of its own. */
    async enqueue(input: OutboundInput): Promise<EnqueuedMessage> {
      const row = prepare(input, deps.clock.now());
      await deps.repository.enqueue(row);
      return answer(row);
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
