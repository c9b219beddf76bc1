// Twilio inbound webhooks: the published known-answer vector, the official `twilio` package as an
// oracle (`getExpectedTwilioSignature` computes, `validateRequest` checks), one mutated field per
// refusal, token rotation, and parsing of Twilio's documented inbound payload.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import MessagingResponse from "twilio/lib/twiml/MessagingResponse.js";
import { getExpectedTwilioSignature, validateRequest } from "twilio/lib/webhooks/webhooks.js";
import type { InboundRequest } from "../../../src/providers/provider.js";
import {
  EMPTY_TWIML,
  computeTwilioSignature,
  createTwilioAdapter,
  twilioUrlCandidates,
} from "../../../src/providers/twilio/adapter.js";
import {
  HARNESS_PUBLIC_BASE_URL,
  TWILIO_INBOUND_PATH,
  signTwilioRequest,
  twilioInboundParams,
  type SignedTwilioRequest,
} from "../../support/providers/twilio.js";

const FC_SEED = 20_261_123;
const TOKEN = "0123456789abcdef0123456789abcdef";
/** A MessageSid of Twilio's form. */
const SID = "SM0123456789abcdef0123456789abcdef";
const OTHER_TOKEN = "fedcba9876543210fedcba9876543210";
const RECEIVED_AT = new Date("2031-05-04T10:00:00.000Z");
const INBOUND_URL = `${HARNESS_PUBLIC_BASE_URL}${TWILIO_INBOUND_PATH}`;

/** The worked example of Twilio's security documentation, listed in PROVIDERS.md. */
const VECTOR = {
  authToken: "12345",
  url: "https://mycompany.com/myapp.php?foo=1&bar=2",
  params: {
    CallSid: "CA1234567890ABCDE",
    Caller: "+12349013030",
    Digits: "1234",
    From: "+12349013030",
    To: "+18005551212",
  },
  signature: "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
} as const;

const adapter = createTwilioAdapter({ authTokens: [TOKEN] });

/** The InboundRequest the route would build from a signed request. */
function inbound(signed: SignedTwilioRequest, overrides: Partial<InboundRequest> = {}): InboundRequest {
  return {
    method: signed.method,
    publicUrl: `${HARNESS_PUBLIC_BASE_URL}${signed.path}`,
    headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v])),
    rawBody: Buffer.from(signed.body, "utf8"),
    receivedAt: RECEIVED_AT,
    ...overrides,
  };
}

/** Form fields as an Express `urlencoded` parser hands them to the SDK: repeated names as arrays. */
function sdkParams(form: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(form)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const sms = () => twilioInboundParams({ from: "+33612345678", to: "+447400000123", body: "Acme: your code is 482913" });
const signedSms = (options: Partial<Parameters<typeof signTwilioRequest>[0]> = {}) =>
  signTwilioRequest({ secret: TOKEN, params: sms(), ...options });

function refusal(request: InboundRequest, authTokens: readonly string[] = [TOKEN]) {
  const verdict = createTwilioAdapter({ authTokens }).verify(request);
  expect(verdict.ok).toBe(false);
  return verdict.ok ? undefined : verdict.code;
}

describe("the published Twilio vector", () => {
  it("computeTwilioSignature produces the documented signature", () => {
    expect(computeTwilioSignature(VECTOR.authToken, VECTOR.url, Object.entries(VECTOR.params))).toBe(VECTOR.signature);
  });

  it("the twilio package computes the same signature (so it can serve as the oracle below)", () => {
    expect(getExpectedTwilioSignature(VECTOR.authToken, VECTOR.url, { ...VECTOR.params })).toBe(VECTOR.signature);
  });

  it("the adapter accepts the documented request, whatever order the form fields arrive in", () => {
    const vectorAdapter = createTwilioAdapter({ authTokens: [VECTOR.authToken] });
    for (const entries of [Object.entries(VECTOR.params), Object.entries(VECTOR.params).reverse()]) {
      const request: InboundRequest = {
        method: "POST",
        publicUrl: VECTOR.url,
        headers: { "x-twilio-signature": VECTOR.signature },
        rawBody: Buffer.from(new URLSearchParams(entries).toString()),
        receivedAt: RECEIVED_AT,
      };
      expect(vectorAdapter.verify(request)).toEqual({ ok: true });
    }
  });
});

describe("agreement with the official twilio package", () => {
  const nameArb = fc.oneof(fc.constantFrom("Body", "From", "To", "MessageSid", "NumSegments", "body", "Body2"), fc.string({ minLength: 1, maxLength: 12 }));
  const valueArb = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 20 }), fc.string({ unit: "binary", maxLength: 20 }));
  const paramsArb = fc.array(fc.tuple(nameArb, valueArb), { maxLength: 12 });
  // Requests of the shape Twilio sends, which the adapter accepts once the signature matches
  // (resplit.ts refuses other readings of the signed text): names of Twilio's form, no `F` in
  // generated names and values (so no stray `From`), and a MessageSid of Twilio's form.
  const shapedNameArb = fc.stringMatching(/^[A-EG-Z][A-Za-eg-z0-9]{0,11}$/).filter((n) => !["MessageSid", "SmsSid", "SmsMessageSid", "To"].includes(n));
  const shapedParamsArb = fc
    .tuple(fc.array(fc.tuple(shapedNameArb, valueArb.map((v) => v.replaceAll("F", "f"))), { maxLength: 12 }), fc.uint8Array({ minLength: 16, maxLength: 16 }))
    .map(
      ([pairs, bytes]) =>
        [...pairs, ["MessageSid", `SM${Buffer.from(bytes).toString("hex")}`], ["From", "+33612345678"], ["To", "+447400000123"]] as [string, string][],
    );
  const tokenArb = fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 32, maxLength: 32 });
  const queryArb = fc.option(fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 3 }), { nil: undefined });
  const pathWithQuery = (query: [string, string][] | undefined) => (query ? `${TWILIO_INBOUND_PATH}?${new URLSearchParams(query)}` : TWILIO_INBOUND_PATH);

  it("computeTwilioSignature equals getExpectedTwilioSignature for random forms and URLs", () => {
    fc.assert(
      fc.property(tokenArb, paramsArb, queryArb, (token, pairs, query) => {
        const url = `${HARNESS_PUBLIC_BASE_URL}${pathWithQuery(query)}`;
        const form = new URLSearchParams(pairs).toString();
        const decoded = [...new URLSearchParams(form)];
        expect(computeTwilioSignature(token, url, decoded)).toBe(getExpectedTwilioSignature(token, url, sdkParams(form)));
      }),
      { seed: FC_SEED, numRuns: 400 },
    );
  });

  it("the adapter accepts POST and GET requests of Twilio's shape signed by getExpectedTwilioSignature", () => {
    fc.assert(
      fc.property(tokenArb, shapedParamsArb, queryArb, (token, pairs, query) => {
        const form = new URLSearchParams(pairs).toString();
        const path = pathWithQuery(query);
        const post: InboundRequest = {
          method: "POST",
          publicUrl: `${HARNESS_PUBLIC_BASE_URL}${path}`,
          headers: { "x-twilio-signature": getExpectedTwilioSignature(token, `${HARNESS_PUBLIC_BASE_URL}${path}`, sdkParams(form)) },
          rawBody: Buffer.from(form),
          receivedAt: RECEIVED_AT,
        };
        expect(createTwilioAdapter({ authTokens: [token] }).verify(post)).toEqual({ ok: true });

        const getUrl = `${HARNESS_PUBLIC_BASE_URL}${path}${form ? `${query ? "&" : "?"}${form}` : ""}`;
        const get: InboundRequest = {
          method: "GET",
          publicUrl: getUrl,
          headers: { "x-twilio-signature": getExpectedTwilioSignature(token, getUrl, {}) },
          rawBody: Buffer.alloc(0),
          receivedAt: RECEIVED_AT,
        };
        expect(createTwilioAdapter({ authTokens: [token] }).verify(get)).toEqual({ ok: true });
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
  });

  it("validateRequest accepts what signTwilioRequest signs, POST and GET", () => {
    fc.assert(
      fc.property(tokenArb, paramsArb, fc.constantFrom("POST" as const, "GET" as const), (token, pairs, method) => {
        const signed = signTwilioRequest({ secret: token, params: pairs, method });
        const url = `${HARNESS_PUBLIC_BASE_URL}${signed.path}`;
        expect(validateRequest(token, signed.headers["x-twilio-signature"]!, url, method === "POST" ? sdkParams(signed.body) : {})).toBe(true);
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
  });

  it("a random single mutation is refused when it changes what Twilio signs, and when it only re-splits it", () => {
    const mutationArb = fc.oneof(
      fc.record({ kind: fc.constant("body" as const), at: fc.nat(), byte: fc.integer({ min: 0x20, max: 0x7e }) }),
      fc.record({ kind: fc.constant("header" as const), at: fc.nat(), char: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") }),
      fc.record({ kind: fc.constant("url" as const), at: fc.nat(), char: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }) }),
      fc.record({ kind: fc.constant("token" as const), token: tokenArb }),
    );
    fc.assert(
      fc.property(tokenArb, shapedParamsArb, mutationArb, (token, pairs, mutation) => {
        const signed = signTwilioRequest({ secret: token, params: pairs });
        const request = inbound(signed);
        const signature = signed.headers["x-twilio-signature"]!;
        switch (mutation.kind) {
          case "body": {
            const body = Buffer.from(signed.body);
            const at = mutation.at % body.length;
            if (body[at] === mutation.byte) return;
            body[at] = mutation.byte;
            // Twilio signs the decoded fields, not the bytes: `+` and `%20` are the same space.
            const unchanged = getExpectedTwilioSignature(token, INBOUND_URL, sdkParams(body.toString())) === signature;
            const verdict = createTwilioAdapter({ authTokens: [token] }).verify({ ...request, rawBody: body });
            // The same signature over other parameters (`MessageSid=…` turned into `MessageSid&…`)
            // is a re-split: refused although it matches (resplit.ts).
            if (verdict.ok || !unchanged) expect(verdict.ok).toBe(unchanged);
            else expect(verdict.reason).toMatch(/re-split/);
            return;
          }
          case "header": {
            const at = mutation.at % signature.length;
            if (signature[at] === mutation.char) return;
            const mutated = signature.slice(0, at) + mutation.char + signature.slice(at + 1);
            expect(refusal({ ...request, headers: { ...request.headers, "x-twilio-signature": mutated } }, [token])).toBe("WEBHOOK_SIGNATURE_INVALID");
            expect(validateRequest(token, mutated, INBOUND_URL, sdkParams(signed.body))).toBe(false);
            return;
          }
          case "url": {
            // The part after the configured base: what arrives on the wire.
            const at = HARNESS_PUBLIC_BASE_URL.length + (mutation.at % TWILIO_INBOUND_PATH.length);
            if (INBOUND_URL[at] === mutation.char) return;
            const mutated = INBOUND_URL.slice(0, at) + mutation.char + INBOUND_URL.slice(at + 1);
            expect(refusal({ ...request, publicUrl: mutated }, [token])).toBe("WEBHOOK_SIGNATURE_INVALID");
            return;
          }
          case "token": {
            if (mutation.token === token) return;
            expect(refusal(request, [mutation.token])).toBe("WEBHOOK_SIGNATURE_INVALID");
            expect(validateRequest(mutation.token, signature, INBOUND_URL, sdkParams(signed.body))).toBe(false);
            return;
          }
        }
      }),
      { seed: FC_SEED, numRuns: 1_000 },
    );
  });
});

describe("verification refuses, one mutated field at a time", () => {
  it("accepts the untouched request (the baseline of every case below)", () => {
    expect(adapter.verify(inbound(signedSms()))).toEqual({ ok: true });
  });

  it("without X-Twilio-Signature: WEBHOOK_SIGNATURE_MISSING", () => {
    const request = inbound(signedSms());
    expect(refusal({ ...request, headers: { "content-type": "application/x-www-form-urlencoded" } })).toBe("WEBHOOK_SIGNATURE_MISSING");
    expect(refusal({ ...request, headers: { ...request.headers, "x-twilio-signature": "" } })).toBe("WEBHOOK_SIGNATURE_MISSING");
  });

  it("with no auth token configured, even a valid request: WEBHOOK_NOT_CONFIGURED", () => {
    expect(refusal(inbound(signedSms()), [])).toBe("WEBHOOK_NOT_CONFIGURED");
  });

  it("a changed body byte (one digit of the code)", () => {
    const signed = signedSms();
    const body = signed.body.replace("482913", "482914");
    expect(body).not.toBe(signed.body);
    expect(refusal(inbound({ ...signed, body }))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it.each([
    ["From", "+33698765432"],
    ["To", "+447400000124"],
    ["MessageSid", "SM00000000000000000000000000000000"],
    ["Body", "Acme: your code is 000000"],
    ["NumSegments", "2"],
  ])("a changed parameter: %s", (name, value) => {
    const signed = signedSms();
    const form = new URLSearchParams(signed.body);
    form.set(name, value);
    expect(refusal(inbound({ ...signed, body: form.toString() }))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("an added, a removed or a renamed parameter", () => {
    const signed = signedSms();
    expect(refusal(inbound({ ...signed, body: `${signed.body}&Extra=1` }))).toBe("WEBHOOK_SIGNATURE_INVALID");
    expect(refusal(inbound({ ...signed, body: `${signed.body}&Body=second` }))).toBe("WEBHOOK_SIGNATURE_INVALID");
    const removed = new URLSearchParams(signed.body);
    removed.delete("FromCountry");
    expect(refusal(inbound({ ...signed, body: removed.toString() }))).toBe("WEBHOOK_SIGNATURE_INVALID");
    expect(refusal(inbound({ ...signed, body: signed.body.replace("FromCountry=", "fromCountry=") }))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("a changed signature header: one character, truncated, or a non-canonical Base64 spelling", () => {
    const request = inbound(signedSms());
    const signature = request.headers["x-twilio-signature"]!;
    const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
    for (const mutated of [flipped, signature.slice(0, -2), `${signature} x`, `${signature.slice(0, -1)}`, "not base64 at all"]) {
      expect(refusal({ ...request, headers: { ...request.headers, "x-twilio-signature": mutated } })).toBe("WEBHOOK_SIGNATURE_INVALID");
    }
    // The last Base64 character of a 20-byte digest carries 2 padding bits: other values decode to the same bytes.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const last = alphabet.indexOf(signature[26]!);
    const sameBytes = signature.slice(0, 26) + alphabet[last ^ 1] + "=";
    expect(Buffer.from(sameBytes, "base64").equals(Buffer.from(signature, "base64"))).toBe(true);
    expect(refusal({ ...request, headers: { ...request.headers, "x-twilio-signature": sameBytes } })).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("a different URL: path, configured query, scheme, or the Host the request claims instead of PUBLIC_BASE_URL", () => {
    const signed = signedSms({ path: `${TWILIO_INBOUND_PATH}?tenant=1` });
    expect(adapter.verify(inbound(signed))).toEqual({ ok: true });
    const base = `${HARNESS_PUBLIC_BASE_URL}${signed.path}`;
    for (const publicUrl of [
      base.replace("/twilio?", "/twilio/?"),
      base.replace("tenant=1", "tenant=2"),
      base.replace("?tenant=1", ""),
      base.replace("https://", "http://"),
      base.replace("otp.example.test", "127.0.0.1:3000"),
    ]) {
      expect(refusal(inbound(signed, { publicUrl }))).toBe("WEBHOOK_SIGNATURE_INVALID");
    }
  });

  it("a GET whose query (the message) was changed", () => {
    const signed = signedSms({ method: "GET" });
    expect(adapter.verify(inbound(signed))).toEqual({ ok: true });
    expect(refusal(inbound({ ...signed, path: signed.path.replace("482913", "482914") }))).toBe("WEBHOOK_SIGNATURE_INVALID");
    expect(refusal(inbound({ ...signed, path: `${signed.path}&Extra=1` }))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("a GET whose message was moved into a body: the body of a GET is not signed and not read", () => {
    const post = signedSms();
    expect(refusal(inbound({ ...post, method: "GET" }))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("a request signed with another auth token", () => {
    expect(refusal(inbound(signTwilioRequest({ secret: OTHER_TOKEN, params: sms() })))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("the same request later still verifies: Twilio signs no time, so MessageSid dedup is the replay defence", () => {
    const request = inbound(signedSms());
    const aYearLater = new Date(RECEIVED_AT.getTime() + 365 * 24 * 3600 * 1000);
    expect(adapter.verify({ ...request, receivedAt: aYearLater })).toEqual({ ok: true });
  });
});

describe("auth token rotation", () => {
  it("every configured token is tried, in any order", () => {
    const request = inbound(signedSms());
    expect(createTwilioAdapter({ authTokens: [OTHER_TOKEN, TOKEN] }).verify(request)).toEqual({ ok: true });
    expect(createTwilioAdapter({ authTokens: [TOKEN, OTHER_TOKEN] }).verify(request)).toEqual({ ok: true });
    expect(refusal(request, [OTHER_TOKEN])).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("the adapter keeps its own copy of the token list", () => {
    const tokens = [TOKEN];
    const own = createTwilioAdapter({ authTokens: tokens });
    tokens.length = 0;
    expect(own.verify(inbound(signedSms()))).toEqual({ ok: true });
  });
});

describe("the ports Twilio adds or drops when signing", () => {
  it("builds the URL as received, without its port, and with the scheme's default port", () => {
    expect(twilioUrlCandidates("https://otp.example.test/v1?a=1")).toEqual(["https://otp.example.test/v1?a=1", "https://otp.example.test:443/v1?a=1"]);
    expect(twilioUrlCandidates("http://otp.example.test:8080/v1")).toEqual(["http://otp.example.test:8080/v1", "http://otp.example.test/v1"]);
    expect(twilioUrlCandidates("http://[::1]:3000/v1")).toEqual(["http://[::1]:3000/v1", "http://[::1]/v1"]);
  });

  it("accepts a signature over the URL with :443 when PUBLIC_BASE_URL has no port, and the reverse", () => {
    const withPort = signedSms({ signedUrl: `https://otp.example.test:443${TWILIO_INBOUND_PATH}` });
    expect(adapter.verify(inbound(withPort))).toEqual({ ok: true });
    const withoutPort = signedSms();
    expect(adapter.verify(inbound(withoutPort, { publicUrl: `https://otp.example.test:443${TWILIO_INBOUND_PATH}` }))).toEqual({ ok: true });
  });

  it("accepts a signature without the port when PUBLIC_BASE_URL has a non-standard one, as twilio-node does", () => {
    const signed = signedSms();
    const publicUrl = `https://otp.example.test:8443${TWILIO_INBOUND_PATH}`;
    expect(adapter.verify(inbound(signed, { publicUrl }))).toEqual({ ok: true });
    expect(validateRequest(TOKEN, signed.headers["x-twilio-signature"]!, publicUrl, sdkParams(signed.body))).toBe(true);
  });

  it("refuses a signature over a port that PUBLIC_BASE_URL does not name", () => {
    const signed = signedSms({ signedUrl: `https://otp.example.test:8443${TWILIO_INBOUND_PATH}` });
    expect(refusal(inbound(signed))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });
});

describe("parsing Twilio's inbound message", () => {
  it("reads the documented payload into one message, leaving out location fields", () => {
    const params = twilioInboundParams({ from: "+33612345678", to: "+447400000123", body: "Acme: your code is 482913", messageSid: "SM0123456789abcdef0123456789abcdef", numSegments: 1 });
    const messages = adapter.parse(inbound(signTwilioRequest({ secret: TOKEN, params })));
    expect(messages).toEqual([
      { providerMessageId: "SM0123456789abcdef0123456789abcdef", from: "+33612345678", to: "+447400000123", text: "Acme: your code is 482913", parts: 1 },
    ]);
  });

  it("reads a GET request's parameters from the query", () => {
    const params = twilioInboundParams({ from: "+33612345678", to: "+447400000123", body: "code 482 913", messageSid: "SMget", numSegments: 2 });
    expect(adapter.parse(inbound(signTwilioRequest({ secret: TOKEN, params, method: "GET" })))).toEqual([
      { providerMessageId: "SMget", from: "+33612345678", to: "+447400000123", text: "code 482 913", parts: 2 },
    ]);
  });

  it("reads a POST's message from the body, never from the configured query", () => {
    const params = twilioInboundParams({ from: "+33612345678", to: "+447400000123", body: "482913", messageSid: "SMbody" });
    const signed = signTwilioRequest({ secret: TOKEN, params, path: `${TWILIO_INBOUND_PATH}?From=%2B15555550100&Body=999999` });
    expect(adapter.parse(inbound(signed))).toEqual([expect.objectContaining({ from: "+33612345678", text: "482913" })]);
  });

  it("decodes the form as Twilio encodes it: + is a space, UTF-8 percent escapes", () => {
    const rawBody = Buffer.from("MessageSid=SM1&From=%2B33612345678&To=%2B447400000123&Body=Code+482%20913+%C3%A9%F0%9F%94%91");
    const [message] = adapter.parse({ method: "POST", publicUrl: INBOUND_URL, headers: {}, rawBody, receivedAt: RECEIVED_AT });
    expect(message).toEqual({ providerMessageId: "SM1", from: "+33612345678", to: "+447400000123", text: "Code 482 913 é🔑" });
  });

  it("keeps NumSegments as the part count only when it is a positive number", () => {
    const parse = (numSegments: string | undefined) => {
      const params: Record<string, string> = { MessageSid: "SM1", From: "+33612345678", To: "+447400000123", Body: "x" };
      if (numSegments !== undefined) params.NumSegments = numSegments;
      return adapter.parse(inbound(signTwilioRequest({ secret: TOKEN, params })))[0]!.parts;
    };
    expect(parse("3")).toBe(3);
    expect(parse(undefined)).toBeUndefined();
    expect(parse("0")).toBeUndefined();
    expect(parse("many")).toBeUndefined();
  });

  it("treats a missing Body as an empty text", () => {
    const params = { MessageSid: "SM1", From: "+33612345678", To: "+447400000123" };
    expect(adapter.parse(inbound(signTwilioRequest({ secret: TOKEN, params })))).toEqual([
      { providerMessageId: "SM1", from: "+33612345678", to: "+447400000123", text: "" },
    ]);
  });

  it("produces no message for events that are not an inbound SMS: status callbacks, voice calls, WhatsApp", () => {
    const base = twilioInboundParams({ from: "+33612345678", to: "+447400000123", body: "482913" });
    const statusCallback = { ...base, SmsStatus: "delivered", MessageStatus: "delivered", Body: "" };
    const voice = { CallSid: "CA0123", From: "+33612345678", To: "+447400000123", CallStatus: "ringing" };
    const whatsapp = { ...base, From: "whatsapp:+33612345678", To: "whatsapp:+447400000123" };
    for (const params of [statusCallback, voice, whatsapp]) {
      expect(adapter.parse(inbound(signTwilioRequest({ secret: TOKEN, params })))).toEqual([]);
    }
  });

  it.each([
    ["without MessageSid", { From: "+33612345678", To: "+447400000123", Body: "x" }],
    ["with a sender over 64 characters", { MessageSid: SID, From: `+${"3".repeat(64)}`, To: "+447400000123" }],
    ["with a Body over 10,000 characters", { MessageSid: SID, From: "+33612345678", To: "+447400000123", Body: "x".repeat(10_001) }],
  ])("refuses an authentic payload %s: WEBHOOK_PAYLOAD_INVALID", (_name, params) => {
    const request = inbound(signTwilioRequest({ secret: TOKEN, params }));
    expect(adapter.verify(request)).toEqual({ ok: true });
    expect(() => adapter.parse(request)).toThrow(expect.objectContaining({ name: "AppError", code: "WEBHOOK_PAYLOAD_INVALID", status: 400 }));
  });

  // A MessageSid not of Twilio's documented form (SM/MM + 32 hex digits) is what a re-split
  // request looks like (resplit.ts): refused as forged, even with a matching signature.
  it.each([
    ["empty", ""],
    ["over 34 characters", `${SID}0`],
    ["with a space", "SM 1"],
    ["short", "SM1"],
    ["with another prefix", `CA${SID.slice(2)}`],
    ["with the next parameter folded in", `${SID}NumMedia0`],
  ])("refuses a signed request whose MessageSid is %s as forged: WEBHOOK_SIGNATURE_INVALID", (_name, sid) => {
    for (const method of ["POST", "GET"] as const) {
      const request = inbound(signTwilioRequest({ secret: TOKEN, params: { MessageSid: sid, From: "+33612345678", To: "+447400000123" }, method }));
      expect(refusal(request, [TOKEN])).toBe("WEBHOOK_SIGNATURE_INVALID");
    }
  });

  // Twilio always sends From and To; a message without one had it swallowed by a neighbour.
  it.each([
    ["without From", { MessageSid: SID, To: "+447400000123", Body: "x" }],
    ["without To", { MessageSid: SID, From: "+33612345678", Body: "x" }],
  ])("refuses a signed message %s as forged: WEBHOOK_SIGNATURE_INVALID", (_name, params) => {
    expect(refusal(inbound(signTwilioRequest({ secret: TOKEN, params })), [TOKEN])).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("refuses a payload that names the sender, the text or the id twice", () => {
    for (const extra of ["&Body=other", "&From=%2B33698765432", "&MessageSid=SM2"]) {
      const rawBody = Buffer.from(`MessageSid=SM1&From=%2B33612345678&To=%2B447400000123&Body=482913${extra}`);
      expect(() => adapter.parse({ method: "POST", publicUrl: INBOUND_URL, headers: {}, rawBody, receivedAt: RECEIVED_AT })).toThrow(
        expect.objectContaining({ code: "WEBHOOK_PAYLOAD_INVALID" }),
      );
    }
  });
});

describe("the answer", () => {
  it("is 200 with empty TwiML, the same document the twilio package renders, for every outcome", () => {
    const expected = { status: 200, contentType: "text/xml", body: EMPTY_TWIML };
    expect(adapter.acknowledge([{ providerMessageId: "SM1", outcome: "verified" }])).toEqual(expected);
    expect(adapter.acknowledge([{ providerMessageId: "SM1", outcome: "duplicate" }])).toEqual(expected);
    expect(adapter.acknowledge([])).toEqual(expected);
    expect(new MessagingResponse().toString()).toBe(EMPTY_TWIML);
  });

  it("the adapter takes POST and GET and is signed, not path-token authenticated", () => {
    expect([...adapter.methods].sort()).toEqual(["GET", "POST"]);
    expect(adapter.usesPathToken).toBe(false);
    expect(adapter.name).toBe("twilio");
  });
});
