// SECURITY.md figures 4, 5 and 7 at the reported size, through HTTP on a fixed clock (time moves
// only when this file moves it, so boundaries are exact to the millisecond):
//   4. 1,000 seeded draws of the moment the right code arrives, from 2 s before expires_at to 2 s
//      after it (boundaries included): 0 verifications at or after expiry, 0 refusals before it.
//   5. brute force per phone, for apps allowing 1, 3, 5 and 10 wrong codes: every wrong code is
//      refused; the lock comes exactly at the configured count; a challenge created on the way
//      starts with the remaining attempts (not reset); after the lock the right codes do not verify,
//      nor do further wrong ones, and new challenges get 423.
//   7. 10,000 random well-formed challenge ids read with five kinds of credentials: 100 % 404 with
//      one and the same body; every cross-app read, cancel and consume of real challenges: the same
//      404, and nothing changes.
// Ends with the privacy scan of figure 11 (database dump and logs). Part of `npm run security-report`.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import { fixedClock } from "../../src/shared/clock.js";
import { randomId } from "../../src/shared/crypto.js";
import { startHarness, type Harness } from "../support/harness.js";
import { findLeaks, mobileAt, newSecrets, pool, privacyScan, serve, writeFigure } from "./report-support.js";

const SEED = 20310602;
const clock = fixedClock("2031-06-02T08:00:00.000Z");
const secrets = newSecrets();

let h: Harness;
let server: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  h = await startHarness({ clock, env: { RATE_LIMIT_SECRET_KEY_PER_MINUTE: "1000000", RATE_LIMIT_PHONE_PER_HOUR: "1000" } });
  server = await serve(h);
});
afterAll(async () => {
  await server?.close();
  await h?.close();
});

type Created = { id: string; code: string; pollToken: string; expiresAt: string; attemptsRemaining: number };

async function create(key: string, phone: string): Promise<{ status: number; body: Created & { code?: string } }> {
  const res = await h.createChallenge(key, { phone, purpose: "login" });
  if (res.status === 201) {
    secrets.phones.add(phone);
    secrets.codes.add(res.body.code);
  }
  return { status: res.status, body: res.body };
}

async function sms(to: string, from: string, text: string): Promise<string> {
  secrets.phones.add(from);
  if (/^\d{6}$/.test(text)) secrets.codes.add(text);
  const res = await h.sendSms({ from, to, text });
  if (res.status !== 200) throw new Error(`webhook answered ${res.status} ${res.text.slice(0, 200)}`);
  return res.body.results[0].outcome as string;
}

async function read(c: Created) {
  const res = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  return res.body as { status: string; attemptsRemaining: number };
}

function wrongCode(rng: () => number, ...avoid: string[]): string {
  for (;;) {
    const code = String(Math.floor(rng() * 1_000_000)).padStart(6, "0");
    if (!avoid.includes(code)) return code;
  }
}

/** A deterministic generator (mulberry32) for the wrong codes. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("figure 4: verification against expiry", () => {
  test("1,000 draws around expires_at: 0 verifications at or after it, 0 refusals before it", async () => {
    const boundaries = [-2000, -1000, -2, -1, 0, 1, 2, 1000, 2000];
    const drawn = fc.sample(fc.integer({ min: -2000, max: 2000 }), { seed: SEED, numRuns: 1000 - boundaries.length });
    const offsets = [...boundaries, ...drawn];
    const app = await h.createApp({ name: "Expiry" });
    let before = 0;
    let verifiedBefore = 0;
    let after = 0;
    let expiredAfter = 0;
    const violations: string[] = [];
    for (const [i, offsetMs] of offsets.entries()) {
      const phone = mobileAt(5_000_000 + i);
      const { status, body: c } = await create(app.sk, phone);
      if (status !== 201) throw new Error(`creation answered ${status}`);
      clock.set(new Date(Date.parse(c.expiresAt) + offsetMs));
      const outcome = await sms(app.number, phone, c.code);
      const readStatus = (await read(c)).status;
      if (offsetMs < 0) {
        before += 1;
        if (outcome === "verified" && readStatus === "verified") verifiedBefore += 1;
        else violations.push(`${offsetMs} ms: ${outcome}/${readStatus}`);
      } else {
        after += 1;
        if (outcome === "expired" && readStatus === "expired") expiredAfter += 1;
        else violations.push(`+${offsetMs} ms: ${outcome}/${readStatus}`);
      }
    }
    writeFigure("4-expiry", {
      draws: offsets.length,
      seed: SEED,
      rangeMs: [-2000, 2000],
      before,
      verifiedBefore,
      refusedBefore: before - verifiedBefore,
      atOrAfter: after,
      expiredAfter,
      verifiedAfter: violations.filter((v) => v.startsWith("+") && v.includes("verified")).length,
      violations: violations.slice(0, 20),
    });
    expect(violations).toEqual([]);
    expect(offsets).toHaveLength(1000);
  });
});

describe("figure 5: wrong codes and lock-out", () => {
  test("every wrong code refused; lock after exactly the configured attempts; not reset by a new challenge", async () => {
    const rng = seeded(SEED);
    const PHONES_PER_POLICY = 25;
    const AFTER_LOCK = 10;
    const policies = [1, 3, 5, 10];
    let wrongSent = 0;
    let wrongVerified = 0;
    let lockedExactly = 0;
    let lockedEarly = 0;
    let notReset = 0;
    let rightAfterLockSent = 0;
    let rightAfterLockVerified = 0;
    let refused423 = 0;
    const violations: string[] = [];
    let phoneIndex = 0;
    for (const maxAttempts of policies) {
      const app = await h.createApp({ name: "Brute force", maxAttempts });
      for (let p = 0; p < PHONES_PER_POLICY; p++) {
        const phone = mobileAt(6_000_000 + phoneIndex++);
        const first = (await create(app.sk, phone)).body;
        const codes = [first.code];
        // All but the last allowed wrong code: each is wrong_code, and the count goes down.
        let early = false;
        for (let i = 1; i < maxAttempts; i++) {
          const outcome = await sms(app.number, phone, wrongCode(rng, ...codes));
          wrongSent += 1;
          if (outcome === "verified") wrongVerified += 1;
          const state = await read(first);
          if (state.status !== "pending" || state.attemptsRemaining !== maxAttempts - i) early = true;
        }
        // A new challenge now: it starts with the attempts left, not with a fresh count.
        const second = (await create(app.sk, phone)).body;
        codes.push(second.code);
        if (second.attemptsRemaining === 1) notReset += 1;
        else violations.push(`max ${maxAttempts}: a new challenge started with ${second.attemptsRemaining} attempts`);
        // The last allowed wrong code locks the phone: both challenges fail.
        const last = await sms(app.number, phone, wrongCode(rng, ...codes));
        wrongSent += 1;
        if (last === "verified") wrongVerified += 1;
        const [s1, s2] = [await read(first), await read(second)];
        if (!early && s1.status === "failed" && s2.status === "failed") lockedExactly += 1;
        else {
          if (early) lockedEarly += 1;
          violations.push(`max ${maxAttempts}: after ${maxAttempts} wrong codes the challenges are ${s1.status}/${s2.status}${early ? " (changed early)" : ""}`);
        }
        // Locked: the right codes do nothing, nor do more wrong ones; new challenges are refused.
        for (const code of codes) {
          rightAfterLockSent += 1;
          if ((await sms(app.number, phone, code)) === "verified") rightAfterLockVerified += 1;
        }
        for (let i = 0; i < AFTER_LOCK; i++) {
          wrongSent += 1;
          if ((await sms(app.number, phone, wrongCode(rng, ...codes))) === "verified") wrongVerified += 1;
        }
        const again = await create(app.sk, phone);
        if (again.status === 423) refused423 += 1;
        else violations.push(`max ${maxAttempts}: a locked phone got ${again.status} for a new challenge`);
        const [e1, e2] = [await read(first), await read(second)];
        if (e1.status !== "failed" || e2.status !== "failed") violations.push(`max ${maxAttempts}: after the lock the challenges read ${e1.status}/${e2.status}`);
      }
    }
    const phones = policies.length * PHONES_PER_POLICY;
    writeFigure("5-brute-force", {
      policies,
      phones,
      wrongCodesSent: wrongSent,
      wrongCodesVerified: wrongVerified,
      lockedExactlyAtLimit: lockedExactly,
      lockedEarly,
      newChallengeNotReset: notReset,
      rightCodesAfterLockSent: rightAfterLockSent,
      rightCodesAfterLockVerified: rightAfterLockVerified,
      newChallengesRefused423: refused423,
      violations: violations.slice(0, 20),
    });
    expect(violations).toEqual([]);
    expect(wrongVerified).toBe(0);
    expect(rightAfterLockVerified).toBe(0);
    expect(lockedExactly).toBe(phones);
  });
});

describe("figure 7: ids and object-level authorisation", () => {
  const withoutRequestId = (text: string) => {
    const { requestId: _ignored, ...rest } = JSON.parse(text) as Record<string, unknown>;
    return JSON.stringify(rest);
  };

  test("10,000 random ids → 100 % 404 with identical bodies; cross-app reads, cancels and consumes → the same 404", async () => {
    const a = await h.createApp({ name: "Tenant A" });
    const b = await h.createApp({ name: "Tenant B" });
    const ofA: Created[] = [];
    const ofB: Created[] = [];
    for (let i = 0; i < 50; i++) {
      ofA.push((await create(a.sk, mobileAt(7_000_000 + i))).body);
      ofB.push((await create(b.sk, mobileAt(7_100_000 + i))).body);
    }
    const credentials: [string, Record<string, string>][] = [
      ["the owner's secret key", { authorization: `Bearer ${a.sk}` }],
      ["another app's secret key", { authorization: `Bearer ${b.sk}` }],
      ["a publishable key and a random poll token", { authorization: `Bearer ${a.pk}`, "x-poll-token": randomId("pt", 43) }],
      ["a random poll token", { "x-poll-token": randomId("pt", 43) }],
      ["no credentials", {}],
    ];
    const bodies = new Map<string, number>();
    const statuses: Record<string, number> = {};
    const ids = Array.from({ length: 10_000 }, () => randomId("chl"));
    await pool(ids, 16, async (id, i) => {
      const [, headers] = credentials[i % credentials.length]!;
      const res = await fetch(`${server.url}/v1/challenges/${id}`, { headers });
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const body = withoutRequestId(await res.text());
      bodies.set(body, (bodies.get(body) ?? 0) + 1);
    });
    const reference = [...bodies.keys()][0]!;

    // Cross-app: A's real challenges through B's credentials, A's publishable key without a token,
    // and B's poll tokens: every answer is the reference 404, and A's challenges do not change.
    const cross: [string, (c: Created, i: number) => Promise<Response>][] = [
      ["GET with another app's secret key", (c) => fetch(`${server.url}/v1/challenges/${c.id}`, { headers: { authorization: `Bearer ${b.sk}` } })],
      ["GET with the poll token of another app's challenge", (c, i) => fetch(`${server.url}/v1/challenges/${c.id}`, { headers: { "x-poll-token": ofB[i]!.pollToken } })],
      ["cancel with another app's secret key", (c) => fetch(`${server.url}/v1/challenges/${c.id}/cancel`, { method: "POST", headers: { authorization: `Bearer ${b.sk}` } })],
      ["cancel with another app's poll token", (c, i) => fetch(`${server.url}/v1/challenges/${c.id}/cancel`, { method: "POST", headers: { "x-poll-token": ofB[i]!.pollToken } })],
      ["consume with another app's secret key", (c) => fetch(`${server.url}/v1/challenges/${c.id}/consume`, { method: "POST", headers: { authorization: `Bearer ${b.sk}` } })],
      ["events with another app's secret key", (c) => fetch(`${server.url}/v1/challenges/${c.id}/events`, { headers: { authorization: `Bearer ${b.sk}` } })],
    ];
    let crossRequests = 0;
    const crossOff: string[] = [];
    for (const [label, send] of cross) {
      for (const [i, c] of ofA.entries()) {
        const res = await send(c, i);
        crossRequests += 1;
        const text = await res.text();
        if (res.status !== 404 || withoutRequestId(text) !== reference) crossOff.push(`${label}: ${res.status} ${text.slice(0, 120)}`);
      }
    }
    // A publishable key without a poll token is told that it needs one, in the same words for A's
    // real challenges as for random ids: the answer says nothing about the id.
    const pkOnly = new Set<string>();
    for (const id of [...ofA.map((c) => c.id), ...ids.slice(0, 50)]) {
      const res = await fetch(`${server.url}/v1/challenges/${id}`, { headers: { authorization: `Bearer ${a.pk}` } });
      pkOnly.add(`${res.status} ${withoutRequestId(await res.text())}`);
    }
    // The owner still reads them, unchanged.
    let ownerReads = 0;
    for (const c of ofA) {
      const res = await fetch(`${server.url}/v1/challenges/${c.id}`, { headers: { authorization: `Bearer ${a.sk}` } });
      const body = (await res.json()) as { status: string };
      if (res.status === 200 && body.status === "pending") ownerReads += 1;
    }
    writeFigure("7-ids", {
      randomIds: ids.length,
      credentialKinds: credentials.map(([label]) => label),
      statuses,
      distinctBodies: bodies.size,
      body: JSON.parse(reference),
      crossAppRequests: crossRequests,
      crossAppKinds: cross.map(([label]) => label),
      crossAppNot404: crossOff.length,
      crossAppSamples: crossOff.slice(0, 10),
      publishableKeyWithoutPollToken: [...pkOnly],
      ownerReadsStillPending: ownerReads,
      ownerChallenges: ofA.length,
    });
    expect(statuses).toEqual({ 404: 10_000 });
    expect(bodies.size).toBe(1);
    expect(crossOff).toEqual([]);
    expect(pkOnly.size).toBe(1);
    expect([...pkOnly][0]).toMatch(/^403 .*poll token.*"code":"FORBIDDEN"/);
    expect(ownerReads).toBe(ofA.length);
  });
});

describe("figure 11: this run's database dump and logs", () => {
  test("hold none of the phones and codes used above in clear", async () => {
    // The scanner finds what it looks for (else an empty result would prove nothing).
    const [phone] = secrets.phones;
    const [code] = secrets.codes;
    expect(findLeaks(`{"from":"${phone}","text":"${code} is my code"}`, secrets)).toEqual({ phones: [phone], codes: [code] });
    expect(findLeaks(`hash ab${code}cd ${phone!.slice(1)}x`, secrets)).toEqual({ phones: [], codes: [] });
    const privacy = await privacyScan(h, secrets);
    writeFigure("11-privacy-expiry-and-access", privacy);
    expect(privacy.leaksInDump).toEqual([]);
    expect(privacy.leaksInLogs).toEqual([]);
  });
});
