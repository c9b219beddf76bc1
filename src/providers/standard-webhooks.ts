// Standard Webhooks (https://www.standardwebhooks.com/) signatures: the generic provider's inbound
// scheme and the scheme of our outgoing callbacks.
//
// signature = base64(HMAC-SHA256(secret, `${id}.${timestamp}.${body}`)), sent as `v1,<sig>`, several
// separated by spaces (rotation). The secret is `whsec_` + base64 of the key bytes.
//
// We verify with our own few lines instead of the `standardwebhooks` package's `verify`, because that
// one reads the wall clock; here the check time is a parameter (tests use published vectors from
// 2021 and fixed clocks). The package's `sign` is the oracle in test/unit/providers.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { VerifyResult } from "./provider.js";

export const TOLERANCE_SECONDS = 5 * 60;

function secretBytes(secret: string): Buffer {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
}

export function signStandardWebhook(secret: string, id: string, timestampSeconds: number, body: string | Buffer): string {
  const mac = createHmac("sha256", secretBytes(secret));
  mac.update(`${id}.${timestampSeconds}.`);
  mac.update(body);
  return `v1,${mac.digest("base64")}`;
}

export function verifyStandardWebhook(
  secrets: readonly string[],
  headers: { id?: string; timestamp?: string; signature?: string },
  body: Buffer,
  now: Date,
): VerifyResult {
  if (secrets.length === 0) return { ok: false, code: "WEBHOOK_NOT_CONFIGURED", reason: "no secret configured" };
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) {
    return { ok: false, code: "WEBHOOK_SIGNATURE_MISSING", reason: "webhook-id, webhook-timestamp and webhook-signature are required" };
  }
  if (id.length > 256 || !/^[\x21-\x7e]+$/.test(id)) {
    return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed webhook-id" };
  }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "malformed webhook-timestamp" };
  const skew = Math.abs(Math.floor(now.getTime() / 1000) - Number(timestamp));
  if (skew > TOLERANCE_SECONDS) {
    return { ok: false, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE", reason: "timestamp outside ±5 minutes" };
  }
  // Only the canonical base64 spelling of a digest counts, as in the official libraries (which
  // compare the text): Node's decoder ignores stray characters, padding bits and a missing `=`,
  // so without the round trip many altered headers would decode to the same 32 bytes.
  const presented = signature
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .map((s) => ({ text: s.slice(3), bytes: Buffer.from(s.slice(3), "base64") }))
    .filter(({ text, bytes }) => bytes.length === 32 && bytes.toString("base64") === text)
    .map(({ bytes }) => bytes)
    .slice(0, 16);
  for (const secret of secrets) {
    const expected = Buffer.from(signStandardWebhook(secret, id, Number(timestamp), body).slice(3), "base64");
    // Equal-length digests only: timingSafeEqual throws on unequal lengths, filtered above.
    if (presented.some((p) => timingSafeEqual(p, expected))) return { ok: true };
  }
  return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "no signature matches" };
}
