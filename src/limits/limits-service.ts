// Which limit applies to which request, with each app's overrides of the configured defaults.
import type { AppDirectory } from "../apps/app-directory.js";
import type { Principal } from "../apps/app-service.js";
import type { RateLimitSettings } from "../config.js";
import type { RateLimits } from "./rate-limit-repository.js";

export type LimitsService = ReturnType<typeof createLimitsService>;

export function createLimitsService(deps: { rateLimits: RateLimits; apps: Pick<AppDirectory, "findKeyLimits">; defaults: RateLimitSettings }) {
  const { rateLimits, apps, defaults } = deps;
  return {
    /**
     * Secret keys: every request counts. Publishable keys: challenge creations count per key and
     * client IP (reads with a poll token are not limited here: polling is expected).
     */
    async checkKey(principal: Principal, clientIp: string | undefined, isCreation: boolean): Promise<void> {
      if (principal.kind === "publishable" && !isCreation) return;
      const overrides = await apps.findKeyLimits(principal.appId);
      if (principal.kind === "secret") {
        const limit = overrides?.rateLimitSecretKeyPerMinute ?? defaults.secretKeyPerMinute;
        await rateLimits.consume("secret_key", principal.keyId, limit);
      } else {
        const limit = overrides?.rateLimitPublishableKeyPerMinute ?? defaults.publishableKeyPerMinute;
        await rateLimits.consume("publishable_key", `${principal.keyId}|${clientIp ?? "unknown"}`, limit);
      }
    },

  };
}
