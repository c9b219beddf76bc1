// Infobip SMS, "Send SMS message" (fully featured) as the official `@infobip-api/sdk` sends it
// (https://www.infobip.com/docs/api/channels/sms/sms-messaging/outbound-sms/send-sms-message):
//   POST {base}/sms/2/text/advanced, Authorization: App <API key>, application/json
//   { messages: [ { from, destinations: [ { to, messageId } ], text, notifyUrl, notifyContentType } ] }
//   The base URL is personal to each account (`https://xxxxx.api.infobip.com`). Numbers as
//   international digits. `messageId` is ours (the outbox id): delivery reports carry it back.
// Answer: 200 `{ bulkId, messages: [ { to, status: { groupId, groupName, id, name, description }, messageId } ] }`;
// status group PENDING (1) is accepted, REJECTED (5) refuses the message. Errors:
// `{ requestError: { serviceException: { messageId, text } } }` with 400/401/403.
import { isClientRefusal, digitsOnly, isRecord, joinUrl, parseJsonSafe, shortReason, type HttpRequest, type OutboundSms, type ProviderProtocol, type SendResult } from "../../outbound/sms-sender.js";

export type InfobipSendSettings = {
  apiKey: string | undefined;
  baseUrl: string | undefined;
  notifyUrl: string | undefined;
};

export function buildInfobipRequest(s: InfobipSendSettings, sms: OutboundSms): HttpRequest {
  return {
    method: "POST",
    url: joinUrl(s.baseUrl ?? "", "/sms/2/text/advanced"),
    headers: { authorization: `App ${s.apiKey ?? ""}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({
      messages: [
        {
          from: digitsOnly(sms.from),
          destinations: [{ to: digitsOnly(sms.to), messageId: sms.messageId }],
          text: sms.text,
          ...(s.notifyUrl ? { notifyUrl: s.notifyUrl, notifyContentType: "application/json" } : {}),
        },
      ],
    }),
  };
}

export function readInfobipAnswer(status: number, body: string): SendResult | undefined {
  const json = parseJsonSafe(body);
  if (status >= 200 && status < 300) {
    const first = isRecord(json) && Array.isArray(json.messages) && isRecord(json.messages[0]) ? json.messages[0] : undefined;
    const group = first && isRecord(first.status) ? String(first.status.groupName ?? "") : "";
    if (group === "REJECTED") {
      const name = first && isRecord(first.status) ? String(first.status.name ?? "") : "";
      return { kind: "refused", status, errorCode: name, reason: shortReason(`Infobip rejected the message: ${name}`) };
    }
    return { kind: "accepted", status, providerMessageId: first && typeof first.messageId === "string" ? first.messageId : undefined };
  }
  if (isClientRefusal(status) && isRecord(json) && isRecord(json.requestError)) {
    const exception = isRecord(json.requestError.serviceException) ? json.requestError.serviceException : {};
    return { kind: "refused", status, reason: shortReason(`Infobip ${String(exception.messageId ?? status)}: ${String(exception.text ?? "")}`) };
  }
  return undefined;
}

export const infobipProtocol: ProviderProtocol<InfobipSendSettings> = {
  provider: "infobip",
  missing: (s) => (!s.apiKey ? "INFOBIP_API_KEY" : !s.baseUrl ? "INFOBIP_API_BASE_URL" : undefined),
  build: buildInfobipRequest,
  read: readInfobipAnswer,
};
