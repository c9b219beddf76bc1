// Builds smsmode inbound requests as smsmode sends them, for tests: the HTTP API reply callback
// (GET with a query) and the REST webhook (POST JSON). smsmode signs nothing: a request is
// "signed" by the secret token at the end of its path.
//
// Field meanings of the reply callback, from smsmode's "Documentation technique API HTTP" 2.7 (FR,
// §12), 3.4 (EN, §13) and 3.5 (FR): `numero` is "the sMsmode number to which the reply has been
// sent (not to be confused with emetteur)", i.e. OUR number or short code; `emetteur` is the
// "MSISDN of the person who replied", i.e. the user. Version 2.7 has no `responseID`.
import { inboundPath, type PathTokenRequest } from "./path-token.js";

export type SmsmodeReply = {
  numero?: string;
  message?: string;
  emetteur?: string;
  responseID?: string;
  date_reception?: string;
  smsID?: string;
  refClient?: string;
  [other: string]: string | undefined;
};

export type SmsmodeRestMessage = {
  messageId: string;
  direction: string;
  from: string;
  recipient?: { to: string };
  to?: string;
  body: { text: string; encoding?: string; messagePartCount?: number; length?: number };
  sentDate?: string;
  channel?: { type: string };
  [other: string]: unknown;
};

/** `ddMMyyyy-HHmmss` in Europe/Paris wall-clock time, as the HTTP API writes `date_reception`. */
export function formatSmsmodeReceptionDate(date: Date): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.day}${parts.month}${parts.year}-${parts.hour}${parts.minute}${parts.second}`;
}

let counter = 0;
export function smsmodeId(): string {
  counter += 1;
  return `${Date.now().toString(36)}${String(counter).padStart(6, "0")}`;
}

/**
 * A reply callback: `emetteur` the user (bare digits), `numero` our number (bare digits) or short
 * code, a Paris-time reception date. `responseID: null` leaves it out, as version 2.7 does.
 */
export function smsmodeReply(input: { from: string; to: string; text: string; responseID?: string | null; receivedAt: Date }): SmsmodeReply {
  return {
    numero: input.to.replace(/^\+/, ""),
    message: input.text,
    emetteur: input.from.replace(/^\+/, ""),
    date_reception: formatSmsmodeReceptionDate(input.receivedAt),
    smsID: "",
    refClient: "",
    ...(input.responseID === null ? {} : { responseID: input.responseID ?? smsmodeId() }),
  };
}

/** A REST webhook for an SMS MO: the user in `from`, our number in `recipient.to`. */
export function smsmodeRestMo(input: { from: string; to: string; text: string; messageId?: string; receivedAt: Date }): SmsmodeRestMessage {
  return {
    messageId: input.messageId ?? smsmodeId(),
    direction: "MO",
    channel: { type: "SMS" },
    from: input.from.replace(/^\+/, ""),
    recipient: { to: input.to.replace(/^\+/, "") },
    body: { text: input.text, encoding: "GSM7", messagePartCount: 1, length: input.text.length },
    sentDate: input.receivedAt.toISOString(),
  };
}

/** Percent-encodes text as ISO-8859-15 bytes (the HTTP API's encoding). */
function encodeLatin9(text: string): string {
  const latin9: Record<string, number> = { "€": 0xa4, Š: 0xa6, š: 0xa8, Ž: 0xb4, ž: 0xb8, Œ: 0xbc, œ: 0xbd, Ÿ: 0xbe };
  return [...text]
    .map((c) => {
      const code = latin9[c] ?? c.charCodeAt(0);
      if (code > 0xff) throw new Error(`${c} has no ISO-8859-15 byte`);
      return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${code.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}

/** The request smsmode would send for this payload to our URL holding `token`. */
export function signSmsmodeRequest(
  options: { token: string | undefined } & ({ format: "reply"; query: SmsmodeReply; encoding?: "utf-8" | "iso-8859-15" } | { format: "rest"; payload: unknown }),
): PathTokenRequest {
  const path = inboundPath("smsmode", options.token);
  if (options.format === "rest") {
    return {
      method: "POST",
      path,
      headers: { "content-type": "application/json" },
      body: typeof options.payload === "string" ? options.payload : JSON.stringify(options.payload),
    };
  }
  const encode = options.encoding === "iso-8859-15" ? encodeLatin9 : encodeURIComponent;
  const query = Object.entries(options.query)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encode(value)}`)
    .join("&");
  return { method: "GET", path: `${path}?${query}`, headers: {}, body: "" };
}
