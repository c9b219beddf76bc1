// Twilio end to end through HTTP on a real database: a signed inbound SMS verifies its challenge
// and is answered with empty TwiML; tampered, unsigned and Host-signed deliveries are refused and
// change nothing; duplicates (one after another and concurrent) are answered 200 and change nothing.
//
// Twilio reports no line type for inbound SMS, so there is no VoIP/landline case here: the core's
// `invalid_sender` outcome is reached only through providers that report one.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { EMPTY_TWIML } from "../../../src/providers/twilio/adapter.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import { signTwilioRequest, twilioInboundParams, twilioMessageSid, type SignedTwilioRequest } from "../../support/providers/twilio.js";

const AUTH_TOKEN = "7c2b9d0e4f1a3b5c6d7e8f9a0b1c2d3e";
const OLD_AUTH_TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

type Challenge = { id: string; code: string; pollToken: string; smsBody: string; smsTo: string; attemptsRemaining: number };

let h: Harness;
let numberCounter = 0;
/** Numbers of this file's apps: +44 7400 001xxx, apart from the harness's own +44 7400 000xxx. */
const nextTwilioNumber = () => `+447400001${String(100 + numberCounter++).padStart(3, "0")}`;

beforeAll(async () => {
  h = await startHarness({ env: { TWILIO_AUTH_TOKEN: `${OLD_AUTH_TOKEN},${AUTH_TOKEN}` } });
});
afterAll(async () => {
  await h?.close();
});

async function twilioChallenge(phone: string = PHONES.fr) {
  const app = await h.createApp({ name: "Acme Bank", numbers: [{ number: nextTwilioNumber(), provider: "twilio" }] });
  const created = await h.createChallenge(app.sk, { phone, purpose: "login" });
  expect(created.status).toBe(201);
  const challenge = created.body as Challenge;
  expect(challenge.smsTo).toBe(app.number);
  return { app, challenge };
}

function deliver(req: SignedTwilioRequest) {
  return req.method === "GET" ? h.http().get(req.path).set(req.headers) : h.http().post(req.path).set(req.headers).send(req.body);
}

async function statusOf(c: Challenge) {
  const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return read.body.status as string;
}

async function inboundRows(messageSid: string) {
  return h.db.query<{ outcome: string; parts: number }>(
    `SELECT outcome::text AS outcome, parts FROM inbound_messages WHERE provider = 'twilio' AND provider_message_id = $1`,
    [messageSid],
  );
}

function expectEmptyTwiml(res: { status: number; headers: Record<string, string>; text: string }) {
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^text\/xml/);
  expect(res.text).toBe(EMPTY_TWIML);
}

describe("Twilio inbound SMS through HTTP", () => {
  test("a signed POST from the challenge's phone carrying its text verifies it and is answered with empty TwiML", async () => {
    const { app, challenge } = await twilioChallenge();
    const messageSid = twilioMessageSid();
    const res = await deliver(
      signTwilioRequest({ secret: AUTH_TOKEN, params: twilioInboundParams({ from: PHONES.fr, to: app.number, body: challenge.smsBody, messageSid, numSegments: 2 }) }),
    );
    expectEmptyTwiml(res);
    expect(await statusOf(challenge)).toBe("verified");
    expect(await inboundRows(messageSid)).toEqual([{ outcome: "verified", parts: 2 }]);
  });

  test("a signed GET (Twilio set to HTTP GET) verifies too", async () => {
    const { app, challenge } = await twilioChallenge(PHONES.de);
    const res = await deliver(
      signTwilioRequest({ secret: AUTH_TOKEN, method: "GET", params: twilioInboundParams({ from: PHONES.de, to: app.number, body: challenge.code }) }),
    );
    expectEmptyTwiml(res);
    expect(await statusOf(challenge)).toBe("verified");
  });

  test("a delivery signed with the older of two configured auth tokens is accepted (rotation)", async () => {
    const { app, challenge } = await twilioChallenge(PHONES.gb);
    const res = await deliver(signTwilioRequest({ secret: OLD_AUTH_TOKEN, params: twilioInboundParams({ from: PHONES.gb, to: app.number, body: challenge.smsBody }) }));
    expectEmptyTwiml(res);
    expect(await statusOf(challenge)).toBe("verified");
  });

  test("a signed message that matches nothing is stored and still answered with empty TwiML (no retry, no reply SMS)", async () => {
    const { app, challenge } = await twilioChallenge(PHONES.fr2);
    const messageSid = twilioMessageSid();
    // From a phone without a pending challenge, carrying the challenge's own text.
    const res = await deliver(signTwilioRequest({ secret: AUTH_TOKEN, params: twilioInboundParams({ from: PHONES.de, to: app.number, body: challenge.smsBody, messageSid }) }));
    expectEmptyTwiml(res);
    expect(await statusOf(challenge)).toBe("pending");
    expect(await inboundRows(messageSid)).toEqual([{ outcome: "no_pending_challenge", parts: 1 }]);
  });

  test("a status callback posted to the same URL is answered 200 and stores nothing", async () => {
    const { app } = await twilioChallenge();
    const before = await h.countRows();
    const params = { ...twilioInboundParams({ from: app.number, to: PHONES.fr, body: "" }), SmsStatus: "delivered", MessageStatus: "delivered" };
    expectEmptyTwiml(await deliver(signTwilioRequest({ secret: AUTH_TOKEN, params })));
    expect(await h.countRows()).toEqual(before);
  });
});

describe("refused Twilio deliveries change nothing", () => {
  /** Delivers a request that must be refused, and checks status, problem code, rows and challenge. */
  async function expectRefused(req: SignedTwilioRequest, status: number, code: string, challenge: Challenge) {
    const before = await h.countRows();
    const res = await deliver(req);
    expect(res.status).toBe(status);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe(code);
    expect(await h.countRows()).toEqual(before);
    expect(await statusOf(challenge)).toBe("pending");
  }

  test("a tampered delivery (sender changed after signing) is refused with 403", async () => {
    const { app, challenge } = await twilioChallenge();
    const signed = signTwilioRequest({ secret: AUTH_TOKEN, params: twilioInboundParams({ from: PHONES.de, to: app.number, body: challenge.smsBody }) });
    const body = signed.body.replace(encodeURIComponent(PHONES.de), encodeURIComponent(PHONES.fr));
    expect(body).not.toBe(signed.body);
    await expectRefused({ ...signed, body }, 403, "WEBHOOK_SIGNATURE_INVALID", challenge);
  });

  test("a GET whose query was tampered with is refused with 403", async () => {
    const { app, challenge } = await twilioChallenge();
    const signed = signTwilioRequest({ secret: AUTH_TOKEN, method: "GET", params: twilioInboundParams({ from: PHONES.de, to: app.number, body: challenge.code }) });
    await expectRefused({ ...signed, path: signed.path.replace(encodeURIComponent(PHONES.de), encodeURIComponent(PHONES.fr)) }, 403, "WEBHOOK_SIGNATURE_INVALID", challenge);
  });

  test("an unsigned delivery is refused with 401", async () => {
    const { app, challenge } = await twilioChallenge();
    const signed = signTwilioRequest({ secret: AUTH_TOKEN, params: twilioInboundParams({ from: PHONES.fr, to: app.number, body: challenge.smsBody }) });
    const { "x-twilio-signature": _signature, ...headers } = signed.headers;
    await expectRefused({ ...signed, headers }, 401, "WEBHOOK_SIGNATURE_MISSING", challenge);
  });

  test("a delivery signed with an unknown auth token is refused with 403", async () => {
    const { app, challenge } = await twilioChallenge();
    const signed = signTwilioRequest({ secret: "ffffffffffffffffffffffffffffffff", params: twilioInboundParams({ from: PHONES.fr, to: app.number, body: challenge.smsBody }) });
    await expectRefused(signed, 403, "WEBHOOK_SIGNATURE_INVALID", challenge);
  });

  test("a delivery signed for the URL the Host header names, not PUBLIC_BASE_URL, is refused with 403", async () => {
    const { app, challenge } = await twilioChallenge();
    const params = twilioInboundParams({ from: PHONES.fr, to: app.number, body: challenge.smsBody });
    const signed = signTwilioRequest({ secret: AUTH_TOKEN, params, signedUrl: "http://attacker.example/v1/inbound/twilio" });
    await expectRefused({ ...signed, headers: { ...signed.headers, host: "attacker.example" } }, 403, "WEBHOOK_SIGNATURE_INVALID", challenge);
  });

  test("an authentic payload without MessageSid is refused with 400 and stores nothing", async () => {
    const { app, challenge } = await twilioChallenge();
    const { MessageSid: _sid, SmsSid: _s, SmsMessageSid: _m, ...params } = twilioInboundParams({ from: PHONES.fr, to: app.number, body: challenge.smsBody });
    await expectRefused(signTwilioRequest({ secret: AUTH_TOKEN, params }), 400, "WEBHOOK_PAYLOAD_INVALID", challenge);
  });

  test("without TWILIO_AUTH_TOKEN every delivery is refused (nothing is accepted unchecked)", async () => {
    const bare = await startHarness();
    try {
      const app = await bare.createApp({ numbers: [{ number: "+447400002100", provider: "twilio" }] });
      const c = (await bare.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" })).body as Challenge;
      const signed = signTwilioRequest({ secret: AUTH_TOKEN, params: twilioInboundParams({ from: PHONES.fr, to: app.number, body: c.smsBody }) });
      const before = await bare.countRows();
      const res = await bare.http().post(signed.path).set(signed.headers).send(signed.body);
      // Answered as a forged request (the answer must not tell whether Twilio is set up); the log says why.
      expect(res.status).toBe(403);
      expect(res.body.code).toBe("WEBHOOK_SIGNATURE_INVALID");
      expect(bare.logs()).toMatch(/"provider":"twilio","code":"WEBHOOK_NOT_CONFIGURED"/);
      expect(await bare.countRows()).toEqual(before);
    } finally {
      await bare.close();
    }
  });
});

describe("duplicate Twilio deliveries", () => {
  test("the same MessageSid delivered again (Twilio's retry, or a replay) is answered 200 and changes nothing", async () => {
    const { app, challenge } = await twilioChallenge();
    const signed = signTwilioRequest({ secret: AUTH_TOKEN, params: twilioInboundParams({ from: PHONES.fr, to: app.number, body: challenge.smsBody }) });
    expectEmptyTwiml(await deliver(signed));
    expect(await statusOf(challenge)).toBe("verified");
    const before = await h.countRows();
    const again = await deliver(signed);
    expectEmptyTwiml(again);
    expect(await h.countRows()).toEqual(before);
    expect(await statusOf(challenge)).toBe("verified");
  });

  test("a wrong code replayed does not count twice against the phone", async () => {
    const { app, challenge } = await twilioChallenge(PHONES.de);
    const signed = signTwilioRequest({ secret: AUTH_TOKEN, params: twilioInboundParams({ from: PHONES.de, to: app.number, body: "000000" }) });
    expectEmptyTwiml(await deliver(signed));
    const once = (await h.http().get(`/v1/challenges/${challenge.id}`).set("X-Poll-Token", challenge.pollToken)).body.attemptsRemaining as number;
    expect(once).toBe(challenge.attemptsRemaining - 1);
    expectEmptyTwiml(await deliver(signed));
    const twice = (await h.http().get(`/v1/challenges/${challenge.id}`).set("X-Poll-Token", challenge.pollToken)).body.attemptsRemaining as number;
    expect(twice).toBe(once);
  });

  test("eight concurrent deliveries of one MessageSid: all answered 200, one row, one verification", async () => {
    const { app, challenge } = await twilioChallenge(PHONES.gb);
    const messageSid = twilioMessageSid();
    const signed = signTwilioRequest({ secret: AUTH_TOKEN, params: twilioInboundParams({ from: PHONES.gb, to: app.number, body: challenge.smsBody, messageSid }) });
    const before = await h.countRows();
    const answers = await Promise.all(Array.from({ length: 8 }, () => deliver(signed)));
    for (const res of answers) expectEmptyTwiml(res);
    expect(await inboundRows(messageSid)).toEqual([{ outcome: "verified", parts: 1 }]);
    expect(await h.countRows()).toEqual({ ...before, inbound_messages: before.inbound_messages! + 1 });
    expect(await statusOf(challenge)).toBe("verified");
  });
});
