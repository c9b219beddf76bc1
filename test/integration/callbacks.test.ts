// Signed callbacks from the transactional outbox: every final status of a challenge of an app with a
// callback URL is POSTed to a local receiver, signed per Standard Webhooks (checked with the
// official `standardwebhooks` library), with the GET JSON as `data`; retried with the same
// webhook-id; sent by whichever instance is running, once per event.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Webhook } from "standardwebhooks";
import { createAppRepository } from "../../src/apps/app-repository.js";
import { createAppService } from "../../src/apps/app-service.js";
import { createCallbackDispatcher, type CallbackDispatcherDeps } from "../../src/callbacks/callback-dispatcher.js";
import { OUTBOX_CHANNEL } from "../../src/challenges/challenge-notices.js";
import { createCallbackRepository } from "../../src/callbacks/callback-repository.js";
import { createChallengeRepository } from "../../src/challenges/challenge-repository.js";
import { toChallengeView } from "../../src/challenges/challenge-view.js";
import { openPostgres } from "../../src/db/database.js";
import { createLogger } from "../../src/http/logger.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { fixedClock, systemClock } from "../../src/shared/clock.js";
import { AppError } from "../../src/shared/errors.js";
import { onPostgres } from "../support/database.js";
import { startHarness, type Harness, TEST_HASH_KEY } from "../support/harness.js";
import { until } from "../support/wait.js";
import { createSealer } from "../../src/shared/crypto.js";

/** The service seals callback secrets at rest; repositories built here use the same sealer. */
const secretSealer = createSealer([TEST_HASH_KEY], "callback-secret");

type Received = { id: string; headers: Record<string, string>; raw: string; body: { type: string; data: Record<string, unknown> } };

let h: Harness;
let server: http.Server;
let hookUrl: string;
const received: Received[] = [];
/** Status the receiver answers for a challenge id (default 204), e.g. to fail its first delivery. */
const answerFor = new Map<string, () => number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (raw += chunk));
    req.on("end", () => {
      const body = JSON.parse(raw) as Received["body"];
      received.push({ id: String(req.headers["webhook-id"]), headers: req.headers as Record<string, string>, raw, body });
      res.writeHead(answerFor.get(String(body.data.id))?.() ?? 204).end();
    });
  });
  server.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  h = await startHarness({ env: { CALLBACKS_ALLOW_PRIVATE_NETWORKS: "true" } });
});
afterAll(async () => {
  await h.runtime.callbacks.stop();
  await h.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});


let numberCounter = 0;
let phoneCounter = 0;
/** Virtual numbers of this file (+44 7400 001xxx: apart from the harness's +44 7400 000xxx). */
const nextNumber = () => `+447400001${String(100 + numberCounter++).padStart(3, "0")}`;
/** A fresh French mobile number per challenge, so no per-phone limit is reached. */
const nextPhone = () => `+336120${String(10_000 + phoneCounter++).padStart(5, "0")}`;

async function createCallbackApp(options: { maxAttempts?: number; codeTtlSeconds?: number } = {}) {
  const created = await h.runtime.apps.create({ name: "Hooked", numbers: [{ number: nextNumber() }], callbackUrl: hookUrl, ...options });
  expect(created.callbackSecret).toMatch(/^whsec_/);
  return { appId: created.app.id, number: created.app.numbers[0]!.e164, sk: created.secretKey, secret: created.callbackSecret! };
}

async function createChallenge(sk: string) {
  const phone = nextPhone();
  const res = await h.createChallenge(sk, { phone, purpose: "login" });
  expect(res.status).toBe(201);
  return { ...(res.body as { id: string; code: string; smsBody: string; pollToken: string }), phone };
}

const getJson = async (id: string, sk: string) => (await h.http().get(`/v1/challenges/${id}`).set("Authorization", `Bearer ${sk}`)).body;

/** toChallengeView of the stored row, as the service computes it. */
async function viewOf(id: string) {
  const row = await createChallengeRepository(h.runtime.database.prisma).findById(id);
  return toChallengeView(row!, new Date());
}

const deliveriesOf = (challengeId: string) => received.filter((r) => r.body.data.id === challengeId);

type EventRow = {
  id: string;
  type: string;
  attempts: number;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  gave_up_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  payload: { type: string; data: Record<string, unknown> };
};
const eventsOf = (challengeId: string) =>
  h.db.query<EventRow>(
    `SELECT id, type, attempts, next_attempt_at, delivered_at, gave_up_at, last_status, last_error, payload
       FROM callback_events WHERE challenge_id = $1 ORDER BY created_at`,
    [challengeId],
  );

/** A dispatcher of its own on the test database (e.g. with a fixed clock), as another sender would be. */
const dispatcherWith = (deps: Partial<CallbackDispatcherDeps> = {}) =>
  createCallbackDispatcher({
    repository: createCallbackRepository(h.runtime.database.prisma, { secretSealer }),
    clock: systemClock,
    logger: createLogger("silent"),
    allowPrivateNetworks: true,
    fetchTimeoutMs: 5000,
    ...deps,
  });

/** Checks the signature with the official library and the app's callback secret; returns the body. */
function verified(delivery: Received, secret: string) {
  return new Webhook(secret).verify(delivery.raw, {
    "webhook-id": delivery.headers["webhook-id"]!,
    "webhook-timestamp": delivery.headers["webhook-timestamp"]!,
    "webhook-signature": delivery.headers["webhook-signature"]!,
  });
}

const wrongCodeFor = (code: string) => (code === "111111" ? "222222" : "111111");

describe("one signed callback per final status", () => {
  test("a challenge verified by SMS sends exactly one signed challenge.verified with the GET JSON as data", async () => {
    const app = await createCallbackApp();
    const c = await createChallenge(app.sk);
    // One wrong code first, so attemptsRemaining is not the default.
    expect((await h.sendSms({ from: c.phone, to: app.number, text: wrongCodeFor(c.code) })).body.results[0].outcome).toBe("wrong_code");
    expect((await h.sendSms({ from: c.phone, to: app.number, text: c.smsBody })).body.results[0].outcome).toBe("verified");

    await h.runtime.callbacks.runOnce();
    const deliveries = deliveriesOf(c.id);
    expect(deliveries).toHaveLength(1);
    const delivery = deliveries[0]!;
    const get = await getJson(c.id, app.sk);
    expect(get.attemptsRemaining).toBe(4);
    expect(verified(delivery, app.secret)).toEqual({ type: "challenge.verified", data: get });
    expect(delivery.raw).toBe(JSON.stringify({ type: "challenge.verified", data: get }));
    expect(delivery.headers).toMatchObject({ "content-type": "application/json", "user-agent": "reverse-otp" });

    const [event] = await eventsOf(c.id);
    expect(event!.payload).toEqual({ type: "challenge.verified", data: await viewOf(c.id) });
    expect(delivery.id).toBe(event!.id);
    expect(event!.id).toMatch(/^evt_[0-9a-f]{64}$/);
    expect(event).toMatchObject({ type: "challenge.verified", attempts: 1, last_status: 204, next_attempt_at: null, gave_up_at: null });
    expect(event!.delivered_at).toBeInstanceOf(Date);

    // Delivered is delivered: later rounds send nothing more.
    await h.runtime.callbacks.runOnce();
    expect(deliveriesOf(c.id)).toHaveLength(1);
  });

  test("a cancelled challenge sends challenge.cancelled, built in SQL exactly like the GET view", async () => {
    const app = await createCallbackApp();
    const c = await createChallenge(app.sk);
    expect((await h.http().post(`/v1/challenges/${c.id}/cancel`).set("Authorization", `Bearer ${app.sk}`)).status).toBe(200);

    const [event] = await eventsOf(c.id);
    expect(event!.payload).toEqual({ type: "challenge.cancelled", data: await viewOf(c.id) });

    await h.runtime.callbacks.runOnce();
    const deliveries = deliveriesOf(c.id);
    expect(deliveries).toHaveLength(1);
    expect(verified(deliveries[0]!, app.secret)).toEqual({ type: "challenge.cancelled", data: await getJson(c.id, app.sk) });
  });

  test("a challenge failed by wrong codes up to the limit sends challenge.failed with no attempts remaining", async () => {
    const app = await createCallbackApp({ maxAttempts: 2 });
    const c = await createChallenge(app.sk);
    for (let i = 0; i < 2; i++) {
      expect((await h.sendSms({ from: c.phone, to: app.number, text: wrongCodeFor(c.code) })).body.results[0].outcome).toBe("wrong_code");
    }
    const [event] = await eventsOf(c.id);
    expect(event!.payload).toEqual({ type: "challenge.failed", data: await viewOf(c.id) });
    expect(event!.payload.data).toMatchObject({ status: "failed", attemptsRemaining: 0 });

    await h.runtime.callbacks.runOnce();
    const deliveries = deliveriesOf(c.id);
    expect(deliveries).toHaveLength(1);
    expect(verified(deliveries[0]!, app.secret)).toEqual({ type: "challenge.failed", data: await getJson(c.id, app.sk) });
  });

  test("a challenge left to expire is stored as expired by the expiry sweep and sends challenge.expired", async () => {
    const app = await createCallbackApp({ codeTtlSeconds: 60 });
    const c = await createChallenge(app.sk);
    const get = await getJson(c.id, app.sk);
    // The sweep and a sender whose clocks are one second past the expiry (no real waiting).
    const later = fixedClock(new Date(new Date(get.expiresAt).getTime() + 1000));
    expect(await h.runtime.challenges.expireOverdue(later.now())).toBeGreaterThanOrEqual(1);
    await dispatcherWith({ clock: later }).runOnce();

    const [event] = await eventsOf(c.id);
    expect(event!.payload).toEqual({ type: "challenge.expired", data: await viewOf(c.id) });
    const deliveries = deliveriesOf(c.id);
    expect(deliveries).toHaveLength(1);
    const body = verified(deliveries[0]!, app.secret) as Received["body"];
    expect(body).toEqual({ type: "challenge.expired", data: await getJson(c.id, app.sk) });
    expect(body.data).toMatchObject({ status: "expired", verifiedAt: null, consumedAt: null });
  });

  test("an app without a callback URL gets no outbox rows", async () => {
    const plain = await h.createApp();
    const phone = nextPhone();
    const verifiedOne = (await h.createChallenge(plain.sk, { phone, purpose: "login" })).body;
    await h.sendSms({ from: phone, to: plain.number, text: verifiedOne.smsBody });
    const cancelled = (await h.createChallenge(plain.sk, { phone: nextPhone(), purpose: "signup" })).body;
    await h.http().post(`/v1/challenges/${cancelled.id}/cancel`).set("Authorization", `Bearer ${plain.sk}`);
    expect((await getJson(verifiedOne.id, plain.sk)).status).toBe("verified");
    const [row] = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM callback_events WHERE app_id = $1`, [plain.appId]);
    expect(row!.n).toBe(0);
  });
});

describe("retries", () => {
  test("a receiver that fails the first time gets the same event again on the schedule, with the same webhook-id and body", async () => {
    const app = await createCallbackApp();
    const c = await createChallenge(app.sk);
    let calls = 0;
    answerFor.set(c.id, () => (++calls === 1 ? 500 : 200));
    await h.http().post(`/v1/challenges/${c.id}/cancel`).set("Authorization", `Bearer ${app.sk}`);
    const clock = fixedClock(new Date());
    const dispatcher = dispatcherWith({ clock });

    await dispatcher.runOnce();
    expect(deliveriesOf(c.id)).toHaveLength(1);
    let [event] = await eventsOf(c.id);
    expect(event).toMatchObject({ attempts: 1, last_status: 500, last_error: "HTTP 500", delivered_at: null, gave_up_at: null });
    expect(event!.next_attempt_at!.getTime()).toBe(clock.now().getTime() + 10_000);

    // Not due yet: nothing is sent.
    clock.advance(9_999);
    await dispatcher.runOnce();
    expect(deliveriesOf(c.id)).toHaveLength(1);

    clock.advance(1);
    await dispatcher.runOnce();
    const [first, second] = deliveriesOf(c.id);
    expect(deliveriesOf(c.id)).toHaveLength(2);
    expect(second!.id).toBe(first!.id);
    expect(second!.raw).toBe(first!.raw);
    expect(Number(second!.headers["webhook-timestamp"])).toBe(Number(first!.headers["webhook-timestamp"]) + 10);
    expect(verified(second!, app.secret)).toEqual({ type: "challenge.cancelled", data: await getJson(c.id, app.sk) });
    [event] = await eventsOf(c.id);
    expect(event).toMatchObject({ attempts: 2, last_status: 200, last_error: null, next_attempt_at: null });
    expect(event!.delivered_at).toBeInstanceOf(Date);
  });

  test("after the last attempt of the schedule the event is given up and not sent again", async () => {
    const app = await createCallbackApp();
    const c = await createChallenge(app.sk);
    answerFor.set(c.id, () => 503);
    await h.http().post(`/v1/challenges/${c.id}/cancel`).set("Authorization", `Bearer ${app.sk}`);
    const clock = fixedClock(new Date());
    const reports: string[] = [];
    const dispatcher = dispatcherWith({ clock, schedule: [1], onDelivery: (r) => reports.push(r.outcome) });

    await dispatcher.runOnce();
    clock.advance(1000);
    await dispatcher.runOnce();
    clock.advance(30_000);
    await dispatcher.runOnce();

    expect(deliveriesOf(c.id)).toHaveLength(2);
    expect(reports).toEqual(["retry", "gave_up"]);
    const [event] = await eventsOf(c.id);
    expect(event).toMatchObject({ attempts: 2, last_status: 503, last_error: "HTTP 503", next_attempt_at: null, delivered_at: null });
    expect(event!.gave_up_at).toBeInstanceOf(Date);
  });

  test("an event claimed by a sender that crashed is sent by another sender once the lease has run out", async () => {
    const app = await createCallbackApp();
    const c = await createChallenge(app.sk);
    await h.http().post(`/v1/challenges/${c.id}/cancel`).set("Authorization", `Bearer ${app.sk}`);
    const now = new Date();
    // The crashed sender: it claimed the event (a 60 s lease) and never reported.
    const claimed = await createCallbackRepository(h.runtime.database.prisma, { secretSealer }).claimDue(now, new Date(now.getTime() + 60_000), 100);
    expect(claimed.map((e) => e.challengeId)).toContain(c.id);

    const clock = fixedClock(now);
    const survivor = dispatcherWith({ clock });
    clock.advance(59_999);
    await survivor.runOnce();
    expect(deliveriesOf(c.id)).toHaveLength(0);

    clock.advance(1);
    await survivor.runOnce();
    expect(deliveriesOf(c.id)).toHaveLength(1);
    expect(verified(deliveriesOf(c.id)[0]!, app.secret)).toMatchObject({ type: "challenge.cancelled" });
    const [event] = await eventsOf(c.id);
    expect(event).toMatchObject({ attempts: 2, last_status: 204, next_attempt_at: null });
  });
});

describe("instances", () => {
  test("a status changed while no dispatcher runs is delivered when a new instance starts", async () => {
    const app = await createCallbackApp();
    const c = await createChallenge(app.sk);
    await h.sendSms({ from: c.phone, to: app.number, text: c.smsBody });
    expect(await eventsOf(c.id)).toHaveLength(1);
    expect(deliveriesOf(c.id)).toHaveLength(0);

    if (onPostgres) {
      // A new process: its own pool and listener on the same database.
      const database = openPostgres({ url: h.db.url!, poolSize: 3, connectTimeoutMs: 5000, statementTimeoutMs: 10_000 });
      const restarted: Runtime = await createRuntime(h.config, { logger: createLogger("silent"), database });
      try {
        await restarted.startBackground();
        await until(() => deliveriesOf(c.id).length === 1, "the new instance to deliver");
      } finally {
        await restarted.close();
      }
    } else {
      // PGlite has one connection per process: a new dispatcher on it stands in for the new instance.
      const database = h.runtime.database;
      const restarted = dispatcherWith({ listen: (wake) => database.listen(OUTBOX_CHANNEL, wake, wake) });
      await restarted.start();
      try {
        await until(() => deliveriesOf(c.id).length === 1, "the new dispatcher to deliver");
      } finally {
        await restarted.stop();
      }
    }
    expect(verified(deliveriesOf(c.id)[0]!, app.secret)).toEqual({ type: "challenge.verified", data: await getJson(c.id, app.sk) });
    expect((await eventsOf(c.id))[0]!.delivered_at).toBeInstanceOf(Date);
  });

  test("a running dispatcher is woken by the outbox notification and delivers without being asked", async () => {
    const database = h.runtime.database;
    // The timer would wake it only in an hour: the delivery below comes from the NOTIFY.
    const running = dispatcherWith({ listen: (wake) => database.listen(OUTBOX_CHANNEL, wake, wake), pollIntervalMs: 3_600_000 });
    await running.start();
    try {
      const app = await createCallbackApp();
      const c = await createChallenge(app.sk);
      await h.http().post(`/v1/challenges/${c.id}/cancel`).set("Authorization", `Bearer ${app.sk}`);
      await until(() => deliveriesOf(c.id).length === 1, "the running dispatcher to deliver");
    } finally {
      await running.stop();
    }
  });
});

const twoInstances = onPostgres ? describe : describe.skip;
twoInstances("two instances on one PostgreSQL", () => {
  test("two running dispatchers deliver each of many events exactly once", async () => {
    const database = openPostgres({ url: h.db.url!, poolSize: 5, connectTimeoutMs: 5000, statementTimeoutMs: 10_000 });
    const other: Runtime = await createRuntime(h.config, { logger: createLogger("silent"), database });
    const app = await createCallbackApp();
    const ids: string[] = [];
    try {
      await Promise.all([h.runtime.callbacks.start(), other.startBackground()]);
      for (let i = 0; i < 24; i++) {
        const c = await createChallenge(app.sk);
        ids.push(c.id);
        await h.http().post(`/v1/challenges/${c.id}/cancel`).set("Authorization", `Bearer ${app.sk}`);
      }
      // Both also sweep at once, on top of the notifications.
      await Promise.all([h.runtime.callbacks.runOnce(), other.callbacks.runOnce(), h.runtime.callbacks.runOnce(), other.callbacks.runOnce()]);
      await until(() => ids.every((id) => deliveriesOf(id).length >= 1), "every event to be delivered");
    } finally {
      // stop() waits for deliveries in flight, so the counts below are final.
      await Promise.all([h.runtime.callbacks.stop(), other.close()]);
    }
    for (const id of ids) expect(deliveriesOf(id)).toHaveLength(1);
    const webhookIds = ids.map((id) => deliveriesOf(id)[0]!.id);
    expect(new Set(webhookIds).size).toBe(ids.length);
    const [row] = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM callback_events WHERE app_id = $1 AND delivered_at IS NOT NULL AND attempts = 1`,
      [app.appId],
    );
    expect(row!.n).toBe(ids.length);
  });
});
if (!onPostgres) test.skip("two dispatchers at once need PostgreSQL (DATABASE_URL): skipped on embedded PGlite", () => undefined);

describe("private targets (SSRF)", () => {
  test("without CALLBACKS_ALLOW_PRIVATE_NETWORKS an app with a loopback, metadata (also IPv4-translated) or plain-http callback URL is refused at creation", async () => {
    const strictApps = createAppService({
      repository: createAppRepository(h.runtime.database.prisma, { secretSealer }),
      clock: systemClock,
      providers: ["generic"],
      defaults: h.config.defaults,
      allowPrivateCallbacks: false,
    });
    for (const callbackUrl of [hookUrl, "https://127.0.0.1/hook", "https://[::1]/hook", "https://localhost/hook", "https://169.254.169.254/", "https://[::ffff:0:a9fe:a9fe]/"]) {
      const attempt = strictApps.create({ name: "Sneaky", numbers: [{ number: nextNumber() }], callbackUrl });
      await expect(attempt).rejects.toBeInstanceOf(AppError);
      await expect(attempt).rejects.toMatchObject({ code: "VALIDATION_FAILED", extra: { errors: [expect.objectContaining({ field: "callbackUrl" })] } });
    }
    const [row] = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM apps WHERE name = 'Sneaky'`);
    expect(row!.n).toBe(0);
  });

  test("without CALLBACKS_ALLOW_PRIVATE_NETWORKS a stored private callback URL is refused at delivery and nothing reaches it", async () => {
    const app = await createCallbackApp();
    const c = await createChallenge(app.sk);
    await h.http().post(`/v1/challenges/${c.id}/cancel`).set("Authorization", `Bearer ${app.sk}`);
    await dispatcherWith({ allowPrivateNetworks: false }).runOnce();
    expect(deliveriesOf(c.id)).toHaveLength(0);
    const [event] = await eventsOf(c.id);
    expect(event).toMatchObject({ attempts: 1, delivered_at: null, gave_up_at: null, last_status: null });
    expect(event!.last_error).toContain("refused");
    expect(event!.next_attempt_at).toBeInstanceOf(Date);
  });
});
