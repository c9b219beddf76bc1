// What its webhook and its delivery reports look like in the OpenAPI document (src/openapi/openapi.ts
// builds the paths from the adapter; this says what a reader needs besides). Each example is one the
// adapter and the delivery-report reader take (test/integration/openapi.test.ts,
// test/unit/outbound/delivery-reports.test.ts).
import { EXAMPLE_TEXT, jsonBody, type ProviderOpenApi, reportBody } from "../openapi-doc.js";

export const openapi: ProviderOpenApi = {
  title: "Infobip",
  proof: "The secret path token (`INFOBIP_WEBHOOK_TOKEN`, at least 128 bits): Infobip signs nothing.",
  security: [],
  hasTimestamp: false,
  bodies: {
    "application/json": jsonBody("`{ results: [ { messageId, from, to, text, cleanText, receivedAt, smsCount, … } ], messageCount, pendingMessageCount }`: several messages per request.", {
      results: [
        {
          messageId: "817790313235066447",
          from: "33612345678",
          to: "447400000100",
          text: EXAMPLE_TEXT,
          cleanText: EXAMPLE_TEXT,
          keyword: "",
          receivedAt: "2026-11-22T04:00:00.000+0000",
          smsCount: 1,
          price: { pricePerMessage: 0, currency: "EUR" },
        },
      ],
      messageCount: 1,
      pendingMessageCount: 0,
    }),
  },
  deliveryReport: reportBody("application/json", JSON.stringify({ results: [{ messageId: "out_3kT9wQpZ2nXc8vBm4LrY7s", to: "33612345678", status: { groupName: "DELIVERED", name: "DELIVERED_TO_HANDSET" }, error: { id: 0, name: "NO_ERROR" }, doneAt: "2026-12-03T09:22:57.000+0000" }] })),
};
