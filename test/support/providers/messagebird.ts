// Builds correctly signed MessageBird (legacy numbers) inbound-SMS webhooks for tests, with either
// signature: `MessageBird-Signature` (HMAC over the timestamp, the sorted query and the body's
// SHA-256; computed here with its own few lines, not the adapter's) or `MessageBird-Signature-JWT`
// (an HS256 JWT made with jose). Times derive from the check time the caller passes.
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { SignJWT } from "jose";

export type SignedMessageBirdRequest = {
  method: "GET" | "POST";
  /** Path including the query string. */
  path: string;
  headers: Record<string, string>;
  body: string;
};

export const MESSAGEBIRD_INBOUND_PATH = "/v1/inbound/messagebird";
/** PUBLIC_BASE_URL of the test harness. */
export const HARNESS_PUBLIC_BASE_URL = "https://otp.example.test";

type Params = Readonly<Record<string, string>> | readonly (readonly [string, string])[];

/** A MessageBird-shaped message id: 32 hex digits. */
export function messageBirdMessageId(): string {
  return randomBytes(16).toString("hex");
}

/**
 * The parameters of an inbound SMS to a legacy MessageBird number: numbers as bare international
 * digits, `createdDatetime` in RFC 3339 with an offset.
 */
export function messageBirdInboundParams(input: { from: string; to: string; body: string; id?: string; createdAt?: Date }): Record<string, string> {
  const digits = (n: string) => n.replace(/^\+/, "");
  return {
    id: input.id ?? messageBirdMessageId(),
    recipient: digits(input.to),
    originator: digits(input.from),
    body: input.body,
    createdDatetime: (input.createdAt ?? new Date("2016-05-03T14:26:57Z")).toISOString().replace(/\.\d{3}Z$/, "+00:00"),
  };
}

/** Go's url.QueryEscape, as MessageBird's Go SDK encodes a sorted query: only A-Z a-z 0-9 - _ . ~ stay. */
function queryEscape(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function entriesOf(params: Params): [string, string][] {
  return (Array.isArray(params) ? params : Object.entries(params)).map(([k, v]) => [k, v] as [string, string]);
}

/** The query string, encoded as the Go SDK does, and sorted by name when `sorted`. */
export function encodeMessageBirdQuery(params: Params, sorted = false): string {
  const entries = entriesOf(params);
  if (sorted) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`).join("&");
}

/** Base64(HMAC-SHA256(key, timestamp + "\n" + sorted query + "\n" + SHA-256(body) as raw bytes)). */
export function messageBirdLegacySignature(signingKey: string, timestamp: string, sortedQuery: string, body: string | Buffer): string {
  const bodyDigest = createHash("sha256").update(body).digest();
  const joined = Buffer.concat([Buffer.from(`${timestamp}\n${sortedQuery}\n`, "utf8"), bodyDigest]);
  return createHmac("sha256", signingKey).update(joined).digest("base64");
}

export type MessageBirdSignOptions = {
  signingKey: string;
  /** The inbound SMS fields (see `messageBirdInboundParams`). */
  params: Params;
  /** The check time; the signed timestamp is its Unix second unless `timestampSeconds` is given. */
  now: Date;
  timestampSeconds?: number;
  /** GET (default): the fields in the query. POST: the fields in a form (default) or JSON body. */
  method?: "GET" | "POST";
  bodyFormat?: "form" | "json";
  /** Path with an optional configured query. */
  path?: string;
  publicBaseUrl?: string;
};

function requestParts(options: MessageBirdSignOptions): { method: "GET" | "POST"; path: string; body: string; headers: Record<string, string> } {
  const method = options.method ?? "GET";
  const configured = options.path ?? MESSAGEBIRD_INBOUND_PATH;
  if (method === "GET") {
    const query = encodeMessageBirdQuery(options.params);
    const path = query ? `${configured}${configured.includes("?") ? "&" : "?"}${query}` : configured;
    return { method, path, body: "", headers: {} };
  }
  const json = options.bodyFormat === "json";
  const body = json ? JSON.stringify(Object.fromEntries(entriesOf(options.params))) : new URLSearchParams(entriesOf(options.params)).toString();
  return { method, path: configured, body, headers: { "content-type": json ? "application/json" : "application/x-www-form-urlencoded" } };
}

/** A request carrying the legacy `MessageBird-Signature` and `MessageBird-Request-Timestamp`. */
export function signMessageBirdRequest(options: MessageBirdSignOptions): SignedMessageBirdRequest {
  const parts = requestParts(options);
  const timestamp = String(options.timestampSeconds ?? Math.floor(options.now.getTime() / 1000));
  const rawQuery = parts.path.includes("?") ? parts.path.slice(parts.path.indexOf("?") + 1) : "";
  const sortedQuery = encodeMessageBirdQuery([...new URLSearchParams(rawQuery)], true);
  return {
    ...parts,
    headers: {
      ...parts.headers,
      "messagebird-request-timestamp": timestamp,
      "messagebird-signature": messageBirdLegacySignature(options.signingKey, timestamp, sortedQuery, parts.body),
    },
  };
}

export type MessageBirdJwtOptions = MessageBirdSignOptions & {
  alg?: "HS256" | "HS384" | "HS512";
  /** Seconds from issue to expiry (MessageBird: 60). */
  lifetimeSeconds?: number;
  /** The URL MessageBird signed, when a test needs it to differ from publicBaseUrl + path. */
  signedUrl?: string;
};

/** A request carrying `MessageBird-Signature-JWT`, made with jose as MessageBird makes it. */
export async function signMessageBirdJwtRequest(options: MessageBirdJwtOptions): Promise<SignedMessageBirdRequest> {
  const parts = requestParts(options);
  const issuedAt = options.timestampSeconds ?? Math.floor(options.now.getTime() / 1000);
  const url = options.signedUrl ?? `${options.publicBaseUrl ?? HARNESS_PUBLIC_BASE_URL}${parts.path}`;
  const hex = (data: string) => createHash("sha256").update(data).digest("hex");
  const jwt = await new SignJWT({ url_hash: hex(url), ...(parts.body ? { payload_hash: hex(parts.body) } : {}) })
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setIssuer("MessageBird")
    .setNotBefore(issuedAt)
    .setExpirationTime(issuedAt + (options.lifetimeSeconds ?? 60))
    .setJti(randomUUID())
    .sign(Buffer.from(options.signingKey, "utf8"));
  return { ...parts, headers: { ...parts.headers, "messagebird-signature-jwt": jwt } };
}
