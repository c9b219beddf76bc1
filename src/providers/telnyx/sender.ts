// Telnyx Messaging, "Send a message" (https://developers.telnyx.com/api/messaging/send-message):
//   POST {base}/v2/messages, Authorization: Bearer <API key>, application/json
//   { from, to (E.164), text, webhook_url (per-message status webhooks: message.sent, message.finalized) }
// Answer: 200 `{ data: { id, … } }`; errors `{ errors: [{ code, title, detail }] }` with 4xx
// (401 key, 422 validation) or 429/5xx. Telnyx picks GSM-7 or UCS-2 itself. No idempotency key.
import { isClientRefusal, isRecord, joinUrl, parseJsonSafe, shortReason, type HttpRequest, type OutboundSms, type ProviderProtocol, type SendResult } from "../../outbound/sms-sender.js";

export type TelnyxSendSettings = {
  apiKey: string | undefined;
  baseUrl: string;
  webhookUrl: string | undefined;
};

export function buildTelnyxRequest(s: TelnyxSendSettings, sms: OutboundSms): HttpRequest {
  return {
    method: "POST",
    url: joinUrl(s.baseUrl, "/v2/messages"),
    headers: { authorization: `Bearer ${s.apiKey ?? ""}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ from: sms.from, to: sms.to, text: sms.text, ...(s.webhookUrl ? { webhook_url: s.webhookUrl } : {}) }),
  };
}

export function readTelnyxAnswer(status: number, body: string): SendResult | undefined {
  const json = parseJsonSafe(body);
  if (status >= 200 && status < 300) {
    const id = isRecord(json) && isRecord(json.data) && typeof json.data.id === "string" ? json.data.id : undefined;
    return { kind: "accepted", status, providerMessageId: id };
  }
  if (isClientRefusal(status) && isRecord(json) && Array.isArray(json.errors)) {
    const first = isRecord(json.errors[0]) ? json.errors[0] : {};
    const code = first.code === undefined ? undefined : String(first.code);
    return { kind: "refused", status, reason: shortReason(`Telnyx ${code ?? status}: ${String(first.title ?? "")} ${String(first.detail ?? "")}`.trim()), ...(code ? { errorCode: code } : {}) };
  }
  return undefined;
}

export const telnyxProtocol: ProviderProtocol<TelnyxSendSettings> = {
  provider: "telnyx",
  missing: (s) => (!s.apiKey ? "TELNYX_API_KEY" : undefined),
  build: buildTelnyxRequest,
  read: readTelnyxAnswer,
};
