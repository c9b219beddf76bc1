// GET /v1/admin/stats through HTTP, with a fixed clock so that times to verify are exact: the
// funnel, the inbound outcomes, the percentiles, the breakdowns, the time series, the filters,
// and the admin token that guards them.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { fixedClock } from "../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";

const T0 = Date.parse("2031-06-02T08:00:00.000Z");
const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();
const clock = fixedClock(new Date(T0));
const TOKENS = ["first-admin-token-0123456789", "second-admin-token-0123456789"];

let h: Harness;
let alpha: Awaited<ReturnType<Harness["createApp"]>>;
let beta: Awaited<ReturnType<Harness["createApp"]>>;

beforeAll(async () => {
  h = await startHarness({ clock, env: { ADMIN_TOKEN: TOKENS.join(","), DEMO_ENABLED: "false" } });
  alpha = await h.createApp({ name: "Alpha" });
  beta = await h.createApp({ name: "Beta" });

  // Two days earlier, outside every window below.
  clock.set(new Date(T0 - 2 * 86_400_000));
  await h.createChallenge(alpha.sk, { phone: PHONES.fr, purpose: "signup" });

  // At T0: Alpha's three log-ins, verified after 10, 20 and 30 seconds.
  clock.set(new Date(T0));
  const logins = [];
  for (const phone of [PHONES.fr, PHONES.de, PHONES.gb]) {
    logins.push({ phone, c: (await h.createChallenge(alpha.sk, { phone, purpose: "login" })).body });
  }
  // Beta's payment, answered with a wrong code; and an SMS to a number nobody rents.
  await h.createChallenge(beta.sk, { phone: PHONES.fr2, purpose: "transaction", context: { amount: "5.00", currency: "EUR", merchant: "Kiosk" } });
  for (const { phone, c } of logins) {
    clock.advance(10_000);
    expect((await h.sendSms({ from: phone, to: alpha.number, text: c.smsBody })).body.results[0].outcome).toBe("verified");
  }
  expect((await h.sendSms({ from: PHONES.fr2, to: beta.number, text: "999999" })).body.results[0].outcome).toBe("wrong_code");
  expect((await h.sendSms({ from: PHONES.fr2, to: "+447400999999", text: "123456" })).body.results[0].outcome).toBe("unknown_number");
});
afterAll(async () => {
  await h.close();
});

/** GET /v1/admin/stats with the first admin token, another token, or (null) none. */
function stats(query: Record<string, string>, token: string | null = TOKENS[0]!) {
  const req = h.http().get("/v1/admin/stats").query(query);
  if (token !== null) req.set("Authorization", `Bearer ${token}`);
  return req;
}

const window = { from: at(-3600_000), to: at(3600_000) };

describe("the admin token", () => {
  test("is required: no header or a wrong token gets 401; every configured token works", async () => {
    expect((await stats(window, null)).status).toBe(401);
    const wrong = await stats(window, "not-an-admin-token-at-all");
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe("UNAUTHENTICATED");
    expect((await stats(window, alpha.sk)).status).toBe(401);
    for (const token of TOKENS) expect((await stats(window, token)).status).toBe(200);
    expect(h.logs()).not.toContain(TOKENS[0]);
  });

  test("without ADMIN_TOKEN the API and the page answer 404", async () => {
    const off = await startHarness({ env: { DEMO_ENABLED: "false" } });
    try {
      const api = await off.http().get("/v1/admin/stats").set("Authorization", `Bearer ${TOKENS[0]}`);
      expect(api.status).toBe(404);
      expect(api.body.detail).toMatch(/ADMIN_TOKEN/);
      const page = await off.http().get("/dashboard");
      expect(page.status).toBe(404);
      expect(page.text).toContain("The dashboard is disabled");
    } finally {
      await off.close();
    }
  });

  test("the page itself is public and holds no data; it is served with the strict CSP", async () => {
    const page = await h.http().get("/dashboard");
    expect(page.status).toBe(200);
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.text).toContain('<script type="module" src="/web/dashboard.js"></script>');
    expect(page.text).not.toContain("Alpha");
  });
});

describe("the statistics", () => {
  test("count the funnel, inbound outcomes and time-to-verify percentiles over the window", async () => {
    const res = await stats(window);
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.body).toMatchObject({
      from: window.from,
      to: window.to,
      filters: {},
      funnel: { created: 4, smsReceived: 4, verified: 3 },
      // 10, 20 and 30 s: percentile_cont interpolates (p90 = 28 s, p99 = 29.8 s).
      timeToVerify: { p50Ms: 20_000, p90Ms: 28_000, p99Ms: 29_800 },
      outcomes: [
        { outcome: "verified", count: 3 },
        { outcome: "unknown_number", count: 1 },
        { outcome: "wrong_code", count: 1 },
      ],
    });
  });

  test("break the funnel down by app, provider, country and purpose", async () => {
    const { breakdown } = (await stats(window)).body;
    expect(breakdown.app).toEqual([
      { key: alpha.appId, label: "Alpha", created: 3, smsReceived: 3, verified: 3, timeToVerify: { p50Ms: 20_000, p90Ms: 28_000, p99Ms: 29_800 } },
      { key: beta.appId, label: "Beta", created: 1, smsReceived: 1, verified: 0, timeToVerify: { p50Ms: null, p90Ms: null, p99Ms: null } },
    ]);
    expect(breakdown.provider).toEqual([expect.objectContaining({ key: "generic", created: 4, verified: 3 })]);
    expect(breakdown.country.map((r: { key: string; created: number; verified: number }) => [r.key, r.created, r.verified])).toEqual([
      ["FR", 2, 1],
      ["DE", 1, 1],
      ["GB", 1, 1],
    ]);
    expect(breakdown.purpose.map((r: { key: string; created: number }) => [r.key, r.created])).toEqual([
      ["login", 3],
      ["transaction", 1],
    ]);
  });

  test("give a time series in 5-minute buckets for a 2-hour window, zeros included", async () => {
    const { series } = (await stats(window)).body;
    expect(series.bucketSeconds).toBe(300);
    expect(series.buckets).toHaveLength(24);
    expect(series.buckets[0]).toEqual({ start: window.from, created: 0, verified: 0 });
    expect(series.buckets[12]).toEqual({ start: at(0), created: 4, verified: 3 });
    expect(series.buckets.reduce((n: number, b: { created: number }) => n + b.created, 0)).toBe(4);
  });

  test("default to the 24 hours before now, in hourly buckets starting on whole hours", async () => {
    const res = await stats({});
    expect(res.body.to).toBe(clock.now().toISOString());
    expect(res.body.funnel.created).toBe(4);
    expect(res.body.series.bucketSeconds).toBe(3600);
    expect(res.body.series.buckets[0].start).toMatch(/T\d\d:00:00\.000Z$/);
    const thirtyDays = await stats({ from: at(-30 * 86_400_000), to: at(3600_000) });
    expect(thirtyDays.body.funnel.created).toBe(5);
    expect(thirtyDays.body.series.bucketSeconds).toBe(86_400);
  });

  test.each([
    [{ app: "BETA" }, { created: 1, smsReceived: 1, verified: 0 }, [{ outcome: "wrong_code", count: 1 }]],
    [{ country: "de" }, { created: 1, smsReceived: 1, verified: 1 }, [{ outcome: "verified", count: 1 }]],
    [{ purpose: "transaction" }, { created: 1, smsReceived: 1, verified: 0 }, []],
    [
      { provider: "generic" },
      { created: 4, smsReceived: 4, verified: 3 },
      [
        { outcome: "verified", count: 3 },
        { outcome: "unknown_number", count: 1 },
        { outcome: "wrong_code", count: 1 },
      ],
    ],
    [{ provider: "twilio" }, { created: 0, smsReceived: 0, verified: 0 }, []],
  ])("filtered by %j, narrow the funnel and the inbound outcomes", async (filter, funnel, outcomes) => {
    const query = Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, v === "BETA" ? beta.appId : v]));
    const res = await stats({ ...window, ...query });
    expect(res.status).toBe(200);
    expect(res.body.funnel).toEqual(funnel);
    expect(res.body.outcomes).toEqual(outcomes);
  });

  test("list the apps and providers for the filter menus", async () => {
    const { dimensions } = (await stats(window)).body;
    expect(dimensions).toEqual({ apps: [{ id: alpha.appId, name: "Alpha" }, { id: beta.appId, name: "Beta" }], providers: ["generic"] });
  });

  test.each([
    ["from after to", { from: at(0), to: at(-1) }],
    ["a period over 400 days", { from: at(-401 * 86_400_000), to: at(0) }],
    ["a date that is not ISO 8601", { from: "yesterday" }],
    ["an unknown parameter", { period: "7d" }],
    ["an app id with SQL in it", { app: "app_x' OR '1'='1" }],
    ["a country that is not a code", { country: "FRA" }],
    ["an unknown purpose", { purpose: "payment" }],
  ])("refuse %s with 400", async (_what, query) => {
    const res = await stats(query);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("VALIDATION_FAILED");
  });

  test("refuse a repeated parameter", async () => {
    const res = await h.http().get(`/v1/admin/stats?app=${alpha.appId}&app=${beta.appId}`).set("Authorization", `Bearer ${TOKENS[0]}`);
    expect(res.status).toBe(400);
  });
});

describe("every final status", () => {
  test("is counted: verified, expired (also before the sweep stores it), failed, cancelled and still pending", async () => {
    const saved = clock.now();
    try {
      // Ten days later, in a window of its own: one challenge that ends each way.
      const t1 = T0 + 10 * 86_400_000;
      clock.set(new Date(t1));
      const app = await h.createApp({ name: "Statuses" });
      const phones = ["+33612340001", "+33612340002", "+33612340003", "+33612340004", "+33612340005"];
      const created = [];
      for (const phone of phones.slice(0, 4)) created.push((await h.createChallenge(app.sk, { phone, purpose: "login" })).body as { id: string; smsBody: string; code: string });
      // verified
      expect((await h.sendSms({ from: phones[0]!, to: app.number, text: created[0]!.smsBody })).body.results[0].outcome).toBe("verified");
      // failed: five wrong codes from its phone
      const wrong = created[1]!.code === "000000" ? "111111" : "000000";
      for (let i = 0; i < 5; i++) await h.sendSms({ from: phones[1]!, to: app.number, text: wrong });
      // cancelled
      expect((await h.http().post(`/v1/challenges/${created[2]!.id}/cancel`).set("Authorization", `Bearer ${app.sk}`)).status).toBe(200);
      // expired: its lifetime (300 s) passes; no sweep runs here, so its row still says pending
      clock.set(new Date(t1 + 301_000));
      // and one created now, still pending
      await h.createChallenge(app.sk, { phone: phones[4]!, purpose: "login" });
      const stored = await h.db.query<{ status: string }>(`SELECT status::text FROM challenges WHERE id = $1`, [created[3]!.id]);
      expect(stored).toEqual([{ status: "pending" }]);

      const res = await stats({ from: new Date(t1 - 60_000).toISOString(), to: new Date(t1 + 3600_000).toISOString(), app: app.appId });
      expect(res.status).toBe(200);
      expect(res.body.statuses).toEqual({ verified: 1, expired: 1, failed: 1, cancelled: 1, pending: 1 });
      expect(res.body.funnel).toEqual({ created: 5, smsReceived: 2, verified: 1 });
      // The messages themselves: 1 verifying + 5 wrong codes, all counted in the outcomes.
      expect(res.body.inboundSms).toBe(6);
      expect(res.body.outcomes).toEqual([
        { outcome: "wrong_code", count: 5 },
        { outcome: "verified", count: 1 },
      ]);
    } finally {
      clock.set(saved);
    }
  });
});
