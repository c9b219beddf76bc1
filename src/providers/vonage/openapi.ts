// What its webhook and its delivery reports look like in the OpenAPI document (src/openapi/openapi.ts
// builds the paths from the adapter; this says what a reader needs besides). Each example is one the
// adapter and the delivery-report reader take (test/integration/openapi.test.ts,
// test/unit/outbound/delivery-reports.test.ts).
import { EXAMPLE_AT, EXAMPLE_TEXT, formBody, jsonBody, type ProviderOpenApi, reportBody } from "../openapi-doc.js";

export const openapi: ProviderOpenApi = {
  title: "Vonage (SMS API and Messages API)",
  proof:
    "SMS API: the `sig` parameter, a signature of every other parameter (`VONAGE_SIGNATURE_SECRET`, `VONAGE_SIGNATURE_METHOD`), with `timestamp`. Messages API: `Authorization: Bearer` JWT (HS256) whose `payload_hash` is the SHA-256 of the body. Multi-part SMS are joined.",
  security: [{ vonageSignedParameters: [] }, { vonageJwt: [] }],
  hasTimestamp: true,
  bodies: {
    "application/json": jsonBody(
      "SMS API parameters as JSON (`POST-JSON`, with `sig`), or a Messages API inbound message (`message_uuid`, `from`, `to`, `text`, `channel`).",
      {
        channel: "sms",
        message_uuid: "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
        to: "447400000100",
        from: "33612345678",
        timestamp: EXAMPLE_AT,
        text: EXAMPLE_TEXT,
        sms: { num_messages: "1" },
        message_type: "text",
      },
    ),
    "application/x-www-form-urlencoded": formBody("SMS API parameters: `msisdn`, `to`, `messageId`, `text`, `type`, `timestamp`, `sig`, `concat-*`…", {
      msisdn: "33612345678",
      to: "447400000100",
      messageId: "0A0000000123ABCD1",
      text: EXAMPLE_TEXT,
      type: "text",
      "api-key": "abcd1234",
      "message-timestamp": "2026-11-22 04:00:00",
      timestamp: "1795320000",
      sig: "<signature of the other parameters>",
    }),
  },
  getQuery: "SMS API parameters (`msisdn`, `to`, `messageId`, `text`, `timestamp`, `sig`…): Vonage's default method.",
  deliveryReport: reportBody("application/x-www-form-urlencoded", "messageId=0A0000000123ABCD1&status=delivered&err-code=0&message-timestamp=2026-12-03+09%3A22%3A57&msisdn=33612345678&to=447400000100"),
};
