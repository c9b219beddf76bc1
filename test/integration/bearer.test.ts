// One Bearer rule for every credential (src/http/auth.ts, readBearer): an API key on /v1/challenges,
// ADMIN_TOKEN on /v1/admin/stats and METRICS_TOKEN on /metrics accept and refuse the same header forms.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { PHONES, startHarness, type Harness } from "../support/harness.js";

const ADMIN = "admin-token-0123456789abcdef";
const METRICS = "metrics-token-0123456789abcdef";

let h: Harness;
let sk: string;
let challengeId: string;
beforeAll(async () => {
  h = await startHarness({ env: { ADMIN_TOKEN: ADMIN, METRICS_TOKEN: METRICS } });
  const app = await h.createApp();
  sk = app.sk;
  const created = await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" });
  challengeId = created.body.id;
});
afterAll(async () => {
  await h?.close();
});

/** The same header form around each endpoint's own credential. */
const forms: [string, (token: string) => string, boolean][] = [
  ["Bearer <token>", (t) => `Bearer ${t}`, true],
  ["the scheme in lower case", (t) => `bearer ${t}`, true],
  ["a tab and trailing spaces", (t) => `Bearer\t${t}  `, true],
  ["another scheme", (t) => `Token ${t}`, false],
  ["the token alone", (t) => t, false],
  ["two tokens", (t) => `Bearer ${t} ${t}`, false],
  ["the token with one character more", (t) => `Bearer ${t}x`, false],
];

describe.each(forms)("%s", (_form, header, accepted) => {
  test(`is ${accepted ? "accepted" : "refused with 401"} alike by the API, the dashboard and /metrics`, async () => {
    const api = await h.http().get(`/v1/challenges/${challengeId}`).set("Authorization", header(sk));
    const admin = await h.http().get("/v1/admin/stats").set("Authorization", header(ADMIN));
    const metrics = await h.http().get("/metrics").set("Authorization", header(METRICS));
    const statuses = [api.status, admin.status, metrics.status];
    expect(statuses).toEqual(accepted ? [200, 200, 200] : [401, 401, 401]);
    if (!accepted) for (const res of [api, admin, metrics]) expect(res.body.code).toBe("UNAUTHENTICATED");
  });
});
