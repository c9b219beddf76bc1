// The shapes of the reverse-otp v1 API. Field names are fixed by the interface contract
// (PRODUCT.md, "Interface contract (v1)"); dates are ISO 8601 UTC strings.

/** `pending` → `verified` | `expired` | `failed` | `cancelled`, one way only. */
export type ChallengeStatus = "pending" | "verified" | "expired" | "failed" | "cancelled";

/** The statuses a challenge never leaves. */
export type FinalChallengeStatus = Exclude<ChallengeStatus, "pending">;

export const FINAL_STATUSES: readonly FinalChallengeStatus[] = ["verified", "expired", "failed", "cancelled"];

export function isFinalStatus(status: ChallengeStatus): status is FinalChallengeStatus {
  return status !== "pending";
}

export type Purpose = "signup" | "login" | "password_reset" | "profile_change" | "transaction" | "appointment";

/** What the user approves in a `transaction` challenge; the SMS text shows it. */
export type TransactionContext = {
  /** A plain decimal, e.g. `"49.90"` (at most 12 digits and 4 decimals). */
  amount: string | number;
  /** ISO 4217, e.g. `"EUR"`. */
  currency: string;
  merchant: string;
  description?: string;
};

/**
 * How the code travels: `sms_mo` the user texts it to the app's number (reverse, the default);
 * `sms` or `email` the service sends it and the user types it in (`check`). The app must allow it.
 */
export type Channel = "sms_mo" | "sms" | "email";

/** The code's message of an `sms`/`email` challenge. */
export type Delivery = {
  status: "queued" | "sent" | "delivered" | "failed" | "undeliverable";
  updatedAt: string;
};

type ChallengeInputBase = {
  /** International (`+33 6 12 34 56 78`, `0033…`) or national with `country`. */
  phone: string;
  /** ISO 3166 alpha-2 country of a national number, e.g. `"FR"`. */
  country?: string;
  /** A language tag (`en`, `de`, `fr`, `de-DE`…); defaults to the app's locale. */
  locale?: string;
  /** `sms_mo` (default), `sms` or `email` (with `email`). */
  channel?: Channel;
  /** Where the code goes, for `channel: "email"`. */
  email?: string;
};

/** Body of `POST /v1/challenges`. A `transaction` needs its context; other purposes take a description at most. */
export type CreateChallengeInput =
  | (ChallengeInputBase & { purpose: "transaction"; context: TransactionContext })
  | (ChallengeInputBase & { purpose: Exclude<Purpose, "transaction">; context?: { description?: string } });

/**
 * The answer of `POST /v1/challenges` (201): the only answer that carries the poll token, and for
 * a reverse (`sms_mo`) challenge the code. An `sms`/`email` challenge's code went to the user: the
 * answer holds `delivery` instead of `code`, `smsTo`, `smsBody` and `smsUri`.
 */
export type CreatedChallenge = {
  id: string;
  status: ChallengeStatus;
  purpose: Purpose;
  /** e.g. `+33•••••••78`. */
  phoneMasked: string;
  /** Reverse only: the code the user sends; show it, never log it. */
  code?: string | undefined;
  /** Reverse only: the virtual number the user texts (E.164). */
  smsTo?: string | undefined;
  /** Reverse only: the ready-made SMS text (names the app and the purpose). */
  smsBody?: string | undefined;
  /** Reverse only: `sms:` links that open the messaging app prefilled. */
  smsUri?: { ios: string; android: string } | undefined;
  expiresAt: string;
  /** Lets the holder (e.g. the mobile app) read and cancel this challenge without a secret key. */
  pollToken: string;
  attemptsRemaining: number;
  channel: Channel;
  delivery?: Delivery | undefined;
};

/** The answer of `GET /v1/challenges/:id` (and of cancel and consume), and the `data` of callbacks. */
export type Challenge = {
  id: string;
  status: ChallengeStatus;
  purpose: Purpose;
  phoneMasked: string;
  createdAt: string;
  expiresAt: string;
  verifiedAt: string | null;
  consumedAt: string | null;
  attemptsRemaining: number;
  channel: Channel;
  /** `sms`/`email` challenges only. */
  delivery?: Delivery | undefined;
};

export type CallbackEventType = "challenge.verified" | "challenge.failed" | "challenge.expired" | "challenge.cancelled";

/** The body of a callback: `data` is the challenge as `GET /v1/challenges/:id` showed it at the change. */
export type CallbackEvent = { type: CallbackEventType; data: Challenge };

/** The stable machine codes of the service's errors (docs/errors.md). */
export type KnownErrorCode =
  | "INVALID_REQUEST"
  | "INVALID_JSON"
  | "VALIDATION_FAILED"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "CHALLENGE_NOT_VERIFIED"
  | "CHALLENGE_ALREADY_CONSUMED"
  | "CHALLENGE_NOT_PENDING"
  | "IDEMPOTENCY_KEY_REUSED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "INVALID_PHONE"
  | "PHONE_NOT_MOBILE"
  | "COUNTRY_NOT_ALLOWED"
  | "PHONE_LOCKED"
  | "RATE_LIMITED"
  | "NO_VIRTUAL_NUMBER"
  | "OUTBOUND_CAP_REACHED"
  | "OUTBOUND_PAUSED"
  | "CHANNEL_NOT_ALLOWED"
  | "WRONG_CODE"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL";

/**
 * A code of the service, or one the client makes up: `HTTP_ERROR` (an error answer that is not
 * problem+json, e.g. from a proxy) and `INVALID_RESPONSE` (a success answer that is not JSON).
 */
export type ErrorCode = KnownErrorCode | "HTTP_ERROR" | "INVALID_RESPONSE" | (string & {});

export type FieldError = { field: string; message: string };

/** An RFC 9457 problem+json body as the service sends it. */
export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  /** Finer reason of some codes: `not_mobile`, `too_short`… (422), `phone`, `secret_key`… (429). */
  reason?: string;
  errors?: FieldError[];
  /** `WRONG_CODE`: wrong codes the phone may still send (0: its pending challenges failed). */
  attemptsRemaining?: number;
  requestId?: string;
};
