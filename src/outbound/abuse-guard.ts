// The money and abuse rules applied to one send (part B calls it from challenge creation and
// fallback, before enqueueing): destination checks, the caps and the conversion switch. Throws an
// AppError that the HTTP layer renders as problem+json; counts and logs every trip.
import type { Logger } from "../http/logger.js";
import type { OutboundCaps } from "../config.js";
import type { Clock } from "../shared/clock.js";
import type { Hasher } from "../shared/crypto.js";
import { AppError } from "../shared/errors.js";
import { checkSmsDestination, decideCaps, decideConversion } from "./abuse-rules.js";
import type { OutboundMetrics } from "./outbound-metrics.js";
import { emailDigest, numberPrefix } from "./outbox.js";
import type { OutboxRepository } from "./outbox-repository.js";

export type SendCheck =
  | {
      channel: "sms";
      appId: string;
      /** The parsed destination (src/challenges/phone.ts ParsedPhone has these fields). */
      phone: { e164: string; country: string | undefined; type: string | undefined };
      /** Countries this app may send codes to (`--outbound-countries`; default: its numbers' countries). */
      allowedCountries: readonly string[];
    }
  | { channel: "email"; appId: string; email: string };

export type AbuseGuardDeps = {
  repository: Pick<OutboxRepository, "countForCaps" | "conversionLastHour">;
  hasher: Pick<Hasher, "phoneAll">;
  /** The key of e-mail address digests (the primary HASH_KEY), as the outbox stores them. */
  hashKey: string;
  caps: OutboundCaps;
  clock: Clock;
  logger: Logger;
  metrics?: Pick<OutboundMetrics, "capTripped">;
};

export function createAbuseGuard(deps: AbuseGuardDeps) {
  const trip = (cap: string, appId: string, detail: Record<string, unknown> = {}) => {
    deps.metrics?.capTripped(cap);
    deps.logger.warn({ cap, appId, ...detail }, "outbound refused by a money or abuse rule");
  };
  return {
    /** Throws when this code must not be sent; resolves when it may be enqueued. */
    async check(request: SendCheck): Promise<void> {
      const now = deps.clock.now();
      if (request.channel === "sms") {
        const destination = checkSmsDestination(request.phone, request.allowedCountries);
        if (!destination.ok) {
          trip(destination.rule === "country" ? "country_not_allowed" : "number_type", request.appId, { country: request.phone.country });
          throw new AppError(destination.rule === "number_type" ? "PHONE_NOT_MOBILE" : "COUNTRY_NOT_ALLOWED", destination.reason, { reason: destination.rule });
        }
      }
      const counts = await deps.repository.countForCaps({
        appId: request.appId,
        recipientHashes: request.channel === "sms" ? deps.hasher.phoneAll(request.phone.e164) : [emailDigest(deps.hashKey, request.email)],
        prefix: request.channel === "sms" ? numberPrefix(request.phone.e164) : null,
        country: request.channel === "sms" ? (request.phone.country ?? null) : null,
        now,
      });
      const cap = decideCaps(counts, deps.caps);
      if (!cap.ok) {
        trip(cap.cap, request.appId, { limit: cap.limit });
        throw new AppError("OUTBOUND_CAP_REACHED", `The ${cap.cap} cap of ${cap.limit} codes is reached; nothing was sent`, {
          reason: cap.cap,
          retryAfterSeconds: cap.retryAfterSeconds,
        });
      }
      const conversion = decideConversion(await deps.repository.conversionLastHour(request.appId, now), deps.caps);
      if (conversion.paused) {
        trip("conversion", request.appId, { sent: conversion.sent, verified: conversion.verified });
        throw new AppError("OUTBOUND_PAUSED", `Sending is paused: ${conversion.verified} of ${conversion.sent} codes sent in the last hour were verified`, {
          reason: "conversion",
          retryAfterSeconds: 600,
        });
      }
    },
  };
}

export type AbuseGuard = ReturnType<typeof createAbuseGuard>;
