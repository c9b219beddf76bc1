// Persistence of inbound messages (the dedup rows, with their outcome) and of the parts of
// multi-part SMS. The state changes a message causes are the challenges feature's
// (src/challenges/verification.ts), which records the message in its own transaction through
// `messageLog`.
import type { PrismaClient } from "../generated/prisma/client.js";
import { LOCK_KEYS, TAKE_LOCK_SQL } from "../challenges/challenge-sql.js";
import type { MessageLog } from "../challenges/verification.js";
import type { Transaction } from "../db/database.js";
import type { InboundOutcome } from "../providers/provider.js";

export type InboundRow = {
  id: string;
  provider: string;
  providerMessageId: string;
  appId: string | null;
  senderHash: string | null;
  senderMasked: string | null;
  senderCountry: string | null;
  recipient: string;
  textLength: number;
  parts: number;
  lineType: string | null;
  carrier: string | null;
  receivedAt: Date;
  createdAt: Date;
};

/**
 * Claims the idempotency key (provider, provider message id), storing the row with `outcome`.
 * Insert-or-nothing: a concurrent duplicate waits on the unique index until this transaction ends,
 * then inserts nothing. The message's lock (LOCK_KEYS.inboundMessage) is taken first, as the
 * one-statement verification does (see there).
 */
async function claim(tx: Transaction, row: InboundRow, outcome: InboundOutcome): Promise<boolean> {
  await tx.$executeRawUnsafe(TAKE_LOCK_SQL, LOCK_KEYS.inboundMessage(row.provider, row.providerMessageId));
  const created = await tx.inboundMessage.createManyAndReturn({
    data: [{ ...row, outcome }],
    skipDuplicates: true,
    select: { id: true },
  });
  return created.length === 1;
}

export type StoredPart = {
  id: string;
  provider: string;
  groupKey: string;
  part: number;
  total: number;
  providerMessageId: string;
  sealedText: string;
};

export function createInboundRepository(prisma: PrismaClient) {
  return {
    /** Stores a message whose outcome is known before any matching; false when it is a duplicate. */
    store(row: InboundRow, outcome: InboundOutcome): Promise<boolean> {
      return prisma.$transaction((tx) => claim(tx, row, outcome));
    },

    /** How a verification records this message in its own transaction (claim first, outcome last). */
    messageLog(row: InboundRow): MessageLog {
      return (tx) => ({
        claim: (outcome) => claim(tx, row, outcome),
        async setOutcome(outcome, challengeId) {
          await tx.inboundMessage.update({ where: { id: row.id }, data: { outcome, challengeId }, select: { id: true } });
        },
      });
    },

    /**
     * Stores one part of a multi-part SMS (a repeated part is ignored) and returns all parts when
     * the group is complete. Parts of one group are serialised by a transaction-scoped advisory
     * lock, so whichever part commits last sees the group complete (two parts arriving at once
     * cannot both miss it). Matching the joined message is idempotent (its id derives from the
     * group), so a retried last part is harmless.
     */
    async storePart(part: StoredPart): Promise<{ part: number; sealedText: string; providerMessageId: string }[] | undefined> {
      return prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`${part.provider}:${part.groupKey}`}, 0))`;
        await tx.inboundPart.createMany({ data: [part], skipDuplicates: true });
        const parts = await tx.inboundPart.findMany({
          where: { provider: part.provider, groupKey: part.groupKey },
          select: { part: true, sealedText: true, providerMessageId: true },
          orderBy: { part: "asc" },
        });
        const numbers = new Set(parts.map((p) => p.part));
        for (let n = 1; n <= part.total; n++) if (!numbers.has(n)) return undefined;
        return parts.filter((p) => p.part <= part.total);
      });
    },

    async deleteParts(provider: string, groupKey: string): Promise<void> {
      await prisma.inboundPart.deleteMany({ where: { provider, groupKey } });
    },
  };
}

export type InboundRepository = ReturnType<typeof createInboundRepository>;
