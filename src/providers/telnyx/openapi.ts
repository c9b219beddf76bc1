// What its webhook and its delivery reports look like in the OpenAPI document (src/openapi/openapi.ts
// builds the paths from the adapter; this says what a reader needs besides). Each example is one the
// adapter and the delivery-report reader take (test/integration/openapi.test.ts,
// test/unit/outbound/delivery-reports.test.ts).
import { EXAMPLE_AT, EXAMPLE_TEXT, header, jsonBody, type ProviderOpenApi, reportBody } from "../openapi-doc.js";

export const openapi: ProviderOpenApi = {
  title: "Telnyx",
  proof: "`telnyx-signature-ed25519`: Ed25519 over `telnyx-timestamp` (±5 min) and the raw body (`TELNYX_PUBLIC_KEY`). VoIP and wireline senders do not verify.",
  security: [{ telnyxSignature: [] }],
  hasTimestamp: true,
  headers: [header("telnyx-timestamp", "Unix time of the signature, in seconds; at most 5 minutes away from our clock.")],
  bodies: {
    "application/json": jsonBody("A Messaging API v2 event; `message.received` carries the SMS in `data.payload`. Other events are acknowledged and ignored.", {
      data: {
        record_type: "event",
        id: "b301ed3f-1490-491f-995f-6e64e69674d4",
        event_type: "message.received",
        occurred_at: EXAMPLE_AT,
        payload: {
          record_type: "message",
          direction: "inbound",
          id: "84cca175-9755-4859-b67f-4730d7f58aa3",
          type: "SMS",
          from: { phone_number: "+33612345678", carrier: "Orange", line_type: "Wireless" },
          to: [{ phone_number: "+447400000100", status: "webhook_delivered" }],
          text: EXAMPLE_TEXT,
          parts: 1,
          received_at: EXAMPLE_AT,
        },
      },
      meta: { attempt: 1 },
    }),
  },
  deliveryReport: reportBody("application/json", JSON.stringify({ data: { event_type: "message.finalized", occurred_at: "2026-12-03T09:22:57.000+00:00", payload: { id: "40385f64-5717-4562-b3fc-2c963f66afa6", to: [{ phone_number: "+33612345678", status: "delivered" }] } } })),
};
