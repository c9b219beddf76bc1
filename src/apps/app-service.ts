// Apps (tenants): creation with their first keys and numbers, changes to their policy, callback
// and numbers, key rotation, and authentication of presented API keys.
import { randomBytes } from "node:crypto";
import { checkCallbackUrl } from "../callbacks/callback-url.js";
import { defaultCodePolicy, validateCodePolicy, type CodeAlphabet, type PolicyDefaults } from "../challenges/code-policy.js";
import { normalizeSender } from "../challenges/phone.js";
import { isLocale, resolveLocale, SUPPORTED_LOCALES } from "../challenges/sms-text.js";
import type { Clock } from "../shared/clock.js";
import { randomId, safeEqual } from "../shared/crypto.js";
import { AppError, type FieldError } from "../shared/errors.js";
import { NumberInUseError, NumberTakenError, toPolicy, type AppPolicy, type AppRecord, type AppRepository, type NumberRecord } from "./app-repository.js";
import { generateKey, hashKey, keyKindOf, type KeyKind } from "./keys.js";
import { parseVirtualNumber } from "./virtual-number.js";
import { checkChannels, normalizeChannels } from "../challenges/channels.js";

/**
 * A virtual number as given: a long number, or a short code with its `country`; `channel` is the
 * provider's id of the channel that receives it, for providers whose deliveries name only that (Bird).
 */
export type NumberInput = { number: string; provider?: string; country?: string; channel?: string };

/** Channel ids are opaque provider ids (Bird's are UUIDs): printable, no spaces. */
const CHANNEL_ID = /^[\x21-\x7e]{1,200}$/;

export type CreateAppInput = {
  name: string;
  numbers: NumberInput[];
  callbackUrl?: string;
  codeLength?: number;
  codeAlphabet?: CodeAlphabet;
  codeTtlSeconds?: number;
  maxAttempts?: number;
  lowAssurance?: boolean;
  lockoutSeconds?: number;
  allowedCountries?: string[];
  defaultLocale?: string;
  channels?: string[];
  outboundCountries?: string[];
  rateLimitPhonePerHour?: number;
  rateLimitPublishableKeyPerMinute?: number;
  rateLimitSecretKeyPerMinute?: number;
};

export type CreatedApp = {
  app: AppRecord;
  secretKey: string;
  publishableKey: string;
  callbackSecret?: string;
};

export type Principal = { appId: string; kind: KeyKind; keyId: string };

/** Changes of `updatePolicy`: a field left out keeps its value; a rate limit set to null goes back to the service-wide default. */
export type PolicyChanges = {
  codeLength?: number;
  codeAlphabet?: CodeAlphabet;
  codeTtlSeconds?: number;
  maxAttempts?: number;
  lowAssurance?: boolean;
  lockoutSeconds?: number;
  allowedCountries?: string[];
  defaultLocale?: string;
  channels?: string[];
  outboundCountries?: string[];
  rateLimitPhonePerHour?: number | null;
  rateLimitPublishableKeyPerMinute?: number | null;
  rateLimitSecretKeyPerMinute?: number | null;
};

/** A callback signing secret: `whsec_` + 256 random bits in base64 (Standard Webhooks' format). */
const newCallbackSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

const normalizeCountries = (countries: string[]) => countries.map((c) => c.trim().toUpperCase());

/**
 * What is wrong with a whole policy, by the field names of the input (`codeLength`…). The same rules
 * for a new app and for a changed one. `defaultLocale` is checked as given (a language tag).
 */
function checkPolicy(policy: AppPolicy): FieldError[] {
  const errors: FieldError[] = [];
  // The policy validator speaks of length/ttlSeconds/…; report the names this input uses.
  const inputField: Record<string, string> = { length: "codeLength", alphabet: "codeAlphabet", ttlSeconds: "codeTtlSeconds" };
  const code = {
    length: policy.codeLength,
    alphabet: policy.codeAlphabet,
    ttlSeconds: policy.codeTtlSeconds,
    maxAttempts: policy.maxAttempts,
    lowAssurance: policy.lowAssurance,
    lockoutSeconds: policy.lockoutSeconds,
  };
  errors.push(...validateCodePolicy(code).map((e) => ({ ...e, field: inputField[e.field] ?? e.field })));
  for (const c of policy.allowedCountries) {
    if (!/^[A-Z]{2}$/.test(c)) errors.push({ field: "allowedCountries", message: `"${c}" is not an ISO 3166 alpha-2 code` });
  }
  for (const c of policy.outboundCountries) {
    if (!/^[A-Z]{2}$/.test(c)) errors.push({ field: "outboundCountries", message: `"${c}" is not an ISO 3166 alpha-2 code` });
  }
  errors.push(...checkChannels(policy.channels));
  for (const key of ["rateLimitPhonePerHour", "rateLimitPublishableKeyPerMinute", "rateLimitSecretKeyPerMinute"] as const) {
    const v = policy[key];
    if (v !== null && (!Number.isInteger(v) || v < 1 || v > 10_000_000)) {
      errors.push({ field: key, message: "must be a whole number from 1 to 10000000" });
    }
  }
  const language = policy.defaultLocale.trim().split(/[-_]/)[0]?.toLowerCase() ?? "";
  if (!isLocale(language)) errors.push({ field: "defaultLocale", message: `must be one of ${SUPPORTED_LOCALES.join(", ")}` });
  return errors;
}

/**
 * A number as given, checked: its record, or what is wrong with it. `prefix` names the input's
 * fields in errors (`numbers[0].provider` at creation; `provider` when a number is added).
 */
function checkNumber(input: NumberInput, providers: readonly string[], prefix?: string): { record: NumberRecord; errors: FieldError[] } {
  const field = (name: "number" | "provider" | "channel") => (prefix === undefined ? name : name === "number" ? prefix : `${prefix}.${name}`);
  const errors: FieldError[] = [];
  const parsed = parseVirtualNumber(input.number, input.country);
  if (!parsed.ok) errors.push({ field: field("number"), message: parsed.message });
  const provider = input.provider ?? "generic";
  if (!providers.includes(provider)) errors.push({ field: field("provider"), message: `unknown provider; one of: ${providers.join(", ")}` });
  const channel = input.channel?.trim();
  if (channel !== undefined && !CHANNEL_ID.test(channel)) errors.push({ field: field("channel"), message: "must be 1 to 200 printable characters without spaces" });
  return {
    record: {
      id: randomId("num"),
      e164: parsed.ok ? parsed.address.key : "",
      provider,
      country: parsed.ok ? parsed.address.country : null,
      channelId: channel ?? null,
    },
    errors,
  };
}

export type AppServiceDeps = {
  repository: AppRepository;
  clock: Clock;
  providers: readonly string[];
  /** Configured policy for what a new app does not set (config.ts checks that it is a valid policy). */
  defaults: PolicyDefaults;
  allowPrivateCallbacks?: boolean;
  /** Where presented keys are looked up (the instance's cache, app-cache.ts); the repository otherwise. */
  keys?: Pick<AppRepository, "findActiveKey">;
  /** Told after each change of an app, its keys or numbers (the cache drops the app at once). */
  onChanged?: (appId: string) => void;
};

export function createAppService(deps: AppServiceDeps) {
  const { clock } = deps;
  const keys = deps.keys ?? deps.repository;
  // Every write of this service goes through `changed`, so the cache cannot miss one of them.
  const changed = <T>(appId: string, result: T): T => {
    deps.onChanged?.(appId);
    return result;
  };
  const repository: AppRepository = {
    ...deps.repository,
    updatePolicy: async (appId, changes) => changed(appId, await deps.repository.updatePolicy(appId, changes)),
    setCallback: async (appId, url, secret) => changed(appId, await deps.repository.setCallback(appId, url, secret)),
    addNumber: async (appId, number) => changed(appId, await deps.repository.addNumber(appId, number)),
    removeNumber: async (appId, numberId) => changed(appId, await deps.repository.removeNumber(appId, numberId)),
    addKey: async (appId, key, revokeOthers, now) => changed(appId, await deps.repository.addKey(appId, key, revokeOthers, now)),
  };

  /** Refuses a channel id that already names a number of its provider (the unique index would too, less clearly). */
  async function checkChannelsFree(numbers: NumberRecord[]): Promise<void> {
    for (const n of numbers) {
      if (n.channelId === null || !(await repository.findNumberByChannel(n.provider, [n.channelId]))) continue;
      throw new AppError("VALIDATION_FAILED", `The ${n.provider} channel ${n.channelId} already names a number`, {
        errors: [{ field: "channel", message: "already maps to a number" }],
      });
    }
  }

  return {
    async create(input: CreateAppInput): Promise<CreatedApp> {
      const errors: FieldError[] = [];
      const defaults = defaultCodePolicy(deps.defaults);
      const name = input.name.trim();
      if (name.length < 1 || name.length > 80) errors.push({ field: "name", message: "must have 1 to 80 characters" });
      if (input.numbers.length === 0) errors.push({ field: "number", message: "at least one virtual number is required" });
      const numbers = input.numbers.map((n, i) => {
        const checked = checkNumber(n, deps.providers, `numbers[${i}]`);
        errors.push(...checked.errors);
        return checked.record;
      });
      const channels = numbers.filter((n) => n.channelId !== null).map((n) => `${n.provider}:${n.channelId}`);
      if (new Set(channels).size !== channels.length) errors.push({ field: "numbers", message: "a channel id may name one number only" });
      const policy: AppPolicy = {
        codeLength: input.codeLength ?? defaults.length,
        codeAlphabet: input.codeAlphabet ?? defaults.alphabet,
        codeTtlSeconds: input.codeTtlSeconds ?? defaults.ttlSeconds,
        maxAttempts: input.maxAttempts ?? defaults.maxAttempts,
        lowAssurance: input.lowAssurance ?? defaults.lowAssurance,
        lockoutSeconds: input.lockoutSeconds ?? defaults.lockoutSeconds,
        allowedCountries: normalizeCountries(input.allowedCountries ?? []),
        defaultLocale: input.defaultLocale ?? "en",
        channels: normalizeChannels(input.channels ?? ["sms_mo"]),
        outboundCountries: normalizeCountries(input.outboundCountries ?? []),
        rateLimitPhonePerHour: input.rateLimitPhonePerHour ?? null,
        rateLimitPublishableKeyPerMinute: input.rateLimitPublishableKeyPerMinute ?? null,
        rateLimitSecretKeyPerMinute: input.rateLimitSecretKeyPerMinute ?? null,
      };
      errors.push(...checkPolicy(policy));
      if (input.callbackUrl !== undefined) {
        const problem = checkCallbackUrl(input.callbackUrl, { allowPrivateNetworks: deps.allowPrivateCallbacks ?? false });
        if (problem) errors.push({ field: "callbackUrl", message: problem });
      }
      if (errors.length > 0) throw new AppError("VALIDATION_FAILED", "The app settings are not valid", { errors });
      await checkChannelsFree(numbers);

      const secret = generateKey("secret");
      const publishable = generateKey("publishable");
      const callbackSecret = input.callbackUrl ? newCallbackSecret() : undefined;
      try {
        const app = await repository.create({
          id: randomId("app"),
          name,
          ...policy,
          defaultLocale: resolveLocale(policy.defaultLocale),
          callbackUrl: input.callbackUrl ?? null,
          callbackSecret: callbackSecret ?? null,
          numbers,
          keys: [secret, publishable].map((k) => ({ id: randomId("key"), kind: k.kind, hash: k.hash, hint: k.hint })),
        });
        return {
          app,
          secretKey: secret.key,
          publishableKey: publishable.key,
          ...(callbackSecret ? { callbackSecret } : {}),
        };
      } catch (error) {
        if (error instanceof NumberTakenError) {
          throw new AppError("VALIDATION_FAILED", error.message, { errors: [{ field: "number", message: "already belongs to an app" }] });
        }
        throw error;
      }
    },

    list: () => repository.list(),

    async get(appId: string): Promise<AppRecord> {
      const app = await repository.findById(appId);
      if (!app) throw new AppError("NOT_FOUND", `No app ${appId}`);
      return app;
    },

    /** Issues a new key; with `revokeOthers` the previous keys of that kind stop working at once. */
    async rotateKey(appId: string, kind: KeyKind, revokeOthers: boolean): Promise<string> {
      await this.get(appId);
      const key = generateKey(kind);
      await repository.addKey(appId, { id: randomId("key"), kind, hash: key.hash, hint: key.hint }, revokeOthers, clock.now());
      return key.key;
    },

    /**
     * Changes an app's policy: the given fields only, validated together with the rest as at
     * creation. New challenges follow it; existing ones keep the code, lifetime and attempts they got.
     */
    async updatePolicy(appId: string, changes: PolicyChanges): Promise<AppRecord> {
      const app = await this.get(appId);
      const given = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as Partial<AppPolicy>;
      if (given.allowedCountries) given.allowedCountries = normalizeCountries(given.allowedCountries);
      if (given.outboundCountries) given.outboundCountries = normalizeCountries(given.outboundCountries);
      if (given.channels) given.channels = normalizeChannels(given.channels);
      const errors = checkPolicy({ ...toPolicy(app), ...given });
      if (errors.length > 0) throw new AppError("VALIDATION_FAILED", "The app settings are not valid", { errors });
      if (given.defaultLocale !== undefined) given.defaultLocale = resolveLocale(given.defaultLocale);
      // Only the given columns are written, so two changes of different fields do not undo each other.
      const updated = await repository.updatePolicy(appId, given);
      if (!updated) throw new AppError("NOT_FOUND", `No app ${appId}`);
      return updated;
    },

    /**
     * Sets the callback URL (checked like at creation, SSRF rules included) with a new signing
     * secret, which is returned once; with `keepSecret` the current secret stays. `null` removes
     * the callback: events not yet delivered are then given up.
     */
    async setCallback(appId: string, url: string | null, options: { keepSecret?: boolean } = {}): Promise<{ app: AppRecord; callbackSecret?: string }> {
      await this.get(appId);
      if (url === null) {
        const app = await repository.setCallback(appId, null, null);
        if (!app) throw new AppError("NOT_FOUND", `No app ${appId}`);
        return { app };
      }
      const problem = checkCallbackUrl(url, { allowPrivateNetworks: deps.allowPrivateCallbacks ?? false });
      if (problem) throw new AppError("VALIDATION_FAILED", "The callback URL is not valid", { errors: [{ field: "callbackUrl", message: problem }] });
      if (options.keepSecret && !(await repository.hasCallbackSecret(appId))) {
        throw new AppError("VALIDATION_FAILED", "The app has no callback secret to keep", {
          errors: [{ field: "callbackSecret", message: "none yet: leave out --keep-secret to issue one" }],
        });
      }
      const callbackSecret = options.keepSecret ? undefined : newCallbackSecret();
      const app = await repository.setCallback(appId, url, callbackSecret);
      if (!app) throw new AppError("NOT_FOUND", `No app ${appId}`);
      return { app, ...(callbackSecret ? { callbackSecret } : {}) };
    },

    /**
     * Adds a virtual number that users of this app may text, through `provider` (default generic): a
     * long number, or a short code with `options.country`; `options.channel` maps the provider's
     * channel id to it (Bird).
     */
    async addNumber(appId: string, number: string, provider = "generic", options: { country?: string; channel?: string } = {}): Promise<AppRecord> {
      await this.get(appId);
      const { record, errors } = checkNumber({ number, provider, ...options }, deps.providers);
      if (errors.length > 0) throw new AppError("VALIDATION_FAILED", "The number is not valid", { errors });
      await checkChannelsFree([record]);
      try {
        return await repository.addNumber(appId, record);
      } catch (error) {
        if (error instanceof NumberTakenError) {
          throw new AppError("VALIDATION_FAILED", error.message, { errors: [{ field: "number", message: "already belongs to an app" }] });
        }
        throw error;
      }
    },

    /**
     * Removes one of the app's numbers. Refused for the last one (the app could issue no challenge),
     * and while stored challenges still name it (they are kept until the retention purge).
     */
    async removeNumber(appId: string, number: string): Promise<AppRecord> {
      const app = await this.get(appId);
      // A short code is named by its digits, a long number in any international spelling.
      const parsed = normalizeSender(number);
      const target = app.numbers.find((n) => n.e164 === number.trim() || (parsed.ok && n.e164 === parsed.e164));
      if (!target) throw new AppError("NOT_FOUND", `The app ${appId} has no number ${number}`);
      if (app.numbers.length === 1) {
        throw new AppError("VALIDATION_FAILED", `${target.e164} is the app's only number; add another one first`, {
          errors: [{ field: "number", message: "an app keeps at least one number" }],
        });
      }
      try {
        return await repository.removeNumber(appId, target.id);
      } catch (error) {
        if (error instanceof NumberInUseError) {
          throw new AppError(
            "VALIDATION_FAILED",
            `${target.e164} is still named by ${error.challenges} stored challenge(s); it can be removed once the retention purge has deleted them`,
            { errors: [{ field: "number", message: "in use by stored challenges" }] },
          );
        }
        throw error;
      }
    },

    /** The app and key kind behind a presented key, or undefined. The look-up is by digest (an
     *  index search reveals nothing about the key itself); the final comparison is constant-time. */
    async authenticate(presented: string): Promise<Principal | undefined> {
      const kind = keyKindOf(presented);
      if (!kind) return undefined;
      const hash = hashKey(presented);
      const owner = await keys.findActiveKey(hash);
      if (!owner || owner.kind !== kind || !safeEqual(owner.keyHash, hash)) return undefined;
      return { appId: owner.appId, kind: owner.kind, keyId: owner.keyId };
    },
  };
}

export type AppService = ReturnType<typeof createAppService>;
