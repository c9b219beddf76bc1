// Money and abuse rules of sending (every SMS costs money; SMS pumping sends many to premium or
// expensive ranges and verifies none). Pure decisions of plain data, table-tested in
// test/unit/outbound/abuse-rules.test.ts; the counts come from abuse-guard.ts's queries.
import type { OutboundCaps } from "../config.js";
import type { OutboxCounts } from "./outbox-repository.js";

/**
 * Number types a code may be sent to by SMS: mobile, and "fixed line or mobile" (countries such as
 * the US whose numbering does not tell them apart). Premium-rate, shared-cost, toll-free, VoIP,
 * personal (forwarding), pager, UAN, voicemail and fixed-line numbers are refused, and so is a
 * number whose type the metadata cannot tell: sending costs money, so only what is known to be a
 * phone gets an SMS.
 */
export const SMS_DESTINATION_TYPES: ReadonlySet<string> = new Set(["MOBILE", "FIXED_LINE_OR_MOBILE"]);

export type DestinationDecision = { ok: true } | { ok: false; rule: "number_type" | "country"; reason: string };

export function checkSmsDestination(phone: { type: string | undefined; country: string | undefined }, allowedCountries: readonly string[]): DestinationDecision {
  if (phone.type === undefined || !SMS_DESTINATION_TYPES.has(phone.type)) {
    return { ok: false, rule: "number_type", reason: `codes are sent by SMS to mobile numbers only; this number's type is ${phone.type ?? "unknown"}` };
  }
  if (phone.country === undefined || !allowedCountries.includes(phone.country)) {
    return { ok: false, rule: "country", reason: `this app does not send codes to ${phone.country ?? "non-geographic numbers"}` };
  }
  return { ok: true };
}

export type CapDecision = { ok: true } | { ok: false; cap: "recipient" | "prefix" | "country" | "app"; limit: number; retryAfterSeconds: number };

/**
 * The caps, checked before a code is enqueued: counts are of messages already enqueued in each
 * window (this one not included), so a cap of N lets N through. The order names the narrowest cap
 * first. Retry-After is the window's length: an upper bound (the oldest message may leave sooner).
 */
export function decideCaps(counts: OutboxCounts, caps: Pick<OutboundCaps, "phonePerHour" | "prefixPerHour" | "countryPerHour" | "appPerDay">): CapDecision {
  if (counts.phoneLastHour >= caps.phonePerHour) return { ok: false, cap: "recipient", limit: caps.phonePerHour, retryAfterSeconds: 3600 };
  if (counts.prefixLastHour >= caps.prefixPerHour) return { ok: false, cap: "prefix", limit: caps.prefixPerHour, retryAfterSeconds: 3600 };
  if (counts.countryLastHour >= caps.countryPerHour) return { ok: false, cap: "country", limit: caps.countryPerHour, retryAfterSeconds: 3600 };
  if (counts.appLastDay >= caps.appPerDay) return { ok: false, cap: "app", limit: caps.appPerDay, retryAfterSeconds: 86_400 };
  return { ok: true };
}

export type ConversionDecision = { paused: boolean; sent: number; verified: number };

/**
 * The conversion switch: outbound pauses for an app when, over the last hour, at least
 * `conversionMinSent` codes went out and fewer than `minConversionPercent` % of them were verified.
 * Below the minimum the switch does not judge (a quiet app with two unverified sends is not
 * pumping). A threshold of 0 turns the switch off. Integer arithmetic: no rounding at the edge.
 */
export function decideConversion(
  window: { sent: number; verified: number },
  caps: Pick<OutboundCaps, "minConversionPercent" | "conversionMinSent">,
): ConversionDecision {
  const paused =
    caps.minConversionPercent > 0 && window.sent >= caps.conversionMinSent && window.verified * 100 < caps.minConversionPercent * window.sent;
  return { paused, sent: window.sent, verified: window.verified };
}
