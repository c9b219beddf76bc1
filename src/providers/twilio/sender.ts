// Twilio Programmable Messaging, "Create a Message resource"
// (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
//   POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json
//   HTTP Basic AccountSid:AuthToken, application/x-www-form-urlencoded
//   To, From (E.164), Body, StatusCallback (where Twilio posts queued/sent/delivered/undelivered/failed)
// Answer: 201 with the Message resource (`sid`); errors: JSON `{ code, message, status }` with the
// HTTP status (400 for a refused number, e.g. 21211 invalid To, 21610 unsubscribed recipient).
// Twilio keeps no idempotency key for this request: a retry after an unknown outcome may send twice.
// Twilio detects the encoding itself (GSM-7 or UCS-2); our texts are built to fit one segment.
import { isClientRefusal, basicAuth, isRecord, joinUrl, parseJsonSafe, shortReason, type HttpRequest, type OutboundSms, type ProviderProtocol, type SendResult } from "../../outbound/sms-sender.js";

export type TwilioSendSettings = {
  accountSid: string | undefined;
  authToken: string | undefined;
  baseUrl: string;
  /** Our delivery-report URL (`/v1/delivery-reports/twilio`), sent as StatusCallback. */
  statusCallbackUrl: string | undefined;
};

export function buildTwilioRequest(s: TwilioSendSettings, sms: OutboundSms): HttpRequest {
  const form = new URLSearchParams({ To: sms.to, From: sms.from, Body: sms.text });
  if (s.statusCallbackUrl) form.set("StatusCallback", s.statusCallbackUrl);
  return {
    method: "POST",
    url: joinUrl(s.baseUrl, `/2010-04-01/Accounts/${encodeURIComponent(s.accountSid ?? "")}/Messages.json`),
    headers: {
      authorization: basicAuth(s.accountSid ?? "", s.authToken ?? ""),
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    },
    body: form.toString(),
  };
}

export function readTwilioAnswer(status: number, body: string): SendResult | undefined {
  const json = parseJsonSafe(body);
  if (status >= 200 && status < 300) {
    const sid = isRecord(json) && typeof json.sid === "string" ? json.sid : undefined;
    return { kind: "accepted", providerMessageId: sid, status };
  }
  if (isClientRefusal(status) && isRecord(json)) {
    const code = json.code === undefined ? undefined : String(json.code);
    return { kind: "refused", status, reason: shortReason(`Twilio ${code ?? status}: ${String(json.message ?? "")}`), ...(code ? { errorCode: code } : {}) };
  }
  return undefined;
}

export const twilioProtocol: ProviderProtocol<TwilioSendSettings> = {
  provider: "twilio",
  missing: (s) => (!s.accountSid ? "TWILIO_ACCOUNT_SID" : !s.authToken ? "TWILIO_AUTH_TOKEN" : undefined),
  build: buildTwilioRequest,
  read: readTwilioAnswer,
};
