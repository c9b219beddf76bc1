// Defaults for production (NODE_ENV=production, or a DATABASE_URL): /metrics is closed unless it
// has a token or is made public on purpose; the demo is off unless asked for; the admin token has
// an attempt limit; Strict-Transport-Security when the public URL is https; and a webhook to a
// provider without its secret is answered exactly as a forged one, so that the answers do not tell
// which providers are set up.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Response } from "supertest";
import { PROVIDER_NAMES } from "../../src/providers/registry.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";

const opened: Harness[] = [];
async function harness(env: Record<string, string>) {
  const h = await startHarness({ env });
  opened.push(h);
  return h;
}
afterAll(async () => {
  for (const h of opened) await h.close();
});

const METRICS_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const PG_URL = "postgresql://otp@db.example.test:5432/otp"; // only read as "production": the test database is given to the runtime

describe("/metrics in production", () => {
  test.each([
    ["NODE_ENV=production", { NODE_ENV: "production" }],
    ["DATABASE_URL set", { DATABASE_URL: PG_URL }],
  ])("with %s and no METRICS_TOKEN, /metrics is closed (404 that says how to open it)", async (_what, env) => {
    const h = await harness(env);
    const res = await h.http().get("/metrics");
    expect(res.status).toBe(404);
    expect(res.body.detail).toMatch(/METRICS_TOKEN.*METRICS_PUBLIC=true/);
    expect(res.text).not.toContain("reverse_otp_");
  });

  test("with METRICS_PUBLIC=true it is public, as asked", async () => {
    const h = await harness({ NODE_ENV: "production", METRICS_PUBLIC: "true" });
    const res = await h.http().get("/metrics");
    expect(res.status).toBe(200);
    expect(res.text).toContain("reverse_otp_http_requests_total");
  });

  test("with METRICS_TOKEN it needs the token", async () => {
    const h = await harness({ NODE_ENV: "production", METRICS_TOKEN });
    expect((await h.http().get("/metrics")).status).toBe(401);
    expect((await h.http().get("/metrics").set("Authorization", `Bearer ${METRICS_TOKEN}`)).status).toBe(200);
  });

  test("outside production (embedded, for trying things out) it stays public without a token", async () => {
    const h = await harness({});
    expect((await h.http().get("/metrics")).status).toBe(200);
  });
});

describe("the demo", () => {
  test("is off in embedded mode with NODE_ENV=production unless DEMO_ENABLED=true", async () => {
    const production = await harness({ NODE_ENV: "production" });
    expect((await production.http().get("/")).status).toBe(404);
    expect((await production.http().post("/demo/challenges").send({})).status).toBe(404);
    const asked = await harness({ NODE_ENV: "production", DEMO_ENABLED: "true" });
    expect((await asked.http().get("/?lang=en")).status).toBe(200);
    const development = await harness({});
    expect((await development.http().get("/?lang=en")).status).toBe(200);
  });
});

describe("the admin token's attempt limit", () => {
  const ADMIN_TOKEN = "admin-token-for-attempts-0123456789";
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ ADMIN_TOKEN, TRUST_PROXY: "true", ADMIN_TOKEN_MAX_FAILURES: "5" });
  });
  const stats = (token: string, ip: string) =>
    h.http().get("/v1/admin/stats").set("Authorization", `Bearer ${token}`).set("X-Forwarded-For", ip);

  test("after the allowed wrong tokens a client gets 429 with Retry-After, even with the right token; other clients are not affected", async () => {
    const attacker = "203.0.113.50";
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await stats(`wrong-admin-token-guess-${i}-0123456789`, attacker)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const blocked = await stats(ADMIN_TOKEN, attacker);
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatchObject({ code: "RATE_LIMITED", reason: "admin_token" });
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    // The same client rotating inside its IPv6 /64 is one client too.
    for (let i = 0; i < 5; i++) await stats(`wrong-admin-token-v6-${i}-0123456789`, `2001:db8:5:6::${i + 1}`);
    expect((await stats(ADMIN_TOKEN, "2001:db8:5:6::99")).status).toBe(429);
    // The operator, elsewhere, is not locked out.
    expect((await stats(ADMIN_TOKEN, "198.51.100.20")).status).toBe(200);
    // Counted in /metrics.
    expect((await h.http().get("/metrics")).text).toMatch(/reverse_otp_rate_limited_total\{limit="admin_token"\} [1-9]/);
  });

  test("right tokens do not count against the limit", async () => {
    for (let i = 0; i < 8; i++) expect((await stats(ADMIN_TOKEN, "198.51.100.21")).status).toBe(200);
  });
});

describe("Strict-Transport-Security", () => {
  test("is sent on every answer when PUBLIC_BASE_URL is https, and not otherwise", async () => {
    const https = await harness({ PUBLIC_BASE_URL: "https://otp.example.test" });
    for (const path of ["/healthz", "/v1/challenges/chl_0000000000000000000000", "/nowhere"]) {
      expect((await https.http().get(path)).headers["strict-transport-security"]).toBe("max-age=31536000");
    }
    const http = await harness({ PUBLIC_BASE_URL: "http://127.0.0.1:3000" });
    expect((await http.http().get("/healthz")).headers["strict-transport-security"]).toBeUndefined();
  });
});

describe("webhooks of providers without a secret", () => {
  const SECRETS = {
    GENERIC_WEBHOOK_SECRET: `whsec_${Buffer.from("configured-generic-secret-for-tests").toString("base64")}`,
    TWILIO_AUTH_TOKEN: "4f1a3b5c6d7e8f9a0b1c2d3e7c2b9d0e",
    VONAGE_SIGNATURE_SECRET: "configured-vonage-signature-secret-0123456789",
    PLIVO_AUTH_TOKEN: "MDk4NzY1NDMyMTBmZWRjYmE5ODc2NTQzMjEwZmVk",
    TELNYX_PUBLIC_KEY: "Uv8e0dJ4pxpQsvPMK1eOq3bX2f1cHtnNmX+4vLmKf3s=",
    BIRD_SIGNING_KEY: "configured-bird-signing-key-0123456789",
    MESSAGEBIRD_SIGNING_KEY: "PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd",
    SMSMODE_WEBHOOK_TOKEN: "smsmodeCfgTok_Lk8Jh5Gf2Ds9Aq6Wz3Xc0Vb7Nm4",
    SINCH_WEBHOOK_TOKEN: "sinchCfgTok_4Rt7Yu1Io9Pa3Sd6Fg2Hj8Kl5Zx0Cv",
    INFOBIP_WEBHOOK_TOKEN: "infobipCfgTok_Yt6Re5Wq4Az3Sx2Dc1Fv0Gb9Hn8",
  };
  let configured: Harness;
  let bare: Harness;
  beforeAll(async () => {
    configured = await harness(SECRETS);
    bare = await harness({ GENERIC_WEBHOOK_SECRET: "" });
  });

  // Requests a stranger can make without any secret: unsigned, with junk in every provider's
  // signature headers, and to the path-token URL with a guessed token.
  const junkHeaders = {
    "content-type": "application/json",
    "x-twilio-signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
    "x-plivo-signature-v3": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "x-plivo-signature-v3-nonce": "12345678901234567890",
    "webhook-id": "msg_junk",
    "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
    "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "telnyx-signature-ed25519": "AAAA",
    "telnyx-timestamp": String(Math.floor(Date.now() / 1000)),
    "messagebird-signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "messagebird-request-timestamp": String(Math.floor(Date.now() / 1000)),
    authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.AAAA",
  };
  const body = JSON.stringify({ messageId: "junk-1", from: PHONES.fr, to: "+447400000100", text: "123456" });
  const requests = PROVIDER_NAMES.flatMap((provider) => [
    { provider, path: `/v1/inbound/${provider}`, headers: { "content-type": "application/json" } },
    { provider, path: `/v1/inbound/${provider}`, headers: junkHeaders },
    { provider, path: `/v1/inbound/${provider}/guessedTok_0000000000000000000000000000`, headers: { "content-type": "application/json" } },
  ]);

  test("every provider answers a stranger's request the same whether its secret is set or not, and the answer names no variable", async () => {
    for (const r of requests) {
      const [a, b] = await Promise.all([configured, bare].map((h) => h.http().post(r.path).set(r.headers).send(body)));
      const shape = (res: Response) => ({ status: res.status, code: res.body.code, title: res.body.title, detail: res.body.detail });
      expect({ request: r, ...shape(b!) }).toEqual({ request: r, ...shape(a!) });
      expect(b!.status).not.toBe(200);
      expect(JSON.stringify(b!.body)).not.toMatch(/_TOKEN|_SECRET|_KEY|not set|configured/i);
    }
  });

  test("the operator still learns it: the log line and the metrics say WEBHOOK_NOT_CONFIGURED", async () => {
    await bare.http().post("/v1/inbound/twilio").set("Content-Type", "application/x-www-form-urlencoded").send("MessageSid=SMx");
    const refused = bare.logs().split("\n").filter((l) => l.includes("webhook refused") && l.includes('"provider":"twilio"'));
    expect(refused.length).toBeGreaterThan(0);
    expect(JSON.parse(refused.at(-1)!)).toMatchObject({ code: "WEBHOOK_NOT_CONFIGURED" });
    expect((await bare.http().get("/metrics")).text).toMatch(/reverse_otp_webhook_rejections_total\{provider="twilio",reason="WEBHOOK_NOT_CONFIGURED"\} [1-9]/);
  });
});
