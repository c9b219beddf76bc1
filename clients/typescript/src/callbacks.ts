// Verification of the service's callbacks, signed per Standard Webhooks
// (https://www.standardwebhooks.com/): `webhook-signature` holds `v1,<base64 HMAC-SHA256>` entries
// (separated by spaces) over `${webhook-id}.${webhook-timestamp}.${raw body}`, keyed with the bytes of
// the app's `whsec_<base64>` callback secret.
//
// WebCrypto only (Node 20+ and browsers), so the client has no dependency; the tests check it
// against the `standardwebhooks` package. The HMAC comparison is `crypto.subtle.verify`, which is
// constant-time. The check time is a parameter (`now`), so tests need no faked timers.
import { CallbackVerificationError } from "./errors.js";
import type { CallbackEvent, CallbackEventType } from "./types.js";

/** Standard Webhooks' tolerance: a timestamp more than 5 minutes old (or ahead) is refused. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/** At most this many signatures of one header are checked (rotation sends a few, never dozens). */
const MAX_SIGNATURES = 16;

const EVENT_TYPES: readonly CallbackEventType[] = ["challenge.verified", "challenge.failed", "challenge.expired", "challenge.cancelled"];

/** Request headers as a `Headers` object (fetch, Request) or a plain record (Node's `req.headers`, Express). */
export type CallbackHeaders = Headers | Record<string, string | readonly string[] | undefined>;

/** The raw bytes of the request body, exactly as received (not re-serialised JSON). */
export type RawBody = string | Uint8Array | ArrayBuffer;

export type VerifyCallbackOptions = {
  /** The time to check the timestamp against (default: now). */
  now?: Date | number;
  /** Allowed distance between `webhook-timestamp` and `now` (default 300 seconds). */
  toleranceSeconds?: number;
};

const encoder = new TextEncoder();

function header(headers: CallbackHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | readonly string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return typeof value === "string" ? value : value?.[0];
}

function bytesOf(body: RawBody): Uint8Array {
  if (typeof body === "string") return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  return new Uint8Array(body);
}

function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The HMAC key bytes of a `whsec_…` secret (the prefix is optional, as in the reference libraries). */
function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  const text = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = base64ToBytes(text);
  } catch {
    throw new TypeError("The callback secret is not a whsec_<base64> secret");
  }
  if (bytes.length === 0) throw new TypeError("The callback secret is empty");
  return bytes;
}

function signedContent(id: string, timestamp: string, body: RawBody): Uint8Array<ArrayBuffer> {
  const head = encoder.encode(`${id}.${timestamp}.`);
  const rest = bytesOf(body);
  const all = new Uint8Array(head.length + rest.length);
  all.set(head, 0);
  all.set(rest, head.length);
  return all;
}

// The type is spelled this way because Node's types and the DOM's name it differently.
function subtle(): typeof globalThis.crypto.subtle {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error("WebCrypto (crypto.subtle) is not available: Node 20+ or a browser in a secure context is required");
  return s;
}

const importKey = (secret: string) =>
  subtle().importKey("raw", secretBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);

/**
 * The `webhook-signature` value (`v1,<base64>`) for a body; for tests of your callback handler.
 * `timestamp` is in seconds since the epoch.
 */
export async function signCallback(secret: string, message: { id: string; timestamp: number; body: RawBody }): Promise<string> {
  const key = await importKey(secret);
  const mac = await subtle().sign("HMAC", key, signedContent(message.id, String(message.timestamp), message.body));
  return `v1,${bytesToBase64(new Uint8Array(mac))}`;
}

/**
 * The 32 digest bytes of each `v1,` entry in canonical base64, at most MAX_SIGNATURES of them. Only
 * the canonical spelling counts (as in the reference libraries, which compare the text), so an
 * altered header never decodes to the same bytes by accident.
 */
function presentedSignatures(header: string): Uint8Array<ArrayBuffer>[] {
  return header
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => entry.slice(3))
    .filter((text) => /^[A-Za-z0-9+/]{43}=$/.test(text))
    .map((text) => ({ text, bytes: base64ToBytes(text) }))
    // atob ignores the unused low bits of the last character: "…A=" and "…B=" can decode alike.
    .filter(({ text, bytes }) => bytes.length === 32 && bytesToBase64(bytes) === text)
    .map(({ bytes }) => bytes)
    .slice(0, MAX_SIGNATURES);
}

function isChallengeJson(data: unknown): boolean {
  if (typeof data !== "object" || data === null) return false;
  const d = data as Record<string, unknown>;
  return typeof d.id === "string" && typeof d.status === "string" && typeof d.purpose === "string";
}

/**
 * Checks a callback of the service and returns its event. Pass the raw body, byte for byte (e.g.
 * `express.raw({ type: "application/json" })`), the request headers, and the app's callback secret
 * (or several, while rotating). Throws `CallbackVerificationError` when a header is missing, the
 * timestamp is outside the tolerance, no signature matches, or the body is not an event.
 *
 * The same event can arrive more than once (delivery is at least once): drop repeats by the
 * `webhook-id` header.
 */
export async function verifyCallback(
  rawBody: RawBody,
  headers: CallbackHeaders,
  secret: string | readonly string[],
  options: VerifyCallbackOptions = {},
): Promise<CallbackEvent> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signature = header(headers, "webhook-signature");
  if (!id || !timestamp || !signature) {
    throw new CallbackVerificationError("missing_headers", "webhook-id, webhook-timestamp and webhook-signature are required");
  }
  if (!/^\d{1,15}$/.test(timestamp)) throw new CallbackVerificationError("malformed_headers", "webhook-timestamp is not a number of seconds");
  const nowMs = options.now === undefined ? Date.now() : typeof options.now === "number" ? options.now : options.now.getTime();
  const nowSeconds = Math.floor(nowMs / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const sentAt = Number(timestamp);
  if (nowSeconds - sentAt > tolerance) throw new CallbackVerificationError("timestamp_too_old", "The callback's timestamp is too old");
  if (sentAt - nowSeconds > tolerance) throw new CallbackVerificationError("timestamp_too_new", "The callback's timestamp is in the future");

  const content = signedContent(id, timestamp, rawBody);
  const presented = presentedSignatures(signature);
  const secrets = typeof secret === "string" ? [secret] : secret;
  if (secrets.length === 0) throw new TypeError("At least one callback secret is required");
  let matched = false;
  for (const s of secrets) {
    const key = await importKey(s);
    for (const candidate of presented) {
      if (await subtle().verify("HMAC", key, candidate, content)) matched = true;
    }
  }
  if (!matched) throw new CallbackVerificationError("no_matching_signature", "No signature matches the callback");

  let event: unknown;
  try {
    event = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytesOf(rawBody)));
  } catch {
    throw new CallbackVerificationError("invalid_payload", "The callback body is not JSON");
  }
  const e = event as Partial<CallbackEvent> | null;
  if (typeof e !== "object" || e === null || !EVENT_TYPES.includes(e.type as CallbackEventType) || !isChallengeJson(e.data)) {
    throw new CallbackVerificationError("invalid_payload", "The callback body is not a reverse-otp challenge event");
  }
  return event as CallbackEvent;
}
