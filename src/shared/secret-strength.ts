// Is a configured secret strong enough to be one? Checked at start-up for every secret variable
// (config.ts), so that `GENERIC_WEBHOOK_SECRET=whsec_` (an empty key: anyone could sign inbound
// SMS), `whsec_YQ==` or `ADMIN_TOKEN=changeme` stop the service instead of protecting nothing.
//
// What can be checked is size and the absence of obvious patterns, not randomness: a long secret
// typed by a person passes. The rules:
// - Standard Webhooks secrets (`whsec_` + Base64): 24 to 64 decoded bytes, as the specification
//   says (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md,
//   "Signature scheme": the secret key is 24–64 bytes, Base64, prefixed `whsec_`).
// - Every other secret is used as text (an HMAC key, a bearer or path token): it must carry at
//   least 128 bits by a simple estimate, its length times the bits per character of the smallest
//   usual alphabet that holds it (hex 4, digits 3.3, Base64 6 bits…). A Twilio auth token (32 hex
//   digits) is exactly 128 bits; `openssl rand -hex 16` makes 128 bits, `-base64 32` 256.
// - Either kind must not be mostly one repeated symbol (all zero bytes, "aaaa…", "abab…"): fewer
//   distinct symbols than a random secret of that size could have is refused.
// Problems name the secret's size, never its value.

/** The bits a text secret must carry (16 bytes: the HMAC key floor of the security review). */
export const MIN_SECRET_BITS = 128;
/** Standard Webhooks key sizes, in decoded bytes. */
export const WHSEC_MIN_BYTES = 24;
export const WHSEC_MAX_BYTES = 64;

const ALPHABETS: readonly { pattern: RegExp; bitsPerChar: number; symbols: number }[] = [
  { pattern: /^[0-9]+$/, bitsPerChar: Math.log2(10), symbols: 10 },
  { pattern: /^[0-9a-f]+$/, bitsPerChar: 4, symbols: 16 },
  { pattern: /^[0-9A-F]+$/, bitsPerChar: 4, symbols: 16 },
  { pattern: /^[a-z]+$/, bitsPerChar: Math.log2(26), symbols: 26 },
  { pattern: /^[0-9a-z]+$/, bitsPerChar: Math.log2(36), symbols: 36 },
  { pattern: /^[0-9a-z_-]+$/, bitsPerChar: Math.log2(38), symbols: 38 },
  { pattern: /^[A-Za-z0-9]+$/, bitsPerChar: Math.log2(62), symbols: 62 },
  { pattern: /^[A-Za-z0-9+/_=-]+$/, bitsPerChar: 6, symbols: 64 },
];
const PRINTABLE = { bitsPerChar: Math.log2(95), symbols: 95 };

/** The estimated bits of a text secret: its length times the bits per character of its alphabet. */
export function estimatedBits(secret: string): number {
  const chars = [...secret];
  const alphabet = ALPHABETS.find((a) => a.pattern.test(secret)) ?? PRINTABLE;
  return Math.floor(chars.length * alphabet.bitsPerChar);
}

/**
 * Too few distinct symbols for a random value of this size: fewer than `fraction` of what a random
 * draw of `n` symbols from an alphabet of `m` shows on average (m·(1−(1−1/m)^n)). Text secrets use
 * half (32 hex digits: 14 expected, refused below 7); decoded keys a quarter, since keys typed as
 * text and then encoded use few byte values (24 bytes: 23 expected, refused below 5). For every
 * size a secret of at least 128 bits has, the chance that a random secret is refused is below
 * 10^-9 (computed exactly for hex, digits, Base64 and bytes).
 */
function looksRepetitive(symbols: readonly (string | number)[], alphabetSize: number, fraction: number): boolean {
  const n = symbols.length;
  const expected = alphabetSize * (1 - (1 - 1 / alphabetSize) ** n);
  return new Set(symbols).size < Math.floor(expected * fraction);
}

/** What is wrong with a text secret, or undefined when it is acceptable. */
export function textSecretProblem(secret: string, minBits = MIN_SECRET_BITS): string | undefined {
  const bits = estimatedBits(secret);
  if (bits < minBits) return `has about ${bits} bits (${[...secret].length} characters); at least ${minBits} are needed`;
  const alphabet = ALPHABETS.find((a) => a.pattern.test(secret)) ?? PRINTABLE;
  if (looksRepetitive([...secret], alphabet.symbols, 1 / 2)) return "is mostly one repeated pattern, not a random value";
  return undefined;
}

/** What is wrong with a Standard Webhooks secret (`whsec_` + Base64), or undefined when it is acceptable. */
export function standardWebhooksSecretProblem(secret: string): string | undefined {
  if (!secret.startsWith("whsec_")) return 'must start with "whsec_"';
  const encoded = secret.slice("whsec_".length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.replace(/=+$/, "").length % 4 === 1) {
    return 'must be "whsec_" followed by Base64';
  }
  const bytes = Buffer.from(encoded, "base64");
  if (bytes.length < WHSEC_MIN_BYTES || bytes.length > WHSEC_MAX_BYTES) {
    return `decodes to ${bytes.length} bytes; Standard Webhooks keys are ${WHSEC_MIN_BYTES} to ${WHSEC_MAX_BYTES} random bytes`;
  }
  if (looksRepetitive([...bytes], 256, 1 / 4)) return "decodes to mostly one repeated byte pattern, not a random key";
  return undefined;
}
