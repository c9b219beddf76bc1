// The money and abuse guard with its counting queries on a real database: caps per phone, per
// number prefix and per app trip at their limits with a clear problem, a metric and a log line;
// premium and other non-mobile numbers and other countries are refused before anything is counted;
// the conversion switch pauses an app whose sent codes are not being verified, and lets one whose
// codes are used go on. Nothing is enqueued by a refused check.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { parsePhone } from "../../../src/challenges/phone.js";
import { createAbuseGuard } from "../../../src/outbound/abuse-guard.js";
import { fixedClock } from "../../../src/shared/clock.js";
import { AppError } from "../../../src/shared/errors.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import { startStandIn, type StandIn } from "../../support/outbound/stand-in.js";

const clock = fixedClock("2026-12-03T11:00:00.000Z");
let h: Harness;
let gateway: StandIn;

beforeAll(async () => {
  gateway = await startStandIn({ status: 200 });
  h = await startHarness({
    clock,
    env: { GENERIC_OUTBOUND_URL: gateway.url, OUTBOUND_CAP_PHONE_PER_HOUR: "2", OUTBOUND_CAP_PREFIX_PER_HOUR: "3", OUTBOUND_CAP_COUNTRY_PER_HOUR: "10", OUTBOUND_CAP_APP_PER_DAY: "6", OUTBOUND_MIN_CONVERSION_PERCENT: "50", OUTBOUND_CONVERSION_MIN_SENT: "4" },
  });
});
afterAll(async () => {
  await h.close();
  await gateway.close();
});

const phone = (e164: string) => {
  const parsed = parsePhone(e164, {});
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.phone;
};
const guard = () => h.runtime.outbound.guard;
const refusal = async (p: Promise<unknown>) => {
  const error = await p.then(() => undefined, (e: unknown) => e);
  return error instanceof AppError ? { code: error.code, status: error.status, reason: error.extra.reason, retryAfter: error.extra.retryAfterSeconds } : error;
};
async function send(appId: string, from: string, e164: string, challengeId?: string) {
  const p = phone(e164);
  await guard().check({ channel: "sms", appId, phone: p, allowedCountries: ["FR", "DE", "GB"] });
  await h.runtime.outbound.outbox.enqueue({ channel: "sms", appId, ...(challengeId ? { challengeId } : {}), provider: "generic", from, to: p, text: "123456 is your code" });
}

describe("destinations", () => {
  test.each([
    ["a French premium-rate number", "+33899123456", "PHONE_NOT_MOBILE", "number_type"],
    ["a French shared-cost number", "+33810123456", "PHONE_NOT_MOBILE", "number_type"],
    ["a UK personal (forwarding) number", "+447012345678", "PHONE_NOT_MOBILE", "number_type"],
    ["a German fixed line", "+4930123456", "PHONE_NOT_MOBILE", "number_type"],
    ["a Spanish mobile (country not allowed)", "+34612345678", "COUNTRY_NOT_ALLOWED", "country"],
  ])("%s is refused (422) and nothing is counted", async (_what, e164, code, reason) => {
    const { appId, number } = await h.createApp();
    const parsed = parsePhone(e164, {});
    const p = parsed.ok ? parsed.phone : { e164, country: e164.startsWith("+33") ? "FR" : e164.startsWith("+44") ? "GB" : e164.startsWith("+49") ? "DE" : "ES", type: e164 === "+33899123456" ? "PREMIUM_RATE" : "FIXED_LINE", masked: "" };
    expect(await refusal(guard().check({ channel: "sms", appId, phone: p, allowedCountries: ["FR", "DE", "GB"] }))).toMatchObject({ code, status: 422, reason });
    void number;
  });
});

describe("caps", () => {
  test("per phone per hour: the third code to one number within the hour is refused, an hour later it passes", async () => {
    const { appId, number } = await h.createApp();
    await send(appId, number, PHONES.de);
    await send(appId, number, PHONES.de);
    const before = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbound_messages`);
    expect(await refusal(send(appId, number, PHONES.de))).toEqual({ code: "OUTBOUND_CAP_REACHED", status: 429, reason: "recipient", retryAfter: 3600 });
    expect(await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbound_messages`)).toEqual(before);
    expect(h.logs()).toContain('"cap":"recipient"');
    clock.advance(3600_001);
    await send(appId, number, PHONES.de);
  });

  test("per prefix per hour, across apps (pumping spreads over numbers of one range)", async () => {
    const a = await h.createApp();
    const b = await h.createApp();
    await send(a.appId, a.number, "+447400111111");
    await send(a.appId, a.number, "+447400111112");
    await send(b.appId, b.number, "+447400111113");
    expect(await refusal(send(b.appId, b.number, "+447400111114"))).toMatchObject({ code: "OUTBOUND_CAP_REACHED", reason: "prefix" });
    await send(b.appId, b.number, "+447500111115"); // another range
  });

  test("per app per day", async () => {
    const { appId, number } = await h.createApp();
    for (const n of ["+33611000001", "+33622000002", "+33633000003", "+33644000004", "+33655000005", "+33666000006"]) await send(appId, number, n);
    expect(await refusal(send(appId, number, "+33677000007"))).toMatchObject({ code: "OUTBOUND_CAP_REACHED", reason: "app", retryAfter: 86_400 });
    const metrics = (await h.http().get("/metrics")).text;
    expect(metrics).toMatch(/reverse_otp_outbound_caps_tripped_total\{cap="app"\} 1/);
    expect(metrics).toMatch(/reverse_otp_outbound_caps_tripped_total\{cap="recipient"\} 1/);
  });
});

test("per country per hour, across apps and prefixes", async () => {
  clock.advance(3600_001); // a fresh hour for this test
  const apps = [await h.createApp(), await h.createApp()];
  for (let i = 0; i < 10; i++) await send(apps[i % 2]!.appId, apps[i % 2]!.number, `+3367${i}0000${String(10 + i)}`);
  expect(await refusal(send(apps[0]!.appId, apps[0]!.number, "+33799000011"))).toMatchObject({ code: "OUTBOUND_CAP_REACHED", reason: "country", retryAfter: 3600 });
  await send(apps[0]!.appId, apps[0]!.number, "+4915123400011"); // another country
});

describe("the conversion switch", () => {
  async function sentCodes(app: { appId: string; number: string; pk: string }, count: number, verify: number) {
    for (let i = 0; i < count; i++) {
      const e164 = `+4917${String(10000000 + i + count * 100).padStart(8, "0")}`;
      const created = await h.createChallenge(app.pk, { phone: e164, purpose: "login" });
      expect(created.status).toBe(201);
      await h.runtime.outbound.outbox.enqueue({ channel: "sms", appId: app.appId, challengeId: created.body.id, provider: "generic", from: app.number, to: { e164, country: "DE" }, text: "x" });
      if (i < verify) expect((await h.sendSms({ from: e164, to: app.number, text: created.body.smsBody })).status).toBe(200);
    }
    await h.runtime.outbound.dispatcher.runOnce();
  }

  test("pauses an app whose codes go out and are not verified (SMS pumping), not one whose codes are used", async () => {
    const pumped = await h.createApp({ name: "Pumped" });
    const healthy = await h.createApp({ name: "Healthy" });
    await sentCodes(pumped, 4, 1); // 25 % < 50 %
    await sentCodes(healthy, 4, 2); // 50 %
    const check = (app: { appId: string }) => guard().check({ channel: "sms", appId: app.appId, phone: phone("+4915199999999"), allowedCountries: ["DE"] });
    expect(await refusal(check(pumped))).toMatchObject({ code: "OUTBOUND_PAUSED", status: 429, reason: "conversion" });
    await expect(check(healthy)).resolves.toBeUndefined();
    expect(h.logs()).toContain('"cap":"conversion"');
    // An hour later the window has moved on.
    clock.advance(3600_001);
    await expect(check(pumped)).resolves.toBeUndefined();
  });
});

test("e-mail sends count per address (its keyed digest, whatever the letter case) with the same caps", async () => {
  const { appId } = await h.createApp();
  const check = (email: string) => guard().check({ channel: "email", appId, email });
  for (const email of ["Jane@Example.com", "jane@example.com"]) {
    await check(email);
    await h.runtime.outbound.outbox.enqueue({ channel: "email", appId, to: email, subject: "s", text: "t", html: "h" });
  }
  expect(await refusal(check("JANE@example.COM"))).toMatchObject({ code: "OUTBOUND_CAP_REACHED", reason: "recipient" });
  await expect(check("john@example.com")).resolves.toBeUndefined();
});
