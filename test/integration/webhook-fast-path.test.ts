// The webhook's one-statement path (src/challenges/challenge-sql.ts, verifyInOneStatement,
// taken by src/challenges/verification.ts): when the owner of the number
// is already known, a message that verifies a challenge costs one SQL statement. These tests prove
// that it is taken, that it stores exactly what the step-by-step transaction stores, that it never
// acts on a stale owner, and that it changes nothing whenever the step-by-step path must decide
// (wrong codes, duplicates). The races run only on PostgreSQL (real concurrent connections).
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createAppDirectory } from "../../src/apps/app-directory.js";
import { createAppRepository } from "../../src/apps/app-repository.js";
import { createChallengeRepository, type ChallengeRepository, type OneStatementResult } from "../../src/challenges/challenge-repository.js";
import { createVerification } from "../../src/challenges/verification.js";
import { createInboundRepository, type InboundRepository } from "../../src/inbound/inbound-repository.js";
import { createInboundService } from "../../src/inbound/inbound-service.js";
import { signStandardWebhook } from "../../src/providers/standard-webhooks.js";
import { createHasher, randomId, type Hasher } from "../../src/shared/crypto.js";
import { onPostgres } from "../support/database.js";
import { PHONES, RACE_POOL_SIZE, TEST_GENERIC_SECRET, TEST_HASH_KEY, startHarness, type Harness } from "../support/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ poolSize: RACE_POOL_SIZE });
});
afterAll(async () => {
  await h?.close();
});

type CreatedChallenge = { id: string; code: string; pollToken: string; smsBody: string };

/**
 * An inbound service on the harness's database whose repository reports which path each message
 * took; `afterClaim` runs inside the step-by-step transaction right after its claim.
 */
function spiedService(options: { afterClaim?: () => Promise<void>; hasher?: Hasher } = {}) {
  const hasher = options.hasher ?? h.runtime.hasher;
  const { prisma, statement } = h.runtime.database;
  const realChallenges = createChallengeRepository(prisma, statement);
  const oneStatement: OneStatementResult["kind"][] = [];
  let transactions = 0;
  const challenges: ChallengeRepository = {
    ...realChallenges,
    async verifyInOneStatement(v) {
      const result = await realChallenges.verifyInOneStatement(v);
      oneStatement.push(result.kind);
      return result;
    },
    verificationTransaction(fn) {
      transactions++;
      return realChallenges.verificationTransaction(fn);
    },
  };
  const realInbound = createInboundRepository(prisma);
  const inbound: InboundRepository = {
    ...realInbound,
    messageLog(row) {
      const log = realInbound.messageLog(row);
      return (tx) => {
        const steps = log(tx);
        return {
          ...steps,
          async claim(outcome) {
            const claimed = await steps.claim(outcome);
            await options.afterClaim?.();
            return claimed;
          },
        };
      };
    },
  };
  const service = createInboundService({
    inbound,
    numbers: createAppDirectory(createAppRepository(prisma, { secretSealer: { seal: (text: string) => text } })),
    verification: createVerification({ challenges, hasher }),
    hasher,
    // Multi-part messages are not sent here.
    sealer: {
      seal: () => {
        throw new Error("not used");
      },
      open: () => {
        throw new Error("not used");
      },
    },
    clock: h.clock,
    providers: h.runtime.providers,
  });
  const send = async (sms: { from: string; to: string; text: string; messageId?: string }) => {
    const body = JSON.stringify({ messageId: sms.messageId ?? randomId("sms"), from: sms.from, to: sms.to, text: sms.text });
    const id = randomId("wh");
    const ts = Math.floor(h.clock.now().getTime() / 1000);
    const { results } = await service.handle("generic", {
      method: "POST",
      publicUrl: "https://otp.example.test/v1/inbound/generic",
      headers: { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signStandardWebhook(TEST_GENERIC_SECRET, id, ts, body) },
      rawBody: Buffer.from(body),
      receivedAt: h.clock.now(),
    });
    return results[0]!.outcome;
  };
  return {
    send,
    /** Paths taken since the last call: one-statement results and step-by-step transactions. */
    taken() {
      const out = { oneStatement: [...oneStatement], transactions };
      oneStatement.length = 0;
      transactions = 0;
      return out;
    },
  };
}

async function challengeFor(app: Awaited<ReturnType<Harness["createApp"]>>, phone: string): Promise<CreatedChallenge> {
  const res = await h.createChallenge(app.sk, { phone, purpose: "login" });
  expect(res.status).toBe(201);
  return res.body as CreatedChallenge;
}

async function challengeRow(id: string) {
  const [row] = await h.db.query<{ status: string; verified_at: Date | null; finished_at: Date | null; attempts: number }>(
    `SELECT status::text AS status, verified_at, finished_at, attempts FROM challenges WHERE id = $1`,
    [id],
  );
  return row!;
}

async function inboundRow(messageId: string) {
  const [row] = await h.db.query<Record<string, unknown>>(
    `SELECT outcome::text AS outcome, app_id, challenge_id, sender_hash, sender_masked, sender_country, recipient, text_length,
            parts, line_type, carrier FROM inbound_messages WHERE provider_message_id = $1`,
    [messageId],
  );
  return row;
}

const wrongCode = (code: string) => (code === "123456" ? "654321" : "123456");

describe("the one-statement verification", () => {
  test("is taken once the number's owner is known, and stores what the step-by-step path stores", async () => {
    const s = spiedService();
    const app = await h.createApp();
    const first = await challengeFor(app, PHONES.fr);
    const second = await challengeFor(app, PHONES.fr2);

    expect(await s.send({ from: PHONES.fr, to: app.number, text: first.smsBody, messageId: "fast-1" })).toBe("verified");
    expect(s.taken()).toEqual({ oneStatement: [], transactions: 1 }); // owner unknown yet: step by step
    expect(await s.send({ from: PHONES.fr2, to: app.number, text: second.smsBody, messageId: "fast-2" })).toBe("verified");
    expect(s.taken()).toEqual({ oneStatement: ["verified"], transactions: 0 });

    const [a, b] = [await inboundRow("fast-1"), await inboundRow("fast-2")];
    expect(a).toMatchObject({ outcome: "verified", app_id: app.appId, challenge_id: first.id });
    expect(b).toMatchObject({ outcome: "verified", app_id: app.appId, challenge_id: second.id });
    const shape = (r: Record<string, unknown> | undefined) => ({ ...r, challenge_id: undefined, sender_hash: typeof r?.sender_hash, sender_masked: String(r?.sender_masked).length });
    expect(shape(b)).toEqual(shape(a));
    for (const c of [first, second]) {
      const row = await challengeRow(c.id);
      expect(row.status).toBe("verified");
      expect(row.verified_at).toEqual(row.finished_at);
    }
  });

  test.each([
    ["with one HASH_KEY", undefined],
    // The instance runs with HASH_KEY=<new>,<old> and the challenge was stored under the old key:
    // two digests of the phone and two of the code, so the statement's other text (one per count).
    ["after a HASH_KEY rotation, for a challenge hashed with the old key", ["rotated-hash-key-0123456789abcdefghijklmnopqrstuvwxyz", TEST_HASH_KEY]],
  ])("leaves wrong codes to the step-by-step path, and clears the phone's count when the right code follows (%s)", async (_case, hashKeys) => {
    const s = spiedService(hashKeys ? { hasher: createHasher(hashKeys) } : {});
    const app = await h.createApp();
    const warm = await challengeFor(app, PHONES.fr);
    expect(await s.send({ from: PHONES.fr, to: app.number, text: warm.smsBody })).toBe("verified");
    const c = await challengeFor(app, PHONES.fr2);
    s.taken();

    expect(await s.send({ from: PHONES.fr2, to: app.number, text: wrongCode(c.code) })).toBe("wrong_code");
    expect(s.taken()).toEqual({ oneStatement: ["no_match"], transactions: 1 });
    expect((await challengeRow(c.id)).attempts).toBe(1);
    expect(await h.db.query(`SELECT failures FROM phone_failures WHERE app_id = $1`, [app.appId])).toEqual([{ failures: 1 }]);

    expect(await s.send({ from: PHONES.fr2, to: app.number, text: c.smsBody, messageId: `right-${randomId("m")}` })).toBe("verified");
    expect(s.taken()).toEqual({ oneStatement: ["verified"], transactions: 0 });
    expect((await challengeRow(c.id)).status).toBe("verified");
    expect(await h.db.query(`SELECT failures FROM phone_failures WHERE app_id = $1`, [app.appId])).toEqual([]);
  });

  test("changes nothing for a message id already stored, even when a matching challenge is pending now", async () => {
    const s = spiedService();
    const app = await h.createApp();
    const warm = await challengeFor(app, PHONES.fr);
    expect(await s.send({ from: PHONES.fr, to: app.number, text: warm.smsBody })).toBe("verified");
    // The first delivery of this message came before the challenge existed (stored as such).
    expect(await s.send({ from: PHONES.fr2, to: app.number, text: "hello", messageId: "early-1" })).toBe("no_pending_challenge");
    const c = await challengeFor(app, PHONES.fr2);
    s.taken();

    expect(await s.send({ from: PHONES.fr2, to: app.number, text: c.code, messageId: "early-1" })).toBe("duplicate");
    expect(s.taken()).toEqual({ oneStatement: ["no_match"], transactions: 1 });
    expect((await challengeRow(c.id)).status).toBe("pending");
    expect(await inboundRow("early-1")).toMatchObject({ outcome: "no_pending_challenge", challenge_id: null });
  });

  test("never acts on a stale owner: a changed code policy or provider is read afresh", async () => {
    const s = spiedService();
    const app = await h.createApp();
    const warm = await challengeFor(app, PHONES.fr);
    expect(await s.send({ from: PHONES.fr, to: app.number, text: warm.smsBody })).toBe("verified");
    const c = await challengeFor(app, PHONES.fr2);
    s.taken();

    // The app now uses 8-character codes: the six-digit code is no longer a candidate.
    await h.db.query(`UPDATE apps SET code_length = 8 WHERE id = $1`, [app.appId]);
    expect(await s.send({ from: PHONES.fr2, to: app.number, text: c.code })).toBe("wrong_code");
    expect(s.taken()).toEqual({ oneStatement: ["stale_owner"], transactions: 1 });
    expect((await challengeRow(c.id)).status).toBe("pending");

    // The number now answers through another provider only.
    await h.db.query(`UPDATE apps SET code_length = 6 WHERE id = $1`, [app.appId]);
    expect(await s.send({ from: PHONES.fr2, to: app.number, text: "warm again" })).toBe("wrong_code");
    await h.db.query(`UPDATE virtual_numbers SET provider = 'twilio' WHERE e164 = $1`, [app.number]);
    s.taken();
    expect(await s.send({ from: PHONES.fr2, to: app.number, text: c.code, messageId: "stale-2" })).toBe("unknown_number");
    // Read afresh, the number has no owner for this provider: the gateway stores the message as
    // unknown_number, without a verification.
    expect(s.taken()).toEqual({ oneStatement: ["stale_owner"], transactions: 0 });
    expect(await inboundRow("stale-2")).toMatchObject({ outcome: "unknown_number", challenge_id: null });
    expect((await challengeRow(c.id)).status).toBe("pending");
  });
});

(onPostgres ? describe : describe.skip)("races on the one-statement path (PostgreSQL)", () => {
  const times = <T>(n: number, fn: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => fn(i));
  const countBy = (xs: string[]) => xs.reduce<Record<string, number>>((o, x) => ({ ...o, [x]: (o[x] ?? 0) + 1 }), {});

  /** An app whose number's owner the service already knows (one message went through). */
  async function warmApp() {
    const app = await h.createApp();
    const warm = await challengeFor(app, PHONES.de);
    expect((await h.sendSms({ from: PHONES.de, to: app.number, text: warm.smsBody })).body.results[0].outcome).toBe("verified");
    return app;
  }

  test("over 10 rounds, 50 simultaneous deliveries of one message verify exactly once", async () => {
    const problems: string[] = [];
    for (let round = 0; round < 10; round++) {
      const app = await warmApp();
      const c = await challengeFor(app, PHONES.fr);
      const signed = h.signedGeneric({ messageId: `race-${round}`, from: PHONES.fr, to: app.number, text: c.smsBody });
      const responses = await Promise.all(times(50, () => h.http().post("/v1/inbound/generic").set(signed.headers).send(signed.body)));
      const outcomes = countBy(responses.map((r) => (r.status === 200 ? r.body.results[0].outcome : `HTTP ${r.status}`)));
      const rows = await h.db.query(`SELECT 1 FROM inbound_messages WHERE provider_message_id = $1`, [`race-${round}`]);
      const status = (await challengeRow(c.id)).status;
      if (outcomes.verified !== 1 || outcomes.duplicate !== 49 || rows.length !== 1 || status !== "verified") {
        problems.push(`round ${round}: ${JSON.stringify(outcomes)}, ${rows.length} rows, ${status}`);
      }
    }
    expect(problems).toEqual([]);
  }, 120_000);

  test("one message on both paths at once (one instance knows the owner, one does not) cannot deadlock: verified once", async () => {
    const problems: string[] = [];
    for (let round = 0; round < 5; round++) {
      const app = await h.createApp();
      const warm = spiedService();
      const warmChallenge = await challengeFor(app, PHONES.de);
      expect(await warm.send({ from: PHONES.de, to: app.number, text: warmChallenge.smsBody })).toBe("verified");
      const c = await challengeFor(app, PHONES.fr);
      const sms = { from: PHONES.fr, to: app.number, text: c.smsBody, messageId: `both-${round}` };
      // The step-by-step delivery claims the message, then waits while one-statement deliveries of
      // the same message start (they would lock the challenge, then wait for the claim's row).
      let fast: Promise<string>[] = [];
      const cold = spiedService({
        afterClaim: async () => {
          fast = times(5, () => warm.send(sms).catch((e: Error) => `error: ${e.message}`));
          await new Promise((r) => setTimeout(r, 100));
        },
      });
      warm.taken();
      const slow = await cold.send(sms).catch((e: Error) => `error: ${e.message}`);
      const outcomes = [slow, ...(await Promise.all(fast))];
      const counts = countBy(outcomes);
      if (counts.verified !== 1 || counts.duplicate !== 5) problems.push(`round ${round}: ${JSON.stringify(counts)}`);
      if (warm.taken().oneStatement.length !== 5) problems.push(`round ${round}: the one-statement path was not tried`);
    }
    expect(problems).toEqual([]);
  }, 120_000);

  test("50 different messages with the right code at once: one verifies, 49 are duplicates, 50 rows", async () => {
    const app = await warmApp();
    const c = await challengeFor(app, PHONES.fr);
    const responses = await Promise.all(times(50, () => h.sendSms({ from: PHONES.fr, to: app.number, text: c.code })));
    expect(countBy(responses.map((r) => r.body.results[0].outcome))).toEqual({ verified: 1, duplicate: 49 });
    const rows = await h.db.query<{ outcome: string; challenge_id: string | null }>(
      `SELECT outcome::text AS outcome, challenge_id FROM inbound_messages WHERE app_id = $1 AND sender_hash = $2`,
      [app.appId, h.runtime.hasher.phone(PHONES.fr)],
    );
    expect(countBy(rows.map((r) => r.outcome))).toEqual({ verified: 1, duplicate: 49 });
    expect(rows.find((r) => r.outcome === "verified")?.challenge_id).toBe(c.id);
    expect((await challengeRow(c.id)).attempts).toBe(0);
  });
});
