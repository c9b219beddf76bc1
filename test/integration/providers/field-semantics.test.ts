// Every provider's delivery with the field semantics its documentation gives: which field is the
// user (the sender) and which is our number (the recipient). Each payload is written out here field
// by field (not through the adapters' own helpers' naming), with the documentation it follows in a
// comment. Through HTTP on a real database:
//
//   - as documented, the delivery verifies the challenge of the user's phone, and the stored
//     message names our number as recipient and the user (masked) as sender;
//   - with sender and recipient swapped, it verifies nothing and is stored as `unknown_number`
//     for the user's number — so an adapter that read the two fields the wrong way round (as the
//     smsmode adapter once did) fails the first test, and one that ignored them fails the second.
//
// smsmode's REST webhook is the one exception by design: public integrations disagree on its
// placement, so the core takes whichever side is ours, and both placements verify.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { maskPhone } from "../../../src/challenges/phone.js";
import { fixedClock } from "../../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import { birdPathForNumber, signBirdRequest } from "../../support/providers/bird.js";
import { signInfobipRequest } from "../../support/providers/infobip.js";
import { signMessageBirdRequest } from "../../support/providers/messagebird.js";
import { signPlivoRequest } from "../../support/providers/plivo.js";
import { signSinchHmacRequest } from "../../support/providers/sinch.js";
import { formatSmsmodeReceptionDate, signSmsmodeRequest } from "../../support/providers/smsmode.js";
import { createTelnyxKeyPair, signTelnyxRequest } from "../../support/providers/telnyx.js";
import { signTwilioRequest } from "../../support/providers/twilio.js";
import { signVonageRequest } from "../../support/providers/vonage.js";

const START = "2031-05-04T10:00:00.000Z";
const clock = fixedClock(START);
const NOW_S = Math.floor(Date.parse(START) / 1000);
const SECRETS = {
  twilio: "twilio-auth-token-semantics-0123456789abcdef",
  vonage: "vonage-signature-secret-semantics-01234567",
  plivo: "plivo-auth-token-semantics-0123456789abcdefg",
  bird: "bird-signing-key-semantics-0123456789abcdefg",
  messagebird: "messagebird-signing-key-semantics-012345678",
  sinch: "sinch-callback-secret-semantics-0123456789",
} as const;
const TOKENS = {
  smsmode: "smsmodeSemTok_1Qa2Ws3Ed4Rf5Tg6Yh7Uj8Ik9Ol0P",
  infobip: "infobipSemTok_0Pl9Ok8Ij7Uh6Yg5Tf4Rd3Es2Wa1Q",
} as const;
const telnyx = createTelnyxKeyPair();

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    clock,
    env: {
      TWILIO_AUTH_TOKEN: SECRETS.twilio,
      VONAGE_SIGNATURE_SECRET: SECRETS.vonage,
      PLIVO_AUTH_TOKEN: SECRETS.plivo,
      TELNYX_PUBLIC_KEY: telnyx.publicKeyBase64,
      BIRD_SIGNING_KEY: SECRETS.bird,
      MESSAGEBIRD_SIGNING_KEY: SECRETS.messagebird,
      SMSMODE_WEBHOOK_TOKEN: TOKENS.smsmode,
      SINCH_WEBHOOK_SECRET: SECRETS.sinch,
      INFOBIP_WEBHOOK_TOKEN: TOKENS.infobip,
    },
  });
});
afterAll(async () => {
  await h?.close();
});

type Wire = { method: "GET" | "POST"; path: string; headers: Record<string, string>; body: string };
/** The two parties as the provider would write them, and what the message carries. */
type Parties = { user: string; ours: string; text: string; id: string };
type Case = {
  name: string;
  provider: string;
  /** Our number as registered (E.164, or a short code with its country). */
  number: { number: string; country?: string };
  deliver: (p: Parties) => Wire | Promise<Wire>;
  /** The core settles this provider's placement by which side is ours (smsmode REST). */
  placementSettledByOwnership?: boolean;
};

const digits = (e164: string) => e164.replace(/^\+/, "");

const CASES: Case[] = [
  {
    name: "generic (Standard Webhooks)",
    provider: "generic",
    number: { number: "+447400900001" },
    // Our own format (docs/providers/generic.md, OpenAPI schema GenericInboundMessage; the CLI's
    // simulate-sms): `from` "the sender (the user's phone)", `to` "the recipient (the app's
    // virtual number)".
    deliver: ({ user, ours, text, id }) => {
      const signed = h.signedGeneric({ messageId: id, from: user, to: ours, text });
      return { method: "POST", path: "/v1/inbound/generic", headers: signed.headers, body: signed.body };
    },
  },
  {
    name: "Twilio",
    provider: "twilio",
    number: { number: "+447400900002" },
    // https://www.twilio.com/docs/messaging/guides/webhook-request: `From` "The phone number or
    // Channel address that sent this message", `To` "The phone number of the recipient".
    deliver: ({ user, ours, text, id }) =>
      signTwilioRequest({ secret: SECRETS.twilio, params: { MessageSid: id, AccountSid: "AC0123456789abcdef0123456789abcdef", From: user, To: ours, Body: text, NumSegments: "1" } }),
  },
  {
    name: "Vonage SMS API",
    provider: "vonage",
    number: { number: "+447400900003" },
    // https://developer.vonage.com/en/messaging/sms/guides/inbound-sms: `msisdn` "The phone number
    // that this inbound message was sent from", `to` "The phone number that the message was sent
    // to. This is your virtual number."
    deliver: ({ user, ours, text, id }) =>
      signVonageRequest({
        api: "sms",
        secret: SECRETS.vonage,
        params: { msisdn: digits(user), to: digits(ours), messageId: id, text, type: "text", "message-timestamp": "2031-05-04 10:00:00" },
        timestampSeconds: NOW_S,
      }),
  },
  {
    name: "Vonage Messages API",
    provider: "vonage",
    number: { number: "+447400900004" },
    // https://developer.vonage.com/en/api/messages (inbound message webhook, SMS channel): `from`
    // is the sender's number, `to` the number the message was sent to (yours); no `message_type`
    // in the published 1.4.0 spec.
    deliver: ({ user, ours, text, id }) =>
      signVonageRequest({
        api: "messages",
        secret: SECRETS.vonage,
        payload: { channel: "sms", message_uuid: id, from: digits(user), to: digits(ours), text, timestamp: START },
        issuedAtSeconds: NOW_S,
      }),
  },
  {
    name: "Plivo",
    provider: "plivo",
    number: { number: "+447400900005" },
    // https://www.plivo.com/docs/messaging/api/message/handling-incoming: `From` "The source number
    // of the incoming message — the phone number from which the message originated", `To` "The
    // Plivo number on which the message was received".
    deliver: ({ user, ours, text, id }) =>
      signPlivoRequest({ secret: SECRETS.plivo, params: { From: digits(user), To: digits(ours), Type: "sms", Text: text, MessageUUID: id, Units: "1" } }),
  },
  {
    name: "Telnyx",
    provider: "telnyx",
    number: { number: "+447400900006" },
    // https://developers.telnyx.com/api-reference/callbacks/inbound-message and
    // https://developers.telnyx.com/docs/messaging/messages/receive-message ("New message from
    // ${data.payload.from.phone_number}"): `from.phone_number` the sender, `to[].phone_number` the
    // receiving Telnyx number.
    deliver: ({ user, ours, text, id }) =>
      signTelnyxRequest({
        privateKey: telnyx.privateKey,
        now: clock.now(),
        payload: {
          data: {
            record_type: "event",
            id: `evt-${id}`,
            event_type: "message.received",
            occurred_at: START,
            payload: {
              record_type: "message",
              direction: "inbound",
              id,
              type: "SMS",
              from: { phone_number: user, carrier: "ORANGE", line_type: "Wireless" },
              to: [{ phone_number: ours, status: "webhook_delivered", carrier: "TELNYX LLC", line_type: "VoIP" }],
              text,
              parts: 1,
            },
          },
        },
      }),
  },
  {
    name: "Bird (Channels API)",
    provider: "bird",
    number: { number: "+447400900007" },
    // https://docs.bird.com/api/channels-api/supported-channels/programmable-sms/receiving-messages:
    // `sender.contact.identifierValue` is the user's number; the receiving channel is named by
    // `channelId` / `receiver.connector.id` only, so our number comes from the subscription URL's
    // signed `?number=` (docs/providers/bird.md).
    deliver: ({ user, ours, text, id }) =>
      signBirdRequest({
        signingKey: SECRETS.bird,
        now: clock.now(),
        path: birdPathForNumber(ours),
        payload: {
          service: "channels",
          event: "sms.inbound",
          payload: {
            id,
            channelId: "614208aa-b153-4d5d-9989-2fddfc0ce4c3",
            sender: { contact: { id: "32cf5eee-f940-422c-ab8c-5f753aad5efd", identifierKey: "phonenumber", identifierValue: user } },
            receiver: { connector: { id: "86cc4dc0-3dc0-41b7-ac43-8ec829ead56f" } },
            body: { type: "text", text: { text } },
            direction: "incoming",
            createdAt: START,
          },
        },
      }),
  },
  {
    name: "MessageBird (legacy numbers)",
    provider: "messagebird",
    number: { number: "+447400900008" },
    // MessageBird's forward of an inbound SMS to a URL (GET `id`, `originator`, `recipient`, `body`,
    // `createdDatetime`; https://developers.messagebird.com/api/sms-messaging/, now offline): the
    // official `messagebird` package types `originator` as "The sender of the message"
    // (types/messages.d.ts); `recipient` is the virtual number that received it.
    deliver: ({ user, ours, text, id }) =>
      signMessageBirdRequest({
        signingKey: SECRETS.messagebird,
        now: clock.now(),
        params: { id, recipient: digits(ours), originator: digits(user), body: text, createdDatetime: "2031-05-04T10:00:00+00:00" },
      }),
  },
  {
    name: "smsmode HTTP API reply callback",
    provider: "smsmode",
    number: { number: "38001", country: "FR" },
    // smsmode "Documentation technique API HTTP" 3.4 (EN) §13, also 2.7 and 3.5 (FR): `numero`
    // "sMsmode number to which the reply has been sent" (ours: here a short code), `emetteur`
    // "MSISDN of the person who replied"; example `?numero=36034&message=bonjour&emetteur=33601020304&…`.
    deliver: ({ user, ours, text, id }) =>
      signSmsmodeRequest({
        token: TOKENS.smsmode,
        format: "reply",
        query: { numero: digits(ours), message: text, emetteur: digits(user), date_reception: formatSmsmodeReceptionDate(clock.now()), smsID: "abcd1234", refClient: "", responseID: id },
      }),
  },
  {
    name: "smsmode REST webhook",
    provider: "smsmode",
    number: { number: "+33756900009" },
    // https://dev.smsmode.com/ (webhooks, message object): `from` the user and `recipient.to` our
    // number for an SMS MO; public integrations disagree, so ownership settles it (both verify).
    placementSettledByOwnership: true,
    deliver: ({ user, ours, text, id }) =>
      signSmsmodeRequest({
        token: TOKENS.smsmode,
        format: "rest",
        payload: { messageId: id, direction: "MO", channel: { type: "SMS" }, from: digits(user), recipient: { to: digits(ours) }, body: { text, stop: false }, sentDate: START },
      }),
  },
  {
    name: "Sinch SMS REST API (signed)",
    provider: "sinch",
    number: { number: "+447400900010" },
    // https://developers.sinch.com/docs/sms/api-reference/sms/tag/Inbounds/ and the SDK's `MOText`
    // (@sinch/sms models): `from` "The phone number that sent the message", `to` "The Sinch phone
    // number or short code to which the message was sent".
    deliver: ({ user, ours, text, id }) =>
      signSinchHmacRequest({
        secret: SECRETS.sinch,
        timestampSeconds: NOW_S,
        payload: { type: "mo_text", id, from: digits(user), to: digits(ours), body: text, received_at: START, operator_id: "20801" },
      }),
  },
  {
    name: "Infobip",
    provider: "infobip",
    number: { number: "+447400900011" },
    // https://www.infobip.com/docs/api/channels/sms/inbound-sms/receive-inbound-sms-messages:
    // `results[].from` "Sender ID that can be alphanumeric or numeric", `results[].to` "The
    // recipient number".
    deliver: ({ user, ours, text, id }) =>
      signInfobipRequest({
        token: TOKENS.infobip,
        payload: {
          results: [{ messageId: id, from: digits(user), to: digits(ours), text, cleanText: text, keyword: "", receivedAt: "2031-05-04T10:00:00.000+0000", smsCount: 1 }],
          messageCount: 1,
          pendingMessageCount: 0,
        },
      }),
  },
];

function send(wire: Wire) {
  const call = wire.method === "GET" ? h.http().get(wire.path) : h.http().post(wire.path);
  call.set(wire.headers);
  return wire.method === "GET" ? call : call.send(wire.body);
}

async function statusOf(c: { id: string; pollToken: string }) {
  const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return (read.body as { status: string }).status;
}

async function stored(provider: string, id: string) {
  return h.db.query<{ outcome: string; recipient: string; sender_masked: string | null }>(
    `SELECT outcome::text AS outcome, recipient, sender_masked FROM inbound_messages WHERE provider = $1 AND provider_message_id = $2`,
    [provider, id],
  );
}

let idCounter = 0;
// Twilio (SM + 32 hex) and Plivo (a UUID) ids must have their documented format (re-split guard).
const nextId = (provider: string) => {
  const n = ++idCounter;
  if (provider === "twilio") return `SM${n.toString(16).padStart(32, "0")}`;
  if (provider === "plivo") return `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
  return `${provider}-semantics-${String(n).padStart(4, "0")}-${"0123456789abcdef".repeat(2)}`;
};

describe.each(CASES)("$name", (c) => {
  let app: Awaited<ReturnType<Harness["createApp"]>>;
  beforeAll(async () => {
    app = await h.createApp({ name: "Semantics", numbers: [{ ...c.number, provider: c.provider }] });
  });
  const ours = () => app.number;

  test("as documented, the user's SMS to our number verifies the user's challenge; stored with our number as recipient", async () => {
    const created = await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" });
    expect(created.status).toBe(201);
    const id = nextId(c.provider);
    const res = await send(await c.deliver({ user: PHONES.fr, ours: ours(), text: created.body.smsBody, id }));
    expect(res.status).toBeLessThan(300);
    expect(await statusOf(created.body)).toBe("verified");
    expect(await stored(c.provider, id)).toEqual([{ outcome: "verified", recipient: ours(), sender_masked: maskPhone(PHONES.fr) }]);
  });

  test(
    c.placementSettledByOwnership
      ? "with sender and recipient swapped it verifies too: the side that is ours is the recipient"
      : "with sender and recipient swapped it verifies nothing and is stored for the user's number as unknown_number",
    async () => {
      const created = await h.createChallenge(app.sk, { phone: PHONES.de, purpose: "login" });
      expect(created.status).toBe(201);
      const id = nextId(c.provider);
      const res = await send(await c.deliver({ user: ours(), ours: PHONES.de, text: created.body.smsBody, id }));
      expect(res.status).toBeLessThan(300);
      if (c.placementSettledByOwnership) {
        expect(await statusOf(created.body)).toBe("verified");
        expect(await stored(c.provider, id)).toEqual([{ outcome: "verified", recipient: ours(), sender_masked: maskPhone(PHONES.de) }]);
      } else {
        expect(await statusOf(created.body)).toBe("pending");
        expect(await stored(c.provider, id)).toEqual([expect.objectContaining({ outcome: "unknown_number", recipient: PHONES.de })]);
      }
    },
  );
});
