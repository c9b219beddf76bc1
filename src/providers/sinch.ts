// Sinch SMS REST API: inbound (MO) SMS callbacks, authenticated by a secret path token.
//
// Sinch signs nothing per request (callback authentication is Basic auth, OAuth or mTLS set up by
// Sinch's account managers), so we accept Sinch only on `/v1/inbound/sinch/<token>`.
// Payload (https://developers.sinch.com/docs/sms/api-reference/sms/tag/Inbounds/ and the
// `MOText` type of the official Node SDK): JSON `{ type: "mo_text", id, from, to, body,
// received_at, sent_at?, operator_id?, client_reference? }`; `from`/`to` are MSISDNs, usually
// without `+`; `operator_id` is the sender's MCC/MNC.
//
// Retries (https://developers.sinch.com/docs/sms/api-reference/sms/tag/Webhooks/): 5xx and 429 are
// retried with a doubling back-off (5 s, 10 s, 20 s … up to 81,920 s ≈ 22 h 45 min); OTHER 4xx ARE
// NOT RETRIED. So only a payload we can never read gets a 4xx (400); a database failure must be a
// 503, which the core guarantees. Retries carry the same `id`: the core's dedup on
// (provider, id) makes them harmless.
import { z } from "zod";
import { AppError } from "../shared/errors.js";
import { parseJsonBody } from "./generic.js";
import { createPathTokenVerifier } from "./path-token.js";
import { invalidPayload, optionalTimestamp, PLAIN_OK } from "./payload.js";
import type { ProviderAdapter, SyncProviderAdapter, ProviderMessage } from "./provider.js";

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

export function createSinchAdapter(settings: { tokens: readonly string[] }): SyncProviderAdapter {
  const verifyToken = createPathTokenVerifier(settings.tokens);
  return {
    name: "sinch",
    methods: ["POST"],
    usesPathToken: true,
    verify: (request) => verifyToken(request.pathToken),
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
