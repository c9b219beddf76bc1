// Codes and poll tokens for requests that carry an Idempotency-Key.
//
// A retried request must get the same answer, code included, yet codes are stored only as HMACs.
// So for such requests the code and the poll token are not drawn at random but derived with a PRF
// (HMAC-SHA256 under HASH_KEY) from the app, the idempotency key and the attempt number, and fed to
// nanoid's `customRandom` (which maps bytes onto the alphabet without bias). Without HASH_KEY they
// are as unpredictable as random ones; with HASH_KEY an attacker could brute-force the stored code
// HMACs anyway, so nothing is lost.
import { createHmac } from "node:crypto";
import { customRandom } from "nanoid";
import { ALPHANUMERIC_ALPHABET, NUMERIC_ALPHABET, type CodePolicy } from "./code-policy.js";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A deterministic byte stream: HMAC-SHA256(key, label ‖ counter) blocks. */
function prfBytes(key: string, label: string): (size: number) => Uint8Array {
  let counter = 0;
  return (size) => {
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const block = createHmac("sha256", key).update(`${label}\u0000${counter++}`).digest();
      const n = Math.min(block.length, size - filled);
      out.set(block.subarray(0, n), filled);
      filled += n;
    }
    return out;
  };
}

export function deriveCode(key: string, seed: string, attempt: number, policy: Pick<CodePolicy, "length" | "alphabet">): string {
  const alphabet = policy.alphabet === "numeric" ? NUMERIC_ALPHABET : ALPHANUMERIC_ALPHABET;
  return customRandom(alphabet, policy.length, prfBytes(key, `code\u0000${seed}\u0000${attempt}`))();
}

export function derivePollToken(key: string, seed: string): string {
  return `pt_${customRandom(BASE62, 43, prfBytes(key, `poll\u0000${seed}`))()}`;
}
