// Misconfiguration made loud, through HTTP on a real database. A provider answered 2xx does not
// retry, so a code texted to a number no app owns is lost unless someone is told: every such
// delivery counts in `reverse_otp_misconfigured_deliveries_total{provider,reason}`, a warning names
// the number and the fix at most once per provider, reason and number an hour (never the user's
// number: only its mask), and the dashboard shows the last hour's count with the latest one.
// Refusals that only set-up explains (no secret configured, no signature or token) count too.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "@jest/globals";
import { maskPhone } from "../../src/challenges/phone.js";
import { fixedClock } from "../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";
import { birdInboundEvent, signBirdRequest } from "../support/providers/bird.js";
import { signSmsmodeRequest, smsmodeReply } from "../support/providers/smsmode.js";

const START = "2031-05-04T10:00:00.000Z";
const clock = fixedClock(START);
const ADMIN_TOKEN = "admin-token-misconfiguration-0123456789";
const SMSMODE_TOKEN = "smsmodeMisTok_5Tg6Yh7Uj8Ik9Ol0Pa1Sq2Dw3Fe4R";
const BIRD_KEY = "bird-signing-key-misconfiguration-012345678";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock, env: { ADMIN_TOKEN, SMSMODE_WEBHOOK_TOKEN: SMSMODE_TOKEN, BIRD_SIGNING_KEY: BIRD_KEY, DEMO_ENABLED: "false" } });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  clock.set(START);
});

type LogLine = { level: number; msg: string; provider?: string; reason?: string; number?: string; sender?: string; sameSinceLastLog?: number };
const warnings = (number?: string): LogLine[] =>
  h
    .logs()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.msg.startsWith("misconfiguration:") && (number === undefined || l.number === number));

async function metric(provider: string, reason: string): Promise<number> {
  const text = (await h.http().get("/metrics")).text;
  const line = text.split("\n").find((l) => l.startsWith(`reverse_otp_misconfigured_deliveries_total{provider="${provider}",reason="${reason}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

async function stats() {
  const res = await h.http().get("/v1/admin/stats").set("Authorization", `Bearer ${ADMIN_TOKEN}`);
  expect(res.status).toBe(200);
  return res.body.unowned as { windowSeconds: number; count: number; last: { at: string; provider: string; number: string; sender: string | null } | null };
}

describe("deliveries for numbers no app owns", () => {
  test("each counts in the metric; the warning comes once an hour, names the number and the fix, and masks the user", async () => {
    const unknown = "+447400199001";
    for (let i = 0; i < 3; i++) expect((await h.sendSms({ from: PHONES.fr, to: unknown, text: "Acme: 123456" })).status).toBe(200);
    expect(await metric("generic", "unknown_number")).toBe(3);
    const [line, ...more] = warnings(unknown);
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 40, provider: "generic", reason: "unknown_number", number: unknown, sender: maskPhone(PHONES.fr) });
    expect(line!.msg).toContain(`apps add-number <app-id> --number ${unknown} --provider generic`);

    clock.advance(3600_000);
    expect((await h.sendSms({ from: PHONES.fr, to: unknown, text: "Acme: 123456" })).status).toBe(200);
    expect(warnings(unknown)).toHaveLength(2);
    expect(warnings(unknown)[1]).toMatchObject({ sameSinceLastLog: 2 });
    // The user's number is never written out, only its mask.
    expect(h.logs()).not.toContain(PHONES.fr.slice(1));
  });

  test("a short code no app has is named as the provider wrote it, with the --country hint", async () => {
    const reply = smsmodeReply({ from: PHONES.fr, to: "36999", text: "Acme: 123456", receivedAt: clock.now() });
    expect((await h.http().get(signSmsmodeRequest({ token: SMSMODE_TOKEN, format: "reply", query: reply }).path)).status).toBe(200);
    const [line] = warnings("36999");
    expect(line).toMatchObject({ provider: "smsmode", reason: "unknown_number" });
    expect(line!.msg).toContain("--number 36999 --provider smsmode --country <CC>");
    expect(await metric("smsmode", "unknown_number")).toBe(1);
  });

  test("a number registered with another provider is reported as other_provider", async () => {
    const app = await h.createApp({ numbers: [{ number: "+447400199002", provider: "twilio" }] });
    expect((await h.sendSms({ from: PHONES.fr, to: app.number, text: "Acme: 123456" })).status).toBe(200);
    expect(warnings(app.number)).toEqual([expect.objectContaining({ provider: "generic", reason: "other_provider" })]);
    expect(await metric("generic", "other_provider")).toBe(1);
  });

  test("a Bird delivery that names its channel only by ids no number is mapped to is reported as unmapped_channel", async () => {
    const event = birdInboundEvent({ from: PHONES.fr, text: "Acme: 123456", messageId: "bird-unmapped-1" });
    const res = await h.http().post("/v1/inbound/bird").set(signBirdRequest({ signingKey: BIRD_KEY, payload: event, now: clock.now() }).headers).send(JSON.stringify(event));
    expect(res.status).toBe(204);
    const [row] = await h.db.query<{ outcome: string; recipient: string }>(`SELECT outcome::text AS outcome, recipient FROM inbound_messages WHERE provider_message_id = 'bird-unmapped-1'`);
    expect(row).toEqual({ outcome: "unknown_number", recipient: "channel:614208aa-b153-4d5d-9989-2fddfc0ce4c3" });
    expect(warnings(row!.recipient)[0]!.msg).toContain("--channel <channel id>");
    expect(await metric("bird", "unmapped_channel")).toBe(1);
  });

  test("a duplicate delivery is not counted again", async () => {
    const before = await metric("generic", "unknown_number");
    const first = await h.sendSms({ from: PHONES.fr, to: "+447400199003", text: "x", messageId: "dup-unknown-1" });
    const again = await h.sendSms({ from: PHONES.fr, to: "+447400199003", text: "x", messageId: "dup-unknown-1" });
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(await metric("generic", "unknown_number")).toBe(before + 1);
  });
});

describe("refusals that set-up explains", () => {
  test("a provider without its secret: not_configured, warned once an hour", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await h.http().post("/v1/inbound/twilio").type("form").send("From=%2B33612345678&To=%2B447400199004&Body=1&MessageSid=SM1");
      // Answered exactly as an unsigned request, so that answers do not tell which providers are set up;
      // the metric and the log line name the real reason.
      expect([res.status, res.body.code]).toEqual([401, "WEBHOOK_SIGNATURE_MISSING"]);
    }
    expect(await metric("twilio", "not_configured")).toBe(2);
    expect(warnings().filter((l) => l.provider === "twilio" && l.reason === "not_configured")).toHaveLength(1);
  });

  test("a path-token URL saved without its token: unsigned", async () => {
    const res = await h.http().post("/v1/inbound/smsmode").send({ messageId: "m", direction: "MO" });
    expect(res.body.code).toBe("WEBHOOK_SIGNATURE_MISSING");
    expect(await metric("smsmode", "unsigned")).toBe(1);
    expect(warnings().find((l) => l.provider === "smsmode" && l.reason === "unsigned")!.msg).toContain("without signature or path token");
  });

  test("a forged signature is not a misconfiguration: no count", async () => {
    const event = birdInboundEvent({ from: PHONES.fr, text: "x" });
    const forged = signBirdRequest({ signingKey: "someone-else-s-bird-key-0123456789", payload: event, now: clock.now() });
    expect((await h.http().post("/v1/inbound/bird").set(forged.headers).send(forged.body)).body.code).toBe("WEBHOOK_SIGNATURE_INVALID");
    const text = (await h.http().get("/metrics")).text;
    expect(text).not.toMatch(/reverse_otp_misconfigured_deliveries_total\{provider="bird",reason="(unsigned|not_configured)"\}/);
  });
});

describe("the dashboard's panel", () => {
  test("counts the last hour's deliveries for numbers no app owns, and names the latest (masked sender, our number, provider)", async () => {
    clock.set("2031-05-05T08:00:00.000Z");
    expect((await stats()).count).toBe(0);
    expect((await stats()).last).toBeNull();
    await h.sendSms({ from: PHONES.de, to: "+447400199005", text: "1" });
    clock.advance(10 * 60_000);
    const reply = smsmodeReply({ from: PHONES.fr, to: "36034", text: "Acme: 123456", receivedAt: clock.now() });
    expect((await h.http().get(signSmsmodeRequest({ token: SMSMODE_TOKEN, format: "reply", query: reply }).path)).status).toBe(200);
    expect(await stats()).toEqual({
      windowSeconds: 3600,
      count: 2,
      last: { at: "2031-05-05T08:10:00.000Z", provider: "smsmode", number: "36034", sender: maskPhone(PHONES.fr) },
    });
    // An hour after the first, only the second is in the window.
    clock.set("2031-05-05T09:05:00.000Z");
    expect((await stats()).count).toBe(1);
    clock.set("2031-05-05T09:10:00.001Z");
    expect(await stats()).toMatchObject({ count: 0, last: null });
  });
});
