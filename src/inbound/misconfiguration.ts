// Deliveries that cannot verify anything for a reason of set-up, made loud. A provider answered
// 2xx does not retry, so a code sent to a number no app owns is lost without a trace unless
// someone is told: every such delivery counts in a metric by reason, and a warning names the
// number and how to fix it, at most once per provider, reason and number an hour (a busy
// misconfigured number must not flood the log). The dashboard reads the stored deliveries.
import type { Logger } from "../http/logger.js";
import type { Clock } from "../shared/clock.js";

export const MISCONFIGURATION_REASONS = ["unknown_number", "other_provider", "unmapped_channel", "not_configured", "unsigned"] as const;

/**
 * - `unknown_number`: delivered to a number (or short code) no app has;
 * - `other_provider`: delivered for a number registered with another provider;
 * - `unmapped_channel`: a Bird delivery names its channel only by ids no number is mapped to;
 * - `not_configured`: refused, the provider's secret or token is not configured;
 * - `unsigned`: refused, the request carries no signature or path token (signing not enabled at
 *   the provider, or a URL saved without its token).
 */
export type MisconfigurationReason = (typeof MISCONFIGURATION_REASONS)[number];

export type Misconfiguration = {
  provider: string;
  reason: MisconfigurationReason;
  /** Our number as registered, or the recipient as the provider named it. Never the user's. */
  number?: string;
  /** The sender, masked (`+33•••••••78`), when it could be read. */
  senderMasked?: string | null;
  /** The refusal's own explanation (refused requests). */
  detail?: string;
};

/** How often one (provider, reason, number) may be logged. */
export const MISCONFIGURATION_LOG_INTERVAL_MS = 3600_000;
/** Keys remembered for the throttle; beyond, the oldest half is forgotten (a forgotten key is logged again). */
const MAX_REMEMBERED_KEYS = 10_000;

/** The misconfiguration a refused request shows, by its error code; undefined for forgeries and bad payloads. */
export function misconfigurationOfRefusal(code: string): MisconfigurationReason | undefined {
  if (code === "WEBHOOK_NOT_CONFIGURED") return "not_configured";
  if (code === "WEBHOOK_SIGNATURE_MISSING") return "unsigned";
  return undefined;
}

/** What to do about it, in the log line. */
export function misconfigurationHint(event: Misconfiguration): string {
  const { provider, number } = event;
  switch (event.reason) {
    case "unknown_number":
      return `a ${provider} delivery for ${number ?? "a number"}, which no app owns: register it (apps add-number <app-id> --number ${number ?? "<number>"} --provider ${provider}${number && /^\d+$/.test(number) ? " --country <CC>" : ""}) or correct the number at ${provider}`;
    case "other_provider":
      return `a ${provider} delivery for ${number ?? "a number"}, which is registered with another provider: a number answers only through the provider it is registered with`;
    case "unmapped_channel":
      return `a ${provider} delivery names its channel only by id (${number ?? "none"}): map the channel to its number (apps add-number <app-id> --number <E.164> --provider ${provider} --channel <channel id>) or add ?number=<E.164> to the webhook URL`;
    case "not_configured":
      return `${provider} deliveries arrive but ${provider} is not configured (${event.detail ?? "no secret"}): every one is refused`;
    case "unsigned":
      return `${provider} deliveries arrive without signature or path token (${event.detail ?? "unsigned"}): every one is refused`;
  }
}

export function createMisconfigurationReporter(deps: {
  clock: Clock;
  logger: Logger;
  /** Counts every reported delivery (the metric). */
  count: (provider: string, reason: MisconfigurationReason) => void;
}) {
  const lastLogged = new Map<string, { atMs: number; suppressed: number }>();
  return {
    report(event: Misconfiguration): void {
      deps.count(event.provider, event.reason);
      const key = JSON.stringify([event.provider, event.reason, event.number ?? ""]);
      const nowMs = deps.clock.now().getTime();
      const last = lastLogged.get(key);
      if (last && nowMs - last.atMs < MISCONFIGURATION_LOG_INTERVAL_MS && nowMs >= last.atMs) {
        last.suppressed += 1;
        return;
      }
      if (lastLogged.size >= MAX_REMEMBERED_KEYS) {
        for (const old of [...lastLogged.keys()].slice(0, MAX_REMEMBERED_KEYS / 2)) lastLogged.delete(old);
      }
      lastLogged.delete(key);
      lastLogged.set(key, { atMs: nowMs, suppressed: 0 });
      deps.logger.warn(
        {
          provider: event.provider,
          reason: event.reason,
          ...(event.number !== undefined ? { number: event.number } : {}),
          ...(event.senderMasked ? { sender: event.senderMasked } : {}),
          ...(last ? { sameSinceLastLog: last.suppressed } : {}),
        },
        `misconfiguration: ${misconfigurationHint(event)}`,
      );
    },
  };
}

export type MisconfigurationReporter = ReturnType<typeof createMisconfigurationReporter>;
