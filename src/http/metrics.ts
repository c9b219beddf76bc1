// Prometheus metrics (prom-client), one registry per runtime so that several runtimes in one
// process (tests) do not collide. Labels never carry numbers, ids or keys.
import type { RequestHandler } from "express";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(options: { collectDefaults?: boolean } = {}) {
  const registry = new Registry();
  if (options.collectDefaults ?? true) collectDefaultMetrics({ register: registry, prefix: "reverse_otp_" });

  const httpRequests = new Counter({
    name: "reverse_otp_http_requests_total",
    help: "HTTP requests by method, route and status code",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: "reverse_otp_http_request_duration_seconds",
    help: "HTTP request latency by method and route (long-polls and streams excluded)",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const inboundMessages = new Counter({
    name: "reverse_otp_inbound_messages_total",
    help: "Inbound SMS by provider and outcome (verified, wrong_code, expired, …)",
    labelNames: ["provider", "outcome"] as const,
    registers: [registry],
  });
  const webhookRejections = new Counter({
    name: "reverse_otp_webhook_rejections_total",
    help: "Refused webhook requests by provider and reason (error code)",
    labelNames: ["provider", "reason"] as const,
    registers: [registry],
  });
  const misconfiguredDeliveries = new Counter({
    name: "reverse_otp_misconfigured_deliveries_total",
    help: "Deliveries that could not verify anything for a reason of set-up, by provider and reason (unknown_number, other_provider, unmapped_channel, not_configured, unsigned)",
    labelNames: ["provider", "reason"] as const,
    registers: [registry],
  });
  const challengesCreated = new Counter({
    name: "reverse_otp_challenges_created_total",
    help: "Challenges created, by purpose",
    labelNames: ["purpose"] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: "reverse_otp_rate_limited_total",
    help: "Requests refused by a rate limit, by limit",
    labelNames: ["limit"] as const,
    registers: [registry],
  });
  const callbackDeliveries = new Counter({
    name: "reverse_otp_callback_deliveries_total",
    help: "Callback delivery attempts by result (delivered, retry, gave_up, lease_lost)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  // Gauges read their value at scrape time from what the runtime plugs in.
  let readWaiters: () => number = () => 0;
  let readQueueDepth: () => Promise<number> = async () => 0;
  new Gauge({
    name: "reverse_otp_waiters",
    help: "Long-polls and event streams waiting on this instance",
    registers: [registry],
    collect() {
      this.set(readWaiters());
    },
  });
  new Gauge({
    name: "reverse_otp_callback_queue_depth",
    help: "Callback events not yet delivered (all instances)",
    registers: [registry],
    async collect() {
      this.set(await readQueueDepth().catch(() => Number.NaN));
    },
  });

  /** Counts and times every request, labelled by its route pattern (never the raw path). */
  const middleware: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path as string}` : "unmatched";
      httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      const streaming = route.endsWith("/events") || req.query.waitSeconds !== undefined;
      if (!streaming) httpDuration.observe({ method: req.method, route }, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };

  return {
    registry,
    middleware,
    inboundMessages,
    webhookRejections,
    misconfiguredDeliveries,
    challengesCreated,
    rateLimited,
    callbackDeliveries,
    /** Where the gauges read their values at scrape time. */
    setCollectors(collectors: { waiters?: () => number; callbackQueueDepth?: () => Promise<number> }) {
      if (collectors.waiters) readWaiters = collectors.waiters;
      if (collectors.callbackQueueDepth) readQueueDepth = collectors.callbackQueueDepth;
    },
  };
}
