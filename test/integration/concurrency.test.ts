// Races against real PostgreSQL connections: duplicate deliveries, several SMS with one code,
// concurrent wrong codes, concurrent idempotent creation, concurrent consume. Every request goes
// through HTTP (each supertest request opens its own connection) into an app whose pg pool holds
// up to 12 connections (RACE_POOL_SIZE), so the database sees up to 12 transactions interleave for
// real while the others wait for a connection, as they would in production.
//
// Nothing here waits or sleeps, except as real clients and providers do: an answer 503 (a busy
// machine shed load) is sent again (test/support/wait.ts, retrying503). The assertions are about
// what every sender sees in the end (each message acknowledged, one verification) and what is
// stored, and hold for every interleaving: a failure is a race that the code lets through, never a
// slow machine.
//
// Embedded PGlite has a single connection (every transaction runs alone), so these tests would
// prove nothing there: they run only when DATABASE_URL names a PostgreSQL server.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Response } from "supertest";
import { randomId } from "../../src/shared/crypto.js";
import { onPostgres } from "../support/database.js";
import { PHONES, RACE_POOL_SIZE, startHarness, type Harness } from "../support/harness.js";
import { retrying503 } from "../support/wait.js";

const describeOnPostgres = onPostgres ? describe : describe.skip;

const SKIP_REASON = "races need PostgreSQL (DATABASE_URL): skipped on embedded PGlite";
if (!onPostgres) {
  // Jest lists no test names for a file whose tests are all skipped, so say it once on stderr too.
  process.stderr.write(`\n[concurrency.test.ts] ${SKIP_REASON}\n`);
  describe("races", () => {
    test.skip(SKIP_REASON, () => undefined);
  });
}

type CreatedChallenge = { id: string; code: string; pollToken: string; smsBody: string };

function times<T>(n: number, fn: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => fn(i));
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

describeOnPostgres("races on real PostgreSQL connections", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ poolSize: RACE_POOL_SIZE });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function pendingChallenge(appInput: Parameters<Harness["createApp"]>[0] = {}, phone: string = PHONES.fr) {
    const app = await h.createApp(appInput);
    const created = await h.createChallenge(app.sk, { phone, purpose: "login" });
    expect(created.status).toBe(201);
    return { app, challenge: created.body as CreatedChallenge };
  }

  async function challengeRow(id: string) {
    const [row] = await h.db.query<{ status: string; verified_at: Date | null; attempts: number; consumed_at: Date | null }>(
      `SELECT status::text AS status, verified_at, attempts, consumed_at FROM challenges WHERE id = $1`,
      [id],
    );
    return row!;
  }

  async function inboundOutcomes(appId: string) {
    return h.db.query<{ provider_message_id: string; outcome: string; challenge_id: string | null }>(
      `SELECT provider_message_id, outcome::text AS outcome, challenge_id FROM inbound_messages WHERE app_id = $1`,
      [appId],
    );
  }

  async function failureRows(appId: string) {
    return h.db.query<{ failures: number; locked_until: Date | null }>(
      `SELECT failures, locked_until FROM phone_failures WHERE app_id = $1`,
      [appId],
    );
  }

  const outcomeOf = (res: Response) => (res.body?.results?.[0]?.outcome as string | undefined) ?? `HTTP ${res.status}`;

  /** 50 deliveries of one message at once, each signed on its own (as a retrying provider would). */
  async function deliverSameMessageConcurrently(copies: number) {
    const { app, challenge } = await pendingChallenge();
    const messageId = randomId("sms");
    const payload = { messageId, from: PHONES.fr, to: app.number, text: challenge.smsBody };
    const responses = await Promise.all(
      times(copies, () =>
        retrying503(() => {
          const signed = h.signedGeneric(payload);
          return h.http().post("/v1/inbound/generic").set(signed.headers).send(signed.body);
        }),
      ),
    );
    return { app, challenge, messageId, responses };
  }

  async function expectVerifiedExactlyOnce(run: Awaited<ReturnType<typeof deliverSameMessageConcurrently>>) {
    const { app, challenge, messageId, responses } = run;
    expect(responses.map((r) => r.status)).toEqual(times(responses.length, () => 200));
    expect(countBy(responses, outcomeOf)).toEqual({ verified: 1, duplicate: responses.length - 1 });
    expect(await inboundOutcomes(app.appId)).toEqual([{ provider_message_id: messageId, outcome: "verified", challenge_id: challenge.id }]);
    const row = await challengeRow(challenge.id);
    expect(row.status).toBe("verified");
    expect(row.verified_at).not.toBeNull();
  }

  test("when the same message arrives 50 times at once, verifies once and answers 2xx to all", async () => {
    await expectVerifiedExactlyOnce(await deliverSameMessageConcurrently(50));
  });

  test("when the same signed request is sent 50 times at once, verifies once and answers 2xx to all", async () => {
    const { app, challenge } = await pendingChallenge();
    const messageId = randomId("sms");
    const signed = h.signedGeneric({ messageId, from: PHONES.fr, to: app.number, text: challenge.code });
    const responses = await Promise.all(times(50, () => retrying503(() => h.http().post("/v1/inbound/generic").set(signed.headers).send(signed.body))));
    await expectVerifiedExactlyOnce({ app, challenge, messageId, responses });
  });

  test(
    "over 20 rounds of 50 simultaneous duplicate deliveries, every round verifies exactly once",
    async () => {
      const rounds = 20;
      const summary: string[] = [];
      for (let round = 0; round < rounds; round++) {
        const run = await deliverSameMessageConcurrently(50);
        const outcomes = countBy(run.responses, outcomeOf);
        const rows = await inboundOutcomes(run.app.appId);
        const status = (await challengeRow(run.challenge.id)).status;
        if (outcomes.verified !== 1 || outcomes.duplicate !== 49 || rows.length !== 1 || status !== "verified") {
          summary.push(`round ${round}: outcomes ${JSON.stringify(outcomes)}, ${rows.length} rows, status ${status}`);
        }
      }
      expect(summary).toEqual([]);
    },
    180_000,
  );

  test("when 50 different messages carry the right code at once, exactly one verifies and the others are duplicates", async () => {
    const { app, challenge } = await pendingChallenge();
    const responses = await Promise.all(
      times(50, () => {
        const messageId = randomId("sms");
        return retrying503(() => h.sendSms({ from: PHONES.fr, to: app.number, text: challenge.code, messageId }));
      }),
    );
    expect(responses.map((r) => r.status)).toEqual(times(50, () => 200));
    expect(countBy(responses, outcomeOf)).toEqual({ verified: 1, duplicate: 49 });

    const rows = await inboundOutcomes(app.appId);
    expect(rows).toHaveLength(50);
    expect(countBy(rows, (r) => r.outcome)).toEqual({ verified: 1, duplicate: 49 });
    expect(rows.find((r) => r.outcome === "verified")?.challenge_id).toBe(challenge.id);

    const row = await challengeRow(challenge.id);
    expect(row.status).toBe("verified");
    expect(row.verified_at).not.toBeNull();
    expect(row.attempts).toBe(0);
    expect(await failureRows(app.appId)).toEqual([]);

    const read = await h.http().get(`/v1/challenges/${challenge.id}`).set("X-Poll-Token", challenge.pollToken);
    expect(read.body).toMatchObject({ status: "verified", verifiedAt: row.verified_at!.toISOString(), attemptsRemaining: 5 });
  });

  test("when 10 wrong codes arrive at once from a phone allowed 10 attempts, all 10 are counted and the challenge fails", async () => {
    const { app, challenge } = await pendingChallenge({ maxAttempts: 10 });
    const wrongCodes = times(11, (i) => String(100000 + i * 7919)).filter((c) => c !== challenge.code).slice(0, 10);
    const responses = await Promise.all(
      wrongCodes.map((code) => {
        const messageId = randomId("sms");
        return retrying503(() => h.sendSms({ from: PHONES.fr, to: app.number, text: code, messageId }));
      }),
    );
    expect(responses.map((r) => r.status)).toEqual(times(10, () => 200));
    expect(countBy(responses, outcomeOf)).toEqual({ wrong_code: 10 });

    const failures = await failureRows(app.appId);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.failures).toBe(10);
    expect(failures[0]!.locked_until).not.toBeNull();
    const row = await challengeRow(challenge.id);
    expect(row.status).toBe("failed");
    expect(row.attempts).toBe(10);

    // And the right code after the lock-out does nothing.
    const late = await h.sendSms({ from: PHONES.fr, to: app.number, text: challenge.code });
    expect(late.status).toBe(200);
    expect(outcomeOf(late)).not.toBe("verified");
    expect((await challengeRow(challenge.id)).status).toBe("failed");
  });

  test("when 20 identical creations with one Idempotency-Key arrive at once, all get 201 with the same challenge and one row exists", async () => {
    const app = await h.createApp();
    const key = `order-${randomId("idem")}`;
    const body = { phone: PHONES.de, purpose: "transaction", context: { amount: "49.90", currency: "EUR", merchant: "Shop" } };
    const responses = await Promise.all(times(20, () => retrying503(() => h.createChallenge(app.sk, body, { "Idempotency-Key": key }))));

    expect(responses.map((r) => r.status)).toEqual(times(20, () => 201));
    const first = responses[0]!.body as CreatedChallenge;
    for (const res of responses) {
      expect(res.body).toMatchObject({ id: first.id, code: first.code, pollToken: first.pollToken, smsBody: first.smsBody });
    }
    // Exactly one request created it; the other 19 are replays of it.
    expect(responses.filter((r) => r.headers["idempotent-replayed"] === "true")).toHaveLength(19);
    const rows = await h.db.query<{ id: string }>(`SELECT id FROM challenges WHERE app_id = $1`, [app.appId]);
    expect(rows).toEqual([{ id: first.id }]);
  });

  test("when 20 consume calls for one verified challenge arrive at once, exactly one gets 200 and the others 409", async () => {
    const { app, challenge } = await pendingChallenge();
    const sms = await h.sendSms({ from: PHONES.fr, to: app.number, text: challenge.code });
    expect(outcomeOf(sms)).toBe("verified");

    const responses = await Promise.all(
      times(20, () => retrying503(() => h.http().post(`/v1/challenges/${challenge.id}/consume`).set("Authorization", `Bearer ${app.sk}`))),
    );
    expect(countBy(responses, (r) => String(r.status))).toEqual({ "200": 1, "409": 19 });
    for (const res of responses.filter((r) => r.status === 409)) {
      expect(res.body.code).toBe("CHALLENGE_ALREADY_CONSUMED");
    }
    const winner = responses.find((r) => r.status === 200)!;
    expect((await challengeRow(challenge.id)).consumed_at?.toISOString()).toBe(winner.body.consumedAt);
  });

  test("when 14 challenges for one phone are requested at once by one client, exactly the hourly 10 are created and no more than 3 stay pending", async () => {
    const app = await h.createApp({ rateLimitPhonePerHour: 10 });
    // A client retries a 503 (a busy machine), as a real one would; the limits are what is asserted.
    const responses = await Promise.all(times(14, () => retrying503(() => h.createChallenge(app.sk, { phone: PHONES.gb, purpose: "signup" }))));
    expect(countBy(responses, (r) => String(r.status))).toEqual({ "201": 10, "429": 4 });
    for (const res of responses.filter((r) => r.status === 429)) expect(res.body).toMatchObject({ code: "RATE_LIMITED", reason: "phone" });
    const rows = await h.db.query<{ status: string; n: number }>(
      `SELECT status::text AS status, count(*)::int AS n FROM challenges WHERE app_id = $1 GROUP BY status ORDER BY status`,
      [app.appId],
    );
    // Each new one replaced the oldest pending one beyond 3 (they expired at once).
    expect(rows).toEqual([{ status: "expired", n: 7 }, { status: "pending", n: 3 }]);
  });

  test("when two clients (the backend's secret key, a publishable key) each ask 8 challenges for one phone at once, each gets exactly its own 4", async () => {
    const app = await h.createApp({ rateLimitPhonePerHour: 4 });
    const create = (key: string) => retrying503(() => h.createChallenge(key, { phone: PHONES.fr2, purpose: "login" }));
    const [bySecret, byPublishable] = await Promise.all([Promise.all(times(8, () => create(app.sk))), Promise.all(times(8, () => create(app.pk)))]);
    expect(countBy(bySecret, (r) => String(r.status))).toEqual({ "201": 4, "429": 4 });
    expect(countBy(byPublishable, (r) => String(r.status))).toEqual({ "201": 4, "429": 4 });
    const rows = await h.db.query<{ client_hash: string; pending: number; all: number }>(
      `SELECT client_hash, count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*)::int AS "all"
         FROM challenges WHERE app_id = $1 GROUP BY client_hash`,
      [app.appId],
    );
    expect(rows.map((r) => [r.pending, r.all])).toEqual([
      [3, 4],
      [3, 4],
    ]);
  });
});
