// The OpenAPI 3.1 document of the service, generated in code from the zod schemas that validate
// requests and describe answers (challenge-schemas.ts, http/problem.ts, providers/generic/adapter.ts, the
// dashboard's query) with zod's own `z.toJSONSchema` (JSON Schema 2020-12, the dialect of OpenAPI
// 3.1). The webhook paths come from the provider registry (names, methods, path tokens, answers),
// the error responses from the error-code registry. test/integration/openapi.test.ts checks the
// document against the routes Express really serves, in both directions, and validates real
// answers against it.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import {
  challengeIdParam,
  challengeStatusSchema,
  challengeViewSchema,
  checkBody,
  createChallengeBody,
  fallbackBody,
  createdChallengeSchema,
  idempotencyKeyHeader,
  purposeSchema,
  waitSecondsParam,
} from "../challenges/challenge-schemas.js";
import { statsQuery } from "../dashboard/dashboard-routes.js";
import { errorCodeSchema, fieldErrorSchema, problemSchema, problemType, type Problem } from "../http/problem.js";
import { genericAnswerSchema, genericPayloadSchema } from "../providers/generic/adapter.js";
import { PROVIDER_DESCRIPTORS } from "../providers/index.js";
import { ref, type JsonObject, type ProviderOpenApi } from "../providers/openapi-doc.js";
import { createProviderRegistry } from "../providers/registry.js";
import { ERROR_CODES, type ErrorCode } from "../shared/errors.js";

export type { JsonObject };

export type OpenApiOperation = JsonObject & {
  operationId: string;
  responses: Record<string, JsonObject>;
};

export type OpenApiDocument = {
  openapi: "3.1.0";
  info: JsonObject;
  servers: JsonObject[];
  tags: JsonObject[];
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>> & JsonObject>;
  webhooks: Record<string, JsonObject>;
  components: {
    schemas: Record<string, JsonObject>;
    parameters: Record<string, JsonObject>;
    headers: Record<string, JsonObject>;
    securitySchemes: Record<string, JsonObject>;
  };
};

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

const VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8")) as { version: string }).version;

/** Codes whose answers carry `Retry-After` (whenever the service knows when to come back). */
const RETRY_AFTER_CODES: ReadonlySet<ErrorCode> = new Set(["PHONE_LOCKED", "RATE_LIMITED", "SERVICE_UNAVAILABLE"]);

// ---- Schemas, from zod ------------------------------------------------------------------------

const healthSchema = z.strictObject({ status: z.literal("ok") });
const readySchema = z.strictObject({ status: z.enum(["ready", "unavailable"]) });

type Registered = { id: string; description?: string; [key: string]: unknown };

/** Leaves out what says nothing to a reader: zod's spelled-out patterns of ISO date-times (the
 *  `format` says it) and the safe-integer bounds of every integer. */
function tidy({ jsonSchema }: { jsonSchema: JsonObject }): void {
  if (jsonSchema.format === "date-time") delete jsonSchema.pattern;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
}

/**
 * Converts named zod schemas into `components.schemas` entries that refer to each other by `$ref`.
 * Field descriptions come from the schemas' own `.meta()`; the names and the descriptions given
 * here are the components' own.
 */
function toComponentSchemas(named: readonly (readonly [z.ZodType, Registered])[], io: "input" | "output"): Record<string, JsonObject> {
  const registry = z.registry<Registered>();
  for (const [schema, meta] of named) registry.add(schema, meta);
  const converted = z.toJSONSchema(registry, {
    io,
    target: "draft-2020-12",
    uri: (id) => `#/components/schemas/${id}`,
    override: tidy,
  }) as { schemas: Record<string, JsonObject> };
  const out: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(converted.schemas)) {
    // Each entry is a sub-schema of the OpenAPI document, not a document of its own.
    const { $schema: _dialect, $id: _id, ...rest } = schema;
    const { id: _name, ...extra } = named.find(([, meta]) => meta.id === id)?.[1] ?? { id };
    out[id] = { ...rest, ...extra };
  }
  return out;
}

function componentSchemas(publicBaseUrl: string): Record<string, JsonObject> {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];
  const responses: (readonly [z.ZodType, Registered])[] = [
    [challengeStatusSchema, { id: "ChallengeStatus" }],
    [purposeSchema, { id: "Purpose" }],
    [
      challengeViewSchema,
      {
        id: "ChallengeView",
        description: "A challenge as `GET /v1/challenges/{id}` answers it; also the `data` of each Server-Sent Event and of callbacks.",
      },
    ],
    [
      createdChallengeSchema,
      {
        id: "CreatedChallenge",
        description:
          "A new challenge: for `sms_mo`, what the app shows the user (`code`, `smsTo`, `smsBody`, `smsUri`); for `sms` and `email`, no code (it was sent) but `delivery`; and the `pollToken`. Shown once.",
      },
    ],
    [
      errorCodeSchema,
      {
        id: "ErrorCode",
        description: [
          `Stable machine code of an error: branch on it, never on \`title\` or \`detail\`. Each is explained in the [error reference](${publicBaseUrl}/docs/errors):`,
          "",
          ...codes.map((code) => `- ${codeLink(code, publicBaseUrl)} (${ERROR_CODES[code].status}): ${ERROR_CODES[code].title}`),
        ].join("\n"),
        // Shown beside each value by reference renderers that support it (Scalar, Redoc).
        "x-enumDescriptions": Object.fromEntries(
          codes.map((code) => [code, `${ERROR_CODES[code].status}: ${ERROR_CODES[code].title} — ${problemType(code, publicBaseUrl)}`]),
        ),
      },
    ],
    [fieldErrorSchema, { id: "FieldError" }],
    [
      problemSchema,
      {
        id: "Problem",
        description: "RFC 9457 problem details, the body of every error (`application/problem+json`). `type` links to the code's section of the error reference.",
      },
    ],
    [genericAnswerSchema, { id: "GenericInboundAnswer", description: "The generic provider's answer: the outcome of each message." }],
    [healthSchema, { id: "Health" }],
    [readySchema, { id: "Readiness" }],
  ];
  const requests: (readonly [z.ZodType, Registered])[] = [
    [purposeSchema, { id: "Purpose" }],
    [createChallengeBody, { id: "CreateChallengeRequest", description: "Unknown fields are refused (400 `VALIDATION_FAILED`)." }],
    [fallbackBody, { id: "FallbackRequest", description: "Unknown fields are refused (400 `VALIDATION_FAILED`)." }],
    [checkBody, { id: "CheckRequest", description: "Unknown fields are refused (400 `VALIDATION_FAILED`)." }],
    [genericPayloadSchema, { id: "GenericInboundMessage", description: "One inbound SMS, signed per Standard Webhooks. Unknown fields are refused." }],
  ];

  const output = toComponentSchemas(responses, "output");
  const input = toComponentSchemas(requests, "input");
  for (const [id, schema] of Object.entries(input)) {
    // A schema in both lists (Purpose) must read the same both ways, or the two need two names.
    if (output[id] && JSON.stringify(output[id]) !== JSON.stringify(schema)) throw new Error(`OpenAPI schema ${id} differs between requests and answers`);
    output[id] = schema;
  }
  return output;
}

/** A parameter's schema, from the zod schema that parses it. */
function parameterSchema(schema: z.ZodType): JsonObject {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: "input", override: tidy }) as JsonObject;
  return rest;
}

/** One optional query parameter per field of the zod object that parses the query string. */
function queryParameters(schema: z.ZodObject): JsonObject[] {
  const properties = (parameterSchema(schema).properties ?? {}) as Record<string, JsonObject>;
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: "query", required: false, ...(description ? { description } : {}), schema: rest };
  });
}

// ---- Error responses, from the error-code registry -------------------------------------------

function codeLink(code: ErrorCode, publicBaseUrl: string): string {
  return `[\`${code}\`](${problemType(code, publicBaseUrl)})`;
}

function exampleProblem(code: ErrorCode, publicBaseUrl: string): Problem {
  const { status, title } = ERROR_CODES[code];
  return { type: problemType(code, publicBaseUrl), title, status, detail: title, code, requestId: "5dfa78e4-0c6a-47cd-8015-b497a1bc778d" };
}

/** Errors any operation may answer: an unexpected error, the request deadline or the database away. */
const SERVICE_ERRORS: ErrorCode[] = ["INTERNAL", "SERVICE_UNAVAILABLE"];
/** Webhooks never answer 500: any trouble of ours is a 503, so the provider retries. */
const WEBHOOK_SERVICE_ERRORS: ErrorCode[] = ["SERVICE_UNAVAILABLE"];

/**
 * The responses of an operation: its own, and one `application/problem+json` response per status of
 * its error codes, whose `code` is narrowed to exactly those codes and whose description links each
 * code to its section of docs/errors.md.
 */
function withProblems(publicBaseUrl: string, own: Record<string, JsonObject>, codes: readonly ErrorCode[]): Record<string, JsonObject> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    if (!codes.includes(code)) continue;
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, JsonObject> = { ...own };
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    const problem = {
      description: group.map((code) => `- ${codeLink(code, publicBaseUrl)}: ${ERROR_CODES[code].title}`).join("\n"),
      headers: {
        "X-Request-Id": ref("headers", "XRequestId"),
        ...(group.some((code) => RETRY_AFTER_CODES.has(code)) ? { "Retry-After": ref("headers", "RetryAfter") } : {}),
      },
      content: {
        "application/problem+json": {
          schema: { allOf: [ref("schemas", "Problem"), { properties: { code: { enum: group } } }] },
          examples: Object.fromEntries(group.map((code) => [code, { summary: code, value: exampleProblem(code, publicBaseUrl) }])),
        },
      },
    };
    const existing = out[String(status)];
    out[String(status)] = existing
      ? {
          ...existing,
          description: `${String(existing.description)}\n\nOr an error:\n\n${problem.description}`,
          headers: { ...(existing.headers as JsonObject), ...problem.headers },
          content: { ...(existing.content as JsonObject), ...problem.content },
        }
      : problem;
  }
  return out;
}

const jsonResponse = (description: string, schemaName: string, headers: JsonObject = {}) => ({
  description,
  headers: { "X-Request-Id": ref("headers", "XRequestId"), ...headers },
  content: { "application/json": { schema: ref("schemas", schemaName) } },
});

// ---- Providers -------------------------------------------------------------------------------

/** Requests to POST /v1/challenges that succeed as they are. */
export const CREATE_CHALLENGE_EXAMPLES = {
  login: { summary: "Log in, a national number with its country", value: { phone: "06 12 34 56 78", country: "FR", purpose: "login" } },
  payment: {
    summary: "Confirm a payment: amount, currency and merchant appear in the SMS",
    value: { phone: "+447400123456", purpose: "transaction", context: { amount: "49.90", currency: "EUR", merchant: "Shop XY" }, locale: "en" },
  },
  signup: { summary: "Sign up, with a description and the SMS in German", value: { phone: "+49 151 23456789", purpose: "signup", context: { description: "Acme account" }, locale: "de" } },
} as const;

/** What each adapter expects, for people; the routes, methods and answers come from the adapters themselves. */

/** What each provider's folder says about its webhook and its delivery reports (src/providers/<name>/openapi.ts). */
const PROVIDER_DOCS: ReadonlyMap<string, ProviderOpenApi> = new Map(PROVIDER_DESCRIPTORS.map((p) => [p.name, p.openapi]));

function providerDoc(name: string): ProviderOpenApi {
  const doc = PROVIDER_DOCS.get(name);
  if (!doc) throw new Error(`No OpenAPI entry for provider ${name}`);
  return doc;
}

/** The adapters as the service registers them; names, methods, path tokens and answers do not depend on secrets. */
export function providerAdapters() {
  const none: string[] = [];
  return createProviderRegistry({
    genericWebhookSecrets: none,
    twilioAuthTokens: none,
    vonageSignatureSecrets: none,
    vonageSignatureMethod: "sha256",
    plivoAuthTokens: none,
    plivoAcceptV2: false,
    telnyxPublicKeys: none,
    birdSigningKeys: none,
    messagebirdSigningKeys: none,
    smsmodeTokens: none,
    sinchTokens: none,
    sinchSigningSecrets: none,
    infobipTokens: none,
    messageIdKey: "",
  });
}

/** The GET answers of a webhook that takes GET: its acknowledgement, and the 200 (text/plain) of a URL check. */
function withUrlCheck(status: string, success: JsonObject): Record<string, JsonObject> {
  const urlCheck = { "text/plain": { schema: { type: "string", description: "Empty: the answer to a GET without parameters (a URL check)." } } };
  if (status !== "200") {
    return {
      "200": { description: "A GET without parameters (a URL check): nothing was done.", headers: { "X-Request-Id": ref("headers", "XRequestId") }, content: urlCheck },
      [status]: success,
    };
  }
  return { "200": { ...success, content: { ...((success.content as JsonObject | undefined) ?? {}), ...urlCheck } } };
}

function webhookPaths(publicBaseUrl: string): OpenApiDocument["paths"] {
  const paths: OpenApiDocument["paths"] = {};
  for (const adapter of providerAdapters().values()) {
    const name = adapter.name;
    const doc = providerDoc(name);
    const path = adapter.usesPathToken ? `/v1/inbound/${name}/{token}` : `/v1/inbound/${name}`;
    const answer = adapter.acknowledge([]);
    const success =
      name === "generic"
        ? jsonResponse("Stored (whatever the outcome, duplicates included): the outcome of each message.", "GenericInboundAnswer")
        : {
            description: `Stored, matched or not, duplicates included: the provider's own acknowledgement${answer.body ? ` (\`${answer.body.replace(/\s+/g, " ")}\`)` : ""}.`,
            headers: { "X-Request-Id": ref("headers", "XRequestId") },
            ...(answer.status === 204 ? {} : { content: { [answer.contentType ?? "text/plain"]: { schema: { type: "string" } } } }),
          };
    const errors: ErrorCode[] = [
      "INVALID_REQUEST",
      "WEBHOOK_PAYLOAD_INVALID",
      "WEBHOOK_SIGNATURE_MISSING",
      "WEBHOOK_SIGNATURE_INVALID",
      ...(doc.hasTimestamp ? (["WEBHOOK_TIMESTAMP_OUT_OF_RANGE"] as const) : []),
      "PAYLOAD_TOO_LARGE",
      ...WEBHOOK_SERVICE_ERRORS,
    ];
    const tokenParam = adapter.usesPathToken
      ? [
          {
            name: "token",
            in: "path",
            required: true,
            description: `The secret path token: one of \`${name.toUpperCase()}_WEBHOOK_TOKEN\`. It authenticates the request, so keep the URL secret and mask it in proxy logs.`,
            schema: { type: "string" },
          },
        ]
      : [];
    const item: OpenApiDocument["paths"][string] = {};
    // A bare GET is a URL check on every webhook (inbound-service.ts): documented for all.
    if (!adapter.methods.includes("GET")) {
      item.get = {
        tags: ["Inbound webhooks"],
        operationId: `inbound_${name}_url_check`,
        summary: `${doc.title}: URL check (GET)`,
        description: [
          `What a provider's back office or a health probe sends when the URL is saved: a GET without query string answers 200 and reads and writes nothing${adapter.usesPathToken ? ", once the path token is right (a wrong one is refused, so a mistyped URL shows at once)" : ""}.`,
          `Deliveries use ${adapter.methods.join(" or ")}: a GET with parameters answers 405 ${codeLink("METHOD_NOT_ALLOWED", publicBaseUrl)}.`,
        ].join("\n\n"),
        security: adapter.usesPathToken ? doc.security : [],
        ...(tokenParam.length > 0 ? { parameters: tokenParam } : {}),
        responses: withProblems(
          publicBaseUrl,
          { "200": { description: "The URL answers; nothing was done.", headers: { "X-Request-Id": ref("headers", "XRequestId") }, content: { "text/plain": { schema: { type: "string" } } } } },
          adapter.usesPathToken ? ["WEBHOOK_SIGNATURE_MISSING", "WEBHOOK_SIGNATURE_INVALID", "WEBHOOK_NOT_CONFIGURED", ...WEBHOOK_SERVICE_ERRORS] : [...WEBHOOK_SERVICE_ERRORS],
        ),
      };
    }
    for (const method of adapter.methods) {
      const lower = method.toLowerCase() as "get" | "post";
      const parameters = [
        ...tokenParam,
        ...(doc.query ?? []),
        ...(lower === "get"
          ? [
              {
                name: "parameters",
                in: "query",
                required: false,
                style: "form",
                explode: true,
                description: `${doc.getQuery ?? ""} Without any (a URL check of the provider's back office or a health probe) the answer is 200 and nothing is done.`.trim(),
                schema: { type: "object", additionalProperties: { type: "string" } },
              },
            ]
          : []),
        ...(doc.headers ?? []),
      ];
      item[lower] = {
        tags: ["Inbound webhooks"],
        operationId: `inbound_${name}_${lower}`,
        summary: `${doc.title}: inbound SMS (${method})`,
        description: [
          `Called by ${doc.title}, never by your app. Proof of origin: ${doc.proof}`,
          "Checked on the raw bytes before anything is parsed; a refused request writes nothing." +
            (adapter.methods.length === 1
              ? ` ${method} is the only method: the other one answers 405 ${codeLink("METHOD_NOT_ALLOWED", publicBaseUrl)}.`
              : ""),
          `Set-up, payloads and retries: \`docs/providers/${name}.md\` in the repository.`,
        ].join("\n\n"),
        security: doc.security,
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(lower === "post" && doc.bodies ? { requestBody: { required: true, content: doc.bodies } } : {}),
        responses: withProblems(publicBaseUrl, lower === "get" ? withUrlCheck(String(answer.status), success) : { [String(answer.status)]: success }, errors),
      };
    }
    paths[path] = item;
  }
  return paths;
}

/**
 * Delivery reports of the codes we send (src/outbound/): verified exactly as the same provider's
 * inbound webhook, read into delivered / failed. The payloads are the providers' own
 * (docs/sending.md); the generic provider's is `{ messageId, status: "delivered" | "failed" }`.
 */
/**
 * One delivery report per provider as its documentation shows it, by content type, raw as the
 * provider sends it (from its folder's openapi.ts): the bodies test/unit/outbound/delivery-reports.test.ts
 * has each reader take as a delivered report.
 */
export const DELIVERY_REPORT_EXAMPLES: readonly { provider: string; contentType: string; example: string }[] = PROVIDER_DESCRIPTORS.flatMap((p) =>
  Object.entries(p.openapi.deliveryReport).map(([contentType, body]) => ({
    provider: p.name,
    contentType,
    example: typeof body.example === "string" ? body.example : JSON.stringify(body.example),
  })),
);

function deliveryReportPaths(publicBaseUrl: string): OpenApiDocument["paths"] {
  const paths: OpenApiDocument["paths"] = {};
  for (const adapter of providerAdapters().values()) {
    const name = adapter.name;
    const doc = providerDoc(name);
    const path = adapter.usesPathToken ? `/v1/delivery-reports/${name}/{token}` : `/v1/delivery-reports/${name}`;
    const errors: ErrorCode[] = [
      "WEBHOOK_PAYLOAD_INVALID",
      "WEBHOOK_SIGNATURE_MISSING",
      "WEBHOOK_SIGNATURE_INVALID",
      ...(doc.hasTimestamp ? (["WEBHOOK_TIMESTAMP_OUT_OF_RANGE"] as const) : []),
      "WEBHOOK_NOT_CONFIGURED",
      "PAYLOAD_TOO_LARGE",
      ...WEBHOOK_SERVICE_ERRORS,
    ];
    const item: OpenApiDocument["paths"][string] = {};
    for (const method of adapter.methods) {
      const lower = method.toLowerCase() as "get" | "post";
      const parameters = [
        ...(adapter.usesPathToken
          ? [{ name: "token", in: "path", required: true, description: `The secret path token: one of \`${name.toUpperCase()}_WEBHOOK_TOKEN\`.`, schema: { type: "string" } }]
          : []),
        ...(lower === "get"
          ? [{ name: "parameters", in: "query", required: true, style: "form", explode: true, description: "The provider's report parameters.", schema: { type: "object", additionalProperties: { type: "string" } } }]
          : []),
        ...(doc.headers ?? []),
      ];
      item[lower] = {
        tags: ["Delivery reports"],
        operationId: `deliveryReport_${name}_${lower}`,
        summary: `${doc.title}: delivery report (${method})`,
        description: [
          `Called by ${doc.title} about a code we sent, never by your app. Proof of origin, as for its inbound webhook: ${doc.proof}`,
          "Moves the message's delivery to `delivered` or `failed`; intermediate statuses and unknown messages are acknowledged and change nothing. Set-up: `docs/sending.md`.",
        ].join("\n\n"),
        security: doc.security,
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(lower === "post"
          ? { requestBody: { required: true, content: doc.deliveryReport } }
          : {}),
        responses: withProblems(publicBaseUrl, { "200": { description: "Read (applied, or nothing to apply).", headers: { "X-Request-Id": ref("headers", "XRequestId") } } }, errors),
      };
    }
    paths[path] = item;
  }
  return paths;
}

// ---- The document ----------------------------------------------------------------------------

export function buildOpenApiDocument(options: { publicBaseUrl: string }): OpenApiDocument {
  const base = options.publicBaseUrl.replace(/\/+$/, "");
  const problems = (own: Record<string, JsonObject>, codes: readonly ErrorCode[]) => withProblems(base, own, codes);
  const noStore = { "Cache-Control": { description: "Always `no-store`.", schema: { type: "string" } } };
  const readAccess = [{ secretKey: [] }, { pollToken: [] }, { publishableKey: [], pollToken: [] }];
  const keyErrors: ErrorCode[] = ["UNAUTHENTICATED", "RATE_LIMITED"];

  /** A document anyone may read (no security), answered 200 with one content type. */
  const publicDocument = (operationId: string, summary: string, description: string, answer: string, type: string, schema: JsonObject = { type: "string" }) => ({
    get: {
      tags: ["Documentation"],
      operationId,
      summary,
      description,
      security: [],
      responses: problems(
        { "200": { description: answer, headers: { "X-Request-Id": ref("headers", "XRequestId") }, content: { [type]: { schema } } } },
        SERVICE_ERRORS,
      ),
    },
  });

  /** What fallback and check share: a JSON body on one challenge, read with the secret key or its poll token. */
  const classicErrors: ErrorCode[] = [
    ...keyErrors,
    "FORBIDDEN",
    "INVALID_REQUEST",
    "INVALID_JSON",
    "VALIDATION_FAILED",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "NOT_FOUND",
    "CHALLENGE_NOT_PENDING",
    "CHANNEL_NOT_ALLOWED",
  ];

  const challengePaths: OpenApiDocument["paths"] = {
    "/v1/challenges": {
      post: {
        tags: ["Challenges"],
        operationId: "createChallenge",
        summary: "Create a challenge",
        description:
          "Draws a code for the phone and answers what the app shows the user. The same `Idempotency-Key` with the same body answers the same challenge (same id, code and poll token, header `Idempotent-Replayed: true`); with another body, 409.",
        security: [{ secretKey: [] }, { publishableKey: [] }],
        parameters: [ref("parameters", "IdempotencyKey")],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: ref("schemas", "CreateChallengeRequest"),
              // What "Try it out" sends: each creates a challenge as it is (test/browser/docs.test.ts).
              examples: CREATE_CHALLENGE_EXAMPLES,
            },
          },
        },
        responses: problems(
          {
            "201": jsonResponse("The new challenge (or, with a replayed `Idempotency-Key`, the same one again).", "CreatedChallenge", {
              ...noStore,
              "Idempotent-Replayed": ref("headers", "IdempotentReplayed"),
            }),
          },
          [
            ...keyErrors,
            "INVALID_REQUEST",
            "INVALID_JSON",
            "VALIDATION_FAILED",
            "IDEMPOTENCY_KEY_REUSED",
            "PAYLOAD_TOO_LARGE",
            "UNSUPPORTED_MEDIA_TYPE",
            "INVALID_PHONE",
            "PHONE_NOT_MOBILE",
            "COUNTRY_NOT_ALLOWED",
            "NO_VIRTUAL_NUMBER",
            "PHONE_LOCKED",
            "CHANNEL_NOT_ALLOWED",
            "OUTBOUND_CAP_REACHED",
            "OUTBOUND_PAUSED",
            ...SERVICE_ERRORS,
          ],
        ),
      },
    },
    "/v1/challenges/{id}": {
      get: {
        tags: ["Challenges"],
        operationId: "getChallenge",
        summary: "Read a challenge (poll or long-poll)",
        description:
          "With `waitSeconds`, holds the request until the status changes (or the challenge is consumed) or the seconds pass, then answers the current state: a long-poll that holds no database connection. Unknown ids, other apps' ids and wrong poll tokens all answer the same 404.",
        security: readAccess,
        parameters: [ref("parameters", "ChallengeId"), ref("parameters", "WaitSeconds")],
        responses: problems({ "200": jsonResponse("The challenge.", "ChallengeView", noStore) }, [...keyErrors, "INVALID_REQUEST", "VALIDATION_FAILED", "NOT_FOUND", ...SERVICE_ERRORS]),
      },
    },
    "/v1/challenges/{id}/events": {
      get: {
        tags: ["Challenges"],
        operationId: "streamChallengeEvents",
        summary: "Follow a challenge (Server-Sent Events)",
        description:
          "First the current state, then one `event: status` per change; `data:` is the JSON of `GET /v1/challenges/{id}` (schema `ChallengeView`). The stream ends after a final status; `: keep-alive` comments keep proxies from closing it.",
        security: readAccess,
        // On each operation, not on the path: Swagger UI 5 does not resolve a path-level $ref parameter.
        parameters: [ref("parameters", "ChallengeId")],
        responses: problems(
          {
            "200": {
              description: "A stream of `status` events.",
              headers: { "X-Request-Id": ref("headers", "XRequestId"), ...noStore },
              content: {
                "text/event-stream": {
                  schema: { type: "string", description: "`event: status` / `data: <ChallengeView JSON>` blocks." },
                  "x-event-data": ref("schemas", "ChallengeView"),
                  example:
                    'event: status\ndata: {"id":"chl_4Rb0dYlqf6cM5Zy1QeV2wX","status":"verified","purpose":"login","phoneMasked":"+33•••••••78","createdAt":"2031-05-04T10:00:00.000Z","expiresAt":"2031-05-04T10:05:00.000Z","verifiedAt":"2031-05-04T10:01:12.000Z","consumedAt":null,"attemptsRemaining":5}\n\n',
                },
              },
            },
          },
          [...keyErrors, "INVALID_REQUEST", "NOT_FOUND", ...SERVICE_ERRORS],
        ),
      },
    },
    "/v1/challenges/{id}/cancel": {
      post: {
        tags: ["Challenges"],
        operationId: "cancelChallenge",
        summary: "Cancel a pending challenge",
        security: readAccess,
        parameters: [ref("parameters", "ChallengeId")],
        responses: problems(
          { "200": jsonResponse("The challenge, now `cancelled`.", "ChallengeView", noStore) },
          [...keyErrors, "INVALID_REQUEST", "NOT_FOUND", "CHALLENGE_NOT_PENDING", ...SERVICE_ERRORS],
        ),
      },
    },
    "/v1/challenges/{id}/fallback": {
      post: {
        tags: ["Challenges"],
        operationId: "fallbackChallenge",
        summary: "Switch a pending reverse challenge to a sent code (SMS or e-mail)",
        description:
          "For a user who cannot send an SMS: a pending `sms_mo` challenge switches to `sms` (to the challenge's phone, from the app's number) or `email` (with `email`). A new code is made and sent, with a new lifetime; the old code no longer verifies. The app must allow the channel (`apps set-policy --channels`); the sending caps apply (429).",
        security: readAccess,
        parameters: [ref("parameters", "ChallengeId")],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: ref("schemas", "FallbackRequest"),
              examples: {
                sms: { summary: "Send the code by SMS", value: { channel: "sms" } },
                email: { summary: "Send the code by e-mail", value: { channel: "email", email: "jane@example.com" } },
              },
            },
          },
        },
        responses: problems(
          { "200": jsonResponse("The challenge, now on the outbound channel, with its `delivery`.", "ChallengeView", noStore) },
          [
            ...classicErrors,
            "PHONE_NOT_MOBILE",
            "COUNTRY_NOT_ALLOWED",
            "OUTBOUND_CAP_REACHED",
            "OUTBOUND_PAUSED",
            ...SERVICE_ERRORS,
          ],
        ),
      },
    },
    "/v1/challenges/{id}/check": {
      post: {
        tags: ["Challenges"],
        operationId: "checkChallengeCode",
        summary: "Check a typed code (sms and email challenges)",
        description:
          "The code the user typed. Compared as a keyed HMAC in constant time. A wrong code counts against the phone like a wrong code texted in the reverse direction (one counter per phone): 422 `WRONG_CODE` with `attemptsRemaining`; at 0 the phone's pending challenges fail and it is locked out. Limited per challenge, phone and client (429).",
        security: readAccess,
        parameters: [ref("parameters", "ChallengeId")],
        requestBody: {
          required: true,
          content: { "application/json": { schema: ref("schemas", "CheckRequest"), examples: { code: { summary: "The typed code", value: { code: "601836" } } } } },
        },
        responses: problems(
          { "200": jsonResponse("The challenge, now `verified`.", "ChallengeView", noStore) },
          [
            ...classicErrors,
            "WRONG_CODE",
            ...SERVICE_ERRORS,
          ],
        ),
      },
    },
    "/v1/challenges/{id}/consume": {
      post: {
        tags: ["Challenges"],
        operationId: "consumeChallenge",
        summary: "Consume a verification (once)",
        description: "From your backend, with the secret key: one verification authorises one action. 200 once for a verified challenge, 409 after that or if it is not verified.",
        security: [{ secretKey: [] }],
        parameters: [ref("parameters", "ChallengeId")],
        responses: problems(
          { "200": jsonResponse("The challenge, with `consumedAt` set.", "ChallengeView", noStore) },
          [...keyErrors, "FORBIDDEN", "INVALID_REQUEST", "NOT_FOUND", "CHALLENGE_NOT_VERIFIED", "CHALLENGE_ALREADY_CONSUMED", ...SERVICE_ERRORS],
        ),
      },
    },
  };

  const adminPaths: OpenApiDocument["paths"] = {
    "/v1/admin/stats": {
      get: {
        tags: ["Operations"],
        operationId: "adminStats",
        summary: "Verification statistics (the dashboard's data)",
        description:
          "Counts and series of challenges and inbound messages over a period (default: the last 24 hours), optionally filtered. Needs `Authorization: Bearer <ADMIN_TOKEN>`; answers 404 while `ADMIN_TOKEN` is not set (the dashboard is off).",
        security: [{ adminToken: [] }],
        parameters: queryParameters(statsQuery),
        responses: problems(
          {
            "200": {
              description: "The statistics the dashboard shows.",
              headers: { "X-Request-Id": ref("headers", "XRequestId"), ...noStore },
              content: { "application/json": { schema: { type: "object" } } },
            },
          },
          ["VALIDATION_FAILED", "UNAUTHENTICATED", "NOT_FOUND", ...SERVICE_ERRORS],
        ),
      },
    },
  };

  const operationPaths: OpenApiDocument["paths"] = {
    "/healthz": {
      get: {
        tags: ["Operations"],
        operationId: "liveness",
        summary: "Liveness",
        security: [],
        responses: problems({ "200": jsonResponse("The process is up.", "Health") }, SERVICE_ERRORS),
      },
    },
    "/readyz": {
      get: {
        tags: ["Operations"],
        operationId: "readiness",
        summary: "Readiness",
        description: "Ready when the database is reachable and the migrations are applied.",
        security: [],
        responses: problems(
          { "200": jsonResponse("Ready.", "Readiness"), "503": jsonResponse("Not ready: the database is unreachable or not migrated.", "Readiness") },
          SERVICE_ERRORS,
        ),
      },
    },
    "/metrics": {
      get: {
        tags: ["Operations"],
        operationId: "metrics",
        summary: "Prometheus metrics",
        description: "Public unless `METRICS_TOKEN` is set; then it needs `Authorization: Bearer <METRICS_TOKEN>`.",
        security: [{}, { metricsToken: [] }],
        responses: problems(
          {
            "200": {
              description: "Metrics in the Prometheus text format.",
              headers: { "X-Request-Id": ref("headers", "XRequestId") },
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
          ["UNAUTHENTICATED", ...SERVICE_ERRORS],
        ),
      },
    },
    "/openapi.json": publicDocument("openApiDocument", "This OpenAPI document", "The interactive reference at `/docs` reads it.", "The OpenAPI 3.1 document.", "application/json", { type: "object" }),
    "/docs/errors": publicDocument(
      "errorReference",
      "The error code reference",
      "`docs/errors.md` as a web page: one section per error code, whose anchor (`#invalid-phone`) each problem's `type` links to.",
      "HTML.",
      "text/html",
    ),
    "/docs/errors.md": publicDocument(
      "errorReferenceMarkdown",
      "The error code reference, as Markdown",
      "`docs/errors.md` as it is in the repository.",
      "Markdown.",
      "text/markdown",
    ),
  };

  return {
    openapi: "3.1.0",
    info: {
      title: "reverse-otp",
      version: VERSION,
      summary: "Phone-number verification by reverse OTP: the user texts the code to your virtual number.",
      description: [
        "Your app creates a **challenge** (`POST /v1/challenges`) and shows the user the code and the number to text; the user's SMS reaches an **inbound webhook** through your SMS provider; your app learns the result by polling, long-polling or Server-Sent Events, and your backend **consumes** the verification once.",
        "",
        "**Authentication**: `Authorization: Bearer <key>`. `sk_…` secret keys are for your servers; `pk_…` publishable keys may ship in a mobile app (create challenges, and read them only with the challenge's `X-Poll-Token`).",
        "",
        `**Errors** are \`application/problem+json\` (RFC 9457) with a stable \`code\`; each code's \`type\` links to its section of the [error reference](${base}/docs/errors). Every answer carries \`X-Request-Id\`. Rate limits answer 429 with \`Retry-After\`. Unknown JSON fields are refused (400). Dates are ISO 8601 UTC.`,
      ].join("\n"),
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: base || "/", description: "PUBLIC_BASE_URL" }],
    tags: [
      { name: "Challenges", description: "Create a challenge, follow it, cancel or consume it." },
      {
        name: "Inbound webhooks",
        description: `Called by the SMS providers. Each checks the provider's signature (or secret path token) on the raw bytes and the URL built from \`PUBLIC_BASE_URL\`, before parsing; forged, unsigned, tampered or stale requests get 401/403 and write nothing; a provider without its secret refuses every delivery, answered exactly as a forged request (so the answers do not tell which providers are set up; the log line says \`WEBHOOK_NOT_CONFIGURED\`). An unknown provider name answers 404 ${codeLink("UNKNOWN_PROVIDER", base)}.`,
      },
      {
        name: "Delivery reports",
        description: "Called by the SMS providers about the codes we send (the classic direction), verified like the inbound webhooks.",
      },
      { name: "Operations", description: "Health, readiness and metrics." },
      { name: "Documentation", description: "This document and the error reference." },
    ],
    paths: { ...challengePaths, ...webhookPaths(base), ...deliveryReportPaths(base), ...adminPaths, ...operationPaths },
    webhooks: {
      challengeFinished: {
        post: {
          summary: "Callback: a challenge reached a final status",
          description:
            "Sent to the app's callback URL, signed per Standard Webhooks with the app's `whsec_…` callback secret (`webhook-id` stable per event, `webhook-timestamp`, `webhook-signature`). Answer any 2xx within 10 seconds; anything else is retried for about 23.6 hours. Drop repeats by `webhook-id`.",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["type", "data"],
                  properties: {
                    type: { type: "string", enum: ["challenge.verified", "challenge.failed", "challenge.expired", "challenge.cancelled"] },
                    data: ref("schemas", "ChallengeView"),
                  },
                },
              },
            },
          },
          responses: { "2XX": { description: "Received." } },
        },
      },
    },
    components: {
      schemas: componentSchemas(base),
      parameters: {
        ChallengeId: {
          name: "id",
          in: "path",
          required: true,
          description: "The challenge's id (`chl_…`).",
          schema: { ...parameterSchema(challengeIdParam), examples: ["chl_4Rb0dYlqf6cM5Zy1QeV2wX"] },
        },
        WaitSeconds: {
          name: "waitSeconds",
          in: "query",
          required: false,
          description: "Long-poll: hold the request until the status changes or this many seconds pass (0, the default, answers at once).",
          schema: parameterSchema(waitSecondsParam),
        },
        IdempotencyKey: {
          name: "Idempotency-Key",
          in: "header",
          required: false,
          description: "Makes a retried creation safe: the same key with the same body answers the same challenge; with another body, 409 `IDEMPOTENCY_KEY_REUSED`.",
          schema: parameterSchema(idempotencyKeyHeader),
        },
      },
      headers: {
        XRequestId: { description: "Id of this request, also in the service's logs and in problems' `requestId`.", schema: { type: "string" } },
        RetryAfter: { description: "Seconds to wait before trying again.", schema: { type: "integer", minimum: 1 } },
        IdempotentReplayed: { description: "`true` when the answer replays an earlier request with the same `Idempotency-Key`.", schema: { type: "string", enum: ["true"] } },
      },
      securitySchemes: {
        secretKey: { type: "http", scheme: "bearer", bearerFormat: "sk_…", description: "A secret key, for your servers: full access to the app's challenges." },
        publishableKey: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "pk_…",
          description: "A publishable key, safe in a mobile app: creates challenges; reads them only with the challenge's poll token.",
        },
        pollToken: { type: "apiKey", in: "header", name: "X-Poll-Token", description: "The `pollToken` of the challenge's creation." },
        metricsToken: { type: "http", scheme: "bearer", description: "One of `METRICS_TOKEN`, when set." },
        adminToken: { type: "http", scheme: "bearer", description: "One of `ADMIN_TOKEN` (the dashboard's tokens)." },
        standardWebhooks: {
          type: "apiKey",
          in: "header",
          name: "webhook-signature",
          description: 'Standard Webhooks: `v1,<base64 HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<raw body>")>`, several separated by spaces; secret `GENERIC_WEBHOOK_SECRET` (`whsec_…`).',
        },
        twilioSignature: { type: "apiKey", in: "header", name: "X-Twilio-Signature", description: "Base64 HMAC-SHA1 (`TWILIO_AUTH_TOKEN`) over the URL and the sorted POST parameters." },
        vonageSignedParameters: {
          type: "apiKey",
          in: "query",
          name: "sig",
          description: "Vonage SMS API signed webhooks: `sig` over every other parameter (in the query for GET, in the body for POST), with `VONAGE_SIGNATURE_SECRET` and `VONAGE_SIGNATURE_METHOD`.",
        },
        vonageJwt: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "Vonage Messages API: HS256 JWT (`VONAGE_SIGNATURE_SECRET`) with `payload_hash`." },
        plivoSignature: {
          type: "apiKey",
          in: "header",
          name: "X-Plivo-Signature-V3",
          description: "Base64 HMAC-SHA256 (`PLIVO_AUTH_TOKEN`) over the URL, the parameters and `X-Plivo-Signature-V3-Nonce`; `X-Plivo-Signature-Ma-V3` is accepted too.",
        },
        telnyxSignature: { type: "apiKey", in: "header", name: "telnyx-signature-ed25519", description: "Base64 Ed25519 signature of `telnyx-timestamp|body`, checked with `TELNYX_PUBLIC_KEY`." },
        birdSignature: { type: "apiKey", in: "header", name: "messagebird-signature", description: "Base64 HMAC-SHA256 (`BIRD_SIGNING_KEY`) over the timestamp, the URL and the body's SHA-256." },
        sinchSignature: {
          type: "apiKey",
          in: "header",
          name: "x-sinch-webhook-signature",
          description: "Base64 HMAC-SHA256 (`SINCH_WEBHOOK_SECRET`) over the raw body, `.`, the nonce, `.`, the timestamp.",
        },
        messageBirdJwt: { type: "apiKey", in: "header", name: "MessageBird-Signature-JWT", description: "JWT signed with `MESSAGEBIRD_SIGNING_KEY` over the URL and the body." },
        messageBirdSignature: {
          type: "apiKey",
          in: "header",
          name: "MessageBird-Signature",
          description: "Older scheme: Base64 HMAC-SHA256 (`MESSAGEBIRD_SIGNING_KEY`) over `MessageBird-Request-Timestamp`, the query and the body's SHA-256.",
        },
      },
    },
  };
}
