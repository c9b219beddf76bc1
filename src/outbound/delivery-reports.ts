// Delivery reports (DLRs) of the codes we send: the one shape each provider's reader
// (src/providers/<name>/delivery-report.ts, its descriptor's `parseDeliveryReport`) reads them into,
//   { providerMessageId, reference?, status: "delivered" | "failed", at, errorCode? },
// and the helpers those readers share. Readers are pure functions of the raw request (tested with
// known answers in test/unit/outbound/delivery-reports.test.ts). Intermediate states (queued, sent,
// buffered, accepted…) give no report: only a final word moves a delivery.
//
// Verification is the inbound adapters' own (src/providers/*): each provider signs its delivery
// reports exactly as it signs inbound messages (Twilio X-Twilio-Signature over our URL and the
// form; Vonage `sig`; Plivo V3; Telnyx Ed25519; Bird and MessageBird signatures; the generic
// provider's Standard Webhooks), and the unsigned ones (Sinch, Infobip, smsmode) are called on
// `/v1/delivery-reports/<provider>/<token>` with the same path tokens. Verify first, parse second.
import { z } from "zod";
import { invalidPayload } from "../providers/payload.js";
import type { InboundRequest } from "../providers/provider.js";

export type DeliveryReport = {
  /** The provider's id of the message (as its send answer gave it). */
  providerMessageId: string | undefined;
  /** Our message id, where the provider echoes the client reference we sent. */
  reference?: string;
  status: "delivered" | "failed";
  at: Date;
  errorCode?: string;
};

export type Fields = Record<string, string>;

export const ID = z.string().min(1).max(200).regex(/^[^\u0000-\u001f\u007f]+$/u, "must not contain control characters");

/** Form body (POST) or query (GET), first value of each name. */
export function formFields(request: InboundRequest): Fields {
  const text = request.method === "GET" ? new URL(request.publicUrl).search.slice(1) : request.rawBody.toString("utf8");
  const out: Fields = {};
  for (const [name, value] of new URLSearchParams(text)) if (!(name in out)) out[name] = value;
  return out;
}

export const code = (value: unknown) => (value === undefined || value === null || value === "" ? undefined : String(value).slice(0, 64));
export const withCode = (errorCode: string | undefined) => (errorCode && errorCode !== "0" && errorCode !== "000" ? { errorCode } : {});

/** Reads a list of statuses into delivered / failed / nothing (intermediate). */
export const finalOf = (delivered: readonly string[], failed: readonly string[]) => (status: string) =>
  delivered.includes(status) ? ("delivered" as const) : failed.includes(status) ? ("failed" as const) : undefined;

export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidPayload(what, parsed.error);
  return parsed.data;
}

