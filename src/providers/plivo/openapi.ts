// What its webhook and its delivery reports look like in the OpenAPI document (src/openapi/openapi.ts
// builds the paths from the adapter; this says what a reader needs besides). Each example is one the
// adapter and the delivery-report reader take (test/integration/openapi.test.ts,
// test/unit/outbound/delivery-reports.test.ts).
import { EXAMPLE_TEXT, formBody, header, type ProviderOpenApi, reportBody } from "../openapi-doc.js";

export const openapi: ProviderOpenApi = {
  title: "Plivo",
  proof:
    "`X-Plivo-Signature-V3` (or `X-Plivo-Signature-Ma-V3`) with `X-Plivo-Signature-V3-Nonce`: HMAC-SHA256 over the URL, the query and the POST parameters (`PLIVO_AUTH_TOKEN`). V2 signatures only with `PLIVO_ACCEPT_V2=true`.",
  security: [{ plivoSignature: [] }],
  hasTimestamp: false,
  headers: [header("X-Plivo-Signature-V3-Nonce", "The nonce signed with the V3 signature.")],
  bodies: {
    "application/x-www-form-urlencoded": formBody("Plivo's message parameters: `MessageUUID`, `From`, `To`, `Text`, `Type`, `Units`…", {
      From: "33612345678",
      To: "447400000100",
      Type: "sms",
      Text: EXAMPLE_TEXT,
      MessageUUID: "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
      Units: "1",
    }),
  },
  getQuery: "Plivo's message parameters (`MessageUUID`, `From`, `To`, `Text`…).",
  deliveryReport: reportBody("application/x-www-form-urlencoded", "MessageUUID=db3ce55a-7f1d-11e1-8ea7-1231380bc196&Status=delivered"),
};
