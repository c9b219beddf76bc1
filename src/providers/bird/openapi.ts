// What its webhook and its delivery reports look like in the OpenAPI document (src/openapi/openapi.ts
// builds the paths from the adapter; this says what a reader needs besides). Each example is one the
// adapter and the delivery-report reader take (test/integration/openapi.test.ts,
// test/unit/outbound/delivery-reports.test.ts).
import { EXAMPLE_AT, EXAMPLE_TEXT, header, jsonBody, type ProviderOpenApi, reportBody } from "../openapi-doc.js";

export const openapi: ProviderOpenApi = {
  title: "Bird (Channels API)",
  proof:
    "`messagebird-signature`: HMAC-SHA256 over `messagebird-request-timestamp`, the URL (with its `number` parameter) and the body's SHA-256 (`BIRD_SIGNING_KEY`). Bird retries with the original timestamp, so timestamps up to 25 hours old are accepted; deduplication carries replay safety.",
  security: [{ birdSignature: [] }],
  hasTimestamp: true,
  headers: [header("messagebird-request-timestamp", "Unix time of the signature, in seconds.")],
  query: [
    {
      name: "number",
      in: "query",
      required: false,
      description:
        "Your number (`+` written `%2B`), needed because Bird names the receiving channel only by ids, unless the number is registered with its channel id (`apps add-number … --channel`). Covered by the signature.",
      schema: { type: "string", examples: ["+447400000123"] },
    },
  ],
  bodies: {
    "application/json": jsonBody("A webhook subscription event; `sms.inbound` carries the message in `payload`. Other events are acknowledged and ignored.", {
      service: "channels",
      event: "sms.inbound",
      payload: {
        id: "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
        channelId: "614208aa-b153-4d5d-9989-2fddfc0ce4c3",
        sender: { contact: { id: "32cf5eee-f940-422c-ab8c-5f753aad5efd", identifierKey: "phonenumber", identifierValue: "+33612345678" } },
        receiver: { connector: { id: "86cc4dc0-3dc0-41b7-ac43-8ec829ead56f" } },
        body: { type: "text", text: { text: EXAMPLE_TEXT } },
        status: "delivered",
        direction: "incoming",
        createdAt: EXAMPLE_AT,
      },
    }),
  },
  deliveryReport: reportBody("application/json", JSON.stringify({ service: "channels", event: "sms.outbound", payload: { id: "2f4a8c1e-5b1d-4c6e-9a7f-3e2d1c0b9a8f", status: "delivered", reference: "out_3kT9wQpZ2nXc8vBm4LrY7s" } })),
};
