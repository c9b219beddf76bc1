// Builds correctly signed Vonage webhooks for tests: the SMS API (GET query, POST form or POST JSON,
// signed with `sig`/`timestamp`/`nonce`) and the Messages API (POST JSON with an HS256 bearer JWT).
// The check time is a parameter (`timestampSeconds`, `issuedAtSeconds`), never the wall clock.
import { createHash, createHmac } from "node:crypto";
import { signVonageSmsParams, type VonageSignatureMethod } from "../../../src/providers/vonage/adapter.js";

export type SignedVonageRequest = {
  method: "GET" | "POST";
  /** Path including the query string (GET). */
  path: string;
  headers: Record<string, string>;
  body: string;
};

export const VONAGE_INBOUND_PATH = "/v1/inbound/vonage";

export type VonageSmsApiSignOptions = {
  api: "sms";
  secret: string;
  /** Defaults to `sha256`, the service's default VONAGE_SIGNATURE_METHOD. */
  method?: VonageSignatureMethod;
  /** The webhook's parameters without `sig`, `timestamp` and `nonce` (see `vonageSmsApiParams`). */
  params: Readonly<Record<string, string>>;
  /** The signed `timestamp`, Unix seconds. */
  timestampSeconds: number;
  nonce?: string;
  /** How Vonage sends it: GET query (Vonage's default), POST form, or POST JSON. Defaults to `get`. */
  transport?: "get" | "form" | "json";
  path?: string;
};

export type VonageMessagesApiSignOptions = {
  api: "messages";
  secret: string;
  /** The JSON payload (see `vonageMessagesApiPayload`), or the exact body text. */
  payload: unknown;
  /** The JWT's `iat`, Unix seconds. */
  issuedAtSeconds: number;
  /** Claims to add or override (e.g. a wrong `payload_hash`); `undefined` removes a claim. */
  claims?: Record<string, unknown>;
  path?: string;
};

/** The documented SMS API inbound parameters of a text message (digits without `+`). */
export function vonageSmsApiParams(input: {
  from: string;
  to: string;
  text: string;
  messageId: string;
  at: Date;
  type?: "text" | "unicode";
}): Record<string, string> {
  const digits = (n: string) => n.replace(/^\+/, "");
  return {
    msisdn: digits(input.from),
    to: digits(input.to),
    messageId: input.messageId,
    text: input.text,
    type: input.type ?? "text",
    keyword: (input.text.trim().split(/\s+/)[0] ?? "").toUpperCase(),
    "api-key": "abcd1234",
    "message-timestamp": input.at.toISOString().slice(0, 19).replace("T", " "),
  };
}

/** The documented Messages API inbound SMS payload (digits without `+`). */
export function vonageMessagesApiPayload(input: { from: string; to: string; text: string; messageUuid: string; at: Date }): Record<string, unknown> {
  const digits = (n: string) => n.replace(/^\+/, "");
  return {
    channel: "sms",
    message_uuid: input.messageUuid,
    to: digits(input.to),
    from: digits(input.from),
    timestamp: input.at.toISOString(),
    text: input.text,
    sms: { num_messages: "1", keyword: (input.text.trim().split(/\s+/)[0] ?? "").toUpperCase() },
    usage: { price: "0.0057", currency: "EUR" },
    message_type: "text",
  };
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/** An HS256 JWT built with node:crypto (not jose, so the adapter's decoding is checked against another implementation). */
export function signVonageJwt(claims: Record<string, unknown>, secret: string, header: Record<string, unknown> = { alg: "HS256", typ: "JWT" }): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${signingInput}.${createHmac("sha256", secret).update(signingInput).digest("base64url")}`;
}

export function signVonageRequest(options: VonageSmsApiSignOptions | VonageMessagesApiSignOptions): SignedVonageRequest {
  const path = options.path ?? VONAGE_INBOUND_PATH;
  if (options.api === "messages") {
    const body = typeof options.payload === "string" ? options.payload : JSON.stringify(options.payload);
    const claims: Record<string, unknown> = {
      iat: options.issuedAtSeconds,
      jti: `jti-${createHash("sha256").update(body).digest("hex").slice(0, 16)}`,
      iss: "Vonage",
      payload_hash: createHash("sha256").update(body).digest("hex"),
      api_key: "abcd1234",
      application_id: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
      ...options.claims,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return {
      method: "POST",
      path,
      headers: { "content-type": "application/json", authorization: `Bearer ${signVonageJwt(claims, options.secret)}` },
      body,
    };
  }

  const params: Record<string, string> = {
    ...options.params,
    timestamp: String(options.timestampSeconds),
    nonce: options.nonce ?? "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
  };
  params.sig = signVonageSmsParams(params, options.secret, options.method ?? "sha256");
  switch (options.transport ?? "get") {
    case "get":
      return { method: "GET", path: `${path}?${new URLSearchParams(params).toString()}`, headers: {}, body: "" };
    case "form":
      return {
        method: "POST",
        path,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(params).toString(),
      };
    case "json":
      return { method: "POST", path, headers: { "content-type": "application/json" }, body: JSON.stringify(params) };
  }
}
