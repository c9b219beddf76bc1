// The code policy of an app: its rules, their bounds and defaults, defined here once. The
// configuration's defaults for new apps (config.ts), the app service's checks (apps/app-service.ts),
// the CLI's help and the database's column defaults (checked by test/integration/policy-defaults.test.ts)
// all come from these.
import { customAlphabet } from "nanoid";

export type CodeAlphabet = "numeric" | "alphanumeric";

export const CODE_ALPHABETS = ["numeric", "alphanumeric"] as const satisfies readonly CodeAlphabet[];

export const NUMERIC_ALPHABET = "0123456789";
/** Upper case letters and digits without the look-alikes 0/O and 1/I/L: 31 symbols, log2(31) ≈ 4.95 bits each. */
export const ALPHANUMERIC_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

export type CodePolicy = {
  length: number;
  alphabet: CodeAlphabet;
  ttlSeconds: number;
  maxAttempts: number;
  /** Explicit opt-in for codes under the 20-bit floor (for example 4 digits). */
  lowAssurance: boolean;
  /** How long a phone stays locked once its wrong codes reach maxAttempts (attempts.ts). */
  lockoutSeconds: number;
};

export const DEFAULT_CODE_POLICY: Readonly<CodePolicy> = Object.freeze({
  length: 6,
  alphabet: "numeric",
  ttlSeconds: 300,
  maxAttempts: 5,
  lowAssurance: false,
  lockoutSeconds: 900,
});

export const CODE_LENGTH_MIN = 4;
export const CODE_LENGTH_MAX = 8;
export const CODE_TTL_SECONDS_MIN = 60;
/** NIST SP 800-63B and OWASP ASVS: an out-of-band secret is valid for at most 10 minutes. */
export const CODE_TTL_SECONDS_MAX = 600;
export const CODE_MAX_ATTEMPTS_MIN = 1;
export const CODE_MAX_ATTEMPTS_MAX = 10;
export const LOCKOUT_SECONDS_MIN = 60;
/** A lock-out ends within a day: the victim of someone who guesses from their phone is not locked out for long. */
export const LOCKOUT_SECONDS_MAX = 86_400;
/**
 * NIST SP 800-63B sets a 20-bit floor and counts 6 digits as meeting it, although
 * log2(10^6) = 19.93 bits. The threshold is therefore 19.9, so that 6 digits pass while
 * 5 digits (16.6 bits) and 4 alphanumeric symbols (19.82 bits) do not.
 */
export const MIN_ENTROPY_BITS = 19.9;

export type CodePolicyError = { field: string; message: string };

export function alphabetSymbols(alphabet: CodeAlphabet): string {
  return alphabet === "alphanumeric" ? ALPHANUMERIC_ALPHABET : NUMERIC_ALPHABET;
}

export function isCodeAlphabet(value: unknown): value is CodeAlphabet {
  return value === "numeric" || value === "alphanumeric";
}

/** Bits of entropy of a uniformly drawn code: length × log2(alphabet size). */
export function entropyBits(policy: Pick<CodePolicy, "length" | "alphabet">): number {
  return policy.length * Math.log2(alphabetSymbols(policy.alphabet).length);
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Every problem of the policy at once (empty when valid). Checks values at run time too,
 * since policies come from configuration and requests.
 */
export function validateCodePolicy(policy: CodePolicy): CodePolicyError[] {
  const errors: CodePolicyError[] = [];
  const lengthOk = isIntegerIn(policy.length, CODE_LENGTH_MIN, CODE_LENGTH_MAX);
  if (!lengthOk) {
    errors.push({ field: "length", message: `must be an integer from ${CODE_LENGTH_MIN} to ${CODE_LENGTH_MAX}` });
  }
  const alphabetOk = isCodeAlphabet(policy.alphabet);
  if (!alphabetOk) {
    errors.push({ field: "alphabet", message: `must be one of ${CODE_ALPHABETS.join(", ")}` });
  }
  if (!isIntegerIn(policy.ttlSeconds, CODE_TTL_SECONDS_MIN, CODE_TTL_SECONDS_MAX)) {
    errors.push({
      field: "ttlSeconds",
      message: `must be an integer from ${CODE_TTL_SECONDS_MIN} to ${CODE_TTL_SECONDS_MAX}`,
    });
  }
  if (!isIntegerIn(policy.maxAttempts, CODE_MAX_ATTEMPTS_MIN, CODE_MAX_ATTEMPTS_MAX)) {
    errors.push({
      field: "maxAttempts",
      message: `must be an integer from ${CODE_MAX_ATTEMPTS_MIN} to ${CODE_MAX_ATTEMPTS_MAX}`,
    });
  }
  if (!isIntegerIn(policy.lockoutSeconds, LOCKOUT_SECONDS_MIN, LOCKOUT_SECONDS_MAX)) {
    errors.push({ field: "lockoutSeconds", message: `must be an integer from ${LOCKOUT_SECONDS_MIN} to ${LOCKOUT_SECONDS_MAX}` });
  }
  if (typeof policy.lowAssurance !== "boolean") {
    errors.push({ field: "lowAssurance", message: "must be a boolean" });
  }
  if (lengthOk && alphabetOk && policy.lowAssurance !== true) {
    const bits = entropyBits(policy);
    if (bits < MIN_ENTROPY_BITS) {
      errors.push({
        field: "length",
        message:
          `${policy.length} ${policy.alphabet} characters give ${bits.toFixed(1)} bits, under the 20-bit floor; ` +
          "use a longer code or set lowAssurance",
      });
    }
  }
  return errors;
}

/** The shortest code of `alphabet` that meets the 20-bit floor without lowAssurance (6 digits, 5 alphanumeric). */
export function shortestStrongLength(alphabet: CodeAlphabet): number {
  let length = CODE_LENGTH_MIN;
  while (length < CODE_LENGTH_MAX && entropyBits({ length, alphabet }) < MIN_ENTROPY_BITS) length++;
  return length;
}

/** What a new app gets for what it does not set: the configured defaults (config.ts), the rest from DEFAULT_CODE_POLICY. */
export type PolicyDefaults = Readonly<{ codeLength: number; ttlSeconds: number; maxAttempts: number; lockoutSeconds: number }>;

/** The code policy of a new app that sets nothing itself. */
export function defaultCodePolicy(defaults: PolicyDefaults): CodePolicy {
  return {
    length: defaults.codeLength,
    alphabet: DEFAULT_CODE_POLICY.alphabet,
    ttlSeconds: defaults.ttlSeconds,
    maxAttempts: defaults.maxAttempts,
    lowAssurance: DEFAULT_CODE_POLICY.lowAssurance,
    lockoutSeconds: defaults.lockoutSeconds,
  };
}

export type CodeGenerator = (policy: Pick<CodePolicy, "length" | "alphabet">) => string;

/**
 * Codes from nanoid's customAlphabet: crypto.getRandomValues with a bit mask and rejection
 * of out-of-range bytes, so every symbol is equally likely (no modulo bias).
 * One generator per alphabet and length is built lazily and reused.
 */
export function createCodeGenerator(): CodeGenerator {
  const generators = new Map<string, () => string>();
  return (policy) => {
    if (!isCodeAlphabet(policy.alphabet)) {
      throw new RangeError(`unknown code alphabet: ${String(policy.alphabet)}`);
    }
    if (!isIntegerIn(policy.length, CODE_LENGTH_MIN, CODE_LENGTH_MAX)) {
      throw new RangeError(`code length must be an integer from ${CODE_LENGTH_MIN} to ${CODE_LENGTH_MAX}`);
    }
    const key = `${policy.alphabet}:${policy.length}`;
    let generate = generators.get(key);
    if (!generate) {
      generate = customAlphabet(alphabetSymbols(policy.alphabet), policy.length);
      generators.set(key, generate);
    }
    return generate();
  };
}
