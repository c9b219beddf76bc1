// Retention purges of the tables the service keeps for a while: inbound messages (the dedup rows),
// parts of multi-part SMS never completed, rate-limit counters. Challenges and wrong-code counts are
// the challenges feature's to delete (ChallengeService: expireOverdue, countPurgeable, purgeBatch).
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

/** The tables purged here. */
export type OwnPurgeTable = "inboundMessages" | "inboundParts" | "rateLimits";

/** The rows of each table that the retention rules let go, as of the cutoffs. */
function purgeWhere(c: PurgeCutoffs) {
  return {
    inboundMessages: { createdAt: { lt: c.inboundBefore } },
    inboundParts: { createdAt: { lt: c.partsBefore } },
    rateLimits: { expire: { lt: c.rateLimitsBefore } },
  } satisfies {
    inboundMessages: Prisma.InboundMessageWhereInput;
    inboundParts: Prisma.InboundPartWhereInput;
    rateLimits: Prisma.RateLimitWhereInput;
  };
}

export function createMaintenanceRepository(prisma: PrismaClient) {
  return {
    /** How many rows the purge would delete now. */
    async countPurgeable(c: PurgeCutoffs): Promise<Record<OwnPurgeTable, number>> {
      const where = purgeWhere(c);
      return {
        inboundMessages: await prisma.inboundMessage.count({ where: where.inboundMessages }),
        inboundParts: await prisma.inboundPart.count({ where: where.inboundParts }),
        rateLimits: await prisma.rateLimit.count({ where: where.rateLimits }),
      };
    },

    /**
     * Deletes at most `limit` purgeable rows of one table and says how many it deleted. Short
     * statements, so a purge of a large backlog stays under the statement timeout and never holds
     * many row locks at once. The condition is applied again on delete: a row touched since it
     * was selected (a wrong-code count, say) stays.
     */
    async purgeBatch(table: OwnPurgeTable, c: PurgeCutoffs, limit: number): Promise<number> {
      const where = purgeWhere(c);
      switch (table) {
        case "inboundMessages": {
          const ids = (await prisma.inboundMessage.findMany({ where: where.inboundMessages, select: { id: true }, take: limit })).map((r) => r.id);
          return ids.length === 0 ? 0 : (await prisma.inboundMessage.deleteMany({ where: { AND: [where.inboundMessages, { id: { in: ids } }] } })).count;
        }
        case "inboundParts": {
          const ids = (await prisma.inboundPart.findMany({ where: where.inboundParts, select: { id: true }, take: limit })).map((r) => r.id);
          return ids.length === 0 ? 0 : (await prisma.inboundPart.deleteMany({ where: { AND: [where.inboundParts, { id: { in: ids } }] } })).count;
        }
        case "rateLimits": {
          const keys = (await prisma.rateLimit.findMany({ where: where.rateLimits, select: { key: true }, take: limit })).map((r) => r.key);
          return keys.length === 0 ? 0 : (await prisma.rateLimit.deleteMany({ where: { AND: [where.rateLimits, { key: { in: keys } }] } })).count;
        }
      }
    },
  };
}

export type MaintenanceRepository = ReturnType<typeof createMaintenanceRepository>;
