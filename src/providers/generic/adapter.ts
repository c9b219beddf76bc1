// The generic provider: for gateways without an adapter, for tests and for the demo.
// POST JSON { messageId, from, to, text, receivedAt? } signed per Standard Webhooks.
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import type { InboundRequest, MessageResult, ProviderAdapter, SyncProviderAdapter, ProviderMessage } from "../provider.js";
import { verifyStandardWebhook } from "../standard-webhooks.js";
import { invalidPayload } from "../payload.js";

export const genericPayloadSchema = z.strictObject({
  // Stored as text: PostgreSQL refuses NUL, and a value that can never be stored must be refused
  // (400), not answered 503, which would make the sender retry it forever.
  messageId: z
    .string()
    .min(1)
    .max(200)
    .regex(/^\P{Cc}+$/u, "must not contain control characters")
    .meta({ description: "The gateway's id of the SMS: the idempotency key. Send the same id when you retry." }),
  from: z.string().min(1).max(64).meta({ description: "The sender, E.164 or international digits without `+`.", examples: ["+33612345678"] }),
  to: z.string().min(1).max(64).meta({ description: "Your virtual number, E.164 or international digits without `+`.", examples: ["+447400000100"] }),
  text: z.string().max(10_000).meta({ description: "The SMS text (not stored; only its length is)." }),
  receivedAt: z.iso.datetime({ offset: true }).optional().meta({ description: "When the gateway received the SMS, ISO 8601." }),
});

const OUTCOMES = [
  "verified",
  "wrong_code",
  "expired",
  "no_pending_challenge",
  "unknown_number",
  "invalid_sender",
  "duplicate",
  "part_stored",
] as const satisfies readonly MessageResult["outcome"][];

/** The generic provider's answer once every message is stored (the other providers answer in their own convention). */
export const genericAnswerSchema = z.strictObject({
  results: z.array(
    z.strictObject({
      messageId: z.string(),
      // Every outcome, no more (`satisfies` above) and no fewer (`satisfies` in acknowledge).
      outcome: z.enum(OUTCOMES),
    }),
  ),
});

export function parseJsonBody(request: InboundRequest): unknown {
  try {
    return JSON.parse(request.rawBody.toString("utf8"));
  } catch {
    throw new AppError("WEBHOOK_PAYLOAD_INVALID", "The body is not valid JSON");
  }
}

export function createGenericAdapter(secrets: readonly string[]): SyncProviderAdapter {
  return {
    name: "generic",
    methods: ["POST"],
    usesPathToken: false,
    verify: (request) =>
      verifyStandardWebhook(
        secrets,
        {
          id: request.headers["webhook-id"],
          timestamp: request.headers["webhook-timestamp"],
          signature: request.headers["webhook-signature"],
        },
        request.rawBody,
        request.receivedAt,
      ),
    parse(request): ProviderMessage[] {
      const parsed = genericPayloadSchema.safeParse(parseJsonBody(request));
      if (!parsed.success) {
        throw invalidPayload("generic", parsed.error);
      }
      const p = parsed.data;
      return [
        {
          providerMessageId: p.messageId,
          from: p.from,
          to: p.to,
          text: p.text,
          ...(p.receivedAt ? { receivedAt: new Date(p.receivedAt) } : {}),
        },
      ];
    },
    // The outcomes help integrators and the demo; they reach only the holder of the signing secret.
    acknowledge: (results) => ({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({
        results: results.map((r) => ({ messageId: r.providerMessageId, outcome: r.outcome })),
      } satisfies z.output<typeof genericAnswerSchema>),
    }),
  };
}
