// SECURITY.md figure 6 at the reported size: a corpus of ≥ 500 malformed requests written out by
// hand (every field of the creation body with wrong types and values, bodies that are not JSON,
// content types, credentials, Idempotency-Keys, challenge ids, waitSeconds, routes and methods,
// unsigned or mangled webhooks to every provider path, signed webhooks with malformed payloads),
// then 10,000 generated ones (fast-check, seeded): each must get a clear 4xx — an
// application/problem+json body with a documented code — never a 5xx, and no row may change in any
// table. Memory is read after a forced garbage collection before, half-way through and after the
// generated inputs: a leak per request would grow the heap in both halves alike.
// Part of `npm run security-report`.
import { request as httpRequest, Agent } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import fc from "fast-check";
import { ALL_ERROR_CODES } from "../../src/http/problem.js";
import { signStandardWebhook } from "../../src/providers/standard-webhooks.js";
import { randomId } from "../../src/shared/crypto.js";
import { PHONES, TEST_GENERIC_SECRET, startHarness, type Harness } from "../support/harness.js";
import { pool, serve, writeFigure } from "./report-support.js";

const SEED = 20_261_122;
const GENERATED = 10_000;

setFlagsFromString("--expose_gc");
const gc = runInNewContext("gc") as () => void;

let h: Harness;
let server: Awaited<ReturnType<typeof serve>>;
let main: Awaited<ReturnType<Harness["createApp"]>>;
let pending: { id: string; pollToken: string };
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

beforeAll(async () => {
  // Logs at warn: the harness keeps every log line in memory, which would read as a leak here.
  h = await startHarness({ env: { LOG_LEVEL: "warn", RATE_LIMIT_SECRET_KEY_PER_MINUTE: "10000000", RATE_LIMIT_PHONE_PER_HOUR: "1000" } });
  server = await serve(h);
  main = await h.createApp({ name: "Malformed" });
  const created = await h.createChallenge(main.sk, { phone: PHONES.de, purpose: "login" });
  pending = created.body;
});
afterAll(async () => {
  agent.destroy();
  await server?.close();
  await h?.close();
});

type Req = { label: string; method: string; path: string; headers?: Record<string, string>; body?: string | Buffer };
type Answer = { status: number; contentType: string; text: string };

function send(req: Req): Promise<Answer> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, "utf8");
    const r = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        agent,
        headers: { ...(body ? { "content-length": String(body.length) } : {}), ...req.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    r.on("error", reject);
    // A request left unanswered is a finding (status 0), not a hung run.
    r.setTimeout(30_000, () => r.destroy(new Error(`no answer within 30 s`)));
    r.end(body);
  });
}

/**
 * A clear refusal: 4xx, problem+json, a documented code. Not 429: a rate limit or the pending
 * limit answers a request that passed validation, so it would hide a malformed input let through.
 */
function isClear(a: Answer): boolean {
  if (a.status < 400 || a.status > 499 || a.status === 429 || !/^application\/problem\+json/.test(a.contentType)) return false;
  try {
    return ALL_ERROR_CODES.includes((JSON.parse(a.text) as { code: string }).code as (typeof ALL_ERROR_CODES)[number]);
  } catch {
    return false;
  }
}

const auth = () => ({ authorization: `Bearer ${main.sk}` });
const VALID = { phone: PHONES.fr, purpose: "login" };
const TRANSACTION = { phone: PHONES.fr, purpose: "transaction", context: { amount: "49.90", currency: "EUR", merchant: "Shop XY" } };
/** `contentType` null: no Content-Type header at all. */
const createReq = (label: string, body: string | Buffer, contentType: string | null = "application/json", headers: Record<string, string> = {}): Req => ({
  label,
  method: "POST",
  path: "/v1/challenges",
  headers: { ...auth(), ...(contentType === null ? {} : { "content-type": contentType }), ...headers },
  body,
});

function signedGeneric(label: string, payload: unknown, opts: { raw?: string } = {}): Req {
  const body = opts.raw ?? JSON.stringify(payload);
  const id = randomId("wh");
  const ts = Math.floor(Date.now() / 1000);
  return {
    label,
    method: "POST",
    path: "/v1/inbound/generic",
    headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signStandardWebhook(TEST_GENERIC_SECRET, id, ts, body) },
    body,
  };
}

/** The corpus: every entry is a request that must be refused. */
function corpus(): Req[] {
  const out: Req[] = [];
  const wrongTypes: [string, unknown][] = [
    ["null", null],
    ["zero", 0],
    ["a number", 33612345678],
    ["a fraction", 1.5],
    ["true", true],
    ["false", false],
    ["an empty array", []],
    ["an array", ["x"]],
    ["an empty object", {}],
    ["an object", { a: 1 }],
  ];
  const junk: [string, string][] = [
    ["empty", ""],
    ["spaces", "   "],
    ["NUL", "\u0000"],
    ["an ANSI escape", "\u001b[2J"],
    ["a C1 control", "\u0085"],
    ["10,000 characters", "x".repeat(10_000)],
    ["a lone surrogate", "\uD800"],
    ["U+FFFF", "\uFFFF"],
    ["a bidi override", "\u202E"],
  ];
  // Top-level fields: wrong types, junk strings and values of the right type that are wrong.
  const fieldValues: Record<string, [string, unknown][]> = {
    phone: [
      ...wrongTypes,
      ...junk,
      ["letters", "abc"],
      ["a plus sign alone", "+"],
      ["two plus signs", "++33612345678"],
      ["a French landline", "+33 1 23 45 67 89"],
      ["a French VoIP number", "+33 9 12 34 56 78"],
      ["a US toll-free number", "+1 800 555 1212"],
      ["an international freephone number", "+800 1234 5678"],
      ["a French premium-rate number", "+33 8 99 12 34 56"],
      ["an unknown country code", "+999 1234 5678"],
      ["a national number without a country", "06 12 34 56 78"],
      ["a NUL inside", "+3361234\u00005678"],
      ["64 digits", `+${"3".repeat(63)}`],
      ["16 digits", "+1234567890123456"],
      ["a tel: URI", "tel:+33612345678"],
      ["an extension", "+33612345678;ext=12"],
      ["an emoji", "😀"],
      ["markup", "<script>alert(1)</script>"],
      ["SQL", "' OR 1=1 --"],
      ["an alphanumeric sender", "ACME"],
      ["one digit too many", "+33 6 12 34 56 78 9"],
    ],
    purpose: [
      ...wrongTypes,
      ...junk,
      ["upper case", "LOGIN"],
      ["a trailing space", "login "],
      ["not in the list", "withdrawal"],
      ["an Object method's name", "toString"],
      ["__proto__", "__proto__"],
      ["constructor", "constructor"],
      ["a NUL after it", "login\u0000"],
      ["an emoji", "😀"],
    ],
    country: [...wrongTypes, ...junk, ["one letter", "F"], ["three letters", "FRA"], ["a digit", "F1"], ["accents", "ÉÉ"], ["an emoji", "😀"], ["a space inside", "F R"]],
    locale: [...wrongTypes, ...junk, ["one letter", "e"], ["a dangling separator", "en-"], ["digits", "12"], ["markup", "<script>"], ["words", "english please"], ["a NUL after it", "en\u0000"], ["an emoji", "😀"]],
    context: [
      ...wrongTypes.filter(([, v]) => !(typeof v === "object" && v !== null && !Array.isArray(v))),
      ["a string", "payment"],
      ["an unknown field", { iban: "DE00" }],
      ["an empty description", { description: "" }],
      ["a description of spaces", { description: "   " }],
      ["a description over 100 characters", { description: "d".repeat(101) }],
      ["a description as a number", { description: 5 }],
      ["a NUL in the description", { description: "a\u0000b" }],
      ["a line feed in the description", { description: "one\ntwo" }],
      ["an amount on a login", { amount: "10.00" }],
      ["a transaction context on a login", TRANSACTION.context],
    ],
  };
  for (const [field, values] of Object.entries(fieldValues)) {
    for (const [what, value] of values) out.push(createReq(`${field} ${what}`, JSON.stringify({ ...VALID, [field]: value })));
  }
  // The transaction context, field by field.
  const txValues: Record<string, [string, unknown][]> = {
    // Numbers are amounts too (0 ≤ n < 10^12, at most 2 decimals): only the other types are wrong.
    amount: [
      ...wrongTypes.filter(([, v]) => typeof v !== "number"),
      ...junk,
      ["a comma", "49,90"],
      ["negative", "-1"],
      ["an exponent", "1e3"],
      ["hexadecimal", "0x10"],
      ["five decimals", "1.23456"],
      ["13 integer digits", "1234567890123"],
      ["two dots", "49.9.0"],
      ["NaN", "NaN"],
      ["Infinity", "Infinity"],
      ["a currency sign", "€49.90"],
      ["Arabic-Indic digits", "٤٩"],
      ["full-width digits", "４９"],
      ["a negative number", -1],
      ["a number over 10^12", 1e13],
    ],
    currency: [...wrongTypes, ...junk, ["lower case", "eur"], ["four letters", "EURO"], ["a sign", "€"], ["digits", "978"]],
    merchant: [...wrongTypes, ...junk.filter(([what]) => what !== "a lone surrogate" && what !== "U+FFFF" && what !== "a bidi override"), ["61 characters", "m".repeat(61)]],
  };
  for (const [field, values] of Object.entries(txValues)) {
    for (const [what, value] of values) {
      out.push(createReq(`transaction ${field} ${what}`, JSON.stringify({ ...TRANSACTION, context: { ...TRANSACTION.context, [field]: value } })));
    }
    const context: Record<string, unknown> = { ...TRANSACTION.context };
    delete context[field];
    out.push(createReq(`transaction without ${field}`, JSON.stringify({ ...TRANSACTION, context })));
  }
  out.push(createReq("transaction without context", JSON.stringify({ phone: PHONES.fr, purpose: "transaction" })));
  // Unknown and prototype keys.
  for (const key of ["appId", "status", "code", "id", "pollToken", "prototype", "k".repeat(10_000), ""]) {
    out.push(createReq(`unknown key ${key.slice(0, 20) || "(empty)"}`, JSON.stringify({ ...VALID, [key]: 1 })));
  }
  for (const raw of [
    `{"phone":"${PHONES.fr}","purpose":"login","__proto__":{"isAdmin":true}}`,
    `{"phone":"${PHONES.fr}","purpose":"login","constructor":{"prototype":{"isAdmin":true}}}`,
    `{"phone":"${PHONES.fr}","purpose":"login","context":{"__proto__":{"isAdmin":true}}}`,
  ]) {
    out.push(createReq("a prototype key", raw));
  }
  // Bodies that are not a JSON object (or not JSON at all).
  for (const [what, raw] of [
    ["not JSON", "{phone: +33612345678, purpose: login}"],
    ["truncated", '{"phone": "+33612345678", "purpose": "log'],
    ["trailing garbage", `${JSON.stringify(VALID)} x`],
    ["single quotes", "{'phone': '+33612345678', 'purpose': 'login'}"],
    ["a comment", `{"phone": "${PHONES.fr}", /* c */ "purpose": "login"}`],
    ["NaN", `{"phone": "${PHONES.fr}", "purpose": NaN}`],
    ["a trailing comma", `{"phone": "${PHONES.fr}", "purpose": "login",}`],
    ["a string", '"+33612345678"'],
    ["null", "null"],
    ["a number", "42"],
    ["true", "true"],
    ["an array", "[]"],
    ["an array holding a valid body", JSON.stringify([VALID])],
    ["an empty object", "{}"],
    ["an open brace", "{"],
    ["a close brace", "}"],
    ["an open bracket", "["],
    ["a missing value", '{"phone":}'],
    ["deeply nested arrays", `${"[".repeat(5000)}${"]".repeat(5000)}`],
    ["deeply nested objects", `${'{"a":'.repeat(2000)}1${"}".repeat(2000)}`],
    ["a huge number", `{"phone": ${"9".repeat(400)}, "purpose": "login"}`],
    ["whitespace only", "   \n\t  "],
    ["a BOM inside the object", `{\uFEFF"phone": "${PHONES.fr}", "purpose": "login"}`],
  ] as const) {
    out.push(createReq(`body: ${what}`, raw));
  }
  out.push(createReq("body: invalid UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])));
  out.push(createReq("body: UTF-16", Buffer.from(JSON.stringify(VALID), "utf16le")));
  out.push(createReq("body: 16 KB + 1", JSON.stringify({ ...VALID, context: { description: "x".repeat(16 * 1024) } })));
  out.push(createReq("body: 1 MB", JSON.stringify({ ...VALID, padding: "x".repeat(1024 * 1024) })));
  // Content types.
  for (const type of [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "text/xml",
    "application/json-patch+json",
    "application/octet-stream",
    "application/json; charset=latin1",
    "application/json; charset=utf-16",
    "text/json",
    "application/jsonx",
    "garbage",
    "image/png",
  ]) {
    out.push(createReq(`content type ${type}`, JSON.stringify(VALID), type));
  }
  out.push(createReq("no content type", JSON.stringify(VALID), null));
  // Credentials.
  for (const [what, value] of [
    ["Basic credentials", "Basic dXNlcjpwYXNz"],
    ["a key without the Bearer scheme", "KEY"],
    ["Bearer without a key", "Bearer"],
    ["Bearer with garbage", "Bearer garbage"],
    ["a secret key one character short", "SHORT"],
    ["a secret key one character long", "LONG"],
    ["a well-formed key nobody issued", `Bearer sk_${"A".repeat(32)}`],
    ["a publishable-looking key nobody issued", `Bearer pk_${"A".repeat(32)}`],
    ["two keys", "TWO"],
    ["a 300-character token", `Bearer ${"x".repeat(300)}`],
    ["another scheme", "Token KEY"],
    ["Bearer in lower case with garbage", "bearer nope"],
  ] as const) {
    const header = value
      .replace("KEY", main.sk)
      .replace("SHORT", `Bearer ${main.sk.slice(0, -1)}`)
      .replace("LONG", `Bearer ${main.sk}x`)
      .replace("TWO", `Bearer ${main.sk} ${main.pk}`);
    out.push({ label: `auth: ${what}`, method: "POST", path: "/v1/challenges", headers: { "content-type": "application/json", authorization: header }, body: JSON.stringify(VALID) });
  }
  out.push({ label: "auth: none", method: "POST", path: "/v1/challenges", headers: { "content-type": "application/json" }, body: JSON.stringify(VALID) });
  // Idempotency-Key headers.
  for (const [what, key] of [
    ["256 characters", "k".repeat(256)],
    ["a space", "order 42"],
    ["a tab", "order\t42"],
    ["a Latin-1 letter", Buffer.from("clé-42", "latin1").toString("latin1")],
    ["UTF-8 bytes of an emoji", Buffer.from("key-🔑", "utf8").toString("latin1")],
    ["nothing", ""],
    ["1,000 characters", "k".repeat(1000)],
  ] as const) {
    out.push(createReq(`Idempotency-Key with ${what}`, JSON.stringify(VALID), "application/json", { "idempotency-key": key }));
  }
  // Challenge ids that do not exist, on every verb.
  const ids = [
    "garbage",
    "chl_",
    `chl_${"A".repeat(22)}`,
    `chl_${"A".repeat(21)}`,
    `chl_${"A".repeat(23)}`,
    `app_${"A".repeat(22)}`,
    `chl_${"A".repeat(5000)}`,
    "x".repeat(10_000),
    "%00",
    "chl_%00%00",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "chl_%F0%9F%98%80",
    "%E2%80%AEchl_",
    "chl_AAAAAAAAAAAAAAAAAAAAA%20",
    "'%20OR%201=1--",
    "%25",
  ];
  for (const id of ids) {
    const short = id.length > 30 ? `${id.slice(0, 20)}… (${id.length})` : id;
    out.push({ label: `read ${short} with the secret key`, method: "GET", path: `/v1/challenges/${id}`, headers: auth() });
    out.push({ label: `read ${short} with a poll token`, method: "GET", path: `/v1/challenges/${id}`, headers: { "x-poll-token": "pt_whatever" } });
    out.push({ label: `read ${short} without credentials`, method: "GET", path: `/v1/challenges/${id}` });
    out.push({ label: `events of ${short}`, method: "GET", path: `/v1/challenges/${id}/events`, headers: auth() });
    out.push({ label: `cancel ${short}`, method: "POST", path: `/v1/challenges/${id}/cancel`, headers: auth() });
    out.push({ label: `consume ${short}`, method: "POST", path: `/v1/challenges/${id}/consume`, headers: auth() });
  }
  for (const id of ["%ZZ", "%E0%A4%A", "chl_%", "%C0%AF"]) {
    for (const [verb, method, suffix] of [["read", "GET", ""], ["cancel", "POST", "/cancel"], ["consume", "POST", "/consume"]] as const) {
      out.push({ label: `${verb} with broken percent-encoding ${id}`, method, path: `/v1/challenges/${id}${suffix}`, headers: auth() });
    }
  }
  // (Number() reads "", "1e1" and "0x1" as 0, 10 and 1: accepted, so not in the corpus.)
  for (const wait of ["abc", "31", "-1", "1.5", "1000000", "NaN", "%00", "1,5", "ten", "Infinity"]) {
    out.push({ label: `waitSeconds=${wait}`, method: "GET", path: `/v1/challenges/${pending.id}?waitSeconds=${wait}`, headers: { "x-poll-token": pending.pollToken } });
  }
  // Routes and methods that do not exist.
  for (const [method, path] of [
    ["GET", "/nope"],
    ["GET", "/v1"],
    ["GET", "/v1/challenges"],
    ["PUT", "/v1/challenges"],
    ["DELETE", "/v1/challenges"],
    ["PATCH", "/v1/challenges"],
    ["DELETE", "/v1/challenges/chl_AAAAAAAAAAAAAAAAAAAAAA"],
    ["PATCH", "/v1/challenges/chl_AAAAAAAAAAAAAAAAAAAAAA"],
    ["PUT", "/v1/challenges/chl_AAAAAAAAAAAAAAAAAAAAAA"],
    ["POST", "/v1/challenges/chl_AAAAAAAAAAAAAAAAAAAAAA/verify"],
    ["GET", "/v2/challenges"],
    ["GET", "/.env"],
    ["GET", "/v1/challenges/chl_AAAAAAAAAAAAAAAAAAAAAA/events/extra"],
    ["POST", `/${"a".repeat(5000)}`],
    ["GET", "/v1/inbound"],
    ["DELETE", "/v1/inbound/generic"],
    ["PUT", "/v1/inbound/generic"],
  ] as const) {
    out.push({ label: `${method} ${path.slice(0, 40)}`, method, path, headers: auth() });
  }
  // Webhooks: unsigned or garbage requests to every provider path.
  const providerPaths = [
    "/v1/inbound/generic",
    "/v1/inbound/twilio",
    "/v1/inbound/vonage",
    "/v1/inbound/plivo",
    "/v1/inbound/telnyx",
    "/v1/inbound/bird",
    "/v1/inbound/messagebird",
    `/v1/inbound/smsmode/${"t".repeat(40)}`,
    `/v1/inbound/sinch/${"t".repeat(40)}`,
    `/v1/inbound/infobip/${"t".repeat(40)}`,
    "/v1/inbound/nosuchprovider",
    "/v1/inbound/GENERIC%00",
  ];
  const garbage: [string, string | Buffer, string][] = [
    ["an empty body", "", "application/json"],
    ["JSON without a signature", JSON.stringify({ messageId: "m1", from: PHONES.fr, to: "+447400000100", text: "123456" }), "application/json"],
    ["a form without a signature", "From=%2B33612345678&To=%2B447400000100&Body=123456&MessageSid=SM1", "application/x-www-form-urlencoded"],
    ["random bytes", Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37) % 256)), "application/octet-stream"],
  ];
  for (const path of providerPaths) {
    for (const [what, body, type] of garbage) out.push({ label: `webhook ${path.slice(12, 30)}: ${what}`, method: "POST", path, headers: { "content-type": type }, body });
  }
  // Webhooks of the generic provider: mangled signature headers on a valid payload.
  const payload = { messageId: "m-sig", from: PHONES.fr, to: main.number, text: "123456" };
  const body = JSON.stringify(payload);
  const ts = Math.floor(Date.now() / 1000);
  const good = signStandardWebhook(TEST_GENERIC_SECRET, "wh_sig", ts, body);
  const signaturePatches: [string, Record<string, string | undefined>][] = [
    ["an empty signature", { "webhook-signature": "" }],
    ["a v1 prefix only", { "webhook-signature": "v1," }],
    ["another version", { "webhook-signature": good.replace("v1,", "v2,") }],
    ["a truncated signature", { "webhook-signature": good.slice(0, -4) }],
    ["a signature of zeros", { "webhook-signature": `v1,${Buffer.alloc(32).toString("base64")}` }],
    ["a non-numeric timestamp", { "webhook-timestamp": "abc" }],
    ["a negative timestamp", { "webhook-timestamp": "-1" }],
    ["a timestamp in milliseconds", { "webhook-timestamp": String(ts * 1000) }],
    ["an exponent timestamp", { "webhook-timestamp": "1e9" }],
    ["an empty id", { "webhook-id": "" }],
    ["an id of 1,000 characters", { "webhook-id": "i".repeat(1000) }],
    ["no id", { "webhook-id": undefined }],
    ["no timestamp", { "webhook-timestamp": undefined }],
    ["no signature", { "webhook-signature": undefined }],
  ];
  for (const [what, patch] of signaturePatches) {
    const headers: Record<string, string> = { "content-type": "application/json", "webhook-id": "wh_sig", "webhook-timestamp": String(ts), "webhook-signature": good };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete headers[k];
      else headers[k] = v;
    }
    out.push({ label: `generic: ${what}`, method: "POST", path: "/v1/inbound/generic", headers, body });
  }
  // Signed generic webhooks whose payload is malformed.
  const base = { messageId: "m", from: PHONES.fr, to: main.number, text: "123456" };
  const payloadFields: Record<string, [string, unknown][]> = {
    messageId: [...wrongTypes, ["empty", ""], ["201 characters", "m".repeat(201)], ["a NUL", "m\u0000"], ["an escape", "m\u001b"], ["a line feed", "m\nx"]],
    from: [...wrongTypes, ["empty", ""], ["65 characters", "1".repeat(65)]],
    to: [...wrongTypes, ["empty", ""], ["65 characters", "4".repeat(65)]],
    text: [...wrongTypes, ["10,001 characters", "z".repeat(10_001)]],
    receivedAt: [...wrongTypes, ["not a date", "yesterday"], ["a date without time", "2031-06-02"], ["no offset", "2031-06-02T08:00:00"]],
  };
  for (const [field, values] of Object.entries(payloadFields)) {
    for (const [what, value] of values) out.push(signedGeneric(`generic payload: ${field} ${what}`, { ...base, messageId: randomId("m"), [field]: value }));
    if (field !== "receivedAt") {
      const p: Record<string, unknown> = { ...base, messageId: randomId("m") };
      delete p[field];
      out.push(signedGeneric(`generic payload without ${field}`, p));
    }
  }
  out.push(signedGeneric("generic payload with an unknown field", { ...base, extra: true }));
  for (const [what, raw] of [
    ["not JSON", "{messageId: m}"],
    ["a JSON array", "[]"],
    ["JSON null", "null"],
    ["a JSON string", '"m"'],
    ["an empty body", ""],
  ] as const) {
    out.push(signedGeneric(`generic payload: ${what}`, undefined, { raw }));
  }
  return out;
}

/** The generated inputs: 10,000 requests from four generators, seeded. */
function generated(): Req[] {
  const keyArb = fc.oneof(fc.constantFrom("phone", "purpose", "country", "context", "locale", "__proto__", "constructor", "amount", "toString"), fc.string({ maxLength: 12 }));
  const nearValid = fc.record(
    {
      phone: fc.oneof(fc.string(), fc.jsonValue()),
      purpose: fc.oneof(fc.constantFrom("signup", "login", "transaction"), fc.string(), fc.jsonValue()),
      country: fc.oneof(fc.constantFrom("FR", "DE", "XX", "fr"), fc.string({ maxLength: 3 }), fc.jsonValue()),
      context: fc.oneof(fc.record({ amount: fc.oneof(fc.string(), fc.double(), fc.jsonValue()), currency: fc.string({ maxLength: 4 }), merchant: fc.string(), description: fc.string() }, { requiredKeys: [] }), fc.jsonValue()),
      locale: fc.oneof(fc.constantFrom("en", "de-DE", "fr_CA"), fc.string(), fc.jsonValue()),
    },
    { requiredKeys: [] },
  );
  // Well-formed but for a random phone: reaches the phone parser (random text is practically never a mobile number).
  const randomPhone = fc.record({ phone: fc.string({ minLength: 1, maxLength: 64 }), purpose: fc.constantFrom("signup", "login", "password_reset", "profile_change", "appointment") });
  const creationBody = fc.oneof(
    randomPhone,
    fc.jsonValue(),
    fc.dictionary(keyArb, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }),
    nearValid,
    fc.tuple(nearValid, keyArb, fc.jsonValue({ maxDepth: 2 })).map(([body, key, value]) => ({ ...body, [key]: value })),
  );
  const creations = fc.sample(creationBody, { seed: SEED, numRuns: 4000 }).map((b, i) => createReq(`generated body #${i}`, JSON.stringify(b) ?? "null"));

  const contentTypes = ["application/json", "text/plain", "application/xml", "application/x-www-form-urlencoded", "application/octet-stream", "multipart/form-data; boundary=b"];
  const rawBodies = fc
    .sample(fc.tuple(fc.oneof(fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)), fc.string({ unit: "binary", maxLength: 512 }).map((s) => Buffer.from(s, "utf8"))), fc.constantFrom(...contentTypes)), { seed: SEED + 1, numRuns: 2000 })
    // A byte string that happens to be a valid creation body is not malformed: practically never, but skip it if so.
    .filter(([bytes]) => !isValidCreation(bytes))
    .map(([bytes, type], i) => createReq(`generated bytes #${i}`, bytes, type));

  // Signed generic payloads with one field of a valid payload broken (wrong type, removed, or an unknown key added).
  const fields = ["messageId", "from", "to", "text", "receivedAt"] as const;
  const notAString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }));
  const brokenPayload = fc.oneof(
    fc.tuple(fc.constantFrom(...fields), notAString).map(([f, v]) => ({ op: "type", f, v })),
    fc.constantFrom("messageId", "from", "to", "text").map((f) => ({ op: "remove", f, v: undefined })),
    fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(fields as readonly string[]).includes(k)), fc.jsonValue({ maxDepth: 2 })).map(([f, v]) => ({ op: "add", f, v })),
    // A message id with a control character somewhere in it.
    fc.tuple(fc.string({ maxLength: 20 }), fc.integer({ min: 0, max: 31 }), fc.string({ maxLength: 20 })).map(([a, c, b]) => ({ op: "type", f: "messageId", v: `${a}${String.fromCharCode(c)}${b}` })),
    fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/^\d{4}-\d\d-\d\dT/.test(s)).map((v) => ({ op: "type", f: "receivedAt", v })),
  );
  const webhooks = fc.sample(brokenPayload, { seed: SEED + 2, numRuns: 2000 }).map(({ op, f, v }, i) => {
    const p: Record<string, unknown> = { messageId: `gen-${i}`, from: PHONES.fr, to: main.number, text: "123456" };
    if (op === "remove") delete p[f];
    else p[f] = v;
    return signedGeneric(`generated webhook #${i} (${op} ${f})`, p);
  });

  const reads = fc
    .sample(fc.tuple(fc.string({ minLength: 1, maxLength: 60 }), fc.constantFrom("", "/cancel", "/consume", "/events"), fc.constantFrom("sk", "token", "none")), { seed: SEED + 3, numRuns: 2000 })
    .map(([id, suffix, cred], i): Req => {
      const headers: Record<string, string> = cred === "sk" ? auth() : cred === "token" ? { "x-poll-token": randomId("pt", 43) } : {};
      return { label: `generated id #${i}`, method: suffix === "" || suffix === "/events" ? "GET" : "POST", path: `/v1/challenges/${encodeURIComponent(id)}${suffix}`, headers };
    });
  return [...creations, ...rawBodies, ...webhooks, ...reads].slice(0, GENERATED);
}

function isValidCreation(bytes: Buffer): boolean {
  try {
    const v = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
    return typeof v === "object" && v !== null && typeof v.phone === "string" && typeof v.purpose === "string";
  } catch {
    return false;
  }
}

function memory() {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapUsedMB: Math.round((m.heapUsed / 1e6) * 10) / 10, rssMB: Math.round((m.rss / 1e6) * 10) / 10 };
}

async function runAll(reqs: Req[]) {
  // Idle keep-alive sockets may have outlived the server's keepAliveTimeout (5 s) during a long
  // synchronous pause before this run (building 10,000 requests and forcing GCs on a busy machine):
  // the server's timer then closes them just as they are reused, and those requests fail with
  // ECONNRESET, which is no answer of the service. Each run starts on fresh connections.
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  const answers = await pool(reqs, 8, async (req, i) => {
    if (process.env.REPORT_PROGRESS && (i % 500 === 0 || process.env.REPORT_PROGRESS === "all")) process.stderr.write(`[malformed] ${i}/${reqs.length} ${req.label.slice(0, 80)}\n`);
    try {
      return await send(req);
    } catch (error) {
      return { status: 0, contentType: "", text: String(error) };
    }
  });
  const byStatus: Record<string, number> = {};
  const unclear: string[] = [];
  let clear = 0;
  let e5xx = 0;
  for (const [i, a] of answers.entries()) {
    const code = (() => {
      try {
        return (JSON.parse(a.text) as { code?: string }).code ?? "";
      } catch {
        return "";
      }
    })();
    const key = `${a.status} ${code}`.trim();
    byStatus[key] = (byStatus[key] ?? 0) + 1;
    if (a.status >= 500 || a.status === 0) e5xx += 1;
    if (isClear(a)) clear += 1;
    else unclear.push(`${reqs[i]!.label}: ${a.status} ${a.text.slice(0, 160)}`);
  }
  return { total: reqs.length, clear, e5xx, byStatus, unclear };
}

test("≥ 500 corpus + 10,000 generated malformed inputs: clear 4xx, 0 × 5xx, 0 rows, memory flat", async () => {
  const started = Date.now();
  const rowsBefore = await h.countRows();
  const [{ inbound }] = (await h.db.query<{ inbound: number }>("SELECT count(*)::int AS inbound FROM inbound_messages")) as [{ inbound: number }];

  const corpusReqs = corpus();
  const corpusResult = await runAll(corpusReqs);
  const afterCorpus = await h.countRows();

  const gen = generated();
  const memStart = memory();
  const firstHalf = await runAll(gen.slice(0, gen.length / 2));
  const memHalf = memory();
  const secondHalf = await runAll(gen.slice(gen.length / 2));
  const memEnd = memory();
  const rowsAfter = await h.countRows();
  const [{ inbound: inboundAfter }] = (await h.db.query<{ inbound: number }>("SELECT count(*)::int AS inbound FROM inbound_messages")) as [{ inbound: number }];

  const generatedResult = {
    total: firstHalf.total + secondHalf.total,
    clear: firstHalf.clear + secondHalf.clear,
    e5xx: firstHalf.e5xx + secondHalf.e5xx,
    byStatus: Object.fromEntries(
      [...new Set([...Object.keys(firstHalf.byStatus), ...Object.keys(secondHalf.byStatus)])].sort().map((k) => [k, (firstHalf.byStatus[k] ?? 0) + (secondHalf.byStatus[k] ?? 0)]),
    ),
    unclear: [...firstHalf.unclear, ...secondHalf.unclear],
  };
  const heapGrowthSecondHalfMB = Math.round((memEnd.heapUsedMB - memHalf.heapUsedMB) * 10) / 10;
  writeFigure("6-malformed", {
    seed: SEED,
    corpus: { ...corpusResult, unclear: corpusResult.unclear.slice(0, 20) },
    generated: { ...generatedResult, unclear: generatedResult.unclear.slice(0, 20) },
    rowsBefore,
    rowsAfterCorpus: afterCorpus,
    rowsAfter,
    rowsChanged: JSON.stringify(rowsBefore) !== JSON.stringify(rowsAfter) || inbound !== inboundAfter,
    memory: { beforeGenerated: memStart, afterHalf: memHalf, after: memEnd, heapGrowthSecondHalfMB },
    seconds: Math.round((Date.now() - started) / 1000),
  });
  expect(corpusReqs.length).toBeGreaterThanOrEqual(500);
  expect(gen).toHaveLength(GENERATED);
  expect(corpusResult.unclear).toEqual([]);
  expect(generatedResult.unclear).toEqual([]);
  expect(rowsAfter).toEqual(rowsBefore);
  expect(inboundAfter).toBe(inbound);
  expect(heapGrowthSecondHalfMB).toBeLessThan(5);
});
