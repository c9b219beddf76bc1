// Configuration: read from the environment once, validated with zod, frozen, passed down.
// Nothing else in src/ reads process.env. Every key has a description; the configuration table of
// docs/configuration.md is checked against these descriptions by test/unit/readme.test.ts.
import path from "node:path";
import { z } from "zod";
import {
  CODE_LENGTH_MAX,
  CODE_LENGTH_MIN,
  CODE_MAX_ATTEMPTS_MAX,
  CODE_MAX_ATTEMPTS_MIN,
  CODE_TTL_SECONDS_MAX,
  CODE_TTL_SECONDS_MIN,
  DEFAULT_CODE_POLICY,
  LOCKOUT_SECONDS_MAX,
  LOCKOUT_SECONDS_MIN,
  defaultCodePolicy,
  shortestStrongLength,
  validateCodePolicy,
  type PolicyDefaults,
} from "./challenges/code-policy.js";
import { standardWebhooksSecretProblem, textSecretProblem } from "./shared/secret-strength.js";

const splitList = (value: string) => value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
const ordinal = (i: number, count: number) => (count === 1 ? "the secret" : `secret ${i + 1} of ${count}`);

/**
 * A comma-separated list of secrets (rotation), each checked by `problemOf` (secret-strength.ts);
 * a refusal says what is wrong (sizes, never the value) and how to make a good one.
 */
const secretList = (problemOf: (secret: string) => string | undefined, advice: string) =>
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
const ownSecretList = (advice: string, minLength = 0) =>
  secretList(
    (secret) =>
      secret.length < minLength ? `has ${secret.length} characters; at least ${minLength} are needed` : textSecretProblem(secret),
    advice,
  );

/** A key that the provider issues: refused only when it is too weak to be one. */
const providerSecretList = (where: string) => secretList(textSecretProblem, `use the ${where}`);

/** Path tokens of unsigned providers stand in for a signature: at least 128 random bits. */
const pathTokenList = secretList(
  (token) =>
    /^[A-Za-z0-9_-]{32,200}$/.test(token)
      ? textSecretProblem(token)
      : "must have 32 to 200 characters of A-Z a-z 0-9 _ -",
  "make one with `openssl rand -hex 32`",
);

const booleanString = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

const positiveInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * A new app that sets no code policy gets the configured defaults with DEFAULT_CODE_POLICY's
 * alphabet and without lowAssurance, so the default length must meet the 20-bit floor on its own:
 * 6 digits or more. (An app that wants shorter codes sets its own length with lowAssurance.)
 */
const DEFAULT_LENGTH_MIN = shortestStrongLength(DEFAULT_CODE_POLICY.alphabet);

/** A provider's base URL or a gateway's URL: http(s), no trailing slash kept. */
const httpUrl = z
  .url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" })
  .transform((value) => value.replace(/\/+$/, ""));

/** The environment variables, each with its description and default. */
export const CONFIG_KEYS = {
  DATABASE_URL: {
    description: "PostgreSQL connection string; when absent the service uses embedded PGlite in `DATA_DIR`",
    schema: z.url({ protocol: /^postgres(ql)?$/, message: "must be a postgres:// or postgresql:// URL" }).optional(),
  },
  DATA_DIR: {
    description: "where embedded data lives (default `./.data`)",
    schema: z.string().min(1).default("./.data"),
  },
  PORT: { description: "port to listen on (default 3000)", schema: positiveInt(0, 65535).default(3000) },
  HOST: { description: "address to listen on (default 127.0.0.1)", schema: z.string().min(1).default("127.0.0.1") },
  PUBLIC_BASE_URL: {
    description:
      "the public URL providers call (default `http://HOST:PORT`); signatures that cover the URL are checked against it",
    schema: z.url({ protocol: /^https?$/ }).optional(),
  },
  HASH_KEY: {
    description:
      "secret for the HMACs of phones and codes (at least 32 characters, comma-separated: the first hashes, all are tried); required with `DATABASE_URL`, generated and kept in `DATA_DIR` in embedded mode",
    schema: ownSecretList("make one with `openssl rand -base64 48`", 32).optional(),
  },
  GENERIC_WEBHOOK_SECRET: {
    description:
      "`whsec_…` secrets of the generic provider, comma-separated for rotation; generated and kept in `DATA_DIR` in embedded mode when not given",
    schema: secretList(standardWebhooksSecretProblem, 'make one with `echo "whsec_$(openssl rand -base64 32)"`').optional(),
  },
  TWILIO_AUTH_TOKEN: {
    description: "Twilio auth token(s): the key of `X-Twilio-Signature`",
    schema: providerSecretList("Auth Token of the Twilio Console (32 hexadecimal digits)").optional(),
  },
  VONAGE_SIGNATURE_SECRET: {
    description: "Vonage signature secret(s): signed SMS API webhooks, and the HS256 key of Messages API JWTs",
    schema: providerSecretList("signature secret of the Vonage dashboard (API settings)").optional(),
  },
  VONAGE_SIGNATURE_METHOD: {
    description: "Vonage SMS API signature method: `md5hash`, `md5`, `sha1`, `sha256` (default) or `sha512`",
    schema: z.enum(["md5hash", "md5", "sha1", "sha256", "sha512"]).default("sha256"),
  },
  PLIVO_AUTH_TOKEN: {
    description: "Plivo auth token(s): the key of `X-Plivo-Signature-V3`",
    schema: providerSecretList("Auth Token of the Plivo console").optional(),
  },
  PLIVO_ACCEPT_V2: {
    description: "`true` also accepts Plivo's older V2 signatures, which do not cover the body (default `false`)",
    schema: booleanString.default(false),
  },
  TELNYX_PUBLIC_KEY: {
    description: "Telnyx Ed25519 public key(s), Base64, from the Mission Control portal",
    schema: z
      .string()
      .transform(splitList)
      .pipe(z.array(z.string().regex(/^[A-Za-z0-9+/]{42,43}=?$/, { message: "must be a Base64 Ed25519 public key (32 bytes)" })).min(1))
      .optional(),
  },
  BIRD_SIGNING_KEY: {
    description: "Bird (Channels API) webhook signing key(s)",
    schema: providerSecretList("signing key Bird gives for the webhook subscription").optional(),
  },
  MESSAGEBIRD_SIGNING_KEY: {
    description: "MessageBird (legacy numbers) signing key(s): `MessageBird-Signature` and `MessageBird-Signature-JWT`",
    schema: providerSecretList("signing key of the MessageBird dashboard (Developers, API settings)").optional(),
  },
  SMSMODE_WEBHOOK_TOKEN: {
    description: "path token(s) of `/v1/inbound/smsmode/<token>`, at least 32 characters",
    schema: pathTokenList.optional(),
  },
  SINCH_WEBHOOK_SECRET: {
    description:
      "Sinch SMS callback signing secret(s): the HMAC-SHA256 key of `x-sinch-webhook-signature` (Sinch's account managers enable signing); preferred over the path token",
    schema: providerSecretList("signing secret that Sinch's account manager gives you").optional(),
  },
  SINCH_WEBHOOK_TOKEN: {
    description: "path token(s) of `/v1/inbound/sinch/<token>`, at least 32 characters",
    schema: pathTokenList.optional(),
  },
  INFOBIP_WEBHOOK_TOKEN: {
    description: "path token(s) of `/v1/inbound/infobip/<token>`, at least 32 characters",
    schema: pathTokenList.optional(),
  },
  RATE_LIMIT_PHONE_PER_HOUR: {
    description: "challenges per phone per hour (default 10); apps may override it",
    schema: positiveInt(1, 100_000).default(10),
  },
  RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE: {
    description: "challenges per publishable key and client (an IPv4 address or an IPv6 /64) per minute (default 20); apps may override it",
    schema: positiveInt(1, 1_000_000).default(20),
  },
  RATE_LIMIT_SECRET_KEY_PER_MINUTE: {
    description: "requests per secret key per minute (default 6000); apps may override it",
    schema: positiveInt(1, 10_000_000).default(6000),
  },
  WAITERS_PER_CHALLENGE: {
    description:
      "long-polls and event streams that may wait on one challenge at once, per instance; more are answered 429 (default 10)",
    schema: positiveInt(1, 100_000).default(10),
  },
  WAITERS_PER_CLIENT: {
    description:
      "long-polls and event streams that one client (an IPv4 address or an IPv6 /64) may hold open at once, per instance; more are answered 429 (default 1000)",
    schema: positiveInt(1, 1_000_000).default(1000),
  },
  REQUEST_TIMEOUT_MS: {
    description:
      "deadline of a request in milliseconds, after which it is answered 503 with Retry-After (default 4000; long-polls add their wait)",
    schema: positiveInt(500, 120_000).default(4000),
  },
  NODE_ENV: {
    description:
      "`production` turns on the production defaults, as a `DATABASE_URL` does: `/metrics` closed without `METRICS_TOKEN` or `METRICS_PUBLIC=true`, the demo off unless `DEMO_ENABLED=true`",
    schema: z.string().optional(),
  },
  METRICS_TOKEN: {
    description:
      "bearer token(s) that `/metrics` requires; without one, `/metrics` is public outside production and closed (404) in production unless `METRICS_PUBLIC=true`",
    schema: ownSecretList("make one with `openssl rand -hex 32`").optional(),
  },
  METRICS_PUBLIC: {
    description: "`true` serves `/metrics` without a token in production too (default `false`; a `METRICS_TOKEN`, when set, is still required)",
    schema: booleanString.default(false),
  },
  ADMIN_TOKEN_MAX_FAILURES: {
    description:
      "wrong admin tokens one client (an IPv4 address or an IPv6 /64) may send in 15 minutes; after them the admin API answers that client 429 until the window ends (default 10)",
    schema: positiveInt(1, 1000).default(10),
  },
  ADMIN_TOKEN: {
    description:
      "bearer token(s) that protect the dashboard (`/dashboard` and `/v1/admin/stats`), at least 128 bits (e.g. `openssl rand -hex 32`), comma-separated for rotation; the dashboard is off when unset",
    schema: ownSecretList("make one with `openssl rand -hex 32`").optional(),
  },
  DEMO_ENABLED: {
    description:
      "`true` serves the demo page at `/` with its \"Demo\" app (virtual number +447400000000, generic provider); default `true` in embedded mode, `false` in production (`DATABASE_URL` or `NODE_ENV=production`)",
    schema: booleanString.optional(),
  },
  RETENTION_CHALLENGE_DAYS: {
    description: "days after which challenges (and their callback events) are purged (default 30)",
    schema: positiveInt(1, 3650).default(30),
  },
  RETENTION_INBOUND_HOURS: {
    description:
      "hours after which inbound messages (the dedup rows) are purged, at least 48 because providers retry for up to a day (default 720)",
    schema: positiveInt(48, 87_600).default(720),
  },
  CALLBACKS_ALLOW_PRIVATE_NETWORKS: {
    description:
      "`true` lets callbacks use plain http and reach loopback and private addresses (off by default; tests and local setups)",
    schema: booleanString.default(false),
  },
  LOG_LEVEL: {
    description: "pino log level: `fatal`, `error`, `warn`, `info` (default), `debug`, `trace` or `silent`",
    schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  },
  TRUST_PROXY: {
    description:
      "Express `trust proxy` setting for the client IP: `false` (default), a hop count, or a comma-separated list of proxy addresses/subnets",
    schema: z.string().default("false"),
  },
  DB_POOL_SIZE: {
    description: "maximum PostgreSQL connections per instance (default 10)",
    schema: positiveInt(1, 200).default(10),
  },
  DB_CONNECT_TIMEOUT_MS: {
    description: "deadline for opening a database connection, in milliseconds (default 2000)",
    schema: positiveInt(100, 60_000).default(2000),
  },
  DB_STATEMENT_TIMEOUT_MS: {
    description: "deadline for one SQL statement, in milliseconds (default 3000)",
    schema: positiveInt(100, 600_000).default(3000),
  },
  CHALLENGE_CODE_LENGTH: {
    description: `default code length for new apps, ${DEFAULT_LENGTH_MIN}–${CODE_LENGTH_MAX} digits (default ${DEFAULT_CODE_POLICY.length}); shorter codes only per app, with \`--low-assurance\``,
    // Any code length here; whether it may be the default is the code policy's rule (below).
    schema: positiveInt(CODE_LENGTH_MIN, CODE_LENGTH_MAX).default(DEFAULT_CODE_POLICY.length),
  },
  CHALLENGE_TTL_SECONDS: {
    description: `default challenge lifetime for new apps, ${CODE_TTL_SECONDS_MIN}–${CODE_TTL_SECONDS_MAX} seconds (default ${DEFAULT_CODE_POLICY.ttlSeconds})`,
    schema: positiveInt(CODE_TTL_SECONDS_MIN, CODE_TTL_SECONDS_MAX).default(DEFAULT_CODE_POLICY.ttlSeconds),
  },
  CHALLENGE_MAX_ATTEMPTS: {
    description: `default wrong-code attempts per phone for new apps, ${CODE_MAX_ATTEMPTS_MIN}–${CODE_MAX_ATTEMPTS_MAX} (default ${DEFAULT_CODE_POLICY.maxAttempts})`,
    schema: positiveInt(CODE_MAX_ATTEMPTS_MIN, CODE_MAX_ATTEMPTS_MAX).default(DEFAULT_CODE_POLICY.maxAttempts),
  },
  LOCKOUT_SECONDS: {
    description: `how long a phone stays locked after its wrong-code attempts are used up, ${LOCKOUT_SECONDS_MIN}–${LOCKOUT_SECONDS_MAX} seconds (default ${DEFAULT_CODE_POLICY.lockoutSeconds})`,
    schema: positiveInt(LOCKOUT_SECONDS_MIN, LOCKOUT_SECONDS_MAX).default(DEFAULT_CODE_POLICY.lockoutSeconds),
  },
  // --- Outbound, the classic direction (src/outbound/, docs/sending.md) ---------------------------
  OUTBOUND_TIMEOUT_MS: {
    description: "deadline of one request to a provider's sending API, in milliseconds (default 10000)",
    schema: positiveInt(500, 120_000).default(10_000),
  },
  OUTBOUND_DEADLINE_SECONDS: {
    description:
      "how long the outbox keeps trying to send one message before its delivery is `failed`, 30–3600 seconds (default 300, a code's default lifetime)",
    schema: positiveInt(30, 3600).default(300),
  },
  TWILIO_ACCOUNT_SID: { description: "Twilio account SID (`AC…`): sending with the Messages API, with the first TWILIO_AUTH_TOKEN", schema: z.string().regex(/^AC[0-9a-fA-F]{32}$/, { message: "must be AC followed by 32 hex digits" }).optional() },
  TWILIO_API_BASE_URL: { description: "Twilio REST base URL (default `https://api.twilio.com`)", schema: httpUrl.default("https://api.twilio.com") },
  VONAGE_API_KEY: { description: "Vonage API key: sending with the SMS API", schema: z.string().min(1).max(200).optional() },
  VONAGE_API_SECRET: { description: "Vonage API secret: sending with the SMS API", schema: z.string().min(1).max(200).optional() },
  VONAGE_API_BASE_URL: { description: "Vonage SMS API base URL (default `https://rest.nexmo.com`)", schema: httpUrl.default("https://rest.nexmo.com") },
  PLIVO_AUTH_ID: { description: "Plivo auth ID: sending, with the first PLIVO_AUTH_TOKEN", schema: z.string().min(1).max(200).optional() },
  PLIVO_API_BASE_URL: { description: "Plivo API base URL (default `https://api.plivo.com`)", schema: httpUrl.default("https://api.plivo.com") },
  TELNYX_API_KEY: { description: "Telnyx API key (V2): sending with the Messaging API", schema: z.string().min(1).max(500).optional() },
  TELNYX_API_BASE_URL: { description: "Telnyx API base URL (default `https://api.telnyx.com`)", schema: httpUrl.default("https://api.telnyx.com") },
  SINCH_SERVICE_PLAN_ID: { description: "Sinch SMS service plan ID: sending with the REST API", schema: z.string().min(1).max(200).optional() },
  SINCH_API_TOKEN: { description: "Sinch SMS API token (Bearer) of the service plan", schema: z.string().min(1).max(500).optional() },
  SINCH_API_BASE_URL: {
    description: "Sinch SMS API base URL of your region (default `https://us.sms.api.sinch.com`; eu., au., br., ca.)",
    schema: httpUrl.default("https://us.sms.api.sinch.com"),
  },
  INFOBIP_API_KEY: { description: "Infobip API key: sending SMS (`Authorization: App …`)", schema: z.string().min(1).max(500).optional() },
  INFOBIP_API_BASE_URL: { description: "Infobip base URL of your account (`https://xxxxx.api.infobip.com`); required to send through Infobip", schema: httpUrl.optional() },
  SMSMODE_ACCESS_TOKEN: { description: "smsmode access token: sending with the HTTP API 1.6", schema: z.string().min(1).max(500).optional() },
  SMSMODE_API_BASE_URL: { description: "smsmode HTTP API base URL (default `https://api.smsmode.com`)", schema: httpUrl.default("https://api.smsmode.com") },
  BIRD_ACCESS_KEY: { description: "Bird access key: sending with the Channels API", schema: z.string().min(1).max(500).optional() },
  BIRD_WORKSPACE_ID: { description: "Bird workspace ID of the SMS channels", schema: z.string().min(1).max(200).optional() },
  BIRD_SMS_CHANNELS: {
    description: "Bird SMS channel of each virtual number, comma-separated `+E164=channelId` pairs (the channel is the sender)",
    schema: z
      .string()
      .transform((value) => value.split(",").map((s) => s.trim()).filter((s) => s.length > 0))
      .pipe(z.array(z.string().regex(/^\+[1-9]\d{6,14}=[A-Za-z0-9-]{1,100}$/, { message: "each entry must be +E164=channelId" })).min(1))
      .optional(),
  },
  BIRD_API_BASE_URL: { description: "Bird API base URL (default `https://api.bird.com`)", schema: httpUrl.default("https://api.bird.com") },
  MESSAGEBIRD_ACCESS_KEY: { description: "MessageBird (legacy) access key: sending with the SMS API", schema: z.string().min(1).max(500).optional() },
  MESSAGEBIRD_API_BASE_URL: { description: "MessageBird REST base URL (default `https://rest.messagebird.com`)", schema: httpUrl.default("https://rest.messagebird.com") },
  GENERIC_OUTBOUND_URL: {
    description: "where the generic provider sends: a signed POST of `{ messageId, from, to, text }` (Standard Webhooks, first GENERIC_WEBHOOK_SECRET); any 2xx is accepted",
    schema: httpUrl.optional(),
  },
  SMTP_URL: {
    description: "SMTP server for codes by e-mail: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`",
    schema: z.url({ protocol: /^smtps?$/, message: "must be an smtp:// or smtps:// URL" }).optional(),
  },
  EMAIL_FROM: { description: "sender of code e-mails, e.g. `Acme <no-reply@acme.example>`", schema: z.string().min(3).max(320).optional() },
  OUTBOUND_CAP_PHONE_PER_HOUR: { description: "codes sent to one phone number per hour, all apps (default 5)", schema: positiveInt(1, 10_000).default(5) },
  OUTBOUND_CAP_PREFIX_PER_HOUR: {
    description: "codes sent per hour to one number prefix (country code and the next 3 digits), all apps (default 50)",
    schema: positiveInt(1, 1_000_000).default(50),
  },
  OUTBOUND_CAP_COUNTRY_PER_HOUR: {
    description: "codes sent per hour to the numbers of one country, all apps (default 500)",
    schema: positiveInt(1, 100_000_000).default(500),
  },
  OUTBOUND_CAP_APP_PER_DAY: { description: "codes one app may send per day, SMS and e-mail (default 1000)", schema: positiveInt(1, 100_000_000).default(1000) },
  OUTBOUND_MIN_CONVERSION_PERCENT: {
    description:
      "outbound pauses for an app whose verified ÷ sent over the last hour falls below this percentage (default 20; 0 turns the switch off)",
    schema: z.coerce.number().int().min(0).max(100).default(20),
  },
  OUTBOUND_CONVERSION_MIN_SENT: {
    description: "sends in the last hour before the conversion switch judges an app (default 20)",
    schema: positiveInt(1, 1_000_000).default(20),
  },
} as const;

type ConfigKey = keyof typeof CONFIG_KEYS;

type RawConfig = { [K in ConfigKey]: z.output<(typeof CONFIG_KEYS)[K]["schema"]> };

export type Config = Readonly<{
  databaseUrl: string | undefined;
  dataDir: string;
  port: number;
  host: string;
  publicBaseUrl: string;
  /** HMAC keys; the first one writes, all are tried on read. Undefined only before embedded start-up fills it in. */
  hashKeys: readonly string[] | undefined;
  genericWebhookSecrets: readonly string[] | undefined;
  providers: ProviderSettings;
  logLevel: RawConfig["LOG_LEVEL"];
  trustProxy: boolean | number | string[];
  db: Readonly<{ poolSize: number; connectTimeoutMs: number; statementTimeoutMs: number }>;
  /** The code policy of new apps that set none (a valid policy: checked at load). */
  defaults: PolicyDefaults;
  /** Callbacks may use http and reach loopback/private addresses (SSRF guard off). */
  callbacksAllowPrivateNetworks: boolean;
  rateLimits: Readonly<RateLimitSettings>;
  /** Caps on waiting long-polls and event streams, per instance. */
  waiters: Readonly<{ perChallenge: number; perClient: number }>;
  metricsTokens: readonly string[];
  /** `/metrics` without a token: public (outside production, or METRICS_PUBLIC) or closed. */
  metricsPublic: boolean;
  /** NODE_ENV=production or a DATABASE_URL: the production defaults apply. */
  production: boolean;
  /** Bearer tokens of the dashboard; the dashboard is off when empty. */
  adminTokens: readonly string[];
  /** Wrong admin tokens a client may send per 15 minutes. */
  adminTokenMaxFailures: number;
  /** Serve the demo page and its routes (default: in embedded mode only). */
  demoEnabled: boolean;
  requestTimeoutMs: number;
  retention: Readonly<{ challengeDays: number; inboundHours: number }>;
  /** Sending codes (the classic direction): credentials, base URLs, e-mail, caps. */
  outbound: OutboundSettings;
}>;

export type OutboundSettings = Readonly<{
  timeoutMs: number;
  deadlineSeconds: number;
  twilio: Readonly<{ accountSid: string | undefined; baseUrl: string }>;
  vonage: Readonly<{ apiKey: string | undefined; apiSecret: string | undefined; baseUrl: string }>;
  plivo: Readonly<{ authId: string | undefined; baseUrl: string }>;
  telnyx: Readonly<{ apiKey: string | undefined; baseUrl: string }>;
  sinch: Readonly<{ servicePlanId: string | undefined; apiToken: string | undefined; baseUrl: string }>;
  infobip: Readonly<{ apiKey: string | undefined; baseUrl: string | undefined }>;
  smsmode: Readonly<{ accessToken: string | undefined; baseUrl: string }>;
  bird: Readonly<{ accessKey: string | undefined; workspaceId: string | undefined; channels: ReadonlyMap<string, string>; baseUrl: string }>;
  messagebird: Readonly<{ accessKey: string | undefined; baseUrl: string }>;
  genericUrl: string | undefined;
  smtpUrl: string | undefined;
  emailFrom: string | undefined;
  caps: Readonly<OutboundCaps>;
}>;

export type OutboundCaps = {
  phonePerHour: number;
  prefixPerHour: number;
  countryPerHour: number;
  appPerDay: number;
  /** 0–100; 0 turns the conversion switch off. */
  minConversionPercent: number;
  conversionMinSent: number;
};

export type RateLimitSettings = { phonePerHour: number; publishableKeyPerMinute: number; secretKeyPerMinute: number };

/** Secrets of the SMS provider adapters; an adapter without its secret refuses every delivery. */
export type ProviderSettings = Readonly<{
  twilioAuthTokens: readonly string[];
  vonageSignatureSecrets: readonly string[];
  vonageSignatureMethod: "md5hash" | "md5" | "sha1" | "sha256" | "sha512";
  plivoAuthTokens: readonly string[];
  plivoAcceptV2: boolean;
  telnyxPublicKeys: readonly string[];
  birdSigningKeys: readonly string[];
  messagebirdSigningKeys: readonly string[];
  smsmodeTokens: readonly string[];
  sinchTokens: readonly string[];
  sinchSigningSecrets: readonly string[];
  infobipTokens: readonly string[];
}>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const envSchema = z.object(
  Object.fromEntries(Object.entries(CONFIG_KEYS).map(([k, v]) => [k, v.schema])) as {
    [K in ConfigKey]: (typeof CONFIG_KEYS)[K]["schema"];
  },
);

function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === "false" || value === "") return false;
  if (value === "true") return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(",").map((s) => s.trim()).filter(Boolean);
}

const POLICY_KEYS = {
  codeLength: "CHALLENGE_CODE_LENGTH",
  ttlSeconds: "CHALLENGE_TTL_SECONDS",
  maxAttempts: "CHALLENGE_MAX_ATTEMPTS",
  lockoutSeconds: "LOCKOUT_SECONDS",
} as const satisfies Record<keyof PolicyDefaults, ConfigKey>;

/** The defaults of new apps, when each of their keys is valid on its own. */
function policyDefaultsOf(cleaned: Record<string, string | undefined>): PolicyDefaults | undefined {
  const values: Partial<Record<keyof PolicyDefaults, number>> = {};
  for (const [field, key] of Object.entries(POLICY_KEYS) as [keyof PolicyDefaults, ConfigKey][]) {
    const result = CONFIG_KEYS[key].schema.safeParse(cleaned[key]);
    if (!result.success || typeof result.data !== "number") return undefined;
    values[field] = result.data;
  }
  return Object.freeze(values as PolicyDefaults);
}

/**
 * The very check an app's policy gets (apps/app-service.ts), applied to the policy of an app that
 * sets nothing itself, so that a configuration that loads never makes `apps create` refuse its own
 * defaults (as CHALLENGE_CODE_LENGTH=5 once did: every app created without --code-length was refused).
 */
function policyDefaultsProblems(defaults: PolicyDefaults): string[] {
  const keyOf: Record<string, ConfigKey> = {
    length: POLICY_KEYS.codeLength,
    ttlSeconds: POLICY_KEYS.ttlSeconds,
    maxAttempts: POLICY_KEYS.maxAttempts,
    lockoutSeconds: POLICY_KEYS.lockoutSeconds,
  };
  return validateCodePolicy(defaultCodePolicy(defaults)).map((p) =>
    p.field === "length"
      ? `${POLICY_KEYS.codeLength}: ${p.message.split(";")[0]}, too weak for the default of new apps: use ${DEFAULT_LENGTH_MIN}–${CODE_LENGTH_MAX} (an app that wants shorter codes sets its own length with --low-assurance)`
      : `${keyOf[p.field] ?? p.field}: as the default of new apps, ${p.message}`,
  );
}

/** Parses the environment; reports every bad value at once. Empty strings count as unset. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(
    Object.keys(CONFIG_KEYS).map((key) => [key, env[key] === "" ? undefined : env[key]]),
  );
  const parsed = envSchema.safeParse(cleaned);
  const problems: string[] = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  // Rules across keys are checked on the raw text, so they are reported with the bad single values
  // instead of after those are fixed (HASH_KEY's own length rule is in its schema).
  if (cleaned.DATABASE_URL !== undefined && cleaned.HASH_KEY === undefined) {
    problems.push("HASH_KEY: required when DATABASE_URL is set (generate one with `openssl rand -base64 48`)");
  }
  const defaults = policyDefaultsOf(cleaned);
  if (defaults) problems.push(...policyDefaultsProblems(defaults));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const raw = parsed.data as RawConfig;

  // Production: a real database, or said so. Its defaults close what a try-out leaves open.
  const production = raw.NODE_ENV === "production" || raw.DATABASE_URL !== undefined;
  const publicBaseUrl = (raw.PUBLIC_BASE_URL ?? `http://${raw.HOST.includes(":") ? `[${raw.HOST}]` : raw.HOST}:${raw.PORT}`).replace(/\/+$/, "");
  return Object.freeze({
    databaseUrl: raw.DATABASE_URL,
    dataDir: path.resolve(raw.DATA_DIR),
    port: raw.PORT,
    host: raw.HOST,
    publicBaseUrl,
    hashKeys: raw.HASH_KEY && Object.freeze(raw.HASH_KEY),
    genericWebhookSecrets: raw.GENERIC_WEBHOOK_SECRET && Object.freeze(raw.GENERIC_WEBHOOK_SECRET),
    providers: Object.freeze({
      twilioAuthTokens: raw.TWILIO_AUTH_TOKEN ?? [],
      vonageSignatureSecrets: raw.VONAGE_SIGNATURE_SECRET ?? [],
      vonageSignatureMethod: raw.VONAGE_SIGNATURE_METHOD,
      plivoAuthTokens: raw.PLIVO_AUTH_TOKEN ?? [],
      plivoAcceptV2: raw.PLIVO_ACCEPT_V2,
      telnyxPublicKeys: raw.TELNYX_PUBLIC_KEY ?? [],
      birdSigningKeys: raw.BIRD_SIGNING_KEY ?? [],
      messagebirdSigningKeys: raw.MESSAGEBIRD_SIGNING_KEY ?? [],
      smsmodeTokens: raw.SMSMODE_WEBHOOK_TOKEN ?? [],
      sinchTokens: raw.SINCH_WEBHOOK_TOKEN ?? [],
      sinchSigningSecrets: raw.SINCH_WEBHOOK_SECRET ?? [],
      infobipTokens: raw.INFOBIP_WEBHOOK_TOKEN ?? [],
    }),
    callbacksAllowPrivateNetworks: raw.CALLBACKS_ALLOW_PRIVATE_NETWORKS,
    logLevel: raw.LOG_LEVEL,
    trustProxy: parseTrustProxy(raw.TRUST_PROXY),
    db: Object.freeze({
      poolSize: raw.DB_POOL_SIZE,
      connectTimeoutMs: raw.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: raw.DB_STATEMENT_TIMEOUT_MS,
    }),
    rateLimits: Object.freeze({
      phonePerHour: raw.RATE_LIMIT_PHONE_PER_HOUR,
      publishableKeyPerMinute: raw.RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE,
      secretKeyPerMinute: raw.RATE_LIMIT_SECRET_KEY_PER_MINUTE,
    }),
    waiters: Object.freeze({ perChallenge: raw.WAITERS_PER_CHALLENGE, perClient: raw.WAITERS_PER_CLIENT }),
    metricsTokens: raw.METRICS_TOKEN ?? [],
    metricsPublic: raw.METRICS_PUBLIC || !production,
    production,
    adminTokens: raw.ADMIN_TOKEN ?? [],
    adminTokenMaxFailures: raw.ADMIN_TOKEN_MAX_FAILURES,
    demoEnabled: raw.DEMO_ENABLED ?? !production,
    requestTimeoutMs: raw.REQUEST_TIMEOUT_MS,
    retention: Object.freeze({ challengeDays: raw.RETENTION_CHALLENGE_DAYS, inboundHours: raw.RETENTION_INBOUND_HOURS }),
    outbound: Object.freeze({
      timeoutMs: raw.OUTBOUND_TIMEOUT_MS,
      deadlineSeconds: raw.OUTBOUND_DEADLINE_SECONDS,
      twilio: Object.freeze({ accountSid: raw.TWILIO_ACCOUNT_SID, baseUrl: raw.TWILIO_API_BASE_URL }),
      vonage: Object.freeze({ apiKey: raw.VONAGE_API_KEY, apiSecret: raw.VONAGE_API_SECRET, baseUrl: raw.VONAGE_API_BASE_URL }),
      plivo: Object.freeze({ authId: raw.PLIVO_AUTH_ID, baseUrl: raw.PLIVO_API_BASE_URL }),
      telnyx: Object.freeze({ apiKey: raw.TELNYX_API_KEY, baseUrl: raw.TELNYX_API_BASE_URL }),
      sinch: Object.freeze({ servicePlanId: raw.SINCH_SERVICE_PLAN_ID, apiToken: raw.SINCH_API_TOKEN, baseUrl: raw.SINCH_API_BASE_URL }),
      infobip: Object.freeze({ apiKey: raw.INFOBIP_API_KEY, baseUrl: raw.INFOBIP_API_BASE_URL }),
      smsmode: Object.freeze({ accessToken: raw.SMSMODE_ACCESS_TOKEN, baseUrl: raw.SMSMODE_API_BASE_URL }),
      bird: Object.freeze({
        accessKey: raw.BIRD_ACCESS_KEY,
        workspaceId: raw.BIRD_WORKSPACE_ID,
        channels: new Map((raw.BIRD_SMS_CHANNELS ?? []).map((entry) => entry.split("=") as [string, string])),
        baseUrl: raw.BIRD_API_BASE_URL,
      }),
      messagebird: Object.freeze({ accessKey: raw.MESSAGEBIRD_ACCESS_KEY, baseUrl: raw.MESSAGEBIRD_API_BASE_URL }),
      genericUrl: raw.GENERIC_OUTBOUND_URL,
      smtpUrl: raw.SMTP_URL,
      emailFrom: raw.EMAIL_FROM,
      caps: Object.freeze({
        phonePerHour: raw.OUTBOUND_CAP_PHONE_PER_HOUR,
        prefixPerHour: raw.OUTBOUND_CAP_PREFIX_PER_HOUR,
        countryPerHour: raw.OUTBOUND_CAP_COUNTRY_PER_HOUR,
        appPerDay: raw.OUTBOUND_CAP_APP_PER_DAY,
        minConversionPercent: raw.OUTBOUND_MIN_CONVERSION_PERCENT,
        conversionMinSent: raw.OUTBOUND_CONVERSION_MIN_SENT,
      }),
    }),
    // Every key parsed, theirs included.
    defaults: defaults!,
  });
}

/** The process environment, read here and nowhere else. */
export function loadConfigFromEnv(): Config {
  return loadConfig(process.env);
}
