// Its delivery reports read into our one shape (src/outbound/delivery-reports.ts, which holds the
// shared helpers); known answers in test/unit/outbound/delivery-reports.test.ts.
import { z } from "zod";
import { type DeliveryReport, type Fields, finalOf, formFields, ID, parseWith, withCode } from "../../outbound/delivery-reports.js";
import { parseJsonBody } from "../generic/adapter.js";
import type { InboundRequest } from "../provider.js";
import { AppError } from "../../shared/errors.js";

/** Form, query or JSON, as Vonage sends (the account's "HTTP Method" setting). */
function vonageFields(request: InboundRequest): Fields {
  const body = request.rawBody.toString("utf8").trim();
  if (request.method === "POST" && body.startsWith("{")) {
    const json = parseJsonBody(request);
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw new AppError("WEBHOOK_PAYLOAD_INVALID", "The JSON body is not an object");
    return Object.fromEntries(Object.entries(json).filter(([, v]) => typeof v === "string" || typeof v === "number").map(([k, v]) => [k, String(v)]));
  }
  return formFields(request);
}

/** `2012-04-05 09:22:57` (UTC), Vonage's `message-timestamp`. */
function vonageTime(text: string | undefined, fallback: Date): Date {
  const m = text ? /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text) : null;
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : fallback;
}

/**
 * Vonage SMS API delivery receipt (https://developer.vonage.com/en/messaging/sms/guides/delivery-receipts):
 * `messageId`, `status` (delivered, expired, failed, rejected, accepted, buffered, unknown),
 * `err-code` ("0" when delivered), `message-timestamp`, `client-ref` (ours), `msisdn`, `to`, `scts`.
 */
export function parseVonageReport(request: InboundRequest): DeliveryReport[] {
  const f = parseWith(
    z.object({ messageId: ID, status: z.string().max(40), "err-code": z.string().max(20).optional(), "client-ref": z.string().max(200).optional(), "message-timestamp": z.string().max(40).optional() }),
    vonageFields(request),
    "Vonage delivery receipt",
  );
  const status = finalOf(["delivered"], ["expired", "failed", "rejected"])(f.status);
  if (!status) return [];
  return [{ providerMessageId: f.messageId, ...(f["client-ref"] ? { reference: f["client-ref"] } : {}), status, at: vonageTime(f["message-timestamp"], request.receivedAt), ...withCode(f["err-code"]) }];
}
