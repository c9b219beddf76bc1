// MessageBird, legacy numbers (rest.messagebird.com era): an inbound SMS is forwarded to our URL as
// a GET query `originator`, `recipient`, `body`, `id`, `createdDatetime` (or POSTed, form or JSON,
// when a Flow forwards it that way). Two signatures exist; either one is enough:
//
// - `MessageBird-Signature-JWT` (current): an HS256/384/512 JWT made with the signing key, claims
//   `iss: "MessageBird"`, `nbf`/`iat`, `exp` (60 s after issue), `jti`, `url_hash` = SHA-256 hex of
//   the full URL as called, and `payload_hash` = SHA-256 hex of the body when there is one.
//   Docs: https://developers.messagebird.com/docs/verify-http-requests (the `messagebird` npm
//   package's lib/webhook-signature-jwt.js and its published reference vectors). Verified with jose.
// - `MessageBird-Signature` (older): Base64(HMAC-SHA256(signing key, `${MessageBird-Request-Timestamp}`
//   + "\n" + query parameters sorted by name + "\n" + SHA-256(raw body) as 32 raw bytes)). It covers
//   the query and the body, NOT the scheme, host or path.
//
// The signing key (Dashboard → Developers → Settings → Signing key) is used as text (UTF-8), as in
// every official SDK.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { jwtVerify, type JWTPayload } from "jose";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import type { InboundRequest, ProviderAdapter, ProviderMessage, VerifyFailure, VerifyResult } from "../provider.js";
import { invalidPayload } from "../payload.js";

/** Tolerance of `MessageBird-Request-Timestamp` around the check time. */
export const MESSAGEBIRD_TOLERANCE_SECONDS = 5 * 60;
/**
 * Clock skew allowed on the JWT's `exp`/`nbf`/`iat`: the official Node SDK's (jose `clockTolerance: 5`).
 * MessageBird's tokens live 60 s, so `exp` bounds their age and `nbf`/`iat` refuse tokens from the
 * future (a retry must then carry a new token, which the 60 s lifetime implies; not documented).
 */
export const MESSAGEBIRD_JWT_LEEWAY_SECONDS = 5;

const HMAC_SHA256_BYTES = 32;
const MAX_JWT_CHARS = 8 * 1024;
const JWT_ALGORITHMS = ["HS256", "HS384", "HS512"];

function decodeCanonicalBase64(text: string, length: number): Buffer | undefined {
  if (text.length > 4 * Math.ceil(length / 3)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.length === length && bytes.toString("base64") === text ? bytes : undefined;
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest();
const keyBytes = (signingKey: string) => Buffer.from(signingKey, "utf8");

/** The query string exactly as received (PUBLIC_BASE_URL holds no `?`). */
export function rawQueryOf(publicUrl: string): string {
  const at = publicUrl.indexOf("?");
  return at < 0 ? "" : publicUrl.slice(at + 1);
}

// ---------------------------------------------------------------------------------------------
// MessageBird-Signature (legacy)

/** Go's `url.QueryEscape` (the Go and PHP SDKs' `Values.Encode` / `http_build_query`): space is `+`. */
const escapeForm = (s: string) =>
  encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");

/**
 * The sorted query strings a legacy signature may cover. The official SDKs disagree on spelling:
 * Go and PHP re-encode spaces as `+` and escape `!'()*`, Node's `querystring.stringify` writes
 * `%20` and keeps `!'()*`; MessageBird has also sent date-times with a bare `+` (the Node SDK
 * restores it in `statusDatetime`). Each candidate is a canonical spelling of parameters decoded
 * from the very bytes we received, sorted by name (stable for repeated names), so accepting any
 * of them binds the same data.
 */
export function legacyQueryCandidates(rawQuery: string): string[] {
  const candidates = new Set<string>();
  const decodings = rawQuery.includes("+") ? [rawQuery, rawQuery.replace(/\+/g, "%2B")] : [rawQuery];
  for (const source of decodings) {
    const pairs = [...new URLSearchParams(source)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const escape of [escapeForm, encodeURIComponent]) {
      try {
        candidates.add(pairs.map(([k, v]) => `${escape(k)}=${escape(v)}`).join("&"));
      } catch {
        // encodeURIComponent refuses lone surrogates; URLSearchParams never produces them.
      }
    }
  }
  return [...candidates];
}

export function signMessageBirdLegacy(signingKey: string, timestamp: string, sortedQuery: string, body: Buffer | string): Buffer {
  return createHmac("sha256", keyBytes(signingKey)).update(`${timestamp}\n${sortedQuery}\n`, "utf8").update(sha256(body)).digest();
}

export function verifyMessageBirdLegacySignature(
  signingKeys: readonly string[],
  headers: { signature: string; timestamp?: string | undefined },
  rawQuery: string,
  body: Buffer,
  now: Date,
): VerifyResult {
  const { signature, timestamp } = headers;
  if (!timestamp) return { ok: false, code: "WEBHOOK_SIGNATURE_MISSING", reason: "MessageBird-Request-Timestamp is required with MessageBird-Signature" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed MessageBird-Request-Timestamp" };
  if (Math.abs(Math.floor(now.getTime() / 1000) - Number(timestamp)) > MESSAGEBIRD_TOLERANCE_SECONDS) {
    return { ok: false, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE", reason: "MessageBird-Request-Timestamp outside ±5 minutes" };
  }
  const presented = decodeCanonicalBase64(signature.trim(), HMAC_SHA256_BYTES);
  if (!presented) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed MessageBird-Signature" };
  const queries = legacyQueryCandidates(rawQuery);
  for (const key of signingKeys) {
    for (const query of queries) {
      // Equal-length digests only (checked above): timingSafeEqual throws otherwise.
      if (timingSafeEqual(presented, signMessageBirdLegacy(key, timestamp, query, body))) return { ok: true };
    }
  }
  return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "no signing key matches MessageBird-Signature" };
}

// ---------------------------------------------------------------------------------------------
// MessageBird-Signature-JWT

const isHex256 = (value: unknown): value is string => typeof value === "string" && /^[0-9a-fA-F]{64}$/.test(value);

function sameHash(claim: string, digest: Buffer): boolean {
  return timingSafeEqual(Buffer.from(claim, "hex"), digest);
}

const errorCode = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;

/**
 * Verifies the JWT with jose, the check time as a parameter (`currentDate`). The rules are the
 * official SDKs': HS256/384/512 only, `iss` = MessageBird, `exp` and `nbf` with 5 s leeway (jose),
 * a non-empty `jti`, `url_hash` of the exact URL, `payload_hash` present exactly when there is a
 * body, and (as the Go SDK does) an `iat` from the future refused. Every configured key is tried
 * (rotation); the first key whose signature matches decides.
 */
export async function verifyMessageBirdJwt(signingKeys: readonly string[], rawToken: string, url: string, body: Buffer, now: Date): Promise<VerifyResult> {
  const invalid = (reason: string): VerifyFailure => ({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason });
  const outOfRange = (reason: string): VerifyFailure => ({ ok: false, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE", reason });
  const jwt = rawToken.trim();
  if (jwt.length > MAX_JWT_CHARS) return invalid("MessageBird-Signature-JWT too long");

  let claims: JWTPayload | undefined;
  for (const key of signingKeys) {
    try {
      ({ payload: claims } = await jwtVerify(jwt, new Uint8Array(keyBytes(key)), {
        algorithms: JWT_ALGORITHMS,
        issuer: "MessageBird",
        requiredClaims: ["exp", "jti", "url_hash"],
        currentDate: now,
        clockTolerance: MESSAGEBIRD_JWT_LEEWAY_SECONDS,
      }));
      break;
    } catch (error) {
      const code = errorCode(error);
      // Another key may have signed it (rotation); any other failure concerns the token itself.
      if (code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") continue;
      if (code === "ERR_JWT_EXPIRED") return outOfRange("JWT expired");
      if (code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && (error as { claim?: string }).claim === "nbf") return outOfRange("JWT not yet valid (nbf)");
      return invalid(`MessageBird-Signature-JWT refused (${code ?? "malformed"})`);
    }
  }
  if (!claims) return invalid("no signing key matches MessageBird-Signature-JWT");

  // Authentic from here on: what remains is whether it was issued for this request, now.
  if (typeof claims.jti !== "string" || claims.jti.length === 0) return invalid("JWT without jti");
  if (!isHex256(claims.url_hash) || !sameHash(claims.url_hash, sha256(url))) return invalid("JWT url_hash does not match the URL");
  const payloadHash = claims.payload_hash;
  if (body.length > 0) {
    if (!isHex256(payloadHash) || !sameHash(payloadHash, sha256(body))) return invalid("JWT payload_hash does not match the body");
  } else if (payloadHash !== undefined) {
    return invalid("JWT payload_hash is set but the body is empty");
  }
  if (typeof claims.iat === "number" && claims.iat > Math.floor(now.getTime() / 1000) + MESSAGEBIRD_JWT_LEEWAY_SECONDS) {
    return outOfRange("JWT issued in the future (iat)");
  }
  return { ok: true };
}

export async function verifyMessageBirdRequest(signingKeys: readonly string[], request: InboundRequest): Promise<VerifyResult> {
  if (signingKeys.length === 0) return { ok: false, code: "WEBHOOK_NOT_CONFIGURED", reason: "no MessageBird signing key configured" };
  const jwt = request.headers["messagebird-signature-jwt"];
  const legacy = request.headers["messagebird-signature"];
  if (!jwt && !legacy) {
    return { ok: false, code: "WEBHOOK_SIGNATURE_MISSING", reason: "MessageBird-Signature-JWT or MessageBird-Signature is required" };
  }
  // Either signature suffices. When both are sent and both fail, the JWT's reason is reported.
  const jwtVerdict = jwt ? await verifyMessageBirdJwt(signingKeys, jwt, request.publicUrl, request.rawBody, request.receivedAt) : undefined;
  if (jwtVerdict?.ok || !legacy) return jwtVerdict!;
  const legacyVerdict = verifyMessageBirdLegacySignature(
    signingKeys,
    { signature: legacy, timestamp: request.headers["messagebird-request-timestamp"] },
    rawQueryOf(request.publicUrl),
    request.rawBody,
    request.receivedAt,
  );
  return legacyVerdict.ok ? legacyVerdict : (jwtVerdict ?? legacyVerdict);
}

// ---------------------------------------------------------------------------------------------
// Payload

const scalar = z.union([z.string(), z.number()]).transform((v) => String(v));

const inboundSmsSchema = z.object({
  // Stored as text: PostgreSQL refuses NUL, and a value that can never be stored must be refused
  // (400), not answered 503, which would make MessageBird retry it.
  id: scalar.pipe(z.string().trim().min(1).max(200).regex(/^\P{Cc}+$/u, "must not contain control characters")),
  originator: scalar.pipe(z.string().trim().min(1).max(64)),
  recipient: scalar.pipe(z.string().trim().min(1).max(64)),
  body: scalar.pipe(z.string().max(10_000)),
  createdDatetime: z.string().max(64).nullish(),
});

/** The fields of a GET (query) or of a POST (its form or JSON body, over the query). */
function parametersOf(request: InboundRequest): Record<string, unknown> {
  const query: Record<string, unknown> = Object.fromEntries(new URLSearchParams(rawQueryOf(request.publicUrl)));
  if (request.method === "GET" || request.rawBody.length === 0) return query;
  const text = request.rawBody.toString("utf8");
  const contentType = request.headers["content-type"]?.toLowerCase() ?? "";
  if (!contentType.includes("json") && !/^\s*\{/.test(text)) return { ...query, ...Object.fromEntries(new URLSearchParams(text)) };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError("WEBHOOK_PAYLOAD_INVALID", "The body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AppError("WEBHOOK_PAYLOAD_INVALID", "The JSON body must be an object");
  }
  return { ...query, ...(body as Record<string, unknown>) };
}

/** `2016-05-03T14:26:57+00:00`; a `+` sent unescaped in a query reads as a space. */
function dateOf(text: string | null | undefined): Date | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text.trim().replace(/ (\d\d:?\d\d)$/, "+$1"));
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

export function parseMessageBirdMessages(request: InboundRequest): ProviderMessage[] {
  const params = parametersOf(request);
  // A delivery report (`status`, `statusDatetime`, `recipient`, no `originator`) configured to the
  // same URL is acknowledged with 200 and nothing else: no retry, nothing stored.
  if (params.originator === undefined && params.status !== undefined) return [];
  const parsed = inboundSmsSchema.safeParse(params);
  if (!parsed.success) {
    throw invalidPayload("MessageBird inbound SMS", parsed.error);
  }
  const p = parsed.data;
  const receivedAt = dateOf(p.createdDatetime);
  return [
    {
      providerMessageId: p.id,
      // Legacy numbers are bare international digits (`31612345678`); the core reads them as such.
      from: p.originator,
      to: p.recipient,
      text: p.body,
      ...(receivedAt ? { receivedAt } : {}),
    },
  ];
}

export function createMessageBirdAdapter(settings: { signingKeys: readonly string[] }): ProviderAdapter {
  const keys = [...settings.signingKeys];
  return {
    name: "messagebird",
    methods: ["GET", "POST"],
    usesPathToken: false,
    verify: (request) => verifyMessageBirdRequest(keys, request),
    parse: parseMessageBirdMessages,
    // MessageBird wants a 200; other answers are retried. Retries carry the same `id`, which the
    // core deduplicates.
    acknowledge: () => ({ status: 200, contentType: "text/plain", body: "OK" }),
  };
}
