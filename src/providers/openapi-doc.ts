// What a provider's folder tells the OpenAPI document (src/providers/<name>/openapi.ts) beside what
// its adapter already says (route, methods, path token, answers): how a request proves its origin,
// its headers and bodies with examples, and the body of its delivery reports. The helpers build the
// OpenAPI fragments those files share; src/openapi/openapi.ts assembles the paths from the list.
// (Imports nothing of src/openapi/: the descriptors import this file, and the document imports them.)

export type JsonObject = { [key: string]: unknown };

export const ref = (kind: "schemas" | "parameters" | "headers", name: string) => ({ $ref: `#/components/${kind}/${name}` });
export const schemaRef = (name: string) => ref("schemas", name);

export type ProviderOpenApi = {
  title: string;
  /** What proves the origin, for the operation's description. */
  proof: string;
  security: Record<string, string[]>[];
  /** Signed timestamps that can be out of range (403 WEBHOOK_TIMESTAMP_OUT_OF_RANGE). */
  hasTimestamp: boolean;
  /** Headers that go with the signature, beside the security scheme's own. */
  headers?: JsonObject[];
  /** Query parameters of every request. */
  query?: JsonObject[];
  /** Bodies of POST requests to its inbound webhook, by content type. */
  bodies?: Record<string, JsonObject>;
  /** What GET requests carry in the query string. */
  getQuery?: string;
  /**
   * The body of a POST delivery report, by content type: one report as the provider's documentation
   * shows it (the source is named beside its reader, delivery-report.ts), the body Swagger's
   * "Try it out" offers.
   */
  deliveryReport: Record<string, JsonObject>;
};

export const header = (name: string, description: string, required = true) => ({ name, in: "header", required, description, schema: { type: "string" } });
// Each body has an example a reader can send (with a valid signature): one inbound SMS as the
// provider documents it, which the adapter reads (test/integration/openapi.test.ts parses each one).
export const formBody = (description: string, example: Record<string, string>) => ({ schema: { type: "object", additionalProperties: { type: "string" }, description }, example });
export const jsonBody = (description: string, example: JsonObject) => ({ schema: { type: "object", description }, example });
/** A delivery report as the provider sends it, raw (test/unit/outbound/delivery-reports.test.ts reads each one). */
export const reportBody = (contentType: string, example: string) => ({
  [contentType]: { schema: { type: "string", description: "The provider's report, as it sends it (docs/sending.md)." }, example },
});

export const EXAMPLE_TEXT = "601836 is my Acme code to log in.";
export const EXAMPLE_AT = "2026-11-22T04:00:00.000Z";
