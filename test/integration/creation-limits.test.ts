// The per-phone limits policy (issue 11, item 4; docs/security.md "Per-phone limits"): the limits
// count per phone AND client, so that one client (a stranger holding the app's publishable key)
// cannot lock another out of a phone nor learn about the phone's use by others from the answers;
// a client's new challenge replaces its own oldest pending one instead of being refused; the
// lock-out after wrong codes stays the phone's, whoever asks (it is what stops guessing).
// Clients are told apart by address, as behind a trusted proxy (TRUST_PROXY=true), with a fixed
// clock so that Retry-After values are exact.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { fixedClock } from "../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";

const clock = fixedClock("2031-07-01T08:00:00.000Z");
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock, env: { TRUST_PROXY: "true", RATE_LIMIT_PHONE_PER_HOUR: "4", RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE: "1000" } });
});
afterAll(async () => {
  await h?.close();
});

const STRANGER = "198.51.100.7";
const VICTIM = "2001:db8:1:2::42";
type App = Awaited<ReturnType<Harness["createApp"]>>;
const createFrom = (app: App, ip: string, phone: string) => h.createChallenge(app.pk, { phone, purpose: "login" }, { "X-Forwarded-For": ip });
const statusOf = async (app: App, id: string) => (await h.http().get(`/v1/challenges/${id}`).set("Authorization", `Bearer ${app.sk}`)).body.status as string;

describe("one client cannot lock another out of a phone", () => {
  test("a stranger's pending challenges for a phone neither block nor replace another client's", async () => {
    const app = await h.createApp();
    const victim = await createFrom(app, VICTIM, PHONES.fr);
    expect(victim.status).toBe(201);
    // Today's flood: three (and more) challenges for the victim's phone from the stranger.
    const flood = [];
    for (let i = 0; i < 4; i++) {
      flood.push(await createFrom(app, STRANGER, PHONES.fr));
      clock.advance(1000); // "oldest" by creation time
    }
    expect(flood.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    // The stranger's fourth replaced the stranger's own oldest, never the victim's.
    expect(await statusOf(app, flood[0]!.body.id)).toBe("expired");
    expect(await statusOf(app, victim.body.id)).toBe("pending");
    // The victim, the app's backend and a third client are all still served.
    expect((await createFrom(app, VICTIM, PHONES.fr)).status).toBe(201);
    expect((await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" })).status).toBe(201);
    expect((await createFrom(app, "203.0.113.99", PHONES.fr)).status).toBe(201);
    // And the victim's challenge still verifies by SMS.
    const sms = await h.sendSms({ from: PHONES.fr, to: app.number, text: victim.body.smsBody });
    expect(sms.body.results[0].outcome).toBe("verified");
  });

  test("a stranger who used up the hourly limit for a phone is refused alone; other clients are not", async () => {
    const app = await h.createApp();
    for (let i = 0; i < 4; i++) expect((await createFrom(app, STRANGER, PHONES.de)).status).toBe(201);
    const refused = await createFrom(app, STRANGER, PHONES.de);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: "RATE_LIMITED", reason: "phone" });
    expect(refused.headers["retry-after"]).toBe("3600");
    // The victim's own allowance is whole: four creations, then its own limit.
    for (let i = 0; i < 4; i++) expect((await createFrom(app, VICTIM, PHONES.de)).status).toBe(201);
    expect((await createFrom(app, VICTIM, PHONES.de)).status).toBe(429);
    // The backend (secret key) is a client of its own.
    expect((await h.createChallenge(app.sk, { phone: PHONES.de, purpose: "login" })).status).toBe(201);
  });
});

describe("the answers tell a client about its own use only", () => {
  test("after a stranger's flood, the victim's answers are those of a phone never used; its Retry-After counts from its own first creation", async () => {
    const app = await h.createApp();
    const fresh = await createFrom(app, VICTIM, PHONES.gb);
    expect(fresh.status).toBe(201);
    const other = await h.createApp();
    for (let i = 0; i < 4; i++) await createFrom(other, STRANGER, PHONES.gb);
    expect((await createFrom(other, STRANGER, PHONES.gb)).status).toBe(429);

    clock.advance(30 * 60_000);
    // The same answer as for a phone no one asked for: 201, all attempts, no trace of the flood.
    const first = await createFrom(other, VICTIM, PHONES.gb);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: "pending", attemptsRemaining: fresh.body.attemptsRemaining });
    for (let i = 0; i < 3; i++) expect((await createFrom(other, VICTIM, PHONES.gb)).status).toBe(201);
    clock.advance(60_000);
    // Its own limit, with a Retry-After from its own oldest creation (59 min left), not the stranger's (29).
    const own = await createFrom(other, VICTIM, PHONES.gb);
    expect(own.status).toBe(429);
    expect(own.headers["retry-after"]).toBe(String(59 * 60));
  });
});

describe("the lock-out after wrong codes stays the phone's, whoever asks", () => {
  test("wrong codes from the phone lock it for every client of the app (423), and for no other app", async () => {
    const app = await h.createApp({ maxAttempts: 2 });
    const c = await createFrom(app, VICTIM, PHONES.fr2);
    const wrong = c.body.code === "111111" ? "222222" : "111111";
    for (let i = 0; i < 2; i++) {
      expect((await h.sendSms({ from: PHONES.fr2, to: app.number, text: wrong })).body.results[0].outcome).toBe("wrong_code");
    }
    for (const res of [await createFrom(app, VICTIM, PHONES.fr2), await createFrom(app, STRANGER, PHONES.fr2), await h.createChallenge(app.sk, { phone: PHONES.fr2, purpose: "login" })]) {
      expect(res.status).toBe(423);
      expect(res.body.code).toBe("PHONE_LOCKED");
    }
    const otherApp = await h.createApp();
    expect((await createFrom(otherApp, STRANGER, PHONES.fr2)).status).toBe(201);
  });
});
