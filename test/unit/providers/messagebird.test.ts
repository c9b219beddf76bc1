// MessageBird (legacy numbers) inbound webhooks: the published reference vectors (the `messagebird`
// package's legacy-signature test and its 44 `MessageBird-Signature-JWT` reference cases, plus the
// Go SDK's iat-based token), the official `messagebird` package as an oracle (`signature.generate`
// for the legacy header, `webhook-signature-jwt.verify` for the JWT), one mutated field per
// refusal, the tolerances at their boundaries, key rotation, and parsing of GET and POST deliveries.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { createHash, createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parse as parseQuerystring } from "node:querystring";
import {
  MESSAGEBIRD_JWT_LEEWAY_SECONDS,
  createMessageBirdAdapter,
  legacyQueryCandidates,
  parseMessageBirdMessages,
  verifyMessageBirdJwt,
  verifyMessageBirdLegacySignature,
} from "../../../src/providers/messagebird/adapter.js";
import type { InboundRequest } from "../../../src/providers/provider.js";
import { AppError } from "../../../src/shared/errors.js";
import {
  HARNESS_PUBLIC_BASE_URL,
  MESSAGEBIRD_INBOUND_PATH,
  encodeMessageBirdQuery,
  messageBirdInboundParams,
  signMessageBirdJwtRequest,
  signMessageBirdRequest,
  type SignedMessageBirdRequest,
} from "../../support/providers/messagebird.js";

// The SDK is CommonJS without type declarations for these two modules.
const require = createRequire(import.meta.url);
type SdkRequest = { headers: Record<string, string>; query: Record<string, string | string[] | undefined>; body?: string };
const legacySdk = require("messagebird/lib/signature.js") as { generate(req: SdkRequest, signingKey: string): Buffer };
const jwtSdk = require("messagebird/lib/webhook-signature-jwt.js") as {
  verify(url: string, payload: Buffer | null, jwt: string, key: KeyObject, opts?: unknown): Promise<true>;
  VerifyOptions: new () => { jwtVerifyOptions: { currentDate?: Date } };
};

const FC_SEED = 20_261_126;
const KEY = "PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd";
const OTHER_KEY = "ZZZrKaqvZNRR5zAjm42ZT6q1SQxgbbZZ";
const RECEIVED_AT = new Date("2031-05-04T10:00:00.000Z");
const NOW_SECONDS = Math.floor(RECEIVED_AT.getTime() / 1000);
const atSeconds = (seconds: number) => new Date(seconds * 1000);

/** The legacy-signature vector of the `messagebird` package's own test (lib/test.js). */
const LEGACY_VECTOR = {
  signingKey: "PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd",
  timestamp: "1547198231",
  params: {
    id: "eef0ab57a9e049be946f3821568c2b2e",
    mccmnc: "20408",
    ported: "1",
    recipient: "31612345678",
    reference: "FOO",
    status: "delivered",
    statusDatetime: "2019-01-11T09:17:11+00:00",
  },
  signature: "KVBdcVdz2lYMwcBLZCRITgxUfA/WkwSi+T3Wxl2HL6w=",
} as const;

type JwtReference = { name: string; secret?: string; url: string; payload?: string; timestamp: string; token: string; valid: boolean; reason?: string };
/** The reference cases shipped with the `messagebird` package (the same file as the Go SDK's testdata). */
const JWT_REFERENCES = JSON.parse(
  readFileSync(require.resolve("messagebird/lib/testdata/webhook-signature-jwt-reference.json"), "utf8"),
) as JwtReference[];

/** The Go SDK's "valid request" case (signature_test.go): secret `hunter2`, a token with `iat` instead of `nbf`. */
const GO_SDK_VECTOR = {
  secret: "hunter2",
  url: "https://example.com/",
  receivedAt: new Date("2021-07-05T12:00:00+02:00"),
  token:
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsImlhdCI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.SrhlKJ-ES4Dg8BBXKtop3u92Z_k4L4VjHKsyHWpweGE",
} as const;

const adapter = createMessageBirdAdapter({ signingKeys: [KEY] });

function inbound(signed: SignedMessageBirdRequest, overrides: Partial<InboundRequest> = {}): InboundRequest {
  return {
    method: signed.method,
    publicUrl: `${HARNESS_PUBLIC_BASE_URL}${signed.path}`,
    headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v])),
    rawBody: Buffer.from(signed.body, "utf8"),
    receivedAt: RECEIVED_AT,
    ...overrides,
  };
}

const rawQuery = (path: string) => (path.includes("?") ? path.slice(path.indexOf("?") + 1) : "");

/** What the SDK's legacy `generate` computes for a request, its query parsed as Express 5 parses it. */
function sdkLegacySignature(signingKey: string, timestamp: string, query: string, body: string): string {
  return legacySdk.generate({ headers: { "messagebird-request-timestamp": timestamp }, query: parseQuerystring(query), body }, signingKey).toString("base64");
}

async function sdkJwtAccepts(url: string, body: string, jwt: string, signingKey: string, now: Date): Promise<boolean> {
  const opts = new jwtSdk.VerifyOptions();
  opts.jwtVerifyOptions.currentDate = now;
  try {
    return await jwtSdk.verify(url, body ? Buffer.from(body, "utf8") : null, jwt, createSecretKey(Buffer.from(signingKey, "utf8")), opts);
  } catch {
    return false;
  }
}

function thrownBy(fn: () => unknown): AppError | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  return undefined;
}

describe("published reference vectors", () => {
  const legacy = (query: string, signature: string = LEGACY_VECTOR.signature, key: string = LEGACY_VECTOR.signingKey) =>
    verifyMessageBirdLegacySignature([key], { signature, timestamp: LEGACY_VECTOR.timestamp }, query, Buffer.alloc(0), atSeconds(Number(LEGACY_VECTOR.timestamp)));

  it("the SDK's legacy vector verifies, whatever order MessageBird sent the parameters in", async () => {
    expect(legacy(encodeMessageBirdQuery(LEGACY_VECTOR.params))).toEqual({ ok: true });
    expect(legacy(encodeMessageBirdQuery(Object.entries(LEGACY_VECTOR.params).reverse()))).toEqual({ ok: true });
  });

  it("the SDK's legacy vector verifies with the date-time's `+` sent unescaped (the SDK's statusDatetime case)", async () => {
    const query = encodeMessageBirdQuery(LEGACY_VECTOR.params).replace("statusDatetime=2019-01-11T09%3A17%3A11%2B00%3A00", "statusDatetime=2019-01-11T09:17:11+00:00");
    expect(query).toContain("+00:00");
    expect(legacy(query)).toEqual({ ok: true });
  });

  it("the SDK's own negative case (reference BAR instead of FOO) is refused", async () => {
    expect(legacy(encodeMessageBirdQuery({ ...LEGACY_VECTOR.params, reference: "BAR" }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("the test helper's legacy signer reproduces the SDK's vector", async () => {
    const signed = signMessageBirdRequest({ signingKey: LEGACY_VECTOR.signingKey, params: LEGACY_VECTOR.params, now: atSeconds(Number(LEGACY_VECTOR.timestamp)) });
    expect(signed.headers["messagebird-signature"]).toBe(LEGACY_VECTOR.signature);
  });

  it(`the ${JWT_REFERENCES.length} MessageBird-Signature-JWT reference cases get the reference verdict`, async () => {
    expect(JWT_REFERENCES.length).toBeGreaterThanOrEqual(40);
    for (const ref of JWT_REFERENCES) {
      const verdict = await verifyMessageBirdJwt([ref.secret ?? "no-secret-given"], ref.token, ref.url, Buffer.from(ref.payload ?? "", "utf8"), new Date(ref.timestamp));
      expect({ name: ref.name, ok: verdict.ok }).toEqual({ name: ref.name, ok: ref.valid });
      if (!verdict.ok) {
        const timing = /nbf|exp/.test(ref.reason ?? "");
        expect({ name: ref.name, code: verdict.code }).toEqual({ name: ref.name, code: timing ? "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" : "WEBHOOK_SIGNATURE_INVALID" });
      }
    }
  });

  it("the Go SDK's valid token (iat instead of nbf) verifies, and fails with another secret", async () => {
    const verify = (secret: string) => verifyMessageBirdJwt([secret], GO_SDK_VECTOR.token, GO_SDK_VECTOR.url, Buffer.alloc(0), GO_SDK_VECTOR.receivedAt);
    expect(await verify(GO_SDK_VECTOR.secret)).toEqual({ ok: true });
    expect(await verify("hunter3")).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });
});

// Parameter names and values as MessageBird could send them. Left out: `statusDatetime`, which the
// SDK rewrites (spaces to `+`) before signing, and integer-like names such as `0`, which the SDK
// cannot sort (it rebuilds the query as an object, and JavaScript enumerates such keys first).
const nameArb = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== "statusDatetime" && !/^(0|[1-9]\d*)$/.test(k));
const valueArb = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: "grapheme", maxLength: 10 }), fc.constantFrom("Hello world", "a+b=c&d", "2016-05-03T14:26:57+00:00", "!'()*~"));
const paramsArb = fc.array(fc.tuple(nameArb, valueArb), { maxLength: 6 });
const timestampArb = fc.integer({ min: 1_000_000_000, max: 4_102_444_800 });

describe("agreement with the official messagebird package: MessageBird-Signature (signature.generate)", () => {
  it("for random parameters and times, the SDK's signature verifies (GET, empty body)", async () => {
    fc.assert(
      fc.property(paramsArb, timestampArb, (params, timestampSeconds) => {
        const query = encodeMessageBirdQuery(params);
        const timestamp = String(timestampSeconds);
        const signature = sdkLegacySignature(KEY, timestamp, query, "");
        const verdict = verifyMessageBirdLegacySignature([KEY], { signature, timestamp }, query, Buffer.alloc(0), atSeconds(timestampSeconds));
        expect(verdict).toEqual({ ok: true });
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
  });

  it("for random parameters, bodies and times, the SDK and the test helper sign what the adapter accepts (POST)", async () => {
    await fc.assert(
      fc.asyncProperty(paramsArb, paramsArb, timestampArb, async (queryParams, bodyParams, timestampSeconds) => {
        const now = atSeconds(timestampSeconds);
        const path = `${MESSAGEBIRD_INBOUND_PATH}${queryParams.length ? `?${encodeMessageBirdQuery(queryParams)}` : ""}`;
        const signed = signMessageBirdRequest({ signingKey: KEY, params: bodyParams, now, method: "POST", path });
        expect(await adapter.verify(inbound(signed, { receivedAt: now }))).toEqual({ ok: true });
        const bySdk = sdkLegacySignature(KEY, String(timestampSeconds), rawQuery(path), signed.body);
        const headers = { ...signed.headers, "messagebird-signature": bySdk };
        expect(await adapter.verify(inbound({ ...signed, headers }, { receivedAt: now }))).toEqual({ ok: true });
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
  });

  type Mutation =
    | { kind: "value"; index: number; value: string }
    | { kind: "add"; name: string; value: string }
    | { kind: "remove"; index: number }
    | { kind: "timestamp"; delta: number }
    | { kind: "body"; text: string }
    | { kind: "key" };
  const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant("value" as const), index: fc.nat(), value: valueArb }),
    fc.record({ kind: fc.constant("add" as const), name: nameArb, value: valueArb }),
    fc.record({ kind: fc.constant("remove" as const), index: fc.nat() }),
    fc.record({ kind: fc.constant("timestamp" as const), delta: fc.integer({ min: -300, max: 300 }).filter((d) => d !== 0) }),
    fc.record({ kind: fc.constant("body" as const), text: fc.string({ minLength: 1 }) }),
    fc.record({ kind: fc.constant("key" as const) }),
  );

  it("for random single mutations (a value, an added or removed parameter, the timestamp, the body, the key), the SDK-signed request is refused", async () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(nameArb, valueArb), { minLength: 1, maxLength: 6 }), timestampArb, mutationArb, (params, timestampSeconds, m) => {
        const timestamp = String(timestampSeconds);
        const signature = sdkLegacySignature(KEY, timestamp, encodeMessageBirdQuery(params), "");
        let mutated = params.map(([k, v]) => [k, v] as [string, string]);
        let ts = timestamp;
        let body = "";
        let key = KEY;
        switch (m.kind) {
          case "value": {
            const at = m.index % mutated.length;
            fc.pre(mutated[at]![1] !== m.value);
            mutated[at] = [mutated[at]![0], m.value];
            break;
          }
          case "add":
            mutated.push([m.name, m.value]);
            break;
          case "remove":
            mutated = mutated.filter((_, i) => i !== m.index % params.length);
            break;
          case "timestamp":
            ts = String(timestampSeconds + m.delta);
            break;
          case "body":
            body = m.text;
            break;
          case "key":
            key = OTHER_KEY;
            break;
        }
        const verdict = verifyMessageBirdLegacySignature([key], { signature, timestamp: ts }, encodeMessageBirdQuery(mutated), Buffer.from(body), atSeconds(timestampSeconds));
        expect(verdict).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
      }),
      { seed: FC_SEED, numRuns: 400 },
    );
  });

  it("the candidate spellings of one query are few and all carry the same sorted parameters", async () => {
    const candidates = legacyQueryCandidates("b=Hello+world&a=x%21y&b=2");
    expect(candidates.length).toBeLessThanOrEqual(4);
    expect(candidates).toContain("a=x%21y&b=Hello+world&b=2");
    expect(candidates).toContain("a=x!y&b=Hello%20world&b=2");
    for (const c of candidates) expect([...new URLSearchParams(c.replace(/%20/g, "+"))].map(([k]) => k)).toEqual(["a", "b", "b"]);
  });
});

const pathArb = fc.oneof(
  fc.constant(MESSAGEBIRD_INBOUND_PATH),
  paramsArb.map((params) => `${MESSAGEBIRD_INBOUND_PATH}${params.length ? `?${encodeMessageBirdQuery(params)}` : ""}`),
);
const algArb = fc.constantFrom("HS256" as const, "HS384" as const, "HS512" as const);

describe("agreement with the official messagebird package: MessageBird-Signature-JWT (webhook-signature-jwt.verify)", () => {
  it("for random URLs, bodies, algorithms and times, what the test helper signs both the SDK and the adapter accept", async () => {
    await fc.assert(
      fc.asyncProperty(pathArb, paramsArb, algArb, timestampArb, fc.boolean(), async (path, bodyParams, alg, timestampSeconds, post) => {
        const now = atSeconds(timestampSeconds);
        const signed = await signMessageBirdJwtRequest({ signingKey: KEY, params: bodyParams, now, path, alg, method: post ? "POST" : "GET" });
        const url = `${HARNESS_PUBLIC_BASE_URL}${signed.path}`;
        expect(await sdkJwtAccepts(url, signed.body, signed.headers["messagebird-signature-jwt"]!, KEY, now)).toBe(true);
        expect(await adapter.verify(inbound(signed, { receivedAt: now }))).toEqual({ ok: true });
      }),
      { seed: FC_SEED, numRuns: 150 },
    );
  });

  type Mutation = { kind: "url"; index: number; char: string } | { kind: "body"; text: string } | { kind: "key" } | { kind: "late"; seconds: number };
  const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant("url" as const), index: fc.nat(), char: fc.string({ minLength: 1, maxLength: 1 }) }),
    fc.record({ kind: fc.constant("body" as const), text: fc.string({ minLength: 1 }) }),
    fc.record({ kind: fc.constant("key" as const) }),
    fc.record({ kind: fc.constant("late" as const), seconds: fc.integer({ min: 60 + MESSAGEBIRD_JWT_LEEWAY_SECONDS, max: 86_400 }) }),
  );

  it("for random single mutations (a URL character, the body, the key, a late arrival), both refuse", async () => {
    await fc.assert(
      fc.asyncProperty(pathArb, timestampArb, mutationArb, async (path, timestampSeconds, m) => {
        const signedAt = atSeconds(timestampSeconds);
        const signed = await signMessageBirdJwtRequest({ signingKey: KEY, params: [["body", "hi"]], now: signedAt, path, method: "POST" });
        const jwt = signed.headers["messagebird-signature-jwt"]!;
        let url = `${HARNESS_PUBLIC_BASE_URL}${signed.path}`;
        let body = signed.body;
        let key = KEY;
        let now = signedAt;
        switch (m.kind) {
          case "url": {
            const chars = [...url];
            const at = m.index % chars.length;
            fc.pre(chars[at] !== m.char);
            chars[at] = m.char;
            url = chars.join("");
            break;
          }
          case "body":
            fc.pre(m.text !== body);
            body = m.text;
            break;
          case "key":
            key = OTHER_KEY;
            break;
          case "late":
            now = atSeconds(timestampSeconds + m.seconds);
            break;
        }
        expect(await sdkJwtAccepts(url, body, jwt, key, now)).toBe(false);
        expect((await verifyMessageBirdJwt([key], jwt, url, Buffer.from(body, "utf8"), now)).ok).toBe(false);
      }),
      { seed: FC_SEED, numRuns: 200 },
    );
  });

  it("the SDK and the adapter draw the same time boundaries: exp and nbf with 5 seconds of leeway", async () => {
    const signedAt = NOW_SECONDS;
    const signed = await signMessageBirdJwtRequest({ signingKey: KEY, params: [], now: atSeconds(signedAt) });
    const jwt = signed.headers["messagebird-signature-jwt"]!;
    const url = `${HARNESS_PUBLIC_BASE_URL}${signed.path}`;
    for (const [offset, accepted, code] of [
      [-MESSAGEBIRD_JWT_LEEWAY_SECONDS, true, undefined],
      [-MESSAGEBIRD_JWT_LEEWAY_SECONDS - 1, false, "WEBHOOK_TIMESTAMP_OUT_OF_RANGE"],
      [60 + MESSAGEBIRD_JWT_LEEWAY_SECONDS - 1, true, undefined],
      [60 + MESSAGEBIRD_JWT_LEEWAY_SECONDS, false, "WEBHOOK_TIMESTAMP_OUT_OF_RANGE"],
    ] as const) {
      const now = atSeconds(signedAt + offset);
      expect({ offset, sdk: await sdkJwtAccepts(url, "", jwt, KEY, now) }).toEqual({ offset, sdk: accepted });
      const verdict = await verifyMessageBirdJwt([KEY], jwt, url, Buffer.alloc(0), now);
      expect({ offset, ok: verdict.ok, code: verdict.ok ? undefined : verdict.code }).toEqual({ offset, ok: accepted, code });
    }
  });
});

describe("refusals, one mutated field at a time", () => {
  const params = messageBirdInboundParams({ from: "+33612345678", to: "+447400000123", body: "Code 123456", id: "mb-1" });
  const legacy = signMessageBirdRequest({ signingKey: KEY, params, now: RECEIVED_AT });
  let jwtRequest: SignedMessageBirdRequest;
  const jwtOf = async (overrides: Partial<Parameters<typeof signMessageBirdJwtRequest>[0]> = {}) =>
    signMessageBirdJwtRequest({ signingKey: KEY, params, now: RECEIVED_AT, ...overrides });
  const withHeader = (r: SignedMessageBirdRequest, name: string, value: string | undefined) => {
    const headers: Record<string, string> = { ...r.headers };
    if (value === undefined) delete headers[name];
    else headers[name] = value;
    return { ...r, headers };
  };

  it("the unmodified requests are accepted (the baseline of the cases below)", async () => {
    jwtRequest = await jwtOf();
    expect(await adapter.verify(inbound(legacy))).toEqual({ ok: true });
    expect(await adapter.verify(inbound(jwtRequest))).toEqual({ ok: true });
  });

  it("legacy: a parameter changed after signing is refused", async () => {
    const path = legacy.path.replace("originator=33612345678", "originator=33612345679");
    expect(path).not.toBe(legacy.path);
    expect(await adapter.verify(inbound({ ...legacy, path }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("legacy: a parameter added after signing is refused", async () => {
    expect(await adapter.verify(inbound({ ...legacy, path: `${legacy.path}&extra=1` }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("legacy: a body added after signing is refused", async () => {
    expect(await adapter.verify(inbound(legacy, { rawBody: Buffer.from("x") }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("legacy: a timestamp changed by one second is refused", async () => {
    expect(await adapter.verify(inbound(withHeader(legacy, "messagebird-request-timestamp", String(NOW_SECONDS + 1))))).toMatchObject({
      ok: false,
      code: "WEBHOOK_SIGNATURE_INVALID",
    });
  });

  it("legacy: the scheme, host and path are not covered (a documented limit of this signature)", async () => {
    expect(await adapter.verify(inbound(legacy, { publicUrl: `http://elsewhere.example${legacy.path.replace("/v1/inbound/messagebird", "/x")}` }))).toEqual({ ok: true });
  });

  it("legacy: a request signed with another key is refused", async () => {
    const forged = signMessageBirdRequest({ signingKey: OTHER_KEY, params, now: RECEIVED_AT });
    expect(await adapter.verify(inbound(forged))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("legacy: a signature without its timestamp answers WEBHOOK_SIGNATURE_MISSING", async () => {
    expect(await adapter.verify(inbound(withHeader(legacy, "messagebird-request-timestamp", undefined)))).toMatchObject({
      ok: false,
      code: "WEBHOOK_SIGNATURE_MISSING",
    });
  });

  it.each([
    ["exactly 300 s old", -300],
    ["exactly 300 s ahead", 300],
  ])("legacy: a request signed %s is accepted", async (_label, offset) => {
    const signed = signMessageBirdRequest({ signingKey: KEY, params, now: RECEIVED_AT, timestampSeconds: NOW_SECONDS + offset });
    expect(await adapter.verify(inbound(signed))).toEqual({ ok: true });
  });

  it.each([
    ["301 s old", -301],
    ["301 s ahead", 301],
  ])("legacy: a correctly signed request %s is refused as WEBHOOK_TIMESTAMP_OUT_OF_RANGE", async (_label, offset) => {
    const signed = signMessageBirdRequest({ signingKey: KEY, params, now: RECEIVED_AT, timestampSeconds: NOW_SECONDS + offset });
    expect(await adapter.verify(inbound(signed))).toMatchObject({ ok: false, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" });
  });

  it("jwt: the same request at another URL (host, scheme, path or query) is refused", async () => {
    jwtRequest = await jwtOf();
    for (const publicUrl of [
      `https://otp.example.org${jwtRequest.path}`,
      `http://otp.example.test${jwtRequest.path}`,
      `${HARNESS_PUBLIC_BASE_URL}${jwtRequest.path.replace("messagebird", "messagebirds")}`,
      `${HARNESS_PUBLIC_BASE_URL}${jwtRequest.path}&x=1`,
    ]) {
      expect(await adapter.verify(inbound(jwtRequest, { publicUrl }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
    }
  });

  it("jwt: a POST body changed, added or removed after signing is refused", async () => {
    const post = await jwtOf({ method: "POST" });
    expect(await adapter.verify(inbound(post, { rawBody: Buffer.from(post.body.replace("mb-1", "mb-2")) }))).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
    expect(await adapter.verify(inbound(post, { rawBody: Buffer.alloc(0) }))).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
    const get = await jwtOf();
    expect(await adapter.verify(inbound(get, { rawBody: Buffer.from("x") }))).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("jwt: a token signed with another key is refused", async () => {
    expect(await adapter.verify(inbound(await jwtOf({ signingKey: OTHER_KEY })))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("jwt: a token with one signature character changed is refused", async () => {
    const r = await jwtOf();
    const jwt = r.headers["messagebird-signature-jwt"]!;
    const last = jwt.at(-2) === "A" ? "B" : "A";
    const changed = `${jwt.slice(0, -2)}${last}${jwt.slice(-1)}`;
    expect(await adapter.verify(inbound(withHeader(r, "messagebird-signature-jwt", changed)))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  /** A token made by hand (HMAC-SHA256 with KEY over header.claims), valid unless a test changes one field. */
  const URL_SIGNED = "https://otp.example.test/v1/inbound/messagebird";
  const handToken = (header: Record<string, unknown>, claimOverrides: Record<string, unknown> = {}, signed = true) => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const claims = { iss: "MessageBird", nbf: NOW_SECONDS, exp: NOW_SECONDS + 60, jti: "j-1", url_hash: createHash("sha256").update(URL_SIGNED).digest("hex"), ...claimOverrides };
    const input = `${b64(header)}.${b64(Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)))}`;
    return `${input}.${signed ? createHmac("sha256", KEY).update(input).digest("base64url") : ""}`;
  };
  const verifyHand = (token: string) => verifyMessageBirdJwt([KEY], token, URL_SIGNED, Buffer.alloc(0), RECEIVED_AT);

  it("jwt: the hand-made baseline token is accepted (so each case below fails for its one change)", async () => {
    expect(await verifyHand(handToken({ alg: "HS256", typ: "JWT" }))).toEqual({ ok: true });
  });

  it.each([
    ["alg none and no signature", handToken({ alg: "none", typ: "JWT" }, {}, false)],
    ["alg RS256 but an HMAC signature (algorithm confusion)", handToken({ alg: "RS256", typ: "JWT" })],
    ["a critical header parameter", handToken({ alg: "HS256", crit: ["x"], x: 1 })],
    ["another issuer", handToken({ alg: "HS256" }, { iss: "NotMessageBird" })],
    ["no jti", handToken({ alg: "HS256" }, { jti: undefined })],
    ["an empty jti", handToken({ alg: "HS256" }, { jti: "" })],
    ["no url_hash", handToken({ alg: "HS256" }, { url_hash: undefined })],
    ["no exp", handToken({ alg: "HS256" }, { exp: undefined })],
    ["a payload_hash without a body", handToken({ alg: "HS256" }, { payload_hash: createHash("sha256").update("").digest("hex") })],
  ])("jwt: a token with %s is refused as WEBHOOK_SIGNATURE_INVALID", async (_label, token) => {
    expect(await verifyHand(token)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it.each([
    ["an iat from the future (beyond 5 s)", { iat: NOW_SECONDS + 6 }],
    ["an nbf from the future (beyond 5 s)", { nbf: NOW_SECONDS + 6 }],
    ["an exp in the past (beyond 5 s)", { exp: NOW_SECONDS - 5 }],
  ])("jwt: a token with %s is refused as WEBHOOK_TIMESTAMP_OUT_OF_RANGE", async (_label, claims) => {
    expect(await verifyHand(handToken({ alg: "HS256" }, claims))).toMatchObject({ ok: false, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" });
  });

  it.each([
    ["not a JWT", "garbage"],
    ["two segments", "a.b"],
    ["four segments", "a.b.c.d"],
    ["over 8 KiB", `${"a".repeat(9000)}.b.c`],
    ["segments that are not JSON", "YWJj.ZGVm.Z2hp"],
  ])("jwt: a header with %s is refused", async (_label, token) => {
    expect(await adapter.verify(inbound(legacy, { headers: { "messagebird-signature-jwt": token } }))).toMatchObject({
      ok: false,
      code: "WEBHOOK_SIGNATURE_INVALID",
    });
  });

  it("either header suffices: a broken JWT next to a valid legacy signature is accepted", async () => {
    expect(await adapter.verify(inbound(withHeader(legacy, "messagebird-signature-jwt", "broken.jwt.here")))).toEqual({ ok: true });
  });

  it("without either signature header, answers WEBHOOK_SIGNATURE_MISSING", async () => {
    expect(await adapter.verify(inbound(legacy, { headers: {} }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING" });
  });
});

describe("keys: rotation and configuration", () => {
  const params = messageBirdInboundParams({ from: "+33612345678", to: "+447400000123", body: "x" });

  it("with several signing keys configured, legacy and JWT requests signed by any of them are accepted", async () => {
    const rotating = createMessageBirdAdapter({ signingKeys: [OTHER_KEY, KEY] });
    expect(await rotating.verify(inbound(signMessageBirdRequest({ signingKey: KEY, params, now: RECEIVED_AT })))).toEqual({ ok: true });
    expect(await rotating.verify(inbound(await signMessageBirdJwtRequest({ signingKey: KEY, params, now: RECEIVED_AT })))).toEqual({ ok: true });
    expect(await rotating.verify(inbound(await signMessageBirdJwtRequest({ signingKey: OTHER_KEY, params, now: RECEIVED_AT })))).toEqual({ ok: true });
  });

  it("a key removed from the list no longer verifies", async () => {
    const rotated = createMessageBirdAdapter({ signingKeys: [OTHER_KEY] });
    expect(await rotated.verify(inbound(signMessageBirdRequest({ signingKey: KEY, params, now: RECEIVED_AT })))).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
    expect(await rotated.verify(inbound(await signMessageBirdJwtRequest({ signingKey: KEY, params, now: RECEIVED_AT })))).toMatchObject({
      code: "WEBHOOK_SIGNATURE_INVALID",
    });
  });

  it("with no signing key configured, every request is refused as WEBHOOK_NOT_CONFIGURED", async () => {
    const unconfigured = createMessageBirdAdapter({ signingKeys: [] });
    const signed = signMessageBirdRequest({ signingKey: KEY, params, now: RECEIVED_AT });
    expect(await unconfigured.verify(inbound(signed))).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
    expect(await unconfigured.verify(inbound(signed, { headers: {} }))).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
  });
});

describe("parsing MessageBird inbound SMS deliveries", () => {
  const params = messageBirdInboundParams({
    from: "+31612345678",
    to: "+3197010260000",
    body: "This is an incoming message: 123456",
    id: "e60a6f90453a19019c56ed6b20170831",
    createdAt: new Date("2016-05-03T14:26:57Z"),
  });
  const expected = {
    providerMessageId: "e60a6f90453a19019c56ed6b20170831",
    from: "31612345678",
    to: "3197010260000",
    text: "This is an incoming message: 123456",
    receivedAt: new Date("2016-05-03T14:26:57Z"),
  };
  const parse = (signed: SignedMessageBirdRequest) => parseMessageBirdMessages(inbound(signed));

  it("a GET delivery (query parameters) becomes one message with bare-digit numbers and the creation time", async () => {
    expect(parse(signMessageBirdRequest({ signingKey: KEY, params, now: RECEIVED_AT }))).toEqual([expected]);
  });

  it("a POST delivery with a form body becomes the same message", async () => {
    expect(parse(signMessageBirdRequest({ signingKey: KEY, params, now: RECEIVED_AT, method: "POST" }))).toEqual([expected]);
  });

  it("a POST delivery with a JSON body (numbers as JSON numbers) becomes the same message", async () => {
    const json = { ...params, originator: 31612345678, recipient: 3197010260000 };
    const signed = signMessageBirdRequest({ signingKey: KEY, params, now: RECEIVED_AT, method: "POST", bodyFormat: "json" });
    expect(parse({ ...signed, body: JSON.stringify(json) })).toEqual([expected]);
  });

  it("a createdDatetime whose `+` arrived as a space is still read", async () => {
    const path = signMessageBirdRequest({ signingKey: KEY, params, now: RECEIVED_AT }).path.replace("%2B00%3A00", "+00:00");
    expect(parse({ method: "GET", path, headers: {}, body: "" })[0]!.receivedAt).toEqual(new Date("2016-05-03T14:26:57Z"));
  });

  it("a delivery report sent to the same URL is acknowledged without a message", async () => {
    const report = { id: "eef0ab57a9e049be946f3821568c2b2e", recipient: "31612345678", status: "delivered", statusDatetime: "2019-01-11T09:17:11+00:00" };
    expect(parse(signMessageBirdRequest({ signingKey: KEY, params: report, now: RECEIVED_AT }))).toEqual([]);
  });

  it.each([
    ["a GET without originator", { ...params, originator: undefined }],
    ["a GET without body", { ...params, body: undefined }],
    ["an id over 200 characters", { ...params, id: "f".repeat(201) }],
    ["an id with a NUL character (it could never be stored)", { ...params, id: "f\u0000f" }],
  ])("%s is refused as WEBHOOK_PAYLOAD_INVALID", async (_label, p) => {
    const entries = Object.entries(p).filter((e): e is [string, string] => e[1] !== undefined);
    expect(thrownBy(() => parse(signMessageBirdRequest({ signingKey: KEY, params: entries, now: RECEIVED_AT })))).toMatchObject({
      code: "WEBHOOK_PAYLOAD_INVALID",
      status: 400,
    });
  });

  it.each([
    ["invalid JSON", "{not json"],
    ["a JSON array", "[1,2]"],
  ])("a POST with %s is refused as WEBHOOK_PAYLOAD_INVALID", async (_label, body) => {
    const signed = { method: "POST" as const, path: MESSAGEBIRD_INBOUND_PATH, headers: { "content-type": "application/json" }, body };
    expect(thrownBy(() => parse(signed))).toMatchObject({ code: "WEBHOOK_PAYLOAD_INVALID" });
  });
});

describe("the adapter's shape and answer", () => {
  it("takes GET and POST, without a path token", async () => {
    expect(adapter).toMatchObject({ name: "messagebird", methods: ["GET", "POST"], usesPathToken: false });
  });

  it("answers 200 OK, whatever the outcomes", async () => {
    expect(adapter.acknowledge([{ providerMessageId: "m", outcome: "no_pending_challenge" }])).toEqual({ status: 200, contentType: "text/plain", body: "OK" });
  });
});
