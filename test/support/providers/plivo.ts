// Builds correctly signed Plivo inbound-message webhooks for tests: V3 (default) or V2, POST form
// (Plivo's default) or GET with the parameters in the query. Plivo signs no time, only a nonce, so
// there is no check-time parameter: a request signed here stays valid for ever, as a real one does.
import { randomInt, randomUUID } from "node:crypto";
import { computePlivoV2Signature, computePlivoV3Signature } from "../../../src/providers/plivo/adapter.js";

export type SignedPlivoRequest = {
  method: "GET" | "POST";
  /** Path including the query string. */
  path: string;
  headers: Record<string, string>;
  body: string;
};

export const PLIVO_INBOUND_PATH = "/v1/inbound/plivo";
/** PUBLIC_BASE_URL of the test harness. */
export const HARNESS_PUBLIC_BASE_URL = "https://otp.example.test";

export type PlivoSignOptions = {
  /** The auth token (of the account or subaccount for V3/V2, of the main account for Ma-). */
  secret: string;
  /** The webhook's parameters (see `plivoInboundParams`), in the order they are sent. */
  params: Readonly<Record<string, string>> | readonly (readonly [string, string])[];
  method?: "POST" | "GET";
  /** Path with an optional configured query, e.g. `/v1/inbound/plivo?tenant=1`. */
  path?: string;
  publicBaseUrl?: string;
  /** The URL Plivo signed, when it differs from what is sent (a test's forged URL). */
  signedUrl?: string;
  /** Plivo's nonces are about 20 digits. */
  nonce?: string;
  /** `v3` (default), `ma-v3` (main-account header), `v2`, `ma-v2`. */
  version?: "v3" | "ma-v3" | "v2" | "ma-v2";
};

/** A Plivo-shaped nonce: 20 decimal digits. */
export function plivoNonce(): string {
  return Array.from({ length: 20 }, () => String(randomInt(10))).join("");
}

/**
 * The parameters of an inbound SMS as Plivo documents them
 * (https://www.plivo.com/docs/messaging/api/message/handling-incoming): numbers as bare digits.
 */
export function plivoInboundParams(input: { from: string; to: string; text: string; messageUuid?: string; units?: number }): Record<string, string> {
  const digits = (n: string) => n.replace(/^\+/, "");
  const units = input.units ?? 1;
  return {
    From: digits(input.from),
    To: digits(input.to),
    Type: "sms",
    Text: input.text,
    MessageUUID: input.messageUuid ?? randomUUID(),
    Units: String(units),
    TotalRate: "0.00000",
    TotalAmount: "0.00000",
    MessageIntent: "",
    PowerpackUUID: "",
  };
}

export function signPlivoRequest(options: PlivoSignOptions): SignedPlivoRequest {
  const method = options.method ?? "POST";
  const version = options.version ?? "v3";
  const nonce = options.nonce ?? plivoNonce();
  const pairs = (Array.isArray(options.params) ? options.params : Object.entries(options.params)).map(([k, v]) => [k, v] as [string, string]);
  const form = new URLSearchParams(pairs).toString();
  const configuredPath = options.path ?? PLIVO_INBOUND_PATH;
  const base = options.publicBaseUrl ?? HARNESS_PUBLIC_BASE_URL;
  const path = method === "GET" && form.length > 0 ? `${configuredPath}${configuredPath.includes("?") ? "&" : "?"}${form}` : configuredPath;
  const url = options.signedUrl ?? `${base}${path}`;
  const headers: Record<string, string> = method === "POST" ? { "content-type": "application/x-www-form-urlencoded" } : {};
  if (version === "v3" || version === "ma-v3") {
    const signature = computePlivoV3Signature(options.secret, { method, url, postParams: method === "POST" ? pairs : [], nonce });
    headers[version === "v3" ? "x-plivo-signature-v3" : "x-plivo-signature-ma-v3"] = signature;
    headers["x-plivo-signature-v3-nonce"] = nonce;
  } else {
    const signature = computePlivoV2Signature(options.secret, { url, nonce });
    headers[version === "v2" ? "x-plivo-signature-v2" : "x-plivo-signature-ma-v2"] = signature;
    headers["x-plivo-signature-v2-nonce"] = nonce;
  }
  return { method, path, headers, body: method === "POST" ? form : "" };
}
