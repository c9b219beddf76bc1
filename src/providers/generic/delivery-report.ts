// Its delivery reports read into our one shape (src/outbound/delivery-reports.ts, which holds the
// shared helpers); known answers in test/unit/outbound/delivery-reports.test.ts.
import { z } from "zod";
import { type DeliveryReport, ID, parseWith } from "../../outbound/delivery-reports.js";
import { parseJsonBody } from "./adapter.js";
import type { InboundRequest } from "../provider.js";

/** Generic provider (PRODUCT.md): signed JSON `{ messageId, status: "delivered" | "failed" }`. */
export const genericReportSchema = z.strictObject({ messageId: ID, status: z.enum(["delivered", "failed"]) });

export function parseGenericReport(request: InboundRequest): DeliveryReport[] {
  const r = parseWith(genericReportSchema, parseJsonBody(request), "generic delivery report");
  // Our message id is the generic provider's id (it is what we sent as messageId).
  return [{ providerMessageId: r.messageId, reference: r.messageId, status: r.status, at: request.receivedAt }];
}
