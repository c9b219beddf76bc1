// The zod building blocks of configuration values, shared by src/config.ts and the providers'
// descriptors (src/providers/<name>/descriptor.ts), which declare their own variables with them.
// Nothing here reads the environment: src/config.ts does, once.
import { z } from "zod";
import { textSecretProblem } from "./secret-strength.js";

export const splitList = (value: string) => value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
const ordinal = (i: number, count: number) => (count === 1 ? "the secret" : `secret ${i + 1} of ${count}`);

/**
 * A comma-separated list of secrets (rotation), each checked by `problemOf` (secret-strength.ts);
 * a refusal says what is wrong (sizes, never the value) and how to make a good one.
 */
export const secretList = (problemOf: (secret: string) => string | undefined, advice: string) =>
  z
    .string()
    .transform(splitList)
    .pipe(
      z
        .array(z.string())
        .min(1, { message: "must hold at least one secret" })
        .superRefine((secrets, ctx) => {
          secrets.forEach((secret, i) => {
            const problem = problemOf(secret);
            if (problem) ctx.addIssue({ code: "custom", message: `${ordinal(i, secrets.length)} ${problem}; ${advice}` });
          });
        }),
    );

/** Our own random secrets (HMAC keys, bearer tokens): at least 128 bits and not a visible pattern. */
export const ownSecretList = (advice: string, minLength = 0) =>
  secretList(
    (secret) =>
      secret.length < minLength ? `has ${secret.length} characters; at least ${minLength} are needed` : textSecretProblem(secret),
    advice,
  );

/** A key that the provider issues: refused only when it is too weak to be one. */
export const providerSecretList = (where: string) => secretList(textSecretProblem, `use the ${where}`);

/** Path tokens of unsigned providers stand in for a signature: at least 128 random bits. */
export const pathTokenList = secretList(
  (token) =>
    /^[A-Za-z0-9_-]{32,200}$/.test(token)
      ? textSecretProblem(token)
      : "must have 32 to 200 characters of A-Z a-z 0-9 _ -",
  "make one with `openssl rand -hex 32`",
);

export const booleanString = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

export const positiveInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** A provider's base URL or a gateway's URL: http(s), no trailing slash kept. */
export const httpUrl = z
  .url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" })
  .transform((value) => value.replace(/\/+$/, ""));
