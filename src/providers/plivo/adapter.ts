// Plivo: the inbound message webhook (the Plivo application's `message_url`), POST form-urlencoded
// or GET, as configured on the application.
// Payload: https://www.plivo.com/docs/messaging/api/message/handling-incoming
// Signatures: https://www.plivo.com/docs/voice/xml/request/validation (V3),
//             https://www.plivo.com/docs/messaging/concepts/signature-validation (V2)
//
// V3 (`X-Plivo-Signature-V3`, nonce in `X-Plivo-Signature-V3-Nonce`):
//   Base64(HMAC-SHA256(auth token, base + "." + nonce)), where base is
//   - the URL without query or fragment (scheme://host[:port]/path, no userinfo),
//   - then `?` if there are query or POST parameters,
//   - then the query parameters, decoded, sorted by name (values of one name sorted), as `k=v`
//     joined with `&`,
//   - then `.` if there are both query and POST parameters,
//   - then the POST parameters, decoded and sorted the same way, each as name + value, no separators.
//   The header may hold several comma-separated signatures. This is the construction of the `plivo`
//   package's `validateV3Signature` (our test oracle); Plivo's pages describe it only in prose.
//   `X-Plivo-Signature-Ma-V3` carries the same construction keyed with the main account's token
//   (V3 uses the token of the account or subaccount that owns the number): we accept either header
//   with any configured token, so PLIVO_AUTH_TOKEN may hold the subaccount's or the main account's.
// V2 (`X-Plivo-Signature-V2`, `X-Plivo-Signature-V2-Nonce`; also `-Ma-V2`):
//   Base64(HMAC-SHA256(auth token, URL without query + nonce)). It covers neither the body nor the
//   query: whoever sees one signed request can replay its nonce and signature with any message, for
//   ever. Accepted only when PLIVO_ACCEPT_V2 is true, and only when no V3 signature is present
//   (a present but wrong V3 signature is never rescued by V2). Plivo's messaging pages document
//   only V2, so some accounts may need it; see docs/providers/plivo.md.
// V3 concatenates the POST parameters' names and values without separators, and a POST may carry
// a query too (`?` + query + `.` + form): a captured request could be cut into other parameters
// under the same signature (a new MessageUUID that dedup does not know, or a sender taken from the
// text). After the signature matched, resplit.ts refuses any request that reads as other
// parameters than Plivo's.
// Neither version signs a time: replay safety rests on the core's dedup of (provider,
// MessageUUID). Plivo retries a non-2xx or a response slower than 8 s three times (+60 s, +120 s,
// +240 s: https://support.plivo.com/hc/en-us/articles/360041344652) with the same MessageUUID.
// Callback-configuration fragments (`#ct=…&rt=…`) never reach the server and are not signed by
// the SDK's construction.
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import type { InboundRequest, ProviderMessage, SyncProviderAdapter, VerifyResult } from "../provider.js";
import { invalidPayload } from "../payload.js";
import { messageIdProblem, PLIVO_RESPLIT_RULES, resplitProblem, type Segment } from "../resplit.js";

export type PlivoSettings = { authTokens: readonly string[]; acceptV2: boolean };

export const PLIVO_HEADERS = {
  v3: "x-plivo-signature-v3",
  maV3: "x-plivo-signature-ma-v3",
  v3Nonce: "x-plivo-signature-v3-nonce",
  v2: "x-plivo-signature-v2",
  maV2: "x-plivo-signature-ma-v2",
  v2Nonce: "x-plivo-signature-v2-nonce",
} as const;

/** Plivo answers with Plivo XML; an empty <Response/> sends no reply SMS (as `plivo`'s `new Response().toXML()`). */
export const EMPTY_PLIVO_XML = "<Response/>";

/** HMAC-SHA256 digests are 32 bytes. */
const SIGNATURE_BYTES = 32;
const MAX_SIGNATURES_PER_HEADER = 8;
const MAX_HEADER_CHARS = 1_000;
/** Plivo's nonces are about 20 digits; anything printable up to this length is hashed as given. */
const MAX_NONCE_CHARS = 200;

type Param = readonly [name: string, value: string];

function formParams(text: string): Param[] {
  return [...new URLSearchParams(text)];
}

type SplitUrl = { base: string; query: string };

/** scheme://host[:port]/path without userinfo, query or fragment; and the raw query. */
export function splitPlivoUrl(url: string): SplitUrl | undefined {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^/?#@]*@)?([^/?#]*)([^?#]*)(?:\?([^#]*))?/i.exec(url);
  if (!match) return undefined;
  const [, scheme, hostAndPort, path, query] = match as unknown as [string, string, string, string, string | undefined];
  return { base: scheme + hostAndPort + path, query: query ?? "" };
}

/** Groups by name; names in ascending code-unit order, each name's values too (repeats kept). */
function sortedParams(params: readonly Param[]): Param[] {
  const byName = new Map<string, string[]>();
  for (const [name, value] of params) byName.set(name, [...(byName.get(name) ?? []), value]);
  return [...byName.keys()].sort().flatMap((name) => byName.get(name)!.sort().map((value) => [name, value] as const));
}

/** What V3 signs after the URL's base, piece by piece (names, values, separators): see the header comment. */
export function plivoV3Segments(method: "GET" | "POST", query: string, postParams: readonly Param[]): Segment[] {
  const separator = (text: string): Segment => ({ text, role: "separator" });
  const querySegments = sortedParams(formParams(query)).flatMap(([k, v], i): Segment[] => [
    ...(i > 0 ? [separator("&")] : []),
    { text: k, role: "name", part: "query" },
    separator("="),
    { text: v, role: "value", param: k, part: "query" },
  ]);
  const hasQuery = querySegments.length > 0;
  const hasPost = method === "POST" && postParams.length > 0;
  const postSegments = hasPost
    ? sortedParams(postParams).flatMap(([k, v]): Segment[] => [
        { text: k, role: "name", part: "form" },
        { text: v, role: "value", param: k, part: "form" },
      ])
    : [];
  return [
    ...(hasQuery || hasPost ? [separator("?")] : []),
    ...querySegments,
    ...(hasQuery && hasPost ? [separator(".")] : []),
    ...postSegments,
  ];
}

/** The string V3 signs before `.` + nonce (see the header comment). */
export function plivoV3BaseString(method: "GET" | "POST", url: string, postParams: readonly Param[]): string | undefined {
  const split = splitPlivoUrl(url);
  if (!split) return undefined;
  return split.base + plivoV3Segments(method, split.query, postParams).map((s) => s.text).join("");
}

export function computePlivoV3Signature(
  authToken: string,
  request: { method: "GET" | "POST"; url: string; postParams?: readonly Param[]; nonce: string },
): string {
  const base = plivoV3BaseString(request.method, request.url, request.postParams ?? []);
  if (base === undefined) throw new Error("not an absolute URL");
  return createHmac("sha256", authToken).update(`${base}.${request.nonce}`, "utf8").digest("base64");
}

/** V2: the URL without its query, then the nonce, with no separator. Body and query are not covered. */
export function computePlivoV2Signature(authToken: string, request: { url: string; nonce: string }): string {
  const split = splitPlivoUrl(request.url);
  if (!split) throw new Error("not an absolute URL");
  return createHmac("sha256", authToken).update(split.base + request.nonce, "utf8").digest("base64");
}

/** The POST parameters a V3 signature covers (none for GET: its parameters are in the query). */
export function plivoSignedParams(request: Pick<InboundRequest, "method" | "rawBody">): Param[] {
  return request.method === "POST" ? formParams(request.rawBody.toString("utf8")) : [];
}

/** Canonical Base64 digests from comma-separated header values; anything else is dropped. */
function presentedSignatures(...headers: (string | undefined)[]): Buffer[] {
  return headers
    .flatMap((h) => (h ? h.slice(0, MAX_HEADER_CHARS).split(",").slice(0, MAX_SIGNATURES_PER_HEADER) : []))
    .map((s) => s.trim())
    .map((text) => ({ text, bytes: Buffer.from(text, "base64") }))
    // Only the canonical spelling counts: Node's decoder skips stray characters and padding bits.
    .filter(({ text, bytes }) => bytes.length === SIGNATURE_BYTES && bytes.toString("base64") === text)
    .map(({ bytes }) => bytes);
}

const isValidNonce = (nonce: string) => nonce.length <= MAX_NONCE_CHARS && /^[\x21-\x7e]+$/.test(nonce);

function matchesAny(presented: Buffer[], expected: Buffer[]): boolean {
  let matched = false;
  // No early exit: which token or which signature matched does not show in the time taken.
  for (const p of presented) for (const e of expected) if (timingSafeEqual(p, e)) matched = true;
  return matched;
}

export function verifyPlivoRequest(settings: PlivoSettings, request: InboundRequest): VerifyResult {
  const { authTokens, acceptV2 } = settings;
  if (authTokens.length === 0) return { ok: false, code: "WEBHOOK_NOT_CONFIGURED", reason: "PLIVO_AUTH_TOKEN is not set" };
  const h = request.headers;

  if (h[PLIVO_HEADERS.v3] || h[PLIVO_HEADERS.maV3]) {
    const nonce = h[PLIVO_HEADERS.v3Nonce];
    if (!nonce) return { ok: false, code: "WEBHOOK_SIGNATURE_MISSING", reason: "X-Plivo-Signature-V3-Nonce is required" };
    if (!isValidNonce(nonce)) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed X-Plivo-Signature-V3-Nonce" };
    const presented = presentedSignatures(h[PLIVO_HEADERS.v3], h[PLIVO_HEADERS.maV3]);
    if (presented.length === 0) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed X-Plivo-Signature-V3" };
    const postParams = plivoSignedParams(request);
    if (splitPlivoUrl(request.publicUrl) === undefined) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "unusable public URL" };
    const expected = authTokens.map((token) =>
      Buffer.from(computePlivoV3Signature(token, { method: request.method, url: request.publicUrl, postParams, nonce }), "base64"),
    );
    if (!matchesAny(presented, expected)) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "X-Plivo-Signature-V3 does not match" };
    // V3 covers names and values without separators: refuse a request that reads the signed text
    // as other parameters than Plivo sent (resplit.ts).
    const resplit = resplitProblem(plivoV3Segments(request.method, splitPlivoUrl(request.publicUrl)!.query, postParams), PLIVO_RESPLIT_RULES);
    return resplit ? { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: `X-Plivo-Signature-V3 covers a re-split request: ${resplit}` } : { ok: true };
  }

  const hasV2 = Boolean(h[PLIVO_HEADERS.v2] || h[PLIVO_HEADERS.maV2]);
  if (!hasV2) return { ok: false, code: "WEBHOOK_SIGNATURE_MISSING", reason: "X-Plivo-Signature-V3 is required" };
  if (!acceptV2) {
    return {
      ok: false,
      code: "WEBHOOK_SIGNATURE_MISSING",
      reason: "only a V2 signature, which does not cover the message; V3 is required unless PLIVO_ACCEPT_V2=true",
    };
  }
  const nonce = h[PLIVO_HEADERS.v2Nonce];
  if (!nonce) return { ok: false, code: "WEBHOOK_SIGNATURE_MISSING", reason: "X-Plivo-Signature-V2-Nonce is required" };
  if (!isValidNonce(nonce)) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed X-Plivo-Signature-V2-Nonce" };
  const presented = presentedSignatures(h[PLIVO_HEADERS.v2], h[PLIVO_HEADERS.maV2]);
  if (presented.length === 0) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed X-Plivo-Signature-V2" };
  if (splitPlivoUrl(request.publicUrl) === undefined) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "unusable public URL" };
  const expected = authTokens.map((token) => Buffer.from(computePlivoV2Signature(token, { url: request.publicUrl, nonce }), "base64"));
  if (!matchesAny(presented, expected)) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "X-Plivo-Signature-V2 does not match" };
  // V2 covers neither the body nor the query (anyone who saw one signed request can send any
  // message with it; PLIVO_ACCEPT_V2 accepts that): only the id's documented form is checked.
  const idProblem = messageIdProblem(messageParams(request), PLIVO_RESPLIT_RULES);
  return idProblem ? { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: idProblem } : { ok: true };
}

// The fields we read. Others (TotalRate, TotalAmount, MessageIntent, PowerpackUUID…) are ignored.
// Plivo sends no line type, carrier or receive time with inbound messages, so those stay unset.
const inboundSchema = z.object({
  MessageUUID: z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces"),
  // Numbers come as bare digits (`33612345678`); the core reads them as international numbers.
  From: z.string().min(1).max(64),
  To: z.string().min(1).max(64),
  // Plivo joins the parts of a long SMS before calling us (Units tells how many there were).
  Text: z.string().max(10_000).optional(),
  // MMS (US/CA long codes and toll-free) carry their text in Body.
  Body: z.string().max(10_000).optional(),
  Type: z.string().max(40).optional(),
  Units: z.string().optional(),
});

const SINGLE_VALUED = ["MessageUUID", "From", "To", "Text", "Body", "Type", "Units", "Status"];

function parseUnits(value: string | undefined): number | undefined {
  // An odd Units value does not make the message unreadable: it only loses its part count.
  if (value === undefined || !/^\d{1,3}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 ? n : undefined;
}

/** The message's parameters: the query of a GET, the form of a POST. */
function messageParams(request: InboundRequest): Param[] {
  return request.method === "GET" ? formParams(splitPlivoUrl(request.publicUrl)?.query ?? "") : formParams(request.rawBody.toString("utf8"));
}

export function parsePlivoRequest(request: InboundRequest): ProviderMessage[] {
  const params = messageParams(request);
  const fields: Record<string, string> = {};
  for (const [name, value] of params) {
    if (SINGLE_VALUED.includes(name) && name in fields) {
      throw new AppError("WEBHOOK_PAYLOAD_INVALID", `The Plivo parameter ${name} appears more than once`);
    }
    if (!(name in fields)) fields[name] = value;
  }

  // A delivery report of an outbound message (Status = queued/sent/delivered/undelivered…), should
  // one be pointed at this URL: nothing was received. Inbound messages carry Text or Body, no Status.
  if (fields.Status !== undefined && fields.Text === undefined && fields.Body === undefined) return [];
  // Type is sms (the default), mms or whatsapp. WhatsApp is not an SMS from the phone network, so
  // it proves nothing here; MMS is, and its text is in Body.
  const type = (fields.Type ?? "sms").toLowerCase();
  if (type !== "sms" && type !== "mms") return [];

  const parsed = inboundSchema.safeParse(fields);
  if (!parsed.success) {
    throw invalidPayload("Plivo inbound message", parsed.error);
  }
  const p = parsed.data;
  const parts = parseUnits(p.Units);
  return [
    {
      providerMessageId: p.MessageUUID,
      from: p.From,
      to: p.To,
      text: (type === "mms" ? (p.Body ?? p.Text) : (p.Text ?? p.Body)) ?? "",
      ...(parts !== undefined ? { parts } : {}),
    },
  ];
}

/** Verification needs no I/O here, so it is synchronous (the interface also allows async). */
export type PlivoAdapter = SyncProviderAdapter;

export function createPlivoAdapter(settings: PlivoSettings): PlivoAdapter {
  const frozen: PlivoSettings = { authTokens: [...settings.authTokens], acceptV2: settings.acceptV2 };
  return {
    name: "plivo",
    methods: ["POST", "GET"],
    usesPathToken: false,
    verify: (request) => verifyPlivoRequest(frozen, request),
    parse: parsePlivoRequest,
    // Plivo retries anything but a 2xx; an empty <Response/> sends no reply SMS (no oracle, no cost).
    acknowledge: () => ({ status: 200, contentType: "application/xml", body: EMPTY_PLIVO_XML }),
  };
}
