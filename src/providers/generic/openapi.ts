// What its webhook and its delivery reports look like in the OpenAPI document (src/openapi/openapi.ts
// builds the paths from the adapter; this says what a reader needs besides). Each example is one the
// adapter and the delivery-report reader take (test/integration/openapi.test.ts,
// test/unit/outbound/delivery-reports.test.ts).
import { EXAMPLE_AT, EXAMPLE_TEXT, header, jsonBody, type ProviderOpenApi, schemaRef } from "../openapi-doc.js";

export const openapi: ProviderOpenApi = {
  title: "Generic (Standard Webhooks)",
  proof: "HMAC-SHA256 over `webhook-id`, `webhook-timestamp` (±5 min) and the raw body (`GENERIC_WEBHOOK_SECRET`).",
  security: [{ standardWebhooks: [] }],
  hasTimestamp: true,
  headers: [
    header("webhook-id", "Id of this delivery (any new id for a retry: deduplication is on `messageId`)."),
    header("webhook-timestamp", "Unix time of the signature, in seconds; at most 5 minutes away from our clock."),
  ],
  bodies: {
    "application/json": {
      schema: schemaRef("GenericInboundMessage"),
      example: { messageId: "SM123", from: "+33612345678", to: "+447400000100", text: EXAMPLE_TEXT, receivedAt: EXAMPLE_AT },
    },
  },
  deliveryReport: { "application/json": jsonBody("`{ messageId, status: \"delivered\" | \"failed\" }`, signed per Standard Webhooks.", { messageId: "out_3kT9wQpZ2nXc8vBm4LrY7s", status: "delivered" }) },
};
