// Dashboard statistics: the period and its time buckets (pure), then the repository's numbers
// shaped for the page.
import type { AppDirectory } from "../apps/app-directory.js";
import type { Clock } from "../shared/clock.js";
import { AppError } from "../shared/errors.js";
import type { BreakdownRow, DashboardRepository, DeliveryRow, Dimension, FunnelRow, SeriesRow, StatsFilters } from "./dashboard-repository.js";

export type StatsQuery = StatsFilters & { from?: Date | undefined; to?: Date | undefined };

export const DEFAULT_PERIOD_MS = 24 * 3600_000;
/** The longest period one request may cover (retention keeps 30 days by default; a year at most is useful). */
export const MAX_PERIOD_MS = 400 * 24 * 3600_000;

/** Time buckets of the "over time" chart: 5 minutes up to 3 hours, hours up to 3 days, days beyond. */
export function bucketSecondsFor(periodMs: number): number {
  if (periodMs <= 3 * 3600_000) return 300;
  if (periodMs <= 3 * 24 * 3600_000) return 3600;
  return 86_400;
}

/** The period asked for: `to` defaults to now, `from` to 24 hours before `to`. */
export function resolvePeriod(query: Pick<StatsQuery, "from" | "to">, now: Date): { from: Date; to: Date } {
  const to = query.to ?? now;
  const from = query.from ?? new Date(to.getTime() - DEFAULT_PERIOD_MS);
  if (from.getTime() >= to.getTime()) {
    throw new AppError("VALIDATION_FAILED", "`from` must be before `to`", { errors: [{ field: "from", message: "must be before to" }] });
  }
  if (to.getTime() - from.getTime() > MAX_PERIOD_MS) {
    throw new AppError("VALIDATION_FAILED", "The period may span at most 400 days", {
      errors: [{ field: "from", message: "at most 400 days before to" }],
    });
  }
  return { from, to };
}

/** The start of the bucket that holds `from`: buckets begin on whole 5 minutes, hours or (UTC) days. */
export function seriesStart(from: Date, bucketSeconds: number): Date {
  const size = bucketSeconds * 1000;
  return new Date(Math.floor(from.getTime() / size) * size);
}

/** One entry per bucket from `start` until `to`, zeros included, so the chart's time axis has no gaps. */
export function fillSeries(rows: SeriesRow[], start: Date, to: Date, bucketSeconds: number) {
  const count = Math.ceil((to.getTime() - start.getTime()) / (bucketSeconds * 1000));
  const buckets = Array.from({ length: count }, (_, i) => ({
    start: new Date(start.getTime() + i * bucketSeconds * 1000).toISOString(),
    created: 0,
    verified: 0,
  }));
  for (const row of rows) {
    const bucket = buckets[row.bucket];
    if (bucket) bucket[row.kind] += row.count;
  }
  return buckets;
}

const DIMENSIONS: readonly Dimension[] = ["app", "provider", "country", "purpose"];

/** Every status a challenge can have, so each is counted (zero included). */
export const CHALLENGE_STATUSES = ["pending", "verified", "expired", "failed", "cancelled"] as const;

/** The counts by status, zeros filled in; an unknown status (a newer schema) is kept as it is. */
export function countStatuses(rows: { status: string; count: number }[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(CHALLENGE_STATUSES.map((s) => [s, 0]));
  for (const row of rows) counts[row.status] = (counts[row.status] ?? 0) + row.count;
  return counts;
}

/**
 * The delivery figures of sent codes: the delivery rate is delivered ÷ those with a final answer
 * (delivered, failed, undeliverable); messages still queued or sent without a report are not
 * judged yet. Null when nothing is final.
 */
export function deliverySummary(rows: DeliveryRow[]) {
  const rate = (r: Pick<DeliveryRow, "delivered" | "failed" | "undeliverable">) => {
    const final = r.delivered + r.failed + r.undeliverable;
    return final === 0 ? null : r.delivered / final;
  };
  const sum = (key: "total" | "queued" | "sent" | "delivered" | "failed" | "undeliverable") => rows.reduce((n, r) => n + r[key], 0);
  const totals = { total: sum("total"), queued: sum("queued"), sent: sum("sent"), delivered: sum("delivered"), failed: sum("failed"), undeliverable: sum("undeliverable") };
  return {
    ...totals,
    deliveryRate: rate(totals),
    byProvider: rows.map((r) => ({ ...r, deliveryRate: rate(r), delay: { p50Ms: r.p50Ms, p90Ms: r.p90Ms } })),
  };
}

/** The window of the "numbers no app owns" panel: the last hour, whatever the period asked for. */
export const UNOWNED_WINDOW_MS = 3600_000;

export function createDashboardService(deps: {
  repository: DashboardRepository;
  /** Apps and the providers of their numbers, for the filter menus. */
  apps: Pick<AppDirectory, "listNames" | "listProviders">;
  clock: Clock;
}) {
  return {
    async stats(query: StatsQuery) {
      const { from, to } = resolvePeriod(query, deps.clock.now());
      const bucketSeconds = bucketSecondsFor(to.getTime() - from.getTime());
      const filters: StatsFilters = { appId: query.appId, provider: query.provider, country: query.country, purpose: query.purpose };
      const window = { from, to, filters };
      // One after the other: embedded PGlite has a single connection anyway, and a pool is shared.
      const funnel = await deps.repository.funnel(window);
      const statuses = await deps.repository.statuses(window, deps.clock.now());
      const outcomes = await deps.repository.outcomes(window);
      const start = seriesStart(from, bucketSeconds);
      const series = await deps.repository.series(window, start, bucketSeconds);
      const channels = await deps.repository.channels(window);
      const deliveries = await deps.repository.deliveries(window);
      const dimensions = { apps: await deps.apps.listNames(), providers: await deps.apps.listProviders() };
      const now = deps.clock.now();
      const unowned = await deps.repository.unownedDeliveries(new Date(now.getTime() - UNOWNED_WINDOW_MS));
      const timeToVerify = (row: FunnelRow) => ({ p50Ms: row.p50Ms, p90Ms: row.p90Ms, p99Ms: row.p99Ms });
      const shape = (row: BreakdownRow) => ({
        key: row.key,
        label: row.label,
        created: row.created,
        smsReceived: row.smsReceived,
        verified: row.verified,
        timeToVerify: timeToVerify(row),
      });
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        filters: Object.fromEntries(Object.entries({ app: query.appId, provider: query.provider, country: query.country, purpose: query.purpose }).filter(([, v]) => v !== undefined)),
        // smsReceived counts challenges that got at least one SMS; inboundSms counts the messages
        // themselves (several per challenge, and those that matched no challenge), as `outcomes` does.
        funnel: { created: funnel.total.created, smsReceived: funnel.total.smsReceived, verified: funnel.total.verified },
        statuses: countStatuses(statuses),
        inboundSms: outcomes.reduce((sum, o) => sum + o.count, 0),
        timeToVerify: timeToVerify(funnel.total),
        outcomes: outcomes.sort((a, b) => b.count - a.count || a.outcome.localeCompare(b.outcome)),
        breakdown: Object.fromEntries(DIMENSIONS.map((d) => [d, funnel.breakdown.filter((r) => r.dimension === d).map(shape)])) as Record<
          Dimension,
          ReturnType<typeof shape>[]
        >,
        series: { bucketSeconds, buckets: fillSeries(series, start, to, bucketSeconds) },
        // The classic direction: challenges by channel, and the sent codes' delivery by provider.
        channels: Object.fromEntries(
          (["sms_mo", "sms", "email"] as const).map((c) => {
            const row = channels.find((r) => r.channel === c);
            return [c, { created: row?.created ?? 0, verified: row?.verified ?? 0 }];
          }),
        ) as Record<"sms_mo" | "sms" | "email", { created: number; verified: number }>,
        delivery: deliverySummary(deliveries),
        dimensions,
        // Misconfiguration: codes sent to numbers no app owns (docs/providers/README.md). Not filtered.
        unowned: {
          windowSeconds: UNOWNED_WINDOW_MS / 1000,
          count: unowned.count,
          last: unowned.last
            ? { at: unowned.last.at.toISOString(), provider: unowned.last.provider, number: unowned.last.number, sender: unowned.last.senderMasked }
            : null,
        },
      };
    },
  };
}

export type DashboardService = ReturnType<typeof createDashboardService>;
