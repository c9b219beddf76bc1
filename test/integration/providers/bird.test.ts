// Bird (Channels API) end to end through HTTP on a fresh database: a signed `sms.inbound` from the
// challenge's phone verifies it and is answered 204, our number taken from the signed URL's
// `number` parameter (Bird's documented payload does not carry it) or from the payload when Bird
// includes it; tampered, foreign, unsigned and too old deliveries are refused and change nothing;
// retries with the original timestamp hours later are accepted and, being duplicates, change
// nothing. Bird reports no line type, so there is no VoIP case here.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import type { Response } from "supertest";
import { fixedClock } from "../../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import {
  BIRD_INBOUND_PATH,
  birdInboundEvent,
  birdPathForNumber,
  signBirdRequest,
  type BirdInboundInput,
  type SignedBirdRequest,
} from "../../support/providers/bird.js";

const START = "2031-05-04T10:00:00.000Z";
const clock = fixedClock(START);
const SIGNING_KEY = "bird-webhook-signing-key-for-tests-0123456789";
const FOREIGN_KEY = "another-bird-workspace-signing-key-987654321";

let h: Harness;
beforeAll(async () => {
  // A generous request deadline: a cold first request on a loaded test machine must not turn into a
  // 503 (the deadline is not what these tests are about).
  h = await startHarness({ clock, env: { BIRD_SIGNING_KEY: SIGNING_KEY, REQUEST_TIMEOUT_MS: "60000" } });
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  clock.set(START);
});

type CreatedChallenge = { id: string; code: string; pollToken: string; smsBody: string };

let numberCounter = 0;
/** Virtual numbers of this file (UK mobile range, apart from the harness's own +447400000xxx). */
const nextNumber = () => `+447400${200_000 + numberCounter++}`;
const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);

async function pendingChallenge(phone: string = PHONES.fr) {
  const number = nextNumber();
  const app = await h.createApp({ name: "Acme", numbers: [{ number, provider: "bird" }] });
  const created = await h.createChallenge(app.sk, { phone, purpose: "login" });
  expect(created.status).toBe(201);
  return { number, challenge: created.body as CreatedChallenge };
}

/** Signed as Bird signs for a subscription whose URL names our number (`?number=`). */
function sign(input: BirdInboundInput & { number: string }, options: { key?: string; timestampSeconds?: number; path?: string } = {}): SignedBirdRequest {
  const { number, ...event } = input;
  return signBirdRequest({
    signingKey: options.key ?? SIGNING_KEY,
    payload: birdInboundEvent({ createdAt: clock.now(), ...event }),
    now: clock.now(),
    path: options.path ?? birdPathForNumber(number),
    ...(options.timestampSeconds !== undefined ? { timestampSeconds: options.timestampSeconds } : {}),
  });
}

function deliver(req: Pick<SignedBirdRequest, "path" | "headers" | "body">) {
  return h.http().post(req.path).set(req.headers).send(req.body);
}

async function statusOf(c: CreatedChallenge): Promise<string> {
  const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return read.body.status as string;
}

async function outcomesOf(messageId: string): Promise<string[]> {
  const rows = await h.db.query<{ outcome: string }>(
    `SELECT outcome::text AS outcome FROM inbound_messages WHERE provider = 'bird' AND provider_message_id = $1`,
    [messageId],
  );
  return rows.map((r) => r.outcome);
}

function expectAcknowledged(res: Response) {
  expect(res.status).toBe(204);
  expect(res.text).toBe("");
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

describe("a real-looking Bird delivery", () => {
  test("an sms.inbound carrying the challenge's SMS, to a subscription URL naming our number, verifies it; Bird gets 204", async () => {
    const { number, challenge } = await pendingChallenge();
    const res = await deliver(sign({ number, from: PHONES.fr, text: challenge.smsBody, messageId: "bird-verify-1" }));
    expectAcknowledged(res);
    expect(await statusOf(challenge)).toBe("verified");
    expect(await outcomesOf("bird-verify-1")).toEqual(["verified"]);
  });

  test("when the payload names our number (receiver.connector.identifierValue), the plain URL is enough", async () => {
    const { number, challenge } = await pendingChallenge(PHONES.de);
    const req = sign({ number, to: number, from: PHONES.de, text: challenge.smsBody, messageId: "bird-verify-2" }, { path: BIRD_INBOUND_PATH });
    expectAcknowledged(await deliver(req));
    expect(await statusOf(challenge)).toBe("verified");
  });

  test("without our number anywhere and no number mapped to its channel, the message is kept as unknown_number and answered 204 (no retry)", async () => {
    const { challenge } = await pendingChallenge();
    const req = sign({ number: "", from: PHONES.fr, text: challenge.smsBody, messageId: "bird-no-number" }, { path: BIRD_INBOUND_PATH });
    expectAcknowledged(await deliver(req));
    expect(await outcomesOf("bird-no-number")).toEqual(["unknown_number"]);
    expect(await statusOf(challenge)).toBe("pending");
  });
});

describe("numbers mapped to their Bird channel (apps add-number … --channel)", () => {
  /** Bird's documented inbound SMS: the receiving channel named only by `channelId` and `receiver.connector.id`. */
  function documented(from: string, text: string, messageId: string, ids: { channelId?: string; connectorId?: string }) {
    const event = birdInboundEvent({ from, text, messageId, createdAt: clock.now() });
    const payload = event.payload as { channelId?: string; receiver: { connector: { id?: string } } };
    if (ids.channelId) payload.channelId = ids.channelId;
    else delete payload.channelId;
    if (ids.connectorId) payload.receiver.connector.id = ids.connectorId;
    else delete payload.receiver.connector.id;
    return signBirdRequest({ signingKey: SIGNING_KEY, payload: event, now: clock.now(), path: BIRD_INBOUND_PATH });
  }

  test("a delivery on the plain subscription URL verifies through the number mapped to its channel id", async () => {
    const number = nextNumber();
    const app = await h.createApp({ numbers: [{ number, provider: "bird", channel: "c0ffee00-0000-4000-8000-000000000001" }] });
    const created = await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" });
    const req = documented(PHONES.fr, created.body.smsBody, "bird-mapped-1", { channelId: "c0ffee00-0000-4000-8000-000000000001", connectorId: "86cc4dc0-3dc0-41b7-ac43-8ec829ead56f" });
    expectAcknowledged(await deliver(req));
    expect(await statusOf(created.body as CreatedChallenge)).toBe("verified");
    const [row] = await h.db.query<{ recipient: string }>(`SELECT recipient FROM inbound_messages WHERE provider_message_id = 'bird-mapped-1'`);
    expect(row?.recipient).toBe(number);
  });

  test("the connector id works as the mapping too", async () => {
    const number = nextNumber();
    const app = await h.createApp({ numbers: [{ number, provider: "bird", channel: "c0ffee00-0000-4000-8000-0000000000c2" }] });
    const created = await h.createChallenge(app.sk, { phone: PHONES.de, purpose: "login" });
    expectAcknowledged(await deliver(documented(PHONES.de, created.body.smsBody, "bird-mapped-2", { connectorId: "c0ffee00-0000-4000-8000-0000000000c2" })));
    expect(await statusOf(created.body as CreatedChallenge)).toBe("verified");
  });

  test("a channel id names one number only", async () => {
    await h.createApp({ numbers: [{ number: nextNumber(), provider: "bird", channel: "c0ffee00-0000-4000-8000-000000000003" }] });
    await expect(h.createApp({ numbers: [{ number: nextNumber(), provider: "bird", channel: "c0ffee00-0000-4000-8000-000000000003" }] })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      extra: { errors: [{ field: "channel", message: "already maps to a number" }] },
    });
  });
});

describe("refused deliveries change nothing", () => {
  test("a body changed after signing (the sender's last digit) is refused with 403", async () => {
    const { number, challenge } = await pendingChallenge();
    const neighbour = `${PHONES.fr.slice(0, -1)}${PHONES.fr.endsWith("9") ? "0" : "9"}`;
    const req = sign({ number, from: neighbour, text: challenge.smsBody });
    const tampered = req.body.replace(neighbour, PHONES.fr);
    expect(tampered).not.toBe(req.body);
    await expectRefused(() => deliver({ ...req, body: tampered }), { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("a delivery signed for another number's URL and sent to ours is refused with 403", async () => {
    const { number, challenge } = await pendingChallenge();
    const other = nextNumber();
    const req = sign({ number: other, from: PHONES.fr, text: challenge.smsBody });
    await expectRefused(() => deliver({ ...req, path: birdPathForNumber(number) }), { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("a delivery signed with another workspace's key is refused with 403", async () => {
    const { number, challenge } = await pendingChallenge();
    await expectRefused(
      () => deliver(sign({ number, from: PHONES.fr, text: challenge.smsBody }, { key: FOREIGN_KEY })),
      { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" },
      challenge,
    );
  });

  test("an unsigned delivery is refused with 401", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = sign({ number, from: PHONES.fr, text: challenge.smsBody });
    const { "messagebird-signature": _signature, ...unsigned } = req.headers;
    await expectRefused(() => deliver({ ...req, headers: unsigned }), { status: 401, code: "WEBHOOK_SIGNATURE_MISSING" }, challenge);
  });

  test("a correctly signed delivery more than 25 hours old is refused with 403 WEBHOOK_TIMESTAMP_OUT_OF_RANGE", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = sign({ number, from: PHONES.fr, text: challenge.smsBody }, { timestampSeconds: nowSeconds() - 25 * 3600 - 1 });
    await expectRefused(() => deliver(req), { status: 403, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" }, challenge);
  });

  test("a correctly signed delivery from more than 5 minutes in the future is refused with 403", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = sign({ number, from: PHONES.fr, text: challenge.smsBody }, { timestampSeconds: nowSeconds() + 301 });
    await expectRefused(() => deliver(req), { status: 403, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" }, challenge);
  });
});

describe("retries and duplicates: Bird re-sends the same message with its original timestamp", () => {
  test("a delivery whose signed timestamp is 20 hours old (a late retry) is accepted and verifies", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = sign({ number, from: PHONES.fr, text: challenge.smsBody, messageId: "bird-late-1" }, { timestampSeconds: nowSeconds() - 20 * 3600 });
    expectAcknowledged(await deliver(req));
    expect(await statusOf(challenge)).toBe("verified");
  });

  test("the same delivery replayed 20 hours later is answered 204 and changes nothing", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = sign({ number, from: PHONES.fr, text: challenge.smsBody, messageId: "bird-replay-1" });
    expectAcknowledged(await deliver(req));
    const afterFirst = await h.countRows();
    clock.advance(20 * 3600 * 1000);
    expectAcknowledged(await deliver(req));
    expect(await h.countRows()).toEqual(afterFirst);
    expect(await outcomesOf("bird-replay-1")).toEqual(["verified"]);
    expect(await statusOf(challenge)).toBe("verified");
  });

  test("five identical deliveries at once are all answered 204, store one message and verify once", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = sign({ number, from: PHONES.fr, text: challenge.smsBody, messageId: "bird-concurrent-1" });
    const before = await h.countRows();
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(req)));
    for (const res of answers) expectAcknowledged(res);
    expect(await h.countRows()).toEqual({ ...before, inbound_messages: before.inbound_messages! + 1 });
    expect(await outcomesOf("bird-concurrent-1")).toEqual(["verified"]);
    expect(await statusOf(challenge)).toBe("verified");
  });
});

describe("events that are not inbound SMS", () => {
  test.each(["sms.outbound", "whatsapp.inbound"])("a signed %s event is answered 204 and writes nothing", async (eventName) => {
    const { number, challenge } = await pendingChallenge();
    const event = birdInboundEvent({ from: PHONES.fr, to: number, text: challenge.smsBody });
    event.event = eventName;
    const before = await h.countRows();
    expectAcknowledged(await deliver(signBirdRequest({ signingKey: SIGNING_KEY, payload: event, now: clock.now(), path: birdPathForNumber(number) })));
    expect(await h.countRows()).toEqual(before);
    expect(await statusOf(challenge)).toBe("pending");
  });

  test("a signed payload that is not a Bird event is refused with 400 and writes nothing", async () => {
    const { number, challenge } = await pendingChallenge();
    const req = signBirdRequest({ signingKey: SIGNING_KEY, payload: { event: "sms.inbound", payload: { id: 1 } }, now: clock.now(), path: birdPathForNumber(number) });
    await expectRefused(() => deliver(req), { status: 400, code: "WEBHOOK_PAYLOAD_INVALID" }, challenge);
  });
});
