// Housekeeping queries: expiry sweeping and retention purges.
import type { Prisma, PrismaClient } from "../generated/prisma/client.js";

export type PurgeCutoffs = {
  /** Challenges created before this are deleted (their inbound messages keep no link). */
  challengesBefore: Date;
  /** Inbound messages (the dedup rows) created before this are deleted. */
  inboundBefore: Date;
  /** Parts of multi-part SMS never completed, stored before this. */
  partsBefore: Date;
  /** Rate-limit counters that expired before this. */
  rateLimitsBefore: Date;
  /** Wrong-code counts last touched before this, and not locked any more. */
  failuresBefore: Date;
  now: Date;
};

export type PurgeCounts = { challenges: number; inboundMessages: number; inboundParts: number; rateLimits: number; phoneFailures: number };

/** What the purge deletes, in the order it deletes it (inbound messages before the challenges they name). */
export const PURGE_TABLES = ["inboundMessages", "challenges", "inboundParts", "rateLimits", "phoneFailures"] as const;
export type PurgeTable = (typeof PURGE_TABLES)[number];

/** The rows of each table that the retention rules let go, as of the cutoffs. */
function purgeWhere(c: PurgeCutoffs) {
  return {
    inboundMessages: { createdAt: { lt: c.inboundBefore } },
    challenges: { createdAt: { lt: c.challengesBefore } },
    inboundParts: { createdAt: { lt: c.partsBefore } },
    rateLimits: { expire: { lt: c.rateLimitsBefore } },
    phoneFailures: { updatedAt: { lt: c.failuresBefore }, OR: [{ lockedUntil: null }, { lockedUntil: { lt: c.now } }] },
  } satisfies {
    inboundMessages: Prisma.InboundMessageWhereInput;
    challenges: Prisma.ChallengeWhereInput;
    inboundParts: Prisma.InboundPartWhereInput;
    rateLimits: Prisma.RateLimitWhereInput;
    phoneFailures: Prisma.PhoneFailureWhereInput;
  };
}

export function createMaintenanceRepository(prisma: PrismaClient) {
  return {
    /** Pending challenges past their expiry become expired; the trigger notifies waiters (and callbacks). */
    async expireOverdue(now: Date, limit = 1000): Promise<number> {
      const due = await prisma.challenge.findMany({
        where: { status: "pending", expiresAt: { lte: now } },
        select: { id: true },
        orderBy: { expiresAt: "asc" },
        take: limit,
      });
      if (due.length === 0) return 0;
      const { count } = await prisma.challenge.updateMany({
        where: { id: { in: due.map((d) => d.id) }, status: "pending", expiresAt: { lte: now } },
        data: { status: "expired", finishedAt: now },
      });
      return count;
    },

    /** How many rows the purge would delete now. */
    async countPurgeable(c: PurgeCutoffs): Promise<PurgeCounts> {
      const where = purgeWhere(c);
      return {
        inboundMessages: await prisma.inboundMessage.count({ where: where.inboundMessages }),
        challenges: await prisma.challenge.count({ where: where.challenges }),
        inboundParts: await prisma.inboundPart.count({ where: where.inboundParts }),
        rateLimits: await prisma.rateLimit.count({ where: where.rateLimits }),
        phoneFailures: await prisma.phoneFailure.count({ where: where.phoneFailures }),
      };
    },

    /**
     * Deletes at most `limit` purgeable rows of one table and says how many it deleted. Short
     * statements, so a purge of a large backlog stays under the statement timeout and never holds
     * many row locks at once. The condition is applied again on delete: a row touched since it
     * was selected (a wrong-code count, say) stays.
     */
    async purgeBatch(table: PurgeTable, c: PurgeCutoffs, limit: number): Promise<number> {
      const where = purgeWhere(c);
      switch (table) {
        case "inboundMessages": {
          const ids = (await prisma.inboundMessage.findMany({ where: where.inboundMessages, select: { id: true }, take: limit })).map((r) => r.id);
          return ids.length === 0 ? 0 : (await prisma.inboundMessage.deleteMany({ where: { AND: [where.inboundMessages, { id: { in: ids } }] } })).count;
        }
        case "challenges": {
          // Their callback events go with them (ON DELETE CASCADE); inbound messages keep no link.
          const ids = (await prisma.challenge.findMany({ where: where.challenges, select: { id: true }, take: limit })).map((r) => r.id);
          return ids.length === 0 ? 0 : (await prisma.challenge.deleteMany({ where: { AND: [where.challenges, { id: { in: ids } }] } })).count;
        }
        case "inboundParts": {
          const ids = (await prisma.inboundPart.findMany({ where: where.inboundParts, select: { id: true }, take: limit })).map((r) => r.id);
          return ids.length === 0 ? 0 : (await prisma.inboundPart.deleteMany({ where: { AND: [where.inboundParts, { id: { in: ids } }] } })).count;
        }
        case "rateLimits": {
          const keys = (await prisma.rateLimit.findMany({ where: where.rateLimits, select: { key: true }, take: limit })).map((r) => r.key);
          return keys.length === 0 ? 0 : (await prisma.rateLimit.deleteMany({ where: { AND: [where.rateLimits, { key: { in: keys } }] } })).count;
        }
        case "phoneFailures": {
          const rows = await prisma.phoneFailure.findMany({ where: where.phoneFailures, select: { appId: true, phoneHash: true }, take: limit });
          return rows.length === 0 ? 0 : (await prisma.phoneFailure.deleteMany({ where: { AND: [where.phoneFailures, { OR: rows }] } })).count;
        }
      }
    },
  };
}

export type MaintenanceRepository = ReturnType<typeof createMaintenanceRepository>;
