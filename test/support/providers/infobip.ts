// Builds Infobip inbound SMS forwards (renderer MO_JSON_2) as Infobip sends them, for tests. Infobip
// signs nothing: a request is "signed" by the secret token at the end of its path.
import { inboundPath, type PathTokenRequest } from "./path-token.js";

export type InfobipInbound = {
  messageId: string;
  from: string;
  to: string;
  text?: string;
  cleanText?: string;
  keyword?: string;
  receivedAt: string;
  smsCount: number;
  price: { pricePerMessage: number; currency: string };
  callbackData?: string;
};

export type InfobipBatch = { results: InfobipInbound[]; messageCount: number; pendingMessageCount: number };

/** Infobip's timestamp spelling: milliseconds and a `+0000` offset without colon. */
export function formatInfobipTimestamp(date: Date): string {
  return date.toISOString().replace("Z", "+0000");
}

let counter = 0;
export function infobipMessageId(): string {
  counter += 1;
  return `817790313235066447${String(counter).padStart(4, "0")}`;
}

/** One inbound message as documented: bare-digit numbers, keyword split off into `cleanText`. */
export function infobipInbound(input: { from: string; to: string; text: string; messageId?: string; receivedAt: Date; keyword?: string; smsCount?: number }): InfobipInbound {
  const keyword = input.keyword ?? "";
  const cleanText = keyword && input.text.toUpperCase().startsWith(keyword.toUpperCase()) ? input.text.slice(keyword.length).trimStart() : input.text;
  return {
    messageId: input.messageId ?? infobipMessageId(),
    from: input.from.replace(/^\+/, ""),
    to: input.to.replace(/^\+/, ""),
    text: input.text,
    cleanText,
    keyword,
    receivedAt: formatInfobipTimestamp(input.receivedAt),
    smsCount: input.smsCount ?? 1,
    price: { pricePerMessage: 0, currency: "EUR" },
  };
}

export function infobipBatch(results: InfobipInbound[]): InfobipBatch {
  return { results, messageCount: results.length, pendingMessageCount: 0 };
}

/** The request Infobip would send for this payload to our URL holding `token`. */
export function signInfobipRequest(options: { token: string | undefined; payload: unknown }): PathTokenRequest {
  return {
    method: "POST",
    path: inboundPath("infobip", options.token),
    headers: { "content-type": "application/json" },
    body: typeof options.payload === "string" ? options.payload : JSON.stringify(options.payload),
  };
}
