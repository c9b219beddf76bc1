// Telnyx end to end through HTTP on a fresh database: a signed `message.received` from the
// challenge's phone verifies it and is answered 200; tampered, foreign, unsigned and stale
// deliveries are refused and change nothing; duplicates (one after the other and concurrent) are
// answered 200 and change nothing; senders Telnyx reports as VoIP or fixed line do not verify;
// other events are acknowledged without a trace.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Response } from "supertest";
import { fixedClock } from "../../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import {
  TELNYX_INBOUND_PATH,
  createTelnyxKeyPair,
  signTelnyxRequest,
  telnyxInboundEvent,
  type SignedTelnyxRequest,
  type TelnyxInboundInput,
} from "../../support/providers/telnyx.js";

const clock = fixedClock("2031-05-04T10:00:00.000Z");
const TELNYX = createTelnyxKeyPair();
const FOREIGN = createTelnyxKeyPair();

let h: Harness;
beforeAll(async () => {
  // A generous request deadline: a cold first request on a loaded test machine must not turn into a
  // 503 (the deadline is not what these tests are about).
  h = await startHarness({ clock, env: { TELNYX_PUBLIC_KEY: TELNYX.publicKeyBase64, REQUEST_TIMEOUT_MS: "60000" } });
});
afterAll(async () => {
  await h?.close();
});

type CreatedChallenge = { id: string; code: string; pollToken: string; smsBody: string };

let numberCounter = 0;
/** Virtual numbers of this file (UK mobile range, apart from the harness's own +447400000xxx). */
const nextNumber = () => `+447400${100_000 + numberCounter++}`;

/** A fresh app whose number Telnyx serves, with a pending challenge for `phone`. */
async function pendingChallenge(phone: string = PHONES.fr) {
  const number = nextNumber();
  const app = await h.createApp({ name: "Acme", numbers: [{ number, provider: "telnyx" }] });
  const created = await h.createChallenge(app.sk, { phone, purpose: "login" });
  expect(created.status).toBe(201);
  return { number, challenge: created.body as CreatedChallenge };
}

function sign(input: TelnyxInboundInput, options: { privateKey?: typeof TELNYX.privateKey; timestampSeconds?: number } = {}): SignedTelnyxRequest {
  return signTelnyxRequest({
    privateKey: options.privateKey ?? TELNYX.privateKey,
    payload: telnyxInboundEvent({ occurredAt: clock.now(), ...input }),
    now: clock.now(),
    ...(options.timestampSeconds !== undefined ? { timestampSeconds: options.timestampSeconds } : {}),
  });
}

function deliver(req: Pick<SignedTelnyxRequest, "path" | "headers" | "body">) {
  return h.http().post(req.path).set(req.headers).send(req.body);
}

async function statusOf(c: CreatedChallenge): Promise<string> {
  const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return read.body.status as string;
}

async function rowsFor(messageId: string) {
  return h.db.query<{ outcome: string; line_type: string | null; carrier: string | null; challenge_id: string | null }>(
    `SELECT outcome::text AS outcome, line_type, carrier, challenge_id FROM inbound_messages WHERE provider = 'telnyx' AND provider_message_id = $1`,
    [messageId],
  );
}

function expectAcknowledged(res: Response) {
  expect(res.status).toBe(200);
  expect(res.text).toBe("");
}

/** A refused request leaves every table as it was and the challenge pending. */
async function expectRefused(send: () => Promise<Response>, expected: { status: number; code: string }, challenge: CreatedChallenge) {
  const before = await h.countRows();
  const res = await send();
  expect(res.status).toBe(expected.status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(expected.code);
  expect(await h.countRows()).toEqual(before);
  expect(await statusOf(challenge)).toBe("pending");
}

describe("a real-looking Telnyx delivery", () => {
  test("a message.received carrying the challenge's SMS from its phone verifies it; Telnyx gets 200 with an empty body", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = sign({ from: PHONES.fr, to: number, text: challenge.smsBody, messageId: "tx-verify-1", carrier: "ORANGE", lineType: "Wireless" });
    const res = await deliver(req);
    expectAcknowledged(res);
    expect(await statusOf(challenge)).toBe("verified");
    expect(await rowsFor("tx-verify-1")).toEqual([{ outcome: "verified", line_type: "Wireless", carrier: "ORANGE", challenge_id: challenge.id }]);
  });

  test("a message to a number the service does not know is stored as unknown_number and answered 200", async () => {
    const res = await deliver(sign({ from: PHONES.fr, to: "+447400199999", text: "123456", messageId: "tx-unknown-1" }));
    expectAcknowledged(res);
    expect((await rowsFor("tx-unknown-1")).map((r) => r.outcome)).toEqual(["unknown_number"]);
  });

  test("a GET with parameters to the Telnyx webhook is refused with 405; a bare GET (a URL check) is answered 200", async () => {
    expect((await h.http().get(`${TELNYX_INBOUND_PATH}?event_type=message.received`)).status).toBe(405);
    const before = await h.countRows();
    expect((await h.http().get(TELNYX_INBOUND_PATH)).status).toBe(200);
    expect(await h.countRows()).toEqual(before);
  });
});

describe("refused deliveries change nothing", () => {
  test("a body changed after signing (the sender's last digit) is refused with 403", async () => {
    const { number, challenge } = await pendingChallenge();
    const neighbour = `${PHONES.fr.slice(0, -1)}${PHONES.fr.endsWith("9") ? "0" : "9"}`;
    const req = sign({ from: neighbour, to: number, text: challenge.smsBody });
    const tampered = req.body.replace(neighbour, PHONES.fr);
    expect(tampered).not.toBe(req.body);
    await expectRefused(() => deliver({ ...req, body: tampered }), { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("a delivery signed with a key pair other than Telnyx's is refused with 403", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = sign({ from: PHONES.fr, to: number, text: challenge.smsBody }, { privateKey: FOREIGN.privateKey });
    await expectRefused(() => deliver(req), { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("an unsigned delivery is refused with 401", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = sign({ from: PHONES.fr, to: number, text: challenge.smsBody });
    const { "telnyx-signature-ed25519": _signature, ...unsigned } = req.headers;
    await expectRefused(() => deliver({ ...req, headers: unsigned }), { status: 401, code: "WEBHOOK_SIGNATURE_MISSING" }, challenge);
  });

  test("a correctly signed delivery 301 seconds old is refused with 403 WEBHOOK_TIMESTAMP_OUT_OF_RANGE", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = sign({ from: PHONES.fr, to: number, text: challenge.smsBody }, { timestampSeconds: Math.floor(clock.now().getTime() / 1000) - 301 });
    await expectRefused(() => deliver(req), { status: 403, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" }, challenge);
  });

  test("a signed payload that is not a Telnyx event is refused with 400 and writes nothing", async () => {
    const { challenge } = await pendingChallenge();
    const req = signTelnyxRequest({ privateKey: TELNYX.privateKey, payload: { data: { event_type: "message.received", payload: { id: "x" } } }, now: clock.now() });
    await expectRefused(() => deliver(req), { status: 400, code: "WEBHOOK_PAYLOAD_INVALID" }, challenge);
  });
});

describe("duplicates: Telnyx retries the same message id", () => {
  test("the same delivery twice is answered 200 both times and verifies once", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = sign({ from: PHONES.fr, to: number, text: challenge.smsBody, messageId: "tx-dup-1" });
    expectAcknowledged(await deliver(req));
    const afterFirst = await h.countRows();
    expectAcknowledged(await deliver(req));
    expect(await h.countRows()).toEqual(afterFirst);
    expect(await statusOf(challenge)).toBe("verified");
    expect((await rowsFor("tx-dup-1")).map((r) => r.outcome)).toEqual(["verified"]);
  });

  test("a retry re-signed later with a new timestamp is a duplicate too", async () => {
    const { number, challenge } = await pendingChallenge();
    const first = sign({ from: PHONES.fr, to: number, text: challenge.smsBody, messageId: "tx-dup-2" });
    expectAcknowledged(await deliver(first));
    const afterFirst = await h.countRows();
    const retry = sign({ from: PHONES.fr, to: number, text: challenge.smsBody, messageId: "tx-dup-2" }, { timestampSeconds: Math.floor(clock.now().getTime() / 1000) + 30 });
    expectAcknowledged(await deliver(retry));
    expect(await h.countRows()).toEqual(afterFirst);
  });

  test("five identical deliveries at once are all answered 200, store one message and verify once", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = sign({ from: PHONES.fr, to: number, text: challenge.smsBody, messageId: "tx-concurrent-1" });
    const before = await h.countRows();
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(req)));
    for (const res of answers) expectAcknowledged(res);
    expect(await h.countRows()).toEqual({ ...before, inbound_messages: before.inbound_messages! + 1 });
    expect((await rowsFor("tx-concurrent-1")).map((r) => r.outcome)).toEqual(["verified"]);
    expect(await statusOf(challenge)).toBe("verified");
  });
});

describe("senders Telnyx reports as not being a personal mobile", () => {
  test.each([
    ["VoIP", "VoIP"],
    ["Wireline (a fixed line)", "Wireline"],
  ])("a sender reported as %s gives invalid_sender and does not verify", async (_label, lineType) => {
    const { number, challenge } = await pendingChallenge();
    const messageId = `tx-line-${lineType}`;
    const res = await deliver(sign({ from: PHONES.fr, to: number, text: challenge.smsBody, messageId, lineType }));
    expectAcknowledged(res);
    expect((await rowsFor(messageId)).map((r) => r.outcome)).toEqual(["invalid_sender"]);
    expect(await statusOf(challenge)).toBe("pending");
  });
});

describe("events that are not inbound messages", () => {
  test.each(["message.sent", "message.finalized"])("a signed %s event is answered 200 and writes nothing", async (eventType) => {
    const { number, challenge } = await pendingChallenge();
    const event = telnyxInboundEvent({ from: PHONES.fr, to: number, text: challenge.smsBody });
    (event.data as Record<string, unknown>).event_type = eventType;
    const before = await h.countRows();
    expectAcknowledged(await deliver(signTelnyxRequest({ privateKey: TELNYX.privateKey, payload: event, now: clock.now() })));
    expect(await h.countRows()).toEqual(before);
    expect(await statusOf(challenge)).toBe("pending");
  });
});
