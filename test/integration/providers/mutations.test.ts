// Property-based forgery test over every SMS provider scheme (SECURITY.md, figure 1): thousands of
// single mutations of a valid signed delivery — carrying the right code, from the right phone, to
// the right number — are each refused with 4xx (never 2xx, never 5xx), and the database holds
// exactly the rows it held before.
//
// One harness serves every provider (each with its own secret, key pair or path token), and one app
// per scheme variant rents a number from that provider, with two challenges: a control one (PHONES.de)
// that an unmutated request verifies before any mutation, and the target one (PHONES.fr) that every
// mutated request would verify if it slipped through. The unmutated request for the target is sent
// last, at the very end, and must verify it: so each mutation was refused because of what it changed.
//
// Each run signs a fresh request (new message id) and checks it is authentic twice, with the
// service's own verifier (in process) and with an independent oracle written here from each
// provider's documented scheme (the official `twilio` package for Twilio). Then ONE mutation is
// applied and the request is sent through HTTP. A mutation that the oracle still finds authentic is
// a no-op for that scheme (it carries the same signed content: `%2b` for `%2B` in a Twilio form,
// a duplicated Plivo signature in its comma-separated list, Vonage sig in upper case…): it is not
// sent, but counted in the "no-op" column. Mutations that are no-ops by construction are not
// generated at all:
// - path-token providers (smsmode, Sinch without signing, Infobip) sign nothing: the body, the
//   query and the headers are not authenticated, only the secret path token is, so only the token
//   (and the endpoint it is presented to) is mutated; a token character written as its %-escape is
//   the same token (RFC 3986), so it is not generated either. Sinch's HMAC-signed callbacks are a
//   scheme of their own (body, nonce and timestamp signed; the official @sinch/sdk-core is their
//   oracle, with Sinch's retry window of a day for the timestamp);
// - headers a scheme neither signs nor reads are not mutated: Twilio and Plivo sign the URL and the
//   decoded form, not the headers (so `Content-Type` and the rest are free); the generic provider,
//   Telnyx, Bird, MessageBird and the Vonage Messages API hash the raw body whatever its type; `Host`
//   is never read (the public URL comes from PUBLIC_BASE_URL), so host changes are tested as "a
//   request signed for another URL";
// - the URL is mutated only where it is signed (Twilio, Plivo, Bird, MessageBird JWT: the full URL;
//   MessageBird's older HMAC: the query only, so its path is free); the generic provider, Telnyx and
//   both Vonage APIs sign no URL, so for them only "sent to another provider's endpoint" applies;
// - Twilio and Plivo sign no time (replay safety is the message-id dedup): no timestamp mutation;
// - Vonage SMS API: the transport (GET query, POST form, POST JSON) is not signed, only the
//   parameters, and values that differ only by `&`, `=` or `_` sign alike (Vonage replaces the
//   first two by `_`); query order is not signed there (nor by Plivo or MessageBird HMAC: sorted);
// - Bird and Vonage accept timestamps up to 25 h old by design (providers retry with the original
//   one): there the timestamp is changed while the signature is kept, which must fail, and
//   re-signed only outside the window (more than 25 h old, or more than 5 min ahead);
// - a duplicated `Authorization` header is dropped by Node's HTTP parser (first one wins), the
//   generic provider's and Plivo's signature headers are lists by design: no "duplicate header" there;
// - MessageBird accepts HS256/384/512 JWTs (its SDKs do): re-signing with HS512 is authentic.
//
// Refusals are 401/403 with a webhook code; a 400 (the verifier passed, the payload did not parse)
// is counted and reported separately. The summary table is printed at the end.
import { createHash, createHmac, createPublicKey, verify as verifyEd25519 } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import type { Response } from "supertest";
import { SmsCallbackWebhooks } from "@sinch/sdk-core";
import { getExpectedTwilioSignature } from "twilio/lib/webhooks/webhooks.js";
import type { InboundRequest, ProviderAdapter } from "../../../src/providers/provider.js";
import { fixedClock } from "../../../src/shared/clock.js";
import { PHONES, TEST_GENERIC_SECRET, startHarness, type Harness } from "../../support/harness.js";
import { birdInboundEvent, birdPathForNumber, signBirdRequest } from "../../support/providers/bird.js";
import { infobipBatch, infobipInbound, signInfobipRequest } from "../../support/providers/infobip.js";
import { messageBirdInboundParams, signMessageBirdJwtRequest, signMessageBirdRequest } from "../../support/providers/messagebird.js";
import { plivoInboundParams, signPlivoRequest } from "../../support/providers/plivo.js";
import { signSinchHmacRequest, signSinchRequest, sinchMoText } from "../../support/providers/sinch.js";
import { signSmsmodeRequest, smsmodeReply, smsmodeRestMo } from "../../support/providers/smsmode.js";
import { createTelnyxKeyPair, signTelnyxRequest, telnyxInboundEvent } from "../../support/providers/telnyx.js";
import { signTwilioRequest, twilioInboundParams } from "../../support/providers/twilio.js";
import { signVonageRequest, vonageMessagesApiPayload, vonageSmsApiParams } from "../../support/providers/vonage.js";

const START = "2031-05-04T10:00:00.000Z";
const clock = fixedClock(START);
const NOW_S = Math.floor(Date.parse(START) / 1000);
const BASE = "https://otp.example.test";
const SEED = 20310504;

// Every provider gets its own secret, so a request signed for one can never pass another's check.
const SECRETS = {
  twilio: "twilio-auth-token-mutations-0123456789abcdef",
  vonage: "vonage-signature-secret-mutations-0123456789",
  plivo: "plivo-auth-token-mutations-0123456789abcdefgh",
  bird: "bird-signing-key-mutations-0123456789abcdefgh",
  messagebird: "messagebird-signing-key-mutations-0123456789",
  sinch: "sinch-callback-secret-mutations-0123456789",
} as const;
/** Valid-format secrets nobody configured (a forger's key). */
const FOREIGN = {
  generic: `whsec_${Buffer.from("a-forger-s-own-32-byte-secret!!!").toString("base64")}`,
  twilio: "twilio-auth-token-of-someone-else-9876543210",
  vonage: "vonage-signature-secret-of-someone-else-987",
  plivo: "plivo-auth-token-of-someone-else-9876543210zz",
  bird: "bird-signing-key-of-another-workspace-987654",
  messagebird: "messagebird-signing-key-of-someone-else-9876",
  sinch: "sinch-callback-secret-of-another-account-98",
} as const;
const TOKENS = {
  smsmode: "smsmodeMutTok_4Rt7Yu1Io9Pa3Sd6Fg2Hj8Kl5Zx0",
  sinch: "sinchMutTok_Mn3Bv6Cx9Zl2Kj5Hg8Fd1Sa4Po7Iu0Q",
  infobip: "infobipMutTok-Qw2Er4Ty6Ui8Op0As1Df3Gh5Jk7",
} as const;
const FOREIGN_TOKEN = "notTheTok_Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp";
const telnyxKeys = createTelnyxKeyPair();
const telnyxForeignKeys = createTelnyxKeyPair();
const telnyxPublicKey = createPublicKey(telnyxKeys.privateKey);

type ProviderName = "generic" | "twilio" | "vonage" | "plivo" | "telnyx" | "bird" | "messagebird" | "smsmode" | "sinch" | "infobip";
const PROVIDERS: { name: ProviderName; methods: ("GET" | "POST")[]; pathToken: boolean }[] = [
  { name: "generic", methods: ["POST"], pathToken: false },
  { name: "twilio", methods: ["GET", "POST"], pathToken: false },
  { name: "vonage", methods: ["GET", "POST"], pathToken: false },
  { name: "plivo", methods: ["GET", "POST"], pathToken: false },
  { name: "telnyx", methods: ["POST"], pathToken: false },
  { name: "bird", methods: ["POST"], pathToken: false },
  { name: "messagebird", methods: ["GET", "POST"], pathToken: false },
  { name: "smsmode", methods: ["GET", "POST"], pathToken: true },
  { name: "sinch", methods: ["POST"], pathToken: true },
  { name: "infobip", methods: ["POST"], pathToken: true },
];
const isPathTokenProvider = (p: string): p is keyof typeof TOKENS => p in TOKENS;

let h: Harness;

// ---------------------------------------------------------------------------------------------
// Requests as sent on the wire

/** Method, path with query, lower-cased header names (an array sends the header several times), raw body. */
type Req = { method: "GET" | "POST"; path: string; headers: Record<string, string | string[]>; body: Buffer };
type Signed = { method: "GET" | "POST"; path: string; headers: Record<string, string>; body: string };

const toReq = (s: Signed): Req => ({
  method: s.method,
  path: s.path,
  headers: Object.fromEntries(Object.entries(s.headers).map(([k, v]) => [k.toLowerCase(), v])),
  body: s.method === "GET" ? Buffer.alloc(0) : Buffer.from(s.body, "utf8"),
});

function splitPath(path: string): { pathname: string; query: string | undefined } {
  const at = path.indexOf("?");
  return at < 0 ? { pathname: path, query: undefined } : { pathname: path.slice(0, at), query: path.slice(at + 1) };
}
const joinPath = (pathname: string, query: string | undefined) => (query === undefined || query === "" ? pathname : `${pathname}?${query}`);

/** The path exactly as supertest (WHATWG URL) will put it on the wire, so oracles judge what is sent. */
function normalize(req: Req): Req {
  const url = new URL(req.path, "http://127.0.0.1");
  return { ...req, path: `${url.pathname}${url.search}` };
}

/** Headers Node's HTTP parser keeps only once (the first); others are joined with ", ". Values are trimmed. */
const SINGLE_HEADERS = new Set(["content-type", "content-length", "user-agent", "referer", "host", "authorization", "proxy-authorization", "from", "location"]);
function headerOf(req: Req, name: string): string | undefined {
  const raw = req.headers[name];
  if (raw === undefined) return undefined;
  const values = (Array.isArray(raw) ? raw : [raw]).map((v) => v.trim());
  return SINGLE_HEADERS.has(name) ? values[0] : values.join(", ");
}
const publicUrl = (req: Req) => `${BASE}${req.path}`;

function sameRequest(a: Req, b: Req): boolean {
  return a.method === b.method && a.path === b.path && a.body.equals(b.body) && JSON.stringify(a.headers) === JSON.stringify(b.headers);
}

function send(req: Req): Promise<Response> {
  const call = req.method === "GET" ? h.http().get(req.path) : h.http().post(req.path);
  for (const [name, value] of Object.entries(req.headers)) call.set(name, value as string);
  if (req.method === "GET") return call.then((r) => r);
  // The bytes as they are: no serializer may re-encode a Buffer (superagent would JSON-encode it).
  return call
    .serialize((data: unknown) => data as string)
    .send(req.body)
    .then((r) => r);
}

function pathSegments(req: Req): string[] {
  return splitPath(req.path).pathname.split("/");
}
function providerOfPath(req: Req): string | undefined {
  try {
    return decodeURIComponent(pathSegments(req)[3] ?? "").toLowerCase();
  } catch {
    return undefined;
  }
}

/** The InboundRequest the route hands the adapter (used to run the service's verifier in process). */
function toInbound(req: Req): InboundRequest {
  const headers: Record<string, string | undefined> = {};
  for (const name of Object.keys(req.headers)) headers[name] = headerOf(req, name);
  const token = pathSegments(req)[4];
  return {
    method: req.method,
    publicUrl: publicUrl(req),
    headers,
    rawBody: req.body,
    ...(token ? { pathToken: decodeURIComponent(token) } : {}),
    receivedAt: clock.now(),
  };
}

// ---------------------------------------------------------------------------------------------
// Oracles: each provider's documented scheme, written here independently of src/providers

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest();
const sha256hex = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");
const b64urlJson = (text: string): unknown => JSON.parse(Buffer.from(text, "base64url").toString("utf8"));

/** The provider's verdict on a request: is it authentic and fresh per the provider's own documentation? */
function oracle(req: Req): boolean {
  const provider = providerOfPath(req);
  if (provider === undefined) return false;
  const token = pathSegments(req)[4];
  // A Sinch callback with signature headers is judged by its signature alone, whatever the path.
  if (provider === "sinch" && SINCH_HEADERS.some((name) => req.headers[name] !== undefined)) return sinchOracle(req);
  if (isPathTokenProvider(provider)) {
    if (!token) return false;
    try {
      return decodeURIComponent(token) === TOKENS[provider];
    } catch {
      return false;
    }
  }
  if (token) return false;
  switch (provider) {
    case "generic":
      return genericOracle(req);
    case "twilio":
      return twilioOracle(req);
    case "vonage":
      return vonageOracle(req);
    case "plivo":
      return plivoOracle(req);
    case "telnyx":
      return telnyxOracle(req);
    case "bird":
      return birdOracle(req);
    case "messagebird":
      return messageBirdOracle(req);
    default:
      return false;
  }
}

const SINCH_HEADERS = ["x-sinch-webhook-signature", "x-sinch-webhook-signature-nonce", "x-sinch-webhook-signature-timestamp", "x-sinch-webhook-signature-algorithm"];

/**
 * Sinch: the official SDK's `SmsCallbackWebhooks.validateAuthenticationHeader` (HMAC-SHA256 over
 * body.nonce.timestamp), and a Unix-seconds timestamp inside Sinch's retry window (a day old, 5 min
 * ahead), which the SDK does not check.
 */
function sinchOracle(req: Req): boolean {
  const headers: Record<string, string> = {};
  for (const name of SINCH_HEADERS) {
    const value = headerOf(req, name);
    if (value !== undefined) headers[name] = value;
  }
  const ts = headers["x-sinch-webhook-signature-timestamp"];
  if (ts === undefined || !/^\d+$/.test(ts) || NOW_S - Number(ts) > 24 * 3600 || Number(ts) - NOW_S > 300) return false;
  const algorithm = headers["x-sinch-webhook-signature-algorithm"];
  if (algorithm !== undefined && algorithm !== "HmacSHA256") return false;
  return new SmsCallbackWebhooks(SECRETS.sinch).validateAuthenticationHeader(headers, req.body.toString("utf8"));
}

/** Standard Webhooks: v1,Base64(HMAC-SHA256(key, id.timestamp.body)) in a space-separated list, ±5 min. */
function genericOracle(req: Req): boolean {
  const id = headerOf(req, "webhook-id");
  const ts = headerOf(req, "webhook-timestamp");
  const signatures = headerOf(req, "webhook-signature");
  if (!id || !ts || !signatures || !/^\d+$/.test(ts) || Math.abs(NOW_S - Number(ts)) > 300) return false;
  const key = Buffer.from(TEST_GENERIC_SECRET.slice("whsec_".length), "base64");
  // The libraries sign the timestamp as a number (so a leading zero is the same timestamp).
  const expected = createHmac("sha256", key).update(`${id}.${Number(ts)}.`).update(req.body).digest("base64");
  return signatures.split(" ").includes(`v1,${expected}`);
}

/** Twilio, with the official package's `getExpectedTwilioSignature`; the URL with and without :443. */
function twilioOracle(req: Req): boolean {
  const signature = headerOf(req, "x-twilio-signature");
  if (!signature) return false;
  const params: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (req.method === "POST") {
    for (const [name, value] of new URLSearchParams(req.body.toString("utf8"))) {
      const seen = params[name];
      params[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
  }
  const url = publicUrl(req);
  return [url, url.replace(BASE, `${BASE}:443`)].some((u) => getExpectedTwilioSignature(SECRETS.twilio, u, params) === signature);
}

/** Vonage: Messages API when a bearer token is sent (POST), SMS API parameters otherwise. */
function vonageOracle(req: Req): boolean {
  const auth = headerOf(req, "authorization");
  if (req.method === "POST" && auth && /^bearer\s/i.test(auth)) return vonageJwtOracle(req, auth.replace(/^bearer\s+/i, "").trim());
  let entries: [string, string][];
  if (req.method === "GET") entries = [...new URLSearchParams(splitPath(req.path).query ?? "")];
  else {
    const type = headerOf(req, "content-type");
    const text = req.body.toString("utf8");
    const json = type ? /json/i.test(type) : text.trimStart().startsWith("{");
    if (json) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return false;
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) return false;
      entries = [];
      for (const [name, value] of Object.entries(body)) {
        if (typeof value === "string") entries.push([name, value]);
        else if (typeof value === "number" || typeof value === "boolean") entries.push([name, String(value)]);
        else return false;
      }
    } else entries = [...new URLSearchParams(text)];
  }
  const params = new Map<string, string>();
  for (const [name, value] of entries) {
    if (params.has(name)) return false; // which of the two was signed? ambiguous: not authentic
    params.set(name, value);
  }
  const sig = params.get("sig");
  const ts = params.get("timestamp");
  if (!sig || !ts || !/^\d+$/.test(ts)) return false;
  const age = NOW_S - Number(ts);
  if (age > 25 * 3600 || age < -300) return false;
  const signed = [...params.keys()]
    .filter((n) => n !== "sig")
    .sort()
    .map((n) => `&${n}=${params.get(n)!.replace(/[&=]/g, "_")}`)
    .join("");
  return sig.toLowerCase() === createHmac("sha256", SECRETS.vonage).update(signed, "utf8").digest("hex");
}

/** Vonage Messages API: HS256 JWT with the signature secret, iat within 25 h, payload_hash = SHA-256 of the body. */
function vonageJwtOracle(req: Req, token: string): boolean {
  const parts = token.split(".");
  if (parts.length !== 3) return false;
  try {
    const header = b64urlJson(parts[0]!) as { alg?: unknown };
    if (header.alg !== "HS256") return false;
    if (createHmac("sha256", SECRETS.vonage).update(`${parts[0]}.${parts[1]}`).digest("base64url") !== parts[2]) return false;
    const claims = b64urlJson(parts[1]!) as Record<string, unknown>;
    const { iat, exp, nbf, payload_hash: payloadHash } = claims;
    if (typeof iat !== "number" || NOW_S - iat > 25 * 3600 || iat - NOW_S > 300) return false;
    if (exp !== undefined && (typeof exp !== "number" || NOW_S > exp + 300)) return false;
    if (nbf !== undefined && (typeof nbf !== "number" || NOW_S < nbf - 300)) return false;
    return typeof payloadHash === "string" && payloadHash.toLowerCase() === sha256hex(req.body);
  } catch {
    return false;
  }
}

/** Plivo V3 (V2 is not accepted): HMAC-SHA256(token, base + "." + nonce), base from the URL and the sorted parameters. */
function plivoOracle(req: Req): boolean {
  const nonce = headerOf(req, "x-plivo-signature-v3-nonce");
  const presented = ["x-plivo-signature-v3", "x-plivo-signature-ma-v3"].flatMap((n) => headerOf(req, n)?.split(",").map((s) => s.trim()) ?? []);
  if (!nonce || presented.length === 0) return false;
  const { pathname, query } = splitPath(req.path);
  const sortPairs = (pairs: [string, string][]) => pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  const queryPart = sortPairs([...new URLSearchParams(query ?? "")])
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const post = req.method === "POST" ? sortPairs([...new URLSearchParams(req.body.toString("utf8"))]) : [];
  let base = `${BASE}${pathname}`;
  if (queryPart.length > 0 || post.length > 0) base += `?${queryPart}`;
  if (queryPart.length > 0 && post.length > 0) base += ".";
  base += post.map(([k, v]) => k + v).join("");
  const expected = createHmac("sha256", SECRETS.plivo).update(`${base}.${nonce}`, "utf8").digest("base64");
  return presented.includes(expected);
}

/** Telnyx: Ed25519 over `timestamp|body`, canonical Base64 of 64 bytes, ±300 s. */
function telnyxOracle(req: Req): boolean {
  const signature = headerOf(req, "telnyx-signature-ed25519");
  const ts = headerOf(req, "telnyx-timestamp");
  if (!signature || !ts || !/^\d+$/.test(ts) || Math.abs(NOW_S - Number(ts)) > 300) return false;
  const bytes = Buffer.from(signature, "base64");
  if (bytes.length !== 64 || bytes.toString("base64") !== signature) return false;
  return verifyEd25519(null, Buffer.concat([Buffer.from(`${ts}|`), req.body]), telnyxPublicKey, bytes);
}

/** Bird: Base64(HMAC-SHA256(key, ts \n full URL \n SHA-256(body))), up to 25 h old, 5 min ahead. */
function birdOracle(req: Req): boolean {
  const signature = headerOf(req, "messagebird-signature");
  const ts = headerOf(req, "messagebird-request-timestamp");
  if (!signature || !ts || !/^\d+$/.test(ts)) return false;
  const age = NOW_S - Number(ts);
  if (age > 25 * 3600 || age < -300) return false;
  const mac = createHmac("sha256", SECRETS.bird).update(`${ts}\n${publicUrl(req)}\n`).update(sha256(req.body)).digest("base64");
  return signature === mac;
}

/** Go's url.QueryEscape (the Go SDK's spelling of the sorted query). */
function goQueryEscape(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** MessageBird: either signature suffices. */
function messageBirdOracle(req: Req): boolean {
  const jwt = headerOf(req, "messagebird-signature-jwt");
  const legacy = headerOf(req, "messagebird-signature");
  return Boolean((jwt && messageBirdJwtOracle(req, jwt)) || (legacy && messageBirdLegacyOracle(req, legacy)));
}

/** Older MessageBird-Signature: HMAC over ts \n sorted query (Go or Node spelling) \n SHA-256(body), ±5 min. */
function messageBirdLegacyOracle(req: Req, signature: string): boolean {
  const ts = headerOf(req, "messagebird-request-timestamp");
  if (!ts || !/^\d+$/.test(ts) || Math.abs(NOW_S - Number(ts)) > 300) return false;
  const pairs = [...new URLSearchParams(splitPath(req.path).query ?? "")].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [goQueryEscape, encodeURIComponent].some((escape) => {
    const sorted = pairs.map(([k, v]) => `${escape(k)}=${escape(v)}`).join("&");
    return createHmac("sha256", SECRETS.messagebird).update(`${ts}\n${sorted}\n`).update(sha256(req.body)).digest("base64") === signature;
  });
}

/** MessageBird-Signature-JWT: HS256/384/512, iss MessageBird, exp/nbf with 5 s leeway, jti, url_hash, payload_hash. */
function messageBirdJwtOracle(req: Req, token: string): boolean {
  const parts = token.split(".");
  if (parts.length !== 3) return false;
  try {
    const header = b64urlJson(parts[0]!) as { alg?: unknown };
    const hash = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[String(header.alg)];
    if (!hash || createHmac(hash, SECRETS.messagebird).update(`${parts[0]}.${parts[1]}`).digest("base64url") !== parts[2]) return false;
    const c = b64urlJson(parts[1]!) as Record<string, unknown>;
    if (c.iss !== "MessageBird" || typeof c.jti !== "string" || c.jti === "") return false;
    if (typeof c.exp !== "number" || c.exp <= NOW_S - 5) return false;
    if (c.nbf !== undefined && (typeof c.nbf !== "number" || c.nbf > NOW_S + 5)) return false;
    if (c.iat !== undefined && (typeof c.iat !== "number" || c.iat > NOW_S + 5)) return false;
    if (typeof c.url_hash !== "string" || c.url_hash.toLowerCase() !== sha256hex(publicUrl(req))) return false;
    if (req.body.length > 0) return typeof c.payload_hash === "string" && c.payload_hash.toLowerCase() === sha256hex(req.body);
    return c.payload_hash === undefined;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Scheme variants: how each signs, where its fields, signature and timestamp are

type Ctx = { number: string; phone: string; code: string; text: string };
type SignOpts = { messageId: string; foreign?: boolean; ts?: number; signedUrl?: string; claims?: Record<string, unknown> };
type JPath = (string | number)[];
type Field = string | JPath;
type Target = "code" | "sender" | "recipient" | "messageId";
type ParamsModel = { loc: "query" | "form" | "json"; fields: Record<Target, Field | undefined> };
type SigModel = { at: "header" | "param"; name: string; prefix: string; encoding: "base64" | "hex" | "jwt"; bytes: number; duplicate: boolean };
type TsModel = { at: "header" | "param" | "jwt"; name: string; past: number; future: number };
type Family = "bytes" | "param" | "signature" | "jwt" | "timestamp" | "aux" | "url" | "token";

type Variant = {
  key: string;
  provider: ProviderName;
  numRuns: number;
  messageId: (hex: string, n: number) => string;
  sign: (ctx: Ctx, o: SignOpts) => Promise<Signed> | Signed;
  params?: ParamsModel;
  sig?: SigModel;
  ts?: TsModel;
  jwt?: { key: string; ops: string[] };
  aux?: string[];
  urlOps: string[];
  token?: string;
  families: [Family, number][];
};

const uuid = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
const digitsOf = (hex: string, n: number) => [...hex].map((c) => String(parseInt(c, 16) % 10)).join("").slice(0, n);
const digitsOnly = (n: string) => n.replace(/^\+/, "");
const now = () => clock.now();

/** URL mutations of a scheme that signs the full URL. */
const FULL_URL_OPS = ["signed-for-host", "signed-for-scheme", "signed-for-port", "signed-for-path", "signed-for-query", "sent-trailing-slash", "sent-case", "sent-pct", "sent-query-added", "other-endpoint"];
const HEADER_SIG_OPS = ["char", "char-any", "truncate", "append", "drop", "case", "swap-other", "swap-foreign", "swap-random"];
const HEADER_TS_OPS = ["shift", "resign-past", "resign-future", "drop", "format"];
const TOKEN_OPS = ["char", "case-one", "delete", "insert", "truncate", "append", "doubled", "other-token", "drop", "in-query", "whole-case", "other-provider-path"];

function twilioVariant(method: "POST" | "GET", numRuns: number): Variant {
  const loc = method === "POST" ? "form" : "query";
  return {
    key: `twilio (${method === "POST" ? "POST form" : "GET"})`,
    provider: "twilio",
    numRuns,
    messageId: (hex) => `SM${hex.slice(0, 32)}`,
    sign: (c, o) =>
      signTwilioRequest({
        secret: o.foreign ? FOREIGN.twilio : SECRETS.twilio,
        params: twilioInboundParams({ from: c.phone, to: c.number, body: c.text, messageSid: o.messageId }),
        method,
        ...(o.signedUrl ? { signedUrl: o.signedUrl } : {}),
      }),
    params: { loc, fields: { code: "Body", sender: "From", recipient: "To", messageId: "MessageSid" } },
    sig: { at: "header", name: "x-twilio-signature", prefix: "", encoding: "base64", bytes: 20, duplicate: true },
    urlOps: [...FULL_URL_OPS, "method-switch", ...(method === "GET" ? ["sent-query-reordered"] : [])],
    families: [
      ["bytes", 3],
      ["param", 3],
      ["signature", 2],
      ["url", 3],
    ],
  };
}

function vonageSmsVariant(transport: "get" | "form" | "json", numRuns: number): Variant {
  return {
    key: `vonage SMS API (${transport === "get" ? "GET" : transport === "form" ? "POST form" : "POST JSON"})`,
    provider: "vonage",
    numRuns,
    messageId: (_hex, n) => `1600000263${String(n).padStart(6, "0")}`,
    sign: (c, o) =>
      signVonageRequest({
        api: "sms",
        secret: o.foreign ? FOREIGN.vonage : SECRETS.vonage,
        params: vonageSmsApiParams({ from: c.phone, to: c.number, text: c.text, messageId: o.messageId, at: now() }),
        timestampSeconds: o.ts ?? NOW_S,
        nonce: uuid(sha256hex(o.messageId)),
        transport,
      }),
    params: { loc: transport === "get" ? "query" : transport, fields: { code: "text", sender: "msisdn", recipient: "to", messageId: "messageId" } },
    sig: { at: "param", name: "sig", prefix: "", encoding: "hex", bytes: 32, duplicate: true },
    ts: { at: "param", name: "timestamp", past: 25 * 3600, future: 300 },
    aux: ["nonce:char", "nonce:drop", "nonce:swap", ...(transport === "get" ? [] : ["content-type:swap"])],
    urlOps: ["other-endpoint"],
    families: [
      ["bytes", 3],
      ["param", 3],
      ["signature", 2],
      ["timestamp", 2],
      ["aux", 1],
      ["url", 1],
    ],
  };
}

function plivoVariant(method: "POST" | "GET", numRuns: number): Variant {
  return {
    key: `plivo V3 (${method === "POST" ? "POST form" : "GET"})`,
    provider: "plivo",
    numRuns,
    messageId: (hex) => uuid(hex),
    sign: (c, o) =>
      signPlivoRequest({
        secret: o.foreign ? FOREIGN.plivo : SECRETS.plivo,
        params: plivoInboundParams({ from: c.phone, to: c.number, text: c.text, messageUuid: o.messageId }),
        method,
        nonce: digitsOf(sha256hex(o.messageId), 20),
        ...(o.signedUrl ? { signedUrl: o.signedUrl } : {}),
      }),
    params: { loc: method === "POST" ? "form" : "query", fields: { code: "Text", sender: "From", recipient: "To", messageId: "MessageUUID" } },
    // The header holds a comma-separated list by design: a duplicated header is the same list.
    sig: { at: "header", name: "x-plivo-signature-v3", prefix: "", encoding: "base64", bytes: 32, duplicate: false },
    aux: ["nonce:char", "nonce:append", "nonce:truncate", "nonce:drop", "nonce:swap", "v2-instead"],
    urlOps: [...FULL_URL_OPS, "method-switch"],
    families: [
      ["bytes", 3],
      ["param", 3],
      ["signature", 2],
      ["aux", 1],
      ["url", 3],
    ],
  };
}

function messageBirdHmacVariant(method: "GET" | "POST", numRuns: number): Variant {
  return {
    key: `messagebird HMAC (${method === "GET" ? "GET" : "POST form"})`,
    provider: "messagebird",
    numRuns,
    messageId: (hex) => hex.slice(0, 32),
    sign: (c, o) =>
      signMessageBirdRequest({
        signingKey: o.foreign ? FOREIGN.messagebird : SECRETS.messagebird,
        params: messageBirdInboundParams({ from: c.phone, to: c.number, body: c.text, id: o.messageId, createdAt: now() }),
        now: now(),
        ...(o.ts !== undefined ? { timestampSeconds: o.ts } : {}),
        method,
        bodyFormat: "form",
      }),
    params: { loc: method === "GET" ? "query" : "form", fields: { code: "body", sender: "originator", recipient: "recipient", messageId: "id" } },
    sig: { at: "header", name: "messagebird-signature", prefix: "", encoding: "base64", bytes: 32, duplicate: true },
    ts: { at: "header", name: "messagebird-request-timestamp", past: 300, future: 300 },
    // Only the query is signed (not scheme, host or path); its order is not (sorted).
    urlOps: ["sent-query-added", "other-endpoint", "method-switch"],
    families: [
      ["bytes", 3],
      ["param", 3],
      ["signature", 2],
      ["timestamp", 2],
      ["url", 2],
    ],
  };
}

function messageBirdJwtVariant(method: "GET" | "POST", numRuns: number): Variant {
  return {
    key: `messagebird JWT (${method === "GET" ? "GET" : "POST JSON"})`,
    provider: "messagebird",
    numRuns,
    messageId: (hex) => hex.slice(0, 32),
    sign: (c, o) =>
      signMessageBirdJwtRequest({
        signingKey: o.foreign ? FOREIGN.messagebird : SECRETS.messagebird,
        params: messageBirdInboundParams({ from: c.phone, to: c.number, body: c.text, id: o.messageId, createdAt: now() }),
        now: now(),
        ...(o.ts !== undefined ? { timestampSeconds: o.ts } : {}),
        method,
        bodyFormat: "json",
        ...(o.signedUrl ? { signedUrl: o.signedUrl } : {}),
      }),
    params:
      method === "GET"
        ? { loc: "query", fields: { code: "body", sender: "originator", recipient: "recipient", messageId: "id" } }
        : { loc: "json", fields: { code: ["body"], sender: ["originator"], recipient: ["recipient"], messageId: ["id"] } },
    sig: { at: "header", name: "messagebird-signature-jwt", prefix: "", encoding: "jwt", bytes: 32, duplicate: true },
    // nbf = the signing time, exp = nbf + 60: expired 65 s after signing (5 s leeway), not valid before nbf − 5 s.
    ts: { at: "jwt", name: "nbf", past: 64, future: 5 },
    jwt: {
      key: SECRETS.messagebird,
      ops: ["tamper-claim", "tamper-header", "alg-none", "resign-other-url", "resign-other-body", "resign-without-url_hash", "resign-without-jti", "resign-iss"],
    },
    urlOps: [...FULL_URL_OPS, "method-switch", ...(method === "GET" ? ["sent-query-reordered"] : [])],
    families: [
      ["bytes", 3],
      ["param", 2],
      ["signature", 2],
      ["jwt", 2],
      ["timestamp", 1],
      ["url", 3],
    ],
  };
}

function pathTokenVariant(key: string, provider: keyof typeof TOKENS, numRuns: number, sign: (c: Ctx, o: SignOpts, token: string) => Signed, messageId: (hex: string, n: number) => string): Variant {
  return {
    key,
    provider,
    numRuns,
    messageId,
    sign: (c, o) => sign(c, o, o.foreign ? FOREIGN_TOKEN : TOKENS[provider]),
    token: TOKENS[provider],
    urlOps: [],
    families: [["token", 1]],
  };
}

const VARIANTS: Variant[] = [
  {
    key: "generic (Standard Webhooks)",
    provider: "generic",
    numRuns: 220,
    messageId: (hex) => `sms_${hex.slice(0, 24)}`,
    sign: (c, o) => {
      const s = h.signedGeneric(
        { messageId: o.messageId, from: c.phone, to: c.number, text: c.text },
        { secret: o.foreign ? FOREIGN.generic : TEST_GENERIC_SECRET, timestamp: o.ts ?? NOW_S, id: `wh_${o.messageId}` },
      );
      return { method: "POST", path: "/v1/inbound/generic", headers: s.headers, body: s.body };
    },
    params: { loc: "json", fields: { code: ["text"], sender: ["from"], recipient: ["to"], messageId: ["messageId"] } },
    // The header is a space-separated list by design: a duplicated header is the same list.
    sig: { at: "header", name: "webhook-signature", prefix: "v1,", encoding: "base64", bytes: 32, duplicate: false },
    ts: { at: "header", name: "webhook-timestamp", past: 300, future: 300 },
    aux: ["webhook-id:char", "webhook-id:append", "webhook-id:truncate", "webhook-id:drop", "webhook-id:swap"],
    urlOps: ["other-endpoint"],
    families: [
      ["bytes", 3],
      ["param", 3],
      ["signature", 2],
      ["timestamp", 2],
      ["aux", 1],
      ["url", 1],
    ],
  },
  twilioVariant("POST", 200),
  twilioVariant("GET", 110),
  vonageSmsVariant("get", 130),
  vonageSmsVariant("form", 110),
  vonageSmsVariant("json", 110),
  {
    key: "vonage Messages API (JWT)",
    provider: "vonage",
    numRuns: 200,
    messageId: (hex) => uuid(hex),
    sign: (c, o) =>
      signVonageRequest({
        api: "messages",
        secret: o.foreign ? FOREIGN.vonage : SECRETS.vonage,
        payload: vonageMessagesApiPayload({ from: c.phone, to: c.number, text: c.text, messageUuid: o.messageId, at: now() }),
        issuedAtSeconds: o.ts ?? NOW_S,
        ...(o.claims ? { claims: o.claims } : {}),
      }),
    params: { loc: "json", fields: { code: ["text"], sender: ["from"], recipient: ["to"], messageId: ["message_uuid"] } },
    // Node keeps the first of two Authorization headers: a duplicate is the same request.
    sig: { at: "header", name: "authorization", prefix: "Bearer ", encoding: "jwt", bytes: 32, duplicate: false },
    ts: { at: "jwt", name: "iat", past: 25 * 3600, future: 300 },
    jwt: { key: SECRETS.vonage, ops: ["tamper-claim", "tamper-header", "alg-none", "resign-other-body", "resign-without-payload_hash", "resign-alg", "resign-exp-past", "no-bearer"] },
    urlOps: ["other-endpoint"],
    families: [
      ["bytes", 3],
      ["param", 3],
      ["signature", 2],
      ["jwt", 2],
      ["timestamp", 2],
      ["url", 1],
    ],
  },
  plivoVariant("POST", 190),
  plivoVariant("GET", 110),
  {
    key: "telnyx (Ed25519)",
    provider: "telnyx",
    numRuns: 200,
    messageId: (hex) => uuid(hex),
    sign: (c, o) =>
      signTelnyxRequest({
        privateKey: o.foreign ? telnyxForeignKeys.privateKey : telnyxKeys.privateKey,
        payload: telnyxInboundEvent({ from: c.phone, to: c.number, text: c.text, messageId: o.messageId, occurredAt: now() }),
        now: now(),
        ...(o.ts !== undefined ? { timestampSeconds: o.ts } : {}),
      }),
    params: {
      loc: "json",
      fields: { code: ["data", "payload", "text"], sender: ["data", "payload", "from", "phone_number"], recipient: ["data", "payload", "to", 0, "phone_number"], messageId: ["data", "payload", "id"] },
    },
    sig: { at: "header", name: "telnyx-signature-ed25519", prefix: "", encoding: "base64", bytes: 64, duplicate: true },
    ts: { at: "header", name: "telnyx-timestamp", past: 300, future: 300 },
    urlOps: ["other-endpoint"],
    families: [
      ["bytes", 3],
      ["param", 3],
      ["signature", 2],
      ["timestamp", 2],
      ["url", 1],
    ],
  },
  {
    key: "bird",
    provider: "bird",
    numRuns: 220,
    messageId: (hex) => uuid(hex),
    sign: (c, o) =>
      signBirdRequest({
        signingKey: o.foreign ? FOREIGN.bird : SECRETS.bird,
        payload: birdInboundEvent({ from: c.phone, text: c.text, messageId: o.messageId, createdAt: now() }),
        now: now(),
        ...(o.ts !== undefined ? { timestampSeconds: o.ts } : {}),
        path: birdPathForNumber(c.number),
        ...(o.signedUrl ? { signedUrl: o.signedUrl } : {}),
      }),
    params: {
      loc: "json",
      fields: {
        code: ["payload", "body", "text", "text"],
        sender: ["payload", "sender", "contact", "identifierValue"],
        recipient: ["payload", "receiver", "connector", "identifierValue"],
        messageId: ["payload", "id"],
      },
    },
    sig: { at: "header", name: "messagebird-signature", prefix: "", encoding: "base64", bytes: 32, duplicate: true },
    // Bird retries with the original timestamp for hours: up to 25 h old is accepted.
    ts: { at: "header", name: "messagebird-request-timestamp", past: 25 * 3600, future: 300 },
    urlOps: [...FULL_URL_OPS, "sent-number"],
    families: [
      ["bytes", 3],
      ["param", 3],
      ["signature", 2],
      ["timestamp", 2],
      ["url", 3],
    ],
  },
  messageBirdHmacVariant("GET", 140),
  messageBirdHmacVariant("POST", 110),
  messageBirdJwtVariant("GET", 130),
  messageBirdJwtVariant("POST", 110),
  pathTokenVariant(
    "smsmode (GET reply, path token)",
    "smsmode",
    70,
    (c, o, token) => signSmsmodeRequest({ token, format: "reply", query: smsmodeReply({ from: c.phone, to: c.number, text: c.text, responseID: o.messageId, receivedAt: now() }) }),
    (hex) => hex.slice(0, 20),
  ),
  pathTokenVariant(
    "smsmode (POST REST, path token)",
    "smsmode",
    60,
    (c, o, token) => signSmsmodeRequest({ token, format: "rest", payload: smsmodeRestMo({ from: c.phone, to: c.number, text: c.text, messageId: o.messageId, receivedAt: now() }) }),
    (hex) => hex.slice(0, 20),
  ),
  {
    key: "sinch (HMAC signature)",
    provider: "sinch",
    numRuns: 200,
    messageId: (hex) => hex.slice(0, 26).toUpperCase(),
    sign: (c, o) =>
      signSinchHmacRequest({
        secret: o.foreign ? FOREIGN.sinch : SECRETS.sinch,
        payload: sinchMoText({ from: c.phone, to: c.number, body: c.text, id: o.messageId, receivedAt: now() }),
        timestampSeconds: o.ts ?? NOW_S,
        // A ULID-looking nonce of its own per message (a swapped nonce is then another one).
        nonce: sha256hex(o.messageId).slice(0, 26).toUpperCase(),
      }),
    params: { loc: "json", fields: { code: ["body"], sender: ["from"], recipient: ["to"], messageId: ["id"] } },
    sig: { at: "header", name: "x-sinch-webhook-signature", prefix: "", encoding: "base64", bytes: 32, duplicate: true },
    // Sinch retries for up to 22 h 45 min: a day-old signature is accepted.
    ts: { at: "header", name: "x-sinch-webhook-signature-timestamp", past: 24 * 3600, future: 300 },
    aux: [
      "x-sinch-webhook-signature-nonce:char",
      "x-sinch-webhook-signature-nonce:append",
      "x-sinch-webhook-signature-nonce:truncate",
      "x-sinch-webhook-signature-nonce:drop",
      "x-sinch-webhook-signature-nonce:swap",
      "x-sinch-webhook-signature-algorithm:char",
    ],
    urlOps: ["other-endpoint"],
    families: [
      ["bytes", 3],
      ["param", 3],
      ["signature", 2],
      ["timestamp", 2],
      ["aux", 1],
      ["url", 1],
    ],
  },
  pathTokenVariant(
    "sinch (path token)",
    "sinch",
    80,
    (c, o, token) => signSinchRequest({ token, payload: sinchMoText({ from: c.phone, to: c.number, body: c.text, id: o.messageId, receivedAt: now() }) }),
    (hex) => hex.slice(0, 26).toUpperCase(),
  ),
  pathTokenVariant(
    "infobip (path token)",
    "infobip",
    80,
    (c, o, token) => signInfobipRequest({ token, payload: infobipBatch([infobipInbound({ from: c.phone, to: c.number, text: c.text, messageId: o.messageId, receivedAt: now() })]) }),
    (hex) => digitsOf(hex, 22),
  ),
];

// ---------------------------------------------------------------------------------------------
// Parameters: raw `name=value` pairs of a query or form (others keep their exact spelling), or JSON

const splitPairs = (raw: string) => (raw === "" ? [] : raw.split("&"));
function decodePair(raw: string): [string, string] {
  const eq = raw.indexOf("=");
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, " "));
    } catch {
      return s;
    }
  };
  return eq < 0 ? [dec(raw), ""] : [dec(raw.slice(0, eq)), dec(raw.slice(eq + 1))];
}
const encodePair = (name: string, value: string) => new URLSearchParams([[name, value]]).toString();

function rawParams(req: Req, loc: "query" | "form"): string {
  return loc === "query" ? (splitPath(req.path).query ?? "") : req.body.toString("utf8");
}
function withRawParams(req: Req, loc: "query" | "form", raw: string): Req {
  if (loc === "query") return { ...req, path: joinPath(splitPath(req.path).pathname, raw) };
  return { ...req, body: Buffer.from(raw, "utf8") };
}

function parseJsonBody(req: Req): unknown {
  try {
    return JSON.parse(req.body.toString("utf8"));
  } catch {
    return undefined;
  }
}
function jsonGet(root: unknown, path: JPath): unknown {
  let at: unknown = root;
  for (const p of path) {
    if (at === null || typeof at !== "object") return undefined;
    at = (at as Record<string | number, unknown>)[p];
  }
  return at;
}
/** A copy of root with the value at path replaced (created if missing), or removed when `remove`. */
function jsonSet(root: unknown, path: JPath, value: unknown, remove = false): unknown {
  const copy = structuredClone(root);
  let at = copy as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) {
    if (at[p] === null || typeof at[p] !== "object") at[p] = {};
    at = at[p] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(at) && typeof last === "number") at.splice(last, 1);
    else delete at[last];
  } else Object.defineProperty(at, last, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}
function leafPaths(v: unknown, at: JPath = []): JPath[] {
  if (Array.isArray(v)) return v.length === 0 ? [at] : v.flatMap((x, i) => leafPaths(x, [...at, i]));
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v);
    return entries.length === 0 ? [at] : entries.flatMap(([k, x]) => leafPaths(x, [...at, k]));
  }
  return [at];
}
function objectPaths(v: unknown, at: JPath = []): JPath[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => objectPaths(x, [...at, i]));
  if (v !== null && typeof v === "object") return [at, ...Object.entries(v).flatMap(([k, x]) => objectPaths(x, [...at, k]))];
  return [];
}
/** JSON text with the key at `path` written twice (the duplicate before or after the original). */
function stringifyWithDuplicate(root: unknown, path: JPath, dupValue: unknown, dupFirst: boolean): string {
  const parent = path.slice(0, -1);
  const key = path[path.length - 1];
  const ser = (v: unknown, at: JPath): string => {
    if (Array.isArray(v)) return `[${v.map((x, i) => ser(x, [...at, i])).join(",")}]`;
    if (v !== null && typeof v === "object") {
      const parts: string[] = [];
      const here = at.length === parent.length && at.every((p, i) => p === parent[i]);
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) continue;
        const entry = `${JSON.stringify(k)}:${ser(x, [...at, k])}`;
        if (here && k === key) {
          const dup = `${JSON.stringify(k)}:${JSON.stringify(dupValue)}`;
          parts.push(...(dupFirst ? [dup, entry] : [entry, dup]));
        } else parts.push(entry);
      }
      return `{${parts.join(",")}}`;
    }
    return JSON.stringify(v);
  };
  return ser(root, []);
}
const jsonBody = (req: Req, value: unknown): Req => ({ ...req, body: Buffer.from(JSON.stringify(value), "utf8") });

function getParam(req: Req, pm: ParamsModel, field: Field): string | undefined {
  if (pm.loc === "json") {
    const v = jsonGet(parseJsonBody(req), Array.isArray(field) ? field : [field]);
    return typeof v === "string" ? v : v === undefined ? undefined : JSON.stringify(v);
  }
  const pair = splitPairs(rawParams(req, pm.loc)).find((p) => decodePair(p)[0] === field);
  return pair === undefined ? undefined : decodePair(pair)[1];
}
/** Sets (or removes, with undefined) the first occurrence of a parameter; the others keep their spelling. */
function setParam(req: Req, pm: ParamsModel, field: Field, value: string | undefined): Req {
  if (pm.loc === "json") return jsonBody(req, jsonSet(parseJsonBody(req), Array.isArray(field) ? field : [field], value, value === undefined));
  const pairs = splitPairs(rawParams(req, pm.loc));
  const i = pairs.findIndex((p) => decodePair(p)[0] === field);
  if (i < 0) {
    if (value === undefined) return req;
    pairs.push(encodePair(String(field), value));
  } else if (value === undefined) pairs.splice(i, 1);
  else pairs[i] = encodePair(String(field), value);
  return withRawParams(req, pm.loc, pairs.join("&"));
}

// ---------------------------------------------------------------------------------------------
// Mutations

type Mut = { family: Family; op: string; at: number; pick: number; delta: number; small: boolean; byte: number; bit: number; value: string; random: Uint8Array };
type Mutated = { req: Req; label: string };
type RunState = { variant: Variant; ctx: Ctx; otherNumbers: string[] };

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ALPHABETS = {
  base64: `${ALNUM}+/=`,
  hex: "0123456789abcdef",
  jwt: `${ALNUM}-_.`,
  token: `${ALNUM}-_`,
  digits: "0123456789",
  // Printable ASCII that neither Node's HTTP client nor WHATWG URL alters in a query (no space, " # ' < > ` { }).
  query: "!$%&()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_abcdefghijklmnopqrstuvwxyz|~",
  printable: Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join(""),
};
/** A character of `alphabet` other than `c`. */
function otherChar(c: string | undefined, alphabet: string, pick: number): string {
  const choices = [...alphabet].filter((x) => x !== c);
  return choices[pick % choices.length]!;
}
function changeCharAt(text: string, at: number, alphabet: string, pick: number): string {
  if (text.length === 0) return alphabet[pick % alphabet.length]!;
  const i = at % text.length;
  return text.slice(0, i) + otherChar(text[i], alphabet, pick) + text.slice(i + 1);
}
/** One character changed within the same class (digit → digit, hex → hex, letter → letter). */
function changeLike(text: string, at: number, pick: number): string {
  if (text.length === 0) return "x";
  const c = text[at % text.length]!;
  const alphabet = /\d/.test(c) ? ALPHABETS.digits : /[a-f]/.test(c) ? "abcdef" : /[A-F]/.test(c) ? "ABCDEF" : /[a-z]/i.test(c) ? ALNUM.slice(0, 52) : ALPHABETS.printable;
  return changeCharAt(text, at, alphabet, pick);
}
const swapCase = (s: string) => (s === s.toUpperCase() ? s.toLowerCase() : s.toUpperCase());

function randomValue(sm: SigModel, random: Uint8Array): string {
  const bytes = Buffer.from(random.slice(0, sm.bytes));
  return sm.encoding === "hex" ? bytes.toString("hex") : bytes.toString("base64");
}

/** The number written like `like` (with or without +). */
const likeNumber = (like: string | undefined, e164: string) => (like !== undefined && !like.startsWith("+") ? digitsOnly(e164) : e164);

async function otherSigned(s: RunState, o: SignOpts): Promise<Req> {
  return normalize(toReq(await s.variant.sign(s.ctx, o)));
}

function getLoc(v: Variant, req: Req, at: "header" | "param", name: string): string | undefined {
  return at === "header" ? headerOf(req, name) : getParam(req, v.params!, name);
}
function setLoc(v: Variant, req: Req, at: "header" | "param", name: string, value: string | undefined): Req {
  if (at === "param") return setParam(req, v.params!, name, value);
  const headers = { ...req.headers };
  if (value === undefined) delete headers[name];
  else headers[name] = value;
  return { ...req, headers };
}

function mutateBytes(v: Variant, base: Req, m: Mut): Mutated | undefined {
  const inQuery = base.method === "GET";
  const bytes = inQuery ? Buffer.from(splitPath(base.path).query ?? "", "latin1") : base.body;
  if (bytes.length === 0) return undefined;
  const i = m.at % bytes.length;
  const safe = ALPHABETS.query;
  const byte = inQuery ? safe.charCodeAt(m.byte % safe.length) : m.byte;
  let out: Buffer;
  let label: string;
  switch (m.op) {
    case "flip":
      out = Buffer.from(bytes);
      out[i] = bytes[i]! ^ (1 << m.bit);
      label = `bit ${m.bit} of byte ${i} flipped`;
      break;
    case "replace":
      if (bytes[i] === byte) return undefined;
      out = Buffer.from(bytes);
      out[i] = byte;
      label = `byte ${i} 0x${bytes[i]!.toString(16)} → 0x${byte.toString(16)}`;
      break;
    case "insert":
      out = Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
      label = `byte 0x${byte.toString(16)} inserted at ${i}`;
      break;
    default:
      out = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
      label = `byte ${i} (0x${bytes[i]!.toString(16)}) deleted`;
  }
  const req = inQuery ? { ...base, path: joinPath(splitPath(base.path).pathname, out.toString("latin1")) } : { ...base, body: out };
  return { req, label: `${inQuery ? "query" : "body"}: ${label}` };
}

function mutateParam(s: RunState, base: Req, m: Mut, fieldOverride?: string): Mutated | undefined {
  const v = s.variant;
  const pm = v.params!;
  const [op, target] = m.op.split(":") as [string, Target | "any" | undefined];
  const json = pm.loc === "json" ? parseJsonBody(base) : undefined;
  const pairs = pm.loc === "json" ? [] : splitPairs(rawParams(base, pm.loc));
  // The field: a named one, or any parameter / JSON leaf.
  let field: Field | undefined;
  if (fieldOverride !== undefined) field = pm.loc === "json" ? [fieldOverride] : fieldOverride;
  else if (target && target !== "any") field = pm.fields[target];
  else if (pm.loc === "json") {
    const leaves = leafPaths(json).filter((p) => p.length > 0);
    field = leaves[m.pick % leaves.length];
  } else field = pairs.length > 0 ? decodePair(pairs[m.pick % pairs.length]!)[0] : undefined;
  const NEW_NAMES = ["x", "__proto__", "constructor", "status", "concat", "type", "text", "Body", "From", "to", "sig", "id"];

  if (op === "add") {
    const name = NEW_NAMES[m.pick % NEW_NAMES.length]!;
    if (pm.loc === "json") {
      const objects = objectPaths(json);
      const at = objects[m.at % objects.length]!;
      return { req: jsonBody(base, jsonSet(json, [...at, name], m.value)), label: `JSON field ${[...at, name].join(".")} = ${JSON.stringify(m.value)} added` };
    }
    const copy = [...pairs];
    copy.splice(m.at % (copy.length + 1), 0, encodePair(name, m.value));
    return { req: withRawParams(base, pm.loc, copy.join("&")), label: `parameter ${name}=${JSON.stringify(m.value)} added` };
  }
  if (field === undefined) return undefined;
  if (pm.loc === "json" && !Array.isArray(field)) field = [field];
  const name = Array.isArray(field) ? field.join(".") : field;
  if (op === "remove") {
    if (getParam(base, pm, field) === undefined) return undefined;
    return { req: setParam(base, pm, field, undefined), label: `${target ?? "any"} ${name} removed` };
  }

  // A changed value for the field.
  const current = pm.loc === "json" ? jsonGet(json, field as JPath) : getParam(base, pm, field);
  let changed: unknown;
  if (target === "code" && typeof current === "string" && current.includes(s.ctx.code)) {
    const i = m.at % s.ctx.code.length;
    const digit = s.ctx.code[i]!;
    const code = s.ctx.code.slice(0, i) + otherChar(digit, ALPHABETS.digits, m.pick) + s.ctx.code.slice(i + 1);
    changed = current.replace(s.ctx.code, code);
  } else if ((target === "sender" || target === "recipient") && (typeof current === "string" || current === undefined)) {
    const others = target === "sender" ? [PHONES.fr2, PHONES.gb] : s.otherNumbers;
    changed = m.small || current === undefined ? likeNumber(current, others[m.pick % others.length]!) : changeLike(current, current.length - 1 - (m.at % 4), m.pick);
  } else if (typeof current === "string") changed = m.small ? changeLike(current, m.at, m.pick) : current === "" ? "x" : m.value === current ? `${current}x` : m.value;
  else if (typeof current === "number") changed = current + (m.small ? 1 : m.delta);
  else if (typeof current === "boolean") changed = !current;
  else changed = m.value;
  if (changed === current) return undefined;

  if (op === "change") {
    if (pm.loc === "json") return { req: jsonBody(base, jsonSet(json, field as JPath, changed)), label: `${target ?? "any"} ${name}: ${JSON.stringify(current)} → ${JSON.stringify(changed)}` };
    return { req: setParam(base, pm, field, String(changed)), label: `${target ?? "any"} ${name}: ${JSON.stringify(current)} → ${JSON.stringify(changed)}` };
  }
  // duplicate: the same parameter once more, with the same value or the changed one.
  const dupValue = m.small ? current : changed;
  if (pm.loc === "json") {
    const path = field as JPath;
    const last = path[path.length - 1];
    if (typeof last === "number") {
      const arrayPath = path.slice(0, -1);
      const array = jsonGet(json, arrayPath) as unknown[];
      return { req: jsonBody(base, jsonSet(json, arrayPath, [...array.slice(0, last + 1), array[last], ...array.slice(last + 1)])), label: `array element ${name} duplicated` };
    }
    if (current === undefined) return undefined;
    const text = stringifyWithDuplicate(json, path, dupValue, m.bit % 2 === 0);
    return { req: { ...base, body: Buffer.from(text, "utf8") }, label: `JSON key ${name} duplicated (${m.bit % 2 === 0 ? "before" : "after"}, ${JSON.stringify(dupValue)})` };
  }
  const index = pairs.findIndex((p) => decodePair(p)[0] === field);
  if (index < 0) return undefined;
  const copy = [...pairs];
  copy.splice(m.at % (copy.length + 1), 0, m.small ? pairs[index]! : encodePair(String(field), String(dupValue)));
  return { req: withRawParams(base, pm.loc, copy.join("&")), label: `parameter ${name} duplicated (${JSON.stringify(dupValue)})` };
}

async function mutateSignature(s: RunState, base: Req, m: Mut, messageId: string): Promise<Mutated | undefined> {
  const v = s.variant;
  const sm = v.sig!;
  const full = getLoc(v, base, sm.at, sm.name);
  if (full === undefined) return undefined;
  const value = full.slice(sm.prefix.length);
  const alphabet = ALPHABETS[sm.encoding];
  const set = (next: string | undefined, label: string): Mutated => ({ req: setLoc(v, base, sm.at, sm.name, next === undefined ? undefined : sm.prefix + next), label: `${sm.name} ${label}` });
  switch (m.op) {
    case "char":
      return set(changeCharAt(value, m.at, alphabet, m.pick), `char ${m.at % value.length} changed`);
    case "char-any": {
      // Anywhere in the header, prefix included, to any printable character.
      const next = changeCharAt(full, m.at, ALPHABETS.printable, m.pick);
      return { req: setLoc(v, base, sm.at, sm.name, next), label: `${sm.name} char ${m.at % full.length} changed to any printable` };
    }
    case "truncate":
      return set(value.slice(0, m.at % value.length), `truncated to ${m.at % value.length} chars`);
    case "append":
      return set(value + alphabet[m.pick % alphabet.length]!, "one char appended");
    case "drop":
      return set(undefined, "dropped");
    case "case":
      return set(swapCase(value), "case swapped");
    case "duplicate":
      if (sm.at === "header") return { req: { ...base, headers: { ...base.headers, [sm.name]: [full, full] } }, label: `${sm.name} sent twice` };
      return mutateParam(s, base, { ...m, op: "duplicate:any" }, sm.name);
    case "swap-other": {
      const other = await otherSigned(s, { messageId: `${messageId}-other` });
      return set(getLoc(v, other, sm.at, sm.name)!.slice(sm.prefix.length), "swapped with the signature of another message");
    }
    case "swap-foreign": {
      const other = await otherSigned(s, { messageId, foreign: true });
      return set(getLoc(v, other, sm.at, sm.name)!.slice(sm.prefix.length), "swapped with this message signed with another key");
    }
    default: {
      if (sm.encoding === "jwt") {
        const parts = value.split(".");
        return set(`${parts[0]}.${parts[1]}.${Buffer.from(m.random.slice(0, 32)).toString("base64url")}`, "MAC replaced with random bytes");
      }
      return set(randomValue(sm, m.random), "replaced with random bytes of the right length");
    }
  }
}

function hsJwt(header: Record<string, unknown>, claims: Record<string, unknown>, key: string): string {
  const hash = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[String(header.alg)] ?? "sha256";
  const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  return `${input}.${createHmac(hash, key).update(input).digest("base64url")}`;
}

async function mutateJwt(s: RunState, base: Req, m: Mut, messageId: string): Promise<Mutated | undefined> {
  const v = s.variant;
  const sm = v.sig!;
  const token = headerOf(base, sm.name)!.slice(sm.prefix.length);
  const [h64, c64, mac] = token.split(".") as [string, string, string];
  const claims = b64urlJson(c64) as Record<string, unknown>;
  const header = b64urlJson(h64) as Record<string, unknown>;
  const put = (next: string, label: string): Mutated => ({ req: setLoc(v, base, "header", sm.name, sm.prefix + next), label: `JWT ${label}` });
  const resign = (c: Record<string, unknown>, label: string, alg = "HS256") => put(hsJwt({ ...header, alg }, c, v.jwt!.key), `re-signed ${label}`);
  switch (m.op) {
    case "tamper-claim": {
      // A claim changed in the payload, the MAC kept.
      const names = Object.keys(claims);
      const name = names[m.pick % names.length]!;
      const old = claims[name];
      const next = typeof old === "number" ? old + (m.small ? (m.bit % 2 ? 1 : -1) : m.delta) : typeof old === "string" ? changeLike(old, m.at, m.pick) : "x";
      return put(`${h64}.${Buffer.from(JSON.stringify({ ...claims, [name]: next })).toString("base64url")}.${mac}`, `claim ${name} changed without a new MAC`);
    }
    case "tamper-header": {
      const alg = ["HS512", "HS384", "none", "RS256"][m.pick % 4]!;
      return put(`${Buffer.from(JSON.stringify({ ...header, alg })).toString("base64url")}.${c64}.${mac}`, `header alg → ${alg} without a new MAC`);
    }
    case "alg-none":
      return put(`${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${c64}.`, "alg none, no MAC");
    case "resign-other-body": {
      const other = await otherSigned(s, { messageId: `${messageId}-other` });
      const body = other.body.length > 0 ? other.body : Buffer.from(splitPath(other.path).query ?? "");
      return resign({ ...claims, payload_hash: sha256hex(body) }, "for another body (payload_hash)");
    }
    case "resign-other-url": {
      const url = `${publicUrl(base)}${base.path.includes("?") ? "&" : "?"}x=1`;
      return resign({ ...claims, url_hash: sha256hex(url) }, "for another URL (url_hash)");
    }
    case "resign-iss":
      return resign({ ...claims, iss: "MessageBird2" }, "with another issuer");
    case "resign-alg":
      return resign(claims, "with HS512", "HS512");
    case "resign-exp-past":
      return resign({ ...claims, exp: NOW_S - 301 - (m.small ? 0 : m.delta) }, "with exp in the past");
    case "no-bearer":
      return { req: setLoc(v, base, "header", sm.name, token), label: "Authorization without the Bearer scheme" };
    default: {
      // resign-without-<claim>
      const name = m.op.slice("resign-without-".length);
      const { [name]: _removed, ...rest } = claims;
      return resign(rest, `without ${name}`);
    }
  }
}

async function mutateTimestamp(s: RunState, base: Req, m: Mut, messageId: string): Promise<Mutated | undefined> {
  const v = s.variant;
  const tm = v.ts!;
  const beyond = m.small ? 1 : 1 + (m.delta % 3_000_000);
  if (m.op === "resign-past" || m.op === "resign-future") {
    const ts = m.op === "resign-past" ? NOW_S - tm.past - beyond : NOW_S + tm.future + beyond;
    const req = await otherSigned(s, { messageId, ts });
    return { req, label: `re-signed with a timestamp ${m.op === "resign-past" ? `${tm.past + beyond} s old` : `${tm.future + beyond} s ahead`} (window −${tm.past}/+${tm.future} s)` };
  }
  const shift = (m.small ? 1 + (m.delta % 299) : m.delta) * (m.bit % 2 === 0 ? 1 : -1);
  if (tm.at === "jwt") {
    const sm = v.sig!;
    const token = headerOf(base, sm.name)!.slice(sm.prefix.length);
    const [h64, c64, mac] = token.split(".") as [string, string, string];
    const claims = b64urlJson(c64) as Record<string, unknown>;
    if (m.op === "drop") {
      // Re-signed without the time claim the scheme requires (Vonage: iat; MessageBird: exp).
      const name = tm.name === "iat" ? "iat" : "exp";
      const { [name]: _removed, ...rest } = claims;
      return { req: setLoc(v, base, "header", sm.name, sm.prefix + hsJwt(b64urlJson(h64) as Record<string, unknown>, rest, v.jwt!.key)), label: `JWT re-signed without ${name}` };
    }
    const name = tm.name === "iat" ? "iat" : m.pick % 2 === 0 ? "nbf" : "exp";
    const next = { ...claims, [name]: (claims[name] as number) + shift };
    return { req: setLoc(v, base, "header", sm.name, `${sm.prefix}${h64}.${Buffer.from(JSON.stringify(next)).toString("base64url")}.${mac}`), label: `JWT ${name} shifted by ${shift} s, MAC kept` };
  }
  const current = getLoc(v, base, tm.at, tm.name)!;
  if (m.op === "drop") return { req: setLoc(v, base, tm.at, tm.name, undefined), label: `${tm.name} dropped` };
  if (m.op === "format") {
    const forms = [`0${current}`, `+${current}`, `${current}.0`, `${current}000`, `${current}e0`, `${current}x`, `${Number(current) + 0.5}`];
    const next = forms[m.pick % forms.length]!;
    return { req: setLoc(v, base, tm.at, tm.name, next), label: `${tm.name} written ${JSON.stringify(next)}, signature kept` };
  }
  const next = String(Number(current) + shift);
  return { req: setLoc(v, base, tm.at, tm.name, next), label: `${tm.name} shifted by ${shift} s, signature kept` };
}

async function mutateAux(s: RunState, base: Req, m: Mut, messageId: string): Promise<Mutated | undefined> {
  const v = s.variant;
  const [target, op] = m.op.split(":") as [string, string | undefined];
  if (target === "v2-instead") {
    // A valid V2 signature (URL + nonce only: the body is not covered) in place of V3.
    const v2 = toReq(
      signPlivoRequest({
        secret: SECRETS.plivo,
        params: plivoInboundParams({ from: s.ctx.phone, to: s.ctx.number, text: s.ctx.text, messageUuid: messageId }),
        method: base.method,
        version: "v2",
      }),
    );
    const headers = { ...base.headers };
    delete headers["x-plivo-signature-v3"];
    delete headers["x-plivo-signature-v3-nonce"];
    return { req: { ...base, headers: { ...headers, "x-plivo-signature-v2": v2.headers["x-plivo-signature-v2"]!, "x-plivo-signature-v2-nonce": v2.headers["x-plivo-signature-v2-nonce"]! } }, label: "V3 signature replaced by a valid V2 one (V2 not enabled)" };
  }
  if (target === "content-type") {
    const type = headerOf(base, "content-type") ?? "";
    const next = /json/.test(type) ? "application/x-www-form-urlencoded" : "application/json";
    return { req: { ...base, headers: { ...base.headers, "content-type": next } }, label: `content-type ${type} → ${next}` };
  }
  const at = target === "nonce" && v.provider === "vonage" ? "param" : "header";
  const name = target === "nonce" && v.provider === "plivo" ? "x-plivo-signature-v3-nonce" : target;
  const current = getLoc(v, base, at, name);
  if (current === undefined) return undefined;
  switch (op) {
    case "char":
      return { req: setLoc(v, base, at, name, changeLike(current, m.at, m.pick)), label: `${name} char ${m.at % current.length} changed` };
    case "append":
      return { req: setLoc(v, base, at, name, current + ALPHABETS.digits[m.pick % 10]!), label: `${name} one char appended` };
    case "truncate":
      return { req: setLoc(v, base, at, name, current.slice(0, Math.max(1, m.at % current.length))), label: `${name} truncated` };
    case "drop":
      return { req: setLoc(v, base, at, name, undefined), label: `${name} dropped` };
    default: {
      const other = await otherSigned(s, { messageId: `${messageId}-other` });
      return { req: setLoc(v, base, at, name, getLoc(v, other, at, name)), label: `${name} swapped with another message's` };
    }
  }
}

/** Endpoints a request may be re-addressed to (other providers that take its method). */
function otherEndpoint(v: Variant, base: Req, pick: number): Mutated | undefined {
  const targets = PROVIDERS.filter((p) => p.name !== v.provider && p.methods.includes(base.method));
  const target = targets[pick % targets.length]!;
  const { query } = splitPath(base.path);
  // A path token goes with the request only to another path-token provider (our token on its path).
  const pathname = v.token && target.pathToken ? `/v1/inbound/${target.name}/${v.token}` : `/v1/inbound/${target.name}`;
  return { req: { ...base, path: joinPath(pathname, query) }, label: `sent to ${pathname.replace(v.token ?? "\0", "<token>")}` };
}

async function mutateUrl(s: RunState, base: Req, m: Mut, messageId: string): Promise<Mutated | undefined> {
  const v = s.variant;
  const { pathname, query } = splitPath(base.path);
  const url = publicUrl(base);
  const signedFor = async (signedUrl: string, what: string): Promise<Mutated> => {
    const req = await otherSigned(s, { messageId, signedUrl });
    return { req: { ...req, path: base.path }, label: `signed for ${what} (${signedUrl.slice(0, 60)}…), sent to ours` };
  };
  const segments = pathname.split("/");
  switch (m.op) {
    case "signed-for-host":
      return signedFor(url.replace(BASE, ["https://evil.example.test", "https://otp.example.test.evil.example", "https://example.test"][m.pick % 3]!), "another host");
    case "signed-for-scheme":
      return signedFor(url.replace("https://", "http://"), "http");
    case "signed-for-port":
      // Not :443: Twilio has signed HTTPS URLs with and without it (the same endpoint).
      return signedFor(url.replace(BASE, `${BASE}:${[8443, 444, 80][m.pick % 3]}`), "another port");
    case "signed-for-path": {
      const paths = [`${pathname}/x`, `/staging${pathname}`, "/v1/inbound/generic", `${pathname}2`];
      return signedFor(`${BASE}${joinPath(paths[m.pick % paths.length]!, query)}`, "another path");
    }
    case "signed-for-query":
      return signedFor(`${url}${query ? "&" : "?"}${["x=1", "To=%2B447400900999", "debug="][m.pick % 3]}`, "another query");
    case "sent-trailing-slash":
      return { req: { ...base, path: joinPath(`${pathname}/`, query) }, label: "sent with a trailing slash" };
    case "sent-case":
      segments[3] = segments[3]!.toUpperCase();
      return { req: { ...base, path: joinPath(segments.join("/"), query) }, label: "provider segment upper-cased" };
    case "sent-pct": {
      const seg = segments[3]!;
      const i = m.at % seg.length;
      segments[3] = `${seg.slice(0, i)}%${seg.charCodeAt(i).toString(16).toUpperCase()}${seg.slice(i + 1)}`;
      return { req: { ...base, path: joinPath(segments.join("/"), query) }, label: `provider segment char ${i} %-escaped` };
    }
    case "sent-query-added": {
      const extra = ["x=1", "debug=", "To=%2B447400900999", "id=1"][m.pick % 4]!;
      return { req: { ...base, path: `${base.path}${query ? "&" : "?"}${extra}` }, label: `query ${extra} added` };
    }
    case "sent-query-reordered": {
      const pairs = splitPairs(query ?? "");
      if (pairs.length < 2) return undefined;
      const i = m.at % (pairs.length - 1);
      [pairs[i], pairs[i + 1]] = [pairs[i + 1]!, pairs[i]!];
      return { req: { ...base, path: joinPath(pathname, pairs.join("&")) }, label: `query parameters ${i} and ${i + 1} swapped` };
    }
    case "sent-number": {
      const other = s.otherNumbers[m.pick % s.otherNumbers.length]!;
      return { req: { ...base, path: birdPathForNumber(other) }, label: "sent to another number's URL (?number=)" };
    }
    case "method-switch":
      if (base.method === "POST") {
        const headers = { ...base.headers };
        delete headers["content-type"];
        return { req: { method: "GET", path: joinPath(pathname, [query, base.body.toString("utf8")].filter(Boolean).join("&")), headers, body: Buffer.alloc(0) }, label: "POST form sent as GET with the form in the query" };
      }
      return { req: { method: "POST", path: pathname, headers: { ...base.headers, "content-type": "application/x-www-form-urlencoded" }, body: Buffer.from(query ?? "", "utf8") }, label: "GET sent as POST with the query as a form" };
    default:
      return otherEndpoint(v, base, m.pick);
  }
}

function mutateToken(v: Variant, base: Req, m: Mut): Mutated | undefined {
  const { pathname, query } = splitPath(base.path);
  const segments = pathname.split("/");
  const token = segments[4]!;
  const i = m.at % token.length;
  const withToken = (next: string | undefined, label: string): Mutated => {
    const segs = next === undefined ? segments.slice(0, 4) : [...segments.slice(0, 4), next];
    return { req: { ...base, path: joinPath(segs.join("/"), query) }, label: `token ${label}` };
  };
  switch (m.op) {
    case "char":
      return withToken(changeCharAt(token, i, ALPHABETS.token, m.pick), `char ${i} changed`);
    case "case-one": {
      const letters = [...token].map((c, j) => (/[a-z]/i.test(c) ? j : -1)).filter((j) => j >= 0);
      const j = letters[m.at % letters.length]!;
      return withToken(token.slice(0, j) + swapCase(token[j]!) + token.slice(j + 1), `case of char ${j} swapped`);
    }
    case "delete":
      return withToken(token.slice(0, i) + token.slice(i + 1), `char ${i} deleted`);
    case "insert":
      return withToken(token.slice(0, i) + ALPHABETS.token[m.pick % ALPHABETS.token.length]! + token.slice(i), `char inserted at ${i}`);
    case "truncate":
      return withToken(token.slice(0, Math.max(1, i)), `truncated to ${Math.max(1, i)} chars`);
    case "append":
      return withToken(token + ALPHABETS.token.slice(m.pick % 60, (m.pick % 60) + 1 + (m.bit % 3)), "chars appended");
    case "doubled":
      return withToken(token + token, "repeated twice");
    case "other-token": {
      const others = [...Object.values(TOKENS).filter((t) => t !== v.token), FOREIGN_TOKEN];
      return withToken(others[m.pick % others.length]!, "replaced by another provider's (or a foreign) token");
    }
    case "drop":
      return withToken(undefined, "dropped");
    case "in-query":
      return { req: { ...base, path: joinPath(segments.slice(0, 4).join("/"), [query, `token=${token}`].filter(Boolean).join("&")) }, label: "token moved to the query" };
    case "whole-case":
      return withToken(m.bit % 2 ? token.toUpperCase() : token.toLowerCase(), "whole token case-changed");
    default:
      return otherEndpoint(v, base, m.pick);
  }
}

function opsFor(v: Variant, family: Family, method: "GET" | "POST"): string[] {
  switch (family) {
    case "bytes":
      // A query is mutated with the characters that reach the server unaltered (no bit flips).
      return method === "GET" ? ["replace", "insert", "delete"] : ["flip", "replace", "insert", "delete"];
    case "param": {
      const targets = (["code", "sender", "recipient", "messageId"] as const).filter((t) => v.params!.fields[t] !== undefined);
      return ["add", ...["change", "remove", "duplicate"].flatMap((op) => [...targets, "any"].map((t) => `${op}:${t}`))];
    }
    case "signature":
      return [...HEADER_SIG_OPS, ...(v.sig!.duplicate ? ["duplicate"] : [])];
    case "jwt":
      return v.jwt!.ops;
    case "timestamp":
      return v.ts!.at === "jwt" ? ["shift", "resign-past", "resign-future", "drop"] : HEADER_TS_OPS;
    case "aux":
      return v.aux!;
    case "url":
      return v.urlOps;
    case "token":
      return TOKEN_OPS;
  }
}

function arbitraryFor(v: Variant, method: "GET" | "POST"): fc.Arbitrary<Mut> {
  return fc.oneof(
    ...v.families.map(([family, weight]) => ({
      weight,
      arbitrary: fc.record({
        family: fc.constant(family),
        op: fc.constantFrom(...opsFor(v, family, method)),
        at: fc.nat(),
        pick: fc.nat(),
        delta: fc.integer({ min: 1, max: 3_000_000 }),
        small: fc.boolean(),
        byte: fc.integer({ min: 0, max: 255 }),
        bit: fc.integer({ min: 0, max: 7 }),
        value: fc.string({ maxLength: 12 }),
        random: fc.uint8Array({ minLength: 64, maxLength: 64 }),
      }),
    })),
  );
}

async function mutate(s: RunState, base: Req, m: Mut, messageId: string): Promise<Mutated | undefined> {
  switch (m.family) {
    case "bytes":
      return mutateBytes(s.variant, base, m);
    case "param":
      return mutateParam(s, base, m);
    case "signature":
      return mutateSignature(s, base, m, messageId);
    case "jwt":
      return mutateJwt(s, base, m, messageId);
    case "timestamp":
      return mutateTimestamp(s, base, m, messageId);
    case "aux":
      return mutateAux(s, base, m, messageId);
    case "url":
      return mutateUrl(s, base, m, messageId);
    case "token":
      return mutateToken(s.variant, base, m);
  }
}

// ---------------------------------------------------------------------------------------------
// The runs

type CreatedChallenge = { id: string; code: string; pollToken: string; smsBody: string };
type Stats = {
  sent: number;
  r401: number;
  r403: number;
  r400: number;
  accepted: number;
  e5xx: number;
  other4xx: number;
  noop: number;
  families: Record<string, number>;
  codes: Record<string, number>;
  samples400: string[];
  noops: Record<string, number>;
};
type VariantState = RunState & { app: Awaited<ReturnType<Harness["createApp"]>>; target: CreatedChallenge; control: CreatedChallenge; stats: Stats; findings: string[] };

const states = new Map<string, VariantState>();
let snapshot: Record<string, string> | undefined;
let idCounter = 0;

function nextMessageId(v: Variant): string {
  idCounter += 1;
  return v.messageId(sha256hex(`${v.key}#${idCounter}`), idCounter);
}

/** Every table: row count and a digest of all rows (so an UPDATE shows as well as an INSERT). */
async function databaseSnapshot(): Promise<Record<string, string>> {
  const tables = await h.db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations' ORDER BY 1`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await h.db.query<{ n: number; d: string | null }>(`SELECT count(*)::int AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS d FROM "${name}" t`);
    out[name] = `${row?.n ?? 0}:${row?.d ?? ""}`;
  }
  return out;
}

async function statusOf(c: CreatedChallenge): Promise<string> {
  const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return read.body.status as string;
}

function describeRequest(req: Req): string {
  return `${req.method} ${req.path}\n    headers ${JSON.stringify(req.headers)}\n    body ${JSON.stringify(req.body.toString("latin1"))}`;
}

const adapterOf = (v: Variant): ProviderAdapter => h.runtime.providers.get(v.provider)!;

/** The messages the service's adapter reads from a request (or why it cannot). */
function readAs(v: Variant, req: Req): string {
  try {
    return JSON.stringify(adapterOf(v).parse(toInbound(req)));
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}

beforeAll(async () => {
  h = await startHarness({
    clock,
    env: {
      LOG_LEVEL: "warn",
      TWILIO_AUTH_TOKEN: SECRETS.twilio,
      VONAGE_SIGNATURE_SECRET: SECRETS.vonage,
      VONAGE_SIGNATURE_METHOD: "sha256",
      PLIVO_AUTH_TOKEN: SECRETS.plivo,
      TELNYX_PUBLIC_KEY: telnyxKeys.publicKeyBase64,
      BIRD_SIGNING_KEY: SECRETS.bird,
      MESSAGEBIRD_SIGNING_KEY: SECRETS.messagebird,
      SMSMODE_WEBHOOK_TOKEN: TOKENS.smsmode,
      SINCH_WEBHOOK_TOKEN: TOKENS.sinch,
      SINCH_WEBHOOK_SECRET: SECRETS.sinch,
      INFOBIP_WEBHOOK_TOKEN: TOKENS.infobip,
    },
  });
  const numbers = VARIANTS.map((_, i) => `+447400900${String(100 + i)}`);
  for (const [i, variant] of VARIANTS.entries()) {
    const number = numbers[i]!;
    const app = await h.createApp({ name: "Acme", numbers: [{ number, provider: variant.provider }] });
    const control = await h.createChallenge(app.sk, { phone: PHONES.de, purpose: "login" });
    const target = await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" });
    expect([control.status, target.status]).toEqual([201, 201]);
    const t = target.body as CreatedChallenge;
    states.set(variant.key, {
      variant,
      app,
      target: t,
      control: control.body as CreatedChallenge,
      ctx: { number, phone: PHONES.fr, code: t.code, text: t.smsBody },
      // Numbers that are ours too, rented from other providers or by other apps of this one.
      otherNumbers: numbers.filter((n) => n !== number),
      stats: { sent: 0, r401: 0, r403: 0, r400: 0, accepted: 0, e5xx: 0, other4xx: 0, noop: 0, families: {}, codes: {}, samples400: [], noops: {} },
      findings: [],
    });
  }
});

afterAll(async () => {
  await h?.close();
});

describe("single mutations of valid signed webhooks", () => {
  test("controls: for every scheme the unmutated signed request is accepted and verifies a challenge", async () => {
    for (const variant of VARIANTS) {
      const s = states.get(variant.key)!;
      const c = s.control;
      const req = normalize(toReq(await variant.sign({ number: s.ctx.number, phone: PHONES.de, code: c.code, text: c.smsBody }, { messageId: nextMessageId(variant) })));
      expect({ variant: variant.key, oracle: oracle(req) }).toEqual({ variant: variant.key, oracle: true });
      const res = await send(req);
      expect({ variant: variant.key, status: res.status, ok: res.status >= 200 && res.status < 300 }).toMatchObject({ ok: true });
      expect([variant.key, await statusOf(c)]).toEqual([variant.key, "verified"]);
    }
    // The key limits' counts of the set-up's creations are written in batches (at most once a
    // second): written now, so that a batch falling due later does not look like a write of the mutations.
    await h.runtime.flushRateLimits();
    snapshot = await databaseSnapshot();
  });

  test.each(VARIANTS.map((v, i) => [v.key, v, i] as const))("%s: every single mutation is refused", async (_key, variant, index) => {
    const s = states.get(variant.key)!;
    const { stats } = s;
    const method = toReq(await variant.sign(s.ctx, { messageId: "probe" })).method;
    await fc.assert(
      fc.asyncProperty(arbitraryFor(variant, method), async (m) => {
        const messageId = nextMessageId(variant);
        const base = normalize(toReq(await variant.sign(s.ctx, { messageId })));
        // The unmutated request is authentic by the documented scheme and by the service itself.
        if (!oracle(base)) throw new Error(`${variant.key}: the oracle refuses the unmutated request\n    ${describeRequest(base)}`);
        const verdict = await adapterOf(variant).verify(toInbound(base));
        if (!verdict.ok) throw new Error(`${variant.key}: the service refuses the unmutated request (${verdict.code}: ${verdict.reason})`);

        const mutated = await mutate(s, base, m, messageId);
        const req = mutated ? normalize(mutated.req) : undefined;
        let noop = !mutated || !req || sameRequest(req, base);
        // Authentic by the documented scheme (the same signed content): skipped when the service also
        // reads the same message from it; sent when it would read another one (a repeated Twilio
        // field, say), which must then be refused (400), never stored.
        if (!noop && oracle(req!)) noop = readAs(variant, req!) === readAs(variant, base);
        if (noop) {
          stats.noop += 1;
          // Labels without positions and values, so that alike no-ops count together.
          const kind = `${m.family}: ${mutated ? mutated.label.replace(/\d+|"[^"]*"|\(.*\)/g, "…") : "not applicable"}`;
          stats.noops[kind] = (stats.noops[kind] ?? 0) + 1;
        }
        fc.pre(!noop);
        const res = await send(req!);
        stats.sent += 1;
        stats.families[m.family] = (stats.families[m.family] ?? 0) + 1;
        const code = (res.body as { code?: string } | undefined)?.code ?? "";
        stats.codes[`${res.status} ${code}`] = (stats.codes[`${res.status} ${code}`] ?? 0) + 1;
        const finding = (what: string) =>
          s.findings.push(`${what}: ${variant.key} — ${m.family}: ${mutated!.label}\n    answered ${res.status} ${res.text.slice(0, 200)}\n    ${describeRequest(req!)}`);
        if (res.status === 401 || res.status === 403) {
          if (res.status === 401) stats.r401 += 1;
          else stats.r403 += 1;
          if (!["WEBHOOK_SIGNATURE_MISSING", "WEBHOOK_SIGNATURE_INVALID", "WEBHOOK_TIMESTAMP_OUT_OF_RANGE"].includes(code)) finding("REFUSED FOR ANOTHER REASON");
        } else if (res.status === 400) {
          stats.r400 += 1;
          if (stats.samples400.length < 5) stats.samples400.push(`${m.family}: ${mutated!.label} (${code})`);
        } else if (res.status >= 200 && res.status < 300) {
          stats.accepted += 1;
          finding("ACCEPTED");
        } else if (res.status >= 500) {
          stats.e5xx += 1;
          finding("5xx");
        } else {
          stats.other4xx += 1;
          finding("OTHER 4xx");
        }
      }),
      { seed: SEED + index, numRuns: variant.numRuns, maxSkipsPerRun: 100 },
    );
    expect(s.findings).toEqual([]);
    expect(stats.sent).toBe(variant.numRuns);
  });

  test("nothing was written, every challenge is still pending, and the unmutated requests verify", async () => {
    // Same rows, same contents, in every table.
    expect(await databaseSnapshot()).toEqual(snapshot);
    for (const s of states.values()) expect([s.variant.key, await statusOf(s.target)]).toEqual([s.variant.key, "pending"]);

    // At the very end: the unmutated request verifies the target challenge (every mutation of it
    // was refused because of what the mutation changed).
    for (const s of states.values()) {
      const req = normalize(toReq(await s.variant.sign(s.ctx, { messageId: nextMessageId(s.variant) })));
      const res = await send(req);
      expect({ variant: s.variant.key, status: res.status, ok: res.status >= 200 && res.status < 300 }).toMatchObject({ ok: true });
      expect([s.variant.key, await statusOf(s.target)]).toEqual([s.variant.key, "verified"]);
    }

    const rows = [...states.values()].map(({ variant, stats }) => ({ key: variant.key, ...stats }));
    const total = rows.reduce(
      (t, r) => ({ sent: t.sent + r.sent, r4013: t.r4013 + r.r401 + r.r403, r400: t.r400 + r.r400, accepted: t.accepted + r.accepted, e5xx: t.e5xx + r.e5xx, other: t.other + r.other4xx, noop: t.noop + r.noop }),
      { sent: 0, r4013: 0, r400: 0, accepted: 0, e5xx: 0, other: 0, noop: 0 },
    );
    const pad = (x: string | number, n: number) => String(x).padStart(n);
    const line = (k: string, a: number, b: number, c: number, d: number, e: number, f: number, g: number) =>
      `${k.padEnd(34)}${pad(a, 6)}${pad(b, 15)}${pad(c, 13)}${pad(d, 10)}${pad(e, 6)}${pad(f, 11)}${pad(g, 14)}\n`;
    let out = `\nSingle mutations of valid signed webhooks (${h.db.kind}, seed ${SEED}+i)\n`;
    out += `${"provider (scheme)".padEnd(34)}${pad("runs", 6)}${pad("refused 401/403", 15)}${pad("refused 400", 13)}${pad("accepted", 10)}${pad("5xx", 6)}${pad("other 4xx", 11)}${pad("no-op (unsent)", 14)}\n`;
    for (const r of rows) out += line(r.key, r.sent, r.r401 + r.r403, r.r400, r.accepted, r.e5xx, r.other4xx, r.noop);
    out += line("TOTAL", total.sent, total.r4013, total.r400, total.accepted, total.e5xx, total.other, total.noop);
    out += "\nMutations sent per family:\n";
    for (const r of rows) out += `  ${r.key.padEnd(34)}${Object.entries(r.families).map(([f, n]) => `${f} ${n}`).join(", ")}\n`;
    out += "\nAnswers:\n";
    for (const r of rows) out += `  ${r.key.padEnd(34)}${Object.entries(r.codes).sort().map(([c, n]) => `${c} ×${n}`).join(", ")}\n`;
    const with400 = rows.filter((r) => r.samples400.length > 0);
    if (with400.length > 0) {
      out += "\n400s (the verifier passed, the payload was refused):\n";
      for (const r of with400) out += `  ${r.key}: ${r.samples400.join("; ")}\n`;
    }
    const withNoops = rows.filter((r) => r.noop > 0);
    if (withNoops.length > 0) {
      out += "\nNo-ops, not sent (the documented scheme still finds the request authentic):\n";
      for (const r of withNoops) out += `  ${r.key}: ${Object.entries(r.noops).map(([k, n]) => `${k} ×${n}`).join("; ")}\n`;
    }
    process.stdout.write(out);

    expect(total.sent).toBeGreaterThanOrEqual(2_000);
    expect(total.sent).toBeGreaterThanOrEqual(2_500);
    expect(total.accepted).toBe(0);
    expect(total.e5xx).toBe(0);
    expect(total.other).toBe(0);
  });
});
