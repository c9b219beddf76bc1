// Sinch SMS REST API: inbound (MO) SMS callbacks, authenticated by Sinch's HMAC signature where
// the account has it, else by a secret path token.
//
// Signed callbacks (preferred). Sinch signs SMS callbacks once its account managers have enabled
// signing for the account ("Signature authentication for SMS callbacks must be enabled for your
// account by your account manager": README of the official Node SDK, sinch/sinch-sdk-node, section
// "SMS API » Callbacks"). A signed callback carries
//   x-sinch-webhook-signature            Base64(HMAC-SHA256(secret, raw body + "." + nonce + "." + timestamp))
//   x-sinch-webhook-signature-nonce      a random string (a ULID in Sinch's examples)
//   x-sinch-webhook-signature-timestamp  Unix seconds
//   x-sinch-webhook-signature-algorithm  HmacSHA256
// with the callback secret used as text (UTF-8) — the scheme of `validateWebhookSignature`,
// `computeSignedData` and `calculateWebhookSignature` in @sinch/sdk-client
// (packages/sdk-client/src/utils/authorization.helper.ts), which `SmsCallbackWebhooks
// .validateAuthenticationHeader` of @sinch/sms uses since May 2025 (release 1.3/1.4 of
// @sinch/sdk-core). We check it on the raw bytes, in constant time, against every configured
// secret (SINCH_WEBHOOK_SECRET, rotation). The SDK checks no time; we refuse timestamps more than
// SINCH_MAX_AGE_SECONDS old or 5 minutes ahead: Sinch retries for up to 22 h 45 min, and whether a
// retry is signed afresh is not documented, so a short window could drop real messages; replays
// inside the window repeat the signed `id`, which the core's dedup absorbs.
// A request with any of these headers is judged by its signature alone: a wrong or incomplete one
// is refused, whatever the path holds. Without them, the path token is the check.
//
// Path token (accounts without signing). Otherwise callback authentication is Basic auth, OAuth or
// mTLS set up by Sinch's account managers, so we accept unsigned Sinch callbacks only on
// `/v1/inbound/sinch/<token>` (SINCH_WEBHOOK_TOKEN). Once signed callbacks arrive, removing the
// token leaves the signature as the only way in.
//
// Payload (https://developers.sinch.com/docs/sms/api-reference/sms/tag/Inbounds/ and the
// `MOText` type of the official Node SDK): JSON `{ type: "mo_text", id, from, to, body,
// received_at, sent_at?, operator_id?, client_reference? }`; `from` is the user's MSISDN and `to`
// our number (or short code), usually without `+`; `operator_id` is the sender's MCC/MNC.
//
// Retries (https://developers.sinch.com/docs/sms/api-reference/sms/tag/Webhooks/): 5xx and 429 are
// retried with a doubling back-off (5 s, 10 s, 20 s … up to 81,920 s ≈ 22 h 45 min); OTHER 4xx ARE
// NOT RETRIED. So only a payload we can never read gets a 4xx (400); a database failure must be a
// 503, which the core guarantees. Retries carry the same `id`: the core's dedup on
// (provider, id) makes them harmless.
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import { parseJsonBody } from "../generic/adapter.js";
import { createPathTokenVerifier } from "../path-token.js";
import { invalidPayload, optionalTimestamp, PLAIN_OK } from "../payload.js";
import type { InboundRequest, ProviderAdapter, SyncProviderAdapter, ProviderMessage, VerifyResult } from "../provider.js";

/** Sinch's retries span 22 h 45 min: a signed timestamp may be a day old (the retries plus margin). */
export const SINCH_MAX_AGE_SECONDS = 24 * 3600;
/** Timestamps from the future are refused beyond normal clock skew. */
export const SINCH_MAX_FUTURE_SECONDS = 5 * 60;

export const SINCH_SIGNATURE_HEADERS = {
  signature: "x-sinch-webhook-signature",
  nonce: "x-sinch-webhook-signature-nonce",
  timestamp: "x-sinch-webhook-signature-timestamp",
  algorithm: "x-sinch-webhook-signature-algorithm",
} as const;

const HMAC_SHA256_BYTES = 32;
const MAX_NONCE_CHARS = 256;

/** The signature Sinch sends for this body, nonce and timestamp (Base64). Ships with the verifier for tests. */
export function signSinchCallback(secret: string, nonce: string, timestamp: string, body: Buffer | string): string {
  return createHmac("sha256", secret).update(body).update(`.${nonce}.${timestamp}`, "utf8").digest("base64");
}

const fail = (code: Exclude<VerifyResult, { ok: true }>["code"], reason: string): VerifyResult => ({ ok: false, code, reason });

/** Whether the request carries any of Sinch's signature headers (then the signature alone decides). */
export function hasSinchSignature(headers: InboundRequest["headers"]): boolean {
  return Object.values(SINCH_SIGNATURE_HEADERS).some((name) => headers[name] !== undefined);
}

export function verifySinchSignature(secrets: readonly string[], headers: InboundRequest["headers"], body: Buffer, now: Date): VerifyResult {
  if (secrets.length === 0) return fail("WEBHOOK_NOT_CONFIGURED", "no Sinch signing secret configured");
  const signature = headers[SINCH_SIGNATURE_HEADERS.signature];
  const nonce = headers[SINCH_SIGNATURE_HEADERS.nonce];
  const timestamp = headers[SINCH_SIGNATURE_HEADERS.timestamp];
  const algorithm = headers[SINCH_SIGNATURE_HEADERS.algorithm];
  if (!signature || !nonce || !timestamp) {
    return fail("WEBHOOK_SIGNATURE_INVALID", "x-sinch-webhook-signature, -nonce and -timestamp must come together");
  }
  if (algorithm !== undefined && algorithm.toLowerCase() !== "hmacsha256") return fail("WEBHOOK_SIGNATURE_INVALID", "unsupported signature algorithm");
  if (nonce.length > MAX_NONCE_CHARS) return fail("WEBHOOK_SIGNATURE_INVALID", "nonce too long");
  if (!/^\d{1,12}$/.test(timestamp)) return fail("WEBHOOK_SIGNATURE_INVALID", "malformed x-sinch-webhook-signature-timestamp");
  const ageSeconds = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (ageSeconds > SINCH_MAX_AGE_SECONDS || -ageSeconds > SINCH_MAX_FUTURE_SECONDS) {
    return fail("WEBHOOK_TIMESTAMP_OUT_OF_RANGE", "x-sinch-webhook-signature-timestamp older than 24 hours or ahead by more than 5 minutes");
  }
  // Canonical Base64 of exactly 32 bytes only, so no other spelling passes as the same signature.
  const presented = Buffer.from(signature, "base64");
  if (signature.length !== 44 || presented.length !== HMAC_SHA256_BYTES || presented.toString("base64") !== signature) {
    return fail("WEBHOOK_SIGNATURE_INVALID", "malformed x-sinch-webhook-signature");
  }
  let matches = false;
  for (const secret of secrets) {
    matches = timingSafeEqual(presented, Buffer.from(signSinchCallback(secret, nonce, timestamp, body), "base64")) || matches;
  }
  return matches ? { ok: true } : fail("WEBHOOK_SIGNATURE_INVALID", "no signing secret matches");
}

const envelopeSchema = z.object({ type: z.string().min(1).max(64) });

const moTextSchema = z.object({
  type: z.literal("mo_text"),
  id: z.string().min(1).max(200),
  from: z.string().min(1).max(64),
  to: z.string().min(1).max(64),
  body: z.string().max(10_000),
  received_at: z.string().max(64).nullish(),
  sent_at: z.string().max(64).nullish(),
  operator_id: z.string().max(64).nullish(),
  client_reference: z.string().max(2_048).nullish(),
});

export function createSinchAdapter(settings: { tokens: readonly string[]; signingSecrets: readonly string[] }): SyncProviderAdapter {
  const verifyToken = createPathTokenVerifier(settings.tokens);
  const secrets = [...settings.signingSecrets];
  return {
    name: "sinch",
    methods: ["POST"],
    usesPathToken: true,
    verify(request) {
      // Signed: the signature decides. Without a secret we cannot judge it, and the path token
      // (if any) still proves the request, as for an account without signing.
      if (secrets.length > 0 && hasSinchSignature(request.headers)) return verifySinchSignature(secrets, request.headers, request.rawBody, request.receivedAt);
      if (settings.tokens.length === 0 && secrets.length > 0) {
        return fail("WEBHOOK_SIGNATURE_MISSING", "x-sinch-webhook-signature is required: ask Sinch to enable signed SMS callbacks, or set SINCH_WEBHOOK_TOKEN");
      }
      return verifyToken(request.pathToken);
    },
    parse(request): ProviderMessage[] {
      const json = parseJsonBody(request);
      const envelope = envelopeSchema.safeParse(json);
      if (!envelope.success) throw invalidPayload("Sinch inbound", envelope.error);
      // The same callback URL also receives `mo_binary` and `mo_media` inbounds, and delivery
      // reports (`delivery_report_sms`, `recipient_delivery_report_sms`…) when the account points
      // them here. None is a text that can carry a code: acknowledge with 200 so Sinch stops, and
      // store nothing.
      if (envelope.data.type !== "mo_text") return [];
      const parsed = moTextSchema.safeParse(json);
      if (!parsed.success) throw invalidPayload("Sinch mo_text", parsed.error);
      const p = parsed.data;
      const receivedAt = optionalTimestamp(p.received_at, "received_at");
      optionalTimestamp(p.sent_at, "sent_at");
      return [
        {
          providerMessageId: p.id,
          from: p.from,
          to: p.to,
          text: p.body,
          ...(receivedAt ? { receivedAt } : {}),
          // MCC/MNC of the sender's network: the closest thing to a carrier Sinch reports.
          ...(p.operator_id ? { carrier: p.operator_id } : {}),
        },
      ];
    },
    acknowledge: () => PLAIN_OK,
  };
}
