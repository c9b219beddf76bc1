// @reverse-otp/client: a typed client for the reverse-otp v1 API, and verification of its signed
// callbacks. No runtime dependency: fetch and WebCrypto (Node 20+, browsers).
export { ReverseOtpClient, MAX_WAIT_SECONDS } from "./client.js";
export type {
  CreateChallengeOptions,
  FetchLike,
  GetChallengeOptions,
  PollTokenOptions,
  RequestOptions,
  ReverseOtpClientOptions,
  WaitForChallengeOptions,
} from "./client.js";
export { DEFAULT_TOLERANCE_SECONDS, signCallback, verifyCallback } from "./callbacks.js";
export type { CallbackHeaders, RawBody, VerifyCallbackOptions } from "./callbacks.js";
export { CallbackVerificationError, ReverseOtpConnectionError, ReverseOtpError } from "./errors.js";
export type { CallbackVerificationReason, ReverseOtpErrorInit } from "./errors.js";
export { FINAL_STATUSES, isFinalStatus } from "./types.js";
export type {
  CallbackEvent,
  CallbackEventType,
  Challenge,
  ChallengeStatus,
  Channel,
  CreateChallengeInput,
  Delivery,
  CreatedChallenge,
  ErrorCode,
  FieldError,
  FinalChallengeStatus,
  KnownErrorCode,
  Problem,
  Purpose,
  TransactionContext,
} from "./types.js";
