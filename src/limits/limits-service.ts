// Which limit applies to which request, with each app's overrides of the configured defaults.
import type { AppDirectory } from "../apps/app-directory.js";
import type { Principal } from "../apps/app-service.js";
import type { RateLimitSettings } from "../config.js";
import { clientKey } from "./client-key.js";
import type { RateLimits } from "./rate-limit-repository.js";

export type LimitsService = ReturnType<typeof createLimitsService>;

/** Typed codes per minute (POST /v1/challenges/:id/check). */
export const CODE_CHECK_LIMITS = { perChallenge: 10, perPhone: 20, perClient: 60 } as const;

export function createLimitsService(deps: {
  rateLimits: RateLimits;
  apps: Pick<AppDirectory, "findKeyLimits">;
  defaults: RateLimitSettings;
  /** Wrong admin tokens one client may send per window (15 minutes). */
  adminTokenMaxFailures?: number;
}) {
  const { rateLimits, apps, defaults } = deps;
  const adminLimit = deps.adminTokenMaxFailures ?? 10;
  return {
    /**
     * The admin token's attempt limit, per client: once its wrong tokens of the window are spent,
     * every attempt is refused (429), the right token included, so guessing stops there.
     */
    async refuseSpentAdminClient(clientIp: string | undefined): Promise<void> {
      await rateLimits.refuseIfSpent("admin_token", clientKey(clientIp), adminLimit);
    },
    async countWrongAdminToken(clientIp: string | undefined): Promise<void> {
      await rateLimits.countFailure("admin_token", clientKey(clientIp), adminLimit);
    },

    /**
     * Secret keys: every request counts. Publishable keys: challenge creations count per key and
     * client (its IPv4 address or IPv6 /64, see client-key.ts); reads with a poll token are not
     * limited here: polling is expected.
     */
    async checkKey(principal: Principal, clientIp: string | undefined, isCreation: boolean): Promise<void> {
      if (principal.kind === "publishable" && !isCreation) return;
      const overrides = await apps.findKeyLimits(principal.appId);
      if (principal.kind === "secret") {
        const limit = overrides?.rateLimitSecretKeyPerMinute ?? defaults.secretKeyPerMinute;
        await rateLimits.consume("secret_key", principal.keyId, limit);
      } else {
        const limit = overrides?.rateLimitPublishableKeyPerMinute ?? defaults.publishableKeyPerMinute;
        await rateLimits.consume("publishable_key", `${principal.keyId}|${clientKey(clientIp)}`, limit);
      }
    },

    /**
     * One typed code (POST /v1/challenges/:id/check), counted per challenge, per phone (its keyed
     * digest) and per client address, each in one-minute windows (CODE_CHECK_LIMITS). The phone's
     * wrong-code count and lock-out stop guessing; these stop hammering.
     */
    async checkCodeAttempt(s: { challengeId: string; phoneHash: string; clientIp: string | undefined }): Promise<void> {
      await rateLimits.consume("code_check_challenge", s.challengeId, CODE_CHECK_LIMITS.perChallenge);
      await rateLimits.consume("code_check_phone", s.phoneHash, CODE_CHECK_LIMITS.perPhone);
      await rateLimits.consume("code_check_client", clientKey(s.clientIp), CODE_CHECK_LIMITS.perClient);
    },
  };
}
