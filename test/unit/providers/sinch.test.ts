// Sinch inbound callbacks: the HMAC signature of signed callbacks, the path-token check shared by
// the unsigned providers, and the parser.
//
// Signatures: Sinch's scheme (x-sinch-webhook-signature = Base64(HMAC-SHA256(secret, body + "." +
// nonce + "." + timestamp))) as the official Node SDK implements it — @sinch/sdk-client
// `validateWebhookSignature` / `computeSignedData` / `calculateWebhookSignature`
// (packages/sdk-client/src/utils/authorization.helper.ts of sinch/sinch-sdk-node), used by
// `SmsCallbackWebhooks.validateAuthenticationHeader` of @sinch/sms (added May 2025, "Support
// webhooks headers validation for SMS"). The known-answer vector is the SDK's own SMS test
// (packages/sms/tests/rest/v1/callbacks/callbacks-webhook.test.ts); the installed @sinch/sdk-core
// (dev dependency) is the oracle for random requests and their single mutations.
//
// The path token has no vector or oracle (it is ours), so it is tested on its own terms: the exact
// token passes, every near miss is refused with the right code, rotation lists and empty lists
// behave, and random tokens with random single mutations (fast-check, seeded) are refused. The
// parser is tested on a payload shaped like Sinch's documented `mo_text`, one malformed field per case.
import { describe, expect, it } from "@jest/globals";
import { SmsCallbackWebhooks } from "@sinch/sdk-core";
import fc from "fast-check";
import { createPathTokenVerifier, MAX_PATH_TOKEN_CHARS } from "../../../src/providers/path-token.js";
import { parseProviderTimestamp } from "../../../src/providers/payload.js";
import { createSinchAdapter, SINCH_MAX_AGE_SECONDS, SINCH_MAX_FUTURE_SECONDS, signSinchCallback, verifySinchSignature } from "../../../src/providers/sinch/adapter.js";
import type { InboundRequest } from "../../../src/providers/provider.js";
import { AppError } from "../../../src/shared/errors.js";
import { pathTokenNearMisses, toInboundRequest } from "../../support/providers/path-token.js";
import { signSinchHmacRequest, signSinchRequest, sinchMoText } from "../../support/providers/sinch.js";

const FC_SEED = 20_261_123;
const NOW = new Date("2031-05-04T10:00:00.000Z");
const TOKEN = "sinchTok_9fK2-xQ7mZ4pL8vR3nW6yB1cD5hJ0gT";
const OTHER_TOKEN = "rotatedTok_Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5";

/** Tokens as config.ts accepts them: 32–200 characters of [A-Za-z0-9_-]. */
const tokenArb = fc.string({
  unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-".split("")),
  minLength: 32,
  maxLength: 200,
});

function request(overrides: { token?: string | undefined; payload?: unknown } = {}): InboundRequest {
  const token = "token" in overrides ? overrides.token : TOKEN;
  const payload = overrides.payload ?? sinchMoText({ from: "+33612345678", to: "+447400000123", body: "Acme: 123456", receivedAt: NOW });
  return toInboundRequest(signSinchRequest({ token, payload }), { receivedAt: NOW });
}

function parseError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected the payload to be refused");
}

describe("the path-token check", () => {
  const verify = createPathTokenVerifier([TOKEN]);

  it("accepts the configured token", () => {
    expect(verify(TOKEN)).toEqual({ ok: true });
  });

  it("answers WEBHOOK_SIGNATURE_MISSING when the path holds no token", () => {
    expect(verify(undefined)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING" });
    expect(verify("")).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING" });
  });

  it.each(pathTokenNearMisses(TOKEN))("refuses a token with its $name as WEBHOOK_SIGNATURE_INVALID", ({ presented }) => {
    expect(verify(presented)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("refuses another well-formed token and an over-long one", () => {
    expect(verify(OTHER_TOKEN)).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
    expect(verify(TOKEN.repeat(20))).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
    expect(verify("x".repeat(MAX_PATH_TOKEN_CHARS + 1))).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("accepts every token of a rotation list and nothing else", () => {
    const rotating = createPathTokenVerifier([OTHER_TOKEN, TOKEN]);
    expect(rotating(TOKEN)).toEqual({ ok: true });
    expect(rotating(OTHER_TOKEN)).toEqual({ ok: true });
    expect(rotating(`${TOKEN}${OTHER_TOKEN}`)).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
    expect(createPathTokenVerifier([OTHER_TOKEN])(TOKEN)).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("refuses everything with WEBHOOK_NOT_CONFIGURED when no token is configured", () => {
    const unconfigured = createPathTokenVerifier([]);
    expect(unconfigured(TOKEN)).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
    expect(unconfigured(undefined)).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
    expect(unconfigured("")).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
  });

  it("accepts random configured tokens and refuses each random single-character mutation (property)", () => {
    const mutationArb = fc.oneof(
      fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), char: fc.string({ minLength: 1, maxLength: 1 }) }),
      fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), char: fc.string({ minLength: 1, maxLength: 1 }) }),
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), char: fc.constant("") }),
      fc.record({ kind: fc.constant("flipCase" as const), at: fc.nat(), char: fc.constant("") }),
    );
    fc.assert(
      fc.property(tokenArb, fc.array(tokenArb, { maxLength: 3 }), mutationArb, (token, others, mutation) => {
        const verifyRandom = createPathTokenVerifier([...others, token]);
        expect(verifyRandom(token)).toEqual({ ok: true });
        const i = mutation.at % token.length;
        const c = token[i]!;
        const mutated =
          mutation.kind === "replace"
            ? token.slice(0, i) + mutation.char + token.slice(i + 1)
            : mutation.kind === "insert"
              ? token.slice(0, i) + mutation.char + token.slice(i)
              : mutation.kind === "delete"
                ? token.slice(0, i) + token.slice(i + 1)
                : token.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + token.slice(i + 1);
        fc.pre(mutated !== token && !others.includes(mutated));
        expect(verifyRandom(mutated)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
      }),
      { seed: FC_SEED, numRuns: 500 },
    );
  });
});

// The SDK's own SMS vector (callbacks-webhook.test.ts of @sinch/sms).
const SDK_VECTOR = {
  body: '{"at":"2025-01-13T09:22:40.914Z","batch_id":"01JHFFHQ0P99JPPNQPJDV7JTBP","client_reference":"a client reference","code":0,"operator_status_at":"2025-01-13T09:22:00Z","recipient":"33662162466","status":"Delivered","type":"recipient_delivery_report_sms"}',
  nonce: "01JHFFHWYY7HSS4FWTMDTQEK8V",
  timestamp: "1736760161",
  secret: "SMSWebhooksSecret",
  signature: "ZoHei66PPN/kZjw7hFVfGhJOnml3iGNCMWoyQVcE5o0=",
};
const SECRET = "sinch-callback-secret-0123456789";

const sdkAccepts = (secret: string, headers: Record<string, string>, body: string) => new SmsCallbackWebhooks(secret).validateAuthenticationHeader(headers, body);

function signedHeaders(secret: string, body: string, nonce: string, timestamp: string): Record<string, string> {
  return {
    "x-sinch-webhook-signature": signSinchCallback(secret, nonce, timestamp, body),
    "x-sinch-webhook-signature-algorithm": "HmacSHA256",
    "x-sinch-webhook-signature-nonce": nonce,
    "x-sinch-webhook-signature-timestamp": timestamp,
  };
}

describe("Sinch callback signatures", () => {
  const vectorTime = new Date(Number(SDK_VECTOR.timestamp) * 1000);

  it("reproduce the SDK's known-answer vector, and the vector verifies", () => {
    expect(signSinchCallback(SDK_VECTOR.secret, SDK_VECTOR.nonce, SDK_VECTOR.timestamp, SDK_VECTOR.body)).toBe(SDK_VECTOR.signature);
    const headers = { "x-sinch-webhook-signature": SDK_VECTOR.signature, "x-sinch-webhook-signature-nonce": SDK_VECTOR.nonce, "x-sinch-webhook-signature-timestamp": SDK_VECTOR.timestamp };
    expect(sdkAccepts(SDK_VECTOR.secret, headers, SDK_VECTOR.body)).toBe(true);
    expect(verifySinchSignature([SDK_VECTOR.secret], headers, Buffer.from(SDK_VECTOR.body), vectorTime)).toEqual({ ok: true });
  });

  it("are accepted by the official SDK for random bodies, nonces, timestamps and secrets (oracle)", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 8, maxLength: 64 }),
        fc.json({ maxDepth: 2 }),
        fc.stringMatching(/^[0-9A-Z]{26}$/),
        fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }),
        (secret, body, nonce, seconds) => {
          const headers = signedHeaders(secret, body, nonce, String(seconds));
          expect(sdkAccepts(secret, headers, body)).toBe(true);
          expect(verifySinchSignature([secret], headers, Buffer.from(body, "utf8"), new Date(seconds * 1000))).toEqual({ ok: true });
        },
      ),
      { seed: FC_SEED, numRuns: 300 },
    );
  });

  it("agree with the SDK on every single mutation: both refuse (oracle)", () => {
    const body = JSON.stringify(sinchMoText({ from: "33612345678", to: "447400000123", body: "Acme: 482913", id: "01FC66621XXXXX119Z8PMV1QPQ", receivedAt: NOW }));
    const seconds = String(Math.floor(NOW.getTime() / 1000));
    const good = signedHeaders(SECRET, body, "01JHFFHWYY7HSS4FWTMDTQEK8V", seconds);
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
    const mutationArb = fc.oneof(
      fc.nat().map((i) => ({ what: "body", body: flip(body, i % body.length), headers: good })),
      fc.nat().map((i) => ({ what: "signature", body, headers: { ...good, "x-sinch-webhook-signature": flip(good["x-sinch-webhook-signature"]!, i % 43) } })),
      fc.nat().map((i) => ({ what: "nonce", body, headers: { ...good, "x-sinch-webhook-signature-nonce": flip(good["x-sinch-webhook-signature-nonce"]!, i % 26) } })),
      fc.integer({ min: 1, max: 3_000 }).map((d) => ({ what: "timestamp", body, headers: { ...good, "x-sinch-webhook-signature-timestamp": String(Number(seconds) - d) } })),
      fc.constant({ what: "secret", body, headers: signedHeaders("another-workspace-secret", body, "01JHFFHWYY7HSS4FWTMDTQEK8V", seconds) }),
    );
    fc.assert(
      fc.property(mutationArb, (m) => {
        fc.pre(m.body !== body || JSON.stringify(m.headers) !== JSON.stringify(good));
        expect(sdkAccepts(SECRET, m.headers, m.body)).toBe(false);
        expect(verifySinchSignature([SECRET], m.headers, Buffer.from(m.body, "utf8"), NOW)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
      }),
      { seed: FC_SEED, numRuns: 400 },
    );
  });

  it("cover the raw bytes: the same JSON re-serialised is another body", () => {
    const body = '{"type":"mo_text", "id":"x"}';
    const headers = signedHeaders(SECRET, body, "n1", String(Math.floor(NOW.getTime() / 1000)));
    expect(verifySinchSignature([SECRET], headers, Buffer.from(body), NOW)).toEqual({ ok: true });
    expect(verifySinchSignature([SECRET], headers, Buffer.from(JSON.stringify(JSON.parse(body))), NOW)).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("accept any secret of a rotation list, and refuse when none is configured", () => {
    const headers = signedHeaders(SECRET, "{}", "n1", String(Math.floor(NOW.getTime() / 1000)));
    expect(verifySinchSignature(["an-older-secret-0123", SECRET], headers, Buffer.from("{}"), NOW)).toEqual({ ok: true });
    expect(verifySinchSignature([], headers, Buffer.from("{}"), NOW)).toMatchObject({ code: "WEBHOOK_NOT_CONFIGURED" });
  });

  it("accept timestamps up to a day old (Sinch retries for 22 h 45 min) and 5 minutes ahead, not beyond", () => {
    const nowS = Math.floor(NOW.getTime() / 1000);
    const at = (s: number) => verifySinchSignature([SECRET], signedHeaders(SECRET, "{}", "n1", String(s)), Buffer.from("{}"), NOW);
    expect(at(nowS - SINCH_MAX_AGE_SECONDS)).toEqual({ ok: true });
    expect(at(nowS + SINCH_MAX_FUTURE_SECONDS)).toEqual({ ok: true });
    expect(at(nowS - SINCH_MAX_AGE_SECONDS - 1)).toMatchObject({ code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" });
    expect(at(nowS + SINCH_MAX_FUTURE_SECONDS + 1)).toMatchObject({ code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" });
  });

  it.each<[string, Record<string, string | undefined>]>([
    ["no signature", { "x-sinch-webhook-signature": undefined }],
    ["no nonce", { "x-sinch-webhook-signature-nonce": undefined }],
    ["no timestamp", { "x-sinch-webhook-signature-timestamp": undefined }],
    ["another algorithm", { "x-sinch-webhook-signature-algorithm": "HmacSHA1" }],
    ["a timestamp in milliseconds", { "x-sinch-webhook-signature-timestamp": String(NOW.getTime()) }],
    ["an ISO timestamp", { "x-sinch-webhook-signature-timestamp": NOW.toISOString() }],
    ["a hex signature", { "x-sinch-webhook-signature": "a".repeat(64) }],
    ["a signature in base64url", { "x-sinch-webhook-signature": "ZoHei66PPN_kZjw7hFVfGhJOnml3iGNCMWoyQVcE5o0=" }],
    ["a signature without padding", { "x-sinch-webhook-signature": "ZoHei66PPN/kZjw7hFVfGhJOnml3iGNCMWoyQVcE5o0" }],
    ["two signatures (a repeated header)", { "x-sinch-webhook-signature": `${SDK_VECTOR.signature}, ${SDK_VECTOR.signature}` }],
    ["a nonce of 257 characters", { "x-sinch-webhook-signature-nonce": "n".repeat(257) }],
  ])("refuse %s as WEBHOOK_SIGNATURE_INVALID", (_name, change) => {
    const good = { "x-sinch-webhook-signature": SDK_VECTOR.signature, "x-sinch-webhook-signature-nonce": SDK_VECTOR.nonce, "x-sinch-webhook-signature-timestamp": SDK_VECTOR.timestamp };
    const headers = { ...good, ...change };
    expect(verifySinchSignature([SDK_VECTOR.secret], headers, Buffer.from(SDK_VECTOR.body), vectorTime)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });
});

describe("the Sinch adapter's choice of check", () => {
  const payload = sinchMoText({ from: "33612345678", to: "447400000123", body: "Acme: 482913", receivedAt: NOW });
  const nowS = Math.floor(NOW.getTime() / 1000);
  const signed = (token?: string, secret = SECRET) =>
    toInboundRequest(signSinchHmacRequest({ secret, payload, timestampSeconds: nowS, ...(token ? { token } : {}) }), { receivedAt: NOW });
  const both = createSinchAdapter({ tokens: [TOKEN], signingSecrets: [SECRET] });
  const signingOnly = createSinchAdapter({ tokens: [], signingSecrets: [SECRET] });
  const tokenOnly = createSinchAdapter({ tokens: [TOKEN], signingSecrets: [] });

  it("the test helper's signature is the SDK's (fixture sanity)", () => {
    const req = signSinchHmacRequest({ secret: SECRET, payload, timestampSeconds: nowS });
    expect(sdkAccepts(SECRET, req.headers, req.body)).toBe(true);
  });

  it("a signed callback is judged by its signature, with or without a path token", () => {
    expect(signingOnly.verify(signed())).toEqual({ ok: true });
    expect(both.verify(signed())).toEqual({ ok: true });
    expect(both.verify(signed(TOKEN))).toEqual({ ok: true });
  });

  it("a wrong signature is refused even on the right path token", () => {
    expect(both.verify(signed(TOKEN, "not-the-secret-0123456789"))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
    const stale = toInboundRequest(signSinchHmacRequest({ secret: SECRET, payload, timestampSeconds: nowS - SINCH_MAX_AGE_SECONDS - 60, token: TOKEN }), { receivedAt: NOW });
    expect(both.verify(stale)).toMatchObject({ ok: false, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" });
    const partial = signed(TOKEN);
    expect(both.verify({ ...partial, headers: { ...partial.headers, "x-sinch-webhook-signature-nonce": undefined } })).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("an unsigned callback falls back to the path token", () => {
    expect(both.verify(request())).toEqual({ ok: true });
    expect(both.verify(request({ token: undefined }))).toMatchObject({ code: "WEBHOOK_SIGNATURE_MISSING" });
    expect(both.verify(request({ token: OTHER_TOKEN }))).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("without a token configured, an unsigned callback is refused as unsigned", () => {
    expect(signingOnly.verify(request())).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING" });
  });

  it("without a secret configured, signature headers cannot be judged: the path token decides", () => {
    expect(tokenOnly.verify(signed(TOKEN))).toEqual({ ok: true });
    expect(tokenOnly.verify(signed())).toMatchObject({ code: "WEBHOOK_SIGNATURE_MISSING" });
  });
});

describe("the Sinch adapter's verification", () => {
  const adapter = createSinchAdapter({ tokens: [TOKEN], signingSecrets: [] });

  it("is a path-token adapter that takes POST only", () => {
    expect(adapter).toMatchObject({ name: "sinch", usesPathToken: true, methods: ["POST"] });
  });

  it("accepts the request on the configured token", () => {
    expect(adapter.verify(request())).toEqual({ ok: true });
  });

  it("refuses a request without token, with a wrong token, and every near miss", () => {
    expect(adapter.verify(request({ token: undefined }))).toMatchObject({ code: "WEBHOOK_SIGNATURE_MISSING" });
    expect(adapter.verify(request({ token: OTHER_TOKEN }))).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
    for (const { presented } of pathTokenNearMisses(TOKEN)) {
      expect(adapter.verify({ ...request(), pathToken: presented })).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
    }
  });

  it("accepts both tokens of a rotation list", () => {
    const rotating = createSinchAdapter({ tokens: [TOKEN, OTHER_TOKEN], signingSecrets: [] });
    expect(rotating.verify(request({ token: TOKEN }))).toEqual({ ok: true });
    expect(rotating.verify(request({ token: OTHER_TOKEN }))).toEqual({ ok: true });
  });

  it("refuses every request when no token is configured", () => {
    const unconfigured = createSinchAdapter({ tokens: [], signingSecrets: [] });
    expect(unconfigured.verify(request())).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
  });

  it("answers 200, whatever the outcomes", () => {
    expect(adapter.acknowledge([{ providerMessageId: "x", outcome: "verified" }]).status).toBe(200);
    expect(adapter.acknowledge([]).status).toBe(200);
  });
});

describe("the Sinch adapter's parser", () => {
  const adapter = createSinchAdapter({ tokens: [TOKEN], signingSecrets: [] });

  /** Shaped like the `mo_text` example of Sinch's Inbounds documentation. */
  const FIXTURE = {
    type: "mo_text",
    id: "01FC66621XXXXX119Z8PMV1QPQ",
    from: "33612345678",
    to: "447400000123",
    body: "Acme Bank: 482913 is my code to log in",
    operator_id: "20801",
    received_at: "2031-05-04T09:59:58.123Z",
    sent_at: "2031-05-04T09:59:57.000Z",
    client_reference: "a-ref",
  };

  it("reads a documented mo_text into one message", () => {
    expect(adapter.parse(request({ payload: FIXTURE }))).toEqual([
      {
        providerMessageId: "01FC66621XXXXX119Z8PMV1QPQ",
        from: "33612345678",
        to: "447400000123",
        text: "Acme Bank: 482913 is my code to log in",
        receivedAt: new Date("2031-05-04T09:59:58.123Z"),
        carrier: "20801",
      },
    ]);
  });

  it("accepts fields Sinch may add, null optional fields and absent optional fields", () => {
    const { operator_id: _o, sent_at: _s, client_reference: _c, ...minimal } = FIXTURE;
    expect(adapter.parse(request({ payload: { ...FIXTURE, udh: "0500030A0201", new_field: { x: 1 } } }))).toHaveLength(1);
    expect(adapter.parse(request({ payload: { ...FIXTURE, operator_id: null, sent_at: null } }))[0]).not.toHaveProperty("carrier");
    expect(adapter.parse(request({ payload: minimal }))[0]).toMatchObject({ providerMessageId: FIXTURE.id, text: FIXTURE.body });
  });

  it.each(["mo_binary", "mo_media", "delivery_report_sms", "recipient_delivery_report_sms", "delivery_report_mms"])(
    "acknowledges a %s callback without a message",
    (type) => {
      expect(adapter.parse(request({ payload: { type, id: "01X", batch_id: "01Y", from: "1", to: "2", body: "AAEC" } }))).toEqual([]);
    },
  );

  const refused: [string, unknown][] = [
    ["a body that is not JSON", "type=mo_text&id=1"],
    ["a JSON array", [FIXTURE]],
    ["a JSON string", "\"mo_text\""],
    ["no type", { ...FIXTURE, type: undefined }],
    ["a numeric type", { ...FIXTURE, type: 1 }],
    ["no id", { ...FIXTURE, id: undefined }],
    ["an empty id", { ...FIXTURE, id: "" }],
    ["an id of 201 characters", { ...FIXTURE, id: "A".repeat(201) }],
    ["no from", { ...FIXTURE, from: undefined }],
    ["no to", { ...FIXTURE, to: undefined }],
    ["a from of 65 characters", { ...FIXTURE, from: "1".repeat(65) }],
    ["no body", { ...FIXTURE, body: undefined }],
    ["a numeric body", { ...FIXTURE, body: 482913 }],
    ["a body of 10,001 characters", { ...FIXTURE, body: "x".repeat(10_001) }],
    ["a received_at that is not a date", { ...FIXTURE, received_at: "yesterday" }],
    ["a received_at on February 31st", { ...FIXTURE, received_at: "2031-02-31T10:00:00.000Z" }],
    ["a sent_at that is not a date", { ...FIXTURE, sent_at: "1651234567" }],
    ["an operator_id that is an object", { ...FIXTURE, operator_id: { mcc: "208" } }],
  ];
  it.each(refused)("refuses %s with WEBHOOK_PAYLOAD_INVALID", (_name, payload) => {
    const error = parseError(() => adapter.parse(request({ payload: typeof payload === "string" ? payload : JSON.stringify(payload) })));
    expect(error.code).toBe("WEBHOOK_PAYLOAD_INVALID");
    expect(error.status).toBe(400);
  });

  it("reads random mo_text payloads field for field (property)", () => {
    const fieldArb = (max: number) => fc.string({ minLength: 1, maxLength: max });
    fc.assert(
      fc.property(fieldArb(200), fieldArb(64), fieldArb(64), fc.string({ maxLength: 2_000 }), fc.date({ min: new Date("2000-01-01"), max: new Date("2099-12-31"), noInvalidDate: true }), (id, from, to, body, at) => {
        const [message] = adapter.parse(request({ payload: { type: "mo_text", id, from, to, body, received_at: at.toISOString() } }));
        expect(message).toEqual({ providerMessageId: id, from, to, text: body, receivedAt: at });
      }),
      { seed: FC_SEED, numRuns: 200 },
    );
  });
});

describe("provider timestamps", () => {
  it.each([
    ["2031-05-04T09:59:58.123Z", "2031-05-04T09:59:58.123Z"],
    ["2031-05-04T09:59:58Z", "2031-05-04T09:59:58.000Z"],
    ["2019-08-08T10:52:37.000+0000", "2019-08-08T10:52:37.000Z"],
    ["2019-08-08T12:52:37.000+02:00", "2019-08-08T10:52:37.000Z"],
    ["2019-08-08T05:52:37-0500", "2019-08-08T10:52:37.000Z"],
    ["2019-08-08T10:52:37.123456789Z", "2019-08-08T10:52:37.123Z"],
  ])("reads %s as %s", (text, iso) => {
    expect(parseProviderTimestamp(text)?.toISOString()).toBe(iso);
  });

  it.each(["2019-08-08", "2019-08-08 10:52:37", "2019-02-29T10:00:00Z", "2019-08-08T24:00:00Z", "2019-08-08T10:52:37", "2019-08-08T10:52:37+25:00", "1565261557"])(
    "refuses %s",
    (text) => {
      expect(parseProviderTimestamp(text)).toBeUndefined();
    },
  );
});
