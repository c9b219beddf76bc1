// Two ways to load a server.
//
// - runSaturation: autocannon, closed loop (each connection sends its next request when the answer
//   arrives): the throughput a server sustains, and its latency when saturated.
// - runPaced: open loop at a fixed rate, one request every 1/rate seconds whatever the answers, with
//   latency measured from the moment the request was *due* (so a stalled server cannot hide its
//   queue: no coordinated omission). autocannon's own rate option is not used for this: it sends
//   each connection's share of a second in one burst at the start of the second and then records
//   latencies with a 1 ms "expected interval", which turns one slow answer into many fake samples.
import http from "node:http";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { percentiles, type Percentiles } from "./stats.js";

export type BenchRequest = { method: "GET" | "POST"; path: string; headers: Record<string, string>; body?: string };

export type LoadResult = {
  mode: "paced" | "saturation";
  /** Target rate (paced) or connections (saturation). */
  rate?: number;
  connections?: number;
  durationSeconds: number;
  requests: number;
  /** Answers that were not 2xx, failed the check, or never came (network errors, timeouts). */
  errors: number;
  latencyMs: Percentiles;
  /** Correct answers per second over the run. */
  throughput: number;
};

/** `next` returns undefined when it has no more requests to give (the run then ends early). */
export async function runPaced(options: {
  baseUrl: string;
  rate: number;
  durationSeconds: number;
  next: () => BenchRequest | undefined;
  check?: (status: number, body: string) => boolean;
  maxSockets?: number;
}): Promise<LoadResult> {
  const url = new URL(options.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 });
  const total = Math.round(options.rate * options.durationSeconds);
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  let finished = 0;
  const start = performance.now();
  const intervalMs = 1000 / options.rate;

  await new Promise<void>((resolve) => {
    let exhausted = false;
    const doneIfAll = () => {
      if ((exhausted || sent === total) && finished === sent) resolve();
    };
    const fire = (due: number, req: BenchRequest) => {
      const r = http.request(
        { host: url.hostname, port: url.port, method: req.method, path: req.path, headers: req.headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            const ok = status >= 200 && status < 300 && (options.check?.(status, Buffer.concat(chunks).toString("utf8")) ?? true);
            if (ok) latencies.push(performance.now() - due);
            else errors++;
            finished++;
            doneIfAll();
          });
        },
      );
      r.on("error", () => {
        errors++;
        finished++;
        doneIfAll();
      });
      r.end(req.body);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * intervalMs <= now) {
        const req = options.next();
        if (!req) {
          exhausted = true;
          break;
        }
        fire(start + sent * intervalMs, req);
        sent++;
      }
      if (sent < total && !exhausted) setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
      else doneIfAll();
    };
    tick();
  });
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  return {
    mode: "paced",
    rate: options.rate,
    durationSeconds: elapsed,
    requests: sent,
    errors,
    latencyMs: percentiles(latencies),
    throughput: latencies.length / elapsed,
  };
}

export async function runSaturation(options: {
  baseUrl: string;
  connections: number;
  durationSeconds: number;
  next: () => BenchRequest;
  check?: (status: number, body: string) => boolean;
}): Promise<LoadResult> {
  let failedChecks = 0;
  const first = options.next();
  let used = false;
  const result = await autocannon({
    url: options.baseUrl,
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: 10,
    requests: [
      {
        method: first.method,
        path: first.path,
        headers: first.headers,
        // Called for every request a connection sends (its first one included): a fresh request each
        // time; the one drawn above to describe the request is used first.
        setupRequest: (req) => {
          const r = used ? options.next() : first;
          used = true;
          return { ...req, method: r.method, path: r.path, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}) };
        },
        onResponse: (status, body) => {
          if (options.check && status >= 200 && status < 300 && !options.check(status, body)) failedChecks++;
        },
      },
    ],
  });
  const total = result.requests.total;
  const errors = result.non2xx + result.errors + result.timeouts + failedChecks;
  return {
    mode: "saturation",
    connections: options.connections,
    durationSeconds: result.duration,
    requests: total,
    errors,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    throughput: (result["2xx"] - failedChecks) / result.duration,
  };
}
