// The whole flow through HTTP: create a challenge, the user texts the code, the app sees "verified"
// and consumes it once.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { PHONES, startHarness, type Harness } from "../support/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe("the reverse-OTP flow", () => {
  test("a challenge is verified by an SMS from its phone carrying its code, then consumed once", async () => {
    const app = await h.createApp({ name: "Acme Bank" });
    const created = await h.createChallenge(app.pk, { phone: "06 12 34 56 78", country: "FR", purpose: "login" });
    expect(created.status).toBe(201);
    const c = created.body;
    expect(c).toMatchObject({
      status: "pending",
      purpose: "login",
      smsTo: app.number,
      attemptsRemaining: 5,
    });
    expect(c.id).toMatch(/^chl_[0-9A-Za-z]{22}$/);
    expect(c.code).toMatch(/^\d{6}$/);
    expect(c.phoneMasked).not.toContain("12345678");
    expect(c.smsBody).toContain(c.code);
    expect(c.smsBody).toContain("Acme Bank");
    expect(c.smsUri.ios).toBe(`sms:${app.number}&body=${encodeURIComponent(c.smsBody)}`);
    expect(c.smsUri.android).toBe(`sms:${app.number}?body=${encodeURIComponent(c.smsBody)}`);
    expect(Object.keys(c).sort()).toEqual(
      ["id", "status", "purpose", "phoneMasked", "code", "smsTo", "smsBody", "smsUri", "expiresAt", "pollToken", "attemptsRemaining", "channel"].sort(),
    );

    const before = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
    expect(before.status).toBe(200);
    expect(before.body.status).toBe("pending");
    expect(before.headers["cache-control"]).toBe("no-store");

    const sms = await h.sendSms({ from: PHONES.fr, to: app.number, text: c.smsBody });
    expect(sms.status).toBe(200);
    expect(sms.body.results[0].outcome).toBe("verified");

    const after = await h.http().get(`/v1/challenges/${c.id}`).set("Authorization", `Bearer ${app.sk}`);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ id: c.id, status: "verified", consumedAt: null });
    expect(typeof after.body.verifiedAt).toBe("string");
    expect(Object.keys(after.body).sort()).toEqual(
      ["id", "status", "purpose", "phoneMasked", "createdAt", "expiresAt", "verifiedAt", "consumedAt", "attemptsRemaining", "channel"].sort(),
    );

    const consumed = await h.http().post(`/v1/challenges/${c.id}/consume`).set("Authorization", `Bearer ${app.sk}`);
    expect(consumed.status).toBe(200);
    expect(typeof consumed.body.consumedAt).toBe("string");
    const again = await h.http().post(`/v1/challenges/${c.id}/consume`).set("Authorization", `Bearer ${app.sk}`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("CHALLENGE_ALREADY_CONSUMED");
    expect(again.headers["content-type"]).toMatch(/^application\/problem\+json/);
  });

  test("the code is found when the user types it alone, in groups, or with other words", async () => {
    const app = await h.createApp();
    for (const shape of [(code: string) => code, (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`, (code: string) => `Hi, my code is «${code}» thanks!`]) {
      const c = (await h.createChallenge(app.sk, { phone: PHONES.de, purpose: "signup" })).body;
      const sms = await h.sendSms({ from: PHONES.de, to: app.number, text: shape(c.code) });
      expect(sms.body.results[0].outcome).toBe("verified");
    }
  });

  test("an SMS from another phone does not verify the challenge", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" })).body;
    const sms = await h.sendSms({ from: PHONES.de, to: app.number, text: c.code });
    expect(sms.status).toBe(200);
    expect(sms.body.results[0].outcome).toBe("no_pending_challenge");
    const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
    expect(read.body.status).toBe("pending");
  });

  test("an SMS to a number of another app does not verify the challenge", async () => {
    const app = await h.createApp();
    const other = await h.createApp();
    const c = (await h.createChallenge(app.sk, { phone: PHONES.gb, purpose: "login" })).body;
    const sms = await h.sendSms({ from: PHONES.gb, to: other.number, text: c.code });
    expect(sms.body.results[0].outcome).toBe("no_pending_challenge");
    const unknown = await h.sendSms({ from: PHONES.gb, to: "+447400000999", text: c.code });
    expect(unknown.body.results[0].outcome).toBe("unknown_number");
    const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
    expect(read.body.status).toBe("pending");
  });

  test("cancel moves a pending challenge to cancelled, once", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.pk, { phone: PHONES.fr2, purpose: "profile_change" })).body;
    const cancelled = await h.http().post(`/v1/challenges/${c.id}/cancel`).set("X-Poll-Token", c.pollToken);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    const again = await h.http().post(`/v1/challenges/${c.id}/cancel`).set("Authorization", `Bearer ${app.sk}`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("CHALLENGE_NOT_PENDING");
    const sms = await h.sendSms({ from: PHONES.fr2, to: app.number, text: c.code });
    expect(sms.body.results[0].outcome).not.toBe("verified");
  });

  test("consume refuses a challenge that is not verified, and publishable keys", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "appointment" })).body;
    const notVerified = await h.http().post(`/v1/challenges/${c.id}/consume`).set("Authorization", `Bearer ${app.sk}`);
    expect(notVerified.status).toBe(409);
    expect(notVerified.body.code).toBe("CHALLENGE_NOT_VERIFIED");
    const withPk = await h.http().post(`/v1/challenges/${c.id}/consume`).set("Authorization", `Bearer ${app.pk}`);
    expect(withPk.status).toBe(403);
  });
});
