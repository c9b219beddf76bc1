// What its webhook and its delivery reports look like in the OpenAPI document (src/openapi/openapi.ts
// builds the paths from the adapter; this says what a reader needs besides). Each example is one the
// adapter and the delivery-report reader take (test/integration/openapi.test.ts,
// test/unit/outbound/delivery-reports.test.ts).
import { EXAMPLE_TEXT, formBody, header, jsonBody, type ProviderOpenApi, reportBody } from "../openapi-doc.js";

const MESSAGEBIRD_EXAMPLE = {
  id: "e8077d803532c0b5937c639b60216938",
  recipient: "447400000100",
  originator: "33612345678",
  body: EXAMPLE_TEXT,
  createdDatetime: "2026-11-22T04:00:00+00:00",
};

export const openapi: ProviderOpenApi = {
  title: "MessageBird (legacy numbers)",
  proof:
    "`MessageBird-Signature-JWT` (HS256/384/512 over the URL and the body, 60 s validity), or `MessageBird-Signature` with `MessageBird-Request-Timestamp` (±5 min) over the query and the body (`MESSAGEBIRD_SIGNING_KEY`).",
  security: [{ messageBirdJwt: [] }, { messageBirdSignature: [] }],
  hasTimestamp: true,
  headers: [header("MessageBird-Request-Timestamp", "Unix time of the `MessageBird-Signature`; not needed with the JWT.", false)],
  bodies: {
    "application/x-www-form-urlencoded": formBody("`id`, `originator`, `recipient`, `body`, `createdDatetime`.", MESSAGEBIRD_EXAMPLE),
    "application/json": jsonBody("`id`, `originator`, `recipient`, `body`, `createdDatetime`.", MESSAGEBIRD_EXAMPLE),
  },
  getQuery: "`id`, `originator`, `recipient`, `body`, `createdDatetime` (Flow Builder's *Forward to URL* with GET).",
  deliveryReport: reportBody("application/x-www-form-urlencoded", "id=efa6405d518d4c0c88cce11f7db775fb&reference=out_3kT9wQpZ2nXc8vBm4LrY7s&recipient=33612345678&status=delivered&statusDatetime=2026-12-03T09%3A22%3A57%2B00%3A00"),
};
