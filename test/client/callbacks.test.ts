// The client's callback verification (WebCrypto, no dependency) against the `standardwebhooks`
// package as the oracle: what the package signs verifies, one altered field at a time does not,
// and timestamps outside ±5 minutes of `now` are refused both ways. Last, a real callback sent by
// the service's dispatcher verifies with the app's callback secret.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import {
  CallbackVerificationError,
  ReverseOtpClient,
  signCallback,
  verifyCallback,
  type CallbackEvent,
} from "../../clients/typescript/src/index.js";
import { PHONES, startHarness } from "../support/harness.js";
import { until } from "../support/wait.js";

const SECRET = `whsec_${Buffer.from("client-callback-test-secret-0123").toString("base64")}`;
const OTHER_SECRET = `whsec_${Buffer.from("another-callback-secret-45678901").toString("base64")}`;
/** 2026-11-22T12:00:00Z: the check time is a parameter, so no faked timer is needed. */
const NOW = new Date("2026-11-22T12:00:00Z");
const NOW_SECONDS = NOW.getTime() / 1000;

const event: CallbackEvent = {
  type: "challenge.verified",
  data: {
    id: "chl_4Zb1Qv6T0a7nCjXkq2Lw9e",
    status: "verified",
    channel: "sms_mo",
    purpose: "login",
    phoneMasked: "+33•••••••78",
    createdAt: "2026-11-22T11:59:00.000Z",
    expiresAt: "2026-11-22T12:04:00.000Z",
    verifiedAt: "2026-11-22T11:59:30.000Z",
    consumedAt: null,
    attemptsRemaining: 5,
  },
};
const BODY = JSON.stringify(event);

/** Headers signed by the reference library, as a receiver gets them. */
function signed(options: { body?: string; id?: string; timestampSeconds?: number; secret?: string } = {}) {
  const id = options.id ?? "evt_2b7f0c1e9d";
  const timestampSeconds = options.timestampSeconds ?? NOW_SECONDS;
  const body = options.body ?? BODY;
  const signature = new Webhook(options.secret ?? SECRET).sign(id, new Date(timestampSeconds * 1000), body);
  return { body, headers: { "webhook-id": id, "webhook-timestamp": String(timestampSeconds), "webhook-signature": signature } };
}

async function refusal(promise: Promise<unknown>): Promise<CallbackVerificationError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CallbackVerificationError);
    return error as CallbackVerificationError;
  }
  throw new Error("expected the callback to be refused");
}

describe("a callback signed with the standardwebhooks package", () => {
  test("verifies and returns the typed event, from a string, a Buffer, an ArrayBuffer, a Headers object and Node-style headers", async () => {
    const { body, headers } = signed();
    expect(await verifyCallback(body, headers, SECRET, { now: NOW })).toEqual(event);
    const bytes = Buffer.from(body);
    expect(await verifyCallback(bytes, new Headers(headers), SECRET, { now: NOW })).toEqual(event);
    const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    expect(await verifyCallback(arrayBuffer, headers, SECRET, { now: NOW.getTime() })).toEqual(event);
    const nodeStyle = { "Webhook-Id": [headers["webhook-id"]], "WEBHOOK-TIMESTAMP": headers["webhook-timestamp"], "webhook-signature": headers["webhook-signature"], host: "x" };
    expect(await verifyCallback(bytes, nodeStyle, SECRET, { now: NOW })).toEqual(event);
    // The client method is the same check.
    expect(await new ReverseOtpClient({ baseUrl: "https://otp.example.test" }).verifyCallback(body, headers, SECRET, { now: NOW })).toEqual(event);
  });

  test("several signatures (the sender rotating) and several secrets (the receiver rotating) verify when one pair matches", async () => {
    const { body, headers } = signed();
    const other = signed({ secret: OTHER_SECRET }).headers["webhook-signature"];
    const both = { ...headers, "webhook-signature": `v2,ignored ${other} ${headers["webhook-signature"]}` };
    expect(await verifyCallback(body, both, SECRET, { now: NOW })).toEqual(event);
    expect(await verifyCallback(body, headers, [OTHER_SECRET, SECRET], { now: NOW })).toEqual(event);
  });

  test("the secret's whsec_ prefix is optional, as in the reference libraries", async () => {
    const { body, headers } = signed();
    expect(await verifyCallback(body, headers, SECRET.slice("whsec_".length), { now: NOW })).toEqual(event);
  });

  test("timestamps exactly 5 minutes away verify; one second more is too old or too new", async () => {
    for (const offset of [-300, 300]) {
      const { body, headers } = signed({ timestampSeconds: NOW_SECONDS + offset });
      expect(await verifyCallback(body, headers, SECRET, { now: NOW })).toEqual(event);
    }
    const stale = signed({ timestampSeconds: NOW_SECONDS - 301 });
    expect((await refusal(verifyCallback(stale.body, stale.headers, SECRET, { now: NOW }))).reason).toBe("timestamp_too_old");
    const future = signed({ timestampSeconds: NOW_SECONDS + 301 });
    expect((await refusal(verifyCallback(future.body, future.headers, SECRET, { now: NOW }))).reason).toBe("timestamp_too_new");
    // A wider tolerance, when asked for, accepts the stale one.
    expect(await verifyCallback(stale.body, stale.headers, SECRET, { now: NOW, toleranceSeconds: 600 })).toEqual(event);
  });

  test("without `now`, the wall clock decides: a callback signed now verifies, one signed an hour ago does not", async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const fresh = signed({ timestampSeconds: nowSeconds });
    expect(await verifyCallback(fresh.body, fresh.headers, SECRET)).toEqual(event);
    const old = signed({ timestampSeconds: nowSeconds - 3600 });
    expect((await refusal(verifyCallback(old.body, old.headers, SECRET))).reason).toBe("timestamp_too_old");
  });
});

describe("one altered field at a time is refused", () => {
  const { body, headers } = signed();
  const signature = headers["webhook-signature"];
  const digest = signature.slice(3);
  const flipped = (digest[0] === "A" ? "B" : "A") + digest.slice(1);
  // The last base64 character before "=" carries 2 unused bits: a different character can decode
  // to the same 32 bytes. Only the canonical spelling counts.
  const lastIndex = digest.length - 2;
  const lastValue = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".indexOf(digest[lastIndex]!);
  const sameBytes = digest.slice(0, lastIndex) + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[lastValue ^ 1] + "=";

  test.each([
    ["the body (one character)", body.replace('"login"', '"logon"'), headers],
    ["the body (a space added)", `${body} `, headers],
    ["the webhook-id", body, { ...headers, "webhook-id": "evt_2b7f0c1e9e" }],
    ["the webhook-timestamp (still within tolerance)", body, { ...headers, "webhook-timestamp": String(NOW_SECONDS - 1) }],
    ["the signature (one character)", body, { ...headers, "webhook-signature": `v1,${flipped}` }],
    ["the signature's version", body, { ...headers, "webhook-signature": `v2,${digest}` }],
    ["the signature spelled with other unused bits", body, { ...headers, "webhook-signature": `v1,${sameBytes}` }],
    ["the signature truncated", body, { ...headers, "webhook-signature": signature.slice(0, -4) }],
  ])("%s", async (_what, alteredBody, alteredHeaders) => {
    expect((await refusal(verifyCallback(alteredBody, alteredHeaders, SECRET, { now: NOW }))).reason).toBe("no_matching_signature");
  });

  test("another app's secret", async () => {
    expect((await refusal(verifyCallback(body, headers, OTHER_SECRET, { now: NOW }))).reason).toBe("no_matching_signature");
  });

  test.each(["webhook-id", "webhook-timestamp", "webhook-signature"])("a missing %s header", async (name) => {
    const without = Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
    expect((await refusal(verifyCallback(body, without, SECRET, { now: NOW }))).reason).toBe("missing_headers");
  });

  test("a timestamp that is not a number of seconds", async () => {
    expect((await refusal(verifyCallback(body, { ...headers, "webhook-timestamp": "1795342800.5" }, SECRET, { now: NOW }))).reason).toBe(
      "malformed_headers",
    );
  });

  test("a correctly signed body that is not a challenge event", async () => {
    for (const other of ['{"hello":"world"}', '{"type":"invoice.paid","data":{}}', "not json"]) {
      const s = signed({ body: other });
      expect((await refusal(verifyCallback(s.body, s.headers, SECRET, { now: NOW }))).reason).toBe("invalid_payload");
    }
  });

  test("a secret that is not base64 is a programming error (TypeError), not a refusal", async () => {
    await expect(verifyCallback(body, headers, "whsec_%%%", { now: NOW })).rejects.toThrow(TypeError);
  });
});

describe("signCallback, the helper for testing a callback handler", () => {
  test("gives the same signature as the standardwebhooks package, and what it signs verifies", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/\s/.test(s)),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.string({ unit: "grapheme", maxLength: 200 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        async (id, timestamp, body, key) => {
          const secret = `whsec_${Buffer.from(key).toString("base64")}`;
          const ours = await signCallback(secret, { id, timestamp, body });
          expect(ours).toBe(new Webhook(secret).sign(id, new Date(timestamp * 1000), body));
          // An event signed by us now: the package (which reads the wall clock) and we both accept it.
          const json = JSON.stringify({ ...event, data: { ...event.data, phoneMasked: body } });
          const now = Math.floor(Date.now() / 1000);
          const headers = { "webhook-id": id, "webhook-timestamp": String(now), "webhook-signature": await signCallback(secret, { id, timestamp: now, body: json }) };
          expect(new Webhook(secret).verify(json, headers)).toEqual(JSON.parse(json));
          expect((await verifyCallback(json, headers, secret)).data.phoneMasked).toBe(body);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("a callback sent by the service", () => {
  let receiver: http.Server | undefined;
  afterAll(async () => {
    receiver?.closeAllConnections();
    if (receiver) await new Promise((resolve) => receiver!.close(resolve));
  });

  test("verifies with the callback secret that apps create printed", async () => {
    const received: { raw: Buffer; headers: http.IncomingHttpHeaders }[] = [];
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ raw: Buffer.concat(chunks), headers: req.headers });
        res.writeHead(204).end();
      });
    });
    receiver.listen(0, "127.0.0.1");
    await new Promise((resolve) => receiver!.once("listening", resolve));
    const h = await startHarness({ env: { CALLBACKS_ALLOW_PRIVATE_NETWORKS: "true" } });
    try {
      const created = await h.runtime.apps.create({
        name: "Hooked",
        numbers: [{ number: "+447400002100" }],
        callbackUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      });
      const challenge = (await h.createChallenge(created.secretKey, { phone: PHONES.de, purpose: "signup" })).body as { id: string; smsBody: string };
      await h.sendSms({ from: PHONES.de, to: "+447400002100", text: challenge.smsBody });
      await h.runtime.callbacks.runOnce();
      await until(() => received.length > 0, "the callback");
      const { raw, headers } = received[0]!;
      const verified = await verifyCallback(raw, headers, created.callbackSecret!);
      expect(verified).toMatchObject({ type: "challenge.verified", data: { id: challenge.id, status: "verified", purpose: "signup" } });
      // And the wrong app's secret refuses it.
      expect((await refusal(verifyCallback(raw, headers, SECRET))).reason).toBe("no_matching_signature");
    } finally {
      await h.runtime.callbacks.stop();
      await h.close();
    }
  });
});
