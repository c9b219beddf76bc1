// Its delivery reports read into our one shape (src/outbound/delivery-reports.ts, which holds the
// shared helpers); known answers in test/unit/outbound/delivery-reports.test.ts.
import { z } from "zod";
import { code, type DeliveryReport, finalOf, ID, parseWith, withCode } from "../../outbound/delivery-reports.js";
import { parseJsonBody } from "../generic/adapter.js";
import { parseProviderTimestamp } from "../payload.js";
import type { InboundRequest } from "../provider.js";

/**
 * Bird Channels API status event (https://docs.bird.com/api/channels-api/message-status-and-interactions):
 * `{ service: "channels", event: "sms.outbound", payload: { id, status, reference, … } }`; statuses
 * delivered; sending_failed and delivery_failed are final failures; accepted, processing, sent are not final.
 */
export function parseBirdReport(request: InboundRequest): DeliveryReport[] {
  const e = parseWith(
    z.object({
      event: z.string().max(64),
      payload: z.object({ id: ID, status: z.string().max(40), reference: z.string().max(200).nullish(), updatedAt: z.string().max(64).nullish(), failure: z.object({ code: z.union([z.number(), z.string()]).optional() }).passthrough().nullish() }).passthrough(),
    }).passthrough(),
    parseJsonBody(request),
    "Bird message event",
  );
  if (e.event !== "sms.outbound") return [];
  const status = finalOf(["delivered"], ["sending_failed", "delivery_failed"])(e.payload.status);
  if (!status) return [];
  const at = (e.payload.updatedAt && parseProviderTimestamp(e.payload.updatedAt)) || request.receivedAt;
  return [{ providerMessageId: e.payload.id, ...(e.payload.reference ? { reference: e.payload.reference } : {}), status, at, ...(status === "failed" ? withCode(code(e.payload.failure?.code)) : {}) }];
}
