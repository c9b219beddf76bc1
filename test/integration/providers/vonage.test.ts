// Vonage end to end through HTTP on a real database: signed SMS API webhooks (GET, POST form, POST
// JSON) and Messages API webhooks verify a challenge and get Vonage's 204; tampered, unsigned and
// stale ones are refused and write nothing; duplicates and late retries (Vonage re-sends for 24 h
// with the original timestamp) are answered 204 and change nothing; a long SMS delivered in parts,
// out of order and with a part repeated, verifies once.
//
// Vonage reports no line type for the sender, so the VoIP/landline refusal has no Vonage case here.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "@jest/globals";
import type { Response } from "supertest";
import { fixedClock } from "../../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import {
  signVonageRequest,
  vonageMessagesApiPayload,
  vonageSmsApiParams,
  type SignedVonageRequest,
} from "../../support/providers/vonage.js";

const START = "2031-05-04T10:00:00.000Z";
const clock = fixedClock(START);
const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);
const CURRENT_SECRET = "current-vonage-signature-secret-0123456789";
const PREVIOUS_SECRET = "previous-vonage-signature-secret-9876543210";

type CreatedChallenge = { id: string; code: string; pollToken: string; smsBody: string };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    clock,
    env: { VONAGE_SIGNATURE_SECRET: `${CURRENT_SECRET},${PREVIOUS_SECRET}`, VONAGE_SIGNATURE_METHOD: "sha256" },
  });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  clock.set(START);
});

let numberCounter = 0;
/** An app whose virtual number is rented from Vonage, with a pending challenge for PHONES.fr. */
async function pendingVonageChallenge() {
  const number = `+447400100${String(100 + numberCounter++).padStart(3, "0")}`;
  const app = await h.createApp({ name: "Acme", numbers: [{ number, provider: "vonage" }] });
  const created = await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" });
  expect(created.status).toBe(201);
  return { app, challenge: created.body as CreatedChallenge };
}

let messageCounter = 0;
const nextMessageId = () => `1600000263${String(messageCounter++).padStart(6, "0")}`;

/** The SMS API webhook Vonage sends when PHONES.fr (or `from`) texts `text` to `to`, signed now. */
function smsApiWebhook(
  to: string,
  text: string,
  options: { transport?: "get" | "form" | "json"; secret?: string; messageId?: string; from?: string; extra?: Record<string, string> } = {},
) {
  const from = options.from ?? PHONES.fr;
  const params = { ...vonageSmsApiParams({ from, to, text, messageId: options.messageId ?? nextMessageId(), at: clock.now() }), ...options.extra };
  return signVonageRequest({ api: "sms", secret: options.secret ?? CURRENT_SECRET, params, timestampSeconds: nowSeconds(), transport: options.transport ?? "get" });
}

function send(req: SignedVonageRequest): Promise<Response> {
  if (req.method === "GET") return h.http().get(req.path).set(req.headers).then((r) => r);
  return h.http().post(req.path).set(req.headers).send(req.body).then((r) => r);
}

async function readChallenge(c: CreatedChallenge) {
  const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return read.body as { status: string; verifiedAt: string | null };
}

async function inboundRows(appId: string) {
  return h.db.query<{ outcome: string; provider_message_id: string; parts: number }>(
    `SELECT outcome::text AS outcome, provider_message_id, parts FROM inbound_messages WHERE provider = 'vonage' AND app_id = $1`,
    [appId],
  );
}

async function partRows() {
  const [row] = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbound_parts WHERE provider = 'vonage'`);
  return row?.n ?? 0;
}

function expectVonageAnswer(res: Response) {
  expect(res.status).toBe(204);
  expect(res.text ?? "").toBe("");
}

/** A refused request: the status, a problem+json body with the code, no row anywhere, the challenge still pending. */
async function expectRefusedAndNothingWritten(req: SignedVonageRequest, expected: { status: number; code: string }, challenge: CreatedChallenge) {
  const before = await h.countRows();
  const partsBefore = await partRows();
  const res = await send(req);
  expect(res.status).toBe(expected.status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(expected.code);
  expect(await h.countRows()).toEqual(before);
  expect(await partRows()).toBe(partsBefore);
  expect((await readChallenge(challenge)).status).toBe("pending");
}

describe("a genuine Vonage delivery verifies the challenge", () => {
  test.each(["get", "form", "json"] as const)("an SMS API webhook sent as %s verifies the challenge and is answered 204 with an empty body", async (transport) => {
    const { app, challenge } = await pendingVonageChallenge();
    const messageId = nextMessageId();
    const res = await send(smsApiWebhook(app.number, challenge.smsBody, { transport, messageId }));
    expectVonageAnswer(res);
    expect((await readChallenge(challenge)).status).toBe("verified");
    expect(await inboundRows(app.appId)).toEqual([{ outcome: "verified", provider_message_id: messageId, parts: 1 }]);
  });

  test("a Messages API webhook (HS256 bearer JWT) verifies the challenge and is answered 204", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const payload = vonageMessagesApiPayload({ from: PHONES.fr, to: app.number, text: challenge.smsBody, messageUuid: "aaaaaaaa-bbbb-cccc-dddd-000000000001", at: clock.now() });
    const res = await send(signVonageRequest({ api: "messages", secret: CURRENT_SECRET, payload, issuedAtSeconds: nowSeconds() }));
    expectVonageAnswer(res);
    expect((await readChallenge(challenge)).status).toBe("verified");
    expect(await inboundRows(app.appId)).toEqual([{ outcome: "verified", provider_message_id: "aaaaaaaa-bbbb-cccc-dddd-000000000001", parts: 1 }]);
  });

  test("a Messages API inbound SMS without message_type (the published 1.4.0 spec lists none) verifies too", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const { message_type: _type, ...payload } = vonageMessagesApiPayload({ from: PHONES.fr, to: app.number, text: challenge.smsBody, messageUuid: "aaaaaaaa-bbbb-cccc-dddd-0000000000a1", at: clock.now() });
    const res = await send(signVonageRequest({ api: "messages", secret: CURRENT_SECRET, payload, issuedAtSeconds: nowSeconds() }));
    expectVonageAnswer(res);
    expect((await readChallenge(challenge)).status).toBe("verified");
  });

  test("a webhook signed with the previous secret of VONAGE_SIGNATURE_SECRET still verifies (rotation)", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    expectVonageAnswer(await send(smsApiWebhook(app.number, challenge.smsBody, { secret: PREVIOUS_SECRET })));
    expect((await readChallenge(challenge)).status).toBe("verified");
  });

  test("a wrong code from the phone is stored as wrong_code and answered 204 (no retry wanted)", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const wrong = challenge.code === "000000" ? "111111" : "000000";
    expectVonageAnswer(await send(smsApiWebhook(app.number, wrong)));
    expect((await readChallenge(challenge)).status).toBe("pending");
    expect((await inboundRows(app.appId)).map((r) => r.outcome)).toEqual(["wrong_code"]);
  });
});

describe("forged, tampered, unsigned and stale deliveries are refused and write nothing", () => {
  test("the text changed after signing (GET query) → 403 WEBHOOK_SIGNATURE_INVALID", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const signed = smsApiWebhook(app.number, "no code here");
    const path = signed.path.replace(new URLSearchParams({ text: "no code here" }).toString(), new URLSearchParams({ text: challenge.smsBody }).toString());
    expect(path).not.toBe(signed.path);
    await expectRefusedAndNothingWritten({ ...signed, path }, { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("the sender changed after signing (POST form) → 403 WEBHOOK_SIGNATURE_INVALID", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    // Signed for a neighbouring phone; the attacker changes the last digit to the victim's phone.
    const signed = smsApiWebhook(app.number, challenge.smsBody, { transport: "form", from: "+33612345679" });
    const body = signed.body.replace("msisdn=33612345679", "msisdn=33612345678");
    expect(body).not.toBe(signed.body);
    await expectRefusedAndNothingWritten({ ...signed, body }, { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("a second text parameter appended to a signed webhook → 403 WEBHOOK_SIGNATURE_INVALID", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const signed = smsApiWebhook(app.number, "no code here", { transport: "form" });
    const body = `${signed.body}&${new URLSearchParams({ text: challenge.smsBody })}`;
    await expectRefusedAndNothingWritten({ ...signed, body }, { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("a webhook signed with an unknown secret → 403 WEBHOOK_SIGNATURE_INVALID", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    await expectRefusedAndNothingWritten(smsApiWebhook(app.number, challenge.smsBody, { secret: "attacker-guess" }), { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("an unsigned SMS API webhook (signing not enabled on the account) → 401 WEBHOOK_SIGNATURE_MISSING", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const params = vonageSmsApiParams({ from: PHONES.fr, to: app.number, text: challenge.smsBody, messageId: nextMessageId(), at: clock.now() });
    const unsigned: SignedVonageRequest = { method: "GET", path: `/v1/inbound/vonage?${new URLSearchParams(params)}`, headers: {}, body: "" };
    await expectRefusedAndNothingWritten(unsigned, { status: 401, code: "WEBHOOK_SIGNATURE_MISSING" }, challenge);
  });

  test("a webhook signed more than 25 hours ago → 403 WEBHOOK_TIMESTAMP_OUT_OF_RANGE", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const params = vonageSmsApiParams({ from: PHONES.fr, to: app.number, text: challenge.smsBody, messageId: nextMessageId(), at: clock.now() });
    const stale = signVonageRequest({ api: "sms", secret: CURRENT_SECRET, params, timestampSeconds: nowSeconds() - 25 * 3600 - 1 });
    await expectRefusedAndNothingWritten(stale, { status: 403, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" }, challenge);
  });

  test("a Messages API body changed after signing → 403 WEBHOOK_SIGNATURE_INVALID", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const payload = vonageMessagesApiPayload({ from: "+33612345679", to: app.number, text: challenge.smsBody, messageUuid: "aaaaaaaa-bbbb-cccc-dddd-000000000002", at: clock.now() });
    const signed = signVonageRequest({ api: "messages", secret: CURRENT_SECRET, payload, issuedAtSeconds: nowSeconds() });
    const body = signed.body.replace('"from":"33612345679"', '"from":"33612345678"');
    expect(body).not.toBe(signed.body);
    await expectRefusedAndNothingWritten({ ...signed, body }, { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("a Messages API body without its bearer token → 401 WEBHOOK_SIGNATURE_MISSING", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const payload = vonageMessagesApiPayload({ from: PHONES.fr, to: app.number, text: challenge.smsBody, messageUuid: "aaaaaaaa-bbbb-cccc-dddd-000000000003", at: clock.now() });
    const signed = signVonageRequest({ api: "messages", secret: CURRENT_SECRET, payload, issuedAtSeconds: nowSeconds() });
    await expectRefusedAndNothingWritten({ ...signed, headers: { "content-type": "application/json" } }, { status: 401, code: "WEBHOOK_SIGNATURE_MISSING" }, challenge);
  });
});

describe("duplicates and retries change nothing", () => {
  test("the same webhook delivered twice is answered 204 both times and counted once", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const signed = smsApiWebhook(app.number, challenge.smsBody);
    expectVonageAnswer(await send(signed));
    const verified = await readChallenge(challenge);
    expect(verified.status).toBe("verified");
    const before = await h.countRows();
    expectVonageAnswer(await send(signed));
    expect(await h.countRows()).toEqual(before);
    expect(await readChallenge(challenge)).toEqual(verified);
    expect(await inboundRows(app.appId)).toHaveLength(1);
  });

  test("the same webhook delivered five times at once is answered 204 every time and counted once", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const signed = smsApiWebhook(app.number, challenge.smsBody, { transport: "form" });
    const answers = await Promise.all(Array.from({ length: 5 }, () => send(signed)));
    for (const res of answers) expectVonageAnswer(res);
    expect((await readChallenge(challenge)).status).toBe("verified");
    expect(await inboundRows(app.appId)).toEqual([expect.objectContaining({ outcome: "verified" })]);
  });

  test("a retry 23 hours later, with its original timestamp and signature, is answered 204 and changes nothing", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const signed = smsApiWebhook(app.number, challenge.smsBody);
    expectVonageAnswer(await send(signed));
    const verified = await readChallenge(challenge);
    const before = await h.countRows();
    clock.advance(23 * 3600 * 1000);
    expectVonageAnswer(await send(signed));
    expect(await h.countRows()).toEqual(before);
    expect(await readChallenge(challenge)).toEqual(verified);
  });

  test("a Messages API webhook delivered twice is answered 204 both times and counted once", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const payload = vonageMessagesApiPayload({ from: PHONES.fr, to: app.number, text: challenge.smsBody, messageUuid: "aaaaaaaa-bbbb-cccc-dddd-000000000004", at: clock.now() });
    const signed = signVonageRequest({ api: "messages", secret: CURRENT_SECRET, payload, issuedAtSeconds: nowSeconds() });
    const answers = await Promise.all([send(signed), send(signed)]);
    for (const res of answers) expectVonageAnswer(res);
    expect(await inboundRows(app.appId)).toHaveLength(1);
  });
});

describe("a long SMS delivered in parts", () => {
  test("parts sent in reverse order, one of them twice, verify the challenge once with the joined text", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    // Cut the text inside the code as well, so only the joined text carries it.
    const text = challenge.smsBody;
    const at = text.indexOf(challenge.code) + 3;
    const pieces = [text.slice(0, at), text.slice(at, at + 5), text.slice(at + 5)];
    expect(pieces.join("")).toBe(text);
    const ids = [nextMessageId(), nextMessageId(), nextMessageId()];
    const part = (n: 1 | 2 | 3) =>
      smsApiWebhook(app.number, pieces[n - 1]!, {
        transport: "form",
        messageId: ids[n - 1]!,
        extra: { concat: "true", "concat-ref": "77", "concat-total": "3", "concat-part": String(n) },
      });

    expectVonageAnswer(await send(part(3)));
    expectVonageAnswer(await send(part(2)));
    expectVonageAnswer(await send(part(2)));
    expect((await readChallenge(challenge)).status).toBe("pending");
    expect(await inboundRows(app.appId)).toEqual([]);
    expect(await partRows()).toBe(2);

    expectVonageAnswer(await send(part(1)));
    expect((await readChallenge(challenge)).status).toBe("verified");
    expect(await inboundRows(app.appId)).toEqual([expect.objectContaining({ outcome: "verified", parts: 3 })]);
    expect(await partRows()).toBe(0);
  });

  test("a tampered part is refused and nothing is kept", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const signed = smsApiWebhook(app.number, "first half", {
      transport: "form",
      extra: { concat: "true", "concat-ref": "78", "concat-total": "2", "concat-part": "1" },
    });
    const body = signed.body.replace("concat-total=2", "concat-total=1");
    await expectRefusedAndNothingWritten({ ...signed, body }, { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });
});

describe("what is not an inbound text is acknowledged and writes nothing", () => {
  test.each([
    ["a binary SMS", { type: "binary", data: "0102ff", udh: "050003cc0201" }],
    ["a delivery receipt pointed at the same URL", { type: undefined, status: "delivered", "err-code": "0", scts: "3105041000" }],
  ])("%s is answered 204 with nothing stored", async (_what, change) => {
    const { app, challenge } = await pendingVonageChallenge();
    const base: Record<string, string | undefined> = { ...vonageSmsApiParams({ from: PHONES.fr, to: app.number, text: challenge.smsBody, messageId: nextMessageId(), at: clock.now() }), ...change };
    if (change.type === "binary") delete base.text;
    const params = Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const before = await h.countRows();
    expectVonageAnswer(await send(signVonageRequest({ api: "sms", secret: CURRENT_SECRET, params, timestampSeconds: nowSeconds() })));
    expect(await h.countRows()).toEqual(before);
    expect((await readChallenge(challenge)).status).toBe("pending");
  });

  test("a Messages API WhatsApp message is answered 204 with nothing stored", async () => {
    const { app, challenge } = await pendingVonageChallenge();
    const payload = { ...vonageMessagesApiPayload({ from: PHONES.fr, to: app.number, text: challenge.smsBody, messageUuid: "aaaaaaaa-bbbb-cccc-dddd-000000000005", at: clock.now() }), channel: "whatsapp" };
    const before = await h.countRows();
    expectVonageAnswer(await send(signVonageRequest({ api: "messages", secret: CURRENT_SECRET, payload, issuedAtSeconds: nowSeconds() })));
    expect(await h.countRows()).toEqual(before);
    expect((await readChallenge(challenge)).status).toBe("pending");
  });
});

describe("without VONAGE_SIGNATURE_SECRET", () => {
  test("every Vonage delivery, even correctly signed, is refused as forged (403 WEBHOOK_SIGNATURE_INVALID; logged as WEBHOOK_NOT_CONFIGURED)", async () => {
    const bare = await startHarness({ clock });
    try {
      const number = "+447400100999";
      const app = await bare.createApp({ numbers: [{ number, provider: "vonage" }] });
      const created = await bare.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" });
      const c = created.body as CreatedChallenge;
      const before = await bare.countRows();
      const params = vonageSmsApiParams({ from: PHONES.fr, to: number, text: c.smsBody, messageId: nextMessageId(), at: clock.now() });
      const signed = signVonageRequest({ api: "sms", secret: CURRENT_SECRET, params, timestampSeconds: nowSeconds() });
      const res = await bare.http().get(signed.path);
      expect(res.status).toBe(403);
      expect(res.body.code).toBe("WEBHOOK_SIGNATURE_INVALID");
      expect(bare.logs()).toMatch(/"provider":"vonage","code":"WEBHOOK_NOT_CONFIGURED"/);
      expect(await bare.countRows()).toEqual(before);
      const read = await bare.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
      expect(read.body.status).toBe("pending");
    } finally {
      await bare.close();
    }
  });
});
