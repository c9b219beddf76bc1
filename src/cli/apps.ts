// `apps …`: create, list, show, rotate-key, set-policy, set-callback, add-number, remove-number.
import type { CreateAppInput, PolicyChanges } from "../apps/app-service.js";
import type { AppRecord, NumberRecord } from "../apps/app-directory.js";
import { describeNumber } from "../apps/virtual-number.js";
import { describeUnconfigured } from "../providers/unconfigured.js";
import type { Runtime } from "../runtime.js";
import { intOption, output, parseCommand, UsageError, type CliContext } from "./context.js";

/** Warns on stderr when the app receives through a provider that has no secret (it would refuse every SMS). */
async function warnUnconfigured(ctx: CliContext, rt: Runtime, app: AppRecord): Promise<void> {
  for (const entry of await rt.unconfiguredProviders([app])) ctx.stderr(`Warning: ${describeUnconfigured(entry)}.\n`);
}

/** The policy options shared by `apps create` and `apps set-policy`. */
const POLICY_OPTIONS = {
  "code-length": { type: "string" },
  "code-alphabet": { type: "string" },
  "ttl-seconds": { type: "string" },
  "max-attempts": { type: "string" },
  "low-assurance": { type: "boolean" },
  "lockout-seconds": { type: "string" },
  "allowed-countries": { type: "string" },
  channels: { type: "string" },
  "outbound-countries": { type: "string" },
  locale: { type: "string" },
  "rate-limit-phone-per-hour": { type: "string" },
  "rate-limit-publishable-key-per-minute": { type: "string" },
  "rate-limit-secret-key-per-minute": { type: "string" },
  json: { type: "boolean" },
} as const;

type PolicyValues = { [K in keyof typeof POLICY_OPTIONS]?: (typeof POLICY_OPTIONS)[K]["type"] extends "boolean" ? boolean : string };

const RATE_LIMITS = [
  ["rate-limit-phone-per-hour", "rateLimitPhonePerHour"],
  ["rate-limit-publishable-key-per-minute", "rateLimitPublishableKeyPerMinute"],
  ["rate-limit-secret-key-per-minute", "rateLimitSecretKeyPerMinute"],
] as const;

/**
 * The policy settings named on the command line. With `resettable` (set-policy), `--allowed-countries
 * any` clears the list and a rate limit `default` returns to the service-wide one (null).
 */
function policyFrom(values: PolicyValues, command: string, resettable: boolean): PolicyChanges {
  const alphabet = values["code-alphabet"];
  if (alphabet !== undefined && alphabet !== "numeric" && alphabet !== "alphanumeric") {
    throw new UsageError("--code-alphabet must be numeric or alphanumeric", command);
  }
  const countries = values["allowed-countries"];
  const outbound = values["outbound-countries"];
  const list = (v: string) => v.split(",").filter((c) => c.trim() !== "");
  const changes: PolicyChanges = {
    codeLength: intOption(values["code-length"], "code-length", command),
    codeAlphabet: alphabet,
    codeTtlSeconds: intOption(values["ttl-seconds"], "ttl-seconds", command),
    maxAttempts: intOption(values["max-attempts"], "max-attempts", command),
    lockoutSeconds: intOption(values["lockout-seconds"], "lockout-seconds", command),
    allowedCountries:
      countries === undefined
        ? undefined
        : resettable && (countries.trim() === "" || countries.trim().toLowerCase() === "any")
          ? []
          : countries.split(",").filter((c) => c.trim() !== ""),
    defaultLocale: values.locale,
    channels: values.channels === undefined ? undefined : list(values.channels),
    // `default` (set-policy): back to the countries of the app's numbers.
    outboundCountries:
      outbound === undefined ? undefined : resettable && ["", "default"].includes(outbound.trim().toLowerCase()) ? [] : list(outbound),
  };
  for (const [option, field] of RATE_LIMITS) {
    const value = values[option];
    changes[field] = resettable && value === "default" ? null : intOption(value, option, command);
  }
  return changes;
}

function describeApp(app: AppRecord): string {
  const limits = [
    app.rateLimitPhonePerHour !== null ? `${app.rateLimitPhonePerHour}/phone/hour` : undefined,
    app.rateLimitPublishableKeyPerMinute !== null ? `${app.rateLimitPublishableKeyPerMinute}/publishable key/min` : undefined,
    app.rateLimitSecretKeyPerMinute !== null ? `${app.rateLimitSecretKeyPerMinute}/secret key/min` : undefined,
  ].filter(Boolean);
  return [
    `${app.id}  ${app.name}`,
    `  numbers: ${app.numbers.map((n) => `${describeNumber(n)} (${n.provider}${n.channelId ? `, channel ${n.channelId}` : ""})`).join(", ") || "none"}`,
    `  code: ${app.codeLength} ${app.codeAlphabet}, ${app.codeTtlSeconds} s, ${app.maxAttempts} attempts, lock-out ${app.lockoutSeconds} s${app.lowAssurance ? ", low assurance" : ""}`,
    `  locale: ${app.defaultLocale}, countries: ${app.allowedCountries.length ? app.allowedCountries.join(",") : "any"}`,
    `  channels: ${app.channels.join(",")}${app.channels.some((c) => c !== "sms_mo") ? `, codes sent to: ${app.outboundCountries.length ? app.outboundCountries.join(",") : "the countries of its numbers"}` : ""}`,
    `  rate limits: ${limits.length ? limits.join(", ") : "service defaults"}`,
    `  callback: ${app.callbackUrl ?? "none"}`,
  ].join("\n");
}

/** A number in JSON output: a short code adds its country, a mapped number its channel id. */
const publicNumber = (n: NumberRecord) => ({
  number: n.e164,
  provider: n.provider,
  ...(n.country ? { country: n.country } : {}),
  ...(n.channelId ? { channel: n.channelId } : {}),
});

const publicApp = (app: AppRecord) => ({
  id: app.id,
  name: app.name,
  createdAt: app.createdAt.toISOString(),
  numbers: app.numbers.map(publicNumber),
  codeLength: app.codeLength,
  codeAlphabet: app.codeAlphabet,
  codeTtlSeconds: app.codeTtlSeconds,
  maxAttempts: app.maxAttempts,
  lowAssurance: app.lowAssurance,
  lockoutSeconds: app.lockoutSeconds,
  allowedCountries: app.allowedCountries,
  defaultLocale: app.defaultLocale,
  channels: app.channels,
  outboundCountries: app.outboundCountries,
  // null: the service-wide default (RATE_LIMIT_*).
  rateLimits: {
    phonePerHour: app.rateLimitPhonePerHour,
    publishableKeyPerMinute: app.rateLimitPublishableKeyPerMinute,
    secretKeyPerMinute: app.rateLimitSecretKeyPerMinute,
  },
  callbackUrl: app.callbackUrl,
});

/** Fields left undefined are dropped, so the service sees only what was given. */
const defined = <T extends object>(value: T) => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

async function create(ctx: CliContext, args: string[]): Promise<void> {
  const command = "apps create";
  const { values } = parseCommand(command, args, {
    name: { type: "string" },
    number: { type: "string", multiple: true },
    provider: { type: "string" },
    country: { type: "string" },
    channel: { type: "string" },
    "callback-url": { type: "string" },
    ...POLICY_OPTIONS,
  });
  if (!values.name) throw new UsageError("apps create needs --name", command);
  if (!values.number?.length) throw new UsageError("apps create needs --number (the virtual number users text, in E.164)", command);
  if (values.channel !== undefined && values.number.length > 1) throw new UsageError("--channel names one number: give one --number with it", command);
  const input: CreateAppInput = defined({
    name: values.name,
    numbers: values.number.map((n) =>
      defined({ number: n, provider: values.provider, country: values.country, channel: values.channel }),
    ),
    callbackUrl: values["callback-url"],
    ...policyFrom(values, command, false),
    lowAssurance: values["low-assurance"] ? true : undefined,
  }) as CreateAppInput;
  const created = await ctx.withRuntime(async (rt) => {
    const result = await rt.apps.create(input);
    await warnUnconfigured(ctx, rt, result.app);
    return result;
  });
  output(
    ctx,
    values.json,
    {
      app: { id: created.app.id, name: created.app.name },
      secretKey: created.secretKey,
      publishableKey: created.publishableKey,
      ...(created.callbackSecret ? { callbackSecret: created.callbackSecret } : {}),
    },
    `${describeApp(created.app)}\n\nSecret key (server side only):  ${created.secretKey}\nPublishable key (mobile apps):  ${created.publishableKey}\n` +
      (created.callbackSecret ? `Callback signing secret:        ${created.callbackSecret}\n` : "") +
      `\nThese keys are shown once and stored only as hashes. Keep them now.`,
  );
}

async function list(ctx: CliContext, args: string[]): Promise<void> {
  const { values } = parseCommand("apps list", args, { json: { type: "boolean" } });
  const apps = await ctx.withRuntime((rt) => rt.apps.list());
  output(ctx, values.json, { apps: apps.map(publicApp) }, apps.length ? apps.map(describeApp).join("\n\n") : "No apps yet.");
}

async function show(ctx: CliContext, args: string[]): Promise<void> {
  const { values, positionals } = parseCommand("apps show", args, { json: { type: "boolean" } }, ["app-id"]);
  const app = await ctx.withRuntime((rt) => rt.apps.get(positionals[0]!));
  output(ctx, values.json, { app: publicApp(app) }, describeApp(app));
}

async function rotateKey(ctx: CliContext, args: string[]): Promise<void> {
  const command = "apps rotate-key";
  const { values, positionals } = parseCommand(
    command,
    args,
    { kind: { type: "string" }, "revoke-old": { type: "boolean" }, json: { type: "boolean" } },
    ["app-id"],
  );
  if (values.kind !== "secret" && values.kind !== "publishable") throw new UsageError("--kind must be secret or publishable", command);
  const kind = values.kind;
  const revokeOld = values["revoke-old"] ?? false;
  const key = await ctx.withRuntime((rt) => rt.apps.rotateKey(positionals[0]!, kind, revokeOld));
  output(
    ctx,
    values.json,
    { appId: positionals[0], kind, key, previousKeysRevoked: revokeOld },
    `New ${kind} key: ${key}\n${revokeOld ? "Previous keys of this kind no longer work." : "Previous keys still work; rotate again with --revoke-old to retire them."}`,
  );
}

async function setPolicy(ctx: CliContext, args: string[]): Promise<void> {
  const command = "apps set-policy";
  const { values, positionals } = parseCommand(command, args, { ...POLICY_OPTIONS, "no-low-assurance": { type: "boolean" } }, ["app-id"]);
  if (values["low-assurance"] && values["no-low-assurance"]) {
    throw new UsageError("--low-assurance and --no-low-assurance contradict each other", command);
  }
  const changes = defined({
    ...policyFrom(values, command, true),
    lowAssurance: values["low-assurance"] ? true : values["no-low-assurance"] ? false : undefined,
  });
  if (Object.keys(changes).length === 0) {
    throw new UsageError("apps set-policy needs at least one setting to change (see --help)", command);
  }
  const app = await ctx.withRuntime((rt) => rt.apps.updatePolicy(positionals[0]!, changes));
  output(ctx, values.json, { app: publicApp(app) }, `${describeApp(app)}\n\nChallenges created from now on follow this policy.`);
}

async function setCallback(ctx: CliContext, args: string[]): Promise<void> {
  const command = "apps set-callback";
  const { values, positionals } = parseCommand(
    command,
    args,
    { url: { type: "string" }, remove: { type: "boolean" }, "keep-secret": { type: "boolean" }, json: { type: "boolean" } },
    ["app-id"],
  );
  if ((values.url === undefined) === !values.remove) throw new UsageError("apps set-callback needs either --url <https URL> or --remove", command);
  if (values.remove && values["keep-secret"]) throw new UsageError("--keep-secret goes with --url, not with --remove", command);
  const url = values.remove ? null : values.url!;
  const result = await ctx.withRuntime((rt) => rt.apps.setCallback(positionals[0]!, url, { keepSecret: values["keep-secret"] ?? false }));
  const { app, callbackSecret } = result;
  output(
    ctx,
    values.json,
    { app: { id: app.id, name: app.name, callbackUrl: app.callbackUrl }, ...(callbackSecret ? { callbackSecret } : {}) },
    url === null
      ? `${app.id}: callback removed. Events not yet delivered are given up.`
      : `${app.id}: callbacks go to ${app.callbackUrl}\n` +
          (callbackSecret
            ? `Callback signing secret: ${callbackSecret}\n\nThis secret is shown once; the previous one no longer signs. Give it to the receiver now.`
            : "The signing secret is unchanged."),
  );
}

async function addNumber(ctx: CliContext, args: string[]): Promise<void> {
  const command = "apps add-number";
  const { values, positionals } = parseCommand(
    command,
    args,
    { number: { type: "string" }, provider: { type: "string" }, country: { type: "string" }, channel: { type: "string" }, json: { type: "boolean" } },
    ["app-id"],
  );
  if (!values.number) throw new UsageError("apps add-number needs --number <E.164 or short code>", command);
  const number = values.number;
  const options = defined({ country: values.country, channel: values.channel });
  const app = await ctx.withRuntime(async (rt) => {
    const updated = await rt.apps.addNumber(positionals[0]!, number, values.provider, options);
    await warnUnconfigured(ctx, rt, updated);
    return updated;
  });
  output(ctx, values.json, { app: publicApp(app) }, describeApp(app));
}

async function removeNumber(ctx: CliContext, args: string[]): Promise<void> {
  const command = "apps remove-number";
  const { values, positionals } = parseCommand(command, args, { number: { type: "string" }, json: { type: "boolean" } }, ["app-id"]);
  if (!values.number) throw new UsageError("apps remove-number needs --number <E.164 or short code>", command);
  const number = values.number;
  const app = await ctx.withRuntime((rt) => rt.apps.removeNumber(positionals[0]!, number));
  output(ctx, values.json, { app: publicApp(app) }, describeApp(app));
}

export const APPS_COMMANDS: Record<string, (ctx: CliContext, args: string[]) => Promise<void>> = {
  create,
  list,
  show,
  "rotate-key": rotateKey,
  "set-policy": setPolicy,
  "set-callback": setCallback,
  "add-number": addNumber,
  "remove-number": removeNumber,
};
