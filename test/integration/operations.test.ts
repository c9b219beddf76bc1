// Running it for real: health, readiness, metrics, deadlines, expiry sweeping, retention, shutdown.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import pg from "pg";
import { fixedClock } from "../../src/shared/clock.js";
import { onPostgres } from "../support/database.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";
import { until } from "../support/wait.js";

const METRICS_TOKEN = "metrics-token-0123456789abcdef";
const clock = fixedClock("2026-03-01T10:00:00.000Z");
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock, env: { METRICS_TOKEN, REQUEST_TIMEOUT_MS: "1000" } });
});
afterAll(async () => {
  await h.close();
});


describe("health and readiness", () => {
  test("/healthz and /readyz answer 200 when the database is there and migrated", async () => {
    expect((await h.http().get("/healthz")).body).toEqual({ status: "ok" });
    const ready = await h.http().get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: "ready" });
  });
});

describe("/metrics", () => {
  test("needs the metrics token when one is configured", async () => {
    expect((await h.http().get("/metrics")).status).toBe(401);
    expect((await h.http().get("/metrics").set("Authorization", "Bearer wrong")).status).toBe(401);
    expect((await h.http().get("/metrics").set("Authorization", `Bearer ${METRICS_TOKEN}`)).status).toBe(200);
  });

  test("counts requests, challenges, inbound outcomes and webhook rejections, without numbers or ids in labels", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" })).body;
    await h.sendSms({ from: PHONES.fr, to: app.number, text: c.code });
    await h.http().post("/v1/inbound/generic").set("content-type", "application/json").send("{}");
    const text = (await h.http().get("/metrics").set("Authorization", `Bearer ${METRICS_TOKEN}`)).text;
    expect(text).toMatch(/reverse_otp_challenges_created_total\{purpose="login"\} [1-9]/);
    expect(text).toMatch(/reverse_otp_inbound_messages_total\{provider="generic",outcome="verified"\} [1-9]/);
    expect(text).toMatch(/reverse_otp_webhook_rejections_total\{provider="generic",reason="WEBHOOK_SIGNATURE_MISSING"\} [1-9]/);
    expect(text).toMatch(/reverse_otp_http_requests_total\{method="POST",route="\/v1\/challenges\/",status="201"\} [1-9]/);
    expect(text).toMatch(/reverse_otp_http_request_duration_seconds_bucket/);
    expect(text).toMatch(/reverse_otp_waiters 0/);
    expect(text).toMatch(/reverse_otp_callback_queue_depth 0/);
    expect(text).not.toContain(c.id);
    expect(text).not.toContain("33612345678");
  });
});

describe("expiry sweeping and retention", () => {
  test("the sweep moves overdue pending challenges to expired (and wakes their waiters)", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.sk, { phone: PHONES.de, purpose: "login" })).body;
    clock.set(new Date(Date.parse(c.expiresAt) + 1000));
    try {
      expect(await h.runtime.maintenance.sweep()).toBeGreaterThanOrEqual(1);
      const [row] = await h.db.query<{ status: string }>(`SELECT status::text FROM challenges WHERE id = $1`, [c.id]);
      expect(row?.status).toBe("expired");
    } finally {
      clock.set("2026-03-01T10:00:00.000Z");
    }
  });

  test("the purge removes challenges after 30 days and dedup rows after the inbound retention, not before", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.sk, { phone: PHONES.gb, purpose: "signup" })).body;
    await h.sendSms({ from: PHONES.gb, to: app.number, text: c.code, messageId: `keep-${c.id}` });
    const count = async () => {
      const [row] = await h.db.query<{ c: number; m: number }>(
        `SELECT (SELECT count(*)::int FROM challenges WHERE id = $1) AS c,
                (SELECT count(*)::int FROM inbound_messages WHERE provider_message_id = $2) AS m`,
        [c.id, `keep-${c.id}`],
      );
      return row;
    };
    // Rows are stamped with the service's clock.
    const now = clock.now();
    clock.set(new Date(now.getTime() + 29 * 24 * 3600_000));
    try {
      await h.runtime.maintenance.purge();
      expect(await count()).toEqual({ c: 1, m: 1 });
      clock.set(new Date(now.getTime() + 31 * 24 * 3600_000));
      const purged = await h.runtime.maintenance.purge();
      expect(purged.challenges).toBeGreaterThanOrEqual(1);
      expect(await count()).toEqual({ c: 0, m: 0 });
    } finally {
      clock.set("2026-03-01T10:00:00.000Z");
    }
  });
});

describe("shutdown", () => {
  test("on shutdown a waiting long-poll answers at once with the current state", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.pk, { phone: PHONES.fr2, purpose: "login" })).body;
    const waiting = h.http().get(`/v1/challenges/${c.id}?waitSeconds=30`).set("X-Poll-Token", c.pollToken).then((r) => r);
    await until(() => h.runtime.bus.waiterCount() === 1, "the long-poll to subscribe");
    h.runtime.beginShutdown();
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("pending");
  });
});

const withPostgres = onPostgres ? describe : describe.skip;
withPostgres("deadlines (PostgreSQL)", () => {
  test("a webhook whose database work hangs is answered 503 with Retry-After by the deadline, and succeeds on retry", async () => {
    const fresh = await startHarness({ env: { REQUEST_TIMEOUT_MS: "1000" }, testDatabase: undefined });
    const blocker = new pg.Client({ connectionString: fresh.db.url });
    await blocker.connect();
    try {
      const app = await fresh.createApp();
      // The 1 s deadline also applies to this creation: on a busy machine a cold first request can
      // pass it, so retry a 503 as a real client does (the deadline on the webhook is what is tested).
      let created = await fresh.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" });
      for (let i = 0; i < 10 && created.status === 503; i++) created = await fresh.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" });
      expect(created.status).toBe(201);
      const c = created.body;
      // Another session holds the table: the webhook's insert waits (like a frozen server would make it).
      await blocker.query("BEGIN");
      await blocker.query("LOCK TABLE inbound_messages IN ACCESS EXCLUSIVE MODE");
      const messageId = `deadline-${c.id}`;
      const hung = await fresh.sendSms({ from: PHONES.fr, to: app.number, text: c.code, messageId });
      expect(hung.status).toBe(503);
      expect(hung.headers["retry-after"]).toBe("5");
      expect(hung.body.code).toBe("SERVICE_UNAVAILABLE");
      await blocker.query("ROLLBACK");
      // The provider retries the same message: it is processed exactly once.
      const retried = await fresh.sendSms({ from: PHONES.fr, to: app.number, text: c.code, messageId });
      expect(retried.status).toBe(200);
      expect(["verified", "duplicate"]).toContain(retried.body.results[0].outcome);
      const status = await fresh.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
      expect(status.body.status).toBe("verified");
      const [row] = await fresh.db.query<{ n: number }>("SELECT count(*)::int AS n FROM inbound_messages WHERE provider_message_id = $1", [messageId]);
      expect(row?.n).toBe(1);
    } finally {
      await blocker.end().catch(() => undefined);
      await fresh.close();
    }
  });
});
if (!onPostgres) test.skip("deadline tests need a second PostgreSQL connection (DATABASE_URL): skipped on embedded PGlite", () => undefined);
