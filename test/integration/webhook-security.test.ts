// The generic inbound webhook (Standard Webhooks signatures) through HTTP: forged, tampered, stale
// and unsigned requests are refused before anything is read or written; replays change nothing;
// secrets rotate; malformed but signed payloads are refused; unmatched messages are stored.
//
// Every refused request carries the right code from the right phone to the right number, so a
// request that slipped through would verify the challenge: "still pending" is the proof it did not.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Response } from "supertest";
import { signStandardWebhook } from "../../src/providers/standard-webhooks.js";
import { fixedClock } from "../../src/shared/clock.js";
import { randomId } from "../../src/shared/crypto.js";
import { PHONES, TEST_GENERIC_SECRET, startHarness, type Harness } from "../support/harness.js";

const clock = fixedClock("2031-05-04T10:00:00.000Z");
const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);
const randomWhsec = () => `whsec_${randomBytes(32).toString("base64")}`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock });
});
afterAll(async () => {
  await h?.close();
});

type SignedRequest = { body: string; headers: Record<string, string> };
type CreatedChallenge = { id: string; code: string; pollToken: string; smsBody: string };
type GenericPayload = { messageId: string; from: string; to: string; text: string };

function post(harness: Harness, req: SignedRequest, path = "/v1/inbound/generic") {
  return harness.http().post(path).set(req.headers).send(req.body);
}

/** A fresh app with a pending challenge, and the inbound SMS payload that would verify it. */
async function pendingChallenge(harness: Harness = h, appInput: Parameters<Harness["createApp"]>[0] = {}) {
  const app = await harness.createApp(appInput);
  const created = await harness.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" });
  expect(created.status).toBe(201);
  const challenge = created.body as CreatedChallenge;
  const payload: GenericPayload = { messageId: randomId("sms"), from: PHONES.fr, to: app.number, text: challenge.smsBody };
  return { app, challenge, payload };
}

async function readChallenge(c: CreatedChallenge, harness: Harness = h) {
  const read = await harness.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return read.body as { status: string; verifiedAt: string | null; attemptsRemaining: number };
}

async function inboundRow(messageId: string, harness: Harness = h) {
  const rows = await harness.db.query<{ outcome: string; challenge_id: string | null }>(
    `SELECT outcome::text AS outcome, challenge_id FROM inbound_messages WHERE provider = 'generic' AND provider_message_id = $1`,
    [messageId],
  );
  return rows;
}

/**
 * Sends a request that must be refused and checks every exit door: status, problem+json, stable
 * code, no row written anywhere, and the challenge still pending.
 */
async function expectRefusedAndNothingWritten(
  send: () => Promise<Response>,
  expected: { status: number; code: string },
  challenge: CreatedChallenge | undefined,
  harness: Harness = h,
) {
  const before = await harness.countRows();
  const res = await send();
  expect(res.status).toBe(expected.status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(expected.code);
  expect(res.body.status).toBe(expected.status);
  expect(await harness.countRows()).toEqual(before);
  if (challenge) expect((await readChallenge(challenge, harness)).status).toBe("pending");
  return res;
}

describe("unsigned webhooks", () => {
  test.each(["webhook-id", "webhook-timestamp", "webhook-signature"])(
    "when the %s header is missing, answers 401 WEBHOOK_SIGNATURE_MISSING and writes nothing",
    async (missing) => {
      const { challenge, payload } = await pendingChallenge();
      const signed = h.signedGeneric(payload);
      const headers = { ...signed.headers };
      delete (headers as Record<string, string | undefined>)[missing];
      await expectRefusedAndNothingWritten(
        () => post(h, { body: signed.body, headers }),
        { status: 401, code: "WEBHOOK_SIGNATURE_MISSING" },
        challenge,
      );
    },
  );

  test("when no signature header at all is sent, answers 401 WEBHOOK_SIGNATURE_MISSING and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    await expectRefusedAndNothingWritten(
      () => h.http().post("/v1/inbound/generic").set("content-type", "application/json").send(JSON.stringify(payload)),
      { status: 401, code: "WEBHOOK_SIGNATURE_MISSING" },
      challenge,
    );
  });
});

describe("forged and tampered webhooks", () => {
  test("a forged signature (random bytes) is refused with 403 and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    const signed = h.signedGeneric(payload);
    const forged = { ...signed.headers, "webhook-signature": `v1,${randomBytes(32).toString("base64")}` };
    await expectRefusedAndNothingWritten(
      () => post(h, { body: signed.body, headers: forged }),
      { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" },
      challenge,
    );
  });

  test("a signature made with another secret is refused with 403 and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    const signed = h.signedGeneric(payload, { secret: randomWhsec() });
    await expectRefusedAndNothingWritten(() => post(h, signed), { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" }, challenge);
  });

  test("a body with one byte changed after signing is refused with 403 and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    // Signed for a neighbouring sender; the attacker changes the last digit to the victim's phone.
    const neighbour = `${PHONES.fr.slice(0, -1)}${PHONES.fr.endsWith("9") ? "0" : "9"}`;
    const signed = h.signedGeneric({ ...payload, from: neighbour });
    const tampered = signed.body.replace(neighbour, PHONES.fr);
    expect(Buffer.byteLength(tampered)).toBe(Buffer.byteLength(signed.body));
    expect([...Buffer.from(tampered)].filter((b, i) => b !== Buffer.from(signed.body)[i])).toHaveLength(1);
    expect(JSON.parse(tampered)).toEqual(payload);
    await expectRefusedAndNothingWritten(
      () => post(h, { body: tampered, headers: signed.headers }),
      { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" },
      challenge,
    );
  });

  test("a webhook-id changed after signing is refused with 403 and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    const signed = h.signedGeneric(payload, { id: "msg_original" });
    await expectRefusedAndNothingWritten(
      () => post(h, { body: signed.body, headers: { ...signed.headers, "webhook-id": "msg_originaX" } }),
      { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" },
      challenge,
    );
  });

  test("a webhook-timestamp changed after signing (still within tolerance) is refused with 403 and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    const signedAt = nowSeconds();
    const signed = h.signedGeneric(payload, { timestamp: signedAt });
    await expectRefusedAndNothingWritten(
      () => post(h, { body: signed.body, headers: { ...signed.headers, "webhook-timestamp": String(signedAt - 1) } }),
      { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" },
      challenge,
    );
  });

  test("a signature header without any v1 entry is refused with 403 and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    const signed = h.signedGeneric(payload);
    const v2Only = signed.headers["webhook-signature"].replace(/^v1,/, "v2,");
    await expectRefusedAndNothingWritten(
      () => post(h, { body: signed.body, headers: { ...signed.headers, "webhook-signature": v2Only } }),
      { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" },
      challenge,
    );
  });
});

describe("timestamps outside the 5-minute tolerance", () => {
  test("a correctly signed request older than 5 minutes is refused with 403 WEBHOOK_TIMESTAMP_OUT_OF_RANGE", async () => {
    const { challenge, payload } = await pendingChallenge();
    const signed = h.signedGeneric(payload, { timestamp: nowSeconds() - 301 });
    await expectRefusedAndNothingWritten(() => post(h, signed), { status: 403, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" }, challenge);
  });

  test("a correctly signed request more than 5 minutes ahead is refused with 403 WEBHOOK_TIMESTAMP_OUT_OF_RANGE", async () => {
    const { challenge, payload } = await pendingChallenge();
    const signed = h.signedGeneric(payload, { timestamp: nowSeconds() + 301 });
    await expectRefusedAndNothingWritten(() => post(h, signed), { status: 403, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" }, challenge);
  });

  test("a captured request sent again 5 minutes and 1 second later is refused, and nothing is written", async () => {
    const { challenge, payload } = await pendingChallenge(h, { codeTtlSeconds: 600 });
    const captured = h.signedGeneric(payload);
    clock.advance(301_000);
    await expectRefusedAndNothingWritten(() => post(h, captured), { status: 403, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" }, challenge);
  });

  test.each([
    ["exactly 5 minutes old", -300],
    ["exactly 5 minutes ahead", 300],
  ])("a correctly signed request %s is still accepted", async (_label, offsetSeconds) => {
    const { challenge, payload } = await pendingChallenge();
    const res = await post(h, h.signedGeneric(payload, { timestamp: nowSeconds() + offsetSeconds }));
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ messageId: payload.messageId, outcome: "verified" }]);
    expect((await readChallenge(challenge)).status).toBe("verified");
  });
});

describe("replayed deliveries", () => {
  test("when the exact same signed request arrives twice, verifies once and answers 2xx both times", async () => {
    const { challenge, payload } = await pendingChallenge();
    const signed = h.signedGeneric(payload);

    const first = await post(h, signed);
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([{ messageId: payload.messageId, outcome: "verified" }]);
    const afterFirst = await h.countRows();
    const verified = await readChallenge(challenge);
    expect(verified.status).toBe("verified");

    clock.advance(1_000);
    const second = await post(h, signed);
    expect(second.status).toBe(200);
    expect(second.body.results).toEqual([{ messageId: payload.messageId, outcome: "duplicate" }]);
    expect(await h.countRows()).toEqual(afterFirst);
    expect(await readChallenge(challenge)).toEqual(verified);
    expect(await inboundRow(payload.messageId)).toEqual([{ outcome: "verified", challenge_id: challenge.id }]);
  });

  test("when a signed wrong-code message is replayed, the failure is counted once", async () => {
    const { challenge, payload } = await pendingChallenge();
    const wrong = challenge.code === "000000" ? "111111" : "000000";
    const signed = h.signedGeneric({ ...payload, text: wrong });

    const first = await post(h, signed);
    expect(first.status).toBe(200);
    expect(first.body.results[0].outcome).toBe("wrong_code");
    const afterFirst = await h.countRows();
    expect((await readChallenge(challenge)).attemptsRemaining).toBe(4);

    const second = await post(h, signed);
    expect(second.status).toBe(200);
    expect(second.body.results[0].outcome).toBe("duplicate");
    expect(await h.countRows()).toEqual(afterFirst);
    const after = await readChallenge(challenge);
    expect(after).toMatchObject({ status: "pending", attemptsRemaining: 4 });
  });
});

describe("signature formats", () => {
  test("a signature header with several v1 entries is accepted when one of them is valid", async () => {
    const { challenge, payload } = await pendingChallenge();
    const signed = h.signedGeneric(payload);
    const valid = signed.headers["webhook-signature"];
    const header = [`v1,${randomBytes(32).toString("base64")}`, "v1a,not-a-signature", valid, `v1,${randomBytes(32).toString("base64")}`].join(" ");
    const res = await post(h, { body: signed.body, headers: { ...signed.headers, "webhook-signature": header } });
    expect(res.status).toBe(200);
    expect(res.body.results[0].outcome).toBe("verified");
    expect((await readChallenge(challenge)).status).toBe("verified");
  });

  test("a signature header with several v1 entries none of which is valid is refused and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge();
    const signed = h.signedGeneric(payload);
    const header = [
      `v1,${randomBytes(32).toString("base64")}`,
      signStandardWebhook(randomWhsec(), signed.headers["webhook-id"], Number(signed.headers["webhook-timestamp"]), signed.body),
    ].join(" ");
    await expectRefusedAndNothingWritten(
      () => post(h, { body: signed.body, headers: { ...signed.headers, "webhook-signature": header } }),
      { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" },
      challenge,
    );
  });
});

describe("secret rotation", () => {
  const secretA = randomWhsec();
  const secretB = randomWhsec();
  let rotating: Harness;
  beforeAll(async () => {
    rotating = await startHarness({ clock, env: { GENERIC_WEBHOOK_SECRET: `${secretA},${secretB}` } });
  });
  afterAll(async () => {
    await rotating?.close();
  });

  test.each([
    ["the first", () => secretA],
    ["the second", () => secretB],
  ])("with two configured secrets, a request signed with %s is accepted", async (_label, secret) => {
    const { challenge, payload } = await pendingChallenge(rotating);
    const res = await post(rotating, rotating.signedGeneric(payload, { secret: secret() }));
    expect(res.status).toBe(200);
    expect(res.body.results[0].outcome).toBe("verified");
    expect((await readChallenge(challenge, rotating)).status).toBe("verified");
  });

  test("with two configured secrets, a request signed with neither (even the default test secret) is refused and writes nothing", async () => {
    const { challenge, payload } = await pendingChallenge(rotating);
    for (const secret of [TEST_GENERIC_SECRET, randomWhsec()]) {
      const signed = rotating.signedGeneric(payload, { secret });
      await expectRefusedAndNothingWritten(
        () => post(rotating, signed),
        { status: 403, code: "WEBHOOK_SIGNATURE_INVALID" },
        challenge,
        rotating,
      );
    }
  });

  test("a sender mid-rotation that signs with an unknown old secret and the new one is accepted", async () => {
    const { challenge, payload } = await pendingChallenge(rotating);
    const signed = rotating.signedGeneric(payload, { secret: secretB });
    const oldSignature = signStandardWebhook(
      randomWhsec(),
      signed.headers["webhook-id"],
      Number(signed.headers["webhook-timestamp"]),
      signed.body,
    );
    const header = `${oldSignature} ${signed.headers["webhook-signature"]}`;
    const res = await post(rotating, { body: signed.body, headers: { ...signed.headers, "webhook-signature": header } });
    expect(res.status).toBe(200);
    expect(res.body.results[0].outcome).toBe("verified");
    expect((await readChallenge(challenge, rotating)).status).toBe("verified");
  });
});

describe("routing and payloads", () => {
  test("an unknown provider answers 404 UNKNOWN_PROVIDER and writes nothing, even when validly signed", async () => {
    const { challenge, payload } = await pendingChallenge();
    const signed = h.signedGeneric(payload);
    await expectRefusedAndNothingWritten(
      () => post(h, signed, "/v1/inbound/nope"),
      { status: 404, code: "UNKNOWN_PROVIDER" },
      challenge,
    );
  });

  test.each<[string, (p: GenericPayload) => unknown]>([
    ["a missing field (to)", ({ to: _to, ...rest }) => rest],
    ["a missing field (messageId)", ({ messageId: _id, ...rest }) => rest],
    ["an unknown field", (p) => ({ ...p, challengeId: "chl_0000000000000000000000" })],
    ["a field of the wrong type", (p) => ({ ...p, text: 482913 })],
    ["a body that is not JSON", (p) => `messageId=${p.messageId}&from=${encodeURIComponent(p.from)}`],
    ["a JSON array instead of an object", (p) => [p]],
    ["an empty body", () => ""],
  ])("a validly signed payload with %s answers 400 WEBHOOK_PAYLOAD_INVALID and writes nothing", async (_label, mutate) => {
    const { challenge, payload } = await pendingChallenge();
    const mutated = mutate(payload);
    const signed = h.signedGeneric(typeof mutated === "string" ? mutated : JSON.stringify(mutated));
    await expectRefusedAndNothingWritten(() => post(h, signed), { status: 400, code: "WEBHOOK_PAYLOAD_INVALID" }, challenge);
  });

  test("a signed SMS that matches no challenge is stored and answered 2xx", async () => {
    const app = await h.createApp();
    const before = await h.countRows();
    const messageId = randomId("sms");
    const signed = h.signedGeneric({ messageId, from: PHONES.gb, to: app.number, text: "123456" });
    const res = await post(h, signed);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ messageId, outcome: "no_pending_challenge" }]);
    const after = await h.countRows();
    expect(after).toEqual({ ...before, inbound_messages: before.inbound_messages! + 1 });
    expect(await inboundRow(messageId)).toEqual([{ outcome: "no_pending_challenge", challenge_id: null }]);
  });

  test.each([
    ["to a number no app rents", () => ({ from: PHONES.gb, to: "+447400999999" }), "unknown_number"],
    ["from an alphanumeric sender", (number: string) => ({ from: "ACMEBANK", to: number }), "invalid_sender"],
  ])("a signed SMS %s is stored with its outcome and answered 2xx", async (_label, route, outcome) => {
    const app = await h.createApp();
    const before = await h.countRows();
    const messageId = randomId("sms");
    const res = await post(h, h.signedGeneric({ messageId, ...route(app.number), text: "123456" }));
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ messageId, outcome }]);
    expect(await h.countRows()).toEqual({ ...before, inbound_messages: before.inbound_messages! + 1 });
    expect(await inboundRow(messageId)).toEqual([{ outcome, challenge_id: null }]);
  });
});
