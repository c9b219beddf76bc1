// Persistence of inbound messages and of the state changes they cause. The service writes the
// script; these are its steps, each bound to one transaction.
import { Prisma, type PrismaClient } from "../generated/prisma/client.js";
import type { FailureState } from "../challenges/attempts.js";
import type { StatementRunner } from "../db/database.js";
import type { ChallengeStatus } from "../challenges/challenge-view.js";
import type { InboundOutcome } from "../providers/provider.js";
import {
  VERIFY_IN_ONE_STATEMENT_SQL,
  VERIFY_STATEMENT_NAME,
  verifyInOneStatementParams,
  type OneStatementRow,
  type OneStatementVerification,
} from "./verify-statement.js";

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

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

function stepsFor(tx: Tx) {
  return {
    /**
     * Claims the idempotency key (provider, provider message id). Insert-or-nothing: a concurrent
     * duplicate waits on the unique index until this transaction ends, then inserts nothing.
     */
    async claim(row: InboundRow, outcome: InboundOutcome): Promise<boolean> {
      // The message's lock, taken first by both paths (see verify-statement.ts): the one-statement
      // path locks the challenge before the message row, so without it the two could deadlock.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`inbound-claim:${row.provider}:${row.providerMessageId}`}, 0))`;
      const created = await tx.inboundMessage.createManyAndReturn({
        data: [{ ...row, outcome }],
        skipDuplicates: true,
        select: { id: true },
      });
      return created.length === 1;
    },

    async setOutcome(id: string, outcome: InboundOutcome, challengeId: string | null): Promise<void> {
      await tx.inboundMessage.update({ where: { id }, data: { outcome, challengeId }, select: { id: true } });
    },

    /**
     * The race gate: one conditional UPDATE moves a matching challenge from pending to verified,
     * only while it is unexpired. Two deliveries at once: the second waits for the row lock, then
     * re-reads the row, sees `verified`, and updates nothing.
     */
    async verifyMatching(q: { appId: string; phoneHashes: string[]; codeHashes: string[]; now: Date }): Promise<string | undefined> {
      const rows = await tx.challenge.updateManyAndReturn({
        where: {
          appId: q.appId,
          phoneHash: { in: q.phoneHashes },
          codeHash: { in: q.codeHashes },
          status: "pending",
          expiresAt: { gt: q.now },
        },
        data: { status: "verified", verifiedAt: q.now, finishedAt: q.now },
        select: { id: true },
      });
      return rows[0]?.id;
    },

    async findCodeMatch(q: { appId: string; phoneHashes: string[]; codeHashes: string[] }) {
      return (
        (await tx.challenge.findFirst({
          where: { appId: q.appId, phoneHash: { in: q.phoneHashes }, codeHash: { in: q.codeHashes } },
          select: { id: true, status: true, expiresAt: true },
          orderBy: { createdAt: "desc" },
        })) ?? undefined
      );
    },

    async hasPending(q: { appId: string; phoneHashes: string[]; now: Date }): Promise<boolean> {
      const found = await tx.challenge.findFirst({
        where: { appId: q.appId, phoneHash: { in: q.phoneHashes }, status: "pending", expiresAt: { gt: q.now } },
        select: { id: true },
      });
      return found !== null;
    },

    async expireIfPending(id: string, now: Date): Promise<void> {
      await tx.challenge.updateMany({ where: { id, status: "pending" }, data: { status: "expired", finishedAt: now } });
    },

    /** Reads the phone's failure state and locks its row until the transaction ends, so concurrent
     *  wrong codes are counted one after the other (none lost). */
    async lockFailureState(appId: string, phoneHash: string, now: Date): Promise<FailureState> {
      // The same lock as challenge creation for this (app, phone): a challenge created while this
      // wrong code is counted waits, then sees the new count (and the lock-out, if this is the last).
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`challenge-create:${appId}:${phoneHash}`}, 0))`;
      return tx.phoneFailure.upsert({
        where: { appId_phoneHash: { appId, phoneHash } },
        create: { appId, phoneHash, failures: 0, updatedAt: now },
        update: { failures: { increment: 0 } },
        select: { failures: true, lockedUntil: true, updatedAt: true },
      });
    },

    async saveFailureState(appId: string, phoneHash: string, state: FailureState): Promise<void> {
      await tx.phoneFailure.update({
        where: { appId_phoneHash: { appId, phoneHash } },
        data: { failures: state.failures, lockedUntil: state.lockedUntil, updatedAt: state.updatedAt },
        select: { appId: true },
      });
    },

    async clearFailures(appId: string, phoneHashes: string[]): Promise<void> {
      await tx.phoneFailure.deleteMany({ where: { appId, phoneHash: { in: phoneHashes } } });
    },

    /** Records the phone's count on its pending challenges; at the limit they become failed. */
    async applyFailures(q: { appId: string; phoneHashes: string[]; failures: number; fail: boolean; now: Date }): Promise<void> {
      const where = { appId: q.appId, phoneHash: { in: q.phoneHashes }, status: "pending" as ChallengeStatus };
      await tx.challenge.updateMany({
        where,
        data: q.fail ? { attempts: q.failures, status: "failed", finishedAt: q.now } : { attempts: q.failures },
      });
    },
  };
}

export type InboundSteps = ReturnType<typeof stepsFor>;

export type StoredPart = {
  id: string;
  provider: string;
  groupKey: string;
  part: number;
  total: number;
  providerMessageId: string;
  sealedText: string;
};

/** What the one-statement verification did (see verify-statement.ts). */
export type OneStatementResult =
  | { kind: "verified"; challengeId: string }
  /** The cached owner of the number no longer holds: nothing was done. */
  | { kind: "stale_owner" }
  /** Nothing to verify: nothing was done (the step-by-step path decides the outcome). */
  | { kind: "no_match" }
  /** The message id was stored by a concurrent delivery: nothing was done. */
  | { kind: "duplicate" };

/** A unique violation: node-postgres's SQLSTATE 23505, or Prisma's P2010 around it (PGlite). */
function isRawUniqueViolation(error: unknown): boolean {
  if ((error as { code?: unknown } | null)?.code === "23505") return true;
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (error.code === "P2002") return true;
  const cause = (error.meta as { driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } } | undefined)
    ?.driverAdapterError?.cause;
  return error.code === "P2010" && (cause?.originalCode === "23505" || cause?.kind === "UniqueConstraintViolation");
}


export function createInboundRepository(
  prisma: PrismaClient,
  statement: StatementRunner = (_name, sql, params) => prisma.$queryRawUnsafe(sql, ...params),
) {
  return {
    /**
     * The common case in one round trip: claim + conditional UPDATE + cleared failures, as one
     * prepared statement (verify-statement.ts). Measured with `npm run bench` (2 cores, PostgreSQL
     * on the same host): the step-by-step transaction cost 8 round trips and most of the webhook's
     * CPU in Prisma's interactive-transaction and query machinery; see docs/performance.md.
     */
    async verifyInOneStatement(v: OneStatementVerification): Promise<OneStatementResult> {
      let rows: OneStatementRow[];
      try {
        rows = await statement<OneStatementRow>(VERIFY_STATEMENT_NAME, VERIFY_IN_ONE_STATEMENT_SQL, verifyInOneStatementParams(v));
      } catch (error) {
        if (isRawUniqueViolation(error)) return { kind: "duplicate" };
        throw error;
      }
      const row = rows[0];
      if (!row?.owned) return { kind: "stale_owner" };
      return row.challengeId ? { kind: "verified", challengeId: row.challengeId } : { kind: "no_match" };
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

    transaction<T>(fn: (steps: InboundSteps) => Promise<T>): Promise<T> {
      return prisma.$transaction((tx) => fn(stepsFor(tx)), { maxWait: 5000, timeout: 10_000 });
    },
  };
}

export type InboundRepository = ReturnType<typeof createInboundRepository>;
