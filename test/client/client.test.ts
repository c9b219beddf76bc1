// The TypeScript client (clients/typescript) against the real service over HTTP: the whole flow
// from creation to a single consume, the long-poll loop, and every kind of error it turns into a
// typed ReverseOtpError (or a connection error, or the caller's own abort).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { z } from "zod";
import {
  ReverseOtpClient,
  ReverseOtpConnectionError,
  ReverseOtpError,
  type Challenge,
  type CreateChallengeInput,
  type CreatedChallenge,
  type FetchLike,
  type Problem,
} from "../../clients/typescript/src/index.js";
import type { ChallengeView, CreatedChallenge as ServiceCreatedChallenge, createChallengeBody } from "../../src/challenges/challenge-schemas.js";
import type { Problem as ServiceProblem } from "../../src/http/problem.js";
import { createSealer } from "../../src/shared/crypto.js";
import { PHONES, startHarness, TEST_HASH_KEY, type Harness } from "../support/harness.js";
import { until } from "../support/wait.js";

let h: Harness;
let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  h = await startHarness();
  server = h.app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  h.runtime.beginShutdown();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await h.close();
});

let phoneCounter = 0;
/** A fresh French mobile number per test, so per-phone limits never interfere. */
const nextPhone = () => `+336130${String(10_000 + phoneCounter++).padStart(5, "0")}`;

async function clientsFor() {
  const app = await h.createApp();
  return {
    app,
    mobile: new ReverseOtpClient({ baseUrl, apiKey: app.pk }),
    backend: new ReverseOtpClient({ baseUrl, apiKey: app.sk }),
  };
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

// The client's types are the service's schemas (checked by `tsc --noEmit`): an answer type equal
// both ways, and every request the client can type is one the service's schema accepts.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const typesMatchTheService: [
  Same<Challenge, ChallengeView>,
  Same<CreatedChallenge, ServiceCreatedChallenge>,
  CreateChallengeInput extends z.input<typeof createChallengeBody> ? true : false,
  ServiceProblem extends Problem ? true : false,
] = [true, true, true, true];

test("the client's types are the service's contract (a compile-time check)", () => {
  expect(typesMatchTheService).toEqual([true, true, true, true]);
});

describe("the whole flow", () => {
  test("create with the publishable key, the user's SMS wakes waitForChallenge with verified, the backend consumes once and the second consume is a 409", async () => {
    const { app, mobile, backend } = await clientsFor();
    const phone = nextPhone();
    const created = await mobile.createChallenge({ phone, purpose: "login" });
    expect(created).toEqual({
      id: expect.stringMatching(/^chl_/),
      status: "pending",
      purpose: "login",
      phoneMasked: expect.stringMatching(/^\+33•+\d\d$/),
      code: expect.stringMatching(/^\d{6}$/),
      smsTo: app.number,
      smsBody: expect.stringContaining(created.code!),
      smsUri: { ios: expect.stringMatching(/^sms:/), android: expect.stringMatching(/^sms:/) },
      expiresAt: expect.any(String),
      pollToken: expect.stringMatching(/^pt_/),
      attemptsRemaining: 5,
      channel: "sms_mo",
    });

    const waiting = mobile.waitForChallenge(created.id, { pollToken: created.pollToken, timeoutSeconds: 30 });
    // The SMS arrives while the long-poll is held open, so it is the notification that answers it.
    await until(() => h.runtime.bus.waiterCount() > 0, "the long-poll to be waiting");
    const sms = await h.sendSms({ from: phone, to: created.smsTo!, text: created.smsBody! });
    expect(sms.body).toEqual({ results: [expect.objectContaining({ outcome: "verified" })] });

    const verified = await waiting;
    expect(verified).toMatchObject({ id: created.id, status: "verified", verifiedAt: expect.any(String), consumedAt: null });

    const consumed = await backend.consumeChallenge(created.id);
    expect(consumed).toMatchObject({ id: created.id, status: "verified", consumedAt: expect.any(String) });

    const again = await rejectionOf(backend.consumeChallenge(created.id));
    expect(again).toBeInstanceOf(ReverseOtpError);
    expect(again).toMatchObject({
      name: "ReverseOtpError",
      status: 409,
      code: "CHALLENGE_ALREADY_CONSUMED",
      detail: expect.any(String),
      requestId: expect.any(String),
      retryAfterSeconds: undefined,
    });
    expect((await backend.getChallenge(created.id)).consumedAt).toBe(consumed.consumedAt);
  });

  test("a transaction challenge carries its context into the SMS text", async () => {
    const { mobile } = await clientsFor();
    const created = await mobile.createChallenge({
      phone: nextPhone(),
      purpose: "transaction",
      context: { amount: "49.90", currency: "EUR", merchant: "Bookshop" },
      locale: "en",
    });
    expect(created.smsBody).toContain("49.90");
    expect(created.smsBody).toContain("Bookshop");
  });

  test("the same Idempotency-Key answers the same challenge; with another body it is a 409", async () => {
    const { backend } = await clientsFor();
    const phone = nextPhone();
    const first = await backend.createChallenge({ phone, purpose: "signup" }, { idempotencyKey: "order-42" });
    const replay = await backend.createChallenge({ phone, purpose: "signup" }, { idempotencyKey: "order-42" });
    expect(replay).toEqual(first);
    const reused = await rejectionOf(backend.createChallenge({ phone, purpose: "login" }, { idempotencyKey: "order-42" }));
    expect(reused).toMatchObject({ status: 409, code: "IDEMPOTENCY_KEY_REUSED" });
  });

  test("cancel with the poll token; waitForChallenge then answers cancelled at once, and a second cancel is a 409", async () => {
    const { mobile } = await clientsFor();
    const created = await mobile.createChallenge({ phone: nextPhone(), purpose: "login" });
    expect(await mobile.cancelChallenge(created.id, { pollToken: created.pollToken })).toMatchObject({ status: "cancelled" });
    const started = Date.now();
    expect(await mobile.waitForChallenge(created.id, { pollToken: created.pollToken })).toMatchObject({ status: "cancelled" });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await rejectionOf(mobile.cancelChallenge(created.id, { pollToken: created.pollToken }))).toMatchObject({
      status: 409,
      code: "CHALLENGE_NOT_PENDING",
    });
  });

  test("a client without a key reads with the poll token alone", async () => {
    const { mobile } = await clientsFor();
    const created = await mobile.createChallenge({ phone: nextPhone(), purpose: "login" });
    const anonymous = new ReverseOtpClient({ baseUrl: `${baseUrl}/` });
    expect(await anonymous.getChallenge(created.id, { pollToken: created.pollToken })).toMatchObject({ id: created.id, status: "pending" });
  });
});

describe("waitForChallenge", () => {
  test("when the timeout passes first, it returns the latest state, still pending", async () => {
    const { backend } = await clientsFor();
    const created = await backend.createChallenge({ phone: nextPhone(), purpose: "login" });
    const started = Date.now();
    const latest = await backend.waitForChallenge(created.id, { timeoutSeconds: 1 });
    expect(latest).toMatchObject({ id: created.id, status: "pending" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("the caller's signal aborts the wait, rejecting with the signal's reason", async () => {
    const { backend } = await clientsFor();
    const created = await backend.createChallenge({ phone: nextPhone(), purpose: "login" });
    const controller = new AbortController();
    const waiting = backend.waitForChallenge(created.id, { signal: controller.signal });
    await until(() => h.runtime.bus.waiterCount() > 0, "the long-poll to be waiting");
    const reason = new Error("user left the screen");
    controller.abort(reason);
    expect(await rejectionOf(waiting)).toBe(reason);
  });

  test("a 503 with Retry-After is waited out, then the wait goes on (scripted fetch)", async () => {
    const calls: string[] = [];
    const view: Challenge = {
      id: "chl_x",
      status: "verified",
      channel: "sms_mo",
      purpose: "login",
      phoneMasked: "+33•••••••78",
      createdAt: "2026-01-01T00:00:00.000Z",
      expiresAt: "2026-01-01T00:05:00.000Z",
      verifiedAt: "2026-01-01T00:01:00.000Z",
      consumedAt: null,
      attemptsRemaining: 5,
    };
    const answers = [
      () =>
        new Response(JSON.stringify({ type: "t", title: "Unavailable", status: 503, detail: "retry later", code: "SERVICE_UNAVAILABLE" }), {
          status: 503,
          headers: { "content-type": "application/problem+json", "retry-after": "1" },
        }),
      () => new Response(JSON.stringify(view), { status: 200, headers: { "content-type": "application/json" } }),
    ];
    const fetch: FetchLike = async (url, init) => {
      calls.push(`${init.method} ${url} ${(init.headers as Record<string, string>)["x-poll-token"]}`);
      return answers.shift()!();
    };
    const client = new ReverseOtpClient({ baseUrl: "https://otp.example.test/base/", fetch });
    const started = Date.now();
    expect(await client.waitForChallenge("chl_x", { pollToken: "pt_1", timeoutSeconds: 60 })).toEqual(view);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(calls).toEqual([
      "GET https://otp.example.test/base/v1/challenges/chl_x?waitSeconds=30 pt_1",
      "GET https://otp.example.test/base/v1/challenges/chl_x?waitSeconds=30 pt_1",
    ]);
  });
});

describe("errors", () => {
  test("an unknown key is a 401 UNAUTHENTICATED with the request id", async () => {
    const client = new ReverseOtpClient({ baseUrl, apiKey: "sk_00000000000000000000000000000000" });
    const error = await rejectionOf(client.createChallenge({ phone: nextPhone(), purpose: "login" }));
    expect(error).toBeInstanceOf(ReverseOtpError);
    expect(error).toMatchObject({ status: 401, code: "UNAUTHENTICATED", requestId: expect.any(String) });
    expect((error as ReverseOtpError).type).toMatch(/\/docs\/errors#unauthenticated$/);
    expect((error as Error).message).toMatch(/^UNAUTHENTICATED: /);
  });

  test("unknown and foreign challenges are the same 404 NOT_FOUND", async () => {
    const { backend } = await clientsFor();
    const other = await clientsFor();
    const foreign = await other.backend.createChallenge({ phone: nextPhone(), purpose: "login" });
    for (const id of ["chl_0000000000000000000000", foreign.id, "not an id/../x"]) {
      expect(await rejectionOf(backend.getChallenge(id))).toMatchObject({ status: 404, code: "NOT_FOUND" });
    }
    // A publishable key without the poll token cannot read a challenge either: it is told that it
    // needs the poll token, for a real id as for a made-up one (the answer says nothing about the id).
    for (const id of [foreign.id, "chl_0000000000000000000000"]) {
      expect(await rejectionOf(other.mobile.getChallenge(id))).toMatchObject({ status: 403, code: "FORBIDDEN", reason: "POLL_TOKEN_REQUIRED" });
    }
  });

  test("a fixed-line number is a 422 PHONE_NOT_MOBILE with its reason and the field", async () => {
    const { mobile } = await clientsFor();
    const error = (await rejectionOf(mobile.createChallenge({ phone: "+33 1 42 68 53 00", purpose: "login" }))) as ReverseOtpError;
    expect(error).toMatchObject({ status: 422, code: "PHONE_NOT_MOBILE", reason: "not_mobile" });
    expect(error.errors).toEqual([{ field: "phone", message: expect.any(String) }]);
  });

  test("a fourth pending challenge of a phone replaces the oldest (expired), and is not refused", async () => {
    const { backend } = await clientsFor();
    const phone = nextPhone();
    const first = await backend.createChallenge({ phone, purpose: "login" });
    for (let i = 0; i < 3; i++) await backend.createChallenge({ phone, purpose: "login" });
    expect((await backend.getChallenge(first.id)).status).toBe("expired");
  });

  test("unknown fields are a 400 VALIDATION_FAILED; consuming with a publishable key is a 403; consuming early is a 409", async () => {
    const { mobile, backend } = await clientsFor();
    const bad = await rejectionOf(mobile.createChallenge({ phone: nextPhone(), purpose: "login", colour: "blue" } as never));
    expect(bad).toMatchObject({ status: 400, code: "VALIDATION_FAILED" });
    const created = await mobile.createChallenge({ phone: nextPhone(), purpose: "login" });
    expect(await rejectionOf(mobile.consumeChallenge(created.id))).toMatchObject({ status: 403, code: "FORBIDDEN" });
    expect(await rejectionOf(backend.consumeChallenge(created.id))).toMatchObject({ status: 409, code: "CHALLENGE_NOT_VERIFIED" });
  });

  test("an answer that is not problem+json (a proxy's page) is an HTTP_ERROR with its status", async () => {
    const fetch: FetchLike = async () =>
      new Response("<html>Bad Gateway</html>", { status: 502, statusText: "Bad Gateway", headers: { "content-type": "text/html" } });
    const error = await rejectionOf(new ReverseOtpClient({ baseUrl, apiKey: "sk_x", fetch }).getChallenge("chl_x"));
    expect(error).toMatchObject({ status: 502, code: "HTTP_ERROR", detail: "HTTP 502 Bad Gateway: <html>Bad Gateway</html>" });
  });

  test("no answer is a ReverseOtpConnectionError: a closed port, and a server that never answers (timeoutMs)", async () => {
    const closed = http.createServer();
    closed.listen(0, "127.0.0.1");
    await new Promise((resolve) => closed.once("listening", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await rejectionOf(new ReverseOtpClient({ baseUrl: `http://127.0.0.1:${closedPort}`, apiKey: "sk_x" }).getChallenge("chl_x"));
    expect(refused).toBeInstanceOf(ReverseOtpConnectionError);
    expect(refused).toMatchObject({ isTimeout: false });

    const silent = http.createServer(() => undefined);
    silent.listen(0, "127.0.0.1");
    await new Promise((resolve) => silent.once("listening", resolve));
    try {
      const client = new ReverseOtpClient({ baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, timeoutMs: 200 });
      const timedOut = await rejectionOf(client.getChallenge("chl_x"));
      expect(timedOut).toBeInstanceOf(ReverseOtpConnectionError);
      expect(timedOut).toMatchObject({ isTimeout: true, message: expect.stringContaining("within 200 ms") });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test("arguments the service would refuse anyway are refused before any request", async () => {
    const client = new ReverseOtpClient({ baseUrl, apiKey: "sk_x", fetch: () => Promise.reject(new Error("no request expected")) });
    expect(() => client.getChallenge("chl_x", { waitSeconds: 31 })).toThrow(RangeError);
    expect(() => client.getChallenge("")).toThrow(TypeError);
    expect(() => new ReverseOtpClient({ baseUrl: "otp.example.com" })).toThrow(TypeError);
  });
});

describe("the classic direction: fallback and check", () => {
  /** The code of the challenge's latest outbound message, read from the outbox as the dispatcher would. */
  async function sentCode(challengeId: string): Promise<string> {
    const [row] = await h.db.query<{ sealed_payload: string }>(
      `SELECT sealed_payload FROM outbound_messages WHERE challenge_id = $1 ORDER BY created_at DESC LIMIT 1`,
      [challengeId],
    );
    const payload = JSON.parse(createSealer([TEST_HASH_KEY], "outbound-payload").open(row!.sealed_payload)) as { text: string };
    return /^(\d+)/.exec(payload.text)![1]!;
  }

  test("fallback switches a reverse challenge to sms; a wrong code rejects with WRONG_CODE and attemptsRemaining; the right one verifies", async () => {
    const app = await h.createApp({ channels: ["sms_mo", "sms"], outboundCountries: ["FR"] });
    const mobile = new ReverseOtpClient({ baseUrl, apiKey: app.pk });
    const created = await mobile.createChallenge({ phone: nextPhone(), purpose: "login" });
    expect(created.channel).toBe("sms_mo");
    const switched = await mobile.fallback(created.id, { channel: "sms" }, { pollToken: created.pollToken });
    expect(switched).toMatchObject({ id: created.id, channel: "sms", status: "pending", delivery: { status: "queued" } });
    const code = await sentCode(created.id);
    const wrong = (await rejectionOf(mobile.check(created.id, code === "000000" ? "111111" : "000000", { pollToken: created.pollToken }))) as ReverseOtpError;
    expect(wrong).toBeInstanceOf(ReverseOtpError);
    expect([wrong.status, wrong.code, wrong.attemptsRemaining]).toEqual([422, "WRONG_CODE", 4]);
    const verified = await mobile.check(created.id, code, { pollToken: created.pollToken });
    expect(verified).toMatchObject({ status: "verified", channel: "sms" });
  });

  test("a sms challenge's creation answer holds no code, and a fallback the app does not allow rejects with CHANNEL_NOT_ALLOWED", async () => {
    const app = await h.createApp({ channels: ["sms_mo", "sms"], outboundCountries: ["FR"] });
    const backend = new ReverseOtpClient({ baseUrl, apiKey: app.sk });
    const created = await backend.createChallenge({ phone: nextPhone(), purpose: "login", channel: "sms" });
    expect(created.code).toBeUndefined();
    expect(created.delivery?.status).toBe("queued");
    const reverse = await backend.createChallenge({ phone: nextPhone(), purpose: "login" });
    const refused = (await rejectionOf(backend.fallback(reverse.id, { channel: "email", email: "jane@example.com" }))) as ReverseOtpError;
    expect([refused.status, refused.code]).toEqual([409, "CHANNEL_NOT_ALLOWED"]);
  });
});
