// Helpers for reading providers' payloads: their timestamps, their validation errors, a plain answer.
import type { z } from "zod";
import { AppError } from "../shared/errors.js";

/**
 * ISO 8601 date-times as providers write them: `Z`, `+hh:mm` or `+hhmm` (Infobip writes
 * `2019-08-08T10:52:37.000+0000`), optional fractions. Undefined when it is not such a date.
 */
export function parseProviderTimestamp(text: string): Date | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/i.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fractionMs = Number(((match[7] ?? "") + "000").slice(0, 3));
  const offsetMinutes = match[8] ? 0 : (match[9] === "-" ? -1 : 1) * (Number(match[10]) * 60 + Number(match[11]));
  // `new Date("2024-02-31T…")` quietly means March 2nd: check the calendar fields round-trip.
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const isCalendarDate =
    local.getUTCFullYear() === year && local.getUTCMonth() === month - 1 && local.getUTCDate() === day && local.getUTCHours() === hour && local.getUTCMinutes() === minute && local.getUTCSeconds() === second;
  if (!isCalendarDate || Math.abs(offsetMinutes) > 18 * 60) return undefined;
  return new Date(local.getTime() + fractionMs - offsetMinutes * 60_000);
}

/** An optional timestamp field: absent is fine, present but unreadable is a bad payload. */
export function optionalTimestamp(value: string | null | undefined, field: string): Date | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const date = parseProviderTimestamp(value);
  if (!date) throw new AppError("WEBHOOK_PAYLOAD_INVALID", `${field} is not an ISO 8601 date-time`, { errors: [{ field, message: "not an ISO 8601 date-time" }] });
  return date;
}

export function invalidPayload(what: string, error: z.ZodError, prefix = ""): AppError {
  return new AppError("WEBHOOK_PAYLOAD_INVALID", `The payload does not match the ${what} format`, {
    errors: error.issues.slice(0, 20).map((i) => ({ field: [prefix, ...i.path.map(String)].filter(Boolean).join(".") || "(body)", message: i.message })),
  });
}

/** The answer of the path-token providers: they only look at the status (2xx = delivered). */
export const PLAIN_OK = { status: 200, contentType: "text/plain", body: "" } as const;
