// Hashing, keyed digests and random tokens. The one home of randomness besides the code generator.
import { createCipheriv, createDecipheriv, createHash, createHmac, generateKeyPairSync, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { customAlphabet } from "nanoid";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const base62 = customAlphabet(BASE62);

/**
 * A prefixed random identifier. 22 base62 characters carry 22 × log2(62) ≈ 131 random bits,
 * above the 128 bits OWASP ASVS 11.5.1 asks for guessable-by-nobody ids.
 */
export function randomId(prefix: string, length = 22): string {
  return `${prefix}_${base62(length)}`;
}

/** A random secret of `bytes` bytes, base64url. 32 bytes = 256 bits. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** `bytes` random bytes, standard Base64 (Standard Webhooks secrets). */
export function randomBytesBase64(bytes: number): string {
  return randomBytes(bytes).toString("base64");
}

/** The public key of a fresh Ed25519 key pair whose private key is thrown away (Base64, 32 bytes). */
export function randomEd25519PublicKey(): string {
  const { publicKey } = generateKeyPairSync("ed25519");
  return publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
}

export function sha256Hex(value: string | Buffer): string {
  return createHash("sha256").update(value).digest("hex");
}

export function hmacSha256Hex(key: string, value: string): string {
  return createHmac("sha256", key).update(value, "utf8").digest("hex");
}

/** Constant-time comparison of two strings, safe for unequal lengths (compares digests). */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

/**
 * Keyed digests of phones and codes. An unkeyed hash of a phone number or a 6-digit code falls to
 * brute force in seconds; an HMAC under HASH_KEY does not. Domain separation by a label keeps a
 * phone digest from ever equalling a code digest. Several keys allow rotation: the first writes,
 * all are returned for look-ups.
 */
export type Hasher = {
  phone(e164: string): string;
  phoneAll(e164: string): string[];
  code(code: string): string;
  codeAll(code: string): string[];
  token(token: string): string;
  /** Groups the parts of one multi-part SMS: provider, sender, recipient, the provider's reference. */
  partGroup(provider: string, senderE164: string, recipient: string, reference: string): string;
  /**
   * Anything else stored that derives from a phone, a client or what a client sent: request
   * fingerprints, idempotency keys, rate-limit keys. `label` separates the uses.
   */
  keyed(label: string, value: string): string;
  /** `keyed` under every key (look-ups during a HASH_KEY rotation). */
  keyedAll(label: string, value: string): string[];
};

export function createHasher(keys: readonly string[]): Hasher {
  const [primary] = keys;
  if (!primary) throw new Error("createHasher needs at least one key");
  const digest = (key: string, label: string, value: string) => hmacSha256Hex(key, `${label}:${value}`);
  return {
    phone: (e164) => digest(primary, "phone", e164),
    phoneAll: (e164) => keys.map((k) => digest(k, "phone", e164)),
    code: (code) => digest(primary, "code", code),
    codeAll: (code) => keys.map((k) => digest(k, "code", code)),
    // Poll tokens carry 256 random bits: an unkeyed SHA-256 is enough and survives key rotation.
    token: (token) => sha256Hex(`token:${token}`),
    partGroup: (provider, sender, recipient, reference) =>
      digest(primary, "part-group", JSON.stringify([provider, sender, recipient, reference])),
    keyed: (label, value) => digest(primary, label, value),
    keyedAll: (label, value) => keys.map((k) => digest(k, label, value)),
  };
}

/**
 * Encryption of the few secrets and texts the database must hold in a readable form: SMS part
 * texts while a multi-part message is incomplete, and apps' callback signing secrets (which sign
 * requests to the app's backend, so a database dump must not reveal them). AES-256-GCM; the key
 * is derived per purpose from HASH_KEY with HKDF; each seal has a random 96-bit IV. Output:
 * base64(iv ‖ tag ‖ ciphertext). The first HASH_KEY seals; every listed key is tried to open.
 */
export type Sealer = { seal(text: string): string; open(sealed: string): string };

export function createSealer(hashKeys: readonly string[], purpose: string): Sealer {
  const keys = hashKeys.map((k) => Buffer.from(hkdfSync("sha256", k, "reverse-otp", purpose, 32)));
  const [primary] = keys;
  if (!primary) throw new Error("createSealer needs at least one key");
  const openWith = (key: Buffer, raw: Buffer) => {
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  };
  return {
    seal(text) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", primary, iv);
      const ct = Buffer.concat([cipher.update(text, "utf8"), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString("base64");
    },
    open(sealed) {
      const raw = Buffer.from(sealed, "base64");
      for (const key of keys) {
        try {
          return openWith(key, raw);
        } catch {
          // not sealed with this key: try the next one
        }
      }
      throw new Error("cannot open: sealed with a key that is no longer configured");
    },
  };
}
