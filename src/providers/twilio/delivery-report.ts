// Its delivery reports read into our one shape (src/outbound/delivery-reports.ts, which holds the
// shared helpers); known answers in test/unit/outbound/delivery-reports.test.ts.
import { z } from "zod";
import { type DeliveryReport, finalOf, formFields, ID, parseWith, withCode } from "../../outbound/delivery-reports.js";
import type { InboundRequest } from "../provider.js";

/**
 * Twilio status callback (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status):
 * form POST with MessageSid, MessageStatus (queued, sending, sent, delivered, undelivered, failed,
 * read…) and ErrorCode (e.g. 30003 unreachable, 30005 unknown destination). No time is sent.
 */
export function parseTwilioReport(request: InboundRequest): DeliveryReport[] {
  const f = parseWith(z.object({ MessageSid: ID, MessageStatus: z.string().max(40), ErrorCode: z.string().max(20).optional() }), formFields(request), "Twilio status callback");
  const status = finalOf(["delivered", "read"], ["undelivered", "failed"])(f.MessageStatus);
  return status ? [{ providerMessageId: f.MessageSid, status, at: request.receivedAt, ...withCode(f.ErrorCode) }] : [];
}
