// Builds correctly signed Twilio inbound-message webhooks for tests: POST form (Twilio's default)
// or GET with the parameters in the query. Twilio signs no time, so there is no check-time
// parameter: a request signed here stays valid for ever, as a real one does.
import { randomBytes } from "node:crypto";
import { computeTwilioSignature } from "../../../src/providers/twilio/adapter.js";

export type SignedTwilioRequest = {
  method: "GET" | "POST";
  /** Path including the query string. */
  path: string;
  headers: Record<string, string>;
  body: string;
};

export const TWILIO_INBOUND_PATH = "/v1/inbound/twilio";
/** PUBLIC_BASE_URL of the test harness. */
export const HARNESS_PUBLIC_BASE_URL = "https://otp.example.test";

export type TwilioSignOptions = {
  /** The auth token. */
  secret: string;
  /** The webhook's parameters (see `twilioInboundParams`), in the order they are sent. */
  params: Readonly<Record<string, string>> | readonly (readonly [string, string])[];
  /** POST form (default) or GET with the parameters appended to the query. */
  method?: "POST" | "GET";
  /** Path with an optional configured query, e.g. `/v1/inbound/twilio?tenant=1`. */
  path?: string;
  publicBaseUrl?: string;
  /**
   * The URL Twilio signed, when it differs from publicBaseUrl + path (a port Twilio added or
   * dropped, or a test's forged URL).
   */
  signedUrl?: string;
};

/** A Twilio-shaped MessageSid: `SM` + 32 hex digits. */
export function twilioMessageSid(): string {
  return `SM${randomBytes(16).toString("hex")}`;
}

/**
 * The parameters of an inbound SMS as Twilio documents them
 * (https://www.twilio.com/docs/messaging/guides/webhook-request), numbers in +E.164.
 */
export function twilioInboundParams(input: { from: string; to: string; body: string; messageSid?: string; numSegments?: number }): Record<string, string> {
  const sid = input.messageSid ?? twilioMessageSid();
  return {
    ToCountry: "GB",
    ToState: "",
    SmsMessageSid: sid,
    NumMedia: "0",
    ToCity: "",
    FromZip: "",
    SmsSid: sid,
    FromState: "",
    SmsStatus: "received",
    FromCity: "",
    Body: input.body,
    FromCountry: "FR",
    To: input.to,
    MessagingServiceSid: "MG0123456789abcdef0123456789abcdef",
    ToZip: "",
    NumSegments: String(input.numSegments ?? 1),
    ReferralNumMedia: "0",
    MessageSid: sid,
    AccountSid: "AC0123456789abcdef0123456789abcdef",
    From: input.from,
    ApiVersion: "2010-04-01",
  };
}

export function signTwilioRequest(options: TwilioSignOptions): SignedTwilioRequest {
  const method = options.method ?? "POST";
  const pairs = Array.isArray(options.params) ? options.params : Object.entries(options.params);
  const form = new URLSearchParams(pairs.map(([k, v]) => [k, v] as [string, string])).toString();
  const configuredPath = options.path ?? TWILIO_INBOUND_PATH;
  const base = options.publicBaseUrl ?? HARNESS_PUBLIC_BASE_URL;
  if (method === "GET") {
    const path = form.length === 0 ? configuredPath : `${configuredPath}${configuredPath.includes("?") ? "&" : "?"}${form}`;
    // GET: the parameters are in the URL, and the signature covers the URL alone.
    const signature = computeTwilioSignature(options.secret, options.signedUrl ?? `${base}${path}`, []);
    return { method, path, headers: { "x-twilio-signature": signature }, body: "" };
  }
  const signature = computeTwilioSignature(options.secret, options.signedUrl ?? `${base}${configuredPath}`, pairs);
  return {
    method,
    path: configuredPath,
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    body: form,
  };
}
