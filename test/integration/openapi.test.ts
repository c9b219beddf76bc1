// The OpenAPI document: a valid OpenAPI 3.1 document, in step with the routes Express really serves
// (both ways), every error code linked to its section of docs/errors.md, and real answers of the
// service valid against the schemas it documents. Also the /docs page: local assets only.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020Import from "ajv/dist/2020.js";
import addFormatsImport from "ajv-formats";
import type { Express } from "express";
import type { Response } from "supertest";
import { problemType } from "../../src/http/problem.js";
import { buildOpenApiDocument, providerAdapters, type JsonObject, type OpenApiDocument } from "../../src/openapi/openapi.js";
import { DOCS_CSP } from "../../src/openapi/openapi-routes.js";
import { ERROR_CODES, type ErrorCode } from "../../src/shared/errors.js";
import { CONTENT_SECURITY_POLICY } from "../../src/web/web.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";

// ajv and ajv-formats are CommonJS modules with a `default` export.
const Ajv2020 = ((Ajv2020Import as unknown as { default?: unknown }).default ?? Ajv2020Import) as unknown as typeof Ajv2020Import.default;
const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ?? addFormatsImport) as unknown as typeof addFormatsImport.default;

const METHODS = ["get", "post", "put", "patch", "delete"] as const;
type Method = (typeof METHODS)[number];

/**
 * Routes that are not part of the API and so not in the document: pages for people and their
 * assets. Everything else Express serves must be documented, and nothing under /v1/ may be
 * listed here.
 */
const NOT_IN_DOCUMENT: readonly { path: RegExp; why: string }[] = [
  { path: /^\/docs$/, why: "the interactive API reference (HTML)" },
  { path: /^\/docs\/assets\//, why: "its scripts, styles and icons" },
  { path: /^\/$/, why: "the demo page (HTML)" },
  { path: /^\/demo(\/|$)/, why: "the demo page's own endpoints (off unless DEMO_ENABLED; they act with a key kept on the server)" },
  { path: /^\/web(\/|$)/, why: "static files of the HTML pages" },
  { path: /^\/dashboard(\/|$)/, why: "the operators' dashboard (HTML)" },
];

let h: Harness;
let doc: OpenApiDocument;
let served: OpenApiDocument;
const BASE = "https://otp.example.test"; // the harness's PUBLIC_BASE_URL

beforeAll(async () => {
  h = await startHarness();
  served = (await h.http().get("/openapi.json").expect(200)).body as OpenApiDocument;
  doc = buildOpenApiDocument({ publicBaseUrl: h.config.publicBaseUrl });
});
afterAll(async () => {
  await h.close();
});

// ---- Helpers -----------------------------------------------------------------------------------

type ExpressRoute = { method: string; path: string };
type Layer = { route?: { path: unknown; methods: Record<string, boolean> }; handle?: { stack?: Layer[] }; rawPath?: unknown };

/** Every route of the Express app, with its full path, from the router stacks (Express 5 / router 2). */
function expressRoutes(app: Express): ExpressRoute[] {
  const out: ExpressRoute[] = [];
  const paths = (raw: unknown): string[] => {
    const list = Array.isArray(raw) ? raw.flat(Infinity) : [raw];
    return list.map((p) => {
      if (typeof p !== "string") throw new Error(`cannot read the route path ${String(p)}: give it a string path, or teach this test`);
      return p;
    });
  };
  const join = (prefix: string, path: string) => (prefix + (path === "/" ? "" : path)).replace(/\/{2,}/g, "/") || "/";
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const path of paths(layer.route.path)) {
          for (const method of Object.keys(layer.route.methods)) {
            if (method !== "_all") out.push({ method, path: join(prefix, path) });
            else for (const m of METHODS) out.push({ method: m, path: join(prefix, path) });
          }
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        for (const mount of paths(layer.rawPath ?? "/")) walk(layer.handle.stack, join(prefix, mount));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, "");
  return out;
}

/** The regular expression of an Express 5 path (`:name` parameters only). */
function expressPathRegExp(path: string): RegExp {
  if (/[*?{}()]/.test(path)) throw new Error(`route ${path}: wildcards and optional parts are not understood by this test yet`);
  const source = path
    .split("/")
    .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment.replace(/[.+^$|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}/?$`);
}

/** A concrete URL path for an OpenAPI path template. */
const concrete = (template: string) => template.replace(/\{([^}]+)\}/g, "sample-$1");

function documentedOperations(d: OpenApiDocument): { method: Method; path: string; operation: JsonObject & { responses: Record<string, JsonObject> } }[] {
  return Object.entries(d.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method, path, operation: item[method]! })),
  );
}

/** RFC 6901 pointer into the document. */
const pointer = (...segments: string[]) => `openapi.json#/${segments.map((s) => s.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;

function compileAgainst(d: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(d as unknown as object, "openapi.json");
  return ajv;
}

type Ajv = ReturnType<typeof compileAgainst>;

function expectValid(ajv: Ajv, ref: string, value: unknown) {
  const validate = ajv.getSchema(ref);
  if (!validate) throw new Error(`no schema at ${ref}`);
  const ok = validate(value);
  // The errors in the message make a failure readable.
  expect({ ref, valid: ok, errors: ok ? [] : validate.errors }).toEqual({ ref, valid: true, errors: [] });
}

/** Checks an answer against the documented response of its status: status, content type, headers, body. */
function expectDocumented(ajv: Ajv, d: OpenApiDocument, path: string, method: Method, res: Response) {
  const operation = d.paths[path]?.[method];
  if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
  const status = String(res.status);
  expect({ operation: `${method.toUpperCase()} ${path}`, documentedStatuses: Object.keys(operation.responses) }).toEqual({
    operation: `${method.toUpperCase()} ${path}`,
    documentedStatuses: expect.arrayContaining([status]),
  });
  const response = operation.responses[status] as { content?: Record<string, JsonObject>; headers?: Record<string, unknown> };
  for (const name of Object.keys(response.headers ?? {})) {
    // Every documented header is sent, except those that only some answers of the status carry.
    if (["Retry-After", "Idempotent-Replayed"].includes(name)) continue;
    expect({ status, header: name, sent: res.headers[name.toLowerCase()] !== undefined }).toEqual({ status, header: name, sent: true });
  }
  if (!response.content) {
    expect(res.text ?? "").toBe("");
    return;
  }
  const type = String(res.headers["content-type"] ?? "").split(";")[0]!.trim();
  expect(Object.keys(response.content)).toContain(type);
  if (type.endsWith("json")) expectValid(ajv, pointer("paths", path, method, "responses", status, "content", type, "schema"), res.body);
}

// ---- The document itself ---------------------------------------------------------------------

describe("the OpenAPI document", () => {
  test("is valid OpenAPI 3.1, and every $ref resolves", async () => {
    const validator = new Validator();
    // The validator resolves $refs in place: give it a copy.
    const result = await validator.validate(structuredClone(served) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  test("every schema in it is valid JSON Schema 2020-12 and compiles", () => {
    const ajv = compileAgainst(served);
    for (const [name, schema] of Object.entries(served.components.schemas)) {
      expect({ name, valid: ajv.validateSchema(schema) }).toEqual({ name, valid: true });
      expect(ajv.getSchema(pointer("components", "schemas", name))).toBeDefined();
    }
    for (const { method, path, operation } of documentedOperations(served)) {
      expect({ operation: `${method} ${path}`, hasResponses: Object.keys(operation.responses).length > 0 }).toEqual({
        operation: `${method} ${path}`,
        hasResponses: true,
      });
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const type of Object.keys((response.content as JsonObject | undefined) ?? {})) {
          expect(ajv.getSchema(pointer("paths", path, method, "responses", status, "content", type, "schema"))).toBeDefined();
        }
      }
    }
  });

  test("every example in it is valid against its schema", () => {
    const ajv = compileAgainst(served);
    let count = 0;
    for (const { method, path, operation } of documentedOperations(served)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const [type, media] of Object.entries((response.content as Record<string, { examples?: Record<string, { value: unknown }> }> | undefined) ?? {})) {
          for (const example of Object.values(media.examples ?? {})) {
            expectValid(ajv, pointer("paths", path, method, "responses", status, "content", type, "schema"), example.value);
            count++;
          }
        }
      }
    }
    expect(count).toBeGreaterThan(50);
  });

  test("every request body has an example, valid against its schema (what Swagger's Try it out sends)", () => {
    const ajv = compileAgainst(served);
    let count = 0;
    for (const { method, path, operation } of documentedOperations(served)) {
      const content = (operation.requestBody as { content?: Record<string, { example?: unknown; examples?: Record<string, { value: unknown }> }> } | undefined)?.content;
      for (const [type, media] of Object.entries(content ?? {})) {
        const examples = [...(media.example !== undefined ? [media.example] : []), ...Object.values(media.examples ?? {}).map((e) => e.value)];
        expect({ operation: `${method} ${path} ${type}`, examples: examples.length > 0 }).toEqual({ operation: `${method} ${path} ${type}`, examples: true });
        for (const example of examples) {
          expectValid(ajv, pointer("paths", path, method, "requestBody", "content", type, "schema"), example);
          count++;
        }
      }
    }
    expect(count).toBeGreaterThanOrEqual(15);
  });

  test("each provider's body example is an inbound SMS its adapter reads", () => {
    const registry = providerAdapters(); // parsing does not look at the secrets
    let count = 0;
    for (const [path, item] of Object.entries(served.paths)) {
      const name = /^\/v1\/inbound\/([a-z]+)/.exec(path)?.[1];
      const content = (item.post?.requestBody as { content?: Record<string, { example?: Record<string, unknown> }> } | undefined)?.content;
      if (!name || !content) continue;
      for (const [type, media] of Object.entries(content)) {
        const rawBody = Buffer.from(type === "application/json" ? JSON.stringify(media.example) : new URLSearchParams(media.example as Record<string, string>).toString());
        const messages = registry.get(name)!.parse({
          method: "POST",
          publicUrl: `${BASE}${path.replace("{token}", "t".repeat(32))}${name === "bird" ? "?number=%2B447400000100" : ""}`,
          // Vonage tells its Messages API (JSON) apart by its Bearer JWT.
          headers: { "content-type": type, ...(name === "vonage" && type === "application/json" ? { authorization: "Bearer x.y.z" } : {}) },
          rawBody,
          receivedAt: new Date("2026-11-22T04:00:00Z"),
        });
        expect({ provider: name, type, messages: messages.map((m) => [m.from.replace(/^\+/, ""), m.to.replace(/^\+/, ""), m.text]) }).toEqual({
          provider: name,
          type,
          messages: [["33612345678", "447400000100", "601836 is my Acme code to log in."]],
        });
        count++;
      }
    }
    expect(count).toBe(12);
  });

  test("each example of POST /v1/challenges creates a challenge as it is", async () => {
    const app = await h.createApp();
    const content = (served.paths["/v1/challenges"]!.post!.requestBody as { content: Record<string, { examples: Record<string, { value: object }> }> }).content;
    const examples = Object.entries(content["application/json"]!.examples);
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const [name, { value }] of examples) {
      const res = await h.http().post("/v1/challenges").set("Authorization", `Bearer ${app.sk}`).send(value);
      expect({ name, status: res.status, body: res.status === 201 ? "" : res.body }).toEqual({ name, status: 201, body: "" });
    }
  });

  test("/openapi.json serves the document built from the code, as JSON anyone may read", async () => {
    const res = await h.http().get("/openapi.json");
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
    expect(served.servers[0]).toMatchObject({ url: BASE });
  });

  test("the challenge request and answer schemas are the ones the routes use", () => {
    const schemas = served.components.schemas;
    expect(schemas.CreateChallengeRequest).toMatchObject({ additionalProperties: false, required: ["phone", "purpose"] });
    expect(Object.keys(schemas.CreateChallengeRequest!.properties as JsonObject)).toEqual(["phone", "country", "purpose", "context", "locale", "channel", "email"]);
    expect(Object.keys(schemas.ChallengeView!.properties as JsonObject)).toEqual([
      "id",
      "status",
      "purpose",
      "phoneMasked",
      "createdAt",
      "expiresAt",
      "verifiedAt",
      "consumedAt",
      "attemptsRemaining",
      "channel",
      "delivery",
    ]);
    expect(Object.keys(schemas.CreatedChallenge!.properties as JsonObject).sort()).toEqual(
      ["id", "status", "purpose", "phoneMasked", "code", "smsTo", "smsBody", "smsUri", "expiresAt", "pollToken", "attemptsRemaining", "channel", "delivery"].sort(),
    );
    const get = served.paths["/v1/challenges/{id}"]!.get!;
    expect(get.parameters).toEqual([{ $ref: "#/components/parameters/ChallengeId" }, { $ref: "#/components/parameters/WaitSeconds" }]);
    expect(served.components.parameters.WaitSeconds).toMatchObject({ in: "query", schema: { type: "integer", minimum: 0, maximum: 30 } });
    expect(served.paths["/v1/challenges"]!.post!.parameters).toEqual([{ $ref: "#/components/parameters/IdempotencyKey" }]);
    expect(served.components.parameters.IdempotencyKey).toMatchObject({ in: "header", name: "Idempotency-Key", schema: { maxLength: 255 } });
    expect(Object.keys(served.paths["/v1/challenges/{id}/events"]!.get!.responses["200"]!.content as JsonObject)).toEqual(["text/event-stream"]);
  });

  test("security: keys, the poll token and each provider's proof of origin", () => {
    const schemes = served.components.securitySchemes;
    expect(schemes.secretKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(schemes.publishableKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(schemes.pollToken).toMatchObject({ type: "apiKey", in: "header", name: "X-Poll-Token" });
    expect(served.paths["/v1/challenges"]!.post!.security).toEqual([{ secretKey: [] }, { publishableKey: [] }]);
    expect(served.paths["/v1/challenges/{id}/consume"]!.post!.security).toEqual([{ secretKey: [] }]);
    expect(served.paths["/v1/challenges/{id}"]!.get!.security).toEqual(expect.arrayContaining([{ secretKey: [] }, { pollToken: [] }]));
    for (const { path, method, operation } of documentedOperations(served).filter((o) => o.path.startsWith("/v1/inbound/"))) {
      const security = operation.security as Record<string, string[]>[];
      const viaToken = path.endsWith("/{token}");
      const urlCheck = String(operation.operationId).endsWith("_url_check");
      const unauthenticated = security.length === 0 || security.some((requirement) => Object.keys(requirement).length === 0);
      // Signed providers name their scheme on deliveries (a URL check of theirs needs no proof);
      // path-token providers are authenticated by the path, one that also offers a signature
      // (Sinch) names it as the alternative to an empty requirement.
      const expected = viaToken ? true : urlCheck;
      expect({ path, method, urlCheck, unauthenticated }).toEqual({ path, method, urlCheck, unauthenticated: expected });
      if (!viaToken && !urlCheck) expect(security.length).toBeGreaterThan(0);
      for (const requirement of security) for (const name of Object.keys(requirement)) expect(schemes[name]).toBeDefined();
    }
  });

  test("429 answers (rate limits, pending limit) are documented with Retry-After", () => {
    for (const path of ["/v1/challenges", "/v1/challenges/{id}"]) {
      const method = path === "/v1/challenges" ? "post" : "get";
      const tooMany = served.paths[path]![method]!.responses["429"] as { headers: JsonObject; content: JsonObject };
      expect(tooMany.headers["Retry-After"]).toEqual({ $ref: "#/components/headers/RetryAfter" });
      expect(JSON.stringify(tooMany.content)).toContain("RATE_LIMITED");
    }
    expect(JSON.stringify(served.paths["/v1/challenges"]!.post!.responses["429"])).toContain("RATE_LIMITED");
  });
});

// ---- Error codes -------------------------------------------------------------------------------

describe("error codes", () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  test("the problem schema's code lists every code of the registry", () => {
    expect(served.components.schemas.ErrorCode).toMatchObject({ type: "string", enum: codes });
    expect(served.components.schemas.Problem).toMatchObject({
      properties: { code: { $ref: "#/components/schemas/ErrorCode" } },
      required: expect.arrayContaining(["type", "title", "status", "detail", "code"]),
    });
  });

  test.each(codes)("%s is linked to its section of docs/errors.md", (code) => {
    const link = problemType(code, BASE);
    expect(link).toBe(`${BASE}/docs/errors#${code.toLowerCase().replace(/_/g, "-")}`);
    const text = JSON.stringify(served);
    expect(text).toContain(`[\`${code}\`](${link})`);
    expect((served.components.schemas.ErrorCode!["x-enumDescriptions"] as Record<string, string>)[code]).toContain(link);
    expect(readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8")).toMatch(new RegExp(`^## ${code}$`, "m"));
  });

  test("each error response is application/problem+json, narrowed to codes of its own status, each linked", () => {
    const used = new Set<string>();
    for (const { method, path, operation } of documentedOperations(served)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const problem = (response.content as Record<string, { schema: { allOf?: JsonObject[] } }> | undefined)?.["application/problem+json"];
        if (!problem) {
          expect({ method, path, status, isError: Number(status) >= 400 && !(path === "/readyz" && status === "503") }).toMatchObject({ isError: false });
          continue;
        }
        const enumOf = ((problem.schema.allOf?.[1]?.properties as { code: { enum: ErrorCode[] } }).code.enum ?? []) as ErrorCode[];
        expect(problem.schema.allOf?.[0]).toEqual({ $ref: "#/components/schemas/Problem" });
        expect(enumOf.length).toBeGreaterThan(0);
        for (const code of enumOf) {
          used.add(code);
          expect({ method, path, code, status: ERROR_CODES[code].status }).toEqual({ method, path, code, status: Number(status) });
          expect(String(response.description)).toContain(`[\`${code}\`](${problemType(code, BASE)})`);
        }
      }
    }
    // Codes no documented path can answer are explained where they arise (other paths, other
    // methods; WEBHOOK_NOT_CONFIGURED only in logs and metrics, and from the demo page's routes).
    const unused = codes.filter((c) => !used.has(c)).sort();
    expect(unused).toEqual(["METHOD_NOT_ALLOWED", "UNKNOWN_PROVIDER"]);
  });
});

// ---- Routes ↔ document -------------------------------------------------------------------------

describe("the document matches the routes Express serves", () => {
  test("every route of the app is documented with its method, or listed as a page outside the API", () => {
    const routes = expressRoutes(h.app);
    expect(routes.length).toBeGreaterThan(10);
    const operations = documentedOperations(served);
    const undocumented = routes.filter((route) => {
      if (route.method === "head" || route.method === "options") return false;
      const regexp = expressPathRegExp(route.path);
      return !operations.some((o) => o.method === route.method && regexp.test(concrete(o.path)));
    });
    const unexplained = undocumented.filter((r) => r.path.startsWith("/v1/") || !NOT_IN_DOCUMENT.some((x) => x.path.test(r.path)));
    expect(unexplained.map((r) => `${r.method.toUpperCase()} ${r.path}`)).toEqual([]);
  });

  test("every documented operation is a route of the app, with the same method and parameter names", () => {
    const routes = expressRoutes(h.app);
    for (const { method, path } of documentedOperations(served)) {
      const matching = routes.filter((r) => r.method === method && expressPathRegExp(r.path).test(concrete(path)));
      expect({ operation: `${method.toUpperCase()} ${path}`, served: matching.length > 0 }).toEqual({ operation: `${method.toUpperCase()} ${path}`, served: true });
      // A parameter of the document is a parameter of the route, under the same name.
      const documented = path.split("/");
      const first = matching[0]!.path.split("/");
      documented.forEach((segment, i) => {
        const name = /^\{(.+)\}$/.exec(segment)?.[1];
        if (name) expect({ path, segment: first[i] }).toEqual({ path, segment: `:${name}` });
      });
    }
  });

  test("every documented path parameter is declared, and no declared one is missing from the path", () => {
    for (const [path, item] of Object.entries(served.paths)) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const method of METHODS.filter((m) => item[m])) {
        const resolve = (p: JsonObject) =>
          typeof p.$ref === "string" ? (served.components.parameters[p.$ref.split("/").pop()!] as JsonObject) : p;
        const declared = [...((item.parameters as JsonObject[] | undefined) ?? []), ...((item[method]!.parameters as JsonObject[] | undefined) ?? [])]
          .map(resolve)
          .filter((p) => p.in === "path")
          .map((p) => p.name);
        expect({ path, method, declared: declared.sort() }).toEqual({ path, method, declared: [...inPath].sort() });
      }
    }
  });

  test("each provider's webhook is documented with exactly the methods it accepts (others: 405)", async () => {
    for (const [path, item] of Object.entries(served.paths).filter(([p]) => p.startsWith("/v1/inbound/"))) {
      for (const method of ["get", "post"] as const) {
        if (item[method]) continue;
        const res = await h.http()[method](concrete(path));
        expect({ path, method, status: res.status, code: res.body.code }).toEqual({ path, method, status: 405, code: "METHOD_NOT_ALLOWED" });
      }
    }
  });

  test("a request to every documented operation gets a documented status, content type, headers and body", async () => {
    const ajv = compileAgainst(served);
    for (const { method, path } of documentedOperations(served)) {
      const url = concrete(path).replace("sample-id", "chl_0000000000000000000000");
      const res = await h.http()[method](url);
      expectDocumented(ajv, served, path, method, res);
    }
  });
});

// ---- Real answers against their schemas ------------------------------------------------------

describe("real answers match their documented schemas", () => {
  let ajv: Ajv;
  beforeAll(() => {
    ajv = compileAgainst(served);
  });

  test("create (201, and an idempotent replay), read (200), long-poll, cancel, consume", async () => {
    const app = await h.createApp();
    const created = await h.createChallenge(app.pk, { phone: "06 12 34 56 78", country: "FR", purpose: "login" }, { "Idempotency-Key": "openapi-1" });
    expect(created.status).toBe(201);
    expectDocumented(ajv, served, "/v1/challenges", "post", created);
    const replay = await h.createChallenge(app.pk, { phone: "06 12 34 56 78", country: "FR", purpose: "login" }, { "Idempotency-Key": "openapi-1" });
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    expectDocumented(ajv, served, "/v1/challenges", "post", replay);
    const transaction = await h.createChallenge(app.sk, {
      phone: PHONES.de,
      purpose: "transaction",
      context: { amount: 49.9, currency: "EUR", merchant: "Shop" },
      locale: "de-DE",
    });
    expectDocumented(ajv, served, "/v1/challenges", "post", transaction);

    const c = created.body as { id: string; pollToken: string; smsBody: string; smsTo: string };
    const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
    expect(read.status).toBe(200);
    expectDocumented(ajv, served, "/v1/challenges/{id}", "get", read);

    const sms = await h.sendSms({ from: PHONES.fr, to: c.smsTo, text: c.smsBody });
    expect(sms.status).toBe(200);
    expectDocumented(ajv, served, "/v1/inbound/generic", "post", sms);
    expect(sms.body.results[0].outcome).toBe("verified");

    const longPoll = await h.http().get(`/v1/challenges/${c.id}?waitSeconds=5`).set("Authorization", `Bearer ${app.sk}`);
    expect(longPoll.body.status).toBe("verified");
    expectDocumented(ajv, served, "/v1/challenges/{id}", "get", longPoll);

    const consumed = await h.http().post(`/v1/challenges/${c.id}/consume`).set("Authorization", `Bearer ${app.sk}`);
    expect(consumed.status).toBe(200);
    expectDocumented(ajv, served, "/v1/challenges/{id}/consume", "post", consumed);
    const again = await h.http().post(`/v1/challenges/${c.id}/consume`).set("Authorization", `Bearer ${app.sk}`);
    expect(again.body.code).toBe("CHALLENGE_ALREADY_CONSUMED");
    expectDocumented(ajv, served, "/v1/challenges/{id}/consume", "post", again);
    const byPk = await h.http().post(`/v1/challenges/${c.id}/consume`).set("Authorization", `Bearer ${app.pk}`);
    expect(byPk.body.code).toBe("FORBIDDEN");
    expectDocumented(ajv, served, "/v1/challenges/{id}/consume", "post", byPk);

    const t = transaction.body as { id: string };
    const cancelled = await h.http().post(`/v1/challenges/${t.id}/cancel`).set("Authorization", `Bearer ${app.sk}`);
    expect(cancelled.status).toBe(200);
    expectDocumented(ajv, served, "/v1/challenges/{id}/cancel", "post", cancelled);
    const cancelAgain = await h.http().post(`/v1/challenges/${t.id}/cancel`).set("Authorization", `Bearer ${app.sk}`);
    expect(cancelAgain.body.code).toBe("CHALLENGE_NOT_PENDING");
    expectDocumented(ajv, served, "/v1/challenges/{id}/cancel", "post", cancelAgain);
  });

  test("the event stream is text/event-stream whose data are documented challenge views", async () => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.sk, { phone: PHONES.gb, purpose: "signup" })).body as { id: string };
    await h.http().post(`/v1/challenges/${c.id}/cancel`).set("Authorization", `Bearer ${app.sk}`).expect(200);
    // A cancelled challenge is final: the stream sends its state and ends.
    const res = await h
      .http()
      .get(`/v1/challenges/${c.id}/events`)
      .set("Authorization", `Bearer ${app.sk}`)
      .buffer(true)
      .parse((stream, done) => {
        let text = "";
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => (text += chunk));
        stream.on("end", () => done(null, text));
      });
    expectDocumented(ajv, served, "/v1/challenges/{id}/events", "get", res);
    const media = served.paths["/v1/challenges/{id}/events"]!.get!.responses["200"]!.content as Record<string, JsonObject>;
    expect(media["text/event-stream"]!["x-event-data"]).toEqual({ $ref: "#/components/schemas/ChallengeView" });
    const events = String(res.body)
      .split("\n\n")
      .filter((block) => block.startsWith("event: status"))
      .map((block) => JSON.parse(block.split("\n").find((l) => l.startsWith("data: "))!.slice(6)) as unknown);
    expect(events).toHaveLength(1);
    for (const data of events) expectValid(ajv, pointer("components", "schemas", "ChallengeView"), data);
  });

  test("errors: 404, 400 validation, 400 invalid JSON, 401, 415, 422 and 429 with Retry-After", async () => {
    const app = await h.createApp();
    const notFound = await h.http().get("/v1/challenges/chl_0000000000000000000000").set("Authorization", `Bearer ${app.sk}`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expectDocumented(ajv, served, "/v1/challenges/{id}", "get", notFound);

    const invalid = await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login", surprise: true });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe("VALIDATION_FAILED");
    expect(invalid.body.errors.length).toBeGreaterThan(0);
    expectDocumented(ajv, served, "/v1/challenges", "post", invalid);

    const badWait = await h.http().get("/v1/challenges/chl_0000000000000000000000?waitSeconds=99").set("Authorization", `Bearer ${app.sk}`);
    expect(badWait.body.code).toBe("VALIDATION_FAILED");
    expectDocumented(ajv, served, "/v1/challenges/{id}", "get", badWait);

    const badJson = await h.http().post("/v1/challenges").set("Authorization", `Bearer ${app.sk}`).set("Content-Type", "application/json").send("{");
    expect(badJson.body.code).toBe("INVALID_JSON");
    expectDocumented(ajv, served, "/v1/challenges", "post", badJson);

    const badKey = await h.createChallenge("sk_nope", { phone: PHONES.fr, purpose: "login" });
    expect(badKey.status).toBe(401);
    expectDocumented(ajv, served, "/v1/challenges", "post", badKey);

    const wrongType = await h.http().post("/v1/challenges").set("Authorization", `Bearer ${app.sk}`).set("Content-Type", "text/plain").send("phone");
    expect(wrongType.status).toBe(415);
    expectDocumented(ajv, served, "/v1/challenges", "post", wrongType);

    const landline = await h.createChallenge(app.sk, { phone: "+33142685300", purpose: "login" });
    expect(landline.status).toBe(422);
    expectDocumented(ajv, served, "/v1/challenges", "post", landline);

    const reused = await h.createChallenge(app.sk, { phone: PHONES.fr2, purpose: "login" }, { "Idempotency-Key": "openapi-2" });
    expect(reused.status).toBe(201);
    const conflict = await h.createChallenge(app.sk, { phone: PHONES.fr2, purpose: "signup" }, { "Idempotency-Key": "openapi-2" });
    expect(conflict.body.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expectDocumented(ajv, served, "/v1/challenges", "post", conflict);

    // A client's per-phone hourly limit (an app override keeps this quick): 429 with Retry-After.
    const phoneLimited = await h.createApp({ rateLimitPhonePerHour: 1 });
    const phone = "+33611223344";
    expect((await h.createChallenge(phoneLimited.sk, { phone, purpose: "login" })).status).toBe(201);
    const tooMany = await h.createChallenge(phoneLimited.sk, { phone, purpose: "login" });
    expect(tooMany.status).toBe(429);
    expect(tooMany.body).toMatchObject({ code: "RATE_LIMITED", reason: "phone" });
    expect(Number(tooMany.headers["retry-after"])).toBeGreaterThan(0);
    expectDocumented(ajv, served, "/v1/challenges", "post", tooMany);

    // A secret key over its own limit (an app override keeps this test quick).
    const limited = await h.createApp({ rateLimitSecretKeyPerMinute: 2 });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await h.http().get("/v1/challenges/chl_0000000000000000000000").set("Authorization", `Bearer ${limited.sk}`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([404, 404, 429]);
    expect(last!.body.code).toBe("RATE_LIMITED");
    expect(Number(last!.headers["retry-after"])).toBeGreaterThan(0);
    expectDocumented(ajv, served, "/v1/challenges/{id}", "get", last!);
  });

  test("webhook refusals are documented problems", async () => {
    const unsigned = await h.http().post("/v1/inbound/generic").set("Content-Type", "application/json").send("{}");
    expect(unsigned.body.code).toBe("WEBHOOK_SIGNATURE_MISSING");
    expectDocumented(ajv, served, "/v1/inbound/generic", "post", unsigned);
    const signed = h.signedGeneric({ messageId: "m-1", from: PHONES.fr });
    const malformed = await h.http().post("/v1/inbound/generic").set(signed.headers).send(signed.body);
    expect(malformed.body.code).toBe("WEBHOOK_PAYLOAD_INVALID");
    expectDocumented(ajv, served, "/v1/inbound/generic", "post", malformed);
    const stale = h.signedGeneric({ messageId: "m-2", from: PHONES.fr, to: "+447400000100", text: "1" }, { timestamp: 1_000_000_000 });
    const tooOld = await h.http().post("/v1/inbound/generic").set(stale.headers).send(stale.body);
    expect(tooOld.body.code).toBe("WEBHOOK_TIMESTAMP_OUT_OF_RANGE");
    expectDocumented(ajv, served, "/v1/inbound/generic", "post", tooOld);
  });
});

// ---- The reference page ------------------------------------------------------------------------

describe("/docs/errors", () => {
  test("is an HTML page under the pages' CSP, with a section whose id is the anchor of every problem type", async () => {
    const page = await h.http().get("/docs/errors");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const anchor = problemType(code).split("#")[1]!;
      expect(page.text).toContain(`<h2 id="${anchor}">`);
    }
    // A real problem's type leads to a section of this page.
    const problem = await h.http().get("/v1/challenges/chl_nope").set("X-Poll-Token", "pt_x");
    const [url, fragment] = (problem.body as { type: string }).type.split("#");
    expect(url).toBe(`${BASE}/docs/errors`);
    expect(page.text).toContain(`id="${fragment}"`);
    for (const asset of [...page.text.matchAll(/\s(?:src|href)="(\/[^"#]*)"/g)].map((m) => m[1]!)) {
      expect({ asset, status: (await h.http().get(asset)).status }).toEqual({ asset, status: 200 });
    }
  });

  test("its Markdown source stays at /docs/errors.md", async () => {
    const source = await h.http().get("/docs/errors.md");
    expect(source.headers["content-type"]).toMatch(/^text\/markdown/);
    expect(source.text).toBe(readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8"));
  });
});

describe("/docs", () => {
  test("serves an HTML page that loads only this service's own assets, under a strict CSP", async () => {
    const page = await h.http().get("/docs");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["content-security-policy"]).toBe(DOCS_CSP);
    expect(DOCS_CSP).not.toMatch(/https?:|unsafe-|\*/);
    const html = page.text;
    // No inline script or style: the CSP would block them anyway.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style/);
    const urls = [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThanOrEqual(4);
    for (const url of urls) {
      expect(url).toMatch(/^\/(?!\/)/); // same origin, no CDN
      const asset = await h.http().get(url);
      expect({ url, status: asset.status }).toEqual({ url, status: 200 });
    }
    expect(urls).toEqual(expect.arrayContaining(["/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/docs/assets/start.js"]));
  });

  test("its assets come from swagger-ui-dist with their types, and nothing else of node_modules is reachable", async () => {
    const bundle = await h.http().get("/docs/assets/swagger-ui-bundle.js");
    expect(bundle.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(bundle.text.length).toBeGreaterThan(1_000_000);
    const css = await h.http().get("/docs/assets/swagger-ui.css");
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
    // The stylesheet loads nothing from elsewhere (its icons are data: URLs).
    expect(css.text).not.toMatch(/url\(\s*["']?(https?:)?\/\//);
    const start = await h.http().get("/docs/assets/start.js");
    expect(start.text).toContain('url: "/openapi.json"');
    expect(start.text).toContain("validatorUrl: null");
    for (const path of ["/docs/assets/package.json", "/docs/assets/..%2Fpackage.json", "/docs/assets/swagger-ui-bundle.js.map", "/docs/assets/index.html"]) {
      const res = await h.http().get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
  });
});
