// The dashboard's numbers, computed in SQL (the only module of this feature that touches Prisma).
// Every value reaches PostgreSQL as a bind parameter of $queryRaw; optional filters are
// `($n IS NULL OR column = $n)`, so the statement text never depends on the input.
//
// Definitions (over challenges created in [from, to), filters applied):
//   created       every challenge
//   SMS received  a challenge that got an SMS: one linked to it (verified, or its code after
//                 expiry) or one from its phone to its app between its creation and its expiry
//                 (wrong codes are not linked to a challenge)
//   verified      verified_at is set (consumed ones included)
//   time to verify  verified_at − created_at, percentiles p50/p90/p99 in milliseconds
//   statuses      each challenge by its status as a read answers it now: a pending one whose
//                 expiry has passed counts as expired even before the sweep stores it so
// Inbound outcomes count inbound messages stored in [from, to); app, provider and country
// (the sender's) filter them directly, purpose through the challenge they matched.
import { Prisma, type PrismaClient } from "../generated/prisma/client.js";

export type StatsFilters = {
  appId?: string | undefined;
  provider?: string | undefined;
  country?: string | undefined;
  purpose?: string | undefined;
};

export type StatsWindow = { from: Date; to: Date; filters: StatsFilters };

export type FunnelRow = {
  created: number;
  smsReceived: number;
  verified: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
};

export type Dimension = "app" | "provider" | "country" | "purpose";

export type BreakdownRow = FunnelRow & { dimension: Dimension; key: string; label: string };

export type SeriesRow = { kind: "created" | "verified"; bucket: number; count: number };

type RawGroupRow = {
  dimension: Dimension | "total";
  key: string | null;
  label: string | null;
  created: number;
  sms_received: number;
  verified: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
};

const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Math.round(Number(v)));

/** Filters on challenges `c` joined with their virtual number `v`. */
function challengeFilters(f: StatsFilters): Prisma.Sql {
  const app = f.appId ?? null;
  const provider = f.provider ?? null;
  const country = f.country ?? null;
  const purpose = f.purpose ?? null;
  return Prisma.sql`
        AND (${app}::text IS NULL OR c."app_id" = ${app}::text)
        AND (${provider}::text IS NULL OR v."provider" = ${provider}::text)
        AND (${country}::text IS NULL OR c."phone_country" = ${country}::text)
        AND (${purpose}::text IS NULL OR c."purpose"::text = ${purpose}::text)`;
}

/** Outbound messages of one provider in the window. */
export type DeliveryRow = {
  provider: string;
  total: number;
  queued: number;
  sent: number;
  delivered: number;
  failed: number;
  undeliverable: number;
  /** Enqueue → delivered report, of the delivered ones. */
  p50Ms: number | null;
  p90Ms: number | null;
};

export function createDashboardRepository(prisma: PrismaClient) {
  return {
    /** Totals and the breakdowns by app, provider, country and purpose, in one pass (GROUPING SETS). */
    async funnel(window: StatsWindow): Promise<{ total: FunnelRow; breakdown: BreakdownRow[] }> {
      const rows = await prisma.$queryRaw<RawGroupRow[]>`
        WITH c AS (
          SELECT c."app_id", a."name" AS app_name, v."provider", COALESCE(c."phone_country", '') AS country,
                 c."purpose"::text AS purpose, c."created_at", c."verified_at",
                 -- Every message that counts went to the challenge's app after its creation: one
                 -- range of the (app_id, created_at) index per challenge, not a scan.
                 (c."verified_at" IS NOT NULL OR EXISTS (
                    SELECT 1 FROM "inbound_messages" m
                     WHERE m."app_id" = c."app_id" AND m."created_at" >= c."created_at"
                       AND (m."challenge_id" = c."id" OR (m."sender_hash" = c."phone_hash" AND m."created_at" <= c."expires_at"))
                 )) AS sms_received
            FROM "challenges" c
            JOIN "virtual_numbers" v ON v."id" = c."virtual_number_id"
            JOIN "apps" a ON a."id" = c."app_id"
           WHERE c."created_at" >= ${window.from}::timestamptz AND c."created_at" < ${window.to}::timestamptz
                 ${challengeFilters(window.filters)}
        )
        SELECT CASE WHEN GROUPING(c."app_id") = 0 THEN 'app'
                    WHEN GROUPING(c."provider") = 0 THEN 'provider'
                    WHEN GROUPING(c."country") = 0 THEN 'country'
                    WHEN GROUPING(c."purpose") = 0 THEN 'purpose'
                    ELSE 'total' END AS dimension,
               COALESCE(c."app_id", c."provider", c."country", c."purpose") AS key,
               max(c."app_name") AS label,
               count(*)::int AS created,
               (count(*) FILTER (WHERE c."sms_received"))::int AS sms_received,
               count(c."verified_at")::int AS verified,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (EXTRACT(EPOCH FROM (c."verified_at" - c."created_at")) * 1000)::float8) AS p50_ms,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY (EXTRACT(EPOCH FROM (c."verified_at" - c."created_at")) * 1000)::float8) AS p90_ms,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY (EXTRACT(EPOCH FROM (c."verified_at" - c."created_at")) * 1000)::float8) AS p99_ms
          FROM c
         GROUP BY GROUPING SETS ((c."app_id"), (c."provider"), (c."country"), (c."purpose"), ())`;
      const toFunnel = (r: RawGroupRow | undefined): FunnelRow => ({
        created: num(r?.created),
        smsReceived: num(r?.sms_received),
        verified: num(r?.verified),
        p50Ms: numOrNull(r?.p50_ms),
        p90Ms: numOrNull(r?.p90_ms),
        p99Ms: numOrNull(r?.p99_ms),
      });
      const total = toFunnel(rows.find((r) => r.dimension === "total"));
      const breakdown = rows
        .filter((r): r is RawGroupRow & { dimension: Dimension } => r.dimension !== "total")
        .map((r) => ({
          dimension: r.dimension,
          key: r.key ?? "",
          label: r.dimension === "app" ? (r.label ?? r.key ?? "") : (r.key ?? ""),
          ...toFunnel(r),
        }))
        .sort((a, b) => b.created - a.created || a.label.localeCompare(b.label));
      return { total, breakdown };
    },

    /** Challenges created in the window by channel (sms_mo, sms, email): created and verified. */
    async channels(window: StatsWindow): Promise<{ channel: string; created: number; verified: number }[]> {
      const rows = await prisma.$queryRaw<{ channel: string; created: number; verified: number }[]>`
        SELECT c."channel"::text AS channel, count(*)::int AS created, count(c."verified_at")::int AS verified
          FROM "challenges" c
          JOIN "virtual_numbers" v ON v."id" = c."virtual_number_id"
         WHERE c."created_at" >= ${window.from}::timestamptz AND c."created_at" < ${window.to}::timestamptz
               ${challengeFilters(window.filters)}
         GROUP BY 1 ORDER BY 1`;
      return rows.map((r) => ({ channel: r.channel, created: num(r.created), verified: num(r.verified) }));
    },

    /**
     * Codes sent (outbound messages enqueued in the window), by provider (`smtp` for e-mail): how
     * many reached each delivery status, and the delay from enqueue to the delivered report.
     */
    async deliveries(window: StatsWindow): Promise<DeliveryRow[]> {
      const app = window.filters.appId ?? null;
      const provider = window.filters.provider ?? null;
      const country = window.filters.country ?? null;
      const rows = await prisma.$queryRaw<Record<string, unknown>[]>`
        SELECT m."provider", count(*)::int AS total,
               (count(*) FILTER (WHERE m."status" = 'queued'))::int AS queued,
               (count(*) FILTER (WHERE m."status" = 'sent'))::int AS sent,
               (count(*) FILTER (WHERE m."status" = 'delivered'))::int AS delivered,
               (count(*) FILTER (WHERE m."status" = 'failed'))::int AS failed,
               (count(*) FILTER (WHERE m."status" = 'undeliverable'))::int AS undeliverable,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (EXTRACT(EPOCH FROM (m."delivered_at" - m."created_at")) * 1000)::float8) AS p50_ms,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY (EXTRACT(EPOCH FROM (m."delivered_at" - m."created_at")) * 1000)::float8) AS p90_ms
          FROM "outbound_messages" m
         WHERE m."created_at" >= ${window.from}::timestamptz AND m."created_at" < ${window.to}::timestamptz
           AND (${app}::text IS NULL OR m."app_id" = ${app}::text)
           AND (${provider}::text IS NULL OR m."provider" = ${provider}::text)
           AND (${country}::text IS NULL OR m."country" = ${country}::text)
         GROUP BY m."provider" ORDER BY total DESC, m."provider"`;
      return rows.map((r) => ({
        provider: String(r.provider),
        total: num(r.total),
        queued: num(r.queued),
        sent: num(r.sent),
        delivered: num(r.delivered),
        failed: num(r.failed),
        undeliverable: num(r.undeliverable),
        p50Ms: numOrNull(r.p50_ms),
        p90Ms: numOrNull(r.p90_ms),
      }));
    },

    /** Challenges created in the window, by their status as of `now` (pending past expiry = expired). */
    async statuses(window: StatsWindow, now: Date): Promise<{ status: string; count: number }[]> {
      const rows = await prisma.$queryRaw<{ status: string; count: number }[]>`
        SELECT CASE WHEN c."status"::text = 'pending' AND c."expires_at" <= ${now}::timestamptz THEN 'expired' ELSE c."status"::text END AS status,
               count(*)::int AS count
          FROM "challenges" c JOIN "virtual_numbers" v ON v."id" = c."virtual_number_id"
         WHERE c."created_at" >= ${window.from}::timestamptz AND c."created_at" < ${window.to}::timestamptz
               ${challengeFilters(window.filters)}
         GROUP BY 1`;
      return rows.map((r) => ({ status: r.status, count: num(r.count) }));
    },

    /** Inbound messages stored in the window, counted by outcome. */
    async outcomes(window: StatsWindow): Promise<{ outcome: string; count: number }[]> {
      const f = window.filters;
      const app = f.appId ?? null;
      const provider = f.provider ?? null;
      const country = f.country ?? null;
      const purpose = f.purpose ?? null;
      const rows = await prisma.$queryRaw<{ outcome: string; count: number }[]>`
        SELECT m."outcome"::text AS outcome, count(*)::int AS count
          FROM "inbound_messages" m
          LEFT JOIN "challenges" c ON c."id" = m."challenge_id"
         WHERE m."created_at" >= ${window.from}::timestamptz AND m."created_at" < ${window.to}::timestamptz
           AND (${app}::text IS NULL OR m."app_id" = ${app}::text)
           AND (${provider}::text IS NULL OR m."provider" = ${provider}::text)
           AND (${country}::text IS NULL OR m."sender_country" = ${country}::text)
           AND (${purpose}::text IS NULL OR c."purpose"::text = ${purpose}::text)
         GROUP BY 1`;
      return rows.map((r) => ({ outcome: r.outcome, count: num(r.count) }));
    },

    /**
     * Challenges created, and verifications made, in the window, per time bucket of `bucketSeconds`
     * counted from `start` (at or before the window's start, so buckets begin on whole hours or days).
     */
    async series(window: StatsWindow, start: Date, bucketSeconds: number): Promise<SeriesRow[]> {
      const filters = challengeFilters(window.filters);
      const rows = await prisma.$queryRaw<{ kind: "created" | "verified"; bucket: number; count: number }[]>`
        SELECT x.kind, x.bucket, count(*)::int AS count FROM (
          SELECT 'created' AS kind,
                 floor(EXTRACT(EPOCH FROM (c."created_at" - ${start}::timestamptz)) / ${bucketSeconds}::int)::int AS bucket
            FROM "challenges" c JOIN "virtual_numbers" v ON v."id" = c."virtual_number_id"
           WHERE c."created_at" >= ${window.from}::timestamptz AND c."created_at" < ${window.to}::timestamptz ${filters}
          UNION ALL
          SELECT 'verified' AS kind,
                 floor(EXTRACT(EPOCH FROM (c."verified_at" - ${start}::timestamptz)) / ${bucketSeconds}::int)::int AS bucket
            FROM "challenges" c JOIN "virtual_numbers" v ON v."id" = c."virtual_number_id"
           WHERE c."verified_at" >= ${window.from}::timestamptz AND c."verified_at" < ${window.to}::timestamptz ${filters}
        ) x
        GROUP BY x.kind, x.bucket`;
      return rows.map((r) => ({ kind: r.kind, bucket: num(r.bucket), count: num(r.count) }));
    },

    /**
     * Deliveries stored since `since` for numbers no app owns through the delivering provider
     * (outcome `unknown_number`): how many, and the latest. `recipient` is our number (or what the
     * provider named), `senderMasked` the display-safe sender.
     */
    async unownedDeliveries(since: Date): Promise<{ count: number; last: { at: Date; provider: string; number: string; senderMasked: string | null } | null }> {
      const where = { outcome: "unknown_number" as const, createdAt: { gte: since } };
      const count = await prisma.inboundMessage.count({ where });
      const last = await prisma.inboundMessage.findFirst({
        where,
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        select: { createdAt: true, provider: true, recipient: true, senderMasked: true },
      });
      return { count, last: last ? { at: last.createdAt, provider: last.provider, number: last.recipient, senderMasked: last.senderMasked } : null };
    },

  };
}

export type DashboardRepository = ReturnType<typeof createDashboardRepository>;
