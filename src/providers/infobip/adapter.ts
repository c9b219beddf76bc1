// Infobip: inbound (MO) SMS forwarded to our URL, authenticated by a secret path token.
//
// Infobip does not sign its forwards (we found no signature scheme in its public docs), so we accept
// it only on `/v1/inbound/infobip/<token>`.
// Payload, default renderer MO_JSON_2
// (https://www.infobip.com/docs/api/channels/sms/inbound-sms/receive-inbound-sms-messages):
// `{ results: [ { messageId, from, to, text, cleanText, keyword, receivedAt, smsCount, price,
// callbackData } ], messageCount, pendingMessageCount }` — SEVERAL messages per request; we
// return them all and the core stores each one under its own `messageId` (one may verify while the
// next is a duplicate of an earlier delivery). Numbers are bare digits (`41793026727`);
// `receivedAt` is written `2019-08-08T10:52:37.000+0000`.
//
// `text` is the message as the phone sent it; `cleanText` is the same text without the keyword
// Infobip recognised on the number (if one was configured), `keyword` that keyword. We match on
// `text`: the core finds the code among other words anyway, while `cleanText` depends on keyword
// settings and would lose the code if a keyword ever overlapped it. `cleanText` is the fallback
// when `text` is missing. `smsCount` is the number of SMS parts Infobip already joined for us.
//
// Retries: Infobip's public docs do not state a retry schedule for inbound forwards. Whatever
// it is, a retry carries the same `messageId`, and the core's dedup on (provider, messageId)
// makes it harmless; a database failure answers 503 so that a retrying sender loses nothing.
import { z } from "zod";
import { parseJsonBody } from "../generic/adapter.js";
import type { ProviderAdapter, SyncProviderAdapter, ProviderMessage } from "../provider.js";
import { createPathTokenVerifier } from "../path-token.js";
import { invalidPayload, optionalTimestamp, PLAIN_OK } from "../payload.js";

/** Far above Infobip's bucket sizes (the request body is capped at 256 KiB by the route anyway). */
const MAX_RESULTS = 1_000;

const envelopeSchema = z.object({
  results: z.array(z.record(z.string(), z.unknown())).max(MAX_RESULTS),
  messageCount: z.number().int().nonnegative().nullish(),
  pendingMessageCount: z.number().int().nonnegative().nullish(),
});

const inboundSchema = z
  .object({
    messageId: z.string().min(1).max(200),
    from: z.string().min(1).max(64),
    to: z.string().min(1).max(64),
    text: z.string().max(10_000).nullish(),
    cleanText: z.string().max(10_000).nullish(),
    keyword: z.string().max(200).nullish(),
    receivedAt: z.string().max(64).nullish(),
    smsCount: z.number().int().min(1).max(255).nullish(),
  })
  .refine((m) => typeof m.text === "string" || typeof m.cleanText === "string", { message: "text or cleanText is required", path: ["text"] });

/**
 * A delivery report for an SMS we sent (`status`, `doneAt`, no text) lands here when an account
 * points its report URL at this one. It says nothing about a phone's code: skip it, answer 200.
 */
function isDeliveryReport(result: Record<string, unknown>): boolean {
  const hasText = typeof result.text === "string" || typeof result.cleanText === "string";
  return !hasText && (typeof result.status === "object" || "doneAt" in result);
}

export function createInfobipAdapter(settings: { tokens: readonly string[] }): SyncProviderAdapter {
  const verifyToken = createPathTokenVerifier(settings.tokens);
  return {
    name: "infobip",
    methods: ["POST"],
    usesPathToken: true,
    verify: (request) => verifyToken(request.pathToken),
    parse(request): ProviderMessage[] {
      const envelope = envelopeSchema.safeParse(parseJsonBody(request));
      if (!envelope.success) throw invalidPayload("Infobip inbound", envelope.error);
      // Validate every message before returning any: a batch is stored whole or not at all.
      return envelope.data.results.flatMap((result, index): ProviderMessage[] => {
        if (isDeliveryReport(result)) return [];
        const parsed = inboundSchema.safeParse(result);
        if (!parsed.success) throw invalidPayload("Infobip inbound", parsed.error, `results.${index}`);
        const m = parsed.data;
        const receivedAt = optionalTimestamp(m.receivedAt, `results.${index}.receivedAt`);
        return [
          {
            providerMessageId: m.messageId,
            from: m.from,
            to: m.to,
            text: typeof m.text === "string" ? m.text : (m.cleanText ?? ""),
            ...(receivedAt ? { receivedAt } : {}),
            ...(m.smsCount ? { parts: m.smsCount } : {}),
          },
        ];
      });
    },
    acknowledge: () => PLAIN_OK,
  };
}
