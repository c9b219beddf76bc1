// The sending feature wired from its explicit dependencies (called by the composition root,
// src/runtime.ts): outbox, senders, e-mail, dispatcher, delivery reports, money and abuse rules.
import type { Registry } from "prom-client";
import type { Config } from "../config.js";
import type { Database } from "../db/database.js";
import type { Logger } from "../http/logger.js";
import type { ProviderAdapter } from "../providers/provider.js";
import type { Clock } from "../shared/clock.js";
import { createSealer, type Hasher } from "../shared/crypto.js";
import { createAbuseGuard } from "./abuse-guard.js";
import { createDeliveryReportService } from "./delivery-report-service.js";
import { createEmailSender } from "./email-sender.js";
import { createOutboundDispatcher, OUTBOUND_CHANNEL_NAME } from "./outbound-dispatcher.js";
import { createOutboundMetrics } from "./outbound-metrics.js";
import { createOutbox } from "./outbox.js";
import { createOutboxRepository } from "./outbox-repository.js";
import { createSenderRegistry, type SenderRegistry } from "./sender-registry.js";
import type { FetchLike } from "./sms-sender.js";

export type OutboundFeatureDeps = {
  config: Config;
  database: Database;
  hashKeys: readonly string[];
  hasher: Hasher;
  genericWebhookSecrets: readonly string[];
  providers: ReadonlyMap<string, ProviderAdapter>;
  registry: Registry;
  clock: Clock;
  logger: Logger;
  /** Tests: the fetch the senders use. */
  fetch?: FetchLike;
  /** Wraps the senders (the demo's outbox captures the demo number's SMS: src/demo/demo-outbox.ts). */
  wrapSenders?: (senders: SenderRegistry) => SenderRegistry;
};

export function createOutboundFeature(deps: OutboundFeatureDeps) {
  const { config, clock, logger } = deps;
  const o = config.outbound;
  const repository = createOutboxRepository(deps.database.prisma);
  const sealer = createSealer(deps.hashKeys, "outbound-payload");
  const metrics = createOutboundMetrics(deps.registry, () => repository.countQueued());
  const built = createSenderRegistry({
    outbound: o,
    providers: config.providers,
    genericWebhookSecrets: deps.genericWebhookSecrets,
    publicBaseUrl: config.publicBaseUrl,
    now: () => clock.now(),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const senders = deps.wrapSenders ? deps.wrapSenders(built) : built;
  const email = createEmailSender({ smtpUrl: o.smtpUrl, from: o.emailFrom, timeoutMs: o.timeoutMs });
  const outbox = createOutbox({
    repository,
    hasher: deps.hasher,
    hashKey: deps.hashKeys[0]!,
    sealer,
    clock,
    deadlineSeconds: o.deadlineSeconds,
    emailFrom: o.emailFrom,
  });
  const dispatcher = createOutboundDispatcher({
    repository,
    senders,
    email,
    sealer,
    clock,
    logger,
    metrics,
    // A batch is sent in parallel: one request's deadline bounds it; the margin covers the database.
    leaseMs: Math.max(30_000, o.timeoutMs * 3),
    listen: (wake) => deps.database.listen(OUTBOUND_CHANNEL_NAME, wake, wake),
  });
  const deliveryReports = createDeliveryReportService({ providers: deps.providers, repository, logger, metrics });
  const guard = createAbuseGuard({ repository, hasher: deps.hasher, hashKey: deps.hashKeys[0]!, caps: o.caps, clock, logger, metrics });
  return {
    outbox,
    repository,
    senders,
    email,
    dispatcher,
    deliveryReports,
    guard,
    metrics,
    async close() {
      await dispatcher.stop();
      email.close();
    },
  };
}

export type OutboundFeature = ReturnType<typeof createOutboundFeature>;
