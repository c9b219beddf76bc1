// Its delivery reports read into our one shape (src/outbound/delivery-reports.ts, which holds the
// shared helpers); known answers in test/unit/outbound/delivery-reports.test.ts.
import { z } from "zod";
import { code, type DeliveryReport, finalOf, formFields, ID, parseWith } from "../../outbound/delivery-reports.js";
import type { InboundRequest } from "../provider.js";

/**
 * smsmode HTTP API 1.6 delivery-report callback (notification_url): a GET with `smsID`, `statut`,
 * `refClient` (ours), `numero`, `date_reception`. The numeric status codes are read as smsmode's
 * documentation and status list name them: 11 "Reçu" (received on the handset) is delivered; 2
 * "Erreur interne", 34 "Erreur routage" and 35 "Erreur réception" are final failures; every other
 * code (0 sent, 13 delivered to operator, temporary errors…) is not final for us. This mapping
 * rests on public material that is thin (docs/sending.md says so).
 */
export function parseSmsmodeReport(request: InboundRequest): DeliveryReport[] {
  const f = parseWith(z.object({ smsID: ID, statut: z.string().max(10), refClient: z.string().max(200).optional() }), formFields(request), "smsmode delivery report");
  const status = finalOf(["11"], ["2", "34", "35"])(f.statut.trim());
  if (!status) return [];
  return [{ providerMessageId: f.smsID, ...(f.refClient ? { reference: f.refClient } : {}), status, at: request.receivedAt, ...(status === "failed" ? { errorCode: f.statut } : {}) }];
}
