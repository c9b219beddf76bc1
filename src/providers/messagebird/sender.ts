// MessageBird SMS API (legacy numbers), "Send outbound SMS"
// (https://developers.messagebird.com/api/sms-messaging/#send-outbound-sms; the official `messagebird`
// SDK's `messages.create`):
//   POST {base}/messages, Authorization: AccessKey <key>, application/json
//   { originator (our number, digits), recipients: [digits], body, reference (our message id),
//     reportUrl (status reports for this message), datacoding: "auto" (plain when GSM-7 fits) }
// Answer: 201 with the message (`id`); errors `{ errors: [ { code, description, parameter } ] }`
// with 401/422. Status reports are GET requests to reportUrl, signed (MessageBird-Signature-JWT).
import { isClientRefusal, digitsOnly, isRecord, joinUrl, parseJsonSafe, shortReason, type HttpRequest, type OutboundSms, type ProviderProtocol, type SendResult } from "../../outbound/sms-sender.js";

export type MessageBirdSendSettings = {
  accessKey: string | undefined;
  baseUrl: string;
  reportUrl: string | undefined;
};

export function buildMessageBirdRequest(s: MessageBirdSendSettings, sms: OutboundSms): HttpRequest {
  return {
    method: "POST",
    url: joinUrl(s.baseUrl, "/messages"),
    headers: { authorization: `AccessKey ${s.accessKey ?? ""}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({
      originator: digitsOnly(sms.from),
      recipients: [digitsOnly(sms.to)],
      body: sms.text,
      reference: sms.messageId,
      ...(s.reportUrl ? { reportUrl: s.reportUrl } : {}),
      datacoding: "auto",
    }),
  };
}

export function readMessageBirdAnswer(status: number, body: string): SendResult | undefined {
  const json = parseJsonSafe(body);
  if (status >= 200 && status < 300) {
    return { kind: "accepted", status, providerMessageId: isRecord(json) && typeof json.id === "string" ? json.id : undefined };
  }
  if (isClientRefusal(status) && isRecord(json) && Array.isArray(json.errors)) {
    const first = isRecord(json.errors[0]) ? json.errors[0] : {};
    const code = first.code === undefined ? undefined : String(first.code);
    return { kind: "refused", status, reason: shortReason(`MessageBird ${code ?? status}: ${String(first.description ?? "")}`), ...(code ? { errorCode: code } : {}) };
  }
  return undefined;
}

export const messageBirdProtocol: ProviderProtocol<MessageBirdSendSettings> = {
  provider: "messagebird",
  missing: (s) => (!s.accessKey ? "MESSAGEBIRD_ACCESS_KEY" : undefined),
  build: buildMessageBirdRequest,
  read: readMessageBirdAnswer,
};
