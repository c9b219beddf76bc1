// Rate limits at limit−1, limit and limit+1, kept in PostgreSQL so they hold across a restart.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createLogger } from "../../src/http/logger.js";
import { openPostgres } from "../../src/db/database.js";
import { createRuntime } from "../../src/runtime.js";
import request from "supertest";
import { onPostgres } from "../support/database.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    env: { RATE_LIMIT_PHONE_PER_HOUR: "4", RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE: "5", RATE_LIMIT_SECRET_KEY_PER_MINUTE: "8" },
  });
});
afterAll(async () => {
  await h.close();
});

const phoneOf = (i: number) => `+336${String(10_000_000 + i).slice(-8)}`;

describe("per phone per hour", () => {
  test("the limit allows limit challenges for one phone and refuses the next with 429 and Retry-After", async () => {
    const app = await h.createApp();
    const phone = PHONES.de;
    for (let i = 0; i < 4; i++) {
      const res = await h.createChallenge(app.sk, { phone, purpose: "login" });
      expect(res.status).toBe(201);
      // Keep the pending limit (3) out of the way: cancel each one (with its poll token, so the
      // secret key's own limit is not what this test hits).
      await h.http().post(`/v1/challenges/${res.body.id}/cancel`).set("X-Poll-Token", res.body.pollToken);
    }
    const refused = await h.createChallenge(app.sk, { phone, purpose: "login" });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: "RATE_LIMITED", reason: "phone" });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(3500);
    // Another phone, and the same phone at another app, are not affected.
    expect((await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" })).status).toBe(201);
    const otherApp = await h.createApp();
    expect((await h.createChallenge(otherApp.sk, { phone, purpose: "login" })).status).toBe(201);
  });

  test("an app's own phone limit overrides the default", async () => {
    const app = await h.createApp({ rateLimitPhonePerHour: 1 });
    expect((await h.createChallenge(app.sk, { phone: PHONES.gb, purpose: "login" })).status).toBe(201);
    expect((await h.createChallenge(app.sk, { phone: PHONES.gb, purpose: "login" })).status).toBe(429);
  });
});

describe("per key", () => {
  test("a publishable key and client IP may create limit challenges a minute, then 429", async () => {
    const app = await h.createApp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await h.createChallenge(app.pk, { phone: phoneOf(i), purpose: "signup" })).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
    // Without a trusted proxy configured, X-Forwarded-For is not the client IP: spoofing it does not help.
    const spoofed = await h.createChallenge(app.pk, { phone: phoneOf(7), purpose: "signup" }, { "X-Forwarded-For": "203.0.113.9" });
    expect(spoofed.status).toBe(429);
    // Reads with the poll token are not limited by it.
    const c = (await h.createChallenge(app.sk, { phone: phoneOf(50), purpose: "signup" })).body;
    for (let i = 0; i < 6; i++) {
      expect((await h.http().get(`/v1/challenges/${c.id}`).set("Authorization", `Bearer ${app.pk}`).set("X-Poll-Token", c.pollToken)).status).toBe(200);
    }
  });

  test("a secret key may make limit requests a minute, then 429 with Retry-After", async () => {
    const app = await h.createApp();
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) {
      statuses.push((await h.http().get("/v1/challenges/chl_0000000000000000000000").set("Authorization", `Bearer ${app.sk}`)).status);
    }
    expect(statuses).toEqual([404, 404, 404, 404, 404, 404, 404, 404, 429]);
    const refused = await h.http().get("/v1/challenges/chl_0000000000000000000000").set("Authorization", `Bearer ${app.sk}`);
    expect(refused.body).toMatchObject({ code: "RATE_LIMITED", reason: "secret_key" });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers["retry-after"])).toBeLessThanOrEqual(60);
  });

  test("limits hold across a restart of the service (they live in the database)", async () => {
    const app = await h.createApp();
    for (let i = 0; i < 5; i++) expect((await h.createChallenge(app.pk, { phone: phoneOf(100 + i), purpose: "login" })).status).toBe(201);
    // A new runtime on the same database: a restarted instance.
    const database = onPostgres
      ? openPostgres({ url: h.db.url!, poolSize: 2, connectTimeoutMs: 5000, statementTimeoutMs: 10_000 })
      : h.db.database;
    const restarted = await createRuntime(h.config, { logger: createLogger("silent"), database });
    try {
      const res = await request(restarted.buildHttpApp())
        .post("/v1/challenges")
        .set("Authorization", `Bearer ${app.pk}`)
        .send({ phone: phoneOf(200), purpose: "login" });
      expect(res.status).toBe(429);
    } finally {
      if (onPostgres) await restarted.close();
    }
  });

  (onPostgres ? test : test.skip)("two instances share a limit: limit − 1 on one, the limit on the other, limit + 1 refused on both", async () => {
    const app = await h.createApp();
    const other = await h.startInstance();
    const read = (http: typeof h.http) => http().get("/v1/challenges/chl_0000000000000000000000").set("Authorization", `Bearer ${app.sk}`);
    try {
      for (let i = 0; i < 7; i++) expect((await read(h.http)).status).toBe(404);
      expect((await read(other.http)).status).toBe(404);
      expect((await read(other.http)).status).toBe(429);
      expect((await read(h.http)).status).toBe(429);
    } finally {
      await other.close();
    }
  });

  (onPostgres ? test : test.skip)("a limit counted locally in batches (200 a minute) holds across a restart: an instance that stops writes its counts", async () => {
    const app = await h.createApp({ rateLimitSecretKeyPerMinute: 200 });
    const read = (http: typeof h.http) => http().get("/v1/challenges/chl_0000000000000000000000").set("Authorization", `Bearer ${app.sk}`);
    const first = await h.startInstance();
    for (let i = 0; i < 150; i++) expect((await read(first.http)).status).toBe(404);
    await first.close();
    const restarted = await h.startInstance();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 51; i++) statuses.push((await read(restarted.http)).status);
      // limit − 1, limit, limit + 1: the 199th and 200th requests pass, the 201st is refused.
      expect(statuses.slice(0, 50).every((s) => s === 404)).toBe(true);
      expect(statuses[50]).toBe(429);
    } finally {
      await restarted.close();
    }
  });
});

describe("the client behind a publishable key's limit: IPv4 per address, IPv6 per /64", () => {
  // Client addresses come from X-Forwarded-For, as behind a trusted proxy (TRUST_PROXY=true).
  let proxied: Harness;
  beforeAll(async () => {
    proxied = await startHarness({ env: { TRUST_PROXY: "true", RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE: "5" } });
  });
  afterAll(async () => {
    await proxied.close();
  });
  const createFrom = (pk: string, ip: string, i: number) =>
    proxied.createChallenge(pk, { phone: phoneOf(1000 + i), purpose: "signup" }, { "X-Forwarded-For": ip });

  test("an IPv6 client that rotates its address inside its /64 shares one limit; another /64 has its own", async () => {
    const app = await proxied.createApp();
    const statuses: number[] = [];
    // Six different interface identifiers in 2001:db8:a:b::/64, spelled in several ways.
    const addresses = ["2001:db8:a:b::1", "2001:db8:a:b:1:2:3:4", "2001:DB8:A:B:FFFF::9", "2001:0db8:000a:000b::77", "2001:db8:a:b:dead:beef:0:1", "2001:db8:a:b::2"];
    for (const [i, ip] of addresses.entries()) statuses.push((await createFrom(app.pk, ip, i)).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
    const refused = await createFrom(app.pk, "2001:db8:a:b::3", 10);
    expect(refused.body).toMatchObject({ code: "RATE_LIMITED", reason: "publishable_key" });
    // The neighbouring /64 is another client.
    expect((await createFrom(app.pk, "2001:db8:a:c::1", 11)).status).toBe(201);
  });

  test("IPv4 clients are counted per address, whether written as IPv4 or IPv4-mapped IPv6", async () => {
    const app = await proxied.createApp();
    for (let i = 0; i < 5; i++) expect((await createFrom(app.pk, "198.51.100.7", 20 + i)).status).toBe(201);
    expect((await createFrom(app.pk, "::ffff:198.51.100.7", 30)).status).toBe(429);
    // The next address is another client.
    expect((await createFrom(app.pk, "198.51.100.8", 31)).status).toBe(201);
  });
});
