// Its delivery reports read into our one shape (src/outbound/delivery-reports.ts, which holds the
// shared helpers); known answers in test/unit/outbound/delivery-reports.test.ts.
import { z } from "zod";
import { type DeliveryReport, finalOf, formFields, ID, parseWith, withCode } from "../../outbound/delivery-reports.js";
import { parseProviderTimestamp } from "../payload.js";
import type { InboundRequest } from "../provider.js";

/**
 * MessageBird status report (https://developers.messagebird.com/api/sms-messaging/#handle-a-status-report):
 * a GET on reportUrl with `id`, `reference` (ours), `recipient`, `status` (scheduled, sent, buffered,
 * delivered, expired, delivery_failed), `statusDatetime`, `statusErrorCode`.
 */
export function parseMessageBirdReport(request: InboundRequest): DeliveryReport[] {
  const f = parseWith(
    z.object({ id: ID, status: z.string().max(40), reference: z.string().max(200).optional(), statusDatetime: z.string().max(64).optional(), statusErrorCode: z.string().max(20).optional() }),
    formFields(request),
    "MessageBird status report",
  );
  const status = finalOf(["delivered"], ["expired", "delivery_failed"])(f.status);
  if (!status) return [];
  const at = (f.statusDatetime && parseProviderTimestamp(f.statusDatetime)) || request.receivedAt;
  return [{ providerMessageId: f.id, ...(f.reference ? { reference: f.reference } : {}), status, at, ...withCode(f.statusErrorCode) }];
}
