// Configuration: read from the environment once, validated with zod, frozen, passed down.
// Nothing else in src/ reads process.env. Every key has a description; the configuration table of
// docs/configuration.md is checked against these descriptions by test/unit/readme.test.ts. Each SMS
// provider declares its own variables and builds its part of `providers` and `outbound` from them
// (src/providers/<name>/descriptor.ts); this module composes them from the providers' list.
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
import { PROVIDER_INBOUND_KEYS, PROVIDER_OUTBOUND_KEYS, PROVIDER_DESCRIPTORS, type ProviderOutboundSettings, type ProviderSettings } from "./providers/index.js";
import { booleanString, ownSecretList, positiveInt } from "./shared/config-schemas.js";

export type { ProviderSettings } from "./providers/index.js";

/**
 * A new app that sets no code policy gets the configured defaults with DEFAULT_CODE_POLICY's
 * alphabet and without lowAssurance, so the default length must meet the 20-bit floor on its own:
 * 6 digits or more. (An app that wants shorter codes sets its own length with lowAssurance.)
 */
const DEFAULT_LENGTH_MIN = shortestStrongLength(DEFAULT_CODE_POLICY.alphabet);

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
  // Each SMS provider's own variables (src/providers/<name>/descriptor.ts), in the providers' order.
  ...PROVIDER_INBOUND_KEYS,
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
  // Each SMS provider's sending variables (src/providers/<name>/descriptor.ts).
  ...PROVIDER_OUTBOUND_KEYS,
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

export type OutboundSettings = ProviderOutboundSettings &
  Readonly<{
    timeoutMs: number;
    deadlineSeconds: number;
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
    providers: providerPart(raw, "inbound") as ProviderSettings,
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
      ...(providerPart(raw, "outbound") as ProviderOutboundSettings),
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

/**
 * The providers' parts of the configuration (`Config.providers`, the providers' keys of
 * `Config.outbound`), each built by its descriptor from the parsed values; frozen, as the rest.
 */
function providerPart(raw: RawConfig, part: "inbound" | "outbound"): object {
  const entries = PROVIDER_DESCRIPTORS.flatMap((p) => Object.entries(p[part](raw)));
  return Object.freeze(Object.fromEntries(entries.map(([key, value]) => [key, isPlainObject(value) ? Object.freeze(value) : value])));
}

const isPlainObject = (value: unknown): value is object => typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/** The process environment, read here and nowhere else. */
export function loadConfigFromEnv(): Config {
  return loadConfig(process.env);
}
