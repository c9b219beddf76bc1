// Sends the callback outbox: claims due events (a lease, see callback-repository.ts), signs each per
// Standard Webhooks with the app's callback secret, POSTs it, and records the result: any 2xx is
// delivered; anything else (other status, refused address, network error, timeout) is tried again
// on the retry schedule, then given up.
//
// Delivery is at least once: a sender that dies after the receiver got the event but before the
// result is stored sends it again after the lease. The `webhook-id` (the event id) and the body are
// the same on every attempt, so receivers drop repeats by id.
//
// Woken by the outbox NOTIFY (sent at commit by the trigger that writes an event) and by a timer,
// which also brings the retries and the events of other instances' lost leases. (Challenges that
// expire untouched get their `expired` status, hence their event, from the maintenance sweep.)
import { Webhook } from "standardwebhooks";
import type { Logger } from "../http/logger.js";
import { createBackgroundLoop } from "../shared/background-loop.js";
import type { Clock } from "../shared/clock.js";
import type { CallbackRepository, ClaimedEvent } from "./callback-repository.js";
import { nextAttemptAt, RETRY_SCHEDULE_SECONDS } from "./callback-schedule.js";
import { sendCallback, type SendResult } from "./callback-sender.js";
import type { Resolver } from "./callback-url.js";

export type DeliveryReport = {
  eventId: string;
  appId: string;
  challengeId: string;
  type: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** `lease_lost`: the attempt outlived its lease and another sender owns the event. */
  outcome: "delivered" | "retry" | "gave_up" | "lease_lost";
  status?: number;
  error?: string;
  retryAt?: Date;
};

export type RoundSummary = { delivered: number; retry: number; gaveUp: number };

export type CallbackDispatcherDeps = {
  repository: CallbackRepository;
  clock: Clock;
  logger: Logger;
  allowPrivateNetworks: boolean;
  /** Deadline of one POST, in milliseconds (connect, TLS, answer). */
  fetchTimeoutMs: number;
  /** Waits between attempts, in seconds (default RETRY_SCHEDULE_SECONDS). */
  schedule?: readonly number[];
  onDelivery?: (report: DeliveryReport) => void;
  /** Subscribes `wake` to the outbox notifications (LISTEN); resolves to the unsubscribe. */
  listen?: (wake: () => void) => Promise<() => Promise<void>>;
  /** How often the timer wakes the dispatcher, in milliseconds (default 5000). */
  pollIntervalMs?: number;
  /** Events claimed and sent at once (default 10). */
  batchSize?: number;
  /** How long a claim keeps other senders away, in milliseconds; longer than one attempt can take. */
  leaseMs?: number;
  /** DNS resolver for the SSRF guard (tests); the system resolver otherwise. */
  resolve?: Resolver;
};

export function createCallbackDispatcher(deps: CallbackDispatcherDeps) {
  const { repository, clock, logger } = deps;
  const schedule = deps.schedule ?? RETRY_SCHEDULE_SECONDS;
  const batchSize = deps.batchSize ?? 10;
  const pollIntervalMs = deps.pollIntervalMs ?? 5000;
  // A batch is sent in parallel, so one attempt's deadline bounds it; the margin covers the database.
  const leaseMs = deps.leaseMs ?? Math.max(60_000, deps.fetchTimeoutMs * 3);

  async function attempt(event: ClaimedEvent): Promise<SendResult> {
    if (!event.callbackUrl || !event.callbackSecret) return { ok: false, error: "the app has no callback URL any more" };
    let signature: string;
    const sentAt = clock.now();
    try {
      signature = new Webhook(event.callbackSecret).sign(event.id, sentAt, event.body);
    } catch {
      return { ok: false, error: "the app's callback secret cannot sign" };
    }
    return sendCallback(
      {
        url: event.callbackUrl,
        headers: {
          "content-type": "application/json",
          "user-agent": "reverse-otp",
          "webhook-id": event.id,
          "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
          "webhook-signature": signature,
        },
        body: event.body,
      },
      { allowPrivateNetworks: deps.allowPrivateNetworks, timeoutMs: deps.fetchTimeoutMs, resolve: deps.resolve },
    );
  }

  async function deliver(event: ClaimedEvent): Promise<DeliveryReport> {
    const result = await attempt(event);
    const now = clock.now();
    const base = { eventId: event.id, appId: event.appId, challengeId: event.challengeId, type: event.type, attempt: event.attempts };
    let report: DeliveryReport;
    if (result.ok) {
      const kept = await repository.markDelivered(event, now, result.status);
      report = { ...base, outcome: kept ? "delivered" : "lease_lost", status: result.status };
    } else {
      // No URL any more: nothing to retry against.
      const retryAt = event.callbackUrl ? nextAttemptAt(event.attempts, now, schedule) : undefined;
      const kept = await repository.markFailed(event, { now, retryAt, status: result.status, error: result.error });
      report = { ...base, outcome: !kept ? "lease_lost" : retryAt ? "retry" : "gave_up", status: result.status, error: result.error, retryAt };
    }
    const host = event.callbackUrl ? safeHost(event.callbackUrl) : undefined;
    const fields = { eventId: report.eventId, appId: report.appId, type: report.type, attempt: report.attempt, host, status: report.status };
    if (report.outcome === "delivered") logger.info(fields, "callback delivered");
    else if (report.outcome === "retry") logger.warn({ ...fields, error: report.error, retryAt: report.retryAt }, "callback failed, will retry");
    else if (report.outcome === "gave_up") logger.error({ ...fields, error: report.error }, "callback given up after its last attempt");
    else logger.warn(fields, "callback attempt outlived its lease; another sender owns the event");
    try {
      deps.onDelivery?.(report);
    } catch {
      // an observer's failure is its own
    }
    return report;
  }

  /** One round: send due events, batch after batch, until none is left. */
  async function round(): Promise<RoundSummary> {
    const summary: RoundSummary = { delivered: 0, retry: 0, gaveUp: 0 };
    for (;;) {
      const now = clock.now();
      const events = await repository.claimDue(now, new Date(now.getTime() + leaseMs), batchSize);
      const reports = await Promise.all(
        events.map((event) =>
          deliver(event).catch((error: unknown) => {
            // The result could not be stored (database trouble): the lease runs out and the event
            // is sent again, which at-least-once allows.
            logger.error({ err: error, eventId: event.id }, "callback result not stored");
            return undefined;
          }),
        ),
      );
      for (const r of reports) {
        if (r?.outcome === "delivered") summary.delivered++;
        else if (r?.outcome === "retry") summary.retry++;
        else if (r?.outcome === "gave_up") summary.gaveUp++;
      }
      if (events.length < batchSize || stopping()) return summary;
    }
  }

  const loop = createBackgroundLoop({ round, pollIntervalMs, listen: deps.listen, logger, name: "callback" });
  const stopping = () => loop.isStopping();

  return {
    /** Listens for new events, wakes every `pollIntervalMs` for retries, and sends what is due now. */
    start: loop.start,
    /** Stops waking, and waits for the round in flight (its deliveries included). */
    stop: loop.stop,
    /** One round now, after any round in flight (tests and tools). */
    runOnce: loop.runOnce,
    /** Asks for a round soon (e.g. after a notification). */
    wake: loop.wake,
  };
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

export type CallbackDispatcher = ReturnType<typeof createCallbackDispatcher>;
