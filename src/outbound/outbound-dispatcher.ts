// Sends the outbound outbox: claims due messages (a lease, see outbox-repository.ts), opens their
// sealed payload, sends each through its provider's sender (or SMTP), and records the result:
//   accepted  → `sent` (the provider's id kept for its delivery reports);
//   retryable → due again after a back-off (outbox-schedule.ts), or `failed` past the deadline;
//   refused   → `undeliverable`, never retried (trying again would fail again, and may cost).
// Messages whose deadline passed while queued become `failed` at the start of each round.
//
// Guarantees (docs/sending.md, "The outbox"):
// - A crash between the commit that enqueued a message and its send loses nothing: the row is
//   there, and the next round (this instance after a restart, or another) sends it.
// - A crash after a claim and before the send: the lease runs out, the message becomes due again,
//   and it is sent once.
// - A crash after the provider accepted and before `sent` was stored (the send-then-crash window,
//   one HTTP round trip wide): the message is sent again after the lease, with the same message id
//   as client reference. Sending is at least once in that window; the generic provider's
//   `webhook-id` lets a gateway drop the repeat, the other providers offer no idempotency key.
// - Two dispatchers never send one message at the same time (FOR UPDATE SKIP LOCKED, the lease).
import type { Logger } from "../http/logger.js";
import type { ProviderName } from "../providers/registry.js";
import { createBackgroundLoop } from "../shared/background-loop.js";
import type { Clock } from "../shared/clock.js";
import type { Sealer } from "../shared/crypto.js";
import type { EmailSender } from "./email-sender.js";
import type { OutboundMetrics } from "./outbound-metrics.js";
import type { OutboundPayload } from "./outbox.js";
import type { ClaimedRow, OutboxRepository } from "./outbox-repository.js";
import { nextOutboundAttemptAt, OUTBOUND_RETRY_SECONDS } from "./outbox-schedule.js";
import type { SenderRegistry } from "./sender-registry.js";
import type { SendResult } from "./sms-sender.js";

/** The NOTIFY channel enqueue signals (outbox-repository.ts). */
export { OUTBOUND_CHANNEL_NAME } from "./outbox-repository.js";

export type OutboundReport = {
  messageId: string;
  provider: string;
  country: string | null;
  attempt: number;
  outcome: "sent" | "retry" | "undeliverable" | "failed" | "lease_lost";
  reason?: string;
  retryAt?: Date;
};

export type RoundSummary = { sent: number; retry: number; undeliverable: number; failed: number };

export type OutboundDispatcherDeps = {
  repository: OutboxRepository;
  senders: SenderRegistry;
  email: EmailSender;
  sealer: Pick<Sealer, "open">;
  clock: Clock;
  logger: Logger;
  metrics?: OutboundMetrics;
  /** Waits between attempts, in seconds (default OUTBOUND_RETRY_SECONDS). */
  schedule?: readonly number[];
  /** Subscribes `wake` to the outbox notifications (LISTEN). */
  listen?: (wake: () => void) => Promise<() => Promise<void>>;
  /** How often the timer wakes the dispatcher, in milliseconds (default 2000). */
  pollIntervalMs?: number;
  /** Messages claimed and sent at once (default 10). */
  batchSize?: number;
  /** How long a claim keeps other dispatchers away, in milliseconds; longer than one send can take. */
  leaseMs: number;
  onReport?: (report: OutboundReport) => void;
};

export function createOutboundDispatcher(deps: OutboundDispatcherDeps) {
  const { repository, clock, logger } = deps;
  const schedule = deps.schedule ?? OUTBOUND_RETRY_SECONDS;
  const batchSize = deps.batchSize ?? 10;

  async function attempt(row: ClaimedRow): Promise<SendResult> {
    let payload: OutboundPayload;
    try {
      payload = JSON.parse(deps.sealer.open(row.sealedPayload ?? "")) as OutboundPayload;
    } catch {
      return { kind: "refused", reason: "the message cannot be opened (sealed with a HASH_KEY no longer configured)" };
    }
    if (payload.channel === "email") {
      return deps.email.send({ messageId: row.id, to: payload.to, subject: payload.subject, text: payload.text, html: payload.html });
    }
    const sender = deps.senders.get(row.provider as ProviderName);
    if (!sender) return { kind: "refused", reason: `no sender for provider ${row.provider}` };
    return sender.send({ messageId: row.id, from: row.sender, to: payload.to, text: payload.text });
  }

  async function deliver(row: ClaimedRow): Promise<OutboundReport> {
    const result = await attempt(row);
    const now = clock.now();
    const base = { messageId: row.id, provider: row.provider, country: row.country, attempt: row.attempts };
    let report: OutboundReport;
    if (result.kind === "accepted") {
      const kept = await repository.markSent(row, now, result.providerMessageId);
      report = { ...base, outcome: kept ? "sent" : "lease_lost" };
      if (kept) deps.metrics?.sent(row.provider, row.country, (now.getTime() - row.createdAt.getTime()) / 1000);
    } else if (result.kind === "refused") {
      const kept = await repository.markFinal(row, now, "undeliverable", result.reason, result.errorCode);
      report = { ...base, outcome: kept ? "undeliverable" : "lease_lost", reason: result.reason };
    } else {
      const retryAt = nextOutboundAttemptAt(row.attempts, now, row.deadlineAt, result.retryAfterSeconds, schedule);
      const kept = retryAt
        ? await repository.markRetry(row, now, retryAt, result.reason)
        : await repository.markFinal(row, now, "failed", `deadline reached; last error: ${result.reason}`, undefined);
      report = { ...base, outcome: !kept ? "lease_lost" : retryAt ? "retry" : "failed", reason: result.reason, ...(retryAt ? { retryAt } : {}) };
    }
    const fields = { messageId: report.messageId, provider: report.provider, country: report.country, attempt: report.attempt };
    if (report.outcome === "sent") logger.info(fields, "outbound message sent");
    else if (report.outcome === "retry") logger.warn({ ...fields, reason: report.reason, retryAt: report.retryAt }, "outbound message failed, will retry");
    else if (report.outcome === "lease_lost") logger.warn(fields, "outbound attempt outlived its lease; another dispatcher owns the message");
    else logger.error({ ...fields, reason: report.reason }, `outbound message ${report.outcome}`);
    if (report.outcome !== "lease_lost") deps.metrics?.result(row.provider, row.country, report.outcome);
    try {
      deps.onReport?.(report);
    } catch {
      // an observer's failure is its own
    }
    return report;
  }

  async function round(): Promise<RoundSummary> {
    const summary: RoundSummary = { sent: 0, retry: 0, undeliverable: 0, failed: 0 };
    for (const overdue of await repository.failOverdue(clock.now())) {
      summary.failed++;
      deps.metrics?.result(overdue.provider, overdue.country, "failed");
      logger.error({ messageId: overdue.id, provider: overdue.provider }, "outbound message failed: deadline passed");
    }
    for (;;) {
      const now = clock.now();
      const rows = await repository.claimDue(now, new Date(now.getTime() + deps.leaseMs), batchSize);
      const reports = await Promise.all(
        rows.map((row) =>
          deliver(row).catch((error: unknown) => {
            // The result could not be stored (database trouble): the lease runs out and the message
            // is tried again (at least once, see the header).
            logger.error({ err: error, messageId: row.id }, "outbound result not stored");
            return undefined;
          }),
        ),
      );
      for (const r of reports) {
        if (r && r.outcome !== "lease_lost") summary[r.outcome]++;
      }
      if (rows.length < batchSize || loop.isStopping()) return summary;
    }
  }

  const loop = createBackgroundLoop({ round, pollIntervalMs: deps.pollIntervalMs ?? 2000, listen: deps.listen, logger, name: "outbound" });
  return { start: loop.start, stop: loop.stop, runOnce: loop.runOnce, wake: loop.wake };
}

export type OutboundDispatcher = ReturnType<typeof createOutboundDispatcher>;
