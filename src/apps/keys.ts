// API keys: `sk_` (secret, server side) and `pk_` (publishable, safe in a mobile app).
// A key is 32 base62 characters after its prefix: 32 × log2(62) ≈ 190 random bits. Only its SHA-256
// is stored (a key this random cannot be brute-forced from its hash, so no HMAC or slow hash is
// needed); it is shown once, at creation.
import { customAlphabet } from "nanoid";
import { sha256Hex } from "../shared/crypto.js";

const keyBody = customAlphabet("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 32);

export type KeyKind = "secret" | "publishable";

const PREFIX: Record<KeyKind, string> = { secret: "sk_", publishable: "pk_" };

export type NewKey = { kind: KeyKind; key: string; hash: string; hint: string };

export function generateKey(kind: KeyKind): NewKey {
  const key = `${PREFIX[kind]}${keyBody()}`;
  return { kind, key, hash: hashKey(key), hint: `${key.slice(0, 7)}…` };
}

export const hashKey = (key: string): string => sha256Hex(`apikey:${key}`);

/** Which kind a presented key claims to be, from its prefix; undefined for anything else. */
export function keyKindOf(key: string): KeyKind | undefined {
  if (/^sk_[0-9A-Za-z]{32}$/.test(key)) return "secret";
  if (/^pk_[0-9A-Za-z]{32}$/.test(key)) return "publishable";
  return undefined;
}
