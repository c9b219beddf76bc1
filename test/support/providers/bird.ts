// Builds correctly signed Bird `sms.inbound` webhooks for tests. The signature is computed here
// from Bird's documented steps with its own few lines (not the adapter's), over the full public
// URL the harness serves, and the timestamp comes from the check time the caller passes.
import { createHash, createHmac, randomUUID } from "node:crypto";

export type SignedBirdRequest = {
  method: "POST";
  /** Path including the query string. */
  path: string;
  headers: Record<string, string>;
  body: string;
};

export const BIRD_INBOUND_PATH = "/v1/inbound/bird";
/** PUBLIC_BASE_URL of the test harness. */
export const HARNESS_PUBLIC_BASE_URL = "https://otp.example.test";

/** The path to configure in a Bird subscription when the payload does not name our number. */
export function birdPathForNumber(number: string): string {
  return `${BIRD_INBOUND_PATH}?number=${encodeURIComponent(number)}`;
}

export type BirdInboundInput = {
  from: string;
  text: string;
  /** Our number in `receiver.connector.identifierValue`; omitted as in Bird's documented sample. */
  to?: string;
  /** The Channels API message id (default: a fresh UUID, as Bird sends). */
  messageId?: string;
  createdAt?: Date;
};

/**
 * A webhook-subscription delivery: `{ service, event, payload }` with a Channels API message shaped
 * like Bird's documented inbound SMS sample
 * (https://docs.bird.com/api/channels-api/supported-channels/programmable-sms/receiving-messages).
 */
export function birdInboundEvent(input: BirdInboundInput): Record<string, unknown> {
  const createdAt = (input.createdAt ?? new Date("2022-12-22T08:32:50.736Z")).toISOString();
  return {
    service: "channels",
    event: "sms.inbound",
    payload: {
      id: input.messageId ?? randomUUID(),
      channelId: "614208aa-b153-4d5d-9989-2fddfc0ce4c3",
      sender: {
        contact: { id: "32cf5eee-f940-422c-ab8c-5f753aad5efd", identifierKey: "phonenumber", identifierValue: input.from },
      },
      receiver: {
        connector: { id: "86cc4dc0-3dc0-41b7-ac43-8ec829ead56f", ...(input.to ? { identifierValue: input.to } : {}) },
      },
      body: { type: "text", text: { text: input.text } },
      parts: [{ platformReference: "e8077d803532c0b5937c639b60216938" }],
      status: "delivered",
      reason: "",
      direction: "incoming",
      lastStatusAt: createdAt,
      createdAt,
      updatedAt: createdAt,
    },
  };
}

export type BirdSignOptions = {
  signingKey: string;
  /** An event object (JSON-encoded here) or the exact body text. */
  payload: unknown;
  /** The check time; the signed timestamp is its Unix second unless `timestampSeconds` is given. */
  now: Date;
  timestampSeconds?: number;
  /** Path with its query, e.g. `birdPathForNumber("+447400000123")`. */
  path?: string;
  publicBaseUrl?: string;
  /** The URL Bird signed, when a test needs it to differ from publicBaseUrl + path. */
  signedUrl?: string;
};

/** Base64(HMAC-SHA256(key, timestamp + "\n" + url + "\n" + SHA-256(body) as raw bytes)). */
export function birdSignature(signingKey: string, timestamp: string, url: string, body: string | Buffer): string {
  const bodyDigest = createHash("sha256").update(body).digest();
  const joined = Buffer.concat([Buffer.from(`${timestamp}\n${url}\n`, "utf8"), bodyDigest]);
  return createHmac("sha256", signingKey).update(joined).digest("base64");
}

export function signBirdRequest(options: BirdSignOptions): SignedBirdRequest {
  const body = typeof options.payload === "string" ? options.payload : JSON.stringify(options.payload);
  const path = options.path ?? BIRD_INBOUND_PATH;
  const url = options.signedUrl ?? `${options.publicBaseUrl ?? HARNESS_PUBLIC_BASE_URL}${path}`;
  const timestamp = String(options.timestampSeconds ?? Math.floor(options.now.getTime() / 1000));
  return {
    method: "POST",
    path,
    headers: {
      "content-type": "application/json",
      "messagebird-request-timestamp": timestamp,
      "messagebird-signature": birdSignature(options.signingKey, timestamp, url, body),
    },
    body,
  };
}
