// Vonage SMS API, "Send an SMS" (https://developer.vonage.com/en/api/sms#send-an-sms; answers and
// status codes: https://developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms):
//   POST {base}/sms/json, application/x-www-form-urlencoded (the API takes form or JSON)
//   api_key, api_secret, from, to (international digits without `+`), text,
//   type=unicode when the text is not GSM-7 (text otherwise), client-ref (our message id, shown in
//   the delivery receipt), callback (the delivery-receipt URL for this message)
// Answer: HTTP 200 whatever happened; `messages[0].status` "0" is success with `message-id`;
// "1" Throttled and "5" Internal Error are worth a retry; every other status refuses this message
// (2 missing, 3 invalid parameters, 4 invalid credentials, 6 invalid message, 7 number barred,
// 8 account barred, 9 quota, 15 invalid sender…). No idempotency key: see docs/sending.md.
import { isGsm7 } from "../../outbound/gsm7.js";
import { digitsOnly, isRecord, joinUrl, parseJsonSafe, shortReason, type HttpRequest, type OutboundSms, type ProviderProtocol, type SendResult } from "../../outbound/sms-sender.js";

export type VonageSendSettings = {
  apiKey: string | undefined;
  apiSecret: string | undefined;
  baseUrl: string;
  deliveryReceiptUrl: string | undefined;
};

/** Vonage SMS API status codes worth a retry. */
const RETRYABLE_STATUSES = new Set(["1", "5"]);

export function buildVonageRequest(s: VonageSendSettings, sms: OutboundSms): HttpRequest {
  const form = new URLSearchParams({
    api_key: s.apiKey ?? "",
    api_secret: s.apiSecret ?? "",
    from: digitsOnly(sms.from),
    to: digitsOnly(sms.to),
    text: sms.text,
    type: isGsm7(sms.text) ? "text" : "unicode",
    "client-ref": sms.messageId,
  });
  if (s.deliveryReceiptUrl) form.set("callback", s.deliveryReceiptUrl);
  return {
    method: "POST",
    url: joinUrl(s.baseUrl, "/sms/json"),
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: form.toString(),
  };
}

export function readVonageAnswer(status: number, body: string): SendResult | undefined {
  if (status !== 200) return undefined;
  const json = parseJsonSafe(body);
  const first = isRecord(json) && Array.isArray(json.messages) && isRecord(json.messages[0]) ? json.messages[0] : undefined;
  if (!first) return { kind: "retryable", status, reason: "Vonage answered 200 without a messages array" };
  const code = String(first.status ?? "");
  const text = shortReason(`Vonage status ${code}: ${String(first["error-text"] ?? "")}`);
  if (code === "0") {
    return { kind: "accepted", status, providerMessageId: typeof first["message-id"] === "string" ? first["message-id"] : undefined };
  }
  if (RETRYABLE_STATUSES.has(code)) return { kind: "retryable", status, reason: text };
  return { kind: "refused", status, reason: text, errorCode: code };
}

export const vonageProtocol: ProviderProtocol<VonageSendSettings> = {
  provider: "vonage",
  missing: (s) => (!s.apiKey ? "VONAGE_API_KEY" : !s.apiSecret ? "VONAGE_API_SECRET" : undefined),
  build: buildVonageRequest,
  read: readVonageAnswer,
};
