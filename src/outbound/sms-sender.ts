// Sending one SMS through a provider's HTTP API: the shapes every provider module shares, and the
// one place that performs the request (fetch, a deadline) and sorts the answer into
//   accepted  — the provider took the message (with its id for the message, when it gave one);
//   retryable — worth trying again later: network error, timeout, HTTP 429 or 5xx, or a provider's
//               own "throttled" / "internal error" code;
//   refused   — a permanent refusal of this message (invalid number, barred, bad credentials…):
//               trying again would fail again and could cost money.
// Each provider module builds its request exactly as the provider documents it (a pure function,
// tested against the provider's documentation and, where one exists, its official SDK) and reads
// the body of a 2xx (or of a 4xx where the provider puts its reason there).
import type { ProviderName } from "../providers/registry.js";

/** One SMS to send. Numbers are E.164 (`+33612345678`). */
export type OutboundSms = {
  /** Our id of the message (the outbox row): sent as the client reference where the provider has one. */
  messageId: string;
  /** The app's virtual number: the number that receives reverse codes is also the sender. */
  from: string;
  to: string;
  text: string;
};

export type HttpRequest = {
  method: "POST";
  url: string;
  headers: Record<string, string>;
  body: string | Buffer;
};

export type SendResult =
  | { kind: "accepted"; providerMessageId: string | undefined; status: number }
  | { kind: "retryable"; reason: string; status?: number; retryAfterSeconds?: number }
  | { kind: "refused"; reason: string; status?: number; errorCode?: string };

export type SmsSender = {
  readonly provider: ProviderName;
  /** False when the provider's sending credentials are not configured: every send is refused. */
  readonly isConfigured: boolean;
  send(sms: OutboundSms): Promise<SendResult>;
};

/** What a provider module supplies: its request, and how to read a 2xx (and a 4xx) answer. */
export type ProviderProtocol<S> = {
  provider: ProviderName;
  /** Why the settings cannot send (missing credentials), or undefined. */
  missing(settings: S): string | undefined;
  build(settings: S, sms: OutboundSms): HttpRequest;
  /**
   * Reads an answer. Called for every HTTP status; return undefined to apply the common rule
   * (2xx accepted without an id, 408/429/5xx retryable, other statuses refused).
   */
  read(status: number, body: string, sms: OutboundSms): SendResult | undefined;
};

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string | Buffer; signal: AbortSignal; redirect: "manual" },
) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

export type HttpSenderOptions = {
  /** Deadline of one request (connect, send, answer), in milliseconds. */
  timeoutMs: number;
  /** The fetch to use (tests may wrap it); the global fetch otherwise. */
  fetch?: FetchLike;
};

const MAX_REASON_CHARS = 200;
/** Answers are small; a provider's error page is cut here before it is read. */
const MAX_ANSWER_CHARS = 64 * 1024;

export const shortReason = (text: string) => (text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS - 1)}…` : text);

/** Retry-After in seconds (delta form; the date form is rare for APIs and read as absent). */
function retryAfterOf(value: string | null): number | undefined {
  if (!value || !/^\d{1,6}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/** A 4xx that refuses this message (408 and 429 ask for a retry instead). */
export const isClientRefusal = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/** The common rule for statuses a provider module leaves to us. */
export function classifyStatus(status: number, body: string): SendResult {
  if (status >= 200 && status < 300) return { kind: "accepted", providerMessageId: undefined, status };
  const reason = shortReason(`HTTP ${status}${body ? `: ${body.replace(/\s+/g, " ").trim()}` : ""}`);
  if (isClientRefusal(status) || status < 200 || (status >= 300 && status < 400)) return { kind: "refused", reason, status };
  return { kind: "retryable", reason, status };
}

/** Parses JSON, or undefined (a provider's HTML error page, an empty body). */
export function parseJsonSafe(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function createHttpSender<S>(protocol: ProviderProtocol<S>, settings: S, options: HttpSenderOptions): SmsSender {
  const missing = protocol.missing(settings);
  const doFetch: FetchLike = options.fetch ?? ((url, init) => fetch(url, init as RequestInit));
  return {
    provider: protocol.provider,
    isConfigured: missing === undefined,
    async send(sms) {
      if (missing) return { kind: "refused", reason: `not configured: ${missing}` };
      let request: HttpRequest;
      try {
        request = protocol.build(settings, sms);
      } catch (error) {
        // A text the provider's API cannot carry (smsmode: outside ISO-8859-15), say.
        return { kind: "refused", reason: shortReason(`cannot build the request: ${(error as Error).message}`) };
      }
      let status: number;
      let body: string;
      let retryAfter: string | null;
      try {
        const answer = await doFetch(request.url, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          signal: AbortSignal.timeout(options.timeoutMs),
          // A redirect is not followed (fetch would turn the POST into a GET): it refuses the message.
          redirect: "manual",
        });
        status = answer.status;
        retryAfter = answer.headers.get("retry-after");
        body = (await answer.text()).slice(0, MAX_ANSWER_CHARS);
      } catch (error) {
        const e = error as Error & { cause?: { code?: string } };
        const timedOut = e.name === "TimeoutError" || e.name === "AbortError";
        // The request may or may not have reached the provider: retried, at least once (docs/sending.md).
        return { kind: "retryable", reason: timedOut ? `timeout after ${options.timeoutMs} ms` : shortReason(`network error: ${e.cause?.code ?? e.message}`) };
      }
      const result = protocol.read(status, body, sms) ?? classifyStatus(status, body);
      if (result.kind === "retryable" && result.retryAfterSeconds === undefined) {
        const seconds = retryAfterOf(retryAfter);
        if (seconds !== undefined) return { ...result, retryAfterSeconds: seconds };
      }
      return result;
    },
  };
}

/** HTTP Basic credentials. */
export const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;

/** Joins a configured base URL (no trailing slash needed) and a path. */
export const joinUrl = (base: string, path: string) => `${base.replace(/\/+$/, "")}${path}`;

/** `+33612345678` → `33612345678`, for APIs that take international digits without `+`. */
export const digitsOnly = (e164: string) => e164.replace(/^\+/, "");
