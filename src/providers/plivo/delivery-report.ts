// Its delivery reports read into our one shape (src/outbound/delivery-reports.ts, which holds the
// shared helpers); known answers in test/unit/outbound/delivery-reports.test.ts.
import { z } from "zod";
import { type DeliveryReport, finalOf, formFields, ID, parseWith, withCode } from "../../outbound/delivery-reports.js";
import type { InboundRequest } from "../provider.js";

/**
 * Plivo message status callback (https://www.plivo.com/docs/messaging/api/message#message-states):
 * form with MessageUUID, Status (queued, sent, failed, delivered, undelivered, rejected), ErrorCode.
 */
export function parsePlivoReport(request: InboundRequest): DeliveryReport[] {
  const f = parseWith(z.object({ MessageUUID: ID, Status: z.string().max(40), ErrorCode: z.string().max(20).optional() }), formFields(request), "Plivo status callback");
  const status = finalOf(["delivered", "read"], ["failed", "undelivered", "rejected"])(f.Status);
  return status ? [{ providerMessageId: f.MessageUUID, status, at: request.receivedAt, ...withCode(f.ErrorCode) }] : [];
}
