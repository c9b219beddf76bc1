// Errors of the client. An answer of the service that is an error becomes a `ReverseOtpError`
// (from its problem+json); a request that got no answer becomes a `ReverseOtpConnectionError`; a
// callback that fails its signature check throws a `CallbackVerificationError`. A request aborted
// through the caller's own `signal` rejects with the signal's reason, as `fetch` does.
import type { ErrorCode, FieldError, Problem } from "./types.js";

export type ReverseOtpErrorInit = {
  status: number;
  code: ErrorCode;
  title?: string;
  detail: string;
  type?: string;
  reason?: string;
  errors?: FieldError[];
  retryAfterSeconds?: number;
  attemptsRemaining?: number;
  requestId?: string;
};

export class ReverseOtpError extends Error {
  override readonly name = "ReverseOtpError";
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The stable machine code (`CHALLENGE_ALREADY_CONSUMED`, `RATE_LIMITED`…). */
  readonly code: ErrorCode;
  readonly title: string | undefined;
  /** The human explanation of this occurrence. */
  readonly detail: string;
  /** Link to the code's documentation. */
  readonly type: string | undefined;
  /** Finer reason of some codes (`not_mobile`, `phone`…). */
  readonly reason: string | undefined;
  /** Per-field problems of a `VALIDATION_FAILED` (and of phone errors). */
  readonly errors: FieldError[];
  /** From `Retry-After` (429, 423, 503): when trying again makes sense. */
  readonly retryAfterSeconds: number | undefined;
  /** The service's request id (`X-Request-Id`): quote it when asking the operator. */
  readonly requestId: string | undefined;
  /** `WRONG_CODE`: wrong codes the phone may still send (0: its pending challenges failed). */
  readonly attemptsRemaining: number | undefined;

  constructor(init: ReverseOtpErrorInit) {
    super(`${init.code}: ${init.detail}`);
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.type = init.type;
    this.reason = init.reason;
    this.errors = init.errors ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.requestId = init.requestId;
    this.attemptsRemaining = init.attemptsRemaining;
  }
}

/** No answer: the network failed, or the request outlived the client's `timeoutMs`. */
export class ReverseOtpConnectionError extends Error {
  override readonly name = "ReverseOtpConnectionError";
  constructor(
    message: string,
    /** True when the client's own deadline ended the request. */
    readonly isTimeout: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type CallbackVerificationReason =
  | "missing_headers"
  | "malformed_headers"
  | "timestamp_too_old"
  | "timestamp_too_new"
  | "no_matching_signature"
  | "invalid_payload";

/** The callback is not authentic, too old or too new, or not a reverse-otp event: answer it with 400. */
export class CallbackVerificationError extends Error {
  override readonly name = "CallbackVerificationError";
  constructor(
    readonly reason: CallbackVerificationReason,
    message: string,
  ) {
    super(message);
  }
}

/** Seconds from a `Retry-After` header: delta-seconds or an HTTP date (relative to `now`). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null && typeof (value as Problem).code === "string" && typeof (value as Problem).status === "number";
}

/** The error for an answer that is not a success, from its problem+json when it has one. */
export function errorFromResponse(response: Response, text: string, now: number): ReverseOtpError {
  const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"), now);
  const headerRequestId = response.headers.get("x-request-id") ?? undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isProblem(body)) {
    return new ReverseOtpError({
      status: response.status,
      code: body.code,
      title: body.title,
      detail: body.detail ?? body.title ?? body.code,
      type: body.type,
      reason: body.reason,
      errors: Array.isArray(body.errors) ? body.errors : [],
      retryAfterSeconds,
      ...(typeof body.attemptsRemaining === "number" ? { attemptsRemaining: body.attemptsRemaining } : {}),
      requestId: body.requestId ?? headerRequestId,
    });
  }
  const snippet = text.trim().slice(0, 200);
  return new ReverseOtpError({
    status: response.status,
    code: "HTTP_ERROR",
    detail: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${snippet ? `: ${snippet}` : ""}`,
    retryAfterSeconds,
    requestId: headerRequestId,
  });
}
