// Waiting for the result: long-poll and Server-Sent Events, woken by LISTEN/NOTIFY from any instance.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import request from "supertest";
import { openPostgres } from "../../src/db/database.js";
import { createLogger } from "../../src/http/logger.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { onPostgres } from "../support/database.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";
import { until } from "../support/wait.js";

let h: Harness;
/** A second instance of the service on the same PostgreSQL database (own pool, own listener). */
let other: { runtime: Runtime; app: ReturnType<Runtime["buildHttpApp"]> } | undefined;

beforeAll(async () => {
  h = await startHarness();
  if (onPostgres) {
    const database = openPostgres({ url: h.db.url!, poolSize: 5, connectTimeoutMs: 5000, statementTimeoutMs: 10_000 });
    const runtime = await createRuntime(h.config, { logger: createLogger("silent"), database });
    other = { runtime, app: runtime.buildHttpApp() };
  }
});
afterAll(async () => {
  await other?.runtime.close();
  await h.close();
});


/** Reads an SSE stream until it ends; returns the parsed `status` events. */
function readEvents(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; contentType: string | undefined; events: { status: string }[] }>((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let buffer = "";
        const events: { status: string }[] = [];
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffer += chunk;
          let index;
          while ((index = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, index);
            buffer = buffer.slice(index + 2);
            const data = block.split("\n").find((l) => l.startsWith("data: "));
            if (block.includes("event: status") && data) events.push(JSON.parse(data.slice(6)));
          }
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"], events }));
      })
      .on("error", reject);
  });
}

describe("long-polling", () => {
  test("a long-poll returns at once for a final challenge, and with the current state when the wait ends", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" })).body;
    const waited = await h.http().get(`/v1/challenges/${c.id}?waitSeconds=1`).set("X-Poll-Token", c.pollToken);
    expect(waited.status).toBe(200);
    expect(waited.body.status).toBe("pending");
    await h.http().post(`/v1/challenges/${c.id}/cancel`).set("X-Poll-Token", c.pollToken);
    const final = await h.http().get(`/v1/challenges/${c.id}?waitSeconds=30`).set("X-Poll-Token", c.pollToken);
    expect(final.body.status).toBe("cancelled");
  });

  test("waitSeconds outside 0–30 is refused, and foreign ids give 404 without waiting", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.sk, { phone: PHONES.de, purpose: "login" })).body;
    for (const bad of ["31", "-1", "1.5", "abc"]) {
      const res = await h.http().get(`/v1/challenges/${c.id}?waitSeconds=${bad}`).set("X-Poll-Token", c.pollToken);
      expect(res.status).toBe(400);
    }
    const foreign = await h.http().get(`/v1/challenges/${c.id}?waitSeconds=30`).set("X-Poll-Token", "pt_wrong");
    expect(foreign.status).toBe(404);
    // A long-poll answers its own errors (it runs outside Express's handler chain while it waits):
    // the same problem document as a plain read, in the language asked for, with the request's id.
    const ask = (query: string) =>
      h.http().get(`/v1/challenges/${c.id}${query}`).set({ "X-Poll-Token": "pt_wrong", "Accept-Language": "de", "X-Request-Id": "req-longpoll-404" });
    const [plain, waited] = await Promise.all([ask(""), ask("?waitSeconds=30")]);
    expect(waited.headers["content-type"]).toBe(plain.headers["content-type"]);
    expect(waited.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(waited.headers["x-request-id"]).toBe("req-longpoll-404");
    expect({ status: waited.status, body: waited.body }).toEqual({ status: plain.status, body: plain.body });
  });

  test("a waiting long-poll wakes when the SMS arrives (same instance) and holds no database connection", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.pk, { phone: PHONES.gb, purpose: "signup" })).body;
    const waiting = h.http().get(`/v1/challenges/${c.id}?waitSeconds=30`).set("X-Poll-Token", c.pollToken).then((r) => r);
    await until(() => h.runtime.bus.waiterCount() === 1, "the long-poll to subscribe");
    const sms = await h.sendSms({ from: PHONES.gb, to: app.number, text: c.smsBody });
    expect(sms.body.results[0].outcome).toBe("verified");
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("verified");
    expect(h.runtime.bus.waiterCount()).toBe(0);
  });
});

const twoInstances = onPostgres ? describe : describe.skip;
twoInstances("two instances on one PostgreSQL", () => {
  test("a long-poll on one instance wakes when the SMS arrives at the other", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.pk, { phone: PHONES.fr2, purpose: "login" })).body;
    const waiting = h.http().get(`/v1/challenges/${c.id}?waitSeconds=30`).set("X-Poll-Token", c.pollToken).then((r) => r);
    await until(() => h.runtime.bus.waiterCount() === 1, "the long-poll to subscribe");
    const signed = h.signedGeneric({ messageId: `m-${c.id}`, from: PHONES.fr2, to: app.number, text: c.code });
    const sms = await request(other!.app).post("/v1/inbound/generic").set(signed.headers).send(signed.body);
    expect(sms.body.results[0].outcome).toBe("verified");
    expect((await waiting).body.status).toBe("verified");
  });

  test("an event stream on one instance gets pending, then verified from the other, then ends", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.pk, { phone: PHONES.de, purpose: "transaction", context: { amount: "49.90", currency: "EUR", merchant: "Shop XY" } })).body;
    const server = h.app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const stream = readEvents(`http://127.0.0.1:${port}/v1/challenges/${c.id}/events`, { "X-Poll-Token": c.pollToken });
      await until(() => h.runtime.bus.waiterCount() === 1, "the stream to subscribe");
      const signed = h.signedGeneric({ messageId: `m-${c.id}`, from: PHONES.de, to: app.number, text: c.smsBody });
      await request(other!.app).post("/v1/inbound/generic").set(signed.headers).send(signed.body);
      const result = await stream;
      expect(result.status).toBe(200);
      expect(result.contentType).toMatch(/^text\/event-stream/);
      expect(result.events.map((e) => e.status)).toEqual(["pending", "verified"]);
      expect(h.runtime.bus.waiterCount()).toBe(0);
    } finally {
      server.close();
    }
  });
});
if (!onPostgres) test.skip("two instances need PostgreSQL (DATABASE_URL): skipped on embedded PGlite", () => undefined);

describe("event streams", () => {
  test("an unknown challenge's stream is a 404 problem, not a stream", async () => {
    const res = await h.http().get("/v1/challenges/chl_0000000000000000000000/events").set("X-Poll-Token", "pt_x");
    expect(res.status).toBe(404);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  });

  test("a stream of a final challenge sends its state once and ends", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "appointment" })).body;
    await h.http().post(`/v1/challenges/${c.id}/cancel`).set("Authorization", `Bearer ${app.sk}`);
    const res = await h.http().get(`/v1/challenges/${c.id}/events`).set("Authorization", `Bearer ${app.sk}`);
    expect(res.status).toBe(200);
    expect(res.text).toBe(`event: status\ndata: ${JSON.stringify((await h.http().get(`/v1/challenges/${c.id}`).set("Authorization", `Bearer ${app.sk}`)).body)}\n\n`);
  });
});
