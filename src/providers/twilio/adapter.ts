// Twilio Programmable Messaging: the inbound SMS webhook ("A message comes in" on a number or a
// Messaging Service), POST form-urlencoded, or GET when the console is set to HTTP GET.
//
// Signature (https://www.twilio.com/docs/usage/security#validating-requests and
// https://www.twilio.com/docs/usage/webhooks/webhooks-security):
//   X-Twilio-Signature = Base64(HMAC-SHA1(auth token, URL + for each POST parameter sorted by name: name + value))
// - The URL is the one configured at Twilio, with its query. We rebuild it from PUBLIC_BASE_URL plus
//   the path and query we received (`request.publicUrl`), never from `Host`, which a proxy or an
//   attacker sets.
// - GET: Twilio puts the parameters in the query string and signs the URL only (nothing appended).
// - POST: the parameters are the decoded form fields, not the body bytes: two spellings of one form
//   (`+` or `%20` for a space) carry one signature. What reaches `parse` is decoded the same way.
// - Ports: Twilio has dropped the port of HTTPS URLs when signing at some times and kept it at others
//   (https://www.twilio.com/docs/usage/security#notes; twilio-python#392, #402). Like twilio-node's
//   `validateRequest`, we try the URL as received, without its port and with the scheme's default
//   port. All three name the same endpoint, so this widens nothing an attacker could use.
//   twilio-node then also tries re-encoded spellings of the URL (`new URL()`, legacy querystring);
//   we do not: our URL is the configured base plus the bytes Twilio sent, and a re-encoding fallback
//   would let one signature cover query strings that our parser reads differently.
// - Connection overrides (`#ct=…&rc=…`, https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides)
//   are a URL fragment: never sent over HTTP, so they cannot be part of what we check. Twilio's
//   docs do not say whether the fragment is signed; set-ups validated with twilio-node (which has
//   no fragment handling either) work, so we rely on it being left out. See docs/providers/twilio.md.
// - No timestamp is signed: a captured request stays valid forever. Replay safety rests entirely
//   on the core's dedup of (provider, MessageSid): a replay is answered 200 and changes nothing.
//   Twilio retries (connection overrides `rc`) with the same MessageSid, so dedup covers them too.
// - Names and values are concatenated without separators, so a captured request could be cut
//   into other parameters under the same signature (a new MessageSid that dedup does not know, or
//   a sender written into the body): after the signature matched, resplit.ts refuses any request
//   that reads as other parameters than Twilio's (MessageSid of Twilio's form, no other id, names
//   of Twilio's form, `From` only where Twilio puts it).
//
// Answer: 200 with empty TwiML. We never reply by SMS (no oracle for code guessers, no cost).
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import type { InboundRequest, ProviderMessage, SyncProviderAdapter, VerifyResult } from "../provider.js";
import { invalidPayload } from "../payload.js";
import { messageIdProblem, resplitProblem, TWILIO_RESPLIT_RULES, twilioSegments } from "../resplit.js";

export type TwilioSettings = { authTokens: readonly string[] };

export const TWILIO_SIGNATURE_HEADER = "x-twilio-signature";
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

/** HMAC-SHA1 digests are 20 bytes: 28 Base64 characters. */
const SIGNATURE_BYTES = 20;
const MAX_SIGNATURE_HEADER_CHARS = 100;

type Param = readonly [name: string, value: string];

/** Form fields in order, decoded as a browser (and Twilio) encodes them: `+` is a space. */
function formParams(text: string): Param[] {
  return [...new URLSearchParams(text)];
}

function queryOf(url: string): string {
  const start = url.indexOf("?");
  if (start === -1) return "";
  const end = url.indexOf("#", start);
  return url.slice(start + 1, end === -1 ? undefined : end);
}

/**
 * The string Twilio signs: the URL, then each parameter as `name` + `value`, names in ascending
 * code-unit order. A name sent several times contributes each of its distinct values in ascending
 * order, as twilio-node's `getExpectedTwilioSignature` does (inbound SMS never repeats a name).
 */
export function twilioSignedString(url: string, params: readonly Param[]): string {
  return url + twilioSegments(params).map((s) => s.text).join("");
}

export function computeTwilioSignature(authToken: string, url: string, params: readonly Param[] = []): string {
  return createHmac("sha1", authToken).update(twilioSignedString(url, params), "utf8").digest("base64");
}

/** The parameters the signature covers: the form body for POST, none for GET (they are in the URL). */
export function twilioSignedParams(request: Pick<InboundRequest, "method" | "rawBody">): Param[] {
  return request.method === "POST" ? formParams(request.rawBody.toString("utf8")) : [];
}

/**
 * The URL as received, without its port and with the scheme's default port: the spellings Twilio
 * has signed over time (see the header comment). Userinfo, if any, stays as it is.
 */
export function twilioUrlCandidates(url: string): string[] {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return [url];
  const [prefix, scheme, authority] = match as unknown as [string, string, string];
  const userInfoEnd = authority.lastIndexOf("@") + 1;
  const hostAndPort = authority.slice(userInfoEnd);
  // In an IPv6 literal the port colon comes after the closing bracket.
  const portStart = hostAndPort.indexOf(":", hostAndPort.lastIndexOf("]") + 1);
  const host = portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart);
  const rest = url.slice(prefix.length);
  const head = scheme + authority.slice(0, userInfoEnd) + host;
  const defaultPort = scheme.toLowerCase() === "https://" ? ":443" : ":80";
  const withoutPort = head + rest;
  const withPort = portStart === -1 ? head + defaultPort + rest : url;
  return [...new Set([url, withoutPort, withPort])];
}

function decodeSignature(header: string): Buffer | undefined {
  const text = header.trim();
  const bytes = Buffer.from(text, "base64");
  // Only the canonical Base64 spelling counts: Node's decoder skips stray characters and ignores
  // padding bits, so without the round trip many altered headers would decode to the same digest.
  return bytes.length === SIGNATURE_BYTES && bytes.toString("base64") === text ? bytes : undefined;
}

export function verifyTwilioRequest(authTokens: readonly string[], request: InboundRequest): VerifyResult {
  if (authTokens.length === 0) return { ok: false, code: "WEBHOOK_NOT_CONFIGURED", reason: "TWILIO_AUTH_TOKEN is not set" };
  const header = request.headers[TWILIO_SIGNATURE_HEADER];
  if (!header) return { ok: false, code: "WEBHOOK_SIGNATURE_MISSING", reason: "X-Twilio-Signature is required" };
  if (header.length > MAX_SIGNATURE_HEADER_CHARS) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed X-Twilio-Signature" };
  const presented = decodeSignature(header);
  if (!presented) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed X-Twilio-Signature" };

  const params = twilioSignedParams(request);
  let matched = false;
  // Every token and every URL spelling is tried (no early exit), so the time taken does not tell
  // which one matched; each comparison is constant-time on equal-length digests.
  for (const token of authTokens) {
    for (const url of twilioUrlCandidates(request.publicUrl)) {
      const expected = Buffer.from(computeTwilioSignature(token, url, params), "base64");
      if (timingSafeEqual(presented, expected)) matched = true;
    }
  }
  if (!matched) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "X-Twilio-Signature does not match" };
  // The signature covers names and values without separators: refuse a request that reads the
  // signed text as other parameters than Twilio sent (resplit.ts). A GET's parameters are in the
  // URL, %-encoded with their `&` and `=`: one reading only; its id must still have Twilio's form.
  const resplit =
    request.method === "POST"
      ? resplitProblem(twilioSegments(params), TWILIO_RESPLIT_RULES)
      : messageIdProblem(formParams(queryOf(request.publicUrl)), TWILIO_RESPLIT_RULES);
  return resplit ? { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: `X-Twilio-Signature covers a re-split request: ${resplit}` } : { ok: true };
}

// The fields we read, from https://www.twilio.com/docs/messaging/guides/webhook-request. Others
// (FromCountry, FromCity, ToZip, AccountSid, ApiVersion…) are ignored: we keep no location data.
// Twilio sends no line type or carrier for inbound SMS (only paid Lookup add-ons would), and no
// receive time, so those stay unset and the core uses our receive time.
const inboundSchema = z.object({
  MessageSid: z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces"),
  From: z.string().min(1).max(64),
  To: z.string().min(1).max(64),
  // Twilio caps a message at 1,600 characters; MMS text is in Body too.
  Body: z.string().max(10_000).default(""),
  NumSegments: z.string().optional(),
});

/** Names whose repetition would make the message ambiguous. */
const SINGLE_VALUED = ["MessageSid", "From", "To", "Body", "NumSegments", "SmsStatus", "MessageStatus"];

function parseSegments(value: string | undefined): number | undefined {
  // An odd NumSegments does not make the message unreadable: it only loses its part count.
  if (value === undefined || !/^\d{1,3}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 ? n : undefined;
}

export function parseTwilioRequest(request: InboundRequest): ProviderMessage[] {
  // GET carries the parameters in the query; POST in the form body (a configured query on a POST
  // URL is part of the signed URL, not of the message).
  const params = request.method === "GET" ? formParams(queryOf(request.publicUrl)) : formParams(request.rawBody.toString("utf8"));
  const fields: Record<string, string> = {};
  for (const [name, value] of params) {
    if (SINGLE_VALUED.includes(name) && name in fields) {
      throw new AppError("WEBHOOK_PAYLOAD_INVALID", `The Twilio parameter ${name} appears more than once`);
    }
    if (!(name in fields)) fields[name] = value;
  }

  // A voice URL pointed here by mistake: not an SMS. The empty TwiML answer hangs up.
  if (fields.MessageSid === undefined && fields.CallSid !== undefined) return [];
  // A status callback of an outbound message (MessageStatus = queued/sent/delivered…), should
  // one be pointed here: nothing was received. Inbound messages carry SmsStatus = received.
  const status = fields.MessageStatus ?? fields.SmsStatus;
  if (status !== undefined && status !== "received") return [];
  // Other channels on the same webhook put a prefix on the address (`whatsapp:+33…`,
  // `messenger:…`): not an SMS from a phone number, so it proves nothing here.
  if (fields.From !== undefined && /^[a-z][a-z0-9+.-]*:/i.test(fields.From)) return [];

  const parsed = inboundSchema.safeParse(fields);
  if (!parsed.success) {
    throw invalidPayload("Twilio inbound message", parsed.error);
  }
  const p = parsed.data;
  const parts = parseSegments(p.NumSegments);
  return [
    {
      providerMessageId: p.MessageSid,
      from: p.From,
      to: p.To,
      text: p.Body,
      ...(parts !== undefined ? { parts } : {}),
    },
  ];
}

/** Verification needs no I/O here, so it is synchronous (the interface also allows async). */
export type TwilioAdapter = SyncProviderAdapter;

export function createTwilioAdapter(settings: TwilioSettings): TwilioAdapter {
  const authTokens = [...settings.authTokens];
  return {
    name: "twilio",
    methods: ["POST", "GET"],
    usesPathToken: false,
    verify: (request) => verifyTwilioRequest(authTokens, request),
    parse: parseTwilioRequest,
    // Empty TwiML: Twilio sends no reply SMS. Same answer for every outcome, duplicates included.
    acknowledge: () => ({ status: 200, contentType: "text/xml", body: EMPTY_TWIML }),
  };
}
