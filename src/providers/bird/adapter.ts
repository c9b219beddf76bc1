// Bird (the Channels API of bird.com, MessageBird's successor): inbound SMS as `sms.inbound` events
// of a webhook subscription, POST JSON `{ service, event, payload }` where `payload` is the
// Channels API message.
// Docs: https://docs.bird.com/api/notifications-api/api-reference/webhook-subscriptions/verifying-a-webhook-subscription
//       https://docs.bird.com/api/channels-api/supported-channels/programmable-sms/receiving-messages
//
// signature = Base64(HMAC-SHA256(signing key, `${messagebird-request-timestamp}\n${full URL}\n` +
// SHA-256(raw body) as 32 raw bytes)), in `messagebird-signature`. The URL is the one configured
// in the subscription, query included: we check it against PUBLIC_BASE_URL + the path and query we were
// called on, never `Host`. The signing key is used as text (UTF-8), as in Bird's own examples.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import { parseJsonBody } from "../generic/adapter.js";
import type { InboundRequest, ProviderMessage, SyncProviderAdapter, VerifyResult } from "../provider.js";

/**
 * How old a signed timestamp may be. Bird retries a failed delivery for hours (its docs say 8;
 * 24 has been reported) and every retry carries the ORIGINAL timestamp and signature, so a
 * 5-minute window would drop real messages after the first failure. We accept up to 25 hours and
 * rely on the core's dedup on the message `id` (unique with the provider, kept at least 48 hours)
 * to make a replay inside that window change nothing.
 */
export const BIRD_MAX_AGE_SECONDS = 25 * 60 * 60;
/** Timestamps from the future are refused beyond normal clock skew. */
export const BIRD_MAX_FUTURE_SECONDS = 5 * 60;

const HMAC_SHA256_BYTES = 32;

function decodeCanonicalBase64(text: string, length: number): Buffer | undefined {
  if (text.length > 4 * Math.ceil(length / 3)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.length === length && bytes.toString("base64") === text ? bytes : undefined;
}

export function signBirdPayload(signingKey: string, timestamp: string, url: string, body: Buffer | string): Buffer {
  const bodyHash = createHash("sha256").update(body).digest();
  return createHmac("sha256", Buffer.from(signingKey, "utf8")).update(`${timestamp}\n${url}\n`, "utf8").update(bodyHash).digest();
}

export function verifyBirdSignature(
  signingKeys: readonly string[],
  headers: { signature?: string | undefined; timestamp?: string | undefined },
  url: string,
  body: Buffer,
  now: Date,
): VerifyResult {
  if (signingKeys.length === 0) return { ok: false, code: "WEBHOOK_NOT_CONFIGURED", reason: "no Bird signing key configured" };
  const { signature, timestamp } = headers;
  if (!signature || !timestamp) {
    return { ok: false, code: "WEBHOOK_SIGNATURE_MISSING", reason: "messagebird-signature and messagebird-request-timestamp are required" };
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed messagebird-request-timestamp" };
  }
  const ageSeconds = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (ageSeconds > BIRD_MAX_AGE_SECONDS || -ageSeconds > BIRD_MAX_FUTURE_SECONDS) {
    return { ok: false, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE", reason: "messagebird-request-timestamp older than 25 hours or ahead by more than 5 minutes" };
  }
  const presented = decodeCanonicalBase64(signature.trim(), HMAC_SHA256_BYTES);
  if (!presented) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed messagebird-signature" };
  for (const key of signingKeys) {
    // Equal-length digests only (checked above): timingSafeEqual throws otherwise.
    if (timingSafeEqual(presented, signBirdPayload(key, timestamp, url, body))) return { ok: true };
  }
  return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "no signing key matches" };
}

const envelopeSchema = z.object({
  service: z.string().max(100).nullish(),
  event: z.string().max(100),
  payload: z.unknown(),
});

const phoneNumber = z.string().trim().min(1).max(64);

const messageSchema = z.object({
  // Stored as text: PostgreSQL refuses NUL, and a value that can never be stored must be refused
  // (400), not answered 503, which would make Bird retry it.
  id: z.string().min(1).max(200).regex(/^\P{Cc}+$/u, "must not contain control characters"),
  direction: z.string().max(20),
  channelId: z.string().max(200).nullish(),
  sender: z.object({
    contact: z.object({
      identifierKey: z.string().max(100).nullish(),
      identifierValue: phoneNumber,
    }),
  }),
  receiver: z
    .object({
      connector: z.object({ id: z.string().max(200).nullish(), identifierValue: z.string().max(64).nullish() }).nullish(),
    })
    .nullish(),
  body: z.object({
    type: z.string().max(40),
    text: z.object({ text: z.string().max(10_000) }).nullish(),
  }),
  parts: z.array(z.unknown()).max(100).nullish(),
  createdAt: z.string().max(64).nullish(),
});

/** The query parameter that names our number when the payload does not (see `recipientOf`). */
export const BIRD_NUMBER_PARAMETER = "number";

/**
 * Bird's documented inbound SMS names the receiving channel only by `channelId` and
 * `receiver.connector.id`, not by its phone number
 * (https://docs.bird.com/api/channels-api/supported-channels/programmable-sms/receiving-messages).
 * We take, in order: the connector's `identifierValue` when Bird includes it; else the `number`
 * query parameter of the webhook URL configured in the subscription
 * (`…/v1/inbound/bird?number=%2B447400000123`) — the URL is covered by the signature, so the
 * parameter is as authentic as the payload. The message also carries both ids (`channelIds`): a
 * number registered with `--channel <id>` is found by them when neither names it. A delivery that
 * nothing maps is kept as `unknown_number` (2xx, no retry) and reported as a misconfiguration
 * (`unmapped_channel`: log, metric, dashboard).
 */
function recipientOf(connectorNumber: string | null | undefined, publicUrl: string): string {
  if (connectorNumber?.trim()) return connectorNumber.trim();
  const query = publicUrl.includes("?") ? publicUrl.slice(publicUrl.indexOf("?") + 1) : "";
  return new URLSearchParams(query).get(BIRD_NUMBER_PARAMETER)?.trim().slice(0, 64) ?? "";
}

function dateOf(text: string | null | undefined): Date | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

function invalid(what: string, error: z.ZodError): AppError {
  return new AppError("WEBHOOK_PAYLOAD_INVALID", `The payload is not a Bird ${what}`, {
    errors: error.issues.map((i) => ({ field: i.path.join(".") || "(body)", message: i.message })),
  });
}

export function parseBirdMessages(request: InboundRequest): ProviderMessage[] {
  const envelope = envelopeSchema.safeParse(parseJsonBody(request));
  if (!envelope.success) throw invalid("webhook event", envelope.error);
  // A subscription can also carry `sms.outbound` (status updates of messages we sent),
  // interactions, and other channels' events (`whatsapp.inbound`, `email.inbound`…): acknowledged
  // with 2xx and nothing else, so Bird does not retry them and nothing is stored.
  if (envelope.data.event !== "sms.inbound") return [];

  const parsed = messageSchema.safeParse(envelope.data.payload);
  if (!parsed.success) throw invalid("Channels API message", parsed.error);
  const m = parsed.data;
  if (m.direction !== "incoming") return [];
  const key = m.sender.contact.identifierKey;
  if (key && key.toLowerCase() !== "phonenumber") return [];
  // An SMS arrives as a `text` body; other body types (pictures of an MMS) carry no code to match.
  if (m.body.type !== "text" || !m.body.text) return [];

  const receivedAt = dateOf(m.createdAt);
  const parts = m.parts?.length;
  const channelIds = [m.channelId, m.receiver?.connector?.id].filter((id): id is string => typeof id === "string" && id.trim() !== "").map((id) => id.trim());
  return [
    {
      providerMessageId: m.id,
      from: m.sender.contact.identifierValue,
      to: recipientOf(m.receiver?.connector?.identifierValue, request.publicUrl),
      text: m.body.text.text,
      ...(receivedAt ? { receivedAt } : {}),
      ...(parts ? { parts } : {}),
      ...(channelIds.length > 0 ? { channelIds } : {}),
    },
  ];
}

export function createBirdAdapter(settings: { signingKeys: readonly string[] }): SyncProviderAdapter {
  const keys = [...settings.signingKeys];
  return {
    name: "bird",
    methods: ["POST"],
    usesPathToken: false,
    verify: (request) =>
      verifyBirdSignature(
        keys,
        { signature: request.headers["messagebird-signature"], timestamp: request.headers["messagebird-request-timestamp"] },
        request.publicUrl,
        request.rawBody,
        request.receivedAt,
      ),
    parse: parseBirdMessages,
    // Bird wants any 2xx; anything else is retried, with the original timestamp (see above).
    acknowledge: () => ({ status: 204 }),
  };
}
