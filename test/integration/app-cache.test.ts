// Keys and app settings are cached in each instance (src/apps/app-cache.ts); a revocation, a
// rotation or a policy change reaches this instance at once and every other instance within 1 s
// (NOTIFY from a trigger). Each check polls until its deadline instead of sleeping a fixed time.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { onPostgres } from "../support/database.js";
import { startHarness, type Harness } from "../support/harness.js";

let h: Harness;
let other: Awaited<ReturnType<Harness["startInstance"]>> | undefined;
beforeAll(async () => {
  h = await startHarness();
  if (onPostgres) other = await h.startInstance();
});
afterAll(async () => {
  await other?.close();
  await h.close();
});

const UNKNOWN = "/v1/challenges/chl_0000000000000000000000";
let phoneCounter = 0;
const nextPhone = () => `+336${String(20_000_000 + phoneCounter++).slice(-8)}`;

/** Polls `check` until it holds or `ms` have passed; the time it took, or undefined. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number | undefined> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > ms) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("on this instance", () => {
  test("a key revoked by a rotation is refused at once, the new key works at once", async () => {
    const app = await h.createApp();
    expect((await h.http().get(UNKNOWN).set("Authorization", `Bearer ${app.sk}`)).status).toBe(404); // cached now
    const rotated = await h.runtime.apps.rotateKey(app.appId, "secret", true);
    expect((await h.http().get(UNKNOWN).set("Authorization", `Bearer ${app.sk}`)).status).toBe(401);
    expect((await h.http().get(UNKNOWN).set("Authorization", `Bearer ${rotated}`)).status).toBe(404);
  });

  test("a policy change applies to the next creation", async () => {
    const app = await h.createApp();
    const before = await h.createChallenge(app.sk, { phone: nextPhone(), purpose: "login" });
    expect(before.body.code).toMatch(/^\d{6}$/);
    await h.runtime.apps.updatePolicy(app.appId, { codeLength: 8 });
    const after = await h.createChallenge(app.sk, { phone: nextPhone(), purpose: "login" });
    expect(after.body.code).toMatch(/^\d{8}$/);
  });
});

(onPostgres ? describe : describe.skip)("on another instance (PostgreSQL)", () => {
  test("a key revoked on one instance is refused by the other within 1 s", async () => {
    const app = await h.createApp();
    const read = () => other!.http().get(UNKNOWN).set("Authorization", `Bearer ${app.sk}`);
    expect((await read()).status).toBe(404); // the other instance holds the key now
    const rotated = await h.runtime.apps.rotateKey(app.appId, "secret", true);
    const took = await within(1000, async () => (await read()).status === 401);
    expect(took).toBeDefined();
    expect((await other!.http().get(UNKNOWN).set("Authorization", `Bearer ${rotated}`)).status).toBe(404);
  });

  test("a key revoked outside the service (plain SQL, as from another process) is refused by both within 1 s", async () => {
    const app = await h.createApp();
    const read = (http: Harness["http"]) => http().get(UNKNOWN).set("Authorization", `Bearer ${app.pk}`).set("X-Poll-Token", "x");
    expect((await read(h.http)).status).toBe(404);
    expect((await read(other!.http)).status).toBe(404);
    await h.db.query(`UPDATE api_keys SET revoked_at = now() WHERE app_id = $1 AND kind = 'publishable'`, [app.appId]);
    expect(await within(1000, async () => (await read(h.http)).status === 401)).toBeDefined();
    expect(await within(1000, async () => (await read(other!.http)).status === 401)).toBeDefined();
  });

  test("a policy change on one instance applies to creations on the other within 1 s", async () => {
    const app = await h.createApp();
    const create = () => other!.http().post("/v1/challenges").set("Authorization", `Bearer ${app.sk}`).send({ phone: nextPhone(), purpose: "login" });
    expect((await create()).body.code).toMatch(/^\d{6}$/); // the other instance holds the app now
    await h.runtime.apps.updatePolicy(app.appId, { codeLength: 8 });
    expect(await within(1000, async () => /^\d{8}$/.test((await create()).body.code as string))).toBeDefined();
  });

  test("a key limit changed on one instance applies on the other within 1 s", async () => {
    const app = await h.createApp();
    const read = () => other!.http().get(UNKNOWN).set("Authorization", `Bearer ${app.sk}`);
    expect((await read()).status).toBe(404);
    await h.runtime.apps.updatePolicy(app.appId, { rateLimitSecretKeyPerMinute: 1 });
    expect(await within(1000, async () => (await read()).status === 429)).toBeDefined();
  });
});
