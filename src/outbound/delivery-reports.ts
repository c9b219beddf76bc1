// Delivery reports (DLRs) of the codes we send, per provider: read into one shape,
//   { providerMessageId, reference?, status: "delivered" | "failed", at, errorCode? },
// as pure functions of the raw request (tested with known answers in
// test/unit/outbound/delivery-reports.test.ts). Intermediate states (queued, sent, buffered,
// accepted…) give no report: only a final word moves a delivery.
//
// Verification is the inbound adapters' own (src/providers/*): each provider signs its delivery
// reports exactly as it signs inbound messages (Twilio X-Twilio-Signature over our URL and the
// form; Vonage `sig`; Plivo V3; Telnyx Ed25519; Bird and MessageBird signatures; the generic
// provider's Standard Webhooks), and the unsigned ones (Sinch, Infobip, smsmode) are called on
// `/v1/delivery-reports/<provider>/<token>` with the same path tokens. Verify first, parse second.
import { z } from "zod";
import { parseJsonBody } from "../providers/generic/adapter.js";
import { invalidPayload, parseProviderTimestamp } from "../providers/payload.js";
import type { InboundRequest } from "../providers/provider.js";
import type { ProviderName } from "../providers/registry.js";
import { AppError } from "../shared/errors.js";

export type DeliveryReport = {
  /** The provider's id of the message (as its send answer gave it). */
  providerMessageId: string | undefined;
  /** Our message id, where the provider echoes the client reference we sent. */
  reference?: string;
  status: "delivered" | "failed";
  at: Date;
  errorCode?: string;
};

type Fields = Record<string, string>;

const ID = z.string().min(1).max(200).regex(/^[^\u0000-\u001f\u007f]+$/u, "must not contain control characters");

/** Form body (POST) or query (GET), first value of each name. */
function formFields(request: InboundRequest): Fields {
  const text = request.method === "GET" ? new URL(request.publicUrl).search.slice(1) : request.rawBody.toString("utf8");
  const out: Fields = {};
  for (const [name, value] of new URLSearchParams(text)) if (!(name in out)) out[name] = value;
  return out;
}

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

const code = (value: unknown) => (value === undefined || value === null || value === "" ? undefined : String(value).slice(0, 64));
const withCode = (errorCode: string | undefined) => (errorCode && errorCode !== "0" && errorCode !== "000" ? { errorCode } : {});

/** Reads a list of statuses into delivered / failed / nothing (intermediate). */
const finalOf = (delivered: readonly string[], failed: readonly string[]) => (status: string) =>
  delivered.includes(status) ? ("delivered" as const) : failed.includes(status) ? ("failed" as const) : undefined;

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidPayload(what, parsed.error);
  return parsed.data;
}

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

/**
 * Plivo message status callback (https://www.plivo.com/docs/messaging/api/message#message-states):
 * form with MessageUUID, Status (queued, sent, failed, delivered, undelivered, rejected), ErrorCode.
 */
export function parsePlivoReport(request: InboundRequest): DeliveryReport[] {
  const f = parseWith(z.object({ MessageUUID: ID, Status: z.string().max(40), ErrorCode: z.string().max(20).optional() }), formFields(request), "Plivo status callback");
  const status = finalOf(["delivered", "read"], ["failed", "undelivered", "rejected"])(f.Status);
  return status ? [{ providerMessageId: f.MessageUUID, status, at: request.receivedAt, ...withCode(f.ErrorCode) }] : [];
}

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

/** Generic provider (PRODUCT.md): signed JSON `{ messageId, status: "delivered" | "failed" }`. */
export const genericReportSchema = z.strictObject({ messageId: ID, status: z.enum(["delivered", "failed"]) });

export function parseGenericReport(request: InboundRequest): DeliveryReport[] {
  const r = parseWith(genericReportSchema, parseJsonBody(request), "generic delivery report");
  // Our message id is the generic provider's id (it is what we sent as messageId).
  return [{ providerMessageId: r.messageId, reference: r.messageId, status: r.status, at: request.receivedAt }];
}

export const DELIVERY_REPORT_PARSERS: Record<ProviderName, (request: InboundRequest) => DeliveryReport[]> = {
  generic: parseGenericReport,
  twilio: parseTwilioReport,
  vonage: parseVonageReport,
  plivo: parsePlivoReport,
  telnyx: parseTelnyxReport,
  sinch: parseSinchReport,
  infobip: parseInfobipReport,
  smsmode: parseSmsmodeReport,
  bird: parseBirdReport,
  messagebird: parseMessageBirdReport,
};
