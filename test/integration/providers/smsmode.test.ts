// smsmode inbound SMS end to end through HTTP on a real database, both formats on
// `/v1/inbound/smsmode/<token>`: the HTTP API 1.6 reply callback (GET) and the REST webhook (POST).
// Real-looking deliveries verify their challenge; missing, wrong and near-miss tokens are refused
// and write nothing; rotation works; the REST retry schedule (same messageId six more times) and
// concurrent duplicates change nothing; non-MO callbacks are acknowledged; malformed authentic
// payloads get 400.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Response } from "supertest";
import { fixedClock } from "../../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import { pathTokenNearMisses, type PathTokenRequest } from "../../support/providers/path-token.js";
import { signSmsmodeRequest, smsmodeReply, smsmodeRestMo } from "../../support/providers/smsmode.js";

const clock = fixedClock("2031-05-04T10:00:00.000Z");
const TOKEN = "smsmodeIntTok_Lk8Jh5Gf2Ds9Aq6Wz3Xc0Vb7Nm4";
const OLD_TOKEN = "smsmodeOldTok_Qa1Ws2Ed3Rf4Tg5Yh6Uj7Ik8Ol9";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock, env: { SMSMODE_WEBHOOK_TOKEN: `${TOKEN},${OLD_TOKEN}` } });
});
afterAll(async () => {
  await h?.close();
});

type CreatedChallenge = { id: string; code: string; pollToken: string; smsBody: string };

let numberCounter = 0;
/** Virtual numbers of this file: UK mobiles +44 7400 3xxxxx, served by smsmode. */
const nextNumber = () => `+4474003${String(numberCounter++).padStart(5, "0")}`;

function send(req: PathTokenRequest, path = req.path) {
  const call = req.method === "GET" ? h.http().get(path) : h.http().post(path);
  return call.set(req.headers).send(req.body);
}

async function pendingChallenge(phone: string = PHONES.fr) {
  const number = nextNumber();
  const app = await h.createApp({ numbers: [{ number, provider: "smsmode" }] });
  const created = await h.createChallenge(app.sk, { phone, purpose: "login" });
  expect(created.status).toBe(201);
  const challenge = created.body as CreatedChallenge;
  const sms = { from: phone, to: number, text: challenge.smsBody, receivedAt: clock.now() };
  return { app, number, challenge, reply: smsmodeReply(sms), rest: smsmodeRestMo(sms) };
}

async function challengeStatus(c: CreatedChallenge) {
  const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return (read.body as { status: string }).status;
}

async function inboundRows(id: string) {
  return h.db.query<{ outcome: string; received_at: Date }>(
    `SELECT outcome::text AS outcome, received_at FROM inbound_messages WHERE provider = 'smsmode' AND provider_message_id = $1`,
    [id],
  );
}

function expectProblem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(code);
}

async function expectRefused(c: CreatedChallenge, sendIt: () => Promise<Response>, status: number, code: string) {
  const before = await h.countRows();
  expectProblem(await sendIt(), status, code);
  expect(await h.countRows()).toEqual(before);
  expect(await challengeStatus(c)).toBe("pending");
}

describe("smsmode HTTP API 1.6 reply callback (GET)", () => {
  test("a reply from the challenge's phone (bare digits) to our number verifies it, and smsmode gets 200", async () => {
    const { challenge, reply } = await pendingChallenge();
    const res = await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: reply }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
    expect(await inboundRows(reply.responseID!)).toEqual([{ outcome: "verified", received_at: clock.now() }]);
  });

  test("a reply whose text is encoded as ISO-8859-15 still verifies", async () => {
    const { challenge, reply } = await pendingChallenge();
    const res = await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: { ...reply, message: `Café € ${challenge.code}` }, encoding: "iso-8859-15" }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("without a token: 401 WEBHOOK_SIGNATURE_MISSING, nothing written", async () => {
    const { challenge, reply } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: undefined, format: "reply", query: reply })), 401, "WEBHOOK_SIGNATURE_MISSING");
  });

  test("a token in the query string instead of the path does not count: 401", async () => {
    const { challenge, reply } = await pendingChallenge();
    const req = signSmsmodeRequest({ token: undefined, format: "reply", query: reply });
    await expectRefused(challenge, () => send(req, `${req.path}&token=${TOKEN}`), 401, "WEBHOOK_SIGNATURE_MISSING");
  });

  test.each(pathTokenNearMisses(TOKEN))("a token with its $name: 403, nothing written", async ({ presented }) => {
    const { challenge, reply } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: presented, format: "reply", query: reply })), 403, "WEBHOOK_SIGNATURE_INVALID");
  });

  test("the same responseID delivered again is answered 200 and changes nothing", async () => {
    const { challenge, reply } = await pendingChallenge();
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: reply }))).status).toBe(200);
    const after = await h.countRows();
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: reply }))).status).toBe(200);
    expect(await h.countRows()).toEqual(after);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("a delivery-report callback on the same URL is acknowledged with 200 and stores nothing", async () => {
    const { number, challenge } = await pendingChallenge();
    const before = await h.countRows();
    const report = { numero: number.slice(1), date_reception: "04052031-120000", statut: "11", smsID: "abc123", refClient: "r1" };
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: report as never }))).status).toBe(200);
    expect(await h.countRows()).toEqual(before);
    expect(await challengeStatus(challenge)).toBe("pending");
  });

  test("a reply without emetteur is refused with 400 and writes nothing", async () => {
    const { challenge, reply } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: { ...reply, emetteur: undefined } })), 400, "WEBHOOK_PAYLOAD_INVALID");
  });
});

describe("smsmode REST webhook (POST)", () => {
  test("an SMS MO from the challenge's phone verifies it, and smsmode gets 200", async () => {
    const { challenge, rest } = await pendingChallenge(PHONES.de);
    const res = await send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: rest }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
    expect(await inboundRows(rest.messageId)).toEqual([{ outcome: "verified", received_at: clock.now() }]);
  });

  test("without a token, with a wrong token, or an upper-cased one: refused, nothing written", async () => {
    const { challenge, rest } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: undefined, format: "rest", payload: rest })), 401, "WEBHOOK_SIGNATURE_MISSING");
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: `${TOKEN.slice(0, -1)}Z`, format: "rest", payload: rest })), 403, "WEBHOOK_SIGNATURE_INVALID");
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: TOKEN.toUpperCase(), format: "rest", payload: rest })), 403, "WEBHOOK_SIGNATURE_INVALID");
  });

  test("the older token of the rotation list is accepted too", async () => {
    const { challenge, rest } = await pendingChallenge();
    expect((await send(signSmsmodeRequest({ token: OLD_TOKEN, format: "rest", payload: rest }))).status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("smsmode's six retries of one messageId (+30 s … +24 h) are answered 200 and change nothing", async () => {
    const { challenge, rest } = await pendingChallenge();
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: rest }))).status).toBe(200);
    const after = await h.countRows();
    for (const delaySeconds of [30, 120, 600, 3_600, 18_000, 86_400]) {
      clock.advance(delaySeconds * 1000);
      expect((await send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: rest }))).status).toBe(200);
    }
    expect(await h.countRows()).toEqual(after);
    expect(await inboundRows(rest.messageId)).toEqual([expect.objectContaining({ outcome: "verified" })]);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("six concurrent deliveries of one messageId all get 200 and verify once", async () => {
    const { challenge, rest } = await pendingChallenge();
    const before = await h.countRows();
    const answers = await Promise.all(Array.from({ length: 6 }, () => send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: rest }))));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(await h.countRows()).toEqual({ ...before, inbound_messages: before.inbound_messages! + 1 });
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test.each([
    ["a status callback of a message we sent (MT)", { direction: "MT", status: { value: "DELIVERED" } }],
    ["an RCS message", { channel: { type: "RCS" } }],
  ])("%s is acknowledged with 200 and stores nothing", async (_name, change) => {
    const { challenge, rest } = await pendingChallenge();
    const before = await h.countRows();
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: { ...rest, ...change } }))).status).toBe(200);
    expect(await h.countRows()).toEqual(before);
    expect(await challengeStatus(challenge)).toBe("pending");
  });

  test("a malformed but authentic payload answers 400 WEBHOOK_PAYLOAD_INVALID and writes nothing", async () => {
    const { challenge, rest } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: { ...rest, body: {} } })), 400, "WEBHOOK_PAYLOAD_INVALID");
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: "not json" })), 400, "WEBHOOK_PAYLOAD_INVALID");
  });
});
