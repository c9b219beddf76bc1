// What hot paths read of apps, cached in each instance: API keys by digest, an app with its policy
// and numbers, its key limits. Every change of an app, its keys or its numbers sends a notification
// (a trigger, migration 20261203120000_app_change_notify, on any instance or from the CLI); each
// instance listens (one connection, as for the status bus) and drops what it holds of that app, so a
// revoked key, a rotation or a policy change reaches every instance at commit plus the
// notification's delay (milliseconds). This instance's own changes are dropped at once as well.
// After the listener lost its connection everything is dropped (notifications may have been
// missed), and entries older than a minute are read again whatever happens.
//
// A read that was under way when a change arrived is answered but not kept, so a stale row read
// just before a change cannot outlive it in the cache. Keys that do not exist are not cached (a new
// key works at once on every instance).
import type { AppRecord, AppRepository, KeyOwner } from "./app-repository.js";

/** NOTIFY channel of app changes, payload the app id. */
export const APP_CHANNEL = "reverse_otp_app";

const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

type Limits = Awaited<ReturnType<AppRepository["findLimits"]>>;
type Reads = Pick<AppRepository, "findActiveKey" | "findById" | "findLimits">;

export type AppCache = Reads & {
  /** Drops what is held of `appId` (a notification, or a change made here). */
  invalidate(appId: string): void;
  /** Drops everything (the listener reconnected). */
  clear(): void;
};

export function createAppCache(repository: Reads, options: { now?: () => number } = {}): AppCache {
  const now = options.now ?? (() => performance.now());
  type Entry<T> = { value: T; appId: string; at: number };
  const keys = new Map<string, Entry<KeyOwner>>();
  const apps = new Map<string, Entry<AppRecord>>();
  const limits = new Map<string, Entry<NonNullable<Limits>>>();
  // Bumped by every invalidation: a read started before it is not kept.
  let generation = 0;

  async function cached<T>(map: Map<string, Entry<T>>, key: string, read: () => Promise<T | undefined>, appIdOf: (value: T) => string) {
    const hit = map.get(key);
    if (hit && now() - hit.at < TTL_MS) return hit.value;
    const started = generation;
    const value = await read();
    if (value === undefined) {
      map.delete(key);
    } else if (started === generation) {
      if (map.size >= MAX_ENTRIES) map.clear();
      map.set(key, { value, appId: appIdOf(value), at: now() });
    }
    return value;
  }

  const clear = () => {
    generation++;
    keys.clear();
    apps.clear();
    limits.clear();
  };

  return {
    findActiveKey: (hash) => cached(keys, hash, () => repository.findActiveKey(hash), (owner) => owner.appId),
    findById: (appId) => cached(apps, appId, () => repository.findById(appId), () => appId),
    findLimits: (appId) => cached(limits, appId, () => repository.findLimits(appId), () => appId),
    invalidate(appId) {
      generation++;
      apps.delete(appId);
      limits.delete(appId);
      for (const [hash, entry] of keys) if (entry.appId === appId) keys.delete(hash);
    },
    clear,
  };
}
