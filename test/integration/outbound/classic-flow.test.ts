// The classic direction end to end, through HTTP: a `sms` challenge is sent through each provider's
// documented request to a local stand-in of that provider's API (method, path and auth asserted here;
// the fields and the SDK oracles are test/unit/outbound/senders.test.ts), its code read from what
// the provider received, typed → verified → consumed once. Wrong typed codes count in the phone's
// counter with wrong texted codes, and lock out across both directions; a fallback kills the old
// code; caps and country rules refuse with problem+json and send nothing; e-mail goes through a
// real SMTP server (smtp-server) and its code verifies.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { AddressInfo } from "node:net";
import { startHarness, type Harness } from "../../support/harness.js";
import { startStandIn, type StandIn } from "../../support/outbound/stand-in.js";

let h: Harness;
let stand: StandIn;
let smtp: SMTPServer;
const mails: string[] = [];
let phoneCounter = 0;
/** A fresh French mobile per test (the per-recipient cap counts across apps). */
const nextPhone = () => `+3361${String(4_000_000 + phoneCounter++).padStart(7, "0")}`;

const TWILIO_SID = `AC${"a1".repeat(16)}`;
const BIRD_NUMBER = "+447400000990";

beforeAll(async () => {
  stand = await startStandIn({ status: 500, body: "no answer scripted" });
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push(Buffer.concat(chunks).toString("utf8"));
        done();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  h = await startHarness({
    env: {
      TWILIO_ACCOUNT_SID: TWILIO_SID,
      TWILIO_AUTH_TOKEN: "0123456789abcdef0123456789abcdef",
      TWILIO_API_BASE_URL: `${stand.url}/twilio`,
      VONAGE_API_KEY: "vonage-key",
      VONAGE_API_SECRET: "vonage-secret",
      VONAGE_API_BASE_URL: `${stand.url}/vonage`,
      PLIVO_AUTH_ID: "MAXXXXXXXXXXXXXXXXXX",
      PLIVO_AUTH_TOKEN: "plivo-auth-token-0123456789abcdef",
      PLIVO_API_BASE_URL: `${stand.url}/plivo`,
      TELNYX_API_KEY: "KEY0123456789",
      TELNYX_API_BASE_URL: `${stand.url}/telnyx`,
      SINCH_SERVICE_PLAN_ID: "jd63jf88477ll123ab4567cd89012ef3",
      SINCH_API_TOKEN: "sinch-token",
      SINCH_API_BASE_URL: `${stand.url}/sinch`,
      INFOBIP_API_KEY: "infobip-key",
      INFOBIP_API_BASE_URL: `${stand.url}/infobip`,
      SMSMODE_ACCESS_TOKEN: "smsmode-token",
      SMSMODE_API_BASE_URL: `${stand.url}/smsmode`,
      BIRD_ACCESS_KEY: "bird-key",
      BIRD_WORKSPACE_ID: "ws-1",
      BIRD_SMS_CHANNELS: `${BIRD_NUMBER}=ch-1`,
      BIRD_API_BASE_URL: `${stand.url}/bird`,
      MESSAGEBIRD_ACCESS_KEY: "mb-access-key",
      MESSAGEBIRD_API_BASE_URL: `${stand.url}/messagebird`,
      GENERIC_OUTBOUND_URL: `${stand.url}/generic/sms`,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      EMAIL_FROM: "Acme <no-reply@acme.example>",
      ADMIN_TOKEN: "classic-flow-admin-token-0123456789",
    },
  });
});
afterAll(async () => {
  await h?.runtime.outbound.close();
  await h?.close();
  await stand.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

const basic = (header: string | undefined) => Buffer.from((header ?? "").replace(/^Basic /, ""), "base64").toString("utf8");
const form = (body: Buffer) => Object.fromEntries(new URLSearchParams(body.toString("utf8")));
const json = (body: Buffer) => JSON.parse(body.toString("utf8")) as Record<string, unknown>;

/** Each provider: the answer its API gives to an accepted message, and what its request must be. */
const PROVIDERS: {
  name: string;
  number?: string;
  answer: { status: number; body?: string | object };
  path: string;
  auth: (authorization: string | undefined) => void;
  text: (body: Buffer) => string;
}[] = [
  {
    name: "twilio",
    answer: { status: 201, body: { sid: "SM0123456789abcdef0123456789abcdef", status: "queued" } },
    path: `/twilio/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`,
    auth: (a) => expect(basic(a)).toBe(`${TWILIO_SID}:0123456789abcdef0123456789abcdef`),
    text: (b) => form(b).Body!,
  },
  {
    name: "vonage",
    answer: { status: 200, body: { "message-count": "1", messages: [{ "message-id": "0C000000217B7F02", status: "0" }] } },
    path: "/vonage/sms/json",
    auth: () => undefined, // api_key and api_secret are form fields (checked below)
    text: (b) => {
      expect(form(b)).toMatchObject({ api_key: "vonage-key", api_secret: "vonage-secret" });
      return form(b).text!;
    },
  },
  {
    name: "plivo",
    answer: { status: 202, body: { api_id: "a", message: "message(s) queued", message_uuid: ["db3ce55a-7f1d-11e1-8ea7-1231380bc196"] } },
    path: "/plivo/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/",
    auth: (a) => expect(basic(a)).toBe("MAXXXXXXXXXXXXXXXXXX:plivo-auth-token-0123456789abcdef"),
    text: (b) => json(b).text as string,
  },
  {
    name: "telnyx",
    answer: { status: 200, body: { data: { id: "40385f64-5717-4562-b3fc-2c963f66afa6" } } },
    path: "/telnyx/v2/messages",
    auth: (a) => expect(a).toBe("Bearer KEY0123456789"),
    text: (b) => json(b).text as string,
  },
  {
    name: "sinch",
    answer: { status: 201, body: { id: "01FC66621XXXXX119Z8PMV1QPQ" } },
    path: "/sinch/xms/v1/jd63jf88477ll123ab4567cd89012ef3/batches",
    auth: (a) => expect(a).toBe("Bearer sinch-token"),
    text: (b) => json(b).body as string,
  },
  {
    name: "infobip",
    answer: { status: 200, body: { bulkId: "b", messages: [{ status: { groupId: 1, groupName: "PENDING" }, messageId: "x" }] } },
    path: "/infobip/sms/2/text/advanced",
    auth: (a) => expect(a).toBe("App infobip-key"),
    text: (b) => (json(b).messages as { text: string }[])[0]!.text,
  },
  {
    name: "smsmode",
    answer: { status: 200, body: "0 | Accepté | ZlxGFpoCzLjr" },
    path: "/smsmode/http/1.6/sendSMS.do",
    auth: () => undefined, // accessToken is a form field (checked below)
    text: (b) => {
      const fields = Object.fromEntries(new URLSearchParams(b.toString("latin1")));
      expect(fields.accessToken).toBe("smsmode-token");
      return fields.message!;
    },
  },
  {
    name: "bird",
    number: BIRD_NUMBER,
    answer: { status: 202, body: { id: "f0e0d8c3-7b4e-4a9e-9f4a-0a0b0c0d0e0f", status: "accepted" } },
    path: "/bird/workspaces/ws-1/channels/ch-1/messages",
    auth: (a) => expect(a).toBe("AccessKey bird-key"),
    text: (b) => ((json(b).body as { text: { text: string } }).text.text),
  },
  {
    name: "messagebird",
    answer: { status: 201, body: { id: "e8077d803532c0b5937c639b60216938" } },
    path: "/messagebird/messages",
    auth: (a) => expect(a).toBe("AccessKey mb-access-key"),
    text: (b) => json(b).body as string,
  },
  {
    name: "generic",
    answer: { status: 204 },
    path: "/generic/sms",
    auth: () => undefined, // Standard Webhooks signature (test/unit/outbound/senders.test.ts)
    text: (b) => json(b).text as string,
  },
];

async function outboundApp(provider = "generic", extra: Record<string, unknown> = {}, number?: string) {
  return h.createApp({
    numbers: [{ number: number ?? `+4474000${String(10_000 + phoneCounter++).slice(-5)}`, provider }],
    channels: ["sms_mo", "sms", "email"],
    outboundCountries: ["FR"],
    ...extra,
  });
}

const post = (path: string, key: string, body: unknown) => h.http().post(path).set("Authorization", `Bearer ${key}`).send(body as object);
const codeOf = (text: string) => /^(\d{4,8})\b/.exec(text)?.[1];
const countOutbound = async () => (await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbound_messages`))[0]!.n;

describe("a sms challenge through each provider's API", () => {
  test.each(PROVIDERS.map((p) => [p.name, p] as const))("%s: sent as documented, typed, verified, consumed once", async (_name, p) => {
    const app = await outboundApp(p.name, {}, p.number);
    const phone = nextPhone();
    const created = await h.createChallenge(app.sk, { phone, purpose: "login", channel: "sms" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ channel: "sms", status: "pending", delivery: { status: "queued" } });
    expect(created.body.code).toBeUndefined();
    expect(created.body.smsBody).toBeUndefined();

    stand.reset();
    stand.answer(p.answer);
    await h.runtime.outbound.dispatcher.runOnce();
    expect(stand.requests).toHaveLength(1);
    const req = stand.last();
    expect([req.method, req.path]).toEqual(["POST", p.path]);
    p.auth(req.headers.authorization);
    const code = codeOf(p.text(req.body));
    expect(code).toMatch(/^\d{6}$/);

    const seen = await h.http().get(`/v1/challenges/${created.body.id}`).set("Authorization", `Bearer ${app.sk}`);
    expect(seen.body).toMatchObject({ channel: "sms", delivery: { status: "sent" } });

    const checked = await post(`/v1/challenges/${created.body.id}/check`, app.sk, { code });
    expect(checked.status).toBe(200);
    expect(checked.body).toMatchObject({ status: "verified", channel: "sms" });
    expect((await post(`/v1/challenges/${created.body.id}/consume`, app.sk, {})).status).toBe(200);
    const again = await post(`/v1/challenges/${created.body.id}/consume`, app.sk, {});
    expect([again.status, again.body.code]).toEqual([409, "CHALLENGE_ALREADY_CONSUMED"]);
    // The right code once more: the challenge is no longer pending.
    expect((await post(`/v1/challenges/${created.body.id}/check`, app.sk, { code })).body.code).toBe("CHALLENGE_NOT_PENDING");
  });
});

describe("wrong codes, one counter per phone", () => {
  test("wrong typed codes count with wrong texted codes and lock the phone out in both directions", async () => {
    const app = await outboundApp("generic", { maxAttempts: 3 });
    const phone = nextPhone();
    const reverse = await h.createChallenge(app.sk, { phone, purpose: "login" });
    expect(reverse.status).toBe(201);
    // One wrong code by SMS…
    const sms = await h.sendSms({ from: phone, to: app.number, text: "000000" === reverse.body.code ? "111111" : "000000" });
    expect(sms.body.results[0].outcome).toBe("wrong_code");
    // …then wrong typed codes: the same counter (3 allowed in all).
    const sent = await h.createChallenge(app.sk, { phone, purpose: "login", channel: "sms" });
    expect(sent.status).toBe(201);
    stand.reset();
    stand.answer({ status: 204 });
    await h.runtime.outbound.dispatcher.runOnce();
    const code = codeOf(json(stand.last().body).text as string)!;
    const wrong = code === "999999" ? "999998" : "999999";
    const first = await post(`/v1/challenges/${sent.body.id}/check`, app.sk, { code: wrong });
    expect([first.status, first.body.code, first.body.attemptsRemaining]).toEqual([422, "WRONG_CODE", 1]);
    expect(first.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const last = await post(`/v1/challenges/${sent.body.id}/check`, app.sk, { code: wrong });
    expect([last.status, last.body.attemptsRemaining]).toEqual([422, 0]);
    // Both challenges failed, the right code no longer verifies, and the phone is locked out.
    for (const id of [reverse.body.id, sent.body.id]) {
      expect((await h.http().get(`/v1/challenges/${id}`).set("Authorization", `Bearer ${app.sk}`)).body.status).toBe("failed");
    }
    expect((await post(`/v1/challenges/${sent.body.id}/check`, app.sk, { code })).body.code).toBe("CHALLENGE_NOT_PENDING");
    expect((await h.createChallenge(app.sk, { phone, purpose: "login" })).body.code).toBe("PHONE_LOCKED");
    expect((await h.createChallenge(app.sk, { phone, purpose: "login", channel: "sms" })).body.code).toBe("PHONE_LOCKED");
  });

  test("a right code clears the count; the poll token may check; a publishable key alone may not", async () => {
    const app = await outboundApp("generic");
    const phone = nextPhone();
    const sent = await h.createChallenge(app.pk, { phone, purpose: "signup", channel: "sms" });
    expect(sent.status).toBe(201);
    stand.reset();
    stand.answer({ status: 204 });
    await h.runtime.outbound.dispatcher.runOnce();
    const code = codeOf(json(stand.last().body).text as string)!;
    const byKey = await post(`/v1/challenges/${sent.body.id}/check`, app.pk, { code });
    expect([byKey.status, byKey.body.reason]).toEqual([403, "POLL_TOKEN_REQUIRED"]);
    const wrong = await h.http().post(`/v1/challenges/${sent.body.id}/check`).set("X-Poll-Token", sent.body.pollToken).send({ code: "12-34 56" === code ? "000000" : "12-34 56" });
    expect(wrong.status).toBe(422);
    const right = await h.http().post(`/v1/challenges/${sent.body.id}/check`).set("X-Poll-Token", sent.body.pollToken).send({ code: ` ${code.slice(0, 3)} ${code.slice(3)} ` });
    expect([right.status, right.body.status]).toEqual([200, "verified"]);
    const [failures] = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM phone_failures WHERE app_id = $1`, [app.appId]);
    expect(failures!.n).toBe(0);
  });

  test("a texted copy of a sent code verifies nothing (sent codes are typed), and a reverse challenge takes no typed code", async () => {
    const app = await outboundApp("generic");
    const phone = nextPhone();
    const sent = await h.createChallenge(app.sk, { phone, purpose: "login", channel: "sms" });
    stand.reset();
    stand.answer({ status: 204 });
    await h.runtime.outbound.dispatcher.runOnce();
    const code = codeOf(json(stand.last().body).text as string)!;
    const sms = await h.sendSms({ from: phone, to: app.number, text: code });
    expect(sms.body.results[0].outcome).not.toBe("verified");
    const reverse = await h.createChallenge(app.sk, { phone: nextPhone(), purpose: "login" });
    const typed = await post(`/v1/challenges/${reverse.body.id}/check`, app.sk, { code: reverse.body.code });
    expect([typed.status, typed.body.code]).toEqual([409, "CHANNEL_NOT_ALLOWED"]);
    expect((await h.http().get(`/v1/challenges/${sent.body.id}`).set("Authorization", `Bearer ${app.sk}`)).body.status).toBe("pending");
  });
});

describe("fallback", () => {
  test("a pending reverse challenge switches to sms: a new code is sent, the old one verifies nothing", async () => {
    const app = await outboundApp("generic");
    const phone = nextPhone();
    const reverse = await h.createChallenge(app.pk, { phone, purpose: "login" });
    const oldCode = reverse.body.code as string;
    const switched = await h.http().post(`/v1/challenges/${reverse.body.id}/fallback`).set("X-Poll-Token", reverse.body.pollToken).send({ channel: "sms" });
    expect(switched.status).toBe(200);
    expect(switched.body).toMatchObject({ id: reverse.body.id, status: "pending", channel: "sms", delivery: { status: "queued" } });
    stand.reset();
    stand.answer({ status: 204 });
    await h.runtime.outbound.dispatcher.runOnce();
    const sentTo = json(stand.last().body);
    expect(sentTo.to).toBe(phone);
    const newCode = codeOf(sentTo.text as string)!;
    // The old code, texted or typed, is dead.
    expect((await h.sendSms({ from: phone, to: app.number, text: reverse.body.smsBody })).body.results[0].outcome).not.toBe("verified");
    if (oldCode !== newCode) {
      expect((await post(`/v1/challenges/${reverse.body.id}/check`, app.sk, { code: oldCode })).body.code).toBe("WRONG_CODE");
    }
    expect((await post(`/v1/challenges/${reverse.body.id}/check`, app.sk, { code: newCode })).body.status).toBe("verified");
    // The sealed phone is gone once the challenge left sms_mo.
    const [row] = await h.db.query<{ phone_sealed: string | null }>(`SELECT phone_sealed FROM challenges WHERE id = $1`, [reverse.body.id]);
    expect(row!.phone_sealed).toBeNull();
    // Not pending any more: 409.
    const late = await post(`/v1/challenges/${reverse.body.id}/fallback`, app.sk, { channel: "sms" });
    expect([late.status, late.body.code]).toEqual([409, "CHALLENGE_NOT_PENDING"]);
  });

  test("a channel the app does not allow is a 409, and nothing is sent", async () => {
    const app = await h.createApp();
    const reverse = await h.createChallenge(app.sk, { phone: nextPhone(), purpose: "login" });
    const before = await countOutbound();
    const refused = await post(`/v1/challenges/${reverse.body.id}/fallback`, app.sk, { channel: "sms" });
    expect([refused.status, refused.body.code]).toEqual([409, "CHANNEL_NOT_ALLOWED"]);
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const created = await h.createChallenge(app.sk, { phone: nextPhone(), purpose: "login", channel: "email", email: "jane@example.com" });
    expect([created.status, created.body.code]).toEqual([409, "CHANNEL_NOT_ALLOWED"]);
    expect(await countOutbound()).toBe(before);
  });
});

describe("money and abuse rules refuse before anything is written", () => {
  test("a country outside --outbound-countries, a non-mobile number, and the per-recipient cap: problem+json, nothing sent or stored", async () => {
    const app = await outboundApp("generic");
    const rowsBefore = await h.countRows();
    const outboxBefore = await countOutbound();
    const german = await h.createChallenge(app.sk, { phone: "+4915123456789", purpose: "login", channel: "sms" });
    expect([german.status, german.body.code]).toEqual([422, "COUNTRY_NOT_ALLOWED"]);
    const landline = await h.createChallenge(app.sk, { phone: "+33142685300", purpose: "login", channel: "sms" });
    expect([landline.status, landline.body.code]).toEqual([422, "PHONE_NOT_MOBILE"]);
    expect((await h.countRows()).challenges).toBe(rowsBefore.challenges);
    expect(await countOutbound()).toBe(outboxBefore);

    const phone = nextPhone();
    const capApp = await outboundApp("generic", { rateLimitPhonePerHour: 100 });
    for (let i = 0; i < h.config.outbound.caps.phonePerHour; i++) {
      const ok = await h.createChallenge(capApp.sk, { phone, purpose: "login", channel: "sms" });
      expect(ok.status).toBe(201);
      await post(`/v1/challenges/${ok.body.id}/cancel`, capApp.sk, {});
    }
    const queued = await countOutbound();
    const capped = await h.createChallenge(capApp.sk, { phone, purpose: "login", channel: "sms" });
    expect([capped.status, capped.body.code, capped.body.reason]).toEqual([429, "OUTBOUND_CAP_REACHED", "recipient"]);
    expect(capped.headers["retry-after"]).toBeDefined();
    expect(await countOutbound()).toBe(queued);
    stand.reset();
    stand.answer({ status: 204 }, { status: 204 }, { status: 204 }, { status: 204 }, { status: 204 });
    await h.runtime.outbound.dispatcher.runOnce();
  });

  test("email needs an address; an address needs channel email", async () => {
    const app = await outboundApp("generic");
    const missing = await h.createChallenge(app.sk, { phone: nextPhone(), purpose: "login", channel: "email" });
    expect([missing.status, missing.body.code]).toEqual([400, "VALIDATION_FAILED"]);
    const stray = await h.createChallenge(app.sk, { phone: nextPhone(), purpose: "login", email: "jane@example.com" });
    expect([stray.status, stray.body.code]).toEqual([400, "VALIDATION_FAILED"]);
  });
});

describe("e-mail", () => {
  test("the code goes through a real SMTP server, code first in the subject, and verifies when typed", async () => {
    const app = await outboundApp("generic");
    const created = await h.createChallenge(app.sk, { phone: nextPhone(), purpose: "login", channel: "email", email: "jane@example.com", locale: "de" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ channel: "email", delivery: { status: "queued" } });
    mails.length = 0;
    await h.runtime.outbound.dispatcher.runOnce();
    expect(mails).toHaveLength(1);
    const mail = await simpleParser(mails[0]!);
    const code = codeOf(mail.subject ?? "")!;
    expect(code).toMatch(/^\d{6}$/);
    expect(mail.text).toContain(code);
    expect(mail.to && "text" in mail.to ? mail.to.text : "").toContain("jane@example.com");
    const checked = await post(`/v1/challenges/${created.body.id}/check`, app.sk, { code });
    expect(checked.body).toMatchObject({ status: "verified", channel: "email", delivery: { status: "sent" } });
  });
});

describe("delivery reports and the dashboard", () => {
  test("a signed delivery report moves the delivery to delivered; the dashboard shows channels, delivery rate and delay", async () => {
    const app = await outboundApp("generic");
    const created = await h.createChallenge(app.sk, { phone: nextPhone(), purpose: "login", channel: "sms" });
    stand.reset();
    stand.answer({ status: 204 });
    await h.runtime.outbound.dispatcher.runOnce();
    const messageId = json(stand.last().body).messageId as string;
    const report = h.signedGeneric({ messageId, status: "delivered" });
    const answered = await h.http().post("/v1/delivery-reports/generic").set(report.headers).send(report.body);
    expect(answered.status).toBe(200);
    const view = await h.http().get(`/v1/challenges/${created.body.id}`).set("Authorization", `Bearer ${app.sk}`);
    expect(view.body.delivery.status).toBe("delivered");

    const stats = await h.http().get("/v1/admin/stats").set("Authorization", "Bearer classic-flow-admin-token-0123456789");
    expect(stats.status).toBe(200);
    expect(stats.body.channels.sms.created).toBeGreaterThanOrEqual(PROVIDERS.length);
    expect(stats.body.channels.sms.verified).toBeGreaterThanOrEqual(PROVIDERS.length);
    expect(stats.body.channels.email.created).toBeGreaterThanOrEqual(1);
    expect(stats.body.channels.sms_mo.created).toBeGreaterThanOrEqual(1);
    const generic = stats.body.delivery.byProvider.find((r: { provider: string }) => r.provider === "generic");
    expect(generic.delivered).toBeGreaterThanOrEqual(1);
    expect(generic.deliveryRate).toBeGreaterThan(0);
    expect(generic.delay.p50Ms).toEqual(expect.any(Number));
    expect(stats.body.delivery.byProvider.map((r: { provider: string }) => r.provider)).toEqual(expect.arrayContaining(["twilio", "smtp", "generic"]));
    expect(stats.body.delivery.deliveryRate).toEqual(expect.any(Number));
  });
});
