// Channels of a challenge: how its code travels. Pure rules: which channels exist, which ones an app
// allows (`apps … --channels`), which one a request asks for, where SMS codes may go
// (`--outbound-countries`), and how a typed code is read. The challenge service applies them.
//
//   sms_mo  the user texts the code to the app's number (reverse; the default; costs nothing)
//   sms     we send the code by SMS from the app's number, the user types it in (costs money)
//   email   we send the code by e-mail, the user types it in
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { AppPolicy, NumberRecord } from "../apps/app-directory.js";
import { AppError, type FieldError } from "../shared/errors.js";
import type { Channel } from "./challenge-schemas.js";
import type { CodeAlphabet } from "./code-policy.js";

export const CHANNELS = ["sms_mo", "sms", "email"] as const satisfies readonly Channel[];
export type OutboundChannel = Exclude<Channel, "sms_mo">;

export const isChannel = (value: string): value is Channel => (CHANNELS as readonly string[]).includes(value);

/** `SMS, email ,sms` → `["sms", "email"]` (lower case, trimmed, once each, in the given order). */
export function normalizeChannels(channels: readonly string[]): string[] {
  return [...new Set(channels.map((c) => c.trim().toLowerCase()).filter((c) => c !== ""))];
}

/** What is wrong with an app's list of channels. */
export function checkChannels(channels: readonly string[]): FieldError[] {
  const errors: FieldError[] = [];
  if (channels.length === 0) errors.push({ field: "channels", message: `at least one of ${CHANNELS.join(", ")}` });
  for (const c of channels) {
    if (!isChannel(c)) errors.push({ field: "channels", message: `"${c}" is not a channel; one of ${CHANNELS.join(", ")}` });
  }
  return errors;
}

/**
 * Countries an app's codes may be sent to by SMS: its `outboundCountries`, or by default the
 * countries of its numbers (a number abroad is the sign that the app serves users there).
 */
export function outboundCountriesOf(app: Pick<AppPolicy, "outboundCountries"> & { numbers: readonly NumberRecord[] }): string[] {
  if (app.outboundCountries.length > 0) return app.outboundCountries;
  const countries = app.numbers.map((n) => n.country ?? parsePhoneNumberFromString(n.e164)?.country).filter((c): c is string => !!c);
  return [...new Set(countries)];
}

export type ChosenChannel = { channel: "sms_mo" } | { channel: "sms" } | { channel: "email"; email: string };

const notAllowed = (channel: string) =>
  new AppError("CHANNEL_NOT_ALLOWED", `This app does not allow the channel ${channel}; allow it with apps set-policy --channels`, { reason: channel });

/** The channel a creation or a fallback asks for, checked against the app's channels and the fields given. */
export function chooseChannel(app: Pick<AppPolicy, "channels">, input: { channel?: Channel | undefined; email?: string | undefined }): ChosenChannel {
  const channel = input.channel ?? "sms_mo";
  if (channel === "email" && input.email === undefined) {
    throw new AppError("VALIDATION_FAILED", "channel email needs an email address", { errors: [{ field: "email", message: "required for channel email" }] });
  }
  if (channel !== "email" && input.email !== undefined) {
    throw new AppError("VALIDATION_FAILED", "email belongs to channel email only", { errors: [{ field: "email", message: "only for channel email" }] });
  }
  if (!app.channels.includes(channel)) throw notAllowed(channel);
  return channel === "email" ? { channel, email: input.email! } : { channel };
}

/** Whether a pending reverse challenge of this app may still fall back to SMS (its phone is kept sealed until then). */
export const mayFallBackToSms = (app: Pick<AppPolicy, "channels">) => app.channels.includes("sms");

/**
 * A typed code as the code generator writes it: spaces, dashes and dots that people type or paste
 * go; an alphanumeric code is compared in upper case (codes use no lower-case letters).
 */
export function readTypedCode(typed: string, alphabet: CodeAlphabet): string {
  const code = typed.replace(/[\s\-.·]/gu, "");
  return alphabet === "alphanumeric" ? code.toUpperCase() : code;
}
