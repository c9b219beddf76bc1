// Sinch inbound SMS end to end through HTTP on a real database.
// Signed callbacks (`x-sinch-webhook-signature`, SINCH_WEBHOOK_SECRET; the scheme of the official
// @sinch/sdk-core's `SmsCallbackWebhooks.validateAuthenticationHeader`, see
// test/unit/providers/sinch.test.ts): a signed mo_text verifies its challenge on the plain URL; a
// wrong signature is refused even on the right path token; a day-old retry is accepted once.
// Path-token callbacks (`POST /v1/inbound/sinch/<token>`, accounts without signing): a real-looking
// mo_text verifies its challenge; every wrong, missing or near-miss token is refused and writes
// nothing; rotation works; duplicates (also concurrent) change nothing; other callback types are
// acknowledged; malformed authentic payloads get 400 (Sinch does not retry 4xx, so only
// unreadable payloads may get one); our logs never show the token.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Response } from "supertest";
import { fixedClock } from "../../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import { pathTokenNearMisses, type PathTokenRequest } from "../../support/providers/path-token.js";
import { signSinchHmacRequest, signSinchRequest, sinchId, sinchMoText } from "../../support/providers/sinch.js";

const clock = fixedClock("2031-05-04T10:00:00.000Z");
const TOKEN = "sinchIntTok_4Rt7Yu1Io9Pa3Sd6Fg2Hj8Kl5Zx0Cv";
const OLD_TOKEN = "sinchOldTok_Mn3Bv6Cx9Zl2Kj5Hg8Fd1Sa4Po7Iu0";
const SECRET = "sinch-callback-secret-integration-0123";
const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock, env: { SINCH_WEBHOOK_TOKEN: `${TOKEN},${OLD_TOKEN}`, SINCH_WEBHOOK_SECRET: SECRET } });
});
afterAll(async () => {
  await h?.close();
});

type CreatedChallenge = { id: string; code: string; pollToken: string; smsBody: string };

let numberCounter = 0;
/** Virtual numbers of this file: UK mobiles +44 7400 2xxxxx, served by Sinch. */
const nextNumber = () => `+4474002${String(numberCounter++).padStart(5, "0")}`;

function send(req: PathTokenRequest, path = req.path) {
  const call = req.method === "GET" ? h.http().get(path) : h.http().post(path);
  return call.set(req.headers).send(req.body);
}

async function pendingChallenge(phone: string = PHONES.fr) {
  const number = nextNumber();
  const app = await h.createApp({ numbers: [{ number, provider: "sinch" }] });
  const created = await h.createChallenge(app.sk, { phone, purpose: "login" });
  expect(created.status).toBe(201);
  const challenge = created.body as CreatedChallenge;
  const payload = sinchMoText({ from: phone, to: number, body: challenge.smsBody, receivedAt: clock.now() });
  return { app, number, challenge, payload };
}

async function challengeStatus(c: CreatedChallenge) {
  const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return (read.body as { status: string }).status;
}

async function inboundRows(id: string) {
  return h.db.query<{ outcome: string; carrier: string | null; received_at: Date; parts: number }>(
    `SELECT outcome::text AS outcome, carrier, received_at, parts FROM inbound_messages WHERE provider = 'sinch' AND provider_message_id = $1`,
    [id],
  );
}

function expectProblem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(code);
}

/** Sends a request that must be refused; checks the answer, that nothing was written, and the challenge. */
async function expectRefused(c: CreatedChallenge, sendIt: () => Promise<Response>, status: number, code: string) {
  const before = await h.countRows();
  expectProblem(await sendIt(), status, code);
  expect(await h.countRows()).toEqual(before);
  expect(await challengeStatus(c)).toBe("pending");
}

describe("Sinch signed callbacks", () => {
  test("a signed mo_text on the plain URL verifies its challenge, and Sinch gets 200", async () => {
    const { challenge, payload } = await pendingChallenge();
    const res = await send(signSinchHmacRequest({ secret: SECRET, payload, timestampSeconds: nowSeconds() }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
    expect(await inboundRows(payload.id)).toEqual([expect.objectContaining({ outcome: "verified" })]);
  });

  test("a wrong signature is refused even on the right path token, and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    const forged = signSinchHmacRequest({ secret: "not-our-sinch-secret-0123", payload, timestampSeconds: nowSeconds(), token: TOKEN });
    await expectRefused(challenge, () => send(forged), 403, "WEBHOOK_SIGNATURE_INVALID");
    const good = signSinchHmacRequest({ secret: SECRET, payload, timestampSeconds: nowSeconds(), token: TOKEN });
    const otherBody = { ...good, body: good.body.replace(payload.id, sinchId()) };
    await expectRefused(challenge, () => send(otherBody), 403, "WEBHOOK_SIGNATURE_INVALID");
    const { "x-sinch-webhook-signature-nonce": _nonce, ...withoutNonce } = good.headers;
    await expectRefused(challenge, () => send({ ...good, headers: withoutNonce }), 403, "WEBHOOK_SIGNATURE_INVALID");
  });

  test("a retry signed a day ago is accepted once; older is refused", async () => {
    const { challenge, payload } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSinchHmacRequest({ secret: SECRET, payload, timestampSeconds: nowSeconds() - 24 * 3600 - 1 })), 403, "WEBHOOK_TIMESTAMP_OUT_OF_RANGE");
    const retry = signSinchHmacRequest({ secret: SECRET, payload, timestampSeconds: nowSeconds() - 22 * 3600 });
    expect((await send(retry)).status).toBe(200);
    const after = await h.countRows();
    expect((await send(retry)).status).toBe(200);
    expect(await h.countRows()).toEqual(after);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("an unsigned callback on the plain URL is refused as unsigned (the path token is the other way in)", async () => {
    const { challenge, payload } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSinchRequest({ token: undefined, payload })), 401, "WEBHOOK_SIGNATURE_MISSING");
  });
});

describe("Sinch inbound SMS", () => {
  test("a mo_text from the challenge's phone carrying its text verifies it, and Sinch gets 200", async () => {
    const { challenge, payload } = await pendingChallenge();
    const res = await send(signSinchRequest({ token: TOKEN, payload }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
    expect(await inboundRows(payload.id)).toEqual([{ outcome: "verified", carrier: "20801", received_at: new Date(payload.received_at), parts: 1 }]);
  });

  test("the route without a token answers 401 WEBHOOK_SIGNATURE_MISSING and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    const req = signSinchRequest({ token: undefined, payload });
    await expectRefused(challenge, () => send(req), 401, "WEBHOOK_SIGNATURE_MISSING");
    await expectRefused(challenge, () => send(req, "/v1/inbound/sinch/"), 401, "WEBHOOK_SIGNATURE_MISSING");
  });

  test("a wrong token answers 403 WEBHOOK_SIGNATURE_INVALID and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSinchRequest({ token: "sinchWrongTok_0000000000000000000000000", payload })), 403, "WEBHOOK_SIGNATURE_INVALID");
  });

  test.each(pathTokenNearMisses(TOKEN))("a token with its $name answers 403 and writes nothing", async ({ presented }) => {
    const { challenge, payload } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSinchRequest({ token: presented, payload })), 403, "WEBHOOK_SIGNATURE_INVALID");
  });

  test("the token percent-encoded character by character is the same URL and is accepted; double-encoded it is refused", async () => {
    const hex = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
    const encoded = [...TOKEN].map(hex).join("");
    const { challenge, payload } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSinchRequest({ token: undefined, payload }), `/v1/inbound/sinch/${encoded.replace(/%/g, "%25")}`), 403, "WEBHOOK_SIGNATURE_INVALID");
    const res = await send(signSinchRequest({ token: undefined, payload }), `/v1/inbound/sinch/${encoded}`);
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("a token segment with a broken %-escape is not accepted and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    const before = await h.countRows();
    const res = await send(signSinchRequest({ token: undefined, payload }), `/v1/inbound/sinch/${TOKEN}%ZZ`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await h.countRows()).toEqual(before);
    expect(await challengeStatus(challenge)).toBe("pending");
  });

  // A broken escape in the token segment can never work: 400 (not 503, which would be retried),
  // and the raw segment is not logged.
  test("a token segment with a broken %-escape answers 400, and the token stays out of the logs", async () => {
    const { payload } = await pendingChallenge();
    const res = await send(signSinchRequest({ token: undefined, payload }), `/v1/inbound/sinch/${TOKEN}%ZZ`);
    expect(res.status).toBe(400);
    expect(h.logs()).not.toContain(TOKEN);
  });

  test("both tokens of the rotation list are accepted", async () => {
    const first = await pendingChallenge();
    expect((await send(signSinchRequest({ token: OLD_TOKEN, payload: first.payload }))).status).toBe(200);
    expect(await challengeStatus(first.challenge)).toBe("verified");
    const second = await pendingChallenge();
    expect((await send(signSinchRequest({ token: TOKEN, payload: second.payload }))).status).toBe(200);
    expect(await challengeStatus(second.challenge)).toBe("verified");
  });

  test("the same id delivered again is answered 200 and changes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    expect((await send(signSinchRequest({ token: TOKEN, payload }))).status).toBe(200);
    const after = await h.countRows();
    const again = await send(signSinchRequest({ token: TOKEN, payload }));
    expect(again.status).toBe(200);
    expect(await h.countRows()).toEqual(after);
    expect(await inboundRows(payload.id)).toHaveLength(1);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("eight concurrent deliveries of one id all get 200 and verify once", async () => {
    const { challenge, payload } = await pendingChallenge();
    const before = await h.countRows();
    const answers = await Promise.all(Array.from({ length: 8 }, () => send(signSinchRequest({ token: TOKEN, payload }))));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(await h.countRows()).toEqual({ ...before, inbound_messages: before.inbound_messages! + 1 });
    expect(await inboundRows(payload.id)).toEqual([expect.objectContaining({ outcome: "verified" })]);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("a sender that is not a phone number gives invalid_sender and verifies nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    const alphanumeric = { ...payload, from: "ACMEBANK" };
    expect((await send(signSinchRequest({ token: TOKEN, payload: alphanumeric }))).status).toBe(200);
    expect(await inboundRows(payload.id)).toEqual([expect.objectContaining({ outcome: "invalid_sender" })]);
    expect(await challengeStatus(challenge)).toBe("pending");
  });

  test.each(["mo_binary", "mo_media", "delivery_report_sms", "recipient_delivery_report_sms"])(
    "a %s callback is acknowledged with 200 and stores nothing",
    async (type) => {
      const { challenge, payload } = await pendingChallenge();
      const before = await h.countRows();
      const res = await send(signSinchRequest({ token: TOKEN, payload: { ...payload, type, id: sinchId() } }));
      expect(res.status).toBe(200);
      expect(await h.countRows()).toEqual(before);
      expect(await challengeStatus(challenge)).toBe("pending");
    },
  );

  test("a malformed but authentic payload answers 400 WEBHOOK_PAYLOAD_INVALID and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSinchRequest({ token: TOKEN, payload: { ...payload, from: undefined } })), 400, "WEBHOOK_PAYLOAD_INVALID");
    await expectRefused(challenge, () => send(signSinchRequest({ token: TOKEN, payload: "{not json" })), 400, "WEBHOOK_PAYLOAD_INVALID");
  });

  test("GET with parameters is not a Sinch method: 405 and nothing written", async () => {
    const { challenge } = await pendingChallenge();
    await expectRefused(challenge, () => h.http().get(`/v1/inbound/sinch/${TOKEN}?type=mo_text`), 405, "METHOD_NOT_ALLOWED");
  });

  test("a bare GET (a URL check) with the token is answered 200 and writes nothing; with a wrong token it is refused", async () => {
    const { challenge } = await pendingChallenge();
    const before = await h.countRows();
    expect((await h.http().get(`/v1/inbound/sinch/${TOKEN}`)).status).toBe(200);
    expect(await h.countRows()).toEqual(before);
    await expectRefused(challenge, () => h.http().get(`/v1/inbound/sinch/${TOKEN}x`), 403, "WEBHOOK_SIGNATURE_INVALID");
  });

  test("our logs show the webhook path with the token masked, never the token", async () => {
    const { payload } = await pendingChallenge();
    expect((await send(signSinchRequest({ token: TOKEN, payload }))).status).toBe(200);
    await send(signSinchRequest({ token: `${TOKEN}x`, payload }));
    const logs = h.logs();
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(OLD_TOKEN);
    expect(logs).toContain("/v1/inbound/sinch/[token]");
  });
});

describe("Sinch without a configured token", () => {
  let bare: Harness;
  beforeAll(async () => {
    bare = await startHarness({ clock });
  });
  afterAll(async () => {
    await bare?.close();
  });

  test("every delivery is refused as a forged one (403 with a token, 401 without; logged as WEBHOOK_NOT_CONFIGURED)", async () => {
    const number = "+447400299999";
    const app = await bare.createApp({ numbers: [{ number, provider: "sinch" }] });
    const c = (await bare.createChallenge(app.sk, { phone: PHONES.de, purpose: "login" })).body as CreatedChallenge;
    const payload = sinchMoText({ from: PHONES.de, to: number, body: c.smsBody, receivedAt: clock.now() });
    const before = await bare.countRows();
    for (const [token, status, code] of [[TOKEN, 403, "WEBHOOK_SIGNATURE_INVALID"], [undefined, 401, "WEBHOOK_SIGNATURE_MISSING"]] as const) {
      const req = signSinchRequest({ token, payload });
      expectProblem(await bare.http().post(req.path).set(req.headers).send(req.body), status, code);
    }
    expect(bare.logs()).toMatch(/"provider":"sinch","code":"WEBHOOK_NOT_CONFIGURED"/);
    expect(await bare.countRows()).toEqual(before);
    const read = await bare.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
    expect(read.body.status).toBe("pending");
  });
});
