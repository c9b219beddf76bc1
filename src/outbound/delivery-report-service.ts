// POST/GET /v1/delivery-reports/:provider[/:token]: verify as the inbound webhook of that provider
// does, read the report (its descriptor's `parseDeliveryReport`, src/providers/<name>/delivery-report.ts), move the outbound message it names to `delivered`
// or `failed`. Touches only the outbox table; challenges learn of it in part B.
//
// Answers: refused signatures 401/403 and nothing written; an unreadable payload 400; a report for
// a message we do not know (another system on the same account, a purged row) or an intermediate
// status 200 and nothing written, so the provider does not retry it; the database down 503
// (problem.ts), so the provider retries and no report is lost.
import type { Logger } from "../http/logger.js";
import type { InboundRequest, ProviderAdapter } from "../providers/provider.js";
import { PROVIDER_DESCRIPTORS } from "../providers/index.js";
import { AppError } from "../shared/errors.js";
import type { DeliveryReport } from "./delivery-reports.js";
import type { OutboundMetrics } from "./outbound-metrics.js";
import type { OutboxRepository } from "./outbox-repository.js";

export type DeliveryReportResult = { providerMessageId: string | undefined; outcome: "applied" | "unmatched" };

export type DeliveryReportServiceDeps = {
  providers: ReadonlyMap<string, ProviderAdapter>;
  repository: Pick<OutboxRepository, "applyReport">;
  logger: Logger;
  metrics?: OutboundMetrics;
};

/** Each provider's delivery-report reader, by name, from the list (src/providers/index.ts). */
export const DELIVERY_REPORT_PARSERS: ReadonlyMap<string, (request: InboundRequest) => DeliveryReport[]> = new Map(
  PROVIDER_DESCRIPTORS.map((p) => [p.name, p.parseDeliveryReport]),
);

export function createDeliveryReportService(deps: DeliveryReportServiceDeps) {
  return {
    async handle(providerName: string, request: InboundRequest): Promise<{ status: number; results: DeliveryReportResult[] }> {
      const adapter = deps.providers.get(providerName);
      const parse = DELIVERY_REPORT_PARSERS.get(providerName);
      if (!adapter || !parse || (request.pathToken !== undefined && !adapter.usesPathToken)) {
        throw new AppError("UNKNOWN_PROVIDER", "No delivery-report endpoint at this path");
      }
      if (!adapter.methods.includes(request.method)) throw new AppError("METHOD_NOT_ALLOWED", `${adapter.name} reports use ${adapter.methods.join(" or ")}`);
      const verdict = await adapter.verify(request);
      if (!verdict.ok) {
        deps.metrics?.report(adapter.name, "rejected");
        deps.logger.warn({ provider: adapter.name, code: verdict.code, reason: verdict.reason }, "delivery report refused");
        throw new AppError(verdict.code, verdict.reason);
      }
      let reports: DeliveryReport[];
      try {
        reports = parse(request);
      } catch (error) {
        if (error instanceof AppError) deps.metrics?.report(adapter.name, "rejected");
        throw error;
      }
      if (reports.length === 0) deps.metrics?.report(adapter.name, "ignored");
      const results: DeliveryReportResult[] = [];
      for (const report of reports) {
        const before = await deps.repository.applyReport({ provider: adapter.name, ...report });
        const outcome = before ? "applied" : "unmatched";
        deps.metrics?.report(adapter.name, outcome);
        if (before) {
          deps.metrics?.result(before.provider, before.country, report.status === "delivered" ? "delivered" : "delivery_failed");
          if (report.status === "delivered") deps.metrics?.delivered(before.provider, before.country, (report.at.getTime() - before.createdAt.getTime()) / 1000);
        }
        deps.logger.info({ provider: adapter.name, messageId: before?.id, status: report.status, errorCode: report.errorCode, outcome }, "delivery report");
        results.push({ providerMessageId: report.providerMessageId, outcome });
      }
      return { status: 200, results };
    },
  };
}

export type DeliveryReportService = ReturnType<typeof createDeliveryReportService>;
