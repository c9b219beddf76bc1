// smsmode HTTP API 1.6, "sendSMS" (https://www.smsmode.com/documentation-api-http/, the PDF
// "Technical documentation API HTTP"; the site's own example request):
//   POST {base}/http/1.6/sendSMS.do, application/x-www-form-urlencoded, the text in ISO-8859-15
//   accessToken, message, numero (recipient, international digits), emetteur (the sender: our
//   number, digits), refClient (our message id), notification_url (delivery-report callback)
// Answer: plain text `code | description | smsID`: 0 accepted (the smsID is smsmode's id),
// 31 internal error and 50 temporarily unavailable are retried, others refuse the message
// (32 authentication, 33 credit, 35 missing or invalid parameter…). An unknown code refuses too.
// The 1.6 API takes ISO-8859-15 only: a text outside it is refused before sending (our own wording
// is within it; an app name in another script is not).
import { digitsOnly, joinUrl, shortReason, type HttpRequest, type OutboundSms, type ProviderProtocol, type SendResult } from "../../outbound/sms-sender.js";

export type SmsmodeSendSettings = {
  accessToken: string | undefined;
  baseUrl: string;
  notificationUrl: string | undefined;
};

/** ISO-8859-15 differs from Latin-1 in eight places. */
const LATIN9_SPECIAL: Record<string, number> = { "€": 0xa4, Š: 0xa6, š: 0xa8, Ž: 0xb4, ž: 0xb8, Œ: 0xbc, œ: 0xbd, Ÿ: 0xbe };
const LATIN1_ONLY = new Set([0xa4, 0xa6, 0xa8, 0xb4, 0xb8, 0xbc, 0xbd, 0xbe]);

/** The text in ISO-8859-15 bytes; throws on a character the charset lacks. */
export function encodeLatin9(text: string): Buffer {
  const bytes: number[] = [];
  for (const ch of text) {
    const special = LATIN9_SPECIAL[ch];
    const code = ch.codePointAt(0)!;
    if (special !== undefined) bytes.push(special);
    else if (code <= 0xff && !LATIN1_ONLY.has(code)) bytes.push(code);
    else throw new RangeError(`the character U+${code.toString(16).toUpperCase().padStart(4, "0")} is not in ISO-8859-15`);
  }
  return Buffer.from(bytes);
}

/** Form encoding of bytes (application/x-www-form-urlencoded over ISO-8859-15). */
function formComponent(bytes: Buffer): string {
  let out = "";
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    out += /[A-Za-z0-9*\-._]/.test(ch) ? ch : b === 0x20 ? "+" : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function buildSmsmodeRequest(s: SmsmodeSendSettings, sms: OutboundSms): HttpRequest {
  const fields: [string, string][] = [
    ["accessToken", s.accessToken ?? ""],
    ["message", sms.text],
    ["numero", digitsOnly(sms.to)],
    ["emetteur", digitsOnly(sms.from)],
    ["refClient", sms.messageId],
    ...(s.notificationUrl ? ([["notification_url", s.notificationUrl]] as [string, string][]) : []),
  ];
  const body = fields.map(([name, value]) => `${name}=${formComponent(encodeLatin9(value))}`).join("&");
  return {
    method: "POST",
    url: joinUrl(s.baseUrl, "/http/1.6/sendSMS.do"),
    headers: { "content-type": "application/x-www-form-urlencoded; charset=ISO-8859-15" },
    body,
  };
}

const RETRYABLE_CODES = new Set(["31", "50"]);

export function readSmsmodeAnswer(status: number, body: string): SendResult | undefined {
  if (status < 200 || status >= 300) return undefined;
  const parts = body.trim().split("|").map((p) => p.trim());
  const code = parts[0] ?? "";
  if (code === "0") return { kind: "accepted", status, providerMessageId: parts.length >= 3 && parts.at(-1) ? parts.at(-1) : undefined };
  const reason = shortReason(`smsmode ${body.trim() || "(empty answer)"}`);
  if (RETRYABLE_CODES.has(code)) return { kind: "retryable", status, reason };
  return { kind: "refused", status, reason, errorCode: code };
}

export const smsmodeProtocol: ProviderProtocol<SmsmodeSendSettings> = {
  provider: "smsmode",
  missing: (s) => (!s.accessToken ? "SMSMODE_ACCESS_TOKEN" : undefined),
  build: buildSmsmodeRequest,
  read: readSmsmodeAnswer,
};
