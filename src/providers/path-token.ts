// The secret path token of providers that sign nothing (Sinch, smsmode, Infobip):
// `/v1/inbound/<provider>/<token>`, at least 128 random bits (config.ts enforces ≥ 32 characters).
import { createHash, timingSafeEqual } from "node:crypto";
import type { VerifyResult } from "./provider.js";

/**
 * Longest path token we look at. Configured tokens are 32–200 characters of [A-Za-z0-9_-]
 * (config.ts), so anything longer is wrong without comparing; the bound only keeps hashing cheap.
 */
export const MAX_PATH_TOKEN_CHARS = 512;

const sha256 = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/**
 * Builds the check of a secret path segment against the configured tokens (several during a
 * rotation). Both sides are hashed with SHA-256 first, so `timingSafeEqual` always compares two
 * 32-byte digests: neither the token's length nor the position of the first differing character
 * shows in the timing. Every configured token is compared (no early exit), so the time does not
 * tell which one of a rotation list matched either.
 *
 * The token arrives percent-decoded (Express decodes route parameters): `%41…` and `A…` are the
 * same URL by RFC 3986 and the same token; configured tokens hold no character that needs encoding.
 */
export function createPathTokenVerifier(tokens: readonly string[]): (presented: string | undefined) => VerifyResult {
  const digests = tokens.map(sha256);
  return (presented) => {
    if (digests.length === 0) {
      return { ok: false, code: "WEBHOOK_NOT_CONFIGURED", reason: "no path token configured for this provider" };
    }
    if (presented === undefined || presented === "") {
      return { ok: false, code: "WEBHOOK_SIGNATURE_MISSING", reason: "the webhook URL must end with the secret path token" };
    }
    if (presented.length > MAX_PATH_TOKEN_CHARS) {
      return { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "the path token does not match" };
    }
    const presentedDigest = sha256(presented);
    let matches = false;
    for (const digest of digests) {
      // Both 32 bytes: timingSafeEqual cannot throw. `||` after the call keeps the loop branch-free.
      matches = timingSafeEqual(presentedDigest, digest) || matches;
    }
    return matches ? { ok: true } : { ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: "the path token does not match" };
  };
}
