// Persistence of apps, their keys and virtual numbers. The only module of this feature that
// touches Prisma; it returns plain domain objects.
import type { PrismaClient } from "../generated/prisma/client.js";
import { Prisma } from "../generated/prisma/client.js";
import type { CodeAlphabet } from "../challenges/code-policy.js";
import type { Sealer } from "../shared/crypto.js";
import type { KeyKind } from "./keys.js";

export type AppPolicy = {
  rateLimitPhonePerHour: number | null;
  rateLimitPublishableKeyPerMinute: number | null;
  rateLimitSecretKeyPerMinute: number | null;
  codeLength: number;
  codeAlphabet: CodeAlphabet;
  codeTtlSeconds: number;
  maxAttempts: number;
  lowAssurance: boolean;
  lockoutSeconds: number;
  allowedCountries: string[];
  defaultLocale: string;
  /** Channels challenges may use (`sms_mo`, `sms`, `email`); sending ones are opt-in. */
  channels: string[];
  /** Countries codes may be sent to by SMS; empty: the countries of the app's numbers. */
  outboundCountries: string[];
};

/** A virtual number of an app: `e164` is its matching key (a short code's digits when `country` is set). */
export type NumberRecord = { id: string; e164: string; provider: string; country: string | null; channelId: string | null };

export type AppRecord = AppPolicy & {
  id: string;
  name: string;
  createdAt: Date;
  callbackUrl: string | null;
  numbers: NumberRecord[];
};

export type NewApp = AppPolicy & {
  id: string;
  name: string;
  callbackUrl: string | null;
  callbackSecret: string | null;
  numbers: NumberRecord[];
  keys: { id: string; kind: KeyKind; hash: string; hint: string }[];
};

export type KeyOwner = { keyId: string; appId: string; kind: KeyKind; keyHash: string };

/** A virtual number's owner: the app (its name is part of the SMS wording; apps are never renamed). */
export type NumberOwner = {
  numberId: string;
  appId: string;
  appName: string;
  provider: string;
  e164: string;
  country: string | null;
  policy: AppPolicy;
};

export class NumberTakenError extends Error {
  constructor(readonly e164: string) {
    super(`The number ${e164} already belongs to an app`);
  }
}

/** A virtual number that stored challenges still name (their foreign key restricts its deletion). */
export class NumberInUseError extends Error {
  constructor(readonly challenges: number) {
    super(`The number is named by ${challenges} stored challenges`);
  }
}

const policySelect = {
  rateLimitPhonePerHour: true,
  rateLimitPublishableKeyPerMinute: true,
  rateLimitSecretKeyPerMinute: true,
  codeLength: true,
  codeAlphabet: true,
  codeTtlSeconds: true,
  maxAttempts: true,
  lowAssurance: true,
  lockoutSeconds: true,
  allowedCountries: true,
  defaultLocale: true,
  channels: true,
  outboundCountries: true,
} as const satisfies Prisma.AppSelect;

const appSelect = {
  id: true,
  name: true,
  createdAt: true,
  ...policySelect,
  callbackUrl: true,
  virtualNumbers: { select: { id: true, e164: true, provider: true, country: true, channelId: true }, orderBy: { createdAt: "asc" } },
} as const satisfies Prisma.AppSelect;

type AppRow = Prisma.AppGetPayload<{ select: typeof appSelect }>;

const ownerSelect = {
  id: true,
  appId: true,
  provider: true,
  e164: true,
  country: true,
  channelId: true,
  app: { select: { name: true, ...policySelect } },
} as const satisfies Prisma.VirtualNumberSelect;

function toOwner(row: Prisma.VirtualNumberGetPayload<{ select: typeof ownerSelect }>): NumberOwner {
  return {
    numberId: row.id,
    appId: row.appId,
    appName: row.app.name,
    provider: row.provider,
    e164: row.e164,
    country: row.country,
    policy: toPolicy({ ...row.app, codeAlphabet: row.app.codeAlphabet as CodeAlphabet }),
  };
}

function toAppRecord(row: AppRow): AppRecord {
  const { virtualNumbers, codeAlphabet, ...rest } = row;
  return { ...rest, codeAlphabet: codeAlphabet as CodeAlphabet, numbers: virtualNumbers };
}

export function toPolicy(row: AppPolicy): AppPolicy {
  return {
    rateLimitPhonePerHour: row.rateLimitPhonePerHour,
    rateLimitPublishableKeyPerMinute: row.rateLimitPublishableKeyPerMinute,
    rateLimitSecretKeyPerMinute: row.rateLimitSecretKeyPerMinute,
    codeLength: row.codeLength,
    codeAlphabet: row.codeAlphabet,
    codeTtlSeconds: row.codeTtlSeconds,
    maxAttempts: row.maxAttempts,
    lowAssurance: row.lowAssurance,
    lockoutSeconds: row.lockoutSeconds,
    allowedCountries: row.allowedCountries,
    defaultLocale: row.defaultLocale,
    channels: row.channels,
    outboundCountries: row.outboundCountries,
  };
}

/**
 * Callback signing secrets are stored sealed (see `createSealer`): they sign requests to the app's
 * backend, so a database dump must not be enough to forge them.
 */
export function createAppRepository(prisma: PrismaClient, options: { secretSealer: Pick<Sealer, "seal"> }) {
  const seal = (secret: string | null) => (secret === null ? null : options.secretSealer.seal(secret));
  return {
    async create(app: NewApp): Promise<AppRecord> {
      try {
        const row = await prisma.app.create({
          data: {
            id: app.id,
            name: app.name,
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
            rateLimitPhonePerHour: app.rateLimitPhonePerHour,
            rateLimitPublishableKeyPerMinute: app.rateLimitPublishableKeyPerMinute,
            rateLimitSecretKeyPerMinute: app.rateLimitSecretKeyPerMinute,
            callbackUrl: app.callbackUrl,
            callbackSecret: seal(app.callbackSecret),
            virtualNumbers: { create: app.numbers },
            keys: { create: app.keys.map((k) => ({ id: k.id, kind: k.kind, keyHash: k.hash, hint: k.hint })) },
          },
          select: appSelect,
        });
        return toAppRecord(row);
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
          throw new NumberTakenError(app.numbers.map((n) => n.e164).join(", "));
        }
        throw error;
      }
    },

    async findById(id: string): Promise<AppRecord | undefined> {
      const row = await prisma.app.findUnique({ where: { id }, select: appSelect });
      return row ? toAppRecord(row) : undefined;
    },

    async list(): Promise<AppRecord[]> {
      const rows = await prisma.app.findMany({ select: appSelect, orderBy: { createdAt: "asc" } });
      return rows.map(toAppRecord);
    },

    async findLimits(appId: string): Promise<Pick<AppPolicy, "rateLimitPublishableKeyPerMinute" | "rateLimitSecretKeyPerMinute"> | undefined> {
      return (
        (await prisma.app.findUnique({
          where: { id: appId },
          select: { rateLimitPublishableKeyPerMinute: true, rateLimitSecretKeyPerMinute: true },
        })) ?? undefined
      );
    },

    async listNames(): Promise<{ id: string; name: string }[]> {
      return prisma.app.findMany({ select: { id: true, name: true }, orderBy: [{ name: "asc" }, { id: "asc" }] });
    },

    async listProviders(): Promise<string[]> {
      const numbers = await prisma.virtualNumber.findMany({ select: { provider: true }, distinct: ["provider"], orderBy: { provider: "asc" } });
      return numbers.map((n) => n.provider);
    },

    async findActiveKey(hash: string): Promise<KeyOwner | undefined> {
      const row = await prisma.apiKey.findUnique({
        where: { keyHash: hash },
        select: { id: true, appId: true, kind: true, revokedAt: true, keyHash: true },
      });
      if (!row || row.revokedAt) return undefined;
      return { keyId: row.id, appId: row.appId, kind: row.kind, keyHash: row.keyHash };
    },

    /** Writes the given policy fields only; undefined when there is no such app. */
    async updatePolicy(appId: string, changes: Partial<AppPolicy>): Promise<AppRecord | undefined> {
      const { count } = await prisma.app.updateMany({ where: { id: appId }, data: changes });
      return count === 0 ? undefined : this.findById(appId);
    },

    /** Sets the callback URL; `secret` undefined keeps the current secret, null clears it. */
    async setCallback(appId: string, url: string | null, secret: string | null | undefined): Promise<AppRecord | undefined> {
      const { count } = await prisma.app.updateMany({
        where: { id: appId },
        data: { callbackUrl: url, ...(secret !== undefined ? { callbackSecret: seal(secret) } : {}) },
      });
      return count === 0 ? undefined : this.findById(appId);
    },

    async hasCallbackSecret(appId: string): Promise<boolean> {
      const row = await prisma.app.findUnique({ where: { id: appId }, select: { callbackSecret: true } });
      return Boolean(row?.callbackSecret);
    },

    async addNumber(appId: string, number: NumberRecord): Promise<AppRecord> {
      try {
        await prisma.virtualNumber.create({ data: { ...number, appId } });
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") throw new NumberTakenError(number.e164);
        throw error;
      }
      return (await this.findById(appId))!;
    },

    /** Deletes one of the app's numbers; NumberInUseError while challenges name it. */
    async removeNumber(appId: string, numberId: string): Promise<AppRecord> {
      const inUse = await prisma.challenge.count({ where: { virtualNumberId: numberId } });
      if (inUse > 0) throw new NumberInUseError(inUse);
      try {
        await prisma.virtualNumber.deleteMany({ where: { id: numberId, appId } });
      } catch (error) {
        // A challenge created since the count: the foreign key refuses the deletion.
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2003") {
          throw new NumberInUseError(await prisma.challenge.count({ where: { virtualNumberId: numberId } }));
        }
        throw error;
      }
      return (await this.findById(appId))!;
    },

    /** Adds a new key of `kind`; when `revokeOthers`, the app's other active keys of that kind stop working. */
    async addKey(appId: string, key: { id: string; kind: KeyKind; hash: string; hint: string }, revokeOthers: boolean, now: Date) {
      await prisma.$transaction([
        ...(revokeOthers
          ? [prisma.apiKey.updateMany({ where: { appId, kind: key.kind, revokedAt: null }, data: { revokedAt: now } })]
          : []),
        prisma.apiKey.create({ data: { id: key.id, appId, kind: key.kind, keyHash: key.hash, hint: key.hint } }),
      ]);
    },

    /**
     * The number registered under the first of `keys` that has one (E.164 or a short code's
     * digits, see virtual-number.ts), with its app's policy.
     */
    async findNumber(keys: readonly string[]): Promise<NumberOwner | undefined> {
      if (keys.length === 0) return undefined;
      const rows = await prisma.virtualNumber.findMany({ where: { e164: { in: [...keys] } }, select: ownerSelect });
      const row = keys.map((key) => rows.find((r) => r.e164 === key)).find((r) => r !== undefined);
      return row ? toOwner(row) : undefined;
    },

    /** The number of `provider` mapped to one of the channel ids a delivery names (Bird), the first id winning. */
    async findNumberByChannel(provider: string, channelIds: readonly string[]): Promise<NumberOwner | undefined> {
      if (channelIds.length === 0) return undefined;
      const rows = await prisma.virtualNumber.findMany({ where: { provider, channelId: { in: [...channelIds] } }, select: ownerSelect });
      const row = channelIds.map((id) => rows.find((r) => r.channelId === id)).find((r) => r !== undefined);
      return row ? toOwner(row) : undefined;
    },
  };
}

export type AppRepository = ReturnType<typeof createAppRepository>;
