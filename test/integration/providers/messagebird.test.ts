// MessageBird (legacy numbers) end to end through HTTP on a fresh database: a signed GET (query
// parameters, bare-digit numbers) or POST from the challenge's phone verifies it and is answered
// 200 "OK", with either `MessageBird-Signature` or `MessageBird-Signature-JWT`; tampered, foreign,
// unsigned and stale deliveries are refused and change nothing; duplicates (one after the other
// and concurrent) are answered 200 and change nothing; delivery reports are acknowledged without a
// trace. MessageBird reports no line type, so there is no VoIP case here.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Response } from "supertest";
import { fixedClock } from "../../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import {
  messageBirdInboundParams,
  signMessageBirdJwtRequest,
  signMessageBirdRequest,
  type SignedMessageBirdRequest,
} from "../../support/providers/messagebird.js";

const clock = fixedClock("2031-05-04T10:00:00.000Z");
const SIGNING_KEY = "PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd";
const FOREIGN_KEY = "ZZZZKaqvZNRR5zAjm42ZT6q1SQxgbbZZ";

let h: Harness;
beforeAll(async () => {
  // A generous request deadline: a cold first request on a loaded test machine must not turn into a
  // 503 (the deadline is not what these tests are about).
  h = await startHarness({ clock, env: { MESSAGEBIRD_SIGNING_KEY: SIGNING_KEY, REQUEST_TIMEOUT_MS: "60000" } });
});
afterAll(async () => {
  await h?.close();
});

type CreatedChallenge = { id: string; code: string; pollToken: string; smsBody: string };

let numberCounter = 0;
/** Virtual numbers of this file (UK mobile range, apart from the harness's own +447400000xxx). */
const nextNumber = () => `+447400${300_000 + numberCounter++}`;
const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);

async function pendingChallenge(phone: string = PHONES.fr) {
  const number = nextNumber();
  const app = await h.createApp({ name: "Acme", numbers: [{ number, provider: "messagebird" }] });
  const created = await h.createChallenge(app.sk, { phone, purpose: "login" });
  expect(created.status).toBe(201);
  return { number, challenge: created.body as CreatedChallenge };
}

function deliver(req: SignedMessageBirdRequest) {
  const call = req.method === "GET" ? h.http().get(req.path) : h.http().post(req.path);
  return req.method === "GET" ? call.set(req.headers) : call.set(req.headers).send(req.body);
}

async function statusOf(c: CreatedChallenge): Promise<string> {
  const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return read.body.status as string;
}

async function outcomesOf(messageId: string): Promise<string[]> {
  const rows = await h.db.query<{ outcome: string }>(
    `SELECT outcome::text AS outcome FROM inbound_messages WHERE provider = 'messagebird' AND provider_message_id = $1`,
    [messageId],
  );
  return rows.map((r) => r.outcome);
}

function expectAcknowledged(res: Response) {
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^text\/plain/);
  expect(res.text).toBe("OK");
}

async function expectRefused(send: () => Promise<Response>, expected: { status: number; code: string }, challenge: CreatedChallenge) {
  const before = await h.countRows();
  const res = await send();
  expect(res.status).toBe(expected.status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(expected.code);
  expect(await h.countRows()).toEqual(before);
  expect(await statusOf(challenge)).toBe("pending");
}

describe("real-looking MessageBird deliveries", () => {
  test("a GET with the SMS in the query, signed with MessageBird-Signature, verifies the challenge; MessageBird gets 200 OK", async () => {
    const { number, challenge } = await pendingChallenge();
    const params = messageBirdInboundParams({ from: PHONES.fr, to: number, body: challenge.smsBody, id: "mb-get-1", createdAt: clock.now() });
    expect(params.originator).toBe(PHONES.fr.slice(1)); // bare digits, as MessageBird sends them
    const res = await deliver(signMessageBirdRequest({ signingKey: SIGNING_KEY, params, now: clock.now() }));
    expectAcknowledged(res);
    expect(await statusOf(challenge)).toBe("verified");
    expect(await outcomesOf("mb-get-1")).toEqual(["verified"]);
  });

  test("a GET signed with MessageBird-Signature-JWT verifies the challenge", async () => {
    const { number, challenge } = await pendingChallenge(PHONES.de);
    const params = messageBirdInboundParams({ from: PHONES.de, to: number, body: challenge.smsBody, id: "mb-jwt-get-1" });
    expectAcknowledged(await deliver(await signMessageBirdJwtRequest({ signingKey: SIGNING_KEY, params, now: clock.now() })));
    expect(await statusOf(challenge)).toBe("verified");
  });

  test("a POST with a form body signed with MessageBird-Signature-JWT verifies the challenge", async () => {
    const { number, challenge } = await pendingChallenge(PHONES.gb);
    const params = messageBirdInboundParams({ from: PHONES.gb, to: number, body: challenge.smsBody, id: "mb-jwt-post-1" });
    expectAcknowledged(await deliver(await signMessageBirdJwtRequest({ signingKey: SIGNING_KEY, params, now: clock.now(), method: "POST" })));
    expect(await statusOf(challenge)).toBe("verified");
  });

  test("a POST with a JSON body signed with MessageBird-Signature verifies the challenge", async () => {
    const { number, challenge } = await pendingChallenge(PHONES.fr2);
    const params = messageBirdInboundParams({ from: PHONES.fr2, to: number, body: challenge.smsBody, id: "mb-json-1" });
    expectAcknowledged(await deliver(signMessageBirdRequest({ signingKey: SIGNING_KEY, params, now: clock.now(), method: "POST", bodyFormat: "json" })));
    expect(await statusOf(challenge)).toBe("verified");
  });
});

describe("refused deliveries change nothing", () => {
  const neighbourOf = (phone: string) => `${phone.slice(0, -1)}${phone.endsWith("9") ? "0" : "9"}`;

  test("a GET whose originator was changed after signing is refused with 403", async () => {
    const { number, challenge } = await pendingChallenge();
    const neighbour = neighbourOf(PHONES.fr);
    const req = signMessageBirdRequest({ signingKey: SIGNING_KEY, params: messageBirdInboundParams({ from: neighbour, to: number, body: challenge.smsBody }), now: clock.now() });
    const path = req.path.replace(`originator=${neighbour.slice(1)}`, `originator=${PHONES.fr.slice(1)}`);
    expect(path).not.toBe(req.path);
    await expectRefused(() => deliver({ ...req, path }), { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("a JWT-signed POST whose body was changed after signing is refused with 403", async () => {
    const { number, challenge } = await pendingChallenge();
    const neighbour = neighbourOf(PHONES.fr);
    const req = await signMessageBirdJwtRequest({
      signingKey: SIGNING_KEY,
      params: messageBirdInboundParams({ from: neighbour, to: number, body: challenge.smsBody }),
      now: clock.now(),
      method: "POST",
    });
    const body = req.body.replace(`originator=${neighbour.slice(1)}`, `originator=${PHONES.fr.slice(1)}`);
    expect(body).not.toBe(req.body);
    await expectRefused(() => deliver({ ...req, body }), { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("a JWT issued for another URL is refused with 403", async () => {
    const { number, challenge } = await pendingChallenge();
    const params = messageBirdInboundParams({ from: PHONES.fr, to: number, body: challenge.smsBody });
    const req = await signMessageBirdJwtRequest({ signingKey: SIGNING_KEY, params, now: clock.now(), publicBaseUrl: "https://attacker.example" });
    expect(req.path.startsWith("/v1/inbound/messagebird?")).toBe(true);
    await expectRefused(() => deliver(req), { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("a delivery signed with another account's key is refused with 403", async () => {
    const { number, challenge } = await pendingChallenge();
    const params = messageBirdInboundParams({ from: PHONES.fr, to: number, body: challenge.smsBody });
    await expectRefused(
      () => deliver(signMessageBirdRequest({ signingKey: FOREIGN_KEY, params, now: clock.now() })),
      { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" },
      challenge,
    );
  });

  test("an unsigned delivery is refused with 401", async () => {
    const { number, challenge } = await pendingChallenge();
    const params = messageBirdInboundParams({ from: PHONES.fr, to: number, body: challenge.smsBody });
    const req = signMessageBirdRequest({ signingKey: SIGNING_KEY, params, now: clock.now() });
    await expectRefused(() => deliver({ ...req, headers: {} }), { status: 401, code: "WEBHOOK_SIGNATURE_MISSING" }, challenge);
  });

  test("a legacy signature 301 seconds old is refused with 403 WEBHOOK_TIMESTAMP_OUT_OF_RANGE", async () => {
    const { number, challenge } = await pendingChallenge();
    const params = messageBirdInboundParams({ from: PHONES.fr, to: number, body: challenge.smsBody });
    const req = signMessageBirdRequest({ signingKey: SIGNING_KEY, params, now: clock.now(), timestampSeconds: nowSeconds() - 301 });
    await expectRefused(() => deliver(req), { status: 403, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" }, challenge);
  });

  test("an expired JWT (issued 70 seconds ago, valid for 60) is refused with 403 WEBHOOK_TIMESTAMP_OUT_OF_RANGE", async () => {
    const { number, challenge } = await pendingChallenge();
    const params = messageBirdInboundParams({ from: PHONES.fr, to: number, body: challenge.smsBody });
    const req = await signMessageBirdJwtRequest({ signingKey: SIGNING_KEY, params, now: clock.now(), timestampSeconds: nowSeconds() - 70 });
    await expectRefused(() => deliver(req), { status: 403, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" }, challenge);
  });

  test("a signed GET without the SMS fields is refused with 400 and writes nothing", async () => {
    const { challenge } = await pendingChallenge();
    const req = signMessageBirdRequest({ signingKey: SIGNING_KEY, params: { id: "mb-bad-1", body: "x" }, now: clock.now() });
    await expectRefused(() => deliver(req), { status: 400, code: "WEBHOOK_PAYLOAD_INVALID" }, challenge);
  });
});

describe("duplicates: MessageBird retries the same message id", () => {
  test("the same GET twice is answered 200 both times and verifies once", async () => {
    const { number, challenge } = await pendingChallenge();
    const params = messageBirdInboundParams({ from: PHONES.fr, to: number, body: challenge.smsBody, id: "mb-dup-1" });
    const req = signMessageBirdRequest({ signingKey: SIGNING_KEY, params, now: clock.now() });
    expectAcknowledged(await deliver(req));
    const afterFirst = await h.countRows();
    expectAcknowledged(await deliver(req));
    expect(await h.countRows()).toEqual(afterFirst);
    expect(await outcomesOf("mb-dup-1")).toEqual(["verified"]);
  });

  test("the same message delivered again with the other signature scheme is a duplicate too", async () => {
    const { number, challenge } = await pendingChallenge();
    const params = messageBirdInboundParams({ from: PHONES.fr, to: number, body: challenge.smsBody, id: "mb-dup-2" });
    expectAcknowledged(await deliver(signMessageBirdRequest({ signingKey: SIGNING_KEY, params, now: clock.now() })));
    const afterFirst = await h.countRows();
    expectAcknowledged(await deliver(await signMessageBirdJwtRequest({ signingKey: SIGNING_KEY, params, now: clock.now() })));
    expect(await h.countRows()).toEqual(afterFirst);
    expect(await statusOf(challenge)).toBe("verified");
  });

  test("five identical deliveries at once are all answered 200, store one message and verify once", async () => {
    const { number, challenge } = await pendingChallenge();
    const params = messageBirdInboundParams({ from: PHONES.fr, to: number, body: challenge.smsBody, id: "mb-concurrent-1" });
    const req = signMessageBirdRequest({ signingKey: SIGNING_KEY, params, now: clock.now() });
    const before = await h.countRows();
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(req)));
    for (const res of answers) expectAcknowledged(res);
    expect(await h.countRows()).toEqual({ ...before, inbound_messages: before.inbound_messages! + 1 });
    expect(await outcomesOf("mb-concurrent-1")).toEqual(["verified"]);
    expect(await statusOf(challenge)).toBe("verified");
  });
});

describe("requests that are not inbound SMS", () => {
  test("a signed delivery report sent to the same URL is answered 200 and writes nothing", async () => {
    const { number, challenge } = await pendingChallenge();
    const report = { id: "eef0ab57a9e049be946f3821568c2b2e", recipient: number.slice(1), reference: "x", status: "delivered", statusDatetime: "2031-05-04T09:59:00+00:00" };
    const before = await h.countRows();
    expectAcknowledged(await deliver(signMessageBirdRequest({ signingKey: SIGNING_KEY, params: report, now: clock.now() })));
    expect(await h.countRows()).toEqual(before);
    expect(await statusOf(challenge)).toBe("pending");
  });
});
