// What its webhook and its delivery reports look like in the OpenAPI document (src/openapi/openapi.ts
// builds the paths from the adapter; this says what a reader needs besides). Each example is one the
// adapter and the delivery-report reader take (test/integration/openapi.test.ts,
// test/unit/outbound/delivery-reports.test.ts).
import { EXAMPLE_AT, EXAMPLE_TEXT, header, jsonBody, type ProviderOpenApi, reportBody } from "../openapi-doc.js";

export const openapi: ProviderOpenApi = {
  title: "Sinch (SMS REST API)",
  proof:
    "`x-sinch-webhook-signature`: HMAC-SHA256 over the raw body, `x-sinch-webhook-signature-nonce` and `x-sinch-webhook-signature-timestamp` (`SINCH_WEBHOOK_SECRET`; signing is enabled by Sinch's account managers), or, for accounts without signing, the secret path token (`SINCH_WEBHOOK_TOKEN`, at least 128 bits). A request with signature headers is judged by its signature alone; signed callbacks may also use `/v1/inbound/sinch`, without the token segment.",
  security: [{ sinchSignature: [] }, {}],
  hasTimestamp: true,
  headers: [
    header("x-sinch-webhook-signature-nonce", "The nonce signed with `x-sinch-webhook-signature` (signed callbacks only).", false),
    header("x-sinch-webhook-signature-timestamp", "Unix time of the signature, in seconds; up to 24 hours old (Sinch retries for about 23 hours), at most 5 minutes ahead (signed callbacks only).", false),
  ],
  bodies: {
    "application/json": jsonBody("An inbound of `type: \"mo_text\"` with `id`, `from`, `to`, `body`, `received_at`; other types are acknowledged and ignored.", {
      type: "mo_text",
      id: "01FC66621XXXXX119Z8PMV1QPQ",
      from: "33612345678",
      to: "447400000100",
      body: EXAMPLE_TEXT,
      received_at: EXAMPLE_AT,
      operator_id: "20801",
    }),
  },
  deliveryReport: reportBody("application/json", JSON.stringify({ type: "recipient_delivery_report_sms", batch_id: "01FC66621XXXXX119Z8PMV1QPQ", recipient: "33612345678", code: 0, status: "Delivered", at: "2026-12-03T09:22:57.000Z", client_reference: "out_3kT9wQpZ2nXc8vBm4LrY7s" })),
};
