// Long-poll fan-out: thousands of clients wait in GET /v1/challenges/:id?waitSeconds=30, then
// signed webhooks verify their challenges; each waiter's wake-up time is the time from the start of
// the webhook that verified its challenge to the waiter's answer (all clocks in this process).
import http from "node:http";
import { performance } from "node:perf_hooks";
import type { BenchRequest } from "./load.js";
import type { ServerProcess } from "./process.js";
import type { SeededChallenge } from "./seed.js";
import { percentiles, type Percentiles } from "./stats.js";

export type FanOutResult = {
  waiters: number;
  challenges: number;
  verifiedChallenges: number;
  /** Waiters of verified challenges that answered `verified`. */
  woken: number;
  /** Waiters of verified challenges that did not answer `verified` in time, and webhooks that failed. */
  errors: number;
  webhookRate: number;
  /** Webhook start → waiter's answer. */
  wakeMs: Percentiles;
  /** Webhook's own answer → waiter's answer (negative: the waiter was answered first). */
  afterWebhookAnswerMs: Percentiles;
  webhookLatencyMs: Percentiles;
  rssIdleMB: number;
  rssWaitingMB: number;
  peakMB: number;
  /** (RSS while waiting − RSS before) / waiters, in kB. */
  kbPerWaiter: number;
  secondsToOpen: number;
};

type Waiter = { challengeId: string; answeredAt?: number; status?: string; httpStatus?: number; req: http.ClientRequest };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waiterCount(baseUrl: string): Promise<number> {
  const text = await fetch(`${baseUrl}/metrics`).then((r) => r.text());
  const m = /^reverse_otp_waiters (\d+)/m.exec(text);
  return m ? Number(m[1]) : -1;
}

export async function runFanOut(options: {
  service: ServerProcess;
  /** Challenges to wait on; each gets `waitersPerChallenge` waiters. */
  challenges: SeededChallenge[];
  waitersPerChallenge: number;
  /** How many of the challenges are verified by a webhook (the first ones), and at what rate. */
  verifyCount: number;
  webhookRate: number;
  webhookFor: (c: SeededChallenge, index: number) => BenchRequest;
  /** Waiters opened per 100 ms. */
  openPer100Ms?: number;
}): Promise<FanOutResult> {
  const { service } = options;
  const url = new URL(service.baseUrl);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const rssIdleMB = service.memory().rssMB;

  // 1. Open every waiter, a batch every 100 ms (a burst of thousands of SYNs overflows the backlog).
  const waiters: Waiter[] = [];
  const openStart = performance.now();
  const batch = options.openPer100Ms ?? 250;
  const all = options.challenges.flatMap((c) => Array.from({ length: options.waitersPerChallenge }, () => c));
  for (let i = 0; i < all.length; i += batch) {
    for (const c of all.slice(i, i + batch)) {
      const w: Waiter = {
        challengeId: c.id,
        req: http.request({
          host: url.hostname,
          port: url.port,
          path: `/v1/challenges/${c.id}?waitSeconds=30`,
          headers: { "x-poll-token": c.pollToken },
          agent,
        }),
      };
      w.req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => {
          w.answeredAt = performance.now();
          w.httpStatus = res.statusCode;
          try {
            w.status = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { status?: string }).status;
          } catch {
            w.status = "unparsable";
          }
        });
      });
      w.req.on("error", () => {
        w.answeredAt ??= performance.now();
        w.status ??= "network-error";
      });
      w.req.end();
      waiters.push(w);
    }
    await sleep(100);
  }
  // /metrics is not free with thousands of open handles (prom-client lists them): ask twice a second.
  for (let i = 0; ; i++) {
    const n = await waiterCount(service.baseUrl);
    if (n >= waiters.length) break;
    if (i > 120) {
      const answered = waiters.filter((w) => w.answeredAt !== undefined);
      const why = [...new Set(answered.map((w) => `${w.httpStatus ?? "-"} ${w.status}`))].slice(0, 5).join(", ");
      throw new Error(`only ${n} of ${waiters.length} waiters registered; ${answered.length} answered early (${why})`);
    }
    await sleep(500);
  }
  const secondsToOpen = (performance.now() - openStart) / 1000;
  const early = waiters.filter((w) => w.answeredAt !== undefined).length;
  await sleep(500);
  const rssWaitingMB = service.memory().rssMB;

  // 2. Verify the first `verifyCount` challenges, paced.
  const targets = options.challenges.slice(0, options.verifyCount);
  const sentAt = new Map<string, number>();
  const answeredAt = new Map<string, number>();
  const webhookLatencies: number[] = [];
  let webhookErrors = 0;
  const webhookAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < targets.length; i++) {
    const due = start + (i * 1000) / options.webhookRate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const c = targets[i]!;
    const req = options.webhookFor(c, i);
    const t0 = performance.now();
    sentAt.set(c.id, t0);
    inFlight.push(
      new Promise<void>((resolve) => {
        const r = http.request(
          { host: url.hostname, port: url.port, method: req.method, path: req.path, headers: req.headers, agent: webhookAgent },
          (res) => {
            res.resume();
            res.on("end", () => {
              const t1 = performance.now();
              answeredAt.set(c.id, t1);
              webhookLatencies.push(t1 - t0);
              if ((res.statusCode ?? 0) >= 300) webhookErrors++;
              resolve();
            });
          },
        );
        r.on("error", () => {
          webhookErrors++;
          resolve();
        });
        r.end(req.body);
      }),
    );
  }
  await Promise.all(inFlight);
  webhookAgent.destroy();

  // 3. Wait for the woken waiters (at most 5 s after the last webhook), then close every other one.
  const verifiedIds = new Set(targets.map((c) => c.id));
  const mine = waiters.filter((w) => verifiedIds.has(w.challengeId));
  for (let i = 0; i < 50 && mine.some((w) => w.answeredAt === undefined); i++) await sleep(100);
  const peakMB = service.memory().peakMB;
  for (const w of waiters) if (w.answeredAt === undefined) w.req.destroy();
  agent.destroy();

  const wake: number[] = [];
  const afterAnswer: number[] = [];
  let woken = 0;
  for (const w of mine) {
    if (w.status !== "verified" || w.answeredAt === undefined) continue;
    woken++;
    wake.push(w.answeredAt - sentAt.get(w.challengeId)!);
    const a = answeredAt.get(w.challengeId);
    if (a !== undefined) afterAnswer.push(w.answeredAt - a);
  }
  return {
    waiters: waiters.length,
    challenges: options.challenges.length,
    verifiedChallenges: targets.length,
    woken,
    errors: mine.length - woken + webhookErrors + early,
    webhookRate: options.webhookRate,
    wakeMs: percentiles(wake),
    afterWebhookAnswerMs: percentiles(afterAnswer),
    webhookLatencyMs: percentiles(webhookLatencies),
    rssIdleMB,
    rssWaitingMB,
    peakMB,
    kbPerWaiter: ((rssWaitingMB - rssIdleMB) * 1000) / waiters.length,
    secondsToOpen,
  };
}
