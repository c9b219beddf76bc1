// What other features may know of apps and their virtual numbers: reads of settings, never keys,
// secrets or writes (those stay behind the app service). Challenges, inbound, limits and the
// dashboard are given this, or the part of it they use, instead of the apps repository.
import type { AppCache } from "./app-cache.js";
import type { AppPolicy, AppRecord, AppRepository, NumberOwner, NumberRecord } from "./app-repository.js";

export type { AppPolicy, AppRecord, NumberOwner, NumberRecord };

export type AppDirectory = {
  /** An app with its policy and numbers (the first number is the one challenges name). */
  findApp(appId: string): Promise<AppRecord | undefined>;
  /**
   * The owner of one of our virtual numbers, registered under the first of `keys` that has one
   * (E.164, or a short code's digits: see virtual-number.ts), with the app's name and policy.
   */
  findNumber(keys: readonly string[]): Promise<NumberOwner | undefined>;
  /** The number of `provider` mapped to one of the channel ids a delivery names (Bird), the first id winning. */
  findNumberByChannel(provider: string, channelIds: readonly string[]): Promise<NumberOwner | undefined>;
  /** The app's overrides of the API-key rate limits (null: the configured default). */
  findKeyLimits(appId: string): Promise<Pick<AppPolicy, "rateLimitPublishableKeyPerMinute" | "rateLimitSecretKeyPerMinute"> | undefined>;
  /** Every app's id and name, by name (filters of the dashboard). */
  listNames(): Promise<{ id: string; name: string }[]>;
  /** The providers that the apps' numbers use, sorted. */
  listProviders(): Promise<string[]>;
};

/** With `cache`, apps and key limits are read through the instance's cache (app-cache.ts). */
export function createAppDirectory(repository: AppRepository, cache?: Pick<AppCache, "findById" | "findLimits">): AppDirectory {
  const reads = cache ?? repository;
  return {
    findApp: (appId) => reads.findById(appId),
    findNumber: (keys) => repository.findNumber(keys),
    findNumberByChannel: (provider, channelIds) => repository.findNumberByChannel(provider, channelIds),
    findKeyLimits: (appId) => reads.findLimits(appId),
    listNames: () => repository.listNames(),
    listProviders: () => repository.listProviders(),
  };
}
