// The v1 API over fetch (Node 20+, browsers, Deno, Bun, workers). No dependency.
import { verifyCallback, type CallbackHeaders, type RawBody, type VerifyCallbackOptions } from "./callbacks.js";
import { errorFromResponse, ReverseOtpConnectionError, ReverseOtpError } from "./errors.js";
import type { CallbackEvent, Challenge, CreateChallengeInput, CreatedChallenge } from "./types.js";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export type ReverseOtpClientOptions = {
  /** Where the service runs, e.g. `https://otp.example.com` (a path prefix is kept). */
  baseUrl: string;
  /**
   * `sk_…` on your servers (everything on the app's challenges); `pk_…` in a mobile app or a
   * browser (create challenges, then read and cancel them with their poll token). May be left out
   * by code that only reads with poll tokens.
   */
  apiKey?: string;
  /** A fetch implementation (default: the global one). */
  fetch?: FetchLike;
  /** Deadline of one request in milliseconds, not counting a long-poll's wait (default 30000). */
  timeoutMs?: number;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
};

export type RequestOptions = {
  /** Aborts the request; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
};

export type CreateChallengeOptions = RequestOptions & {
  /** The same key with the same body answers the same challenge (same id, code and poll token). */
  idempotencyKey?: string;
};

export type PollTokenOptions = RequestOptions & {
  /** The challenge's poll token, for callers without the app's secret key (sent as `X-Poll-Token`). */
  pollToken?: string;
};

export type GetChallengeOptions = PollTokenOptions & {
  /** Hold the request until the status changes or this many seconds pass (0–30): a long-poll. */
  waitSeconds?: number;
};

export type WaitForChallengeOptions = PollTokenOptions & {
  /**
   * How long to wait for a final status in all, in seconds (default 600, the longest lifetime a
   * challenge can have). When it passes, the latest state is returned: check its `status`.
   */
  timeoutSeconds?: number;
};

/** The longest wait the service allows in one long-poll. */
export const MAX_WAIT_SECONDS = 30;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_WAIT_TIMEOUT_SECONDS = 600;
/** Pause after a long-poll that came back early and still pending (e.g. a server shutting down). */
const EARLY_ANSWER_PAUSE_MS = 1_000;

type Call = {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  headers?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** Added to the client's deadline (a long-poll's wait). */
  extraTimeoutMs?: number;
};

class Timeout extends Error {}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function challengePath(id: string, suffix = ""): string {
  if (typeof id !== "string" || id.length === 0) throw new TypeError("A challenge id is required");
  return `/v1/challenges/${encodeURIComponent(id)}${suffix}`;
}

export class ReverseOtpClient {
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;

  constructor(options: ReverseOtpClientOptions) {
    if (!options || typeof options.baseUrl !== "string" || !/^https?:\/\//i.test(options.baseUrl)) {
      throw new TypeError("baseUrl must be an http(s) URL, e.g. https://otp.example.com");
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    // Called through a wrapper: a browser's fetch throws "Illegal invocation" when called as a method.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#headers = { ...options.headers };
  }

  /** `POST /v1/challenges`: a new challenge with its code, the number to text and the poll token. */
  createChallenge(input: CreateChallengeInput, options: CreateChallengeOptions = {}): Promise<CreatedChallenge> {
    return this.#call<CreatedChallenge>({
      method: "POST",
      path: "/v1/challenges",
      body: input,
      headers: { "idempotency-key": options.idempotencyKey },
      signal: options.signal,
    });
  }

  /** `GET /v1/challenges/:id`, with the secret key or the poll token; `waitSeconds` makes it a long-poll. */
  getChallenge(id: string, options: GetChallengeOptions = {}): Promise<Challenge> {
    const wait = options.waitSeconds;
    if (wait !== undefined && (!Number.isInteger(wait) || wait < 0 || wait > MAX_WAIT_SECONDS)) {
      throw new RangeError(`waitSeconds must be a whole number from 0 to ${MAX_WAIT_SECONDS}`);
    }
    return this.#call<Challenge>({
      method: "GET",
      path: challengePath(id) + (wait ? `?waitSeconds=${wait}` : ""),
      headers: { "x-poll-token": options.pollToken },
      signal: options.signal,
      extraTimeoutMs: (wait ?? 0) * 1000,
    });
  }

  /**
   * Long-polls until the challenge has a final status (`verified`, `expired`, `failed`,
   * `cancelled`) or `timeoutSeconds` pass, and returns the latest state. A `429` or `503` with
   * `Retry-After` is waited out when the time allows; other errors reject.
   */
  async waitForChallenge(id: string, options: WaitForChallengeOptions = {}): Promise<Challenge> {
    const { pollToken, signal } = options;
    const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS;
    if (!(timeoutSeconds >= 0)) throw new RangeError("timeoutSeconds must be 0 or more");
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const remainingMs = deadline - Date.now();
      // Rounded up: the last long-poll may end up to a second after the deadline, never before it.
      const waitSeconds = Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.ceil(remainingMs / 1000)));
      const startedAt = Date.now();
      let challenge: Challenge;
      try {
        challenge = await this.getChallenge(id, { pollToken, waitSeconds, signal });
      } catch (error) {
        const retryAfterMs = error instanceof ReverseOtpError && (error.status === 429 || error.status === 503) && error.retryAfterSeconds !== undefined
          ? error.retryAfterSeconds * 1000
          : undefined;
        if (retryAfterMs === undefined || Date.now() + retryAfterMs >= deadline) throw error;
        await sleep(retryAfterMs, signal);
        continue;
      }
      if (challenge.status !== "pending" || waitSeconds === 0 || Date.now() >= deadline) return challenge;
      // Still pending: the wait ran out (ask again at once), or the answer came early, which a
      // server that is shutting down does; pause so as not to hammer it.
      if (Date.now() - startedAt < waitSeconds * 1000 - EARLY_ANSWER_PAUSE_MS) {
        await sleep(Math.min(EARLY_ANSWER_PAUSE_MS, Math.max(0, deadline - Date.now())), signal);
      }
    }
  }

  /** `POST /v1/challenges/:id/cancel`: pending → cancelled (409 `CHALLENGE_NOT_PENDING` otherwise). */
  cancelChallenge(id: string, options: PollTokenOptions = {}): Promise<Challenge> {
    return this.#call<Challenge>({
      method: "POST",
      path: challengePath(id, "/cancel"),
      headers: { "x-poll-token": options.pollToken },
      signal: options.signal,
    });
  }

  /**
   * `POST /v1/challenges/:id/fallback`: a pending reverse challenge switches to `sms` or `email`
   * (with `email`); a new code is sent, the old one no longer verifies. 409 `CHALLENGE_NOT_PENDING`
   * or `CHANNEL_NOT_ALLOWED`; 429 past the sending caps.
   */
  fallback(id: string, input: { channel: "sms" | "email"; email?: string }, options: PollTokenOptions = {}): Promise<Challenge> {
    return this.#call<Challenge>({
      method: "POST",
      path: challengePath(id, "/fallback"),
      body: input,
      headers: { "x-poll-token": options.pollToken },
      signal: options.signal,
    });
  }

  /**
   * `POST /v1/challenges/:id/check`: the code the user typed, for an `sms`/`email` challenge.
   * Resolves with the verified challenge; rejects with 422 `WRONG_CODE` (`error.attemptsRemaining`)
   * or 409 `CHALLENGE_NOT_PENDING`.
   */
  check(id: string, code: string, options: PollTokenOptions = {}): Promise<Challenge> {
    return this.#call<Challenge>({
      method: "POST",
      path: challengePath(id, "/check"),
      body: { code },
      headers: { "x-poll-token": options.pollToken },
      signal: options.signal,
    });
  }

  /**
   * `POST /v1/challenges/:id/consume` (secret key): succeeds once for a verified challenge, so one
   * verification authorises one action. Afterwards 409 `CHALLENGE_ALREADY_CONSUMED`; before the
   * verification 409 `CHALLENGE_NOT_VERIFIED`.
   */
  consumeChallenge(id: string, options: RequestOptions = {}): Promise<Challenge> {
    return this.#call<Challenge>({ method: "POST", path: challengePath(id, "/consume"), signal: options.signal });
  }

  /** See the standalone `verifyCallback`: checks a callback's signature and returns its event. */
  verifyCallback(
    rawBody: RawBody,
    headers: CallbackHeaders,
    secret: string | readonly string[],
    options?: VerifyCallbackOptions,
  ): Promise<CallbackEvent> {
    return verifyCallback(rawBody, headers, secret, options);
  }

  async #call<T>(call: Call): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json, application/problem+json", ...this.#headers };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    for (const [name, value] of Object.entries(call.headers ?? {})) if (value !== undefined) headers[name] = value;
    if (call.body !== undefined) headers["content-type"] = "application/json";

    // One signal for the caller's abort and the client's deadline (AbortSignal.any is too new for
    // some browsers still in use).
    const controller = new AbortController();
    const timeoutMs = this.#timeoutMs + (call.extraTimeoutMs ?? 0);
    const timer = setTimeout(() => controller.abort(new Timeout()), timeoutMs);
    const onAbort = () => controller.abort(call.signal!.reason);
    if (call.signal?.aborted) onAbort();
    else call.signal?.addEventListener("abort", onAbort, { once: true });

    try {
      const response = await this.#fetch(this.baseUrl + call.path, {
        method: call.method,
        headers,
        ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
        signal: controller.signal,
      });
      const text = await response.text();
      if (!response.ok) throw errorFromResponse(response, text, Date.now());
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new ReverseOtpError({
          status: response.status,
          code: "INVALID_RESPONSE",
          detail: "The answer is not JSON",
          requestId: response.headers.get("x-request-id") ?? undefined,
        });
      }
    } catch (error) {
      if (error instanceof ReverseOtpError) throw error;
      if (call.signal?.aborted) throw call.signal.reason;
      if (controller.signal.aborted && controller.signal.reason instanceof Timeout) {
        throw new ReverseOtpConnectionError(`No answer from ${this.baseUrl} within ${timeoutMs} ms`, true, { cause: error });
      }
      throw new ReverseOtpConnectionError(`Could not reach ${this.baseUrl}: ${(error as Error)?.message ?? String(error)}`, false, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener("abort", onAbort);
    }
  }
}
