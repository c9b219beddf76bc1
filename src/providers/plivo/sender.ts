// Plivo Messaging, "Send a message" (https://www.plivo.com/docs/messaging/api/message/send-a-message):
//   POST {base}/v1/Account/{auth_id}/Message/, HTTP Basic auth_id:auth_token, application/json
//   { src, dst, text, type: "sms", url (status callback), method: "POST" }
//   Numbers as international digits (Plivo accepts them with or without `+`; its SDK sends what it is given).
// Answer: 202 `{ api_id, message, message_uuid: [uuid] }`; errors: JSON `{ api_id, error }` with 400
// (invalid parameters), 401 (credentials), 402 (credit), 403 (geo permission), 404.
// Plivo detects the encoding (GSM or Unicode) itself. No idempotency key: see docs/sending.md.
import { isClientRefusal, basicAuth, digitsOnly, isRecord, joinUrl, parseJsonSafe, shortReason, type HttpRequest, type OutboundSms, type ProviderProtocol, type SendResult } from "../../outbound/sms-sender.js";

export type PlivoSendSettings = {
  authId: string | undefined;
  authToken: string | undefined;
  baseUrl: string;
  statusCallbackUrl: string | undefined;
};

export function buildPlivoRequest(s: PlivoSendSettings, sms: OutboundSms): HttpRequest {
  return {
    method: "POST",
    url: joinUrl(s.baseUrl, `/v1/Account/${encodeURIComponent(s.authId ?? "")}/Message/`),
    headers: { authorization: basicAuth(s.authId ?? "", s.authToken ?? ""), "content-type": "application/json" },
    body: JSON.stringify({
      src: digitsOnly(sms.from),
      dst: digitsOnly(sms.to),
      text: sms.text,
      type: "sms",
      ...(s.statusCallbackUrl ? { url: s.statusCallbackUrl, method: "POST" } : {}),
    }),
  };
}

export function readPlivoAnswer(status: number, body: string): SendResult | undefined {
  const json = parseJsonSafe(body);
  if (status >= 200 && status < 300) {
    const uuids = isRecord(json) && Array.isArray(json.message_uuid) ? json.message_uuid : [];
    return { kind: "accepted", status, providerMessageId: typeof uuids[0] === "string" ? uuids[0] : undefined };
  }
  if (isClientRefusal(status) && isRecord(json) && json.error !== undefined) {
    return { kind: "refused", status, reason: shortReason(`Plivo ${status}: ${String(json.error)}`) };
  }
  return undefined;
}

export const plivoProtocol: ProviderProtocol<PlivoSendSettings> = {
  provider: "plivo",
  missing: (s) => (!s.authId ? "PLIVO_AUTH_ID" : !s.authToken ? "PLIVO_AUTH_TOKEN" : undefined),
  build: buildPlivoRequest,
  read: readPlivoAnswer,
};
