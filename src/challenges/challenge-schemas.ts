// The shapes of /v1/challenges, in one place: the zod schemas that validate requests, and the
// schemas of what the service answers. The TypeScript types of the answers are inferred from them,
// and the OpenAPI document (src/openapi/openapi.ts) is generated from the same schemas, so the
// documentation cannot drift from what is checked and sent (test/integration/openapi.test.ts
// validates real answers against it).
import { z } from "zod";
import { PURPOSES } from "./sms-text.js";

// ---- Requests --------------------------------------------------------------------------------

// Free text that ends up in the SMS body and in a JSONB column: control characters are refused
// (PostgreSQL cannot store NUL in JSONB or text; the others have no place in one SMS line).
const text = (max: number) =>
  z.string().trim().min(1).max(max).regex(/^\P{Cc}*$/u, "must not contain control characters");

export const purposeSchema = z
  .enum(PURPOSES)
  .meta({ description: "What the verification is for; it chooses the wording of the SMS. `transaction` needs `context.amount`, `currency` and `merchant`." });

export const channelSchema = z.enum(["sms_mo", "sms", "email"]).meta({
  description:
    "How the code travels: `sms_mo` the user texts it to the app's number (reverse, the default, free); `sms` or `email` the service sends it and the user types it in (`POST /v1/challenges/{id}/check`). The app must allow the channel.",
});

const emailAddress = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: "must be an e-mail address" }))
  .meta({ description: "Where the code is sent, for `channel: \"email\"`.", examples: ["jane@example.com"] });

export const createChallengeBody = z.strictObject({
  phone: z
    .string()
    .min(1)
    .max(64)
    .meta({
      description:
        "The user's phone: international (`+33 6 12 34 56 78`, `0033…`) or national with `country`. Numbers that cannot send SMS are refused with 422.",
      examples: ["+33612345678", "06 12 34 56 78"],
    }),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, "must be an ISO 3166 alpha-2 country code")
    .optional()
    .meta({ description: "ISO 3166 alpha-2 country of a national number.", examples: ["FR"] }),
  purpose: purposeSchema,
  context: z
    .strictObject({
      amount: z
        // A JSON number is accepted when its plain decimal form fits the same rule as a string
        // (no 1e-7, no 0.30000000000000004 in the SMS the user reads).
        .union([z.string(), z.number().transform(String)])
        .pipe(z.string().regex(/^\d{1,12}(\.\d{1,4})?$/, "must be a decimal like 49.90 (at most 12 digits, 4 decimals)"))
        .optional()
        .meta({ description: "Amount of a `transaction`: a plain decimal (string or number) with at most 12 digits and 4 decimals, like `49.90`.", examples: ["49.90"] }),
      currency: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code like EUR").optional().meta({ description: "ISO 4217 currency of a `transaction`." }),
      merchant: text(60).optional().meta({ description: "Who is paid, shown in the SMS text (`transaction`)." }),
      description: text(100).optional().meta({ description: "What is confirmed, shown in the SMS text (purposes other than `transaction`)." }),
    })
    .optional()
    .meta({ description: "Shown in the SMS text, so the user reads what they approve." }),
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, "must be a language tag like en or de-DE")
    .max(35)
    .optional()
    .meta({ description: "Language of the SMS text: `en`, `de` or `fr` (`de-DE` works); defaults to the app's locale.", examples: ["en"] }),
  channel: channelSchema.optional(),
  email: emailAddress.optional(),
});

/** `POST /v1/challenges/{id}/fallback`: switch a pending reverse challenge to an outbound channel. */
export const fallbackBody = z.strictObject({
  channel: z.enum(["sms", "email"]).meta({ description: "The outbound channel to switch to; the app must allow it." }),
  email: emailAddress.optional(),
});

/** `POST /v1/challenges/{id}/check`: the code the user typed. */
export const checkBody = z.strictObject({
  code: z
    .string()
    .min(1)
    .max(32)
    .meta({ description: "The code as the user typed it; spaces and dashes are ignored, letters compared in upper case.", examples: ["601836"] }),
});

export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");

// Any string: the service answers the same 404 for every id that is not one of ours, whatever its
// length or shape, so unknown, malformed and foreign ids look alike.
export const challengeIdParam = z.string();
// Said in words a client developer reads (zod's own: "expected number, received NaN").
const WAIT_SECONDS_MESSAGE = "must be a whole number of seconds from 0 to 30";
export const waitSecondsParam = z.coerce
  .number({ error: WAIT_SECONDS_MESSAGE })
  .int(WAIT_SECONDS_MESSAGE)
  .min(0, WAIT_SECONDS_MESSAGE)
  .max(30, WAIT_SECONDS_MESSAGE);

// ---- Answers ---------------------------------------------------------------------------------

const isoDateTime = () => z.iso.datetime().meta({ description: "ISO 8601, UTC." });

export const challengeStatusSchema = z
  .enum(["pending", "verified", "expired", "failed", "cancelled"])
  .meta({
    description:
      "`pending` → `verified` | `expired` | `failed` (too many wrong codes) | `cancelled`, one way only. No challenge reads `pending` after its `expiresAt`.",
  });

export const deliverySchema = z
  .strictObject({
    status: z.enum(["queued", "sent", "delivered", "failed", "undeliverable"]).meta({
      description:
        "`queued` (waiting or between retries) → `sent` (the provider accepted it) → `delivered` | `failed` (its delivery report); or `undeliverable` (refused for good) / `failed` (not accepted before the deadline).",
    }),
    updatedAt: isoDateTime(),
  })
  .meta({ description: "The code's message, for the outbound channels `sms` and `email` only." });

/** The JSON of `GET /v1/challenges/:id`, of each Server-Sent Event, and of callbacks' `data`. */
export const challengeViewSchema = z.strictObject({
  id: z.string().regex(/^chl_[0-9A-Za-z]{22}$/).meta({ examples: ["chl_4Rb0dYlqf6cM5Zy1QeV2wX"] }),
  status: challengeStatusSchema,
  purpose: purposeSchema,
  phoneMasked: z.string().meta({ description: "The phone with its middle digits hidden.", examples: ["+33•••••••78"] }),
  createdAt: isoDateTime(),
  expiresAt: isoDateTime(),
  verifiedAt: isoDateTime().nullable(),
  consumedAt: isoDateTime().nullable(),
  attemptsRemaining: z.int().min(0).meta({ description: "Wrong codes this phone may still send before its pending challenges fail." }),
  channel: channelSchema,
  delivery: deliverySchema.optional(),
});

/** The answer to `POST /v1/challenges`: what the app shows the user, and the poll token. */
export const createdChallengeSchema = challengeViewSchema.omit({ createdAt: true, verifiedAt: true, consumedAt: true }).extend({
  code: z.string().optional().meta({ description: "Reverse (`sms_mo`) only: the code the user texts (numeric or upper-case alphanumeric, 4–8 characters).", examples: ["601836"] }),
  smsTo: z.string().regex(/^\+[1-9]\d{1,14}$/).optional().meta({ description: "Reverse (`sms_mo`) only: the virtual number to text, E.164.", examples: ["+447400000100"] }),
  smsBody: z.string().optional().meta({ description: "Reverse (`sms_mo`) only: a ready-made SMS text naming the app and the purpose, with the code.", examples: ["601836 is my Acme code to log in."] }),
  smsUri: z
    .strictObject({
      ios: z.string().meta({ description: "`sms:` link that opens the messaging app prefilled on iOS." }),
      android: z.string().meta({ description: "`sms:` link that opens the messaging app prefilled on Android." }),
    })
    .optional()
    .meta({ description: "Reverse (`sms_mo`) only: links that open the user's messaging app with the number and text filled in." }),
  pollToken: z
    .string()
    .regex(/^pt_[0-9A-Za-z]{43}$/)
    .meta({ description: "Send it as `X-Poll-Token` to read or cancel this challenge without the secret key (from a mobile app)." }),
});

export type ChallengeStatus = z.output<typeof challengeStatusSchema>;
export type ChallengeView = z.output<typeof challengeViewSchema>;
export type CreatedChallenge = z.output<typeof createdChallengeSchema>;
export type Channel = z.output<typeof channelSchema>;
export type Delivery = z.output<typeof deliverySchema>;
