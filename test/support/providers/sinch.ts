// Builds Sinch inbound (MO) callbacks as Sinch sends them, for tests: signed with Sinch's HMAC
// headers (accounts with signing), or "signed" by the secret token at the end of the path
// (`/v1/inbound/sinch/<token>`, accounts without).
import { createHmac } from "node:crypto";
import { inboundPath, type PathTokenRequest } from "./path-token.js";

export type SinchMoText = {
  type: "mo_text";
  id: string;
  from: string;
  to: string;
  body: string;
  received_at: string;
  operator_id?: string;
  sent_at?: string;
  client_reference?: string;
};

let counter = 0;
/** A Sinch-looking inbound id (26 upper-case alphanumerics, like `01FC66621XXXXX119Z8PMV1QPQ`). */
export function sinchId(): string {
  counter += 1;
  return `01FC6662${String(Date.now()).slice(-8)}${String(counter).padStart(10, "0")}`.slice(0, 26).toUpperCase();
}

/**
 * A `mo_text` inbound shaped like Sinch's documentation: MSISDNs without `+`, ISO timestamps with
 * milliseconds and `Z`, the sender's MCC/MNC.
 */
export function sinchMoText(input: { from: string; to: string; body: string; id?: string; receivedAt: Date; operatorId?: string }): SinchMoText {
  return {
    type: "mo_text",
    id: input.id ?? sinchId(),
    from: input.from.replace(/^\+/, ""),
    to: input.to.replace(/^\+/, ""),
    body: input.body,
    received_at: input.receivedAt.toISOString(),
    operator_id: input.operatorId ?? "20801",
  };
}

/** The request Sinch would send for this payload to our URL holding `token`. */
export function signSinchRequest(options: { token: string | undefined; payload: unknown }): PathTokenRequest {
  return {
    method: "POST",
    path: inboundPath("sinch", options.token),
    headers: { "content-type": "application/json" },
    body: typeof options.payload === "string" ? options.payload : JSON.stringify(options.payload),
  };
}

/**
 * The request Sinch sends for this payload when the account signs callbacks: HMAC-SHA256 with the
 * secret (as UTF-8) over `${body}.${nonce}.${timestamp}`, Base64, as `computeSignedData` and
 * `calculateWebhookSignature` of @sinch/sdk-client compute it — written here independently of
 * src/providers/sinch/adapter.ts, and checked against the SDK in the unit tests.
 */
export function signSinchHmacRequest(options: {
  secret: string;
  payload: unknown;
  timestampSeconds: number;
  nonce?: string;
  /** A path token as well (default none: `/v1/inbound/sinch`). */
  token?: string;
}): PathTokenRequest {
  const body = typeof options.payload === "string" ? options.payload : JSON.stringify(options.payload);
  const nonce = options.nonce ?? `01JHFF${sinchId().slice(6)}`;
  const timestamp = String(options.timestampSeconds);
  return {
    method: "POST",
    path: inboundPath("sinch", options.token),
    headers: {
      "content-type": "application/json",
      "x-sinch-webhook-signature": createHmac("sha256", options.secret).update(`${body}.${nonce}.${timestamp}`, "utf8").digest("base64"),
      "x-sinch-webhook-signature-algorithm": "HmacSHA256",
      "x-sinch-webhook-signature-nonce": nonce,
      "x-sinch-webhook-signature-timestamp": timestamp,
    },
    body,
  };
}
