// Builds correctly signed Telnyx `message.received` webhooks for tests: a test Ed25519 key pair
// stands in for Telnyx's, the signature covers `${timestamp}|${body}` as Telnyx documents, and the
// timestamp is derived from the check time the caller passes (never the wall clock).
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";

export type SignedTelnyxRequest = {
  method: "POST";
  /** Path including the query string. */
  path: string;
  headers: Record<string, string>;
  body: string;
};

export const TELNYX_INBOUND_PATH = "/v1/inbound/telnyx";

export type TelnyxKeyPair = {
  /** What TELNYX_PUBLIC_KEY takes: the 32 raw public key bytes in Base64, as the portal shows them. */
  publicKeyBase64: string;
  privateKey: KeyObject;
};

export function createTelnyxKeyPair(): TelnyxKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const x = publicKey.export({ format: "jwk" }).x!;
  return { publicKeyBase64: Buffer.from(x, "base64url").toString("base64"), privateKey };
}

export type TelnyxInboundInput = {
  from: string;
  to: string;
  text: string;
  /** `data.payload.id`, the message id (default: a fresh UUID, as Telnyx sends). */
  messageId?: string;
  occurredAt?: Date;
  lineType?: string;
  carrier?: string;
  parts?: number;
};

/**
 * An inbound SMS event shaped like Telnyx's published example
 * (https://developers.telnyx.com/api-reference/callbacks/inbound-message).
 */
export function telnyxInboundEvent(input: TelnyxInboundInput): Record<string, unknown> {
  const occurredAt = (input.occurredAt ?? new Date("2019-01-23T18:10:02.574Z")).toISOString();
  return {
    data: {
      record_type: "event",
      id: randomUUID(),
      event_type: "message.received",
      occurred_at: occurredAt,
      payload: {
        record_type: "message",
        direction: "inbound",
        id: input.messageId ?? randomUUID(),
        type: "SMS",
        messaging_profile_id: "0f512bda-ae1e-4597-8e11-e5f5686b97d3",
        organization_id: "b448f9cc-a842-4784-98e9-03c1a5872950",
        from: {
          phone_number: input.from,
          carrier: input.carrier ?? "T-MOBILE USA, INC.",
          line_type: input.lineType ?? "Wireless",
        },
        to: [{ phone_number: input.to, status: "webhook_delivered", carrier: "TELNYX LLC", line_type: "VoIP" }],
        cc: [],
        text: input.text,
        subject: null,
        media: [],
        webhook_url: "https://otp.example.test/v1/inbound/telnyx",
        webhook_failover_url: null,
        encoding: "GSM-7",
        parts: input.parts ?? 1,
        tags: [],
        cost: null,
        received_at: occurredAt,
        sent_at: null,
        completed_at: null,
        valid_until: null,
        errors: [],
      },
    },
    meta: { attempt: 1, delivered_to: "https://otp.example.test/v1/inbound/telnyx" },
  };
}

export type TelnyxSignOptions = {
  privateKey: KeyObject;
  /** An event object (JSON-encoded here) or the exact body text. */
  payload: unknown;
  /** The check time; the signed timestamp is its Unix second unless `timestampSeconds` is given. */
  now: Date;
  timestampSeconds?: number;
  path?: string;
};

export function signTelnyxBody(privateKey: KeyObject, timestamp: string, body: string | Buffer): string {
  const message = Buffer.concat([Buffer.from(`${timestamp}|`), Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8")]);
  return sign(null, message, privateKey).toString("base64");
}

export function signTelnyxRequest(options: TelnyxSignOptions): SignedTelnyxRequest {
  const body = typeof options.payload === "string" ? options.payload : JSON.stringify(options.payload);
  const timestamp = String(options.timestampSeconds ?? Math.floor(options.now.getTime() / 1000));
  return {
    method: "POST",
    path: options.path ?? TELNYX_INBOUND_PATH,
    headers: {
      "content-type": "application/json",
      "user-agent": "telnyx-webhooks",
      "telnyx-timestamp": timestamp,
      "telnyx-signature-ed25519": signTelnyxBody(options.privateKey, timestamp, body),
    },
    body,
  };
}
