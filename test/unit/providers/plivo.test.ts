// Plivo inbound webhooks: fixed V3 and V2 vectors (computed from the construction in PROVIDERS.md
// with `openssl dgst -sha256 -hmac`, independently of our code, and accepted by the `plivo`
// package), the official `plivo` package as an oracle (`validateV3Signature`, `validateSignature`
// for V2), one mutated field per refusal, rotation, V2 only when configured, and parsing of Plivo's
// documented inbound payload.
//
// The `plivo` package only checks (it exports no function that computes a V3 signature), so the
// oracle runs one way: what we sign, it accepts; and for every random mutation, it and our
// verifier give the same verdict.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { Response as PlivoXmlResponse } from "plivo/dist/utils/plivoxml.js";
import { validateSignature as validateV2Signature } from "plivo/dist/utils/security.js";
import { validateV3Signature } from "plivo/dist/utils/v3Security.js";
import {
  EMPTY_PLIVO_XML,
  computePlivoV2Signature,
  computePlivoV3Signature,
  createPlivoAdapter,
  plivoV3BaseString,
} from "../../../src/providers/plivo/adapter.js";
import type { InboundRequest } from "../../../src/providers/provider.js";
import {
  HARNESS_PUBLIC_BASE_URL,
  PLIVO_INBOUND_PATH,
  plivoInboundParams,
  signPlivoRequest,
  type SignedPlivoRequest,
} from "../../support/providers/plivo.js";

const FC_SEED = 20_261_124;
const TOKEN = "ZDIzN2VkMDU4NzdkYzFjZjQ5NzNmNjQ3NmQ1ZmQ4";
/** A MessageUUID of Plivo's form. */
const UUID = "db3ce55a-7f1d-11e1-8ea7-1231380bc196";
const OTHER_TOKEN = "YjQ4ZmY0ZDY1NjE5NDM1YTk3OTQ5ZDBkZjg2YzNm";
const RECEIVED_AT = new Date("2031-05-04T10:00:00.000Z");
const INBOUND_URL = `${HARNESS_PUBLIC_BASE_URL}${PLIVO_INBOUND_PATH}`;

/** A V3 vector: the signed string is spelled out so the construction can be read off the test. */
const V3_VECTOR = {
  token: TOKEN,
  url: `${INBOUND_URL}?tenant=acme`,
  nonce: "05429567804466091622",
  params: {
    From: "33612345678",
    To: "447400000123",
    Type: "sms",
    Text: "Acme: your code is 482913",
    MessageUUID: "9d2d2a2c-6b1e-11ef-9c5a-0242ac120002",
    Units: "1",
    TotalRate: "0.00000",
    TotalAmount: "0.00000",
  },
  signedString:
    "https://otp.example.test/v1/inbound/plivo?tenant=acme." +
    "From33612345678MessageUUID9d2d2a2c-6b1e-11ef-9c5a-0242ac120002TextAcme: your code is 482913" +
    "To447400000123TotalAmount0.00000TotalRate0.00000TypesmsUnits1",
  signature: "61Ttig9hIz6Lc4tytoVe5xy2r2ctlCSH7416I3NrHtY=",
} as const;

/** A V2 vector on the example of Plivo's signature-validation page: URL + nonce, nothing else. */
const V2_VECTOR = {
  token: TOKEN,
  url: "https://example.com/answer/",
  nonce: "05429567804466091622",
  signature: "Ujff/r4a/XjLAXDGKzHyKakYyP/mbokpc/eqt6ltXug=",
} as const;

const adapter = createPlivoAdapter({ authTokens: [TOKEN], acceptV2: false });
const adapterV2 = createPlivoAdapter({ authTokens: [TOKEN], acceptV2: true });

function inbound(signed: SignedPlivoRequest, overrides: Partial<InboundRequest> = {}): InboundRequest {
  return {
    method: signed.method,
    publicUrl: `${HARNESS_PUBLIC_BASE_URL}${signed.path}`,
    headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v])),
    rawBody: Buffer.from(signed.body, "utf8"),
    receivedAt: RECEIVED_AT,
    ...overrides,
  };
}

/** Form fields as a body parser hands them to the SDK: repeated names as arrays. */
function sdkParams(form: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(form)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function hasRepeatedQueryNames(url: string): boolean {
  const names = [...new URL(url).searchParams.keys()];
  return new Set(names).size !== names.length;
}

/** The SDK's verdict on a request, as an integrator would call it. */
function sdkAcceptsV3(request: InboundRequest, token: string): boolean {
  const signature = request.headers["x-plivo-signature-v3"] ?? "";
  const nonce = request.headers["x-plivo-signature-v3-nonce"] ?? "";
  const params = request.method === "POST" ? sdkParams(request.rawBody.toString("utf8")) : {};
  return validateV3Signature(request.method, request.publicUrl, nonce, token, signature, params);
}

const sms = () => plivoInboundParams({ from: "+33612345678", to: "+447400000123", text: "Acme: your code is 482913" });
const signedSms = (options: Partial<Parameters<typeof signPlivoRequest>[0]> = {}) => signPlivoRequest({ secret: TOKEN, params: sms(), ...options });

function refusal(request: InboundRequest, settings: { authTokens?: readonly string[]; acceptV2?: boolean } = {}) {
  const verdict = createPlivoAdapter({ authTokens: settings.authTokens ?? [TOKEN], acceptV2: settings.acceptV2 ?? false }).verify(request);
  expect(verdict.ok).toBe(false);
  return verdict.ok ? undefined : verdict.code;
}

describe("fixed Plivo vectors", () => {
  it("V3: the signed string and signature follow the documented construction", () => {
    expect(plivoV3BaseString("POST", V3_VECTOR.url, Object.entries(V3_VECTOR.params))).toBe(V3_VECTOR.signedString);
    expect(computePlivoV3Signature(V3_VECTOR.token, { method: "POST", url: V3_VECTOR.url, postParams: Object.entries(V3_VECTOR.params), nonce: V3_VECTOR.nonce })).toBe(
      V3_VECTOR.signature,
    );
  });

  it("V3: the plivo package accepts the vector (so it can serve as the oracle below)", () => {
    expect(validateV3Signature("POST", V3_VECTOR.url, V3_VECTOR.nonce, V3_VECTOR.token, V3_VECTOR.signature, { ...V3_VECTOR.params })).toBe(true);
  });

  it("V3: the adapter accepts the vector as a request, whatever order the form fields arrive in", () => {
    for (const entries of [Object.entries(V3_VECTOR.params), Object.entries(V3_VECTOR.params).reverse()]) {
      const request: InboundRequest = {
        method: "POST",
        publicUrl: V3_VECTOR.url,
        headers: { "x-plivo-signature-v3": V3_VECTOR.signature, "x-plivo-signature-v3-nonce": V3_VECTOR.nonce },
        rawBody: Buffer.from(new URLSearchParams(entries).toString()),
        receivedAt: RECEIVED_AT,
      };
      expect(adapter.verify(request)).toEqual({ ok: true });
    }
  });

  it("V3 base string: `?` only with parameters, `.` only between query and POST parameters", () => {
    expect(plivoV3BaseString("POST", INBOUND_URL, [])).toBe(INBOUND_URL);
    expect(plivoV3BaseString("GET", INBOUND_URL, [])).toBe(INBOUND_URL);
    expect(plivoV3BaseString("POST", INBOUND_URL, [["b", "2"], ["a", "1"]])).toBe(`${INBOUND_URL}?a1b2`);
    expect(plivoV3BaseString("GET", `${INBOUND_URL}?b=2&a=x+y&a=%C3%A9`, [])).toBe(`${INBOUND_URL}?a=x y&a=é&b=2`);
    expect(plivoV3BaseString("POST", `${INBOUND_URL}?q=1`, [["p", "2"]])).toBe(`${INBOUND_URL}?q=1.p2`);
    expect(plivoV3BaseString("POST", `${INBOUND_URL}?q=1#ct=2000`, [])).toBe(`${INBOUND_URL}?q=1`);
    expect(plivoV3BaseString("POST", "https://user:pw@otp.example.test:8443/p?q=1", [])).toBe("https://otp.example.test:8443/p?q=1");
  });

  it("V2: URL without its query, then the nonce; the plivo package accepts it", () => {
    expect(computePlivoV2Signature(V2_VECTOR.token, V2_VECTOR)).toBe(V2_VECTOR.signature);
    expect(computePlivoV2Signature(V2_VECTOR.token, { ...V2_VECTOR, url: `${V2_VECTOR.url}?any=thing` })).toBe(V2_VECTOR.signature);
    expect(validateV2Signature(V2_VECTOR.url, V2_VECTOR.nonce, V2_VECTOR.signature, V2_VECTOR.token)).toBe(true);
  });
});

describe("agreement with the official plivo package", () => {
  // Names the SDK cannot take: it merges query maps with `key in {}`, which is true for these.
  const inherited = new Set(Object.getOwnPropertyNames(Object.prototype));
  const nameArb = fc
    .oneof(fc.constantFrom("Text", "From", "To", "MessageUUID", "Units", "text", "Text2"), fc.string({ minLength: 1, maxLength: 12 }))
    .filter((n) => !inherited.has(n));
  const valueArb = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 20 }), fc.string({ unit: "binary", maxLength: 20 }));
  const paramsArb = fc.array(fc.tuple(nameArb, valueArb), { maxLength: 10 });
  // Requests of the shape Plivo sends, which the adapter accepts once the signature matches
  // (resplit.ts refuses other readings of the signed text): names of Plivo's form, no `F` in
  // generated names and values (so no stray `From`), and a MessageUUID that is a UUID.
  const shapedNameArb = fc.stringMatching(/^[A-EG-Z][A-Za-eg-z0-9]{0,11}$/).filter((n) => !inherited.has(n) && !["MessageUUID", "To"].includes(n));
  const shapedParamsArb = fc
    .tuple(fc.array(fc.tuple(shapedNameArb, valueArb.map((v) => v.replaceAll("F", "f"))), { maxLength: 10 }), fc.uuid())
    .map(([pairs, uuid]) => [...pairs, ["MessageUUID", uuid], ["From", "33612345678"], ["To", "447400000123"]] as [string, string][]);
  const shapedQueryArb = fc.option(
    fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-eg-z][a-eg-z0-9_-]{0,7}$/), fc.string({ maxLength: 8 }).map((v) => v.replaceAll("F", "f"))), {
      minLength: 1,
      maxLength: 3,
      selector: ([name]) => name,
    }),
    { nil: undefined },
  );
  // Query names are unique here: the SDK parses the query with Node's core `querystring`, whose
  // arrays come from outside jest's sandbox, so its `instanceof Array` fails under jest (not in
  // production) and repeated query names would be misread by the oracle. Repeated names are
  // covered by the fixed base-string expectations above.
  const queryArb = fc.option(fc.uniqueArray(fc.tuple(nameArb, fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 3, selector: ([name]) => name }), {
    nil: undefined,
  });
  const tokenArb = fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), minLength: 20, maxLength: 40 });
  const nonceArb = fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 1, maxLength: 24 });
  const methodArb = fc.constantFrom("POST" as const, "GET" as const);
  const pathOf = (query: [string, string][] | undefined) => (query ? `${PLIVO_INBOUND_PATH}?${new URLSearchParams(query)}` : PLIVO_INBOUND_PATH);

  it("validateV3Signature accepts what signPlivoRequest signs, for random forms, queries and nonces, POST and GET", () => {
    fc.assert(
      fc.property(tokenArb, paramsArb, queryArb, nonceArb, methodArb, (token, pairs, query, nonce, method) => {
        const signed = signPlivoRequest({ secret: token, params: pairs, path: pathOf(query), nonce, method });
        const request = inbound(signed);
        // A GET puts the form into the query: see queryArb for why the oracle needs unique names there.
        fc.pre(!hasRepeatedQueryNames(request.publicUrl));
        expect(sdkAcceptsV3(request, token)).toBe(true);
      }),
      { seed: FC_SEED, numRuns: 400 },
    );
  });

  it("the adapter accepts what validateV3Signature accepts, for requests of Plivo's shape, POST and GET", () => {
    fc.assert(
      fc.property(tokenArb, shapedParamsArb, shapedQueryArb, nonceArb, methodArb, (token, pairs, query, nonce, method) => {
        const request = inbound(signPlivoRequest({ secret: token, params: pairs, path: pathOf(query), nonce, method }));
        fc.pre(!hasRepeatedQueryNames(request.publicUrl));
        expect(sdkAcceptsV3(request, token)).toBe(true);
        expect(createPlivoAdapter({ authTokens: [token], acceptV2: false }).verify(request)).toEqual({ ok: true });
      }),
      { seed: FC_SEED, numRuns: 400 },
    );
  });

  it("validateSignature (V2) accepts what signPlivoRequest signs as V2", () => {
    fc.assert(
      fc.property(tokenArb, shapedParamsArb, shapedQueryArb, nonceArb, methodArb, (token, pairs, query, nonce, method) => {
        const signed = signPlivoRequest({ secret: token, params: pairs, path: pathOf(query), nonce, method, version: "v2" });
        const request = inbound(signed);
        expect(validateV2Signature(request.publicUrl, nonce, signed.headers["x-plivo-signature-v2"]!, token)).toBe(true);
        expect(createPlivoAdapter({ authTokens: [token], acceptV2: true }).verify(request)).toEqual({ ok: true });
      }),
      { seed: FC_SEED, numRuns: 200 },
    );
  });

  it("for a random single mutation, we accept only what validateV3Signature accepts, and refuse what it accepts only as a re-split", () => {
    const urlChar = fc.constantFrom(..."abcXYZ019=&%+._~-/");
    const b64Char = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    const mutationArb = fc.oneof(
      fc.record({ kind: fc.constant("body" as const), at: fc.nat(), byte: fc.integer({ min: 0x20, max: 0x7e }) }),
      fc.record({ kind: fc.constant("signature" as const), at: fc.nat(), char: b64Char }),
      fc.record({ kind: fc.constant("nonce" as const), nonce: nonceArb }),
      fc.record({ kind: fc.constant("url" as const), at: fc.nat(), char: urlChar }),
      fc.record({ kind: fc.constant("token" as const), token: tokenArb }),
      fc.record({ kind: fc.constant("method" as const) }),
    );
    let refused = 0;
    fc.assert(
      fc.property(tokenArb, shapedParamsArb, shapedQueryArb, nonceArb, mutationArb, (token, pairs, query, nonce, mutation) => {
        const signed = signPlivoRequest({ secret: token, params: pairs, path: pathOf(query), nonce });
        const original = inbound(signed);
        let request = original;
        let verifyToken = token;
        switch (mutation.kind) {
          case "body": {
            const body = Buffer.from(original.rawBody);
            const at = mutation.at % body.length;
            body[at] = mutation.byte;
            request = { ...original, rawBody: body };
            break;
          }
          case "signature": {
            const s = signed.headers["x-plivo-signature-v3"]!;
            const at = mutation.at % s.length;
            request = { ...original, headers: { ...original.headers, "x-plivo-signature-v3": s.slice(0, at) + mutation.char + s.slice(at + 1) } };
            break;
          }
          case "nonce":
            request = { ...original, headers: { ...original.headers, "x-plivo-signature-v3-nonce": mutation.nonce } };
            break;
          case "url": {
            // The part after the configured base: what arrives on the wire.
            const tail = original.publicUrl.slice(HARNESS_PUBLIC_BASE_URL.length);
            const at = mutation.at % tail.length;
            request = { ...original, publicUrl: HARNESS_PUBLIC_BASE_URL + tail.slice(0, at) + mutation.char + tail.slice(at + 1) };
            break;
          }
          case "token":
            verifyToken = mutation.token;
            break;
          case "method":
            request = { ...original, method: "GET" };
            break;
        }
        fc.pre(!hasRepeatedQueryNames(request.publicUrl));
        const verdict = createPlivoAdapter({ authTokens: [verifyToken], acceptV2: false }).verify(request);
        const sdk = sdkAcceptsV3(request, verifyToken);
        // The same signature over other parameters (`MessageUUID=…` turned into `MessageUUID&…`):
        // the SDK checks the signature only; we also refuse the re-split reading (resplit.ts).
        if (verdict.ok) expect(sdk).toBe(true);
        else if (sdk) expect(verdict.reason).toMatch(/re-split/);
        if (!verdict.ok) refused += 1;
      }),
      { seed: FC_SEED, numRuns: 1_000 },
    );
    // Most mutations change what is signed; the few that do not (a `+` for a space…) are accepted by both.
    expect(refused).toBeGreaterThan(700);
  });
});

describe("V3 verification refuses, one mutated field at a time", () => {
  it("accepts the untouched request (the baseline of every case below), POST and GET", () => {
    expect(adapter.verify(inbound(signedSms()))).toEqual({ ok: true });
    expect(adapter.verify(inbound(signedSms({ method: "GET" })))).toEqual({ ok: true });
  });

  it("without any signature header: WEBHOOK_SIGNATURE_MISSING", () => {
    expect(refusal(inbound(signedSms(), { headers: { "content-type": "application/x-www-form-urlencoded" } }))).toBe("WEBHOOK_SIGNATURE_MISSING");
  });

  it("a V3 signature without its nonce: WEBHOOK_SIGNATURE_MISSING", () => {
    const request = inbound(signedSms());
    const { "x-plivo-signature-v3-nonce": _nonce, ...headers } = request.headers;
    expect(refusal({ ...request, headers })).toBe("WEBHOOK_SIGNATURE_MISSING");
  });

  it("with no auth token configured, even a valid request: WEBHOOK_NOT_CONFIGURED", () => {
    expect(refusal(inbound(signedSms()), { authTokens: [] })).toBe("WEBHOOK_NOT_CONFIGURED");
    expect(refusal(inbound(signedSms({ version: "v2" })), { authTokens: [], acceptV2: true })).toBe("WEBHOOK_NOT_CONFIGURED");
  });

  it("a changed body byte (one digit of the code)", () => {
    const signed = signedSms();
    const body = signed.body.replace("482913", "482914");
    expect(body).not.toBe(signed.body);
    expect(refusal(inbound({ ...signed, body }))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it.each([
    ["From", "33698765432"],
    ["To", "447400000124"],
    ["MessageUUID", "00000000-0000-0000-0000-000000000000"],
    ["Text", "Acme: your code is 000000"],
    ["Units", "2"],
    ["Type", "mms"],
  ])("a changed parameter: %s", (name, value) => {
    const signed = signedSms();
    const form = new URLSearchParams(signed.body);
    form.set(name, value);
    expect(refusal(inbound({ ...signed, body: form.toString() }))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("an added, a removed or a renamed parameter", () => {
    const signed = signedSms();
    expect(refusal(inbound({ ...signed, body: `${signed.body}&Extra=1` }))).toBe("WEBHOOK_SIGNATURE_INVALID");
    expect(refusal(inbound({ ...signed, body: `${signed.body}&Text=second` }))).toBe("WEBHOOK_SIGNATURE_INVALID");
    const removed = new URLSearchParams(signed.body);
    removed.delete("TotalRate");
    expect(refusal(inbound({ ...signed, body: removed.toString() }))).toBe("WEBHOOK_SIGNATURE_INVALID");
    expect(refusal(inbound({ ...signed, body: signed.body.replace("TotalRate=", "totalRate=") }))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("a changed signature: one character, truncated, non-canonical Base64, or garbage", () => {
    const request = inbound(signedSms());
    const signature = request.headers["x-plivo-signature-v3"]!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // The last Base64 character of a 32-byte digest carries 2 padding bits: its neighbour decodes to the same bytes.
    const sameBytes = signature.slice(0, 42) + alphabet[alphabet.indexOf(signature[42]!) ^ 1] + "=";
    expect(Buffer.from(sameBytes, "base64").equals(Buffer.from(signature, "base64"))).toBe(true);
    const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
    for (const mutated of [flipped, signature.slice(0, -2), sameBytes, "garbage", ","]) {
      expect(refusal({ ...request, headers: { ...request.headers, "x-plivo-signature-v3": mutated } })).toBe("WEBHOOK_SIGNATURE_INVALID");
    }
  });

  it("a changed or malformed nonce", () => {
    const request = inbound(signedSms({ nonce: "05429567804466091622" }));
    for (const nonce of ["05429567804466091623", "5429567804466091622", "05429567804466091622 ", "1".repeat(201), "nonce with spaces"]) {
      expect(refusal({ ...request, headers: { ...request.headers, "x-plivo-signature-v3-nonce": nonce } })).toBe("WEBHOOK_SIGNATURE_INVALID");
    }
  });

  it("a different URL: path, configured query, scheme, port, or the Host the request claims instead of PUBLIC_BASE_URL", () => {
    const signed = signedSms({ path: `${PLIVO_INBOUND_PATH}?tenant=1` });
    expect(adapter.verify(inbound(signed))).toEqual({ ok: true });
    const base = `${HARNESS_PUBLIC_BASE_URL}${signed.path}`;
    for (const publicUrl of [
      base.replace("/plivo?", "/plivo/?"),
      base.replace("tenant=1", "tenant=2"),
      base.replace("?tenant=1", ""),
      base.replace("https://", "http://"),
      base.replace("otp.example.test", "otp.example.test:443"),
      base.replace("otp.example.test", "127.0.0.1:3000"),
    ]) {
      expect(refusal(inbound(signed, { publicUrl }))).toBe("WEBHOOK_SIGNATURE_INVALID");
    }
  });

  it("a GET whose query (the message) was changed, or a POST replayed as a GET", () => {
    const get = signedSms({ method: "GET" });
    expect(refusal(inbound({ ...get, path: get.path.replace("482913", "482914") }))).toBe("WEBHOOK_SIGNATURE_INVALID");
    expect(refusal(inbound({ ...get, path: `${get.path}&Extra=1` }))).toBe("WEBHOOK_SIGNATURE_INVALID");
    expect(refusal(inbound({ ...signedSms(), method: "GET" }))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("a request signed with another auth token", () => {
    expect(refusal(inbound(signPlivoRequest({ secret: OTHER_TOKEN, params: sms() })))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("the same request later still verifies: Plivo signs no time, so MessageUUID dedup is the replay defence", () => {
    const request = inbound(signedSms());
    expect(adapter.verify({ ...request, receivedAt: new Date(RECEIVED_AT.getTime() + 365 * 24 * 3600 * 1000) })).toEqual({ ok: true });
  });
});

describe("several signatures, main-account signatures and rotation", () => {
  it("accepts a header holding several comma-separated signatures when one matches (as validateV3Signature does)", () => {
    const request = inbound(signedSms());
    const valid = request.headers["x-plivo-signature-v3"]!;
    const other = inbound(signPlivoRequest({ secret: OTHER_TOKEN, params: sms(), nonce: request.headers["x-plivo-signature-v3-nonce"]! })).headers["x-plivo-signature-v3"]!;
    for (const header of [`${other},${valid}`, `${valid},${other}`, `${other}, ${valid}`]) {
      expect(adapter.verify({ ...request, headers: { ...request.headers, "x-plivo-signature-v3": header } })).toEqual({ ok: true });
    }
    expect(validateV3Signature("POST", request.publicUrl, request.headers["x-plivo-signature-v3-nonce"]!, TOKEN, `${other},${valid}`, sdkParams(request.rawBody.toString()))).toBe(true);
    expect(refusal({ ...request, headers: { ...request.headers, "x-plivo-signature-v3": `${other},${other}` } })).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("accepts X-Plivo-Signature-Ma-V3 (main account token) alone or beside a V3 signature of a subaccount token we do not hold", () => {
    const nonce = "12345678901234567890";
    const main = signPlivoRequest({ secret: TOKEN, params: sms(), nonce, version: "ma-v3" });
    expect(adapter.verify(inbound(main))).toEqual({ ok: true });
    const sub = signPlivoRequest({ secret: OTHER_TOKEN, params: sms(), nonce });
    const both = inbound({ ...main, body: sub.body, headers: { ...sub.headers, "x-plivo-signature-ma-v3": main.headers["x-plivo-signature-ma-v3"]! } });
    // The two signed the same parameters; only the main-account one is ours.
    expect(new URLSearchParams(sub.body).get("Text")).toBe(new URLSearchParams(main.body).get("Text"));
    expect(refusal(inbound(sub))).toBe("WEBHOOK_SIGNATURE_INVALID");
    expect(adapter.verify({ ...both, rawBody: Buffer.from(main.body) })).toEqual({ ok: true });
  });

  it("every configured token is tried, in any order", () => {
    const request = inbound(signedSms());
    expect(createPlivoAdapter({ authTokens: [OTHER_TOKEN, TOKEN], acceptV2: false }).verify(request)).toEqual({ ok: true });
    expect(createPlivoAdapter({ authTokens: [TOKEN, OTHER_TOKEN], acceptV2: false }).verify(request)).toEqual({ ok: true });
    expect(refusal(request, { authTokens: [OTHER_TOKEN] })).toBe("WEBHOOK_SIGNATURE_INVALID");
  });
});

describe("V2 signatures, which leave the body unsigned", () => {
  it("are refused when PLIVO_ACCEPT_V2 is off (the default): WEBHOOK_SIGNATURE_MISSING, saying why", () => {
    for (const version of ["v2", "ma-v2"] as const) {
      const verdict = adapter.verify(inbound(signedSms({ version })));
      expect(verdict).toEqual({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING", reason: expect.stringContaining("PLIVO_ACCEPT_V2") });
    }
  });

  it("are accepted when PLIVO_ACCEPT_V2 is on, from either header", () => {
    expect(adapterV2.verify(inbound(signedSms({ version: "v2" })))).toEqual({ ok: true });
    expect(adapterV2.verify(inbound(signedSms({ version: "ma-v2" })))).toEqual({ ok: true });
  });

  it("cover neither the body nor the query: a changed message still verifies (why V2 is off by default)", () => {
    const signed = signedSms({ version: "v2" });
    const forged = inbound({ ...signed, body: signed.body.replace("482913", "999999") });
    expect(adapterV2.verify(forged)).toEqual({ ok: true });
    expect(adapterV2.verify(inbound(signed, { publicUrl: `${INBOUND_URL}?anything=else` }))).toEqual({ ok: true });
  });

  it("still refuse a changed path, nonce, signature, token, or a missing nonce", () => {
    const request = inbound(signedSms({ version: "v2", nonce: "11112222333344445555" }));
    const signature = request.headers["x-plivo-signature-v2"]!;
    expect(refusal({ ...request, publicUrl: `${HARNESS_PUBLIC_BASE_URL}/v1/inbound/plivo2` }, { acceptV2: true })).toBe("WEBHOOK_SIGNATURE_INVALID");
    expect(refusal({ ...request, headers: { ...request.headers, "x-plivo-signature-v2-nonce": "11112222333344445556" } }, { acceptV2: true })).toBe(
      "WEBHOOK_SIGNATURE_INVALID",
    );
    expect(refusal({ ...request, headers: { ...request.headers, "x-plivo-signature-v2": (signature[0] === "A" ? "B" : "A") + signature.slice(1) } }, { acceptV2: true })).toBe(
      "WEBHOOK_SIGNATURE_INVALID",
    );
    expect(refusal(request, { acceptV2: true, authTokens: [OTHER_TOKEN] })).toBe("WEBHOOK_SIGNATURE_INVALID");
    const { "x-plivo-signature-v2-nonce": _n, ...headers } = request.headers;
    expect(refusal({ ...request, headers }, { acceptV2: true })).toBe("WEBHOOK_SIGNATURE_MISSING");
  });

  it("never rescue a present but wrong V3 signature", () => {
    const v2 = signedSms({ version: "v2" });
    const wrongV3 = signPlivoRequest({ secret: OTHER_TOKEN, params: sms() });
    const request = inbound({ ...v2, headers: { ...v2.headers, ...wrongV3.headers } });
    expect(refusal(request, { acceptV2: true })).toBe("WEBHOOK_SIGNATURE_INVALID");
  });
});

describe("parsing Plivo's inbound message", () => {
  it("reads the documented payload into one message, numbers as the bare digits Plivo sends", () => {
    const params = plivoInboundParams({ from: "+33612345678", to: "+447400000123", text: "Acme: your code is 482913", messageUuid: "9d2d2a2c-6b1e-11ef-9c5a-0242ac120002" });
    expect(adapter.parse(inbound(signPlivoRequest({ secret: TOKEN, params })))).toEqual([
      { providerMessageId: "9d2d2a2c-6b1e-11ef-9c5a-0242ac120002", from: "33612345678", to: "447400000123", text: "Acme: your code is 482913", parts: 1 },
    ]);
  });

  it("reads a GET request's parameters from the query", () => {
    const params = plivoInboundParams({ from: "+33612345678", to: "+447400000123", text: "code 482 913", messageUuid: "uuid-get", units: 2 });
    expect(adapter.parse(inbound(signPlivoRequest({ secret: TOKEN, params, method: "GET" })))).toEqual([
      { providerMessageId: "uuid-get", from: "33612345678", to: "447400000123", text: "code 482 913", parts: 2 },
    ]);
  });

  it("reads a POST's message from the body, never from the configured query", () => {
    const params = plivoInboundParams({ from: "+33612345678", to: "+447400000123", text: "482913" });
    const signed = signPlivoRequest({ secret: TOKEN, params, path: `${PLIVO_INBOUND_PATH}?From=15555550100&Text=999999` });
    expect(adapter.parse(inbound(signed))).toEqual([expect.objectContaining({ from: "33612345678", text: "482913" })]);
  });

  it("keeps Units as the part count only when it is a positive number", () => {
    const parse = (units: string | undefined) => {
      const params: Record<string, string> = { MessageUUID: "u1", From: "33612345678", To: "447400000123", Text: "x" };
      if (units !== undefined) params.Units = units;
      return adapter.parse(inbound(signPlivoRequest({ secret: TOKEN, params })))[0]!.parts;
    };
    expect(parse("3")).toBe(3);
    expect(parse(undefined)).toBeUndefined();
    expect(parse("0")).toBeUndefined();
    expect(parse("x")).toBeUndefined();
  });

  it("reads the text of an MMS from Body", () => {
    const params = { MessageUUID: "u1", From: "33612345678", To: "447400000123", Type: "mms", Body: "482913", MediaCount: "1", Media0: "https://media.plivo.com/x" };
    expect(adapter.parse(inbound(signPlivoRequest({ secret: TOKEN, params })))).toEqual([
      { providerMessageId: "u1", from: "33612345678", to: "447400000123", text: "482913" },
    ]);
  });

  it("produces no message for WhatsApp messages and delivery reports", () => {
    const whatsapp = { ...sms(), Type: "whatsapp", Body: "482913", ContentType: "text" };
    const deliveryReport = { MessageUUID: "u1", From: "447400000123", To: "33612345678", Status: "delivered", Units: "1", TotalRate: "0.0035" };
    for (const params of [whatsapp, deliveryReport]) {
      expect(adapter.parse(inbound(signPlivoRequest({ secret: TOKEN, params })))).toEqual([]);
    }
  });

  it.each([
    ["without MessageUUID", { From: "33612345678", To: "447400000123", Text: "x" }],
    ["with a sender over 64 characters", { MessageUUID: UUID, From: "3".repeat(65), To: "447400000123", Text: "x" }],
    ["with a Text over 10,000 characters", { MessageUUID: UUID, From: "33612345678", To: "447400000123", Text: "x".repeat(10_001) }],
  ])("refuses an authentic payload %s: WEBHOOK_PAYLOAD_INVALID", (_name, params) => {
    const request = inbound(signPlivoRequest({ secret: TOKEN, params }));
    expect(adapter.verify(request)).toEqual({ ok: true });
    expect(() => adapter.parse(request)).toThrow(expect.objectContaining({ name: "AppError", code: "WEBHOOK_PAYLOAD_INVALID", status: 400 }));
  });

  // A MessageUUID that is not a UUID (Plivo documents a 36-character UUID) is what a re-split
  // request looks like (resplit.ts): refused as forged, even with a matching signature.
  it.each([
    ["short", "u1"],
    ["over 200 characters", "u".repeat(201)],
    ["holding a space", "u 1"],
    ["with the next parameter folded in", `${UUID}PowerpackUUID`],
    ["one character short", UUID.slice(1)],
  ])("refuses a signed request whose MessageUUID is %s as forged: WEBHOOK_SIGNATURE_INVALID", (_name, uuid) => {
    for (const method of ["POST", "GET"] as const) {
      const request = inbound(signPlivoRequest({ secret: TOKEN, params: { MessageUUID: uuid, From: "33612345678", To: "447400000123", Text: "x" }, method }));
      expect(refusal(request)).toBe("WEBHOOK_SIGNATURE_INVALID");
    }
  });

  // Plivo always sends From and To; a message without one had it swallowed by a neighbour.
  it.each([
    ["without From", { MessageUUID: UUID, To: "447400000123", Text: "x" }],
    ["without To", { MessageUUID: UUID, From: "33612345678", Text: "x" }],
  ])("refuses a signed message %s as forged: WEBHOOK_SIGNATURE_INVALID", (_name, params) => {
    expect(refusal(inbound(signPlivoRequest({ secret: TOKEN, params })))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("refuses a payload that names the sender, the text or the id twice", () => {
    for (const extra of ["&Text=other", "&From=33698765432", "&MessageUUID=u2"]) {
      const rawBody = Buffer.from(`MessageUUID=u1&From=33612345678&To=447400000123&Text=482913${extra}`);
      expect(() => adapter.parse({ method: "POST", publicUrl: INBOUND_URL, headers: {}, rawBody, receivedAt: RECEIVED_AT })).toThrow(
        expect.objectContaining({ code: "WEBHOOK_PAYLOAD_INVALID" }),
      );
    }
  });
});

describe("the answer", () => {
  it("is 200 with an empty Plivo XML <Response/>, as the plivo package renders it, for every outcome", () => {
    const expected = { status: 200, contentType: "application/xml", body: EMPTY_PLIVO_XML };
    expect(adapter.acknowledge([{ providerMessageId: "u1", outcome: "verified" }])).toEqual(expected);
    expect(adapter.acknowledge([{ providerMessageId: "u1", outcome: "duplicate" }])).toEqual(expected);
    expect(adapter.acknowledge([])).toEqual(expected);
    expect(new PlivoXmlResponse().toXML()).toBe(EMPTY_PLIVO_XML);
  });

  it("the adapter takes POST and GET and is signed, not path-token authenticated", () => {
    expect([...adapter.methods].sort()).toEqual(["GET", "POST"]);
    expect(adapter.usesPathToken).toBe(false);
    expect(adapter.name).toBe("plivo");
  });
});
