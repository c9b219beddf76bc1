// Persistence of challenges and of the phones' wrong-code counts (`phone_failures`): the only module
// that writes these two tables. Prisma lives here, with the hand-written SQL of challenge-sql.ts;
// decisions arrive as data (creation-decision.ts, verification.ts), and scripts that must run in
// one transaction are written by the services from the steps given here.
import type { PrismaClient } from "../generated/prisma/client.js";
import { Prisma, type Purpose } from "../generated/prisma/client.js";
import type { ShortTransaction, StatementRunner, Transaction } from "../db/database.js";
import type { FailureState } from "./attempts.js";
import {
  CREATE_PLAIN_NAME,
  CREATE_PLAIN_SQL,
  createPlainValues,
  creationFactsScript,
  creationInsertScript,
  FIND_BY_ID_NAME,
  FIND_BY_ID_SQL,
  LOCK_KEYS,
  TAKE_LOCK_SQL,
  VERIFY_ONE_PENDING_SQL,
  verifyInOneStatement,
  type CreationExtra,
  type CreationFactsQuery,
  type CreationFactsRow,
  type CreatePlainRow,
  type NewChallengeRow,
  type OneStatementRow,
  type OneStatementVerification,
} from "./challenge-sql.js";
import type { Channel, ChallengeRecord, ChallengeStatus } from "./challenge-view.js";
import { MAX_PENDING_PER_PHONE, type CreationFacts } from "./creation-decision.js";

export type NewChallenge = Omit<NewChallengeRow, "attempts">;

export type StoredChallenge = ChallengeRecord & {
  pollTokenHash: string;
  codeHash: string;
  locale: string;
  context: Record<string, string> | null;
  virtualNumber: string;
  requestFingerprint: string | null;
};

/**
 * A challenge as reads, long-polls and their re-reads need it: one single-table statement
 * (challenge-sql.ts, FIND_BY_ID_SQL).
 */
export type ReadChallenge = ChallengeRecord & { pollTokenHash: string };

/** What a creation script decides on the facts it was shown: insert (replacing some), or refuse. */
export type CreationChoice<R> = { insert: NewChallengeRow; replaces: readonly string[]; extras?: readonly CreationExtra[] } | { refuse: R };

export type CreationResult<R> =
  | { kind: "created"; challenge: StoredChallenge }
  | { kind: "refused"; refusal: R }
  /** The code is taken among the phone's pending challenges, or the idempotency key was used concurrently. */
  | { kind: "unique_violation" };

/** What the one-statement verification did (challenge-sql.ts, verifyInOneStatement). */
export type OneStatementResult =
  | { kind: "verified"; challengeId: string }
  /** The cached owner of the number no longer holds: nothing was done. */
  | { kind: "stale_owner" }
  /** Nothing to verify: nothing was done (the step-by-step path decides the outcome). */
  | { kind: "no_match" }
  /** The message id was stored by a concurrent delivery: nothing was done. */
  | { kind: "duplicate" };

/** Which pending challenges of one (app, phone) a step acts on; `now` for the expiry checks. */
export type PhoneQuery = { appId: string; phoneHashes: string[]; now: Date };

/** Retention of the two tables (see src/maintenance/). */
export type ChallengePurgeCutoffs = {
  /** Challenges created before this are deleted (their callback events with them). */
  challengesBefore: Date;
  /** Wrong-code counts last touched before this, and not locked any more. */
  failuresBefore: Date;
  now: Date;
};
export type ChallengePurgeTable = "challenges" | "phoneFailures";

const challengeSelect = {
  id: true,
  appId: true,
  status: true,
  purpose: true,
  phoneMasked: true,
  createdAt: true,
  expiresAt: true,
  verifiedAt: true,
  consumedAt: true,
  maxAttempts: true,
  attempts: true,
  pollTokenHash: true,
  codeHash: true,
  locale: true,
  context: true,
  requestFingerprint: true,
  channel: true,
  virtualNumber: { select: { e164: true } },
} as const satisfies Prisma.ChallengeSelect;

type Row = Prisma.ChallengeGetPayload<{ select: typeof challengeSelect }>;

const forCodeSelect = {
  id: true,
  appId: true,
  status: true,
  channel: true,
  phoneHash: true,
  phoneSealed: true,
  codeHash: true,
  pollTokenHash: true,
  purpose: true,
  context: true,
  locale: true,
  expiresAt: true,
  maxAttempts: true,
} as const satisfies Prisma.ChallengeSelect;

/** One challenge as the typed-code check and the fallback read it. */
export type ChallengeForCode = Omit<Prisma.ChallengeGetPayload<{ select: typeof forCodeSelect }>, "context"> & {
  context: Record<string, string> | null;
};


/** node-postgres gives Dates; Prisma's raw queries on PGlite give ISO strings. */
const toDate = (value: unknown) => (value instanceof Date ? value : new Date(String(value)));
const toDateOrNull = (value: unknown) => (value === null || value === undefined ? null : toDate(value));

function toStored(row: Row): StoredChallenge {
  const { virtualNumber, context, ...rest } = row;
  return { ...rest, virtualNumber: virtualNumber.e164, context: (context as Record<string, string> | null) ?? null };
}


/** A unique violation: node-postgres's SQLSTATE 23505, or Prisma's P2010 around it (PGlite). */
function isRawUniqueViolation(error: unknown): boolean {
  if ((error as { code?: unknown } | null)?.code === "23505") return true;
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (error.code === "P2002") return true;
  const cause = (error.meta as { driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } } | undefined)
    ?.driverAdapterError?.cause;
  return error.code === "P2010" && (cause?.originalCode === "23505" || cause?.kind === "UniqueConstraintViolation");
}

const takeLock = (tx: Transaction, key: string) => tx.$executeRawUnsafe(TAKE_LOCK_SQL, key);

/** The facts a creation read (creationFactsScript's or CREATE_PLAIN_SQL's row), as the decision takes them. */
export function toFacts(row: CreationFactsRow | undefined): CreationFacts {
  return {
    failure:
      row && row.failures !== null && row.failureUpdatedAt !== null
        ? { failures: Number(row.failures), lockedUntil: toDateOrNull(row.lockedUntil), updatedAt: toDate(row.failureUpdatedAt) }
        : undefined,
    pendingIds: row?.pendingIds ?? [],
    createdInWindow: Number(row?.createdInWindow ?? 0),
    oldestInWindow: toDateOrNull(row?.oldestInWindow) ?? undefined,
  };
}

/** The challenge CREATE_PLAIN_SQL inserted from `row`: pending, created at `now`, with 0 attempts. */
function toPlainStored(row: NewChallenge, now: Date, virtualNumber: string): StoredChallenge {
  return {
    id: row.id,
    appId: row.appId,
    status: "pending",
    purpose: row.purpose,
    phoneMasked: row.phoneMasked,
    createdAt: now,
    expiresAt: row.expiresAt,
    verifiedAt: null,
    consumedAt: null,
    maxAttempts: row.maxAttempts,
    attempts: 0,
    pollTokenHash: row.pollTokenHash,
    channel: row.channel,
    delivery: null,
    codeHash: row.codeHash,
    locale: row.locale,
    context: row.context,
    requestFingerprint: row.requestFingerprint,
    virtualNumber,
  };
}

/** A row of hand-written SQL (FIND_BY_ID_SQL's columns) as a ReadChallenge. */
function toReadChallenge(row: Record<string, unknown>): ReadChallenge {
  return {
    id: row.id as string,
    appId: row.appId as string,
    status: row.status as ChallengeStatus,
    purpose: row.purpose as string,
    phoneMasked: row.phoneMasked as string,
    createdAt: toDate(row.createdAt),
    expiresAt: toDate(row.expiresAt),
    verifiedAt: toDateOrNull(row.verifiedAt),
    consumedAt: toDateOrNull(row.consumedAt),
    maxAttempts: Number(row.maxAttempts),
    attempts: Number(row.attempts),
    pollTokenHash: row.pollTokenHash as string,
    channel: row.channel as Channel,
    delivery: row.deliveryStatus ? { status: row.deliveryStatus as string, updatedAt: toDate(row.deliveryUpdatedAt) } : null,
  };
}

/** The row creationInsertScript returns, as a StoredChallenge. */
function toInserted(row: Record<string, unknown>): StoredChallenge {
  return {
    ...toReadChallenge(row),
    codeHash: row.codeHash as string,
    locale: row.locale as string,
    // PGlite's exec gives jsonb as text.
    context: (typeof row.context === "string" ? JSON.parse(row.context) : row.context) as Record<string, string> | null,
    requestFingerprint: (row.requestFingerprint as string | null) ?? null,
    virtualNumber: row.virtualNumber as string,
  };
}

/** The steps of the step-by-step verification by SMS (verification.ts), on one transaction. */
function verificationSteps(tx: Transaction) {
  return {
    /** The race gate (challenge-sql.ts, VERIFY_ONE_PENDING_SQL); the id of the challenge it verified. */
    async verifyOnePending(q: PhoneQuery & { codeHashes: string[] }): Promise<string | undefined> {
      const rows = await tx.$queryRawUnsafe<{ id: string }[]>(VERIFY_ONE_PENDING_SQL, q.appId, q.phoneHashes, q.codeHashes, q.now.toISOString());
      return rows[0]?.id;
    },

    /** The newest challenge of (app, phone) with this code, whatever its status. */
    async findCodeMatch(q: { appId: string; phoneHashes: string[]; codeHashes: string[] }) {
      return (
        (await tx.challenge.findFirst({
          select: { id: true, status: true, expiresAt: true },
          // Reverse challenges only: an outbound code is typed, never texted back.
          where: { appId: q.appId, phoneHash: { in: q.phoneHashes }, codeHash: { in: q.codeHashes }, channel: "sms_mo" },
          orderBy: { createdAt: "desc" },
        })) ?? undefined
      );
    },

    async hasPending(q: PhoneQuery): Promise<boolean> {
      const found = await tx.challenge.findFirst({
        where: { appId: q.appId, phoneHash: { in: q.phoneHashes }, status: "pending", expiresAt: { gt: q.now } },
        select: { id: true },
      });
      return found !== null;
    },

    async expireIfPending(id: string, now: Date): Promise<void> {
      await tx.challenge.updateMany({ where: { id, status: "pending" }, data: { status: "expired", finishedAt: now } });
    },

    /** Reads the phone's failure state and locks it until the transaction ends (LOCK_KEYS.phone, then
     *  the row), so concurrent wrong codes are counted one after the other (none lost). */
    async lockFailureState(appId: string, phoneHash: string, now: Date): Promise<FailureState> {
      await takeLock(tx, LOCK_KEYS.phone(appId, phoneHash));
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

    /**
     * The race gate of a typed code: the one challenge, pending, unexpired, on an outbound channel and
     * still holding the code compared, becomes verified. True when this call made the change.
     */
    async verifyTypedCode(q: { id: string; codeHash: string; now: Date }): Promise<boolean> {
      const { count } = await tx.challenge.updateMany({
        where: { id: q.id, status: "pending", expiresAt: { gt: q.now }, channel: { not: "sms_mo" }, codeHash: q.codeHash },
        data: { status: "verified", verifiedAt: q.now, finishedAt: q.now },
      });
      return count === 1;
    },

    /** Whether the challenge is pending, unexpired and on an outbound channel. */
    async isPendingOutbound(id: string, now: Date): Promise<boolean> {
      const found = await tx.challenge.findFirst({
        where: { id, status: "pending", expiresAt: { gt: now }, channel: { not: "sms_mo" } },
        select: { id: true },
      });
      return found !== null;
    },

    /** Records the phone's count on its pending challenges; with `fail`, they become failed. */
    async applyFailures(q: PhoneQuery & { failures: number; fail: boolean }): Promise<void> {
      const where = { appId: q.appId, phoneHash: { in: q.phoneHashes }, status: "pending" as ChallengeStatus };
      await tx.challenge.updateMany({
        where,
        data: q.fail ? { attempts: q.failures, status: "failed", finishedAt: q.now } : { attempts: q.failures },
      });
    },
  };
}

export type VerificationSteps = ReturnType<typeof verificationSteps>;

/** The rows of each table that the retention rules let go, as of the cutoffs. */
function purgeWhere(c: ChallengePurgeCutoffs) {
  return {
    challenges: { createdAt: { lt: c.challengesBefore } },
    phoneFailures: { updatedAt: { lt: c.failuresBefore }, OR: [{ lockedUntil: null }, { lockedUntil: { lt: c.now } }] },
  } satisfies { challenges: Prisma.ChallengeWhereInput; phoneFailures: Prisma.PhoneFailureWhereInput };
}

export function createChallengeRepository(
  prisma: PrismaClient,
  statement: StatementRunner = (_name, sql, params) => prisma.$queryRawUnsafe(sql, ...params),
  /** The database's short transactions (Database#shortTransaction); creation needs it. */
  shortTransaction?: ShortTransaction,
) {
  return {
    /**
     * A creation. `plain` (a reverse challenge that commits alone, with what its row would hold if
     * the decision is plain: creation-decision.ts, isPlainCreation): first ONE statement
     * (challenge-sql.ts, CREATE_PLAIN_SQL) takes the phone's lock, reads the facts and inserts the
     * challenge when they are plain; when they are not, `choose` decides on the facts it read: a
     * refusal is answered on them (they were read under the lock), anything else goes on below.
     *
     * Otherwise, one short transaction of two round trips (challenge-sql.ts): the phone's lock, the
     * expiry of its stale challenges and the facts; then `choose` decides on the facts (pure, no
     * database), and the chosen insert (with the replaced challenges cancelled and any extras)
     * commits, or the transaction is rolled back on a refusal. The phone's lock is held from before
     * the facts are read until the insert commits, so concurrent creations (and wrong codes, which
     * take the same lock) are decided one after the other.
     */
    async create<R>(
      q: CreationFactsQuery,
      choose: (facts: CreationFacts) => CreationChoice<R>,
      plain?: { row: NewChallenge; phonePerHour: number },
    ): Promise<CreationResult<R>> {
      if (!shortTransaction) throw new Error("createChallengeRepository: creation needs the database's shortTransaction");
      let choice: CreationChoice<R> | undefined;
      try {
        if (plain) {
          const values = createPlainValues({ ...q, limit: plain.phonePerHour, maxPendingBefore: MAX_PENDING_PER_PHONE - 1 }, plain.row);
          const [row] = await statement<CreatePlainRow>(CREATE_PLAIN_NAME, CREATE_PLAIN_SQL, values);
          if (!row) throw new Error("creation: the creation function returned no row");
          if (row.inserted) {
            if (row.virtualNumber === null) throw new Error("creation: the challenge's number was not found");
            return { kind: "created", challenge: toPlainStored(plain.row, q.now, row.virtualNumber) };
          }
          const early = choose(toFacts(row));
          if ("refuse" in early) return { kind: "refused", refusal: early.refuse };
        }
        const { last } = await shortTransaction(creationFactsScript(q), (rows) => {
          choice = choose(toFacts(rows[0] as CreationFactsRow | undefined));
          return "insert" in choice ? creationInsertScript(choice.insert, choice.replaces, q.now, choice.extras) : undefined;
        });
        if (!choice) throw new Error("creation: no choice was made");
        if ("refuse" in choice) return { kind: "refused", refusal: choice.refuse };
        const row = last?.[0];
        if (!row) throw new Error("creation: the insert returned no row");
        return { kind: "created", challenge: toInserted(row) };
      } catch (error) {
        if (isRawUniqueViolation(error)) return { kind: "unique_violation" };
        throw error;
      }
    },

    async findById(id: string): Promise<ReadChallenge | undefined> {
      const [row] = await statement<Record<string, unknown>>(FIND_BY_ID_NAME, FIND_BY_ID_SQL, [id]);
      return row ? toReadChallenge(row) : undefined;
    },

    /** The challenge stored under one of `idempotencyKeys` (the same key's digests under each HASH_KEY). */
    async findByIdempotencyKey(appId: string, idempotencyKeys: readonly string[]): Promise<StoredChallenge | undefined> {
      const row = await prisma.challenge.findFirst({
        where: { appId, idempotencyKey: { in: [...idempotencyKeys] } },
        select: challengeSelect,
      });
      return row ? toStored(row) : undefined;
    },

    /** pending (and not expired) → `to`; returns whether this call made the change. */
    async finishIfPending(id: string, to: ChallengeStatus, now: Date): Promise<boolean> {
      const { count } = await prisma.challenge.updateMany({
        where: { id, status: "pending", expiresAt: { gt: now } },
        data: { status: to, finishedAt: now },
      });
      return count === 1;
    },

    /** verified and not yet consumed → consumed; the row is the race gate: one caller wins. */
    async consumeIfVerified(id: string, now: Date): Promise<boolean> {
      const { count } = await prisma.challenge.updateMany({
        where: { id, status: "verified", consumedAt: null },
        data: { consumedAt: now },
      });
      return count === 1;
    },

    /**
     * The common verification in one round trip (challenge-sql.ts, verifyInOneStatement), a
     * prepared statement. Measured with `npm run bench` (2 cores, PostgreSQL on the same host): the
     * step-by-step transaction cost 8 round trips and most of the webhook's CPU in Prisma's
     * interactive-transaction and query machinery; see README "Performance".
     */
    async verifyInOneStatement(v: OneStatementVerification): Promise<OneStatementResult> {
      let rows: OneStatementRow[];
      try {
        const { name, text, values } = verifyInOneStatement(v);
        rows = await statement<OneStatementRow>(name, text, values);
      } catch (error) {
        if (isRawUniqueViolation(error)) return { kind: "duplicate" };
        throw error;
      }
      const row = rows[0];
      if (!row?.owned) return { kind: "stale_owner" };
      return row.challengeId ? { kind: "verified", challengeId: row.challengeId } : { kind: "no_match" };
    },

    /**
     * One transaction of the step-by-step verification. `tx` is handed to whoever records the
     * inbound message in the same transaction (the inbound gateway's log).
     */
    verificationTransaction<T>(fn: (steps: VerificationSteps, tx: Transaction) => Promise<T>): Promise<T> {
      return prisma.$transaction((tx) => fn(verificationSteps(tx), tx), { maxWait: 5000, timeout: 10_000 });
    },

    /** What the typed-code check and the fallback need of one challenge (its code's and phone's digests). */
    async findForCode(id: string): Promise<ChallengeForCode | undefined> {
      const row = await prisma.challenge.findUnique({ where: { id }, select: forCodeSelect });
      return row ? { ...row, context: (row.context as Record<string, string> | null) ?? null } : undefined;
    },

    /**
     * Switches a pending reverse challenge to an outbound channel with a new code and lifetime, in
     * one transaction that holds the phone's lock (LOCK_KEYS.phone); `then` runs in it after the
     * switch (the outbox's enqueue), so the new code and its message commit together or not at all.
     * `switched: false` when the challenge was no longer a pending, unexpired reverse one;
     * `unique_violation` when the new code is taken among the phone's pending challenges.
     */
    async switchChannel<T>(
      c: { id: string; appId: string; phoneHash: string; channel: Exclude<Channel, "sms_mo">; codeHash: string; expiresAt: Date; now: Date },
      then: (tx: Transaction) => Promise<T>,
    ): Promise<{ kind: "switched"; result: T } | { kind: "not_pending" } | { kind: "unique_violation" }> {
      try {
        return await prisma.$transaction(async (tx) => {
          await takeLock(tx, LOCK_KEYS.phone(c.appId, c.phoneHash));
          const { count } = await tx.challenge.updateMany({
            where: { id: c.id, status: "pending", channel: "sms_mo", expiresAt: { gt: c.now } },
            data: { channel: c.channel, codeHash: c.codeHash, expiresAt: c.expiresAt, phoneSealed: null },
          });
          if (count !== 1) return { kind: "not_pending" as const };
          return { kind: "switched" as const, result: await then(tx) };
        });
      } catch (error) {
        if (isRawUniqueViolation(error)) return { kind: "unique_violation" };
        throw error;
      }
    },

    /** Pending challenges past their expiry become expired (the trigger notifies waiters and callbacks). */
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

    /** How many rows of each table the retention purge would delete now. */
    async countPurgeable(c: ChallengePurgeCutoffs): Promise<Record<ChallengePurgeTable, number>> {
      const where = purgeWhere(c);
      return {
        challenges: await prisma.challenge.count({ where: where.challenges }),
        phoneFailures: await prisma.phoneFailure.count({ where: where.phoneFailures }),
      };
    },

    /**
     * Deletes at most `limit` purgeable rows of one table and says how many it deleted. The condition
     * is applied again on delete: a row touched since it was selected (a wrong-code count) stays.
     */
    async purgeBatch(table: ChallengePurgeTable, c: ChallengePurgeCutoffs, limit: number): Promise<number> {
      const where = purgeWhere(c);
      if (table === "challenges") {
        // Their callback events go with them (ON DELETE CASCADE); inbound messages keep no link.
        const ids = (await prisma.challenge.findMany({ where: where.challenges, select: { id: true }, take: limit })).map((r) => r.id);
        return ids.length === 0 ? 0 : (await prisma.challenge.deleteMany({ where: { AND: [where.challenges, { id: { in: ids } }] } })).count;
      }
      const rows = await prisma.phoneFailure.findMany({ where: where.phoneFailures, select: { appId: true, phoneHash: true }, take: limit });
      return rows.length === 0 ? 0 : (await prisma.phoneFailure.deleteMany({ where: { AND: [where.phoneFailures, { OR: rows }] } })).count;
    },
  };
}

export type ChallengeRepository = ReturnType<typeof createChallengeRepository>;
