// Delivery reports through HTTP at /v1/delivery-reports/:provider: each provider's report, signed
// as that provider signs (the same schemes and test signers as its inbound webhook), moves the
// outbound message it names from `sent` to `delivered` or `failed`; forged reports are refused and
// change nothing; intermediate statuses and unknown messages are answered 200 and change nothing.
// Payload shapes: the documentation named in src/outbound/delivery-reports.ts, per provider.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { fixedClock } from "../../../src/shared/clock.js";
import { startHarness, PHONES, type Harness } from "../../support/harness.js";
import { signBirdRequest } from "../../support/providers/bird.js";
import { signMessageBirdRequest } from "../../support/providers/messagebird.js";
import { signPlivoRequest } from "../../support/providers/plivo.js";
import { createTelnyxKeyPair, signTelnyxRequest } from "../../support/providers/telnyx.js";
import { signTwilioRequest } from "../../support/providers/twilio.js";
import { signVonageRequest } from "../../support/providers/vonage.js";
import type { ProviderName } from "../../../src/providers/registry.js";

const clock = fixedClock("2026-12-03T10:00:00.000Z");
const SECRETS = {
  twilio: "twilio-auth-token-0123456789",
  vonage: "vonage-signature-secret-0123",
  plivo: "plivo-auth-token-0123456789ab",
  bird: "bird-signing-key-0123456789ab",
  messagebird: "messagebird-signing-key-0123",
  token: "T0k3n-0123456789abcdefghijklmnopqrstuv",
};
const TELNYX = createTelnyxKeyPair();

let h: Harness;
let appId: string;
let number: string;

beforeAll(async () => {
  h = await startHarness({
    clock,
    env: {
      TWILIO_AUTH_TOKEN: SECRETS.twilio,
      VONAGE_SIGNATURE_SECRET: SECRETS.vonage,
      PLIVO_AUTH_TOKEN: SECRETS.plivo,
      TELNYX_PUBLIC_KEY: TELNYX.publicKeyBase64,
      BIRD_SIGNING_KEY: SECRETS.bird,
      MESSAGEBIRD_SIGNING_KEY: SECRETS.messagebird,
      SINCH_WEBHOOK_TOKEN: SECRETS.token,
      INFOBIP_WEBHOOK_TOKEN: SECRETS.token,
      SMSMODE_WEBHOOK_TOKEN: SECRETS.token,
    },
  });
  ({ appId, number } = await h.createApp());
});
afterAll(async () => {
  await h.close();
});

let counter = 0;
/** An outbound message the provider accepted under `providerMessageId` (status `sent`). */
async function sentMessage(provider: ProviderName): Promise<{ id: string; providerMessageId: string }> {
  const { id } = await h.runtime.outbound.outbox.enqueue({ channel: "sms", appId, provider, from: number, to: { e164: PHONES.fr, country: "FR" }, text: "482913 is your code" });
  // The generic provider's id is our message id (src/providers/generic/sender.ts).
  // Twilio and Plivo ids have a documented format, and reports with another are refused as re-split.
  const n = ++counter;
  const providerMessageId =
    provider === "generic" ? id
    : provider === "twilio" ? `SM${n.toString(16).padStart(32, "0")}`
    : provider === "plivo" ? `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`
    : `${provider}-id-${n}`;
  const now = clock.now();
  const claimed = (await h.runtime.outbound.repository.claimDue(now, new Date(now.getTime() + 30_000), 50)).find((c) => c.id === id)!;
  expect(await h.runtime.outbound.repository.markSent(claimed, now, providerMessageId)).toBe(true);
  return { id, providerMessageId };
}
const statusOf = async (id: string) =>
  (await h.db.query<{ status: string; error_code: string | null; delivered_at: Date | null }>(`SELECT status::text, error_code, delivered_at FROM outbound_messages WHERE id = $1`, [id]))[0]!;

type Signed = { method: "GET" | "POST"; path: string; headers: Record<string, string>; body: string };
const send = (r: Signed) => (r.method === "GET" ? h.http().get(r.path).set(r.headers) : h.http().post(r.path).set(r.headers).send(r.body));
const now = () => clock.now();
const seconds = () => Math.floor(clock.now().getTime() / 1000);

/** Each provider's report for (provider id, our id, final status word), signed as the provider does. */
const REPORTS: Record<string, { provider: ProviderName; build: (m: { id: string; providerMessageId: string }, word: "delivered" | "failed") => Signed }> = {
  twilio: {
    provider: "twilio",
    build: (m, word) =>
      signTwilioRequest({
        secret: SECRETS.twilio,
        path: "/v1/delivery-reports/twilio",
        params: { MessageSid: m.providerMessageId, MessageStatus: word === "delivered" ? "delivered" : "undelivered", ErrorCode: word === "delivered" ? "" : "30003", AccountSid: "AC0123", From: number, To: PHONES.fr },
      }),
  },
  vonage: {
    provider: "vonage",
    build: (m, word) =>
      signVonageRequest({
        api: "sms",
        secret: SECRETS.vonage,
        path: "/v1/delivery-reports/vonage",
        timestampSeconds: seconds(),
        params: { msisdn: "33612345678", to: "447400000100", "network-code": "20801", messageId: m.providerMessageId, price: "0.0333", status: word === "delivered" ? "delivered" : "failed", scts: "2612031000", "err-code": word === "delivered" ? "0" : "6", "client-ref": m.id, "message-timestamp": "2026-12-03 10:00:05" },
      }) as Signed,
  },
  plivo: {
    provider: "plivo",
    build: (m, word) =>
      signPlivoRequest({ secret: SECRETS.plivo, path: "/v1/delivery-reports/plivo", params: { MessageUUID: m.providerMessageId, Status: word === "delivered" ? "delivered" : "undelivered", ErrorCode: word === "delivered" ? "000" : "200", From: "447400000100", To: "33612345678", Units: "1" } }) as Signed,
  },
  telnyx: {
    provider: "telnyx",
    build: (m, word) =>
      signTelnyxRequest({
        privateKey: TELNYX.privateKey,
        now: now(),
        path: "/v1/delivery-reports/telnyx",
        payload: { data: { event_type: "message.finalized", id: "evt-1", occurred_at: "2026-12-03T10:00:07.000+00:00", record_type: "event", payload: { id: m.providerMessageId, direction: "outbound", to: [{ phone_number: PHONES.fr, status: word === "delivered" ? "delivered" : "delivery_failed" }], errors: word === "delivered" ? [] : [{ code: "40002" }] } } },
      }) as Signed,
  },
  bird: {
    provider: "bird",
    build: (m, word) =>
      signBirdRequest({ signingKey: SECRETS.bird, now: now(), path: "/v1/delivery-reports/bird", payload: { service: "channels", event: "sms.outbound", payload: { id: m.providerMessageId, status: word === "delivered" ? "delivered" : "delivery_failed", reference: m.id, direction: "outgoing" } } }) as Signed,
  },
  messagebird: {
    provider: "messagebird",
    build: (m, word) =>
      signMessageBirdRequest({ signingKey: SECRETS.messagebird, now: now(), path: "/v1/delivery-reports/messagebird", params: { id: m.providerMessageId, reference: m.id, recipient: "33612345678", status: word === "delivered" ? "delivered" : "delivery_failed", statusDatetime: "2026-12-03T10:00:06+00:00", statusErrorCode: word === "delivered" ? "" : "1" } }) as Signed,
  },
  sinch: {
    provider: "sinch",
    build: (m, word) => ({
      method: "POST",
      path: `/v1/delivery-reports/sinch/${SECRETS.token}`,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "recipient_delivery_report_sms", batch_id: m.providerMessageId, recipient: "33612345678", code: word === "delivered" ? 0 : 402, status: word === "delivered" ? "Delivered" : "Failed", at: "2026-12-03T10:00:08.000Z", client_reference: m.id }),
    }),
  },
  infobip: {
    provider: "infobip",
    build: (m, word) => ({
      method: "POST",
      path: `/v1/delivery-reports/infobip/${SECRETS.token}`,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ results: [{ bulkId: "b", messageId: m.providerMessageId, to: "33612345678", sentAt: "2026-12-03T10:00:01.000+0000", doneAt: "2026-12-03T10:00:09.000+0000", status: { groupId: word === "delivered" ? 3 : 2, groupName: word === "delivered" ? "DELIVERED" : "UNDELIVERABLE", id: 5, name: "X" }, error: { id: word === "delivered" ? 0 : 1, name: word === "delivered" ? "NO_ERROR" : "EC_UNKNOWN_SUBSCRIBER" } }] }),
    }),
  },
  smsmode: {
    provider: "smsmode",
    build: (m, word) => ({
      method: "GET",
      path: `/v1/delivery-reports/smsmode/${SECRETS.token}?${new URLSearchParams({ numero: "33612345678", date_reception: "03122026-110009", statut: word === "delivered" ? "11" : "34", smsID: m.providerMessageId, refClient: m.id })}`,
      headers: {},
      body: "",
    }),
  },
  generic: {
    provider: "generic",
    build: (m, word) => {
      const signed = h.signedGeneric({ messageId: m.providerMessageId, status: word });
      return { method: "POST", path: "/v1/delivery-reports/generic", headers: signed.headers, body: signed.body };
    },
  },
};

describe.each(Object.entries(REPORTS))("%s delivery reports", (_name, { provider, build }) => {
  test("a delivered report moves the message from sent to delivered", async () => {
    const m = await sentMessage(provider);
    const res = await send(build(m, "delivered"));
    expect(res.status).toBe(200);
    expect(await statusOf(m.id)).toMatchObject({ status: "delivered" });
    // A repeat, and a late failure after delivery, change nothing.
    expect((await send(build(m, "delivered"))).status).toBe(200);
    expect((await send(build(m, "failed"))).status).toBe(200);
    expect(await statusOf(m.id)).toMatchObject({ status: "delivered" });
  });

  test("a failed report moves the message to failed", async () => {
    const m = await sentMessage(provider);
    const res = await send(build(m, "failed"));
    expect(res.status).toBe(200);
    expect((await statusOf(m.id)).status).toBe("failed");
  });

  test("a forged report (one byte of the body or query changed) is refused and changes nothing", async () => {
    const m = await sentMessage(provider);
    const signed = build(m, "delivered");
    const forged: Signed =
      provider === "sinch" || provider === "infobip" || provider === "smsmode"
        ? { ...signed, path: signed.path.replace(SECRETS.token, `${SECRETS.token.slice(0, -1)}X`) }
        : signed.method === "GET"
          ? { ...signed, path: signed.path.replace("delivered", "delivereD") }
          : { ...signed, body: signed.body.replace(provider === "generic" ? "delivered" : m.providerMessageId, provider === "generic" ? "failed" : `${m.providerMessageId}x`) };
    const res = await send(forged);
    expect([401, 403]).toContain(res.status);
    expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect((await statusOf(m.id)).status).toBe("sent");
  });
});

test("a report for a message we never sent is answered 200 and writes nothing", async () => {
  const signed = h.signedGeneric({ messageId: "msg_unknownunknownunknown", status: "delivered" });
  const res = await h.http().post("/v1/delivery-reports/generic").set(signed.headers).send(signed.body);
  expect(res.status).toBe(200);
});

test("intermediate statuses are acknowledged and change nothing", async () => {
  const m = await sentMessage("twilio");
  const res = await send(signTwilioRequest({ secret: SECRETS.twilio, path: "/v1/delivery-reports/twilio", params: { MessageSid: m.providerMessageId, MessageStatus: "sent", AccountSid: "AC0123", From: number, To: PHONES.fr } }));
  expect(res.status).toBe(200);
  expect((await statusOf(m.id)).status).toBe("sent");
});

test("an unreadable generic report is 400, an unknown provider 404, and the delivery metric counts by provider", async () => {
  const bad = h.signedGeneric({ messageId: "m", status: "maybe" });
  expect((await h.http().post("/v1/delivery-reports/generic").set(bad.headers).send(bad.body)).status).toBe(400);
  expect((await h.http().post("/v1/delivery-reports/nope").send("{}")).status).toBe(404);
  const text = (await h.http().get("/metrics")).text;
  expect(text).toMatch(/reverse_otp_delivery_reports_total\{provider="twilio",outcome="applied"\} \d+/);
  expect(text).toMatch(/reverse_otp_outbound_delivery_seconds_count\{provider="sinch",country="FR"\} 1/);
  expect(text).toMatch(/reverse_otp_outbound_messages_total\{provider="vonage",country="FR",result="delivery_failed"\} 1/);
});
