// Telnyx inbound webhooks: Ed25519 known-answer vectors (RFC 8032's test key), the official
// `telnyx` package's `TelnyxWebhook.verify` as an oracle, one mutated field per refusal, the
// 300-second tolerance at its boundaries, key rotation, and parsing of Telnyx's documented
// `message.received` payload.
import { afterEach, describe, expect, it, jest } from "@jest/globals";
import fc from "fast-check";
import { createPrivateKey, verify as verifyEd25519, type KeyObject } from "node:crypto";
import { TelnyxWebhook } from "telnyx/lib/webhooks";
import type { InboundRequest } from "../../../src/providers/provider.js";
import {
  TELNYX_TOLERANCE_SECONDS,
  createTelnyxAdapter,
  parseTelnyxMessages,
  telnyxPublicKeyFromBase64,
  verifyTelnyxSignature,
} from "../../../src/providers/telnyx/adapter.js";
import { AppError } from "../../../src/shared/errors.js";
import {
  TELNYX_INBOUND_PATH,
  createTelnyxKeyPair,
  signTelnyxBody,
  signTelnyxRequest,
  telnyxInboundEvent,
  type SignedTelnyxRequest,
} from "../../support/providers/telnyx.js";

const FC_SEED = 20_261_124;
const RECEIVED_AT = new Date("2031-05-04T10:00:00.000Z");
const NOW_SECONDS = Math.floor(RECEIVED_AT.getTime() / 1000);

/** RFC 8032 §7.1 TEST 1: secret key, public key, and the signature of the empty message. */
const RFC8032 = {
  secretKeyHex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
  publicKeyHex: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  emptyMessageSignatureHex:
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
} as const;

/**
 * A Telnyx-shaped request (the documented inbound example, compacted) signed with the RFC 8032
 * test key at the example's own time. Ed25519 is deterministic, so the signature is a fixed
 * value; it was computed with Python's `cryptography` package, independently of this code.
 */
const VECTOR = {
  publicKeyBase64: "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
  timestamp: "1548267002",
  body: '{"data":{"event_type":"message.received","id":"bf6307bd-884d-4c1f-b6ea-c62b8c495d3c","occurred_at":"2019-01-23T18:10:02.574Z","payload":{"direction":"inbound","from":{"carrier":"T-MOBILE USA, INC.","line_type":"Wireless","phone_number":"+18665550001"},"id":"7ee4241c-f127-47e5-9c34-3aac291f8058","parts":1,"record_type":"message","text":"Hello, World!","to":[{"carrier":"TELNYX LLC","line_type":"VoIP","phone_number":"+18445550001","status":"delivered"}],"type":"SMS"},"record_type":"event"}}',
  signature: "og4Kh0pzQp4RLnSjYhbml//gUNDeWNcTRFi5VQusoc9KHwMyac5OrArkX6/RVIfJj2O+gbeMdORdLKmKjcVfDQ==",
} as const;

const PAIR = createTelnyxKeyPair();
const OTHER_PAIR = createTelnyxKeyPair();
const KEY = telnyxPublicKeyFromBase64(PAIR.publicKeyBase64);
const OTHER_KEY = telnyxPublicKeyFromBase64(OTHER_PAIR.publicKeyBase64);
const adapter = createTelnyxAdapter({ publicKeys: [PAIR.publicKeyBase64] });

const atSeconds = (seconds: number) => new Date(seconds * 1000);

function inbound(signed: SignedTelnyxRequest, overrides: Partial<InboundRequest> = {}): InboundRequest {
  return {
    method: signed.method,
    publicUrl: `https://otp.example.test${signed.path}`,
    headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v])),
    rawBody: Buffer.from(signed.body, "utf8"),
    receivedAt: RECEIVED_AT,
    ...overrides,
  };
}

function verifyWith(keys: readonly KeyObject[], headers: { signature?: string; timestamp?: string }, body: string, now = RECEIVED_AT) {
  return verifyTelnyxSignature(keys, headers, Buffer.from(body, "utf8"), now);
}

function signed(body: string, timestampSeconds = NOW_SECONDS) {
  const timestamp = String(timestampSeconds);
  return { body, timestamp, signature: signTelnyxBody(PAIR.privateKey, timestamp, body) };
}

/**
 * The official SDK's verdict. `TelnyxWebhook.verify` reads `Date.now()` for its 300-second check;
 * only for this oracle call is that clock pinned to the test's check time.
 */
async function sdkAccepts(publicKeyBase64: string, body: string, headers: Record<string, string>, now: Date): Promise<boolean> {
  const clock = jest.spyOn(Date, "now").mockReturnValue(now.getTime());
  try {
    await new TelnyxWebhook(publicKeyBase64).verify(body, headers);
    return true;
  } catch {
    return false;
  } finally {
    clock.mockRestore();
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

afterEach(() => {
  jest.restoreAllMocks();
});

describe("Ed25519 known-answer vectors", () => {
  it("the RFC 8032 test public key, given in Base64 as the Telnyx portal shows keys, verifies the RFC's signature", () => {
    const publicKeyBase64 = Buffer.from(RFC8032.publicKeyHex, "hex").toString("base64");
    expect(publicKeyBase64).toBe(VECTOR.publicKeyBase64);
    const key = telnyxPublicKeyFromBase64(publicKeyBase64);
    expect(verifyEd25519(null, Buffer.alloc(0), key, Buffer.from(RFC8032.emptyMessageSignatureHex, "hex"))).toBe(true);
  });

  it("the test helper's signer reproduces the fixed vector with the RFC 8032 secret key", () => {
    const privateKey = createPrivateKey({
      key: {
        kty: "OKP",
        crv: "Ed25519",
        d: Buffer.from(RFC8032.secretKeyHex, "hex").toString("base64url"),
        x: Buffer.from(RFC8032.publicKeyHex, "hex").toString("base64url"),
      },
      format: "jwk",
    });
    expect(signTelnyxBody(privateKey, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it("verifyTelnyxSignature accepts the fixed vector at its own timestamp", () => {
    const key = telnyxPublicKeyFromBase64(VECTOR.publicKeyBase64);
    expect(verifyWith([key], { signature: VECTOR.signature, timestamp: VECTOR.timestamp }, VECTOR.body, atSeconds(Number(VECTOR.timestamp)))).toEqual({
      ok: true,
    });
  });

  it("the official telnyx SDK accepts the fixed vector too (so it is Telnyx's scheme, not only ours)", async () => {
    const headers = { "telnyx-signature-ed25519": VECTOR.signature, "telnyx-timestamp": VECTOR.timestamp };
    expect(await sdkAccepts(VECTOR.publicKeyBase64, VECTOR.body, headers, atSeconds(Number(VECTOR.timestamp)))).toBe(true);
  });

  it("the fixed vector with its last text character changed is refused by both", async () => {
    const tampered = VECTOR.body.replace("Hello, World!", "Hello, World?");
    const key = telnyxPublicKeyFromBase64(VECTOR.publicKeyBase64);
    const at = atSeconds(Number(VECTOR.timestamp));
    expect(verifyWith([key], { signature: VECTOR.signature, timestamp: VECTOR.timestamp }, tampered, at).ok).toBe(false);
    const headers = { "telnyx-signature-ed25519": VECTOR.signature, "telnyx-timestamp": VECTOR.timestamp };
    expect(await sdkAccepts(VECTOR.publicKeyBase64, tampered, headers, at)).toBe(false);
  });
});

const bodyArb = fc.oneof(fc.json(), fc.string(), fc.string({ unit: "grapheme", minLength: 1 }));
const timestampArb = fc.integer({ min: 1_000_000_000, max: 4_102_444_800 });

type Mutation =
  | { kind: "body"; index: number; char: string }
  | { kind: "timestamp"; delta: number }
  | { kind: "signature"; bit: number }
  | { kind: "key" };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("body" as const), index: fc.nat(), char: fc.string({ minLength: 1, maxLength: 1 }) }),
  fc.record({ kind: fc.constant("timestamp" as const), delta: fc.integer({ min: -TELNYX_TOLERANCE_SECONDS, max: TELNYX_TOLERANCE_SECONDS }).filter((d) => d !== 0) }),
  fc.record({ kind: fc.constant("signature" as const), bit: fc.nat({ max: 64 * 8 - 1 }) }),
  fc.record({ kind: fc.constant("key" as const) }),
);

/** Applies one mutation; returns undefined when it would not change anything (e.g. same character). */
function mutate(request: { body: string; timestamp: string; signature: string }, m: Mutation) {
  switch (m.kind) {
    case "body": {
      const chars = [...request.body];
      if (chars.length === 0) return { ...request, body: m.char, publicKeyBase64: PAIR.publicKeyBase64 };
      const at = m.index % chars.length;
      if (chars[at] === m.char) return undefined;
      chars[at] = m.char;
      return { ...request, body: chars.join(""), publicKeyBase64: PAIR.publicKeyBase64 };
    }
    case "timestamp":
      return { ...request, timestamp: String(Number(request.timestamp) + m.delta), publicKeyBase64: PAIR.publicKeyBase64 };
    case "signature": {
      const bytes = Buffer.from(request.signature, "base64");
      bytes[m.bit >> 3]! ^= 1 << (m.bit & 7);
      return { ...request, signature: bytes.toString("base64"), publicKeyBase64: PAIR.publicKeyBase64 };
    }
    case "key":
      return { ...request, publicKeyBase64: OTHER_PAIR.publicKeyBase64 };
  }
}

describe("agreement with the official telnyx SDK (TelnyxWebhook.verify)", () => {
  it("for random bodies and times, what the test helper signs both the SDK and verifyTelnyxSignature accept", async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, timestampArb, async (body, timestampSeconds) => {
        const now = atSeconds(timestampSeconds);
        const request = signTelnyxRequest({ privateKey: PAIR.privateKey, payload: body, now });
        expect(await sdkAccepts(PAIR.publicKeyBase64, request.body, request.headers, now)).toBe(true);
        expect(adapter.verify(inbound(request, { receivedAt: now }))).toEqual({ ok: true });
      }),
      { seed: FC_SEED, numRuns: 150 },
    );
  });

  it("for random single mutations (a body character, the timestamp, a signature bit, the key), both refuse", async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, timestampArb, mutationArb, async (body, timestampSeconds, mutation) => {
        const now = atSeconds(timestampSeconds);
        const original = signed(body, timestampSeconds);
        const m = mutate(original, mutation);
        fc.pre(m !== undefined);
        const headers = { "telnyx-signature-ed25519": m!.signature, "telnyx-timestamp": m!.timestamp };
        expect(await sdkAccepts(m!.publicKeyBase64, m!.body, headers, now)).toBe(false);
        const key = telnyxPublicKeyFromBase64(m!.publicKeyBase64);
        expect(verifyWith([key], { signature: m!.signature, timestamp: m!.timestamp }, m!.body, now)).toMatchObject({
          ok: false,
          code: "WEBHOOK_SIGNATURE_INVALID",
        });
      }),
      { seed: FC_SEED, numRuns: 200 },
    );
  });
});

describe("refusals, one mutated field at a time", () => {
  const body = JSON.stringify(telnyxInboundEvent({ from: "+33612345678", to: "+447400000123", text: "Code 123456", messageId: "m-1" }));
  const good = signed(body);

  it("the unmodified request is accepted (the baseline of the cases below)", () => {
    expect(verifyWith([KEY], good, body)).toEqual({ ok: true });
  });

  it("a body with one byte changed is refused as WEBHOOK_SIGNATURE_INVALID", () => {
    const tampered = body.replace("+33612345678", "+33612345679");
    expect(Buffer.byteLength(tampered)).toBe(Buffer.byteLength(body));
    expect(verifyWith([KEY], good, tampered)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("a body with a trailing newline added is refused", () => {
    expect(verifyWith([KEY], good, `${body}\n`)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("a timestamp changed by one second (inside the tolerance) is refused", () => {
    expect(verifyWith([KEY], { ...good, timestamp: String(NOW_SECONDS - 1) }, body)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("a signature with one bit flipped is refused", () => {
    const bytes = Buffer.from(good.signature, "base64");
    bytes[10]! ^= 0x01;
    expect(verifyWith([KEY], { ...good, signature: bytes.toString("base64") }, body)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("a signature made with another key pair is refused", () => {
    const forged = signTelnyxBody(OTHER_PAIR.privateKey, good.timestamp, body);
    expect(verifyWith([KEY], { ...good, signature: forged }, body)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it.each([
    ["without padding", (s: string) => s.replace(/=+$/, "")],
    ["with a character appended", (s: string) => `${s}A`],
    ["in base64url", (s: string) => Buffer.from(s, "base64").toString("base64url")],
    ["cut to 32 bytes", (s: string) => Buffer.from(s, "base64").subarray(0, 32).toString("base64")],
  ])("a signature header spelled %s is refused", (_label, respell) => {
    const respelled = respell(good.signature);
    expect(respelled).not.toBe(good.signature);
    expect(verifyWith([KEY], { ...good, signature: respelled }, body)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it.each(["12a", "-1", "1.5", " 1", "1".repeat(13)])("a malformed timestamp %j is refused as WEBHOOK_SIGNATURE_INVALID", (timestamp) => {
    expect(verifyWith([KEY], { ...good, timestamp }, body)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("a missing signature header answers WEBHOOK_SIGNATURE_MISSING", () => {
    expect(verifyWith([KEY], { timestamp: good.timestamp }, body)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING" });
  });

  it("a missing timestamp header answers WEBHOOK_SIGNATURE_MISSING", () => {
    expect(verifyWith([KEY], { signature: good.signature }, body)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING" });
  });
});

describe("the 300-second tolerance, with the check time as a parameter", () => {
  const body = '{"data":{"event_type":"message.received"}}';
  it.each([
    ["exactly 300 s old", -300],
    ["exactly 300 s ahead", 300],
  ])("a request signed %s is accepted", (_label, offset) => {
    expect(verifyWith([KEY], signed(body, NOW_SECONDS + offset), body)).toEqual({ ok: true });
  });

  it.each([
    ["301 s old", -301],
    ["301 s ahead", 301],
    ["a day old", -86_400],
  ])("a correctly signed request %s is refused as WEBHOOK_TIMESTAMP_OUT_OF_RANGE", (_label, offset) => {
    expect(verifyWith([KEY], signed(body, NOW_SECONDS + offset), body)).toMatchObject({ ok: false, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" });
  });

  it("the SDK draws the same boundaries: 300 s accepted, 301 s refused", async () => {
    for (const [offset, accepted] of [
      [-300, true],
      [300, true],
      [-301, false],
      [301, false],
    ] as const) {
      const s = signed(body, NOW_SECONDS + offset);
      const headers = { "telnyx-signature-ed25519": s.signature, "telnyx-timestamp": s.timestamp };
      expect(await sdkAccepts(PAIR.publicKeyBase64, body, headers, RECEIVED_AT)).toBe(accepted);
    }
  });
});

describe("keys: rotation and configuration", () => {
  const body = "{}";
  it("with several public keys configured, a request signed by any of them is accepted", () => {
    const rotating = createTelnyxAdapter({ publicKeys: [OTHER_PAIR.publicKeyBase64, PAIR.publicKeyBase64] });
    const request = signTelnyxRequest({ privateKey: PAIR.privateKey, payload: body, now: RECEIVED_AT });
    expect(rotating.verify(inbound(request))).toEqual({ ok: true });
    const byOther = signTelnyxRequest({ privateKey: OTHER_PAIR.privateKey, payload: body, now: RECEIVED_AT });
    expect(rotating.verify(inbound(byOther))).toEqual({ ok: true });
  });

  it("a key removed from the list no longer verifies", () => {
    const rotated = createTelnyxAdapter({ publicKeys: [OTHER_PAIR.publicKeyBase64] });
    const request = signTelnyxRequest({ privateKey: PAIR.privateKey, payload: body, now: RECEIVED_AT });
    expect(rotated.verify(inbound(request))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("with no public key configured, every request is refused as WEBHOOK_NOT_CONFIGURED", () => {
    const unconfigured = createTelnyxAdapter({ publicKeys: [] });
    const request = signTelnyxRequest({ privateKey: PAIR.privateKey, payload: body, now: RECEIVED_AT });
    expect(unconfigured.verify(inbound(request))).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
    expect(unconfigured.verify(inbound(request, { headers: {} }))).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
  });

  it("a public key that is not 32 bytes is refused when the adapter is built", () => {
    expect(() => createTelnyxAdapter({ publicKeys: [Buffer.alloc(31).toString("base64")] })).toThrow(/32 bytes/);
  });
});

describe("parsing Telnyx's message.received payload", () => {
  const parse = (payload: unknown) =>
    parseTelnyxMessages(inbound(signTelnyxRequest({ privateKey: PAIR.privateKey, payload, now: RECEIVED_AT })));

  it("the documented inbound SMS becomes one message with id, numbers, text, time, parts, line type and carrier", () => {
    const event = telnyxInboundEvent({
      from: "+18665550001",
      to: "+18445550001",
      text: "Hello, World!",
      messageId: "7ee4241c-f127-47e5-9c34-3aac291f8058",
      occurredAt: new Date("2019-01-23T18:10:02.574Z"),
      parts: 2,
    });
    expect(parse(event)).toEqual([
      {
        providerMessageId: "7ee4241c-f127-47e5-9c34-3aac291f8058",
        from: "+18665550001",
        to: "+18445550001",
        text: "Hello, World!",
        receivedAt: new Date("2019-01-23T18:10:02.574Z"),
        parts: 2,
        lineType: "Wireless",
        carrier: "T-MOBILE USA, INC.",
      },
    ]);
  });

  it("the fixed known-answer body parses too", () => {
    const [message] = parse(VECTOR.body);
    expect(message).toMatchObject({ providerMessageId: "7ee4241c-f127-47e5-9c34-3aac291f8058", from: "+18665550001", to: "+18445550001" });
  });

  it.each([
    ["Wireline", "landline"],
    ["VoIP", "VoIP"],
    ["VoWiFi", "VoWiFi"],
    ["Pre-Paid Wireless", "Pre-Paid Wireless"],
  ])("a sender reported as %s is passed on as line type %s", (reported, expected) => {
    const [message] = parse(telnyxInboundEvent({ from: "+18665550001", to: "+18445550001", text: "x", lineType: reported }));
    expect(message!.lineType).toBe(expected);
  });

  it("control characters in the carrier and line type are dropped (PostgreSQL cannot store NUL)", () => {
    const [message] = parse(telnyxInboundEvent({ from: "+18665550001", to: "+18445550001", text: "x", carrier: "ORANGE\u0000 F", lineType: "VoIP\u0000" }));
    expect(message).toMatchObject({ carrier: "ORANGE F", lineType: "VoIP" });
  });

  it("an empty line type is left out", () => {
    const [message] = parse(telnyxInboundEvent({ from: "+18665550001", to: "+18445550001", text: "x", lineType: "" }));
    expect(message).not.toHaveProperty("lineType");
  });

  it.each(["message.sent", "message.finalized", "call.initiated"])("a %s event is acknowledged without a message", (eventType) => {
    const event = telnyxInboundEvent({ from: "+18665550001", to: "+18445550001", text: "x" });
    (event.data as Record<string, unknown>).event_type = eventType;
    expect(parse(event)).toEqual([]);
  });

  it("a WhatsApp message to the same profile is acknowledged without a message", () => {
    const event = telnyxInboundEvent({ from: "+18665550001", to: "+18445550001", text: "x" });
    ((event.data as Record<string, unknown>).payload as Record<string, unknown>).type = "WHATSAPP";
    expect(parse(event)).toEqual([]);
  });

  it("the first recipient is our number when Telnyx lists several", () => {
    const event = telnyxInboundEvent({ from: "+18665550001", to: "+18445550001", text: "x" });
    const payload = (event.data as Record<string, unknown>).payload as Record<string, unknown>;
    payload.to = [{ phone_number: "+18445550001" }, { phone_number: "+18445550002" }];
    expect(parse(event)[0]!.to).toBe("+18445550001");
    payload.to = "+18445550003";
    expect(parse(event)[0]!.to).toBe("+18445550003");
  });

  it("a picture-only MMS (no text) becomes a message with empty text", () => {
    const event = telnyxInboundEvent({ from: "+18665550001", to: "+18445550001", text: "x" });
    const payload = (event.data as Record<string, unknown>).payload as Record<string, unknown>;
    payload.type = "MMS";
    delete payload.text;
    expect(parse(event)[0]!.text).toBe("");
  });

  it("an unreadable occurred_at leaves the time to the core", () => {
    const event = telnyxInboundEvent({ from: "+18665550001", to: "+18445550001", text: "x" });
    (event.data as Record<string, unknown>).occurred_at = "yesterday";
    expect(parse(event)[0]).not.toHaveProperty("receivedAt");
  });

  it.each([
    ["a body that is not JSON", "not json"],
    ["an event without data", { meta: {} }],
    ["a message without a sender", { data: { event_type: "message.received", payload: { id: "m", to: [{ phone_number: "+18445550001" }], text: "x" } } }],
    ["a message without recipients", { data: { event_type: "message.received", payload: { id: "m", from: { phone_number: "+1" }, to: [], text: "x" } } }],
    ["a message id over 200 characters", { data: { event_type: "message.received", payload: { id: "m".repeat(201), from: { phone_number: "+1" }, to: "+2", text: "x" } } }],
    ["a message id with a NUL character (it could never be stored)", { data: { event_type: "message.received", payload: { id: "m\u0000", from: { phone_number: "+1" }, to: "+2", text: "x" } } }],
  ])("%s is refused as WEBHOOK_PAYLOAD_INVALID", (_label, payload) => {
    expect(thrownBy(() => parse(payload))).toMatchObject({ code: "WEBHOOK_PAYLOAD_INVALID", status: 400 });
  });
});

describe("the adapter's shape and answer", () => {
  it("takes POST only, at /v1/inbound/telnyx without a path token", () => {
    expect(adapter).toMatchObject({ name: "telnyx", methods: ["POST"], usesPathToken: false });
    expect(TELNYX_INBOUND_PATH).toBe("/v1/inbound/telnyx");
  });

  it("answers 200 with an empty body, whatever the outcomes", () => {
    expect(adapter.acknowledge([{ providerMessageId: "m", outcome: "verified" }])).toEqual({ status: 200, contentType: "text/plain", body: "" });
    expect(adapter.acknowledge([])).toMatchObject({ status: 200 });
  });
});
