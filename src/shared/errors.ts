// One error type with stable machine codes. Every code has its HTTP status and title here, and a
// section in docs/errors.md (test/unit/errors-doc.test.ts keeps the two in sync). Handlers and
// services throw `AppError`; the HTTP layer renders it as RFC 9457 problem+json.

export const ERROR_CODES = {
  INVALID_REQUEST: { status: 400, title: "The request is malformed" },
  INVALID_JSON: { status: 400, title: "The body is not valid JSON" },
  VALIDATION_FAILED: { status: 400, title: "The request has invalid or unknown fields" },
  UNAUTHENTICATED: { status: 401, title: "Missing or invalid API key" },
  FORBIDDEN: { status: 403, title: "This key may not do that" },
  NOT_FOUND: { status: 404, title: "No such resource" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed on this resource" },
  CHALLENGE_NOT_VERIFIED: { status: 409, title: "The challenge is not verified" },
  CHALLENGE_ALREADY_CONSUMED: { status: 409, title: "The challenge was already consumed" },
  CHALLENGE_NOT_PENDING: { status: 409, title: "The challenge is no longer pending" },
  IDEMPOTENCY_KEY_REUSED: { status: 409, title: "The Idempotency-Key was used with a different request" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "The request body is too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported content type" },
  INVALID_PHONE: { status: 422, title: "The phone number is not valid" },
  PHONE_NOT_MOBILE: { status: 422, title: "The phone number cannot send SMS" },
  COUNTRY_NOT_ALLOWED: { status: 422, title: "The phone number's country is not allowed for this app" },
  PHONE_LOCKED: { status: 423, title: "Too many wrong codes from this phone" },
  RATE_LIMITED: { status: 429, title: "Rate limit reached" },
  NO_VIRTUAL_NUMBER: { status: 422, title: "The app has no virtual number to text" },
  WEBHOOK_SIGNATURE_MISSING: { status: 401, title: "The webhook is not signed" },
  WEBHOOK_SIGNATURE_INVALID: { status: 403, title: "The webhook signature is invalid" },
  WEBHOOK_TIMESTAMP_OUT_OF_RANGE: { status: 403, title: "The webhook timestamp is outside the tolerance" },
  WEBHOOK_NOT_CONFIGURED: { status: 403, title: "This provider has no secret configured" },
  WEBHOOK_PAYLOAD_INVALID: { status: 400, title: "The webhook payload is not valid" },
  UNKNOWN_PROVIDER: { status: 404, title: "No such SMS provider" },
  // --- Outbound, the classic direction (src/outbound/) ---
  OUTBOUND_CAP_REACHED: { status: 429, title: "A sending cap is reached" },
  OUTBOUND_PAUSED: { status: 429, title: "Sending is paused for this app" },
  CHANNEL_NOT_ALLOWED: { status: 409, title: "The app does not allow this channel for this challenge" },
  WRONG_CODE: { status: 422, title: "The code is not the challenge's code" },
  SERVICE_UNAVAILABLE: { status: 503, title: "The service is temporarily unavailable" },
  INTERNAL: { status: 500, title: "Internal error" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export type FieldError = { field: string; message: string };

export class AppError extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extra: {
      errors?: FieldError[];
      retryAfterSeconds?: number;
      reason?: string;
      /** WRONG_CODE: wrong codes this phone may still type or text before its pending challenges fail. */
      attemptsRemaining?: number;
      /** Not sent: the line type of a PHONE_NOT_MOBILE number, for the translated detail (src/http/problem-i18n.ts). */
      lineType?: string;
    } = {},
  ) {
    super(detail ?? ERROR_CODES[code].title);
    this.name = "AppError";
    this.status = ERROR_CODES[code].status;
    this.title = ERROR_CODES[code].title;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
