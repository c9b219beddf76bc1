// What its webhook and its delivery reports look like in the OpenAPI document (src/openapi/openapi.ts
// builds the paths from the adapter; this says what a reader needs besides). Each example is one the
// adapter and the delivery-report reader take (test/integration/openapi.test.ts,
// test/unit/outbound/delivery-reports.test.ts).
import { EXAMPLE_TEXT, formBody, type ProviderOpenApi, reportBody } from "../openapi-doc.js";

export const openapi: ProviderOpenApi = {
  title: "Twilio",
  proof: "`X-Twilio-Signature`: HMAC-SHA1 over the URL (from `PUBLIC_BASE_URL`) and the sorted POST parameters (`TWILIO_AUTH_TOKEN`). No timestamp: replays are caught by `MessageSid` deduplication.",
  security: [{ twilioSignature: [] }],
  hasTimestamp: false,
  bodies: {
    "application/x-www-form-urlencoded": formBody("Twilio's message parameters: `MessageSid`, `From`, `To`, `Body`, `NumSegments`…", {
      MessageSid: "SM0123456789abcdef0123456789abcdef",
      SmsSid: "SM0123456789abcdef0123456789abcdef",
      AccountSid: "AC0123456789abcdef0123456789abcdef",
      From: "+33612345678",
      To: "+447400000100",
      Body: EXAMPLE_TEXT,
      NumSegments: "1",
      NumMedia: "0",
      FromCountry: "FR",
      ApiVersion: "2010-04-01",
    }),
  },
  getQuery: "Twilio's message parameters (`MessageSid`, `From`, `To`, `Body`…), covered by the signature with the URL.",
  deliveryReport: reportBody("application/x-www-form-urlencoded", "MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&MessageStatus=delivered&AccountSid=AC0123456789abcdef0123456789abcdef"),
};
