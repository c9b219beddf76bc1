// Persistence of challenges. Prisma lives here only; business rules arrive as callbacks or data.
import type { PrismaClient } from "../generated/prisma/client.js";
import { Prisma, type Purpose } from "../generated/prisma/client.js";
import type { StatementRunner } from "../db/database.js";
import type { FailureState } from "./attempts.js";
import type { ChallengeRecord, ChallengeStatus } from "./challenge-view.js";

export type NewChallenge = {
  id: string;
  appId: string;
  virtualNumberId: string;
  phoneHash: string;
  phoneMasked: string;
  phoneCountry: string | null;
  codeHash: string;
  pollTokenHash: string;
  purpose: string;
  context: Record<string, string> | null;
  locale: string;
  maxAttempts: number;
  idempotencyKey: string | null;
  requestFingerprint: string | null;
  createdAt: Date;
  expiresAt: Date;
};

/** What the creation guard sees, read inside the creating transaction. */
export type CreationSnapshot = {
  failure: FailureState | undefined;
  pendingCount: number;
  /** Challenges of this app and phone created since `windowStart`, and the oldest of them. */
  createdInWindow: number;
  oldestInWindow: Date | undefined;
};

export type StoredChallenge = ChallengeRecord & {
  pollTokenHash: string;
  codeHash: string;
  locale: string;
  context: Record<string, string> | null;
  virtualNumber: string;
  requestFingerprint: string | null;
};

export type InsertResult =
  | { kind: "created"; challenge: StoredChallenge }
  | { kind: "code_collision" }
  | { kind: "idempotency_conflict" };

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
  virtualNumber: { select: { e164: true } },
} as const satisfies Prisma.ChallengeSelect;

type Row = Prisma.ChallengeGetPayload<{ select: typeof challengeSelect }>;

/** challengeSelect without the virtual number (a relation: Prisma reads it with 2 more queries). */
const { virtualNumber: _relation, ...insertSelect } = challengeSelect;

/**
 * A challenge as reads, long-polls and their re-reads need it: one single-table statement. (Read
 * with Prisma and the virtual number, a relation, it was two round trips per status read and per
 * long-poll wake-up.)
 */
export type ReadChallenge = ChallengeRecord & { pollTokenHash: string };

/** ReadChallenge in one prepared statement (Database#statement): status reads, long-polls and their re-reads. */
const FIND_BY_ID_STATEMENT = "reverse_otp_find_challenge";
const FIND_BY_ID_SQL = `SELECT id, app_id AS "appId", status::text AS status, purpose::text AS purpose, phone_masked AS "phoneMasked",
       created_at AS "createdAt", expires_at AS "expiresAt", verified_at AS "verifiedAt", consumed_at AS "consumedAt",
       max_attempts AS "maxAttempts", attempts, poll_token_hash AS "pollTokenHash"
  FROM challenges WHERE id = $1`;

/** node-postgres gives Dates; Prisma's raw queries on PGlite give ISO strings. */
const toDate = (value: unknown) => (value instanceof Date ? value : new Date(String(value)));
const toDateOrNull = (value: unknown) => (value === null || value === undefined ? null : toDate(value));


function toStored(row: Row): StoredChallenge {
  const { virtualNumber, context, ...rest } = row;
  return { ...rest, virtualNumber: virtualNumber.e164, context: (context as Record<string, string> | null) ?? null };
}

const isUniqueViolation = (e: unknown) => e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002";

export function createChallengeRepository(
  prisma: PrismaClient,
  statement: StatementRunner = (_name, sql, params) => prisma.$queryRawUnsafe(sql, ...params),
) {
  // A virtual number's E.164 never changes for its id (numbers are added and removed, not edited),
  // so the creation answer's `smsTo` is remembered instead of read with every new challenge.
  const numberE164 = new Map<string, string>();
  const e164Of = async (virtualNumberId: string): Promise<string> => {
    const known = numberE164.get(virtualNumberId);
    if (known) return known;
    const row = await prisma.virtualNumber.findUniqueOrThrow({ where: { id: virtualNumberId }, select: { e164: true } });
    if (numberE164.size >= 10_000) numberE164.clear();
    numberE164.set(virtualNumberId, row.e164);
    return row.e164;
  };

  return {
    /**
     * Inserts a pending challenge in one transaction with its guard: stale pending challenges of the
     * phone are expired first (so they neither count nor block a code), then `guard` sees the phone's
     * failure state and pending count and may throw to refuse. A unique violation means either the
     * code is taken among the phone's pending challenges (draw another) or the idempotency key was
     * used concurrently.
     */
    async insertPending(
      data: NewChallenge,
      phoneHashes: string[],
      windowStart: Date,
      guard: (snapshot: CreationSnapshot) => { attempts: number },
    ): Promise<InsertResult> {
      try {
        const row = await prisma.$transaction(async (tx) => {
          // Creations for one (app, phone) run one after the other: without this lock, concurrent
          // requests each count the pending (and recent) challenges before any of them commits, and
          // all pass the guard's limits. The lock is held until the transaction ends.
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`challenge-create:${data.appId}:${data.phoneHash}`}, 0))`;
          await tx.challenge.updateMany({
            where: { phoneHash: { in: phoneHashes }, status: "pending", expiresAt: { lte: data.createdAt } },
            data: { status: "expired", finishedAt: data.createdAt },
          });
          const failure = await tx.phoneFailure.findFirst({
            where: { appId: data.appId, phoneHash: { in: phoneHashes } },
            select: { failures: true, lockedUntil: true, updatedAt: true },
            orderBy: { updatedAt: "desc" },
          });
          const pendingCount = await tx.challenge.count({
            where: { appId: data.appId, phoneHash: { in: phoneHashes }, status: "pending" },
          });
          const recent = await tx.challenge.aggregate({
            where: { appId: data.appId, phoneHash: { in: phoneHashes }, createdAt: { gt: windowStart } },
            _count: { _all: true },
            _min: { createdAt: true },
          });
          const { attempts } = guard({
            failure: failure ?? undefined,
            pendingCount,
            createdInWindow: recent._count._all,
            oldestInWindow: recent._min.createdAt ?? undefined,
          });
          // INSERT … RETURNING in one round trip (with the relation selected, Prisma re-read the
          // row and then the number: two more round trips inside the locked transaction).
          return tx.challenge.create({
            data: { ...data, purpose: data.purpose as Purpose, context: data.context ?? Prisma.DbNull, attempts },
            select: insertSelect,
          });
        });
        const { context, ...rest } = row;
        const challenge: StoredChallenge = {
          ...rest,
          virtualNumber: await e164Of(data.virtualNumberId),
          context: (context as Record<string, string> | null) ?? null,
        };
        return { kind: "created", challenge };
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        if (data.idempotencyKey) {
          const existing = await prisma.challenge.findUnique({
            where: { appId_idempotencyKey: { appId: data.appId, idempotencyKey: data.idempotencyKey } },
            select: { id: true },
          });
          if (existing) return { kind: "idempotency_conflict" };
        }
        return { kind: "code_collision" };
      }
    },

    async findById(id: string): Promise<ReadChallenge | undefined> {
      const [row] = await statement<Record<string, unknown>>(FIND_BY_ID_STATEMENT, FIND_BY_ID_SQL, [id]);
      if (!row) return undefined;
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
      };
    },

    async findByIdempotencyKey(appId: string, idempotencyKey: string): Promise<StoredChallenge | undefined> {
      const row = await prisma.challenge.findUnique({
        where: { appId_idempotencyKey: { appId, idempotencyKey } },
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
  };
}

export type ChallengeRepository = ReturnType<typeof createChallengeRepository>;
