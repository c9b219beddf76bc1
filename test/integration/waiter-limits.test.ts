// Caps on waiting connections: long-polls and event streams per challenge and per client (an IPv4
// address or an IPv6 /64), so one client cannot hold thousands of connections open. Beyond a cap:
// 429 RATE_LIMITED with Retry-After, counted in /metrics; a closed connection frees its slot.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { serve } from "../security/report-support.js";
import { startHarness, type Harness } from "../support/harness.js";
import { until } from "../support/wait.js";

let h: Harness;
let server: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  h = await startHarness({ env: { WAITERS_PER_CHALLENGE: "3", WAITERS_PER_CLIENT: "5", TRUST_PROXY: "true" } });
  server = await serve(h);
});
afterAll(async () => {
  await server.close();
  await h.close();
});

type Opened = { status: number; body: string; headers: http.IncomingHttpHeaders; close(): void };

/**
 * Opens a stream or a long-poll on a real socket and resolves once the answer's head is there (a
 * stream keeps going; a refusal is complete). `close` ends the connection from the client side.
 */
function open(path: string, headers: Record<string, string>): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${server.url}${path}`, { headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      const close = () => req.destroy();
      const done = () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, close });
      if (res.statusCode === 200 && path.endsWith("/events")) {
        res.once("data", (chunk: string) => {
          body += chunk;
          done();
        });
      } else {
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", done);
      }
    });
    req.on("error", (error) => ((error as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(error)));
  });
}

const phoneOf = (i: number) => `+336${String(20_000_000 + i).slice(-8)}`;
let counter = 0;
async function pendingChallenge() {
  const app = await h.createApp();
  const c = (await h.createChallenge(app.sk, { phone: phoneOf(counter++), purpose: "login" })).body as { id: string; pollToken: string };
  return { app, c };
}

describe("per challenge", () => {
  test("at most WAITERS_PER_CHALLENGE streams and long-polls wait on one challenge; the next gets 429 until one closes", async () => {
    const { c } = await pendingChallenge();
    const headers = { "X-Poll-Token": c.pollToken, "X-Forwarded-For": "198.51.100.1" };
    const base = h.runtime.bus.waiterCount();
    const streams = [await open(`/v1/challenges/${c.id}/events`, headers), await open(`/v1/challenges/${c.id}/events`, headers)];
    const longPoll = h.http().get(`/v1/challenges/${c.id}?waitSeconds=30`).set(headers).then((r) => r);
    await until(() => h.runtime.bus.waiterCount() === base + 3, "three waiters");
    expect(streams.map((s) => s.status)).toEqual([200, 200]);

    for (const path of [`/v1/challenges/${c.id}/events`, `/v1/challenges/${c.id}?waitSeconds=10`]) {
      // From another client too: the cap is the challenge's.
      const refused = await open(path, { ...headers, "X-Forwarded-For": "198.51.100.2" });
      expect(refused.status).toBe(429);
      expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(refused.body)).toMatchObject({ code: "RATE_LIMITED", reason: "challenge_waiters" });
      expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    }
    // A plain read is not a waiter: never capped.
    expect((await h.http().get(`/v1/challenges/${c.id}`).set(headers)).status).toBe(200);

    // One stream closes: its slot is free again.
    streams[0]!.close();
    await until(() => h.runtime.bus.waiterCount() === base + 2, "the closed stream to leave");
    const again = await open(`/v1/challenges/${c.id}/events`, headers);
    expect(again.status).toBe(200);

    // The challenge ends: everyone is answered, and every slot is free.
    await h.http().post(`/v1/challenges/${c.id}/cancel`).set(headers);
    expect((await longPoll).body.status).toBe("cancelled");
    await until(() => h.runtime.bus.waiterCount() === base, "every waiter to end");
    streams[1]!.close();
    again.close();
    expect((await h.http().get("/metrics")).text).toMatch(/reverse_otp_rate_limited_total\{limit="challenge_waiters"\} 2/);
  });

  // The security review held 4,000 streams open this way; `npm run security-report` measures that
  // size with the default caps (test/security/waiters.report.ts).
  test("1,000 streams of one challenge with one poll token: 3 wait, the others are refused at once", async () => {
    const { c } = await pendingChallenge();
    const headers = { "X-Poll-Token": c.pollToken, "X-Forwarded-For": "198.51.100.3" };
    const opened: Opened[] = [];
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 10; batch++) {
      const results = await Promise.all(Array.from({ length: 100 }, () => open(`/v1/challenges/${c.id}/events`, headers)));
      for (const r of results) {
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 200) opened.push(r);
      }
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 3, 429: 997 });
    for (const s of opened) s.close();
  });
});

describe("per client", () => {
  test("a client (IPv4 address, or IPv6 /64) may hold WAITERS_PER_CLIENT waiters over all challenges; another client is not affected", async () => {
    const challenges = await Promise.all(Array.from({ length: 7 }, () => pendingChallenge()));
    const client = "2001:db8:77:1::";
    const opened: Opened[] = [];
    for (const [i, { c }] of challenges.slice(0, 5).entries()) {
      // Rotating addresses inside one /64 does not give more.
      const s = await open(`/v1/challenges/${c.id}/events`, { "X-Poll-Token": c.pollToken, "X-Forwarded-For": `${client}${i + 1}` });
      expect(s.status).toBe(200);
      opened.push(s);
    }
    const sixth = challenges[5]!.c;
    const refused = await open(`/v1/challenges/${sixth.id}/events`, { "X-Poll-Token": sixth.pollToken, "X-Forwarded-For": `${client}99` });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ code: "RATE_LIMITED", reason: "client_waiters" });
    const longPoll = await open(`/v1/challenges/${sixth.id}?waitSeconds=5`, { "X-Poll-Token": sixth.pollToken, "X-Forwarded-For": `${client}98` });
    expect(longPoll.status).toBe(429);

    const elsewhere = await open(`/v1/challenges/${sixth.id}/events`, { "X-Poll-Token": sixth.pollToken, "X-Forwarded-For": "2001:db8:77:2::1" });
    expect(elsewhere.status).toBe(200);
    opened.push(elsewhere);
    // A final challenge's stream answers at once and needs no slot.
    const done = challenges[6]!.c;
    await h.http().post(`/v1/challenges/${done.id}/cancel`).set("X-Poll-Token", done.pollToken);
    const final = await open(`/v1/challenges/${done.id}/events`, { "X-Poll-Token": done.pollToken, "X-Forwarded-For": `${client}97` });
    expect(final.status).toBe(200);
    final.close();
    for (const s of opened) s.close();
    expect((await h.http().get("/metrics")).text).toMatch(/reverse_otp_rate_limited_total\{limit="client_waiters"\} 2/);
  });

  test("a wrong poll token takes no slot: a stranger cannot fill a challenge's slots", async () => {
    const { c } = await pendingChallenge();
    for (let i = 0; i < 10; i++) {
      const res = await open(`/v1/challenges/${c.id}/events`, { "X-Poll-Token": "pt_guess", "X-Forwarded-For": `203.0.113.${i}` });
      expect(res.status).toBe(404);
    }
    const owner = await open(`/v1/challenges/${c.id}/events`, { "X-Poll-Token": c.pollToken, "X-Forwarded-For": "198.51.100.9" });
    expect(owner.status).toBe(200);
    owner.close();
  });
});
