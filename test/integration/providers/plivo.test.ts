// Plivo end to end through HTTP on a real database: a V3-signed inbound SMS (sender as bare digits,
// as Plivo sends it) verifies its challenge and is answered 200 with an empty <Response/>;
// tampered, unsigned, V2-only (by default) and Host-signed deliveries are refused and change
// nothing; duplicates (one after another and concurrent) are answered 200 and change nothing.
//
// Plivo reports no line type for inbound SMS, so there is no VoIP/landline case here: the core's
// `invalid_sender` outcome is reached only through providers that report one.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { EMPTY_PLIVO_XML } from "../../../src/providers/plivo/adapter.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import { plivoInboundParams, signPlivoRequest, type SignedPlivoRequest } from "../../support/providers/plivo.js";

const AUTH_TOKEN = "NzJiZjU0YjA0NDVkNGE1ZTk0ZjU1MTRmMmY2MjA5";
const OLD_AUTH_TOKEN = "MDk4NzY1NDMyMTBmZWRjYmE5ODc2NTQzMjEwZmVk";

type Challenge = { id: string; code: string; pollToken: string; smsBody: string; smsTo: string; attemptsRemaining: number };

let h: Harness;
let numberCounter = 0;
/** Numbers of this file's apps: +44 7400 003xxx, apart from the harness's own +44 7400 000xxx. */
const nextPlivoNumber = () => `+447400003${String(100 + numberCounter++).padStart(3, "0")}`;

beforeAll(async () => {
  h = await startHarness({ env: { PLIVO_AUTH_TOKEN: `${OLD_AUTH_TOKEN},${AUTH_TOKEN}` } });
});
afterAll(async () => {
  await h?.close();
});

async function plivoChallenge(phone: string = PHONES.fr, harness: Harness = h) {
  const app = await harness.createApp({ name: "Acme Bank", numbers: [{ number: nextPlivoNumber(), provider: "plivo" }] });
  const created = await harness.createChallenge(app.sk, { phone, purpose: "login" });
  expect(created.status).toBe(201);
  const challenge = created.body as Challenge;
  expect(challenge.smsTo).toBe(app.number);
  return { app, challenge };
}

function deliver(req: SignedPlivoRequest, harness: Harness = h) {
  return req.method === "GET" ? harness.http().get(req.path).set(req.headers) : harness.http().post(req.path).set(req.headers).send(req.body);
}

async function statusOf(c: Challenge, harness: Harness = h) {
  const read = await harness.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return read.body as { status: string; attemptsRemaining: number };
}

async function inboundRows(messageUuid: string, harness: Harness = h) {
  return harness.db.query<{ outcome: string; parts: number }>(
    `SELECT outcome::text AS outcome, parts FROM inbound_messages WHERE provider = 'plivo' AND provider_message_id = $1`,
    [messageUuid],
  );
}

function expectEmptyResponse(res: { status: number; headers: Record<string, string>; text: string }) {
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^application\/xml/);
  expect(res.text).toBe(EMPTY_PLIVO_XML);
}

describe("Plivo inbound SMS through HTTP", () => {
  test("a V3-signed POST from the challenge's phone (bare digits) carrying its text verifies it and is answered 200 <Response/>", async () => {
    const { app, challenge } = await plivoChallenge();
    const params = plivoInboundParams({ from: PHONES.fr, to: app.number, text: challenge.smsBody, units: 2 });
    expect(params.From).toBe(PHONES.fr.slice(1));
    const res = await deliver(signPlivoRequest({ secret: AUTH_TOKEN, params }));
    expectEmptyResponse(res);
    expect((await statusOf(challenge)).status).toBe("verified");
    expect(await inboundRows(params.MessageUUID!)).toEqual([{ outcome: "verified", parts: 2 }]);
  });

  test("a V3-signed GET (message_method GET) verifies too", async () => {
    const { app, challenge } = await plivoChallenge(PHONES.de);
    const res = await deliver(signPlivoRequest({ secret: AUTH_TOKEN, method: "GET", params: plivoInboundParams({ from: PHONES.de, to: app.number, text: challenge.code }) }));
    expectEmptyResponse(res);
    expect((await statusOf(challenge)).status).toBe("verified");
  });

  test("a delivery signed with the older of two configured auth tokens, in the main-account header, is accepted", async () => {
    const { app, challenge } = await plivoChallenge(PHONES.gb);
    const signed = signPlivoRequest({ secret: OLD_AUTH_TOKEN, version: "ma-v3", params: plivoInboundParams({ from: PHONES.gb, to: app.number, text: challenge.smsBody }) });
    expectEmptyResponse(await deliver(signed));
    expect((await statusOf(challenge)).status).toBe("verified");
  });

  test("a signed message that matches nothing is stored and still answered 200 (no retry, no reply SMS)", async () => {
    const { app, challenge } = await plivoChallenge(PHONES.fr2);
    // From a phone without a pending challenge, carrying the challenge's own text.
    const params = plivoInboundParams({ from: PHONES.de, to: app.number, text: challenge.smsBody });
    expectEmptyResponse(await deliver(signPlivoRequest({ secret: AUTH_TOKEN, params })));
    expect((await statusOf(challenge)).status).toBe("pending");
    expect(await inboundRows(params.MessageUUID!)).toEqual([{ outcome: "no_pending_challenge", parts: 1 }]);
  });

  test("a delivery report posted to the same URL is answered 200 and stores nothing", async () => {
    const { app } = await plivoChallenge();
    const before = await h.countRows();
    const params = { MessageUUID: "0b4a7c52-6b1f-11ef-9c5a-0242ac120002", From: app.number.slice(1), To: PHONES.fr.slice(1), Status: "delivered", Units: "1" };
    expectEmptyResponse(await deliver(signPlivoRequest({ secret: AUTH_TOKEN, params })));
    expect(await h.countRows()).toEqual(before);
  });
});

describe("refused Plivo deliveries change nothing", () => {
  async function expectRefused(req: SignedPlivoRequest, status: number, code: string, challenge: Challenge, harness: Harness = h) {
    const before = await harness.countRows();
    const res = await deliver(req, harness);
    expect(res.status).toBe(status);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe(code);
    expect(await harness.countRows()).toEqual(before);
    expect((await statusOf(challenge, harness)).status).toBe("pending");
  }

  test("a tampered delivery (sender changed after signing) is refused with 403", async () => {
    const { app, challenge } = await plivoChallenge();
    const signed = signPlivoRequest({ secret: AUTH_TOKEN, params: plivoInboundParams({ from: PHONES.de, to: app.number, text: challenge.smsBody }) });
    const body = signed.body.replace(`From=${PHONES.de.slice(1)}`, `From=${PHONES.fr.slice(1)}`);
    expect(body).not.toBe(signed.body);
    await expectRefused({ ...signed, body }, 403, "WEBHOOK_SIGNATURE_INVALID", challenge);
  });

  test("a GET whose query was tampered with is refused with 403", async () => {
    const { app, challenge } = await plivoChallenge();
    const signed = signPlivoRequest({ secret: AUTH_TOKEN, method: "GET", params: plivoInboundParams({ from: PHONES.de, to: app.number, text: challenge.code }) });
    await expectRefused({ ...signed, path: signed.path.replace(`From=${PHONES.de.slice(1)}`, `From=${PHONES.fr.slice(1)}`) }, 403, "WEBHOOK_SIGNATURE_INVALID", challenge);
  });

  test("an unsigned delivery is refused with 401", async () => {
    const { app, challenge } = await plivoChallenge();
    const signed = signPlivoRequest({ secret: AUTH_TOKEN, params: plivoInboundParams({ from: PHONES.fr, to: app.number, text: challenge.smsBody }) });
    await expectRefused({ ...signed, headers: { "content-type": "application/x-www-form-urlencoded" } }, 401, "WEBHOOK_SIGNATURE_MISSING", challenge);
  });

  test("a V2-only delivery is refused with 401 while PLIVO_ACCEPT_V2 is off, even untampered", async () => {
    const { app, challenge } = await plivoChallenge();
    const signed = signPlivoRequest({ secret: AUTH_TOKEN, version: "v2", params: plivoInboundParams({ from: PHONES.fr, to: app.number, text: challenge.smsBody }) });
    await expectRefused(signed, 401, "WEBHOOK_SIGNATURE_MISSING", challenge);
  });

  test("a delivery signed with an unknown auth token is refused with 403", async () => {
    const { app, challenge } = await plivoChallenge();
    const signed = signPlivoRequest({ secret: "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3", params: plivoInboundParams({ from: PHONES.fr, to: app.number, text: challenge.smsBody }) });
    await expectRefused(signed, 403, "WEBHOOK_SIGNATURE_INVALID", challenge);
  });

  test("a delivery signed for the URL the Host header names, not PUBLIC_BASE_URL, is refused with 403", async () => {
    const { app, challenge } = await plivoChallenge();
    const params = plivoInboundParams({ from: PHONES.fr, to: app.number, text: challenge.smsBody });
    const signed = signPlivoRequest({ secret: AUTH_TOKEN, params, signedUrl: "http://attacker.example/v1/inbound/plivo" });
    await expectRefused({ ...signed, headers: { ...signed.headers, host: "attacker.example" } }, 403, "WEBHOOK_SIGNATURE_INVALID", challenge);
  });

  test("an authentic payload without MessageUUID is refused with 400 and stores nothing", async () => {
    const { app, challenge } = await plivoChallenge();
    const { MessageUUID: _uuid, ...params } = plivoInboundParams({ from: PHONES.fr, to: app.number, text: challenge.smsBody });
    await expectRefused(signPlivoRequest({ secret: AUTH_TOKEN, params }), 400, "WEBHOOK_PAYLOAD_INVALID", challenge);
  });

  test("with PLIVO_ACCEPT_V2=true a V2 delivery verifies, but a V3 one that was tampered with is still refused", async () => {
    const v2 = await startHarness({ env: { PLIVO_AUTH_TOKEN: AUTH_TOKEN, PLIVO_ACCEPT_V2: "true" } });
    try {
      const first = await plivoChallenge(PHONES.fr, v2);
      expectEmptyResponse(await deliver(signPlivoRequest({ secret: AUTH_TOKEN, version: "v2", params: plivoInboundParams({ from: PHONES.fr, to: first.app.number, text: first.challenge.smsBody }) }), v2));
      expect((await statusOf(first.challenge, v2)).status).toBe("verified");

      const second = await plivoChallenge(PHONES.de, v2);
      const signed = signPlivoRequest({ secret: AUTH_TOKEN, params: plivoInboundParams({ from: PHONES.fr, to: second.app.number, text: second.challenge.smsBody }) });
      const body = signed.body.replace(`From=${PHONES.fr.slice(1)}`, `From=${PHONES.de.slice(1)}`);
      await expectRefused({ ...signed, body }, 403, "WEBHOOK_SIGNATURE_INVALID", second.challenge, v2);
    } finally {
      await v2.close();
    }
  });

  test("without PLIVO_AUTH_TOKEN every delivery is refused (nothing is accepted unchecked)", async () => {
    const bare = await startHarness();
    try {
      const { app, challenge } = await plivoChallenge(PHONES.fr, bare);
      const signed = signPlivoRequest({ secret: AUTH_TOKEN, params: plivoInboundParams({ from: PHONES.fr, to: app.number, text: challenge.smsBody }) });
      // Answered as a forged request (the answer must not tell whether Plivo is set up); the log says why.
      await expectRefused(signed, 403, "WEBHOOK_SIGNATURE_INVALID", challenge, bare);
      expect(bare.logs()).toMatch(/"provider":"plivo","code":"WEBHOOK_NOT_CONFIGURED"/);
    } finally {
      await bare.close();
    }
  });
});

describe("duplicate Plivo deliveries", () => {
  test("the same MessageUUID delivered again (Plivo's retry, or a replay) is answered 200 and changes nothing", async () => {
    const { app, challenge } = await plivoChallenge();
    const signed = signPlivoRequest({ secret: AUTH_TOKEN, params: plivoInboundParams({ from: PHONES.fr, to: app.number, text: challenge.smsBody }) });
    expectEmptyResponse(await deliver(signed));
    expect((await statusOf(challenge)).status).toBe("verified");
    const before = await h.countRows();
    expectEmptyResponse(await deliver(signed));
    expect(await h.countRows()).toEqual(before);
    expect((await statusOf(challenge)).status).toBe("verified");
  });

  test("a wrong code replayed with a fresh nonce does not count twice against the phone", async () => {
    const { app, challenge } = await plivoChallenge(PHONES.de);
    const params = plivoInboundParams({ from: PHONES.de, to: app.number, text: "000000" });
    expectEmptyResponse(await deliver(signPlivoRequest({ secret: AUTH_TOKEN, params })));
    const once = (await statusOf(challenge)).attemptsRemaining;
    expect(once).toBe(challenge.attemptsRemaining - 1);
    expectEmptyResponse(await deliver(signPlivoRequest({ secret: AUTH_TOKEN, params })));
    expect((await statusOf(challenge)).attemptsRemaining).toBe(once);
  });

  test("eight concurrent deliveries of one MessageUUID: all answered 200, one row, one verification", async () => {
    const { app, challenge } = await plivoChallenge(PHONES.gb);
    const params = plivoInboundParams({ from: PHONES.gb, to: app.number, text: challenge.smsBody });
    const signed = signPlivoRequest({ secret: AUTH_TOKEN, params });
    const before = await h.countRows();
    const answers = await Promise.all(Array.from({ length: 8 }, () => deliver(signed)));
    for (const res of answers) expectEmptyResponse(res);
    expect(await inboundRows(params.MessageUUID!)).toEqual([{ outcome: "verified", parts: 1 }]);
    expect(await h.countRows()).toEqual({ ...before, inbound_messages: before.inbound_messages! + 1 });
    expect((await statusOf(challenge)).status).toBe("verified");
  });
});
