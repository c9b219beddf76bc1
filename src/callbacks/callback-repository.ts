// Persistence of the callback outbox (table `callback_events`, written by a trigger on challenges:
// see prisma/migrations/20261122042000_callback_outbox). The only module of this feature that
// touches Prisma.
//
// Claiming is a lease, not a lock held during the HTTP call: one statement picks due events with
// FOR UPDATE SKIP LOCKED (concurrent claimers on other instances skip them instead of waiting) and
// pushes their `next_attempt_at` to the end of the lease, then commits. Until the lease ends no
// other instance sees them as due; if the sender dies meanwhile, they become due again when it
// ends. Results are written only while the lease (its end time is the token) is still ours.
import type { PrismaClient } from "../generated/prisma/client.js";
import type { Sealer } from "../shared/crypto.js";

export type ClaimedEvent = {
  /** The `webhook-id`. */
  id: string;
  appId: string;
  challengeId: string;
  type: string;
  /** The body to send, compact JSON, the same bytes on every attempt. */
  body: string;
  /** Attempts including this one. */
  attempts: number;
  /** The lease's end, which identifies this claim. */
  lease: Date;
  callbackUrl: string | null;
  callbackSecret: string | null;
};

type ClaimRow = Omit<ClaimedEvent, "body" | "lease"> & { payload: string };

export type FailedAttempt = {
  now: Date;
  /** When to try again; undefined gives the event up. */
  retryAt: Date | undefined;
  status: number | undefined;
  error: string;
};

export function createCallbackRepository(prisma: PrismaClient, options: { secretSealer: Pick<Sealer, "open"> }) {
  // Secrets are stored sealed (src/apps/app-repository.ts); one written before sealing existed is
  // still a plain `whsec_…` and is used as it is.
  const openSecret = (stored: string | null) =>
    stored === null ? null : stored.startsWith("whsec_") ? stored : options.secretSealer.open(stored);
  return {
    /** Leases up to `limit` events due at `now` until `leaseUntil`, and counts their attempt. */
    async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedEvent[]> {
      const rows = await prisma.$queryRaw<ClaimRow[]>`
        WITH due AS (
          SELECT "id" FROM "callback_events"
           WHERE "next_attempt_at" <= ${now}::timestamptz
           ORDER BY "next_attempt_at"
           LIMIT ${limit}::int
           FOR UPDATE SKIP LOCKED
        )
        UPDATE "callback_events" AS e
           SET "next_attempt_at" = ${leaseUntil}::timestamptz, "attempts" = e."attempts" + 1
          FROM due, "apps" AS a
         WHERE e."id" = due."id" AND a."id" = e."app_id"
        RETURNING e."id", e."app_id" AS "appId", e."challenge_id" AS "challengeId", e."type",
                  e."payload"::text AS "payload", e."attempts", a."callback_url" AS "callbackUrl",
                  a."callback_secret" AS "callbackSecret"`;
      return rows.map(({ payload, ...row }) => ({
        ...row,
        callbackSecret: openSecret(row.callbackSecret),
        attempts: Number(row.attempts),
        // Stored as `json` text (as the trigger built it); sent compact.
        body: JSON.stringify(JSON.parse(payload)),
        lease: leaseUntil,
      }));
    },

    /** Events still to be delivered (the queue depth metric). */
    async countUndelivered(): Promise<number> {
      return prisma.callbackEvent.count({ where: { deliveredAt: null, gaveUpAt: null } });
    },

    /** Records a 2xx answer; false when the lease was lost (another sender owns the event now). */
    async markDelivered(event: Pick<ClaimedEvent, "id" | "lease">, now: Date, status: number): Promise<boolean> {
      const { count } = await prisma.callbackEvent.updateMany({
        where: { id: event.id, nextAttemptAt: event.lease },
        data: { deliveredAt: now, nextAttemptAt: null, lastStatus: status, lastError: null },
      });
      return count === 1;
    },

    /** Records a failed attempt: due again at `retryAt`, or given up. False when the lease was lost. */
    async markFailed(event: Pick<ClaimedEvent, "id" | "lease">, attempt: FailedAttempt): Promise<boolean> {
      const { count } = await prisma.callbackEvent.updateMany({
        where: { id: event.id, nextAttemptAt: event.lease },
        data: {
          nextAttemptAt: attempt.retryAt ?? null,
          gaveUpAt: attempt.retryAt ? null : attempt.now,
          lastStatus: attempt.status ?? null,
          lastError: attempt.error,
        },
      });
      return count === 1;
    },
  };
}

export type CallbackRepository = ReturnType<typeof createCallbackRepository>;
