// Telnyx Messaging API v2: inbound SMS/MMS as `message.received` events, POST JSON, signed with
// Ed25519 by Telnyx's account key pair.
// Docs: https://developers.telnyx.com/docs/messaging/messages/receiving-webhooks
//       https://developers.telnyx.com/api-reference/callbacks/inbound-message
//
// signature = Ed25519(Telnyx's private key, `${telnyx-timestamp}|${raw body}`), Base64 in
// `telnyx-signature-ed25519`; checked with the account's public key (Mission Control → Keys &
// Credentials → Public Key), 32 raw bytes in Base64. The official SDK (`telnyx`, lib/webhooks)
// verifies the same message and allows 300 seconds either way; it reads the wall clock, so here
// the check time is a parameter and the SDK serves as the test oracle.
import { createPublicKey, verify as verifyEd25519, type KeyObject } from "node:crypto";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import { parseJsonBody } from "../generic/adapter.js";
import type { InboundRequest, ProviderMessage, SyncProviderAdapter, VerifyResult } from "../provider.js";

/** The tolerance of the official SDKs (Node `TelnyxWebhook`, Ruby `TIMESTAMP_TOLERANCE_SECONDS`). */
export const TELNYX_TOLERANCE_SECONDS = 300;

const ED25519_PUBLIC_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;

/** Builds a node:crypto key from the Base64 public key shown in the portal (32 raw bytes). */
export function telnyxPublicKeyFromBase64(base64: string): KeyObject {
  const raw = Buffer.from(base64.trim(), "base64");
  if (raw.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new Error(`TELNYX_PUBLIC_KEY: an Ed25519 public key is ${ED25519_PUBLIC_KEY_BYTES} bytes in Base64, got ${raw.length}`);
  }
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
}

/**
 * Only the canonical Base64 spelling of exactly `length` bytes: Node's decoder skips stray
 * characters and padding bits, which would let many header values decode to the same bytes.
 */
function decodeCanonicalBase64(text: string, length: number): Buffer | undefined {
  if (text.length > 4 * Math.ceil(length / 3)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.length === length && bytes.toString("base64") === text ? bytes : undefined;
}

export function verifyTelnyxSignature(
  publicKeys: readonly KeyObject[],
  headers: { signature?: string | undefined; timestamp?: string | undefined },
  body: Buffer,
  now: Date,
): VerifyResult {
  if (publicKeys.length === 0) return { ok: false, code: "WEBHOOK_NOT_CONFIGURED", reason: "no Telnyx public key configured" };
  const { signature, timestamp } = headers;
  if (!signature || !timestamp) {
    return { ok: false, code: "WEBHOOK_SIGNATURE_MISSING", reason: "telnyx-signature-ed25519 and telnyx-timestamp are required" };
  }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed telnyx-timestamp" };
  const skewSeconds = Math.abs(Math.floor(now.getTime() / 1000) - Number(timestamp));
  if (skewSeconds > TELNYX_TOLERANCE_SECONDS) {
    return { ok: false, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE", reason: "telnyx-timestamp outside ±5 minutes" };
  }
  const signatureBytes = decodeCanonicalBase64(signature.trim(), ED25519_SIGNATURE_BYTES);
  if (!signatureBytes) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed telnyx-signature-ed25519" };
  // The raw bytes as received: the signed message is the timestamp, `|`, then the body unchanged.
  const message = Buffer.concat([Buffer.from(`${timestamp}|`, "ascii"), body]);
  // A public-key check has no secret to leak through timing; every configured key is tried (rotation).
  if (publicKeys.some((key) => verifyEd25519(null, message, key, signatureBytes))) return { ok: true };
  return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "no public key verifies the signature" };
}

const phoneNumber = z.string().trim().min(1).max(64);
// Stored as text: PostgreSQL refuses NUL, and a value that can never be stored must be refused
// (400), not answered 503, which would make Telnyx retry it.
const messageId = z.string().min(1).max(200).regex(/^\P{Cc}+$/u, "must not contain control characters");
/** Informational text kept with the message: control characters (NUL above all) are dropped. */
const label = (max: number) => z.string().max(max).transform((s) => s.replace(/\p{Cc}/gu, "").trim());

const eventSchema = z.object({
  data: z.object({
    event_type: z.string().max(100),
    occurred_at: z.string().max(64).nullish(),
    payload: z.unknown(),
  }),
});

const inboundMessageSchema = z.object({
  id: messageId,
  direction: z.string().max(20).nullish(),
  type: z.string().max(20).nullish(),
  from: z.object({
    phone_number: phoneNumber,
    carrier: label(200).nullish(),
    line_type: label(40).nullish(),
  }),
  // An array of recipients for SMS/MMS; the SDK's types also allow a plain string (WhatsApp, RCS).
  to: z.union([z.array(z.object({ phone_number: phoneNumber })).min(1).max(50), phoneNumber]),
  // Absent for a picture-only MMS.
  text: z.string().max(10_000).nullish(),
  parts: z.number().int().min(1).max(100).nullish(),
});

/** Inbound types that are text messages to our number; Telnyx also reports WHATSAPP and RCS. */
const SMS_TYPES = new Set(["SMS", "MMS"]);

/**
 * Telnyx reports the sender's line type as `Wireless`, `Pre-Paid Wireless`, `VoWiFi`, `VoIP`,
 * `Wireline` or "" (SDK types of `from.line_type`). `Wireline` is Telnyx's word for a fixed line:
 * it becomes `landline`, the name the core refuses; the others pass as Telnyx spells them.
 */
function lineTypeOf(reported: string | null | undefined): string | undefined {
  const trimmed = reported?.trim();
  if (!trimmed) return undefined;
  return trimmed.toLowerCase() === "wireline" ? "landline" : trimmed;
}

function dateOf(text: string | null | undefined): Date | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

function invalid(what: string, error: z.ZodError): AppError {
  return new AppError("WEBHOOK_PAYLOAD_INVALID", `The payload is not a Telnyx ${what}`, {
    errors: error.issues.map((i) => ({ field: i.path.join(".") || "(body)", message: i.message })),
  });
}

export function parseTelnyxMessages(request: InboundRequest): ProviderMessage[] {
  const event = eventSchema.safeParse(parseJsonBody(request));
  if (!event.success) throw invalid("webhook event", event.error);
  // One messaging profile URL also receives `message.sent`, `message.finalized` (delivery reports
  // of outbound messages) and other events: acknowledged with 2xx and nothing else, so Telnyx
  // does not retry them and nothing is stored for them.
  if (event.data.data.event_type !== "message.received") return [];

  const parsed = inboundMessageSchema.safeParse(event.data.data.payload);
  if (!parsed.success) throw invalid("inbound message", parsed.error);
  const p = parsed.data;
  if (p.direction && p.direction !== "inbound") return [];
  if (p.type && !SMS_TYPES.has(p.type.toUpperCase())) return [];

  // Our number is the first `to`: an SMS has one recipient, the number rented from Telnyx. A group
  // MMS lists the other participants in `cc`, not in `to`. Should a number not be ours, the core
  // records the message as `unknown_number` and answers 2xx.
  const to = typeof p.to === "string" ? p.to : p.to[0]!.phone_number;
  const lineType = lineTypeOf(p.from.line_type);
  const carrier = p.from.carrier?.trim();
  const receivedAt = dateOf(event.data.data.occurred_at);
  return [
    {
      providerMessageId: p.id,
      from: p.from.phone_number,
      to,
      text: p.text ?? "",
      ...(receivedAt ? { receivedAt } : {}),
      ...(p.parts ? { parts: p.parts } : {}),
      ...(lineType ? { lineType } : {}),
      ...(carrier ? { carrier } : {}),
    },
  ];
}

export function createTelnyxAdapter(settings: { publicKeys: readonly string[] }): SyncProviderAdapter {
  const keys = settings.publicKeys.map(telnyxPublicKeyFromBase64);
  return {
    name: "telnyx",
    methods: ["POST"],
    usesPathToken: false,
    verify: (request) =>
      verifyTelnyxSignature(
        keys,
        { signature: request.headers["telnyx-signature-ed25519"], timestamp: request.headers["telnyx-timestamp"] },
        request.rawBody,
        request.receivedAt,
      ),
    parse: parseTelnyxMessages,
    // Telnyx wants a 2xx within 2 seconds ("The server must return an HTTP 200, otherwise we will
    // reattempt delivery at the failover webhook URL"); the body is ignored. Retries (3 attempts
    // per URL, then the failover URL) carry the same `payload.id`, which the core deduplicates.
    acknowledge: () => ({ status: 200, contentType: "text/plain", body: "" }),
  };
}
