// Its delivery reports read into our one shape (src/outbound/delivery-reports.ts, which holds the
// shared helpers); known answers in test/unit/outbound/delivery-reports.test.ts.
import { z } from "zod";
import { code, type DeliveryReport, finalOf, ID, parseWith, withCode } from "../../outbound/delivery-reports.js";
import { parseJsonBody } from "../generic/adapter.js";
import { parseProviderTimestamp } from "../payload.js";
import type { InboundRequest } from "../provider.js";

const telnyxSchema = z.object({
  data: z.object({
    event_type: z.string().max(64),
    occurred_at: z.string().max(64).optional(),
    payload: z.object({
      id: ID,
      to: z.array(z.object({ status: z.string().max(64).optional() }).passthrough()).max(50).optional(),
      errors: z.array(z.object({ code: z.union([z.string(), z.number()]).optional() }).passthrough()).max(50).optional(),
    }).passthrough(),
  }).passthrough(),
});

/**
 * Telnyx message webhooks (https://developers.telnyx.com/docs/messaging/messages/receiving-webhooks):
 * `message.sent` then `message.finalized`, whose `payload.to[0].status` is delivered,
 * delivery_failed, sending_failed or delivery_unconfirmed (no report from the carrier: not final for us).
 */
export function parseTelnyxReport(request: InboundRequest): DeliveryReport[] {
  const event = parseWith(telnyxSchema, parseJsonBody(request), "Telnyx message event").data;
  if (event.event_type !== "message.finalized") return [];
  const status = finalOf(["delivered"], ["delivery_failed", "sending_failed"])(event.payload.to?.[0]?.status ?? "");
  if (!status) return [];
  const at = (event.occurred_at && parseProviderTimestamp(event.occurred_at)) || request.receivedAt;
  return [{ providerMessageId: event.payload.id, status, at, ...withCode(code(event.payload.errors?.[0]?.code)) }];
}
