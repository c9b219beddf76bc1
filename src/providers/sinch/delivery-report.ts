// Its delivery reports read into our one shape (src/outbound/delivery-reports.ts, which holds the
// shared helpers); known answers in test/unit/outbound/delivery-reports.test.ts.
import { z } from "zod";
import { code, type DeliveryReport, finalOf, ID, parseWith, withCode } from "../../outbound/delivery-reports.js";
import { parseJsonBody } from "../generic/adapter.js";
import { parseProviderTimestamp } from "../payload.js";
import type { InboundRequest } from "../provider.js";

/**
 * Sinch recipient delivery report callback (https://developers.sinch.com/docs/sms/api-reference/sms/tag/Delivery-reports/,
 * `RecipientDeliveryReport` of @sinch/sms): `{ type: "recipient_delivery_report_sms", batch_id,
 * recipient, code, status, at, client_reference }`; statuses Delivered; Failed, Expired, Rejected,
 * Aborted, Cancelled, Deleted are final failures; Queued, Dispatched, Unknown are not final.
 */
export function parseSinchReport(request: InboundRequest): DeliveryReport[] {
  const r = parseWith(
    z.object({ type: z.string().max(64), batch_id: ID, status: z.string().max(40), code: z.union([z.number(), z.string()]).optional(), at: z.string().max(64).optional(), client_reference: z.string().max(2048).optional() }),
    parseJsonBody(request),
    "Sinch delivery report",
  );
  if (r.type !== "recipient_delivery_report_sms") return [];
  const status = finalOf(["Delivered"], ["Failed", "Expired", "Rejected", "Aborted", "Cancelled", "Deleted"])(r.status);
  if (!status) return [];
  const at = (r.at && parseProviderTimestamp(r.at)) || request.receivedAt;
  return [{ providerMessageId: r.batch_id, ...(r.client_reference ? { reference: r.client_reference } : {}), status, at, ...(status === "failed" ? withCode(code(r.code)) : {}) }];
}
