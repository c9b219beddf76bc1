// Sinch SMS REST API, "Send" a batch (https://developers.sinch.com/docs/sms/api-reference/sms/batches,
// the `TextRequest` type of the official `@sinch/sms` SDK):
//   POST {base}/xms/v1/{service_plan_id}/batches, Authorization: Bearer <API token>, application/json
//   { from, to: [E.164], body, type: "mt_text", delivery_report: "per_recipient",
//     callback_url (delivery reports for this batch), client_reference (our message id) }
//   The base is regional: https://us.sms.api.sinch.com (default), eu., au., br., ca.
// Answer: 201 with the batch (`id`); errors `{ code, text }` with 400/403/404, 429 throttled.
// Sinch chooses GSM or Unicode itself. No idempotency key: see docs/sending.md.
import { isClientRefusal, isRecord, joinUrl, parseJsonSafe, shortReason, type HttpRequest, type OutboundSms, type ProviderProtocol, type SendResult } from "../../outbound/sms-sender.js";

export type SinchSendSettings = {
  servicePlanId: string | undefined;
  apiToken: string | undefined;
  baseUrl: string;
  callbackUrl: string | undefined;
};

export function buildSinchRequest(s: SinchSendSettings, sms: OutboundSms): HttpRequest {
  return {
    method: "POST",
    url: joinUrl(s.baseUrl, `/xms/v1/${encodeURIComponent(s.servicePlanId ?? "")}/batches`),
    headers: { authorization: `Bearer ${s.apiToken ?? ""}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({
      from: sms.from,
      to: [sms.to],
      body: sms.text,
      type: "mt_text",
      delivery_report: "per_recipient",
      ...(s.callbackUrl ? { callback_url: s.callbackUrl } : {}),
      client_reference: sms.messageId,
    }),
  };
}

export function readSinchAnswer(status: number, body: string): SendResult | undefined {
  const json = parseJsonSafe(body);
  if (status >= 200 && status < 300) {
    return { kind: "accepted", status, providerMessageId: isRecord(json) && typeof json.id === "string" ? json.id : undefined };
  }
  if (isClientRefusal(status) && isRecord(json) && json.code !== undefined) {
    return { kind: "refused", status, errorCode: String(json.code), reason: shortReason(`Sinch ${String(json.code)}: ${String(json.text ?? "")}`) };
  }
  return undefined;
}

export const sinchProtocol: ProviderProtocol<SinchSendSettings> = {
  provider: "sinch",
  missing: (s) => (!s.servicePlanId ? "SINCH_SERVICE_PLAN_ID" : !s.apiToken ? "SINCH_API_TOKEN" : undefined),
  build: buildSinchRequest,
  read: readSinchAnswer,
};
