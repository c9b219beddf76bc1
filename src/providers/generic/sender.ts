// The generic provider, outbound (PRODUCT.md, "Generic provider, outbound"): a POST of JSON
// `{ messageId, from, to, text }` to GENERIC_OUTBOUND_URL, signed per Standard Webhooks with the
// first GENERIC_WEBHOOK_SECRET (`webhook-id` = messageId, `webhook-timestamp`, `webhook-signature`).
// Any 2xx means accepted. The `webhook-id` is the same on every attempt of one message, so a
// gateway that drops repeated ids (as the Standard Webhooks specification asks receivers to) sends
// each message once even when our first attempt's answer was lost.
import { signStandardWebhook } from "../standard-webhooks.js";
import type { HttpRequest, OutboundSms, ProviderProtocol } from "../../outbound/sms-sender.js";

export type GenericSendSettings = {
  url: string | undefined;
  secret: string | undefined;
  now: () => Date;
};

export function buildGenericRequest(s: GenericSendSettings, sms: OutboundSms): HttpRequest {
  const body = JSON.stringify({ messageId: sms.messageId, from: sms.from, to: sms.to, text: sms.text });
  const timestamp = Math.floor(s.now().getTime() / 1000);
  return {
    method: "POST",
    url: s.url ?? "",
    headers: {
      "content-type": "application/json",
      "user-agent": "reverse-otp",
      "webhook-id": sms.messageId,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signStandardWebhook(s.secret ?? "", sms.messageId, timestamp, body),
    },
    body,
  };
}

export const genericProtocol: ProviderProtocol<GenericSendSettings> = {
  provider: "generic",
  missing: (s) => (!s.url ? "GENERIC_OUTBOUND_URL" : !s.secret ? "GENERIC_WEBHOOK_SECRET" : undefined),
  build: buildGenericRequest,
  // Any 2xx is accepted; the gateway's id is our messageId (its delivery reports name it).
  read: (status, _body, sms) => (status >= 200 && status < 300 ? { kind: "accepted", status, providerMessageId: sms.messageId } : undefined),
};
