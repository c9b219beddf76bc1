// The public JSON shape of a challenge, and the read-time rule that no challenge says `pending`
// after its expiry (a sweeper may not have run yet). The shape itself is `challengeViewSchema`
// (challenge-schemas.ts), which the OpenAPI document is generated from.
import type { Channel, ChallengeStatus, ChallengeView } from "./challenge-schemas.js";
import type { Purpose } from "./sms-text.js";

export type { Channel, ChallengeStatus, ChallengeView };

export const FINAL_STATUSES: readonly ChallengeStatus[] = ["verified", "expired", "failed", "cancelled"];

export type ChallengeRecord = {
  id: string;
  appId: string;
  status: ChallengeStatus;
  purpose: string;
  phoneMasked: string;
  createdAt: Date;
  expiresAt: Date;
  verifiedAt: Date | null;
  consumedAt: Date | null;
  maxAttempts: number;
  attempts: number;
  channel: Channel;
  /** The latest outbound message of an `sms`/`email` challenge (absent for `sms_mo`). */
  delivery?: { status: string; updatedAt: Date } | null;
};

/** The status as of `now`: a pending challenge past its expiry is expired, whatever the row says. */
export function effectiveStatus(c: Pick<ChallengeRecord, "status" | "expiresAt">, now: Date): ChallengeStatus {
  return c.status === "pending" && c.expiresAt.getTime() <= now.getTime() ? "expired" : c.status;
}

export function toChallengeView(c: ChallengeRecord, now: Date): ChallengeView {
  const status = effectiveStatus(c, now);
  return {
    id: c.id,
    status,
    purpose: c.purpose as Purpose, // a PostgreSQL enum of the same values
    phoneMasked: c.phoneMasked,
    createdAt: c.createdAt.toISOString(),
    expiresAt: c.expiresAt.toISOString(),
    verifiedAt: c.verifiedAt?.toISOString() ?? null,
    consumedAt: c.consumedAt?.toISOString() ?? null,
    attemptsRemaining: status === "failed" ? 0 : Math.max(0, c.maxAttempts - c.attempts),
    channel: c.channel,
    // Key order as the callback trigger builds it (migration 20261203132532_challenge_channels).
    ...(c.channel !== "sms_mo" && c.delivery
      ? { delivery: { status: c.delivery.status as NonNullable<ChallengeView["delivery"]>["status"], updatedAt: c.delivery.updatedAt.toISOString() } }
      : {}),
  };
}
