// Idempotency keys belong to the API key that used them, and nothing stored for them (or for the
// rate limits) can be reversed with an unkeyed hash: a database dump does not give back a phone,
// and one app key cannot replay another's request.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { writeFigureWhenReporting } from "../security/report-support.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";

let h: Harness;
const figure = { fingerprintCandidatesTried: 0, fingerprintsRecovered: 0, limiterKeysChecked: 0, limiterKeysRecovered: 0 };
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  writeFigureWhenReporting("11-keyed-digests", figure);
  await h.close();
});

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

describe("Idempotency-Key is scoped to the API key that sent it", () => {
  test("the secret key's Idempotency-Key replayed with the same app's publishable key creates a new challenge: no code, no poll token, no cancel of the first", async () => {
    const app = await h.createApp();
    const body = { phone: PHONES.fr, purpose: "login" };
    const headers = { "Idempotency-Key": "order-1001" };
    const first = await h.createChallenge(app.sk, body, headers);
    expect(first.status).toBe(201);

    // The same key and body from the app's backend again: the same answer (a retry).
    const retried = await h.createChallenge(app.sk, body, headers);
    expect(retried.status).toBe(201);
    expect(retried.headers["idempotent-replayed"]).toBe("true");
    expect(retried.body).toMatchObject({ id: first.body.id, code: first.body.code, pollToken: first.body.pollToken });

    // From the publishable key (shipped in the mobile app, so anyone's): not a replay.
    const fromPk = await h.createChallenge(app.pk, body, headers);
    expect(fromPk.status).toBe(201);
    expect(fromPk.headers["idempotent-replayed"]).toBeUndefined();
    expect(fromPk.body.id).not.toBe(first.body.id);
    expect(fromPk.body.pollToken).not.toBe(first.body.pollToken);
    expect(fromPk.body.code).not.toBe(first.body.code);

    // Its poll token cancels its own challenge only; the backend's stays pending.
    expect((await h.http().post(`/v1/challenges/${first.body.id}/cancel`).set("X-Poll-Token", fromPk.body.pollToken)).status).toBe(404);
    expect((await h.http().post(`/v1/challenges/${fromPk.body.id}/cancel`).set("X-Poll-Token", fromPk.body.pollToken)).status).toBe(200);
    const status = await h.http().get(`/v1/challenges/${first.body.id}`).set("Authorization", `Bearer ${app.sk}`);
    expect(status.body.status).toBe("pending");

    // The publishable key's own retry is a replay of its own challenge.
    const pkRetry = await h.createChallenge(app.pk, body, headers);
    expect(pkRetry.headers["idempotent-replayed"]).toBe("true");
    expect(pkRetry.body.id).toBe(fromPk.body.id);
  });

  test("the same Idempotency-Key at two apps gives two challenges", async () => {
    const a = await h.createApp();
    const b = await h.createApp();
    const headers = { "Idempotency-Key": "same-key-at-two-apps" };
    const atA = await h.createChallenge(a.sk, { phone: PHONES.de, purpose: "login" }, headers);
    const atB = await h.createChallenge(b.sk, { phone: PHONES.de, purpose: "login" }, headers);
    expect(atA.status).toBe(201);
    expect(atB.status).toBe(201);
    expect(atB.body.id).not.toBe(atA.body.id);
    expect(atB.headers["idempotent-replayed"]).toBeUndefined();
  });
});

describe("nothing in a dump that an unkeyed hash gives back", () => {
  test("request fingerprints and idempotency keys: a dictionary of candidate phones finds none of them", async () => {
    const app = await h.createApp();
    const phone = "+33645678912";
    const context = { description: "Sign in on the web" };
    const res = await h.createChallenge(app.sk, { phone, purpose: "login", context, locale: "fr" }, { "Idempotency-Key": "idem-+33645678912" });
    expect(res.status).toBe(201);
    const [row] = await h.db.query<{ request_fingerprint: string; idempotency_key: string }>(
      `SELECT request_fingerprint, idempotency_key FROM challenges WHERE id = $1`,
      [res.body.id],
    );
    expect(row!.request_fingerprint).toEqual(expect.any(String));
    // What the security review did: try every candidate number with the unkeyed construction
    // sha256(JSON([e164, purpose, context, locale])) — here 20,000 candidates around the real one.
    const base = 645_670_000;
    let found = 0;
    for (let n = base; n < base + 20_000; n++) {
      const candidate = `+33${n}`;
      for (const form of [
        JSON.stringify([candidate, "login", context, "fr"]),
        JSON.stringify([candidate, "login", context, null]),
        JSON.stringify([candidate, "login", null, "fr"]),
      ]) {
        figure.fingerprintCandidatesTried++;
        if (sha256Hex(form) === row!.request_fingerprint) found++;
      }
    }
    figure.fingerprintsRecovered += found;
    expect(found).toBe(0);
    // The idempotency key (which a client may build from a phone or a user id) is not its plain hash either.
    for (const form of ["idem:idem-+33645678912", "idem-+33645678912"]) expect(row!.idempotency_key).not.toBe(sha256Hex(form));
    // Every stored digest is a keyed one: recomputing it needs HASH_KEY.
    expect(row!.request_fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.idempotency_key).toMatch(/^[0-9a-f]{64}$/);
  });

  test("rate-limit keys are not the unkeyed digest of key id and client address", async () => {
    const app = await h.createApp();
    expect((await h.createChallenge(app.pk, { phone: PHONES.gb, purpose: "signup" })).status).toBe(201);
    const [key] = await h.db.query<{ id: string }>(`SELECT id FROM api_keys WHERE app_id = $1 AND kind = 'publishable'`, [app.appId]);
    const stored = (await h.db.query<{ key: string }>(`SELECT key FROM rate_limits`)).map((r) => r.key);
    expect(stored.length).toBeGreaterThan(0);
    // Every spelling of the test client's address (supertest connects over loopback).
    const addresses = ["127.0.0.1", "::ffff:127.0.0.1", "::1", "unknown"];
    const unkeyed = addresses.map((ip) => sha256Hex(`${key!.id}|${ip}`).slice(0, 32));
    figure.limiterKeysChecked += stored.length;
    figure.limiterKeysRecovered += stored.filter((k) => unkeyed.some((digest) => k.includes(digest))).length;
    for (const digest of unkeyed) expect(stored.some((k) => k.includes(digest))).toBe(false);
    // And no stored key holds an address or a key id in clear.
    for (const k of stored) {
      expect(k).not.toContain(key!.id);
      expect(k).not.toMatch(/127\.0\.0\.1|::1/);
    }
  });
});
