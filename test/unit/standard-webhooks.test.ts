// Standard Webhooks signatures (the generic provider's inbound scheme and our callbacks' scheme):
// the published known-answer vector, the official `standardwebhooks` package as an oracle, one
// mutated field per refusal, and the ±5 minute tolerance at its exact boundaries.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { TOLERANCE_SECONDS, signStandardWebhook, verifyStandardWebhook } from "../../src/providers/standard-webhooks.js";

const FC_SEED = 20_261_122;

/** The vector published in the Standard Webhooks specification and used by every official library's tests. */
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
} as const;

const atSeconds = (seconds: number) => new Date(seconds * 1000);

function verifyVector(overrides: Partial<{ secrets: string[]; id: string; timestamp: string; signature: string; body: string; now: Date }> = {}) {
  return verifyStandardWebhook(
    overrides.secrets ?? [VECTOR.secret],
    {
      id: overrides.id ?? VECTOR.id,
      timestamp: overrides.timestamp ?? String(VECTOR.timestamp),
      signature: overrides.signature ?? VECTOR.signature,
    },
    Buffer.from(overrides.body ?? VECTOR.body),
    overrides.now ?? atSeconds(VECTOR.timestamp),
  );
}

/** A secret as `whsec_` + base64 of random key bytes. */
const secretArb = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => `whsec_${Buffer.from(bytes).toString("base64")}`);
/** webhook-id values our verifier accepts: 1–256 printable ASCII characters without spaces. */
const idArb = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 256 });
const timestampArb = fc.integer({ min: 1, max: 4_102_444_800 }); // up to 2100
const bodyArb = fc.oneof(fc.string({ unit: "binary" }), fc.json(), fc.string());

describe("the published Standard Webhooks vector", () => {
  it("signStandardWebhook produces the published signature", () => {
    expect(signStandardWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
    expect(signStandardWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.body))).toBe(VECTOR.signature);
  });

  it("verifyStandardWebhook accepts the published request at its own timestamp", () => {
    expect(verifyVector()).toEqual({ ok: true });
  });

  it("the official package signs the vector the same way (so the oracle below is trustworthy)", () => {
    expect(new Webhook(VECTOR.secret).sign(VECTOR.id, atSeconds(VECTOR.timestamp), VECTOR.body)).toBe(VECTOR.signature);
  });

  it("accepts the vector among several signatures and among several secrets (rotation)", () => {
    const other = `whsec_${Buffer.from("another-secret-another-secret-!!").toString("base64")}`;
    expect(verifyVector({ signature: `v1,${Buffer.alloc(32).toString("base64")} ${VECTOR.signature}` })).toEqual({ ok: true });
    expect(verifyVector({ secrets: [other, VECTOR.secret] })).toEqual({ ok: true });
  });
});

describe("agreement with the official standardwebhooks package", () => {
  it("signStandardWebhook equals Webhook.sign for random secrets, ids, timestamps and bodies", () => {
    fc.assert(
      fc.property(secretArb, idArb, timestampArb, bodyArb, (secret, id, timestamp, body) => {
        const official = new Webhook(secret).sign(id, atSeconds(timestamp), body);
        expect(signStandardWebhook(secret, id, timestamp, body)).toBe(official);
        expect(signStandardWebhook(secret, id, timestamp, Buffer.from(body, "utf8"))).toBe(official);
      }),
      { seed: FC_SEED, numRuns: 500 },
    );
  });

  it("verifyStandardWebhook accepts what Webhook.sign signed, at the signing time", () => {
    fc.assert(
      fc.property(secretArb, idArb, timestampArb, bodyArb, (secret, id, timestamp, body) => {
        const signature = new Webhook(secret).sign(id, atSeconds(timestamp), body);
        const verdict = verifyStandardWebhook([secret], { id, timestamp: String(timestamp), signature }, Buffer.from(body, "utf8"), atSeconds(timestamp));
        expect(verdict).toEqual({ ok: true });
      }),
      { seed: FC_SEED, numRuns: 500 },
    );
  });
});

describe("one changed field is refused", () => {
  it.each([
    ["the body (one character)", { body: '{"test": 2432232315}' }],
    ["the body (trailing newline)", { body: `${VECTOR.body}\n` }],
    ["the body (whitespace removed)", { body: '{"test":2432232314}' }],
    ["the id (one character)", { id: "msg_p5jXN8AQM9LWM0D4loKWxJeK" }],
    ["the id (suffix)", { id: `${VECTOR.id}x` }],
    ["the timestamp (one second later, still within tolerance)", { timestamp: String(VECTOR.timestamp + 1) }],
    ["the secret", { secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx"] }],
    ["the signature (one character)", { signature: "v1,g0hM9SsF+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" }],
    // The next five decode to the right 32 bytes with Node's lenient base64 decoder; the official
    // libraries compare the text and refuse them, and so must we.
    ["the signature (last character, differing only in base64 padding bits)", { signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=" }],
    ["the signature (padding removed)", { signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE" }],
    ["the signature (base64url alphabet)", { signature: "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=" }],
    ["the signature (a stray character inside)", { signature: "v1,g0hM9SsE+OTPJTGt/tmIK.tSyZlE3uFJELVlNIOLJ1OE=" }],
    ["the signature (junk after the padding)", { signature: `${VECTOR.signature}garbage!` }],
    ["the signature version", { signature: VECTOR.signature.replace("v1,", "v2,") }],
    ["the signature (truncated)", { signature: VECTOR.signature.slice(0, -4) }],
    ["the signature (raw hex instead of base64)", { signature: `v1,${Buffer.from(VECTOR.signature.slice(3), "base64").toString("hex")}` }],
    ["the signature (without version)", { signature: VECTOR.signature.slice(3) }],
  ])("%s → WEBHOOK_SIGNATURE_INVALID", (_what, overrides) => {
    expect(verifyVector(overrides)).toEqual({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID", reason: expect.any(String) });
  });

  it.each([
    ["webhook-id", { id: "" }],
    ["webhook-timestamp", { timestamp: "" }],
    ["webhook-signature", { signature: "" }],
  ])("a missing %s → WEBHOOK_SIGNATURE_MISSING", (_what, overrides) => {
    expect(verifyVector(overrides)).toEqual({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING", reason: expect.any(String) });
  });

  it.each([
    ["a timestamp with a fraction", "1614265330.0"],
    ["a negative timestamp", "-1614265330"],
    ["a timestamp with a sign", "+1614265330"],
    ["a timestamp in milliseconds", "1614265330000"],
    ["a timestamp with spaces", " 1614265330"],
    ["a hexadecimal timestamp", "0x6037c1f2"],
  ])("%s is refused", (_what, timestamp) => {
    expect(verifyVector({ timestamp }).ok).toBe(false);
  });

  it("an id with a space or a non-ASCII character is refused before any HMAC", () => {
    expect(verifyVector({ id: "msg p5jXN8AQM9LWM0D4loKWxJek" })).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
    expect(verifyVector({ id: "msg_p5jXN8AQM9LWM0D4loKWxJék" })).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("without any configured secret every request is refused as not configured", () => {
    expect(verifyVector({ secrets: [] })).toEqual({ ok: false, code: "WEBHOOK_NOT_CONFIGURED", reason: expect.any(String) });
  });

  it("any single-byte change of a randomly signed body, id or signature is refused", () => {
    fc.assert(
      fc.property(
        secretArb,
        idArb,
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.constantFrom("body", "id", "signature"),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (secret, id, body, field, position, delta) => {
          const timestamp = VECTOR.timestamp;
          const signature = signStandardWebhook(secret, id, timestamp, body);
          let bodyBytes = Buffer.from(body, "utf8");
          let mutatedId = id;
          let mutatedSignature = signature;
          if (field === "body") {
            bodyBytes = Buffer.from(bodyBytes);
            const i = position % bodyBytes.length;
            bodyBytes[i] = (bodyBytes[i]! + delta) % 256;
          } else if (field === "id") {
            const i = position % id.length;
            const code = 0x21 + ((id.charCodeAt(i) - 0x21 + (delta % 93) + 1) % 94);
            mutatedId = `${id.slice(0, i)}${String.fromCharCode(code)}${id.slice(i + 1)}`;
            fc.pre(mutatedId !== id);
          } else {
            const raw = Buffer.from(signature.slice(3), "base64");
            const i = position % raw.length;
            raw[i] = (raw[i]! + delta) % 256;
            mutatedSignature = `v1,${raw.toString("base64")}`;
          }
          const verdict = verifyStandardWebhook([secret], { id: mutatedId, timestamp: String(timestamp), signature: mutatedSignature }, bodyBytes, atSeconds(timestamp));
          expect(verdict.ok).toBe(false);
        },
      ),
      { seed: FC_SEED, numRuns: 1000 },
    );
  });
});

describe("timestamp tolerance (±5 minutes, checked against the given time, never the wall clock)", () => {
  it("is 300 seconds", () => {
    expect(TOLERANCE_SECONDS).toBe(300);
  });

  it.each([
    ["exactly 300 s old", VECTOR.timestamp + 300],
    ["exactly 300 s in the future", VECTOR.timestamp - 300],
    ["300.999 s old (the check works in whole seconds)", VECTOR.timestamp + 300.999],
  ])("a request %s is accepted", (_what, nowSeconds) => {
    expect(verifyVector({ now: atSeconds(nowSeconds) })).toEqual({ ok: true });
  });

  it.each([
    ["301 s old", VECTOR.timestamp + 301],
    ["301 s in the future", VECTOR.timestamp - 301],
    ["a day old", VECTOR.timestamp + 86_400],
    ["years in the future", VECTOR.timestamp - 10 * 365 * 86_400],
  ])("a request %s is refused as out of range", (_what, nowSeconds) => {
    expect(verifyVector({ now: atSeconds(nowSeconds) })).toEqual({ ok: false, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE", reason: expect.any(String) });
  });

  it("an out-of-range timestamp is refused even with a valid signature for it", () => {
    const timestamp = VECTOR.timestamp - 301;
    const signature = signStandardWebhook(VECTOR.secret, VECTOR.id, timestamp, VECTOR.body);
    expect(verifyVector({ timestamp: String(timestamp), signature })).toMatchObject({ ok: false, code: "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" });
  });
});
