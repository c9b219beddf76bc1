// What its webhook and its delivery reports look like in the OpenAPI document (src/openapi/openapi.ts
// builds the paths from the adapter; this says what a reader needs besides). Each example is one the
// adapter and the delivery-report reader take (test/integration/openapi.test.ts,
// test/unit/outbound/delivery-reports.test.ts).
import { EXAMPLE_AT, EXAMPLE_TEXT, jsonBody, type ProviderOpenApi, reportBody } from "../openapi-doc.js";

export const openapi: ProviderOpenApi = {
  title: "smsmode",
  proof: "The secret path token (`SMSMODE_WEBHOOK_TOKEN`, at least 128 bits): smsmode signs nothing.",
  security: [],
  hasTimestamp: false,
  bodies: {
    "application/json": jsonBody("REST API webhook: `messageId`, `direction` (`MO`), `from`, `recipient.to`, `body.text`, `sentDate`; whichever of `from` and `recipient.to` is one of your numbers is taken as the recipient.", {
      messageId: "6371b6f3b2d1a34f4c2c1a3e",
      direction: "MO",
      channel: { type: "SMS" },
      from: "33612345678",
      recipient: { to: "447400000100" },
      body: { text: EXAMPLE_TEXT, encoding: "GSM7", messagePartCount: 1, length: EXAMPLE_TEXT.length },
      sentDate: EXAMPLE_AT,
    }),
  },
  getQuery:
    "HTTP API reply callback: `numero` (your number or short code, e.g. `36034`), `emetteur` (the user), `message`, `date_reception`, `smsID`, `refClient`, `responseID` (absent in API 2.7).",
  deliveryReport: reportBody("application/x-www-form-urlencoded", "smsID=1a2b3c4d5e6f&statut=11&refClient=out_3kT9wQpZ2nXc8vBm4LrY7s&numero=33612345678"),
};
