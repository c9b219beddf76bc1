// Its delivery reports read into our one shape (src/outbound/delivery-reports.ts, which holds the
// shared helpers); known answers in test/unit/outbound/delivery-reports.test.ts.
import { z } from "zod";
import { code, type DeliveryReport, finalOf, ID, parseWith, withCode } from "../../outbound/delivery-reports.js";
import { parseJsonBody } from "../generic/adapter.js";
import { parseProviderTimestamp } from "../payload.js";
import type { InboundRequest } from "../provider.js";

/**
 * Infobip SMS delivery reports (https://www.infobip.com/docs/api/channels/sms/sms-messaging/logs-and-status-reports/receive-outbound-sms-message-report):
 * `{ results: [ { messageId (ours: we set it), status: { groupName }, error: { id, name }, doneAt } ] }`,
 * several per request; groups DELIVERED; UNDELIVERABLE, EXPIRED, REJECTED final failures; PENDING not final.
 */
export function parseInfobipReport(request: InboundRequest): DeliveryReport[] {
  const body = parseWith(
    z.object({
      results: z
        .array(
          z.object({
            messageId: ID,
            status: z.object({ groupName: z.string().max(40) }).passthrough(),
            error: z.object({ id: z.union([z.number(), z.string()]).optional(), name: z.string().max(100).optional() }).passthrough().nullish(),
            doneAt: z.string().max(64).nullish(),
          }).passthrough(),
        )
        .max(1000),
    }).passthrough(),
    parseJsonBody(request),
    "Infobip delivery report",
  );
  return body.results.flatMap((r): DeliveryReport[] => {
    const status = finalOf(["DELIVERED"], ["UNDELIVERABLE", "EXPIRED", "REJECTED"])(r.status.groupName);
    if (!status) return [];
    const at = (r.doneAt && parseProviderTimestamp(r.doneAt)) || request.receivedAt;
    return [{ providerMessageId: r.messageId, reference: r.messageId, status, at, ...(status === "failed" ? withCode(code(r.error?.name ?? r.error?.id)) : {}) }];
  });
}
