// Persistence of the outbound outbox (table `outbound_messages`). The only module of this feature
// that touches Prisma (besides the caps' counting queries below, which read the same table).
//
// Claiming is a lease, as in the callback outbox (src/callbacks/callback-repository.ts): one
// statement picks due messages with FOR UPDATE SKIP LOCKED (concurrent dispatchers skip them
// instead of waiting), pushes their `next_attempt_at` to the end of the lease and counts the
// attempt, then commits. Results are written only while the lease (its end time is the token) is
// still ours, so a dispatcher that outlived its lease cannot overwrite another one's result.
import type { PrismaClient } from "../generated/prisma/client.js";
import { Prisma } from "../generated/prisma/client.js";
import { sqlLiteral } from "../db/sql-literal.js";

/** The transaction a caller enqueues in (a Prisma interactive transaction's client). */
export type OutboxTransaction = Prisma.TransactionClient;

export const OUTBOUND_CHANNEL_NAME = "reverse_otp_outbound";

export type DeliveryStatus = "queued" | "sent" | "delivered" | "failed" | "undeliverable";
export type OutboundChannelKind = "sms" | "email";

/** A row as enqueue writes it (see outbox.ts for how it is prepared). */
export type NewOutboundRow = {
  id: string;
  appId: string;
  challengeId: string | null;
  channel: OutboundChannelKind;
  provider: string;
  sender: string;
  recipientHash: string;
  recipientMasked: string;
  country: string | null;
  prefix: string | null;
  sealedPayload: string;
  deadlineAt: Date;
  createdAt: Date;
};

export type ClaimedRow = Pick<NewOutboundRow, "id" | "appId" | "challengeId" | "channel" | "provider" | "sender" | "country"> & {
  sealedPayload: string | null;
  /** Attempts including this one. */
  attempts: number;
  deadlineAt: Date;
  createdAt: Date;
  /** The lease's end, which identifies this claim. */
  lease: Date;
};

export type Delivery = { id: string; status: DeliveryStatus; updatedAt: Date; provider: string; country: string | null; createdAt: Date; sentAt: Date | null };

/** What a delivery report says, matched by the provider's id or by our own (the client reference). */
export type ReportUpdate = {
  provider: string;
  providerMessageId?: string;
  /** Our message id, where the provider echoes our client reference. */
  reference?: string;
  status: "delivered" | "failed";
  at: Date;
  errorCode?: string;
};

export type OutboxCounts = { phoneLastHour: number; prefixLastHour: number; countryLastHour: number; appLastDay: number };

const toDate = (value: unknown) => (value instanceof Date ? value : new Date(String(value)));

const deliverySelect = { id: true, status: true, updatedAt: true, provider: true, country: true, createdAt: true, sentAt: true } as const;

/**
 * The same insert as SQL for a script of several statements (a challenge's creation, which commits
 * in one round trip, src/challenges/challenge-sql.ts): `cte` inserts the row as a common table
 * expression of the challenge's INSERT (the row's foreign key to the challenge is checked at the end
 * of that statement, when the challenge exists), and `after` wakes the dispatchers at commit.
 */
export function enqueueScript(row: NewOutboundRow): { cte: string; after: string } {
  const columns: [string, string][] = [
    ["id", sqlLiteral(row.id)],
    ["app_id", sqlLiteral(row.appId)],
    ["challenge_id", sqlLiteral(row.challengeId)],
    ["channel", `${sqlLiteral(row.channel)}::"OutboundChannel"`],
    ["provider", sqlLiteral(row.provider)],
    ["sender", sqlLiteral(row.sender)],
    ["recipient_hash", sqlLiteral(row.recipientHash)],
    ["recipient_masked", sqlLiteral(row.recipientMasked)],
    ["country", sqlLiteral(row.country)],
    ["prefix", sqlLiteral(row.prefix)],
    ["sealed_payload", sqlLiteral(row.sealedPayload)],
    ["next_attempt_at", sqlLiteral(row.createdAt)],
    ["deadline_at", sqlLiteral(row.deadlineAt)],
    ["created_at", sqlLiteral(row.createdAt)],
    ["updated_at", sqlLiteral(row.createdAt)],
  ];
  return {
    cte: `queued_message AS (INSERT INTO outbound_messages (${columns.map(([c]) => c).join(", ")}) VALUES (${columns.map(([, v]) => v).join(", ")}))`,
    after: `NOTIFY ${OUTBOUND_CHANNEL_NAME}`,
  };
}

export function createOutboxRepository(prisma: PrismaClient) {
  return {
    /**
     * Inserts the message in the caller's transaction and asks PostgreSQL to wake the dispatchers
     * at commit (NOTIFY is delivered only if, and when, the transaction commits).
     */
    async enqueueIn(tx: Prisma.TransactionClient, row: NewOutboundRow): Promise<void> {
      await tx.outboundMessage.create({ data: { ...row, nextAttemptAt: row.createdAt, updatedAt: row.createdAt }, select: { id: true } });
      await tx.$executeRaw`SELECT pg_notify(${OUTBOUND_CHANNEL_NAME}, '')`;
    },

    /** The same in a transaction of its own (tools, tests, callers without a transaction). */
    async enqueue(row: NewOutboundRow): Promise<void> {
      await prisma.$transaction((tx) => this.enqueueIn(tx, row));
    },

    /** Leases up to `limit` queued messages due at `now` (and within their deadline) until `leaseUntil`. */
    async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedRow[]> {
      const rows = await prisma.$queryRaw<Record<string, unknown>[]>`
        WITH due AS (
          SELECT "id" FROM "outbound_messages"
           WHERE "status" = 'queued' AND "next_attempt_at" <= ${now}::timestamptz AND "deadline_at" > ${now}::timestamptz
           ORDER BY "next_attempt_at"
           LIMIT ${limit}::int
           FOR UPDATE SKIP LOCKED
        )
        UPDATE "outbound_messages" AS m
           SET "next_attempt_at" = ${leaseUntil}::timestamptz, "attempts" = m."attempts" + 1, "updated_at" = ${now}::timestamptz
          FROM due
         WHERE m."id" = due."id"
        RETURNING m."id", m."app_id" AS "appId", m."challenge_id" AS "challengeId", m."channel"::text AS "channel",
                  m."provider", m."sender", m."sealed_payload" AS "sealedPayload", m."country", m."attempts",
                  m."deadline_at" AS "deadlineAt", m."created_at" AS "createdAt"`;
      return rows.map((r) => ({
        id: r.id as string,
        appId: r.appId as string,
        challengeId: (r.challengeId as string | null) ?? null,
        channel: r.channel as OutboundChannelKind,
        provider: r.provider as string,
        sender: r.sender as string,
        sealedPayload: (r.sealedPayload as string | null) ?? null,
        country: (r.country as string | null) ?? null,
        attempts: Number(r.attempts),
        deadlineAt: toDate(r.deadlineAt),
        createdAt: toDate(r.createdAt),
        lease: leaseUntil,
      }));
    },

    /**
     * Queued messages whose deadline has passed and that no dispatcher holds: `failed`, payload
     * erased. Returns them (metrics, logs).
     */
    async failOverdue(now: Date): Promise<Pick<Delivery, "id" | "provider" | "country">[]> {
      return prisma.$queryRaw<Pick<Delivery, "id" | "provider" | "country">[]>`
        UPDATE "outbound_messages"
           SET "status" = 'failed', "failed_at" = ${now}::timestamptz, "updated_at" = ${now}::timestamptz, "next_attempt_at" = NULL,
               "sealed_payload" = NULL, "last_error" = coalesce("last_error", 'deadline passed before the provider accepted the message')
         WHERE "status" = 'queued' AND "deadline_at" <= ${now}::timestamptz
           AND ("next_attempt_at" IS NULL OR "next_attempt_at" <= ${now}::timestamptz)
        RETURNING "id", "provider", "country"`;
    },

    /** The provider accepted the message: `sent`, payload erased. False when the lease was lost. */
    async markSent(row: Pick<ClaimedRow, "id" | "lease">, now: Date, providerMessageId: string | undefined): Promise<boolean> {
      const write = (id: string | null) =>
        prisma.outboundMessage.updateMany({
          where: { id: row.id, status: "queued", nextAttemptAt: row.lease },
          data: { status: "sent", sentAt: now, updatedAt: now, nextAttemptAt: null, sealedPayload: null, providerMessageId: id, lastError: null },
        });
      try {
        return (await write(providerMessageId ?? null)).count === 1;
      } catch (error) {
        // A provider that gave one id to two messages: the message is still sent; reports for that
        // id cannot tell the two apart, so this one keeps none.
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") return (await write(null)).count === 1;
        throw error;
      }
    },

    /** A retryable failure: due again at `retryAt`. False when the lease was lost. */
    async markRetry(row: Pick<ClaimedRow, "id" | "lease">, now: Date, retryAt: Date, error: string): Promise<boolean> {
      const { count } = await prisma.outboundMessage.updateMany({
        where: { id: row.id, status: "queued", nextAttemptAt: row.lease },
        data: { nextAttemptAt: retryAt, updatedAt: now, lastError: error },
      });
      return count === 1;
    },

    /** Final without delivery: `undeliverable` (refused for good) or `failed` (deadline). Payload erased. */
    async markFinal(
      row: Pick<ClaimedRow, "id" | "lease">,
      now: Date,
      status: "failed" | "undeliverable",
      error: string,
      errorCode: string | undefined,
    ): Promise<boolean> {
      const { count } = await prisma.outboundMessage.updateMany({
        where: { id: row.id, status: "queued", nextAttemptAt: row.lease },
        data: { status, failedAt: now, updatedAt: now, nextAttemptAt: null, sealedPayload: null, lastError: error, errorCode: errorCode ?? null },
      });
      return count === 1;
    },

    /**
     * Applies a delivery report to the message it names: `sent` (or still `queued`, when the report
     * overtook our own record of the provider's answer) → `delivered` / `failed`. A report never
     * moves a final status (a late `failed` after `delivered` changes nothing; repeats are no-ops).
     * Returns the message as it was before, when the report changed it.
     */
    async applyReport(report: ReportUpdate): Promise<Delivery | undefined> {
      const match: Prisma.OutboundMessageWhereInput[] = [];
      if (report.providerMessageId) match.push({ provider: report.provider, providerMessageId: report.providerMessageId });
      if (report.reference) match.push({ provider: report.provider, id: report.reference });
      if (match.length === 0) return undefined;
      return prisma.$transaction(async (tx) => {
        const found = await tx.outboundMessage.findFirst({ where: { OR: match, status: { in: ["queued", "sent"] } }, select: deliverySelect });
        if (!found) return undefined;
        const data: Prisma.OutboundMessageUpdateManyMutationInput =
          report.status === "delivered"
            ? { status: "delivered", deliveredAt: report.at, updatedAt: report.at, nextAttemptAt: null, sealedPayload: null }
            : { status: "failed", failedAt: report.at, updatedAt: report.at, nextAttemptAt: null, sealedPayload: null, errorCode: report.errorCode ?? null, lastError: "the provider reported the delivery failed" };
        const { count } = await tx.outboundMessage.updateMany({ where: { id: found.id, status: { in: ["queued", "sent"] } }, data });
        return count === 1 ? (found as Delivery) : undefined;
      });
    },

    async findDelivery(id: string): Promise<Delivery | undefined> {
      const row = await prisma.outboundMessage.findUnique({ where: { id }, select: deliverySelect });
      return (row as Delivery | null) ?? undefined;
    },

    /** The latest message of a challenge (its `delivery` in the challenge view, part B). */
    async findLatestForChallenge(challengeId: string): Promise<Delivery | undefined> {
      const row = await prisma.outboundMessage.findFirst({ where: { challengeId }, orderBy: { createdAt: "desc" }, select: deliverySelect });
      return (row as Delivery | null) ?? undefined;
    },

    /** Messages still to be sent (all instances): the queue-depth gauge. */
    async countQueued(): Promise<number> {
      return prisma.outboundMessage.count({ where: { status: "queued" } });
    },

    // --- Counting queries of the money and abuse rules (abuse-rules.ts decides) -----------------

    /** Messages enqueued to this recipient, prefix and country in the last hour, and by the app in the last day. */
    async countForCaps(q: { appId: string; recipientHashes: readonly string[]; prefix: string | null; country: string | null; now: Date }): Promise<OutboxCounts> {
      const hourAgo = new Date(q.now.getTime() - 3600_000);
      const dayAgo = new Date(q.now.getTime() - 86_400_000);
      const [phoneLastHour, prefixLastHour, countryLastHour, appLastDay] = await Promise.all([
        prisma.outboundMessage.count({ where: { recipientHash: { in: [...q.recipientHashes] }, createdAt: { gt: hourAgo } } }),
        q.prefix ? prisma.outboundMessage.count({ where: { prefix: q.prefix, createdAt: { gt: hourAgo } } }) : Promise.resolve(0),
        q.country ? prisma.outboundMessage.count({ where: { country: q.country, createdAt: { gt: hourAgo } } }) : Promise.resolve(0),
        prisma.outboundMessage.count({ where: { appId: q.appId, createdAt: { gt: dayAgo } } }),
      ]);
      return { phoneLastHour, prefixLastHour, countryLastHour, appLastDay };
    },

    /** The app's codes that went out (a provider accepted them) in the last hour, and how many of their challenges were verified. */
    async conversionLastHour(appId: string, now: Date): Promise<{ sent: number; verified: number }> {
      const hourAgo = new Date(now.getTime() - 3600_000);
      const [row] = await prisma.$queryRaw<{ sent: bigint | number; verified: bigint | number }[]>`
        SELECT count(*) AS "sent",
               count(*) FILTER (WHERE c."status" = 'verified') AS "verified"
          FROM "outbound_messages" AS m
          LEFT JOIN "challenges" AS c ON c."id" = m."challenge_id"
         WHERE m."app_id" = ${appId} AND m."created_at" > ${hourAgo}::timestamptz
           AND m."sent_at" IS NOT NULL`;
      return { sent: Number(row?.sent ?? 0), verified: Number(row?.verified ?? 0) };
    },
  };
}

export type OutboxRepository = ReturnType<typeof createOutboxRepository>;
