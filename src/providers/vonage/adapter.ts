// Vonage: one endpoint, /v1/inbound/vonage, for both of Vonage's ways to deliver an inbound SMS.
//
// (a) The SMS API ("legacy") inbound webhook, https://developer.vonage.com/en/messaging/sms/guides/inbound-sms
//     Sent as GET with a query string, POST form-urlencoded, or POST JSON (the account's "HTTP Method"
//     setting in the dashboard). Signed only when signing is enabled on the account (it is off by
//     default and switched on by Vonage support); then the parameters carry `sig`, `timestamp` (Unix
//     seconds) and `nonce`. Scheme, https://developer.vonage.com/en/getting-started/concepts/signing-messages :
//     every parameter except `sig`, sorted by name, `&` and `=` in values replaced by `_`, joined as
//     `&name=value&name=value…`; `md5hash` = hex MD5(string + secret), the others hex
//     HMAC-MD5/SHA1/SHA256/SHA512(secret, string). The signature covers the parameters only, never
//     the URL path or the headers. We refuse an unsigned SMS API request (401): without signing
//     nothing proves it came from Vonage.
//
// (b) The Messages API inbound webhook, https://developer.vonage.com/en/messages/concepts/signed-webhooks
//     POST JSON with `Authorization: Bearer <JWT>`, HS256 keyed with the same signature secret (the
//     dashboard's "signature method" does not apply: always HS256), claims `iat` and `payload_hash`
//     = hex SHA-256 of the body, which we check on the raw bytes so the JWT binds this very body.
//
// A request with `Authorization: Bearer …` is read as the Messages API, anything else as the SMS API;
// `parse` applies the same rule, so a request is always parsed the way it was verified.
//
// Freshness. `timestamp` is documented as the Unix form of `message-timestamp`, "the time when Vonage
// *started* to push this inbound message to your webhook" (Vonage's own signing example shows the two
// equal). So a re-sent webhook carries the original timestamp, and Vonage re-sends for 24 hours
// (until it gets 200/204; 429 and 5xx are retried, backing off from 5 s to every 15 min,
// https://api.support.vonage.com/hc/en-us/articles/360028543292). A ±5 min window would drop real
// messages whose first attempts failed, so we accept timestamps up to MAX_AGE_SECONDS old (24 h plus
// margin) and at most FUTURE_SKEW_SECONDS ahead, and rely on dedup: a replay inside the window
// repeats its `messageId` (it is signed), and the core keeps dedup rows at least 48 h, longer than
// the window. Whether a Messages API retry carries a freshly issued JWT is not documented; we apply
// the same window to `iat` for the same reason (the JWT is bound to its body, whose `message_uuid`
// dedup absorbs any replay).
//
// Verification is synchronous because ProviderAdapter.verify is: jose's jwtVerify is async only, so we
// let jose decode the token (decodeProtectedHeader, decodeJwt) and check the HS256 MAC with node:crypto
// in constant time. The `@vonage/jwt` and `jose` verifiers are the oracles in test/unit/providers.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import type { InboundRequest, ProviderAdapter, SyncProviderAdapter, ProviderMessage, VerifyResult } from "../provider.js";

export const VONAGE_SIGNATURE_METHODS = ["md5hash", "md5", "sha1", "sha256", "sha512"] as const;
export type VonageSignatureMethod = (typeof VONAGE_SIGNATURE_METHODS)[number];

/** How far ahead of our clock a signed time may be (clock skew). */
export const FUTURE_SKEW_SECONDS = 5 * 60;
/** How old a signed time may be: Vonage's 24 h of retries with the original timestamp, plus an hour. */
export const MAX_AGE_SECONDS = 25 * 60 * 60;

/** More parameters than any Vonage webhook carries (about 15); bounds the work on forged requests. */
const MAX_PARAMETERS = 64;
/** A compact HS256 JWT with Vonage's six claims is about 400 characters. */
const MAX_JWT_CHARS = 4_096;
const MAX_TEXT_CHARS = 20_000;

const HEX_DIGEST_LENGTH: Record<VonageSignatureMethod, number> = { md5hash: 32, md5: 32, sha1: 40, sha256: 64, sha512: 128 };

const settingsSchema = z.object({
  signatureSecrets: z.array(z.string().min(1)).readonly(),
  signatureMethod: z.enum(VONAGE_SIGNATURE_METHODS),
});

export type VonageSettings = { signatureSecrets: readonly string[]; signatureMethod: VonageSignatureMethod };

/**
 * The SMS API signature of a parameter set (without `sig`), lower-case hex. Ships with the verifier
 * so tests can sign; `@vonage/sms`'s `verifySignature` is the oracle that keeps the two honest.
 */
export function signVonageSmsParams(params: Readonly<Record<string, string>>, secret: string, method: VonageSignatureMethod): string {
  // Default sort (UTF-16 code units), as the official SDKs do; Vonage's names are ASCII anyway.
  const signed = Object.keys(params)
    .filter((name) => name !== "sig")
    .sort()
    .map((name) => `&${name}=${params[name]!.replace(/[&=]/g, "_")}`)
    .join("");
  if (method === "md5hash") return createHash("md5").update(signed + secret, "utf8").digest("hex");
  return createHmac(method, secret).update(signed, "utf8").digest("hex");
}

function fail(code: Exclude<VerifyResult, { ok: true }>["code"], reason: string): VerifyResult {
  return { ok: false, code, reason };
}

function isMessagesApi(request: InboundRequest): boolean {
  return request.method === "POST" && /^bearer\s/i.test(request.headers.authorization ?? "");
}

function isJsonBody(request: InboundRequest): boolean {
  const type = request.headers["content-type"];
  if (type) return /\bjson\b/i.test(type);
  return request.rawBody.toString("utf8").trimStart().startsWith("{");
}

type ParamsRead =
  | { ok: true; params: Record<string, string>; /** Why the set cannot be signed as read, if it cannot. */ problem?: string }
  | { ok: false; reason: string };

/**
 * The SMS API parameters: the query of a GET, the body of a POST (form or JSON). Vonage calls
 * query + body together "unsupported", so a POST's query string is neither signed nor read.
 * A name given twice is a problem: the signature would cover one spelling and the parser read another.
 */
function readSmsApiParams(request: InboundRequest): ParamsRead {
  const entries: [string, string][] = [];
  let problem: string | undefined;
  if (request.method === "GET") {
    entries.push(...new URL(request.publicUrl).searchParams);
  } else if (isJsonBody(request)) {
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody.toString("utf8"));
    } catch {
      return { ok: false, reason: "the body is not valid JSON" };
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) return { ok: false, reason: "the JSON body is not an object" };
    for (const [name, value] of Object.entries(body)) {
      // Vonage sends every value as a string; numbers and booleans are read as their JSON spelling.
      if (typeof value === "string") entries.push([name, value]);
      else if (typeof value === "number" || typeof value === "boolean") entries.push([name, String(value)]);
      else problem ??= `parameter ${name.slice(0, 40)} is neither a string nor a number`;
    }
  } else {
    entries.push(...new URLSearchParams(request.rawBody.toString("utf8")));
  }
  if (entries.length > MAX_PARAMETERS) problem ??= "too many parameters";
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of entries.slice(0, MAX_PARAMETERS + 1)) {
    if (Object.hasOwn(params, name)) problem ??= "a parameter is given twice";
    else params[name] = value;
  }
  return problem ? { ok: true, params, problem } : { ok: true, params };
}

/** Signed Unix seconds within [now − MAX_AGE_SECONDS, now + FUTURE_SKEW_SECONDS]. */
function isFresh(seconds: number, now: Date): boolean {
  const ageSeconds = Math.floor(now.getTime() / 1000) - seconds;
  return ageSeconds <= MAX_AGE_SECONDS && ageSeconds >= -FUTURE_SKEW_SECONDS;
}

function verifySmsApi(request: InboundRequest, settings: VonageSettings): VerifyResult {
  const read = readSmsApiParams(request);
  if (!read.ok) return fail("WEBHOOK_SIGNATURE_MISSING", `no sig parameter can be read: ${read.reason}`);
  const { sig, timestamp } = read.params;
  if (sig === undefined || timestamp === undefined) {
    return fail("WEBHOOK_SIGNATURE_MISSING", "sig and timestamp are required: Vonage signs SMS API webhooks only once Vonage support has enabled signing on the account");
  }
  if (read.problem) return fail("WEBHOOK_SIGNATURE_INVALID", read.problem);
  if (!/^\d{1,12}$/.test(timestamp)) return fail("WEBHOOK_SIGNATURE_INVALID", "malformed timestamp");
  if (!isFresh(Number(timestamp), request.receivedAt)) {
    return fail("WEBHOOK_TIMESTAMP_OUT_OF_RANGE", "timestamp older than 25 hours or more than 5 minutes ahead");
  }
  // Hex, compared case-insensitively (Vonage sends upper case, the SDKs compute lower case): decode
  // to bytes and compare the bytes, only when the length is the method's digest length.
  if (sig.length !== HEX_DIGEST_LENGTH[settings.signatureMethod] || !/^[0-9a-fA-F]+$/.test(sig)) {
    return fail("WEBHOOK_SIGNATURE_INVALID", "malformed sig");
  }
  const presented = Buffer.from(sig, "hex");
  for (const secret of settings.signatureSecrets) {
    const expected = Buffer.from(signVonageSmsParams(read.params, secret, settings.signatureMethod), "hex");
    if (timingSafeEqual(presented, expected)) return { ok: true };
  }
  return fail("WEBHOOK_SIGNATURE_INVALID", "no signature matches");
}

const jwtClaimsSchema = z.object({
  iat: z.number().int(),
  payload_hash: z.string().regex(/^[0-9a-fA-F]{64}$/),
  exp: z.number().optional(),
  nbf: z.number().optional(),
});

function verifyMessagesApi(request: InboundRequest, settings: VonageSettings): VerifyResult {
  const token = (request.headers.authorization ?? "").replace(/^bearer\s+/i, "").trim();
  if (!token) return fail("WEBHOOK_SIGNATURE_MISSING", "empty bearer token");
  if (token.length > MAX_JWT_CHARS) return fail("WEBHOOK_SIGNATURE_INVALID", "token too long");
  const segments = token.split(".");
  if (segments.length !== 3) return fail("WEBHOOK_SIGNATURE_INVALID", "not a compact JWS");
  let alg: unknown;
  let claims: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
    claims = decodeJwt(token);
  } catch {
    return fail("WEBHOOK_SIGNATURE_INVALID", "malformed JWT");
  }
  // Only HS256 with our secret: this refuses `none` and any asymmetric algorithm an attacker names.
  if (alg !== "HS256") return fail("WEBHOOK_SIGNATURE_INVALID", "JWT algorithm is not HS256");
  // The canonical base64url of 32 bytes only, so no other spelling decodes to the same MAC.
  const mac = Buffer.from(segments[2]!, "base64url");
  if (mac.length !== 32 || mac.toString("base64url") !== segments[2]) return fail("WEBHOOK_SIGNATURE_INVALID", "malformed JWT signature");
  const signingInput = `${segments[0]}.${segments[1]}`;
  const matches = settings.signatureSecrets.some((secret) => timingSafeEqual(createHmac("sha256", secret).update(signingInput).digest(), mac));
  if (!matches) return fail("WEBHOOK_SIGNATURE_INVALID", "no signature matches");

  const parsed = jwtClaimsSchema.safeParse(claims);
  if (!parsed.success) return fail("WEBHOOK_SIGNATURE_INVALID", "the JWT lacks iat or payload_hash");
  const { iat, payload_hash: payloadHash, exp, nbf } = parsed.data;
  const nowSeconds = Math.floor(request.receivedAt.getTime() / 1000);
  if (!isFresh(iat, request.receivedAt)) return fail("WEBHOOK_TIMESTAMP_OUT_OF_RANGE", "iat older than 25 hours or more than 5 minutes ahead");
  // Vonage's tokens carry neither; honoured if they ever do, with the same clock-skew allowance.
  if (exp !== undefined && nowSeconds > exp + FUTURE_SKEW_SECONDS) return fail("WEBHOOK_TIMESTAMP_OUT_OF_RANGE", "the JWT has expired");
  if (nbf !== undefined && nowSeconds < nbf - FUTURE_SKEW_SECONDS) return fail("WEBHOOK_TIMESTAMP_OUT_OF_RANGE", "the JWT is not valid yet");
  const bodyHash = createHash("sha256").update(request.rawBody).digest();
  if (!timingSafeEqual(Buffer.from(payloadHash, "hex"), bodyHash)) return fail("WEBHOOK_SIGNATURE_INVALID", "payload_hash does not match the body");
  return { ok: true };
}

function invalidPayload(detail: string, issues?: z.core.$ZodIssue[]): AppError {
  return new AppError(
    "WEBHOOK_PAYLOAD_INVALID",
    detail,
    issues ? { errors: issues.map((i) => ({ field: i.path.join(".") || "(body)", message: i.message })) } : {},
  );
}

const smsApiTextSchema = z.object({
  msisdn: z.string().min(1).max(64),
  to: z.string().min(1).max(64),
  messageId: z.string().min(1).max(200),
  text: z.string().max(MAX_TEXT_CHARS),
});

const concatSchema = z.object({
  "concat-ref": z.string().min(1).max(100),
  "concat-total": z.string().regex(/^\d{1,3}$/),
  "concat-part": z.string().regex(/^\d{1,3}$/),
});

/** `message-timestamp`: `YYYY-MM-DD HH:MM:SS` in UTC. */
function parseMessageTimestamp(value: string | undefined): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(value ?? "");
  if (!m) return undefined;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function parseSmsApi(request: InboundRequest): ProviderMessage[] {
  const read = readSmsApiParams(request);
  if (!read.ok || read.problem) throw invalidPayload(`The Vonage parameters cannot be read: ${read.ok ? read.problem : read.reason}`);
  const params = read.params;
  // The same account-level URL may receive delivery receipts (they carry `status` and `err-code`,
  // no `type`): acknowledged so Vonage stops re-sending, no message.
  if (params.type === undefined && params.status !== undefined) return [];
  // `binary` messages (`data` + `udh`) carry no text a user could type a code in.
  if (params.type === "binary") return [];
  if (params.type !== "text" && params.type !== "unicode") {
    if (params.type === undefined) throw invalidPayload("The Vonage inbound message has no type");
    return []; // a type Vonage may add later; nothing we can match
  }
  const parsed = smsApiTextSchema.safeParse(params);
  if (!parsed.success) throw invalidPayload("The Vonage inbound message lacks msisdn, to, messageId or text", parsed.error.issues);
  const p = parsed.data;
  const receivedAt = parseMessageTimestamp(params["message-timestamp"]);
  const message: ProviderMessage = {
    providerMessageId: p.messageId,
    from: p.msisdn,
    to: p.to,
    text: p.text,
    ...(receivedAt ? { receivedAt } : {}),
  };
  // A long SMS arrives as one webhook per part, each with its own messageId
  // (https://developer.vonage.com/en/messaging/sms/guides/inbound-sms#concatenated-messages);
  // the core keeps the parts and matches the joined text once all are there.
  if (params.concat === "true") {
    const concat = concatSchema.safeParse(params);
    if (!concat.success) throw invalidPayload("A Vonage message part lacks concat-ref, concat-total or concat-part", concat.error.issues);
    const part = Number(concat.data["concat-part"]);
    const total = Number(concat.data["concat-total"]);
    if (part < 1 || total < 1 || part > total) throw invalidPayload("A Vonage message part is numbered outside 1 to concat-total");
    message.concat = { reference: concat.data["concat-ref"], part, total };
  }
  return [message];
}

const messagesApiEnvelopeSchema = z.object({ channel: z.string() });

const messagesApiSmsSchema = z.object({
  message_uuid: z.string().min(1).max(200),
  from: z.string().min(1).max(64),
  to: z.string().min(1).max(64),
  text: z.string().max(MAX_TEXT_CHARS),
  // The published Messages API spec (1.4.0) lists no `message_type` on inbound SMS; later
  // payloads carry `"text"`. Absent is read as text, any other value was filtered out above.
  message_type: z.literal("text").optional(),
});

/** Optional metadata: a malformed value is ignored rather than losing an authentic message. */
function optionalMetadata(body: Record<string, unknown>): Pick<ProviderMessage, "receivedAt" | "parts" | "carrier"> {
  const out: Pick<ProviderMessage, "receivedAt" | "parts" | "carrier"> = {};
  if (typeof body.timestamp === "string" && body.timestamp.length <= 64) {
    const date = new Date(body.timestamp);
    if (!Number.isNaN(date.getTime())) out.receivedAt = date;
  }
  const sms = body.sms as Record<string, unknown> | undefined;
  const numMessages = typeof sms === "object" && sms !== null ? sms.num_messages : undefined;
  if ((typeof numMessages === "string" && /^\d{1,3}$/.test(numMessages)) || typeof numMessages === "number") {
    const parts = Number(numMessages);
    if (Number.isInteger(parts) && parts >= 1 && parts <= 255) out.parts = parts;
  }
  // The MCC/MNC of the sender's network, the closest thing to a carrier Vonage gives.
  const origin = body.origin as Record<string, unknown> | undefined;
  const networkCode = typeof origin === "object" && origin !== null ? origin.network_code : undefined;
  if (typeof networkCode === "string" && /^\d{3,10}$/.test(networkCode)) out.carrier = networkCode;
  return out;
}

function parseMessagesApi(request: InboundRequest): ProviderMessage[] {
  let body: unknown;
  try {
    body = JSON.parse(request.rawBody.toString("utf8"));
  } catch {
    throw invalidPayload("The body is not valid JSON");
  }
  const envelope = messagesApiEnvelopeSchema.safeParse(body);
  if (!envelope.success || typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidPayload("The Messages API payload has no channel", envelope.success ? undefined : envelope.error.issues);
  }
  const record = body as Record<string, unknown>;
  // WhatsApp, RCS, MMS… share the application's inbound URL; message status webhooks (`status`)
  // may be pointed here too. Acknowledged so Vonage stops re-sending, no message.
  if (envelope.data.channel !== "sms" || record.status !== undefined) return [];
  if (typeof record.message_type === "string" && record.message_type !== "text") return [];
  const parsed = messagesApiSmsSchema.safeParse(body);
  if (!parsed.success) throw invalidPayload("The Messages API SMS lacks message_uuid, from, to or text", parsed.error.issues);
  const p = parsed.data;
  // The Messages API joins a long SMS itself and reports the part count in `sms.num_messages`.
  return [{ providerMessageId: p.message_uuid, from: p.from, to: p.to, text: p.text, ...optionalMetadata(record) }];
}

export function createVonageAdapter(input: VonageSettings): SyncProviderAdapter {
  const settings: VonageSettings = settingsSchema.parse(input);
  return {
    name: "vonage",
    methods: ["GET", "POST"],
    usesPathToken: false,
    verify(request) {
      if (settings.signatureSecrets.length === 0) return fail("WEBHOOK_NOT_CONFIGURED", "VONAGE_SIGNATURE_SECRET is not set");
      return isMessagesApi(request) ? verifyMessagesApi(request, settings) : verifySmsApi(request, settings);
    },
    parse(request) {
      return isMessagesApi(request) ? parseMessagesApi(request) : parseSmsApi(request);
    },
    // Vonage wants 200 or 204 and ignores the body; anything else is re-sent for 24 h.
    acknowledge: () => ({ status: 204 }),
  };
}
