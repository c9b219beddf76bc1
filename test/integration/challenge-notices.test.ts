// Who is told of a change to a challenge (src/challenges/challenge-notices.ts) is done by triggers of
// the migrations; this checks that the triggers do what the TypeScript side names: the channels,
// the columns whose change notifies, and the callback event's JSON, which must equal the TypeScript
// view (callbackEventBody, i.e. the GET JSON) key for key and in the same order, for every final
// status. Runs on PostgreSQL and on PGlite.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import {
  CALLBACK_STATUSES,
  NOTIFYING_COLUMNS,
  OUTBOX_CHANNEL,
  STATUS_CHANNEL,
  callbackEventBody,
} from "../../src/challenges/challenge-notices.js";
import { createChallengeRepository } from "../../src/challenges/challenge-repository.js";
import { startHarness, type Harness } from "../support/harness.js";
import { until } from "../support/wait.js";

let h: Harness;
const notified: string[] = [];
let outboxWakes = 0;
let stopListening: (() => Promise<void>)[] = [];

beforeAll(async () => {
  h = await startHarness({ env: { CALLBACKS_ALLOW_PRIVATE_NETWORKS: "true" } });
  stopListening = [
    await h.runtime.database.listen(STATUS_CHANNEL, (id) => notified.push(id)),
    await h.runtime.database.listen(OUTBOX_CHANNEL, () => outboxWakes++),
  ];
});
afterAll(async () => {
  for (const stop of stopListening) await stop();
  await h?.close();
});

let phoneCounter = 0;
const nextPhone = () => `+336140${String(10_000 + phoneCounter++).padStart(5, "0")}`;

async function callbackApp(options: { maxAttempts?: number; codeTtlSeconds?: number } = {}) {
  return h.createApp({ name: "Told", callbackUrl: "http://127.0.0.1:9/hook", ...options });
}

async function challengeOf(app: Awaited<ReturnType<typeof callbackApp>>) {
  const phone = nextPhone();
  const res = await h.createChallenge(app.sk, { phone, purpose: "login" });
  expect(res.status).toBe(201);
  return { ...(res.body as { id: string; code: string; smsBody: string; expiresAt: string }), phone };
}

/** The stored callback events of a challenge, their payload as the database's JSON text. */
const eventsOf = (challengeId: string) =>
  h.db.query<{ type: string; payload: string }>(`SELECT type, payload::text AS payload FROM callback_events WHERE challenge_id = $1 ORDER BY created_at`, [challengeId]);

/** The trigger's JSON of the challenge's one event, compared with the TypeScript view of the stored row. */
async function expectEventEqualsView(challengeId: string, status: string, secretKey: string) {
  const events = await eventsOf(challengeId);
  expect(events).toHaveLength(1);
  const record = await createChallengeRepository(h.runtime.database.prisma, h.runtime.database.statement).findById(challengeId);
  expect(record?.status).toBe(status);
  const { pollTokenHash: _secret, ...challenge } = record!;
  const view = callbackEventBody(challenge);
  expect(events[0]!.type).toBe(`challenge.${status}`);
  // Same keys in the same order, same values: JSON.parse keeps the order of the trigger's text.
  expect(JSON.stringify(JSON.parse(events[0]!.payload))).toBe(JSON.stringify(view));
  // And its data is the GET JSON.
  expect(view.data).toEqual((await h.http().get(`/v1/challenges/${challengeId}`).set("Authorization", `Bearer ${secretKey}`)).body);
}

describe("the callback event the trigger writes equals the TypeScript view", () => {
  test("verified by SMS (after a wrong code, so attemptsRemaining is not the default)", async () => {
    const app = await callbackApp();
    const c = await challengeOf(app);
    expect((await h.sendSms({ from: c.phone, to: app.number, text: c.code === "111111" ? "222222" : "111111" })).body.results[0].outcome).toBe("wrong_code");
    expect((await h.sendSms({ from: c.phone, to: app.number, text: c.smsBody })).body.results[0].outcome).toBe("verified");
    await expectEventEqualsView(c.id, "verified", app.sk);
    await until(() => notified.includes(c.id), `a ${STATUS_CHANNEL} notification for ${c.id}`);
  });

  test("failed at the attempt limit", async () => {
    const app = await callbackApp({ maxAttempts: 1 });
    const c = await challengeOf(app);
    expect((await h.sendSms({ from: c.phone, to: app.number, text: c.code === "111111" ? "222222" : "111111" })).body.results[0].outcome).toBe("wrong_code");
    await expectEventEqualsView(c.id, "failed", app.sk);
  });

  test("cancelled", async () => {
    const app = await callbackApp();
    const c = await challengeOf(app);
    expect((await h.http().post(`/v1/challenges/${c.id}/cancel`).set("Authorization", `Bearer ${app.sk}`)).status).toBe(200);
    await expectEventEqualsView(c.id, "cancelled", app.sk);
  });

  test("expired by the sweep", async () => {
    const app = await callbackApp({ codeTtlSeconds: 60 });
    const c = await challengeOf(app);
    expect(await h.runtime.challenges.expireOverdue(new Date(new Date(c.expiresAt).getTime() + 1000))).toBeGreaterThanOrEqual(1);
    await expectEventEqualsView(c.id, "expired", app.sk);
  });

  test("every callback status is covered above, and no other status writes an event", () => {
    expect([...CALLBACK_STATUSES].sort()).toEqual(["cancelled", "expired", "failed", "verified"]);
    const pending = { id: "chl_x", appId: "app_x", status: "pending" as const, purpose: "login", phoneMasked: "+33•", createdAt: new Date(0), expiresAt: new Date(1), verifiedAt: null, consumedAt: null, maxAttempts: 5, attempts: 0, channel: "sms_mo" as const };
    expect(() => callbackEventBody(pending)).toThrow(RangeError);
  });
});

describe("status notifications", () => {
  test("a consumption notifies (and writes no callback event)", async () => {
    const app = await callbackApp();
    const c = await challengeOf(app);
    expect((await h.sendSms({ from: c.phone, to: app.number, text: c.smsBody })).body.results[0].outcome).toBe("verified");
    await until(() => notified.includes(c.id), "the verification's notification");
    const before = notified.filter((id) => id === c.id).length;
    expect((await h.http().post(`/v1/challenges/${c.id}/consume`).set("Authorization", `Bearer ${app.sk}`)).status).toBe(200);
    await until(() => notified.filter((id) => id === c.id).length > before, "the consumption's notification");
    expect(await eventsOf(c.id)).toHaveLength(1);
    await until(() => outboxWakes > 0, `a ${OUTBOX_CHANNEL} notification`);
  });

  test("the triggers are defined on the channels and columns named in challenge-notices.ts", async () => {
    const [notify] = await h.db.query<{ def: string }>(`SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgname = 'challenges_notify_change'`);
    expect(notify!.def).toContain(`AFTER UPDATE OF ${NOTIFYING_COLUMNS.join(", ")} ON`);
    const functions = await h.db.query<{ name: string; def: string }>(
      `SELECT proname AS name, pg_get_functiondef(oid) AS def FROM pg_proc WHERE proname IN ('reverse_otp_notify_challenge', 'reverse_otp_enqueue_callback')`,
    );
    const defOf = (name: string) => functions.find((f) => f.name === name)?.def ?? "";
    expect(defOf("reverse_otp_notify_challenge")).toContain(`pg_notify('${STATUS_CHANNEL}', NEW."id")`);
    expect(defOf("reverse_otp_enqueue_callback")).toContain(`pg_notify('${OUTBOX_CHANNEL}', '')`);
    const [enqueue] = await h.db.query<{ def: string }>(`SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgname = 'challenges_enqueue_callback'`);
    // Final statuses only: every status but pending.
    expect(enqueue!.def).toMatch(/new\.status <> 'pending'/i);
  });
});
