// Bird (Channels API) inbound webhooks: a known-answer vector computed independently from Bird's
// documented steps, a WebCrypto transcription of those steps as an oracle (Bird publishes no SDK
// for its signatures), one mutated field per refusal, the 25-hour retry window, key rotation, and
// parsing of Bird's documented inbound SMS.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { webcrypto } from "node:crypto";
import {
  BIRD_MAX_AGE_SECONDS,
  BIRD_MAX_FUTURE_SECONDS,
  createBirdAdapter,
  parseBirdMessages,
  signBirdPayload,
  verifyBirdSignature,
} from "../../../src/providers/bird/adapter.js";
import type { InboundRequest } from "../../../src/providers/provider.js";
import { AppError } from "../../../src/shared/errors.js";
import {
  BIRD_INBOUND_PATH,
  HARNESS_PUBLIC_BASE_URL,
  birdInboundEvent,
  birdPathForNumber,
  birdSignature,
  signBirdRequest,
  type SignedBirdRequest,
} from "../../support/providers/bird.js";

const FC_SEED = 20_261_125;
const KEY = "bird-signing-key-0123456789abcdefghij";
const OTHER_KEY = "bird-signing-key-rotated-9876543210zyx";
const RECEIVED_AT = new Date("2031-05-04T10:00:00.000Z");
const NOW_SECONDS = Math.floor(RECEIVED_AT.getTime() / 1000);
const URL_OF = (path: string) => `${HARNESS_PUBLIC_BASE_URL}${path}`;

/**
 * Bird's documentation example (signing key `secureSigningKey`, URL
 * `https://domain.com/webhook/bird`) with its documented inbound SMS sample as the body, at the
 * sample's own second. The signature was computed with Python's hmac/hashlib following the five
 * documented steps, independently of this code.
 */
const VECTOR = {
  signingKey: "secureSigningKey",
  url: "https://domain.com/webhook/bird",
  timestamp: "1671697970",
  body: '{"service":"channels","event":"sms.inbound","payload":{"id":"96a0b5fa-a986-453d-be5c-3117f989f025","channelId":"614208aa-b153-4d5d-9989-2fddfc0ce4c3","sender":{"contact":{"id":"32cf5eee-f940-422c-ab8c-5f753aad5efd","identifierKey":"phonenumber","identifierValue":"+31612345678"}},"receiver":{"connector":{"id":"86cc4dc0-3dc0-41b7-ac43-8ec829ead56f"}},"body":{"type":"text","text":{"text":"Sample incoming text message"}},"parts":[{"platformReference":"e8077d803532c0b5937c639b60216938"}],"status":"delivered","direction":"incoming","lastStatusAt":"2022-12-22T08:32:50.736Z","createdAt":"2022-12-22T08:32:50.736Z","updatedAt":"2022-12-22T08:32:50.736Z"}}',
  signature: "G++mrOqZEFcr5KmO88QI0NWpvIWl123KhJJdmX4xASo=",
} as const;

const adapter = createBirdAdapter({ signingKeys: [KEY] });
const atSeconds = (seconds: number) => new Date(seconds * 1000);

function inbound(signed: SignedBirdRequest, overrides: Partial<InboundRequest> = {}): InboundRequest {
  return {
    method: signed.method,
    publicUrl: URL_OF(signed.path),
    headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v])),
    rawBody: Buffer.from(signed.body, "utf8"),
    receivedAt: RECEIVED_AT,
    ...overrides,
  };
}

function verifyWith(
  keys: readonly string[],
  request: { signature?: string; timestamp?: string; url: string; body: string },
  now = RECEIVED_AT,
) {
  return verifyBirdSignature(keys, { signature: request.signature, timestamp: request.timestamp }, request.url, Buffer.from(request.body, "utf8"), now);
}

/** Bird's five documented steps, transcribed with WebCrypto (a separate implementation from node:crypto's HMAC API). */
async function documentedSignature(signingKey: string, timestamp: string, url: string, body: string): Promise<string> {
  const subtle = webcrypto.subtle;
  const bodyHash = new Uint8Array(await subtle.digest("SHA-256", new TextEncoder().encode(body))); // step 2
  const head = new TextEncoder().encode(`${timestamp}\n${url}\n`); // step 3
  const joined = new Uint8Array(head.length + bodyHash.length);
  joined.set(head);
  joined.set(bodyHash, head.length);
  const key = await subtle.importKey("raw", new TextEncoder().encode(signingKey), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return Buffer.from(await subtle.sign("HMAC", key, joined)).toString("base64"); // step 4
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

describe("the known-answer vector from Bird's documentation example", () => {
  it("the adapter's signer and the test helper's signer both produce the vector's signature", () => {
    expect(signBirdPayload(VECTOR.signingKey, VECTOR.timestamp, VECTOR.url, VECTOR.body).toString("base64")).toBe(VECTOR.signature);
    expect(birdSignature(VECTOR.signingKey, VECTOR.timestamp, VECTOR.url, VECTOR.body)).toBe(VECTOR.signature);
  });

  it("the WebCrypto transcription of the documented steps produces it too", async () => {
    expect(await documentedSignature(VECTOR.signingKey, VECTOR.timestamp, VECTOR.url, VECTOR.body)).toBe(VECTOR.signature);
  });

  it("verifyBirdSignature accepts the vector at its own timestamp", () => {
    expect(verifyWith([VECTOR.signingKey], { ...VECTOR }, atSeconds(Number(VECTOR.timestamp)))).toEqual({ ok: true });
  });

  it("the vector's body parses as Bird's documented inbound SMS", () => {
    const [message] = parseBirdMessages({
      method: "POST",
      publicUrl: VECTOR.url,
      headers: {},
      rawBody: Buffer.from(VECTOR.body),
      receivedAt: RECEIVED_AT,
    });
    expect(message).toEqual({
      providerMessageId: "96a0b5fa-a986-453d-be5c-3117f989f025",
      from: "+31612345678",
      to: "",
      text: "Sample incoming text message",
      receivedAt: new Date("2022-12-22T08:32:50.736Z"),
      parts: 1,
      // The documented sample names the receiving channel only by these ids.
      channelIds: ["614208aa-b153-4d5d-9989-2fddfc0ce4c3", "86cc4dc0-3dc0-41b7-ac43-8ec829ead56f"],
    });
  });
});

const keyArb = fc.string({ minLength: 1, maxLength: 64 });
const pathArb = fc.oneof(
  fc.constant(BIRD_INBOUND_PATH),
  fc.string({ unit: fc.constantFrom(..."abcXYZ019+-_.~%&=?/ "), maxLength: 20 }).map((q) => `${BIRD_INBOUND_PATH}?number=${encodeURIComponent(q)}`),
);
const bodyArb = fc.oneof(fc.json(), fc.string(), fc.string({ unit: "grapheme" }));
const timestampArb = fc.integer({ min: 1_000_000_000, max: 4_102_444_800 });

describe("agreement with Bird's documented steps (WebCrypto transcription)", () => {
  it("for random keys, URLs, bodies and times, the helper's signature equals the documented one and verifies", async () => {
    await fc.assert(
      fc.asyncProperty(keyArb, pathArb, bodyArb, timestampArb, async (key, path, body, timestampSeconds) => {
        const now = atSeconds(timestampSeconds);
        const signed = signBirdRequest({ signingKey: key, payload: body, now, path });
        const documented = await documentedSignature(key, String(timestampSeconds), URL_OF(path), body);
        expect(signed.headers["messagebird-signature"]).toBe(documented);
        expect(createBirdAdapter({ signingKeys: [key] }).verify(inbound(signed, { receivedAt: now }))).toEqual({ ok: true });
      }),
      { seed: FC_SEED, numRuns: 200 },
    );
  });

  type Mutation = { kind: "body" | "url"; index: number; char: string } | { kind: "timestamp"; delta: number } | { kind: "signature"; bit: number } | { kind: "key" };
  const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constantFrom("body" as const, "url" as const), index: fc.nat(), char: fc.string({ minLength: 1, maxLength: 1 }) }),
    fc.record({ kind: fc.constant("timestamp" as const), delta: fc.integer({ min: -3600, max: BIRD_MAX_FUTURE_SECONDS }).filter((d) => d !== 0) }),
    fc.record({ kind: fc.constant("signature" as const), bit: fc.nat({ max: 255 }) }),
    fc.record({ kind: fc.constant("key" as const) }),
  );

  const replaceAt = (text: string, index: number, char: string): string | undefined => {
    const chars = [...text];
    if (chars.length === 0) return char;
    const at = index % chars.length;
    if (chars[at] === char) return undefined;
    chars[at] = char;
    return chars.join("");
  };

  it("for random single mutations (a body or URL character, the timestamp, a signature bit, the key), the request is refused", () => {
    fc.assert(
      fc.property(bodyArb, timestampArb, mutationArb, (body, timestampSeconds, m) => {
        const url = URL_OF(BIRD_INBOUND_PATH);
        const timestamp = String(timestampSeconds);
        const request = { url, body, timestamp, signature: birdSignature(KEY, timestamp, url, body) };
        let mutated: typeof request | undefined;
        let keys = [KEY];
        switch (m.kind) {
          case "body": {
            const changed = replaceAt(body, m.index, m.char);
            mutated = changed === undefined ? undefined : { ...request, body: changed };
            break;
          }
          case "url": {
            const changed = replaceAt(url, m.index, m.char);
            mutated = changed === undefined ? undefined : { ...request, url: changed };
            break;
          }
          case "timestamp":
            mutated = { ...request, timestamp: String(timestampSeconds + m.delta) };
            break;
          case "signature": {
            const bytes = Buffer.from(request.signature, "base64");
            bytes[m.bit >> 3]! ^= 1 << (m.bit & 7);
            mutated = { ...request, signature: bytes.toString("base64") };
            break;
          }
          case "key":
            keys = [OTHER_KEY];
            mutated = request;
            break;
        }
        fc.pre(mutated !== undefined);
        expect(verifyWith(keys, mutated!, atSeconds(timestampSeconds))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
      }),
      { seed: FC_SEED, numRuns: 400 },
    );
  });
});

describe("refusals, one mutated field at a time", () => {
  const path = birdPathForNumber("+447400000123");
  const good = signBirdRequest({
    signingKey: KEY,
    payload: birdInboundEvent({ from: "+33612345678", text: "Code 123456", messageId: "m-1" }),
    now: RECEIVED_AT,
    path,
  });

  it("the unmodified request is accepted (the baseline of the cases below)", () => {
    expect(adapter.verify(inbound(good))).toEqual({ ok: true });
  });

  it("a body with one byte changed is refused as WEBHOOK_SIGNATURE_INVALID", () => {
    const body = good.body.replace("+33612345678", "+33612345679");
    expect(adapter.verify(inbound(good, { rawBody: Buffer.from(body) }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it.each([
    ["another number in the query", URL_OF(birdPathForNumber("+447400000124"))],
    ["no query", URL_OF(BIRD_INBOUND_PATH)],
    ["another host", `https://otp.example.org${path}`],
    ["plain http", URL_OF(path).replace("https:", "http:")],
    ["an explicit port", URL_OF(path).replace("otp.example.test", "otp.example.test:443")],
    ["another path", URL_OF(path).replace("/bird", "/birds")],
  ])("the same request received at a URL with %s is refused", (_label, publicUrl) => {
    expect(adapter.verify(inbound(good, { publicUrl }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("a timestamp changed by one second is refused", () => {
    const headers = { ...good.headers, "messagebird-request-timestamp": String(NOW_SECONDS - 1) };
    expect(adapter.verify(inbound({ ...good, headers }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("a signature with one bit flipped is refused", () => {
    const bytes = Buffer.from(good.headers["messagebird-signature"]!, "base64");
    bytes[0]! ^= 0x80;
    const headers = { ...good.headers, "messagebird-signature": bytes.toString("base64") };
    expect(adapter.verify(inbound({ ...good, headers }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("a request signed with another key is refused", () => {
    const forged = signBirdRequest({ signingKey: OTHER_KEY, payload: good.body, now: RECEIVED_AT, path });
    expect(adapter.verify(inbound(forged))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it.each([
    ["hex", (s: string) => Buffer.from(s, "base64").toString("hex")],
    ["base64url", (s: string) => Buffer.from(s, "base64").toString("base64url")],
    ["with a character appended", (s: string) => `${s}A`],
  ])("a signature header spelled in %s is refused", (_label, respell) => {
    const headers = { ...good.headers, "messagebird-signature": respell(good.headers["messagebird-signature"]!) };
    expect(adapter.verify(inbound({ ...good, headers }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it.each(["messagebird-signature", "messagebird-request-timestamp"])("a request without %s answers WEBHOOK_SIGNATURE_MISSING", (name) => {
    const headers: Record<string, string> = { ...good.headers };
    delete headers[name];
    expect(adapter.verify(inbound({ ...good, headers }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING" });
  });

  it.each(["1671697970000x", "-5", "1.5e9"])("a malformed timestamp %j is refused as WEBHOOK_SIGNATURE_INVALID", (timestamp) => {
    const headers = { ...good.headers, "messagebird-request-timestamp": timestamp };
    expect(adapter.verify(inbound({ ...good, headers }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });
});

describe("the retry window: up to 25 hours old (Bird retries with the original timestamp), 5 minutes ahead", () => {
  const body = JSON.stringify(birdInboundEvent({ from: "+33612345678", text: "x" }));
  const at = (offsetSeconds: number) => signBirdRequest({ signingKey: KEY, payload: body, now: RECEIVED_AT, timestampSeconds: NOW_SECONDS + offsetSeconds });

  it.each([
    ["a retry 8 hours later (Bird's documented retry period)", -8 * 3600],
    ["a retry 24 hours later", -24 * 3600],
    ["exactly 25 hours old", -BIRD_MAX_AGE_SECONDS],
    ["exactly 5 minutes ahead", BIRD_MAX_FUTURE_SECONDS],
  ])("%s is accepted", (_label, offset) => {
    expect(adapter.verify(inbound(at(offset)))).toEqual({ ok: true });
  });

  it.each([
    ["25 hours and 1 second old", -BIRD_MAX_AGE_SECONDS - 1],
    ["5 minutes and 1 second ahead", BIRD_MAX_FUTURE_SECONDS + 1],
    ["a week old", -7 * 86_400],
  ])("a correctly signed request %s is refused as WEBHOOK_TIMESTAMP_OUT_OF_RANGE", (_label, offset) => {
    expect(adapter.verify(inbound(at(offset)))).toMatchObject({ ok: false, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" });
  });
});

describe("keys: rotation and configuration", () => {
  const request = signBirdRequest({ signingKey: KEY, payload: "{}", now: RECEIVED_AT });

  it("with several signing keys configured, a request signed by any of them is accepted", () => {
    const rotating = createBirdAdapter({ signingKeys: [OTHER_KEY, KEY] });
    expect(rotating.verify(inbound(request))).toEqual({ ok: true });
    expect(rotating.verify(inbound(signBirdRequest({ signingKey: OTHER_KEY, payload: "{}", now: RECEIVED_AT })))).toEqual({ ok: true });
  });

  it("a key removed from the list no longer verifies", () => {
    expect(createBirdAdapter({ signingKeys: [OTHER_KEY] }).verify(inbound(request))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("with no signing key configured, every request is refused as WEBHOOK_NOT_CONFIGURED", () => {
    const unconfigured = createBirdAdapter({ signingKeys: [] });
    expect(unconfigured.verify(inbound(request))).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
    expect(unconfigured.verify(inbound(request, { headers: {} }))).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
  });
});

describe("parsing Bird's sms.inbound deliveries", () => {
  const parse = (payload: unknown, path: string = BIRD_INBOUND_PATH) =>
    parseBirdMessages(inbound(signBirdRequest({ signingKey: KEY, payload, now: RECEIVED_AT, path })));
  const event = (mutate: (payload: Record<string, unknown>, envelope: Record<string, unknown>) => void = () => {}) => {
    const e = birdInboundEvent({ from: "+33612345678", text: "Code 123456", messageId: "m-1", createdAt: new Date("2031-05-04T09:59:58.000Z") });
    mutate(e.payload as Record<string, unknown>, e);
    return e;
  };

  it("takes our number from receiver.connector.identifierValue when Bird includes it", () => {
    const e = birdInboundEvent({ from: "+33612345678", to: "+447400000123", text: "Code 123456", messageId: "m-1" });
    expect(parse(e)[0]).toMatchObject({ providerMessageId: "m-1", from: "+33612345678", to: "+447400000123", text: "Code 123456" });
  });

  it("otherwise takes our number from the signed URL's `number` parameter", () => {
    expect(parse(event(), birdPathForNumber("+447400000123"))[0]!.to).toBe("+447400000123");
  });

  it("prefers the payload's number over the URL's", () => {
    const e = birdInboundEvent({ from: "+33612345678", to: "+447400000123", text: "x" });
    expect(parse(e, birdPathForNumber("+447400000999"))[0]!.to).toBe("+447400000123");
  });

  it("without either, passes an empty recipient and the channel ids (the core looks for a number mapped to one)", () => {
    expect(parse(event())[0]).toMatchObject({ to: "", channelIds: ["614208aa-b153-4d5d-9989-2fddfc0ce4c3", "86cc4dc0-3dc0-41b7-ac43-8ec829ead56f"] });
  });

  it("passes whichever channel id Bird gives", () => {
    expect(parse(event((p) => delete p.channelId))[0]!.channelIds).toEqual(["86cc4dc0-3dc0-41b7-ac43-8ec829ead56f"]);
    expect(parse(event((p) => (p.receiver = {})))[0]!.channelIds).toEqual(["614208aa-b153-4d5d-9989-2fddfc0ce4c3"]);
    expect(parse(event((p) => ((p.receiver = {}), delete p.channelId)))[0]!.channelIds).toBeUndefined();
  });

  it("keeps the creation time and the number of parts", () => {
    const [message] = parse(event((p) => (p.parts = [{ platformReference: "a" }, { platformReference: "b" }])));
    expect(message).toMatchObject({ receivedAt: new Date("2031-05-04T09:59:58.000Z"), parts: 2 });
  });

  it.each([
    ["an sms.outbound event (status of a message we sent)", event((_p, e) => (e.event = "sms.outbound"))],
    ["a whatsapp.inbound event", event((_p, e) => (e.event = "whatsapp.inbound"))],
    ["an interaction event", event((_p, e) => (e.event = "sms.interaction"))],
    ["an outgoing message in an sms.inbound event", event((p) => (p.direction = "outgoing"))],
    ["a sender identified by e-mail", event((p) => ((p.sender as { contact: Record<string, unknown> }).contact.identifierKey = "emailaddress"))],
    ["a picture (non-text body)", event((p) => (p.body = { type: "image", image: { images: [{ mediaUrl: "https://x" }] } }))],
  ])("%s is acknowledged without a message", (_label, payload) => {
    expect(parse(payload)).toEqual([]);
  });

  it.each([
    ["a body that is not JSON", "not json"],
    ["an envelope without event", { service: "channels", payload: {} }],
    ["an sms.inbound without a message", { service: "channels", event: "sms.inbound" }],
    ["a message without a sender", event((p) => delete p.sender)],
    ["a message id over 200 characters", event((p) => (p.id = "m".repeat(201)))],
    ["a message id with a NUL character (it could never be stored)", event((p) => (p.id = "m\u0000"))],
    ["a text body without its text", event((p) => (p.body = { type: "text", text: {} }))],
  ])("%s is refused as WEBHOOK_PAYLOAD_INVALID", (_label, payload) => {
    expect(thrownBy(() => parse(payload))).toMatchObject({ code: "WEBHOOK_PAYLOAD_INVALID", status: 400 });
  });
});

describe("the adapter's shape and answer", () => {
  it("takes POST only, without a path token", () => {
    expect(adapter).toMatchObject({ name: "bird", methods: ["POST"], usesPathToken: false });
  });

  it("answers 204, whatever the outcomes", () => {
    expect(adapter.acknowledge([{ providerMessageId: "m", outcome: "duplicate" }])).toEqual({ status: 204 });
  });
});
