// The typed-code check (POST /v1/challenges/{id}/check, the classic direction), measured like the
// inbound path. Part of `npm run security-report` (figure C):
//   brute force    for apps allowing 3, 5 and 10 wrong codes: every wrong typed code is refused
//                  (422 WRONG_CODE, attemptsRemaining counting down), the lock comes exactly at the
//                  configured count, then the right code does not verify (409) and new challenges of
//                  either direction get 423 PHONE_LOCKED;
//   both ways      wrong codes texted (reverse) and typed (classic) share one counter per phone: the
//                  lock comes at the same count whatever the mix;
//   rate limits    typed codes per client per minute: the first CODE_CHECK_LIMITS.perClient pass to the
//                  comparison, the rest get 429 without being compared;
//   timing         the comparison (typedCodeMatches: HMAC-SHA256 of the typed code under each key,
//                  timingSafeEqual, no early exit) takes the same time for a guess far from the code
//                  and one differing in its last digit only (medians of 20,000 runs each).
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { performance } from "node:perf_hooks";
import { CODE_CHECK_LIMITS } from "../../src/limits/limits-service.js";
import { typedCodeMatches } from "../../src/challenges/verification.js";
import { createHasher } from "../../src/shared/crypto.js";
import { startHarness, TEST_HASH_KEY, type Harness } from "../support/harness.js";
import { startStandIn, type StandIn } from "../support/outbound/stand-in.js";
import { writeFigure } from "./report-support.js";

let h: Harness;
let gateway: StandIn;
let phoneCounter = 0;
const nextPhone = () => `+3361${String(5_000_000 + phoneCounter++).padStart(7, "0")}`;

beforeAll(async () => {
  gateway = await startStandIn({ status: 204 });
  h = await startHarness({
    env: {
      GENERIC_OUTBOUND_URL: `${gateway.url}/sms`,
      RATE_LIMIT_SECRET_KEY_PER_MINUTE: "1000000",
      OUTBOUND_CAP_PREFIX_PER_HOUR: "100000",
      OUTBOUND_CAP_COUNTRY_PER_HOUR: "100000",
      OUTBOUND_CAP_APP_PER_DAY: "100000",
      OUTBOUND_MIN_CONVERSION_PERCENT: "0",
      TRUST_PROXY: "1",
    },
  });
});
afterAll(async () => {
  await h?.runtime.outbound.close();
  await h?.close();
  await gateway?.close();
});

const figure: Record<string, unknown> = {};
afterAll(() => writeFigure("C-typed-code", figure));

async function outboundApp(maxAttempts: number) {
  return h.createApp({ channels: ["sms_mo", "sms"], outboundCountries: ["FR"], maxAttempts, rateLimitPhonePerHour: 1000 });
}

/** A `sms` challenge and the code the gateway received for it. */
async function sent(sk: string, phone: string): Promise<{ id: string; code: string }> {
  const created = await h.createChallenge(sk, { phone, purpose: "login", channel: "sms" });
  expect(created.status).toBe(201);
  gateway.reset();
  await h.runtime.outbound.dispatcher.runOnce();
  const text = JSON.parse(gateway.last().body.toString("utf8")).text as string;
  return { id: created.body.id, code: /^(\d+)/.exec(text)![1]! };
}

const check = (sk: string, id: string, code: string, ip = "198.51.100.7") =>
  h.http().post(`/v1/challenges/${id}/check`).set("Authorization", `Bearer ${sk}`).set("X-Forwarded-For", ip).send({ code });
const wrongFor = (code: string, i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0");

describe("brute force of typed codes", () => {
  test.each([3, 5, 10])("an app allowing %i wrong codes: refused each time, locked exactly at the count, in both directions", async (max) => {
    const app = await outboundApp(max);
    const phone = nextPhone();
    const challenge = await sent(app.sk, phone);
    const remaining: number[] = [];
    for (let i = 0; i < max; i++) {
      const res = await check(app.sk, challenge.id, wrongFor(challenge.code, i), `198.51.100.${max}`);
      expect([res.status, res.body.code]).toEqual([422, "WRONG_CODE"]);
      remaining.push(res.body.attemptsRemaining);
    }
    expect(remaining).toEqual(Array.from({ length: max }, (_, i) => max - 1 - i));
    const right = await check(app.sk, challenge.id, challenge.code, `198.51.100.${max}`);
    expect([right.status, right.body.code]).toEqual([409, "CHALLENGE_NOT_PENDING"]);
    const reverse = await h.createChallenge(app.sk, { phone, purpose: "login" });
    const classic = await h.createChallenge(app.sk, { phone, purpose: "login", channel: "sms" });
    expect([reverse.status, classic.status]).toEqual([423, 423]);
    (figure.bruteForce ??= []) as unknown[];
    (figure.bruteForce as unknown[]).push({ maxAttempts: max, wrongRefused: max, lockedAfter: max, rightCodeAfterLock: right.status, newChallenges: [reverse.status, classic.status] });
  });

  test("wrong codes texted and typed share one counter: 2 texted + 3 typed lock an app allowing 5", async () => {
    const app = await outboundApp(5);
    const phone = nextPhone();
    const reverse = await h.createChallenge(app.sk, { phone, purpose: "login" });
    for (let i = 0; i < 2; i++) {
      const sms = await h.sendSms({ from: phone, to: app.number, text: wrongFor(reverse.body.code, i) });
      expect(sms.body.results[0].outcome).toBe("wrong_code");
    }
    const challenge = await sent(app.sk, phone);
    const statuses: number[] = [];
    const remaining: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await check(app.sk, challenge.id, wrongFor(challenge.code, i));
      statuses.push(res.status);
      remaining.push(res.body.attemptsRemaining);
    }
    expect(statuses).toEqual([422, 422, 422]);
    expect(remaining).toEqual([2, 1, 0]);
    const after = await h.http().get(`/v1/challenges/${reverse.body.id}`).set("Authorization", `Bearer ${app.sk}`);
    expect(after.body.status).toBe("failed");
    expect((await h.createChallenge(app.sk, { phone, purpose: "login" })).status).toBe(423);
    figure.bothDirections = { maxAttempts: 5, texted: 2, typed: 3, remainingAfterTyped: remaining, reverseChallenge: after.body.status };
  });
});

describe("rate limit of typed codes per client", () => {
  test(`one client: ${CODE_CHECK_LIMITS.perClient} typed codes a minute reach the comparison, the rest get 429`, async () => {
    const app = await outboundApp(10);
    const ip = "203.0.113.99";
    const statuses: Record<string, number> = {};
    let attempts = 0;
    const extra = 10;
    while (attempts < CODE_CHECK_LIMITS.perClient + extra) {
      const challenge = await sent(app.sk, nextPhone());
      for (let i = 0; i < 8 && attempts < CODE_CHECK_LIMITS.perClient + extra; i++, attempts++) {
        const res = await check(app.sk, challenge.id, wrongFor(challenge.code, i), ip);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    }
    expect(statuses["422"]).toBe(CODE_CHECK_LIMITS.perClient);
    expect(statuses["429"]).toBe(extra);
    figure.rateLimit = { perClientPerMinute: CODE_CHECK_LIMITS.perClient, perChallenge: CODE_CHECK_LIMITS.perChallenge, perPhone: CODE_CHECK_LIMITS.perPhone, sent: attempts, statuses };
  });
});

describe("timing of the comparison", () => {
  test("a far guess and a guess one digit off take the same time (medians of 20,000 runs each, ±25 %)", () => {
    const hasher = createHasher([TEST_HASH_KEY, `${TEST_HASH_KEY}-old`]);
    const code = "601836";
    const stored = hasher.code(code);
    const runs = 20_000;
    const sample = (guess: string) => {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        typedCodeMatches(hasher, guess, "numeric", stored);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      return times[Math.floor(runs / 2)]!;
    };
    sample("000000"); // warm-up
    const far = sample("000000");
    const near = sample("601837");
    const right = sample(code);
    expect(typedCodeMatches(hasher, code, "numeric", stored)).toBe(true);
    const ratio = near / far;
    expect(ratio).toBeGreaterThan(0.75);
    expect(ratio).toBeLessThan(1.25);
    figure.timing = { runs, medianMicroseconds: { far: far * 1000, oneDigitOff: near * 1000, right: right * 1000 }, ratioNearToFar: ratio };
  });
});
