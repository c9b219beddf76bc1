// The cap on waiting connections at the size of the security review: 4,000 event streams of one
// challenge, from one client, with one poll token, against the default configuration
// (WAITERS_PER_CHALLENGE 10, WAITERS_PER_CLIENT 1000) on real sockets. The review saw all 4,000
// stay open. Part of `npm run security-report`; test/integration/waiter-limits.test.ts checks the
// caps at a smaller size in `npm test`.
import http from "node:http";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { startHarness, type Harness } from "../support/harness.js";
import { until } from "../support/wait.js";
import { pool, serve, writeFigure } from "./report-support.js";

const STREAMS = 4000;

let h: Harness;
let server: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  h = await startHarness();
  server = await serve(h);
});
afterAll(async () => {
  await server?.close();
  await h?.close();
});

/** Opens a stream; resolves with its status once the head is there, and a way to close it. */
function open(path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; close(): void }>((resolve, reject) => {
    const req = http.get(`${server.url}${path}`, { headers, agent: false }, (res) => {
      const close = () => req.destroy();
      if (res.statusCode === 200) res.once("data", () => resolve({ status: 200, close }));
      else {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, close }));
      }
    });
    req.on("error", (error) => ((error as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(error)));
  });
}

test(`${STREAMS.toLocaleString("en-US")} event streams of one challenge with one poll token: the default cap lets 10 wait and refuses the rest with 429`, async () => {
  const app = await h.createApp();
  const c = (await h.createChallenge(app.sk, { phone: "+33612345678", purpose: "login" })).body as { id: string; pollToken: string };
  const started = performance.now();
  const opened = await pool(Array.from({ length: STREAMS }), 100, () => open(`/v1/challenges/${c.id}/events`, { "X-Poll-Token": c.pollToken }));
  const seconds = (performance.now() - started) / 1000;
  const statuses: Record<string, number> = {};
  for (const o of opened) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
  const waiting = h.runtime.bus.waiterCount();
  const metrics = (await h.http().get("/metrics")).text;
  const counted = Number(/reverse_otp_rate_limited_total\{limit="challenge_waiters"\} (\d+)/.exec(metrics)?.[1] ?? 0);
  for (const o of opened) o.close();
  await until(() => h.runtime.bus.waiterCount() === 0, "every stream to close");
  writeFigure("S-waiters", { streams: STREAMS, statuses, waitingAtOnce: waiting, countedInMetrics: counted, seconds: Math.round(seconds * 10) / 10, perChallenge: h.config.waiters.perChallenge });
  expect(statuses).toEqual({ 200: h.config.waiters.perChallenge, 429: STREAMS - h.config.waiters.perChallenge });
  expect(waiting).toBe(h.config.waiters.perChallenge);
  expect(counted).toBe(STREAMS - h.config.waiters.perChallenge);
}, 600_000);
