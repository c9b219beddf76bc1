// Expiry, wrong-code lock-out, idempotent creation, code uniqueness and object-level authorisation,
// through HTTP with a fixed clock: time moves only when a test moves it, so expiry and lock-out
// boundaries are exact to the millisecond and nothing depends on how fast the machine is.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import type { Response } from "supertest";
import { deriveCode } from "../../src/challenges/derived-secrets.js";
import { fixedClock } from "../../src/shared/clock.js";
import { createHasher, randomId } from "../../src/shared/crypto.js";
import { PHONES, TEST_HASH_KEY, startHarness, type Harness } from "../support/harness.js";

const clock = fixedClock("2031-06-02T08:00:00.000Z");

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock });
});
afterAll(async () => {
  await h?.close();
});

type CreatedChallenge = {
  id: string;
  status: string;
  code: string;
  pollToken: string;
  smsBody: string;
  expiresAt: string;
  attemptsRemaining: number;
};
type AppUnderTest = Awaited<ReturnType<Harness["createApp"]>>;

async function createChallenge(app: AppUnderTest, phone: string, headers: Record<string, string> = {}) {
  const res = await h.createChallenge(app.sk, { phone, purpose: "login" }, headers);
  expect(res.status).toBe(201);
  return res.body as CreatedChallenge;
}

async function read(c: CreatedChallenge) {
  const res = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(res.status).toBe(200);
  return res.body as { status: string; attemptsRemaining: number; verifiedAt: string | null };
}

/** Sends an SMS and returns its outcome (the generic provider reports it). */
async function sms(app: AppUnderTest, from: string, text: string): Promise<string> {
  const res = await h.sendSms({ from, to: app.number, text });
  expect(res.status).toBe(200);
  return res.body.results[0].outcome as string;
}

/** A six-digit code that is none of `codes`. */
function wrongCode(...codes: string[]): string {
  for (let n = 100_000; ; n += 1_111) if (!codes.includes(String(n))) return String(n);
}

async function failureRows(appId: string) {
  return h.db.query<{ failures: number; locked_until: Date | null }>(
    `SELECT failures, locked_until FROM phone_failures WHERE app_id = $1`,
    [appId],
  );
}

function expectProblem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(code);
}

describe("expiry", () => {
  test("the right code 1 ms before expiresAt verifies the challenge", async () => {
    const app = await h.createApp();
    const c = await createChallenge(app, PHONES.fr);
    clock.set(new Date(Date.parse(c.expiresAt) - 1));
    expect(await sms(app, PHONES.fr, c.code)).toBe("verified");
    expect((await read(c)).status).toBe("verified");
  });

  test.each([
    ["exactly at expiresAt", 0],
    ["1 ms after expiresAt", 1],
    ["a minute after expiresAt", 60_000],
  ])("the right code %s does not verify: outcome expired, and the challenge reads expired", async (_label, offsetMs) => {
    const app = await h.createApp();
    const c = await createChallenge(app, PHONES.fr);
    clock.set(new Date(Date.parse(c.expiresAt) + offsetMs));
    expect(await sms(app, PHONES.fr, c.code)).toBe("expired");
    const after = await read(c);
    expect(after.status).toBe("expired");
    expect(after.verifiedAt).toBeNull();
    // An expired challenge cannot be consumed either.
    const consume = await h.http().post(`/v1/challenges/${c.id}/consume`).set("Authorization", `Bearer ${app.sk}`);
    expectProblem(consume, 409, "CHALLENGE_NOT_VERIFIED");
  });

  test("no read says pending at or after expiresAt, even when no SMS ever came", async () => {
    const app = await h.createApp();
    const c = await createChallenge(app, PHONES.de);
    clock.set(new Date(Date.parse(c.expiresAt) - 1));
    expect((await read(c)).status).toBe("pending");
    clock.set(c.expiresAt);
    expect((await read(c)).status).toBe("expired");
    const bySecretKey = await h.http().get(`/v1/challenges/${c.id}`).set("Authorization", `Bearer ${app.sk}`);
    expect(bySecretKey.body.status).toBe("expired");
    const cancel = await h.http().post(`/v1/challenges/${c.id}/cancel`).set("X-Poll-Token", c.pollToken);
    expectProblem(cancel, 409, "CHALLENGE_NOT_PENDING");
    expect((await read(c)).status).toBe("expired");
  });

  test(
    "over 200 seeded draws around expiresAt (−2000 ms … +2000 ms): 0 verifications after expiry, 0 refusals before it",
    async () => {
      const drawn = fc.sample(fc.integer({ min: -2000, max: 2000 }), { seed: 20310602, numRuns: 200 });
      const offsets = [-2000, -1, 0, 1, 2000, ...drawn];
      const violations: string[] = [];
      for (const [i, offsetMs] of offsets.entries()) {
        // A fresh app and phone per draw, an hour apart: no draw sees another's limits or counts.
        clock.advance(3_600_000);
        const app = await h.createApp();
        const phone = `+3361${String(2_000_000 + i).padStart(7, "0")}`;
        const c = await createChallenge(app, phone);
        clock.set(new Date(Date.parse(c.expiresAt) + offsetMs));
        const outcome = await sms(app, phone, c.code);
        const status = (await read(c)).status;
        const expected = offsetMs < 0 ? "verified" : "expired";
        if (outcome !== expected || status !== expected) {
          violations.push(`offset ${offsetMs} ms: outcome ${outcome}, status ${status}, expected ${expected}`);
        }
      }
      expect(offsets.filter((o) => o < 0).length).toBeGreaterThan(50);
      expect(offsets.filter((o) => o >= 0).length).toBeGreaterThan(50);
      expect(violations).toEqual([]);
    },
    180_000,
  );
});

describe("wrong codes and lock-out", () => {
  test("each wrong code lowers attemptsRemaining of the phone's pending challenges, and the third fails them all", async () => {
    const app = await h.createApp({ maxAttempts: 3 });
    const c1 = await createChallenge(app, PHONES.fr);
    const c2 = await createChallenge(app, PHONES.fr);
    expect([c1.attemptsRemaining, c2.attemptsRemaining]).toEqual([3, 3]);
    const wrong = wrongCode(c1.code, c2.code);

    expect(await sms(app, PHONES.fr, wrong)).toBe("wrong_code");
    expect([(await read(c1)).attemptsRemaining, (await read(c2)).attemptsRemaining]).toEqual([2, 2]);
    expect(await sms(app, PHONES.fr, wrong)).toBe("wrong_code");
    expect([(await read(c1)).attemptsRemaining, (await read(c2)).attemptsRemaining]).toEqual([1, 1]);
    expect(await sms(app, PHONES.fr, wrong)).toBe("wrong_code");
    for (const c of [c1, c2]) expect(await read(c)).toMatchObject({ status: "failed", attemptsRemaining: 0 });
  });

  test("after the lock-out, the right code no longer verifies", async () => {
    const app = await h.createApp({ maxAttempts: 3 });
    const c = await createChallenge(app, PHONES.fr);
    for (let i = 0; i < 3; i++) await sms(app, PHONES.fr, wrongCode(c.code));
    expect((await read(c)).status).toBe("failed");

    expect(await sms(app, PHONES.fr, c.code)).not.toBe("verified");
    expect(await read(c)).toMatchObject({ status: "failed", verifiedAt: null });
    const consume = await h.http().post(`/v1/challenges/${c.id}/consume`).set("Authorization", `Bearer ${app.sk}`);
    expectProblem(consume, 409, "CHALLENGE_NOT_VERIFIED");
  });

  test("a locked phone gets 423 PHONE_LOCKED with Retry-After for new challenges until the lock-out period ends, then full attempts", async () => {
    const app = await h.createApp({ maxAttempts: 3 });
    const c = await createChallenge(app, PHONES.fr);
    for (let i = 0; i < 3; i++) expect(await sms(app, PHONES.fr, wrongCode(c.code))).toBe("wrong_code");

    const before = await h.countRows();
    const locked = await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" });
    expectProblem(locked, 423, "PHONE_LOCKED");
    expect(locked.headers["retry-after"]).toBe("900");
    expect(await h.countRows()).toEqual(before);

    // Another phone of the same app is not affected.
    expect((await h.createChallenge(app.sk, { phone: PHONES.de, purpose: "login" })).status).toBe(201);

    clock.advance(600_000);
    const stillLocked = await h.createChallenge(app.pk, { phone: PHONES.fr, purpose: "login" });
    expectProblem(stillLocked, 423, "PHONE_LOCKED");
    expect(stillLocked.headers["retry-after"]).toBe("300");

    clock.advance(300_000);
    const fresh = await createChallenge(app, PHONES.fr);
    expect(fresh).toMatchObject({ status: "pending", attemptsRemaining: 3 });
    // The count starts again from zero after the lock-out.
    expect(await sms(app, PHONES.fr, wrongCode(fresh.code))).toBe("wrong_code");
    expect(await read(fresh)).toMatchObject({ status: "pending", attemptsRemaining: 2 });
  });

  test("creating a new challenge does not reset the wrong-code count", async () => {
    const app = await h.createApp({ maxAttempts: 3 });
    const c1 = await createChallenge(app, PHONES.gb);
    await sms(app, PHONES.gb, wrongCode(c1.code));
    await sms(app, PHONES.gb, wrongCode(c1.code));
    expect((await read(c1)).attemptsRemaining).toBe(1);

    const c2 = await createChallenge(app, PHONES.gb);
    expect(c2.attemptsRemaining).toBe(1);
    expect((await read(c2)).attemptsRemaining).toBe(1);

    expect(await sms(app, PHONES.gb, wrongCode(c1.code, c2.code))).toBe("wrong_code");
    for (const c of [c1, c2]) expect((await read(c)).status).toBe("failed");
  });

  test("a successful verification resets the wrong-code count", async () => {
    const app = await h.createApp({ maxAttempts: 3 });
    const c1 = await createChallenge(app, PHONES.fr2);
    await sms(app, PHONES.fr2, wrongCode(c1.code));
    await sms(app, PHONES.fr2, wrongCode(c1.code));
    expect(await failureRows(app.appId)).toEqual([expect.objectContaining({ failures: 2 })]);

    expect(await sms(app, PHONES.fr2, c1.code)).toBe("verified");
    expect(await failureRows(app.appId)).toEqual([]);

    const c2 = await createChallenge(app, PHONES.fr2);
    expect(c2.attemptsRemaining).toBe(3);
    await sms(app, PHONES.fr2, wrongCode(c2.code));
    await sms(app, PHONES.fr2, wrongCode(c2.code));
    expect(await read(c2)).toMatchObject({ status: "pending", attemptsRemaining: 1 });
  });

  test("wrong codes from a phone without pending challenges are no_pending_challenge and not counted", async () => {
    const app = await h.createApp({ maxAttempts: 3 });
    const other = await h.createApp({ maxAttempts: 3 });
    // The phone has a pending challenge, but at another app: it does not count there either.
    const elsewhere = await createChallenge(other, PHONES.de);
    for (let i = 0; i < 5; i++) expect(await sms(app, PHONES.de, wrongCode(elsewhere.code))).toBe("no_pending_challenge");
    expect(await failureRows(app.appId)).toEqual([]);
    expect(await failureRows(other.appId)).toEqual([]);
    expect((await read(elsewhere)).attemptsRemaining).toBe(3);

    const c = await createChallenge(app, PHONES.de);
    expect(c.attemptsRemaining).toBe(3);
  });

  test("wrong codes from another phone do not count against a phone's pending challenge", async () => {
    const app = await h.createApp({ maxAttempts: 3 });
    const c = await createChallenge(app, PHONES.fr);
    for (let i = 0; i < 4; i++) expect(await sms(app, PHONES.gb, wrongCode(c.code))).toBe("no_pending_challenge");
    expect(await read(c)).toMatchObject({ status: "pending", attemptsRemaining: 3 });
    expect(await sms(app, PHONES.fr, c.code)).toBe("verified");
  });
});

describe("idempotent creation", () => {
  const body = { phone: PHONES.fr, purpose: "login" };

  test("the same Idempotency-Key with the same body answers 201 with the same challenge, code and poll token, and stores one row", async () => {
    const app = await h.createApp();
    const key = randomId("idem");
    const before = await h.countRows();
    const first = await h.createChallenge(app.sk, body, { "Idempotency-Key": key });
    const second = await h.createChallenge(app.sk, body, { "Idempotency-Key": key });

    expect(first.status).toBe(201);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    expect(second.status).toBe(201);
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(second.body).toEqual(first.body);
    expect(second.body).toMatchObject({ id: first.body.id, code: first.body.code, pollToken: first.body.pollToken });
    expect(await h.countRows()).toEqual({ ...before, challenges: before.challenges! + 1 });

    // The replayed poll token and code are the real ones.
    const readBack = await h.http().get(`/v1/challenges/${second.body.id}`).set("X-Poll-Token", second.body.pollToken);
    expect(readBack.status).toBe(200);
    expect(await sms(app, PHONES.fr, second.body.code)).toBe("verified");
  });

  test.each<[string, Record<string, unknown>]>([
    ["another phone", { ...body, phone: PHONES.de }],
    ["another purpose", { ...body, purpose: "signup" }],
    ["another locale", { ...body, locale: "de" }],
  ])("the same Idempotency-Key with %s answers 409 IDEMPOTENCY_KEY_REUSED and writes nothing", async (_label, changed) => {
    const app = await h.createApp();
    const key = randomId("idem");
    expect((await h.createChallenge(app.sk, body, { "Idempotency-Key": key })).status).toBe(201);
    const before = await h.countRows();
    const reused = await h.createChallenge(app.sk, changed, { "Idempotency-Key": key });
    expectProblem(reused, 409, "IDEMPOTENCY_KEY_REUSED");
    expect(await h.countRows()).toEqual(before);
  });

  test("another app may use the same Idempotency-Key independently", async () => {
    const a = await h.createApp();
    const b = await h.createApp();
    const key = randomId("idem");
    const fromA = await h.createChallenge(a.sk, body, { "Idempotency-Key": key });
    const fromB = await h.createChallenge(b.sk, body, { "Idempotency-Key": key });
    expect([fromA.status, fromB.status]).toEqual([201, 201]);
    expect(fromB.headers["idempotent-replayed"]).toBeUndefined();
    expect(fromB.body.id).not.toBe(fromA.body.id);
    expect(fromB.body.pollToken).not.toBe(fromA.body.pollToken);
    expect(fromB.body.smsTo).toBe(b.number);
    // A's challenge is not readable with B's key, and each stays its own.
    expect((await h.http().get(`/v1/challenges/${fromA.body.id}`).set("Authorization", `Bearer ${b.sk}`)).status).toBe(404);
  });
});

describe("code uniqueness among a phone's pending challenges", () => {
  test("three pending challenges of one phone have three different codes, and a fourth replaces the oldest (expired at once), never refused", async () => {
    const app = await h.createApp();
    const created = [];
    for (let i = 0; i < 3; i++) {
      created.push(await createChallenge(app, PHONES.gb));
      clock.advance(1000); // "oldest" by creation time
    }
    expect(new Set(created.map((c) => c.code)).size).toBe(3);

    const fourth = await h.createChallenge(app.sk, { phone: PHONES.gb, purpose: "login" });
    expect(fourth.status).toBe(201);
    const statusOf = async (id: string) => (await h.http().get(`/v1/challenges/${id}`).set("Authorization", `Bearer ${app.sk}`)).body.status;
    expect(await statusOf(created[0]!.id)).toBe("expired");
    expect(await Promise.all([created[1]!.id, created[2]!.id, fourth.body.id].map(statusOf))).toEqual(["pending", "pending", "pending"]);
    // The replaced challenge's code no longer verifies anything, and is not counted as a wrong code.
    const sms = await h.sendSms({ from: PHONES.gb, to: app.number, text: created[0]!.code });
    expect(sms.body.results[0].outcome).toBe("expired");
    expect((await h.http().get(`/v1/challenges/${fourth.body.id}`).set("Authorization", `Bearer ${app.sk}`)).body.attemptsRemaining).toBe(fourth.body.attemptsRemaining);
  });

  test("when the code drawn for a new challenge is already pending for the phone, another code is drawn", async () => {
    // Codes of requests with an Idempotency-Key are derived from (app, API key, Idempotency-Key,
    // draw number), so two Idempotency-Keys whose first draws are equal force a collision on the
    // second creation, deterministically.
    const app = await h.createApp();
    const [apiKey] = await h.db.query<{ id: string }>(`SELECT id FROM api_keys WHERE app_id = $1 AND kind = 'secret'`, [app.appId]);
    const idempotencyDigest = (key: string) => createHasher([TEST_HASH_KEY]).keyed("idempotency-key", JSON.stringify([apiKey!.id, key]));
    const firstDraw = (key: string) =>
      deriveCode(TEST_HASH_KEY, `${app.appId}\u0000${idempotencyDigest(key)}`, 0, { length: 6, alphabet: "numeric" });
    const seen = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair && i < 200_000; i++) {
      const key = `collide-${i}`;
      const code = firstDraw(key);
      const earlier = seen.get(code);
      if (earlier) pair = [earlier, key];
      else seen.set(code, key);
    }
    expect(pair).toBeDefined();
    const [keyA, keyB] = pair!;

    const a = await createChallenge(app, PHONES.fr2, { "Idempotency-Key": keyA });
    // Precondition: the derivation above is the service's (otherwise this test proves nothing).
    expect(a.code).toBe(firstDraw(keyA));
    const b = await createChallenge(app, PHONES.fr2, { "Idempotency-Key": keyB });
    expect(firstDraw(keyB)).toBe(a.code);
    expect(b.code).not.toBe(a.code);
    expect([(await read(a)).status, (await read(b)).status]).toEqual(["pending", "pending"]);

    // A retry of the second request still gets the redrawn code.
    const replay = await h.createChallenge(app.sk, { phone: PHONES.fr2, purpose: "login" }, { "Idempotency-Key": keyB });
    expect(replay.status).toBe(201);
    expect(replay.body).toMatchObject({ id: b.id, code: b.code });

    // Each code verifies its own challenge only.
    expect(await sms(app, PHONES.fr2, b.code)).toBe("verified");
    expect([(await read(a)).status, (await read(b)).status]).toEqual(["pending", "verified"]);
  });
});

describe("object-level authorisation", () => {
  test("reads and cancels without the owner's secret key or the poll token all answer the same 404, and change nothing", async () => {
    const owner = await h.createApp();
    const stranger = await h.createApp();
    const c = await createChallenge(owner, PHONES.fr);
    const get = (id: string) => h.http().get(`/v1/challenges/${id}`);
    const cancel = (id: string) => h.http().post(`/v1/challenges/${id}/cancel`);

    const attempts: [string, () => Promise<Response>][] = [];
    for (const [verb, call] of [
      ["GET", get],
      ["cancel", cancel],
    ] as const) {
      attempts.push(
        [`${verb} with another app's secret key`, () => call(c.id).set("Authorization", `Bearer ${stranger.sk}`)],
        [`${verb} with another app's publishable key and a wrong poll token`, () => call(c.id).set("Authorization", `Bearer ${stranger.pk}`).set("X-Poll-Token", randomId("pt", 43))],
        [`${verb} with a wrong poll token`, () => call(c.id).set("X-Poll-Token", randomId("pt", 43))],
        [`${verb} with the poll token of another challenge`, async () => call(c.id).set("X-Poll-Token", (await createChallenge(owner, PHONES.de)).pollToken)],
        [`${verb} with no credentials`, () => call(c.id)],
        [`${verb} of an unknown id with the owner's secret key`, () => call(randomId("chl")).set("Authorization", `Bearer ${owner.sk}`)],
        [`${verb} of a malformed id with the owner's secret key`, () => call("chl_nope").set("Authorization", `Bearer ${owner.sk}`)],
      );
    }
    attempts.push([
      "consume with another app's secret key",
      () => h.http().post(`/v1/challenges/${c.id}/consume`).set("Authorization", `Bearer ${stranger.sk}`),
    ]);

    const bodies: Record<string, unknown> = {};
    for (const [label, send] of attempts) {
      const res = await send();
      expect({ label, status: res.status }).toEqual({ label, status: 404 });
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      const { requestId, ...rest } = res.body as Record<string, unknown>;
      expect(typeof requestId).toBe("string");
      bodies[label] = rest;
    }
    const reference = Object.values(bodies)[0];
    expect(reference).toMatchObject({ status: 404, code: "NOT_FOUND" });
    for (const [label, body] of Object.entries(bodies)) expect({ label, body }).toEqual({ label, body: reference });

    expect((await read(c)).status).toBe("pending");
  });

  test("a publishable key without a poll token is told it needs one, in the same words for its own, foreign and unknown ids", async () => {
    const owner = await h.createApp();
    const stranger = await h.createApp();
    const own = await createChallenge(owner, PHONES.fr);
    const foreign = await createChallenge(stranger, PHONES.de);
    const bodies = new Set<string>();
    for (const id of [own.id, foreign.id, randomId("chl"), "chl_nope"]) {
      for (const call of [
        () => h.http().get(`/v1/challenges/${id}`),
        () => h.http().get(`/v1/challenges/${id}?waitSeconds=1`),
        () => h.http().get(`/v1/challenges/${id}/events`),
        () => h.http().post(`/v1/challenges/${id}/cancel`),
      ]) {
        const res = await call().set("Authorization", `Bearer ${owner.pk}`);
        expect(res.status).toBe(403);
        const { requestId: _requestId, ...rest } = res.body as Record<string, unknown>;
        bodies.add(JSON.stringify(rest));
      }
    }
    expect(bodies.size).toBe(1);
    expect(JSON.parse([...bodies][0]!)).toMatchObject({
      code: "FORBIDDEN",
      reason: "POLL_TOKEN_REQUIRED",
      detail: expect.stringContaining("X-Poll-Token"),
    });
    expect((await read(own)).status).toBe("pending");
    // With the poll token it reads.
    expect((await h.http().get(`/v1/challenges/${own.id}`).set("Authorization", `Bearer ${owner.pk}`).set("X-Poll-Token", own.pollToken)).status).toBe(200);
  });

  test("50 random unknown ids all answer 404 with identical bodies", async () => {
    const app = await h.createApp();
    const bodies = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const res = await h.http().get(`/v1/challenges/${randomId("chl")}`).set("Authorization", `Bearer ${app.sk}`);
      expect(res.status).toBe(404);
      const { requestId: _requestId, ...rest } = res.body as Record<string, unknown>;
      bodies.add(JSON.stringify(rest));
    }
    expect(bodies.size).toBe(1);
  });
});
