// Who is told when a challenge changes, and what they are told. Triggers on `challenges` send both
// notices (migrations 20261122041000_challenge_notify and 20261122042000_callback_outbox), not
// application code: every path that changes a challenge sends them, and only in the transaction
// that makes the change (PostgreSQL delivers NOTIFY at commit, the outbox row commits with the
// change). This file names them for the TypeScript side; test/integration/challenge-notices.test.ts
// checks that the triggers do exactly what is written here.
import { FINAL_STATUSES, toChallengeView, type ChallengeRecord, type ChallengeStatus, type ChallengeView } from "./challenge-view.js";

/**
 * NOTIFY channel of status changes, payload the challenge id. Sent when `status` or `consumed_at`
 * changes. Listened to by each instance (one connection) for its long-polls and event streams
 * (src/realtime/status-bus.ts), which then re-read the challenge.
 */
export const STATUS_CHANNEL = "reverse_otp_challenge";

/** The columns whose change sends a STATUS_CHANNEL notification. */
export const NOTIFYING_COLUMNS = ["status", "consumed_at"] as const;

/**
 * NOTIFY channel of the callback outbox, empty payload: sent after a callback event was written,
 * so that dispatchers (src/callbacks/) wake up at commit.
 */
export const OUTBOX_CHANNEL = "reverse_otp_outbox";

/** The statuses that write a callback event (for apps with a callback URL): the final ones. */
export const CALLBACK_STATUSES: readonly ChallengeStatus[] = FINAL_STATUSES;

export type CallbackEventType = `challenge.${"verified" | "expired" | "failed" | "cancelled"}`;

/** The body of a callback event: `{ type, data }`, data being the challenge's GET JSON. */
export type CallbackEventBody = { type: CallbackEventType; data: ChallengeView };

/**
 * The body the outbox trigger writes for a challenge that just reached a final status, as the
 * TypeScript view computes it (toChallengeView; no `now` is needed for a final status). The
 * trigger builds the same JSON in plpgsql, key for key and in this order.
 */
export function callbackEventBody(challenge: ChallengeRecord): CallbackEventBody {
  if (!CALLBACK_STATUSES.includes(challenge.status)) throw new RangeError(`no callback event for status ${challenge.status}`);
  const data = toChallengeView(challenge, challenge.expiresAt);
  return { type: `challenge.${challenge.status}` as CallbackEventType, data };
}
