// Bad input anywhere gets a clear 4xx as application/problem+json with a stable code, never a 5xx,
// and writes nothing (PRODUCT.md "Rules", SECURITY.md "Input abuse"). Hostile but validly signed
// SMS texts are stored and answered 2xx, and a code hidden with invisible or full-width characters
// still verifies (PRODUCT.md "Matching": tolerant extraction).
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import type { Response } from "supertest";
import { randomId } from "../../src/shared/crypto.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";

const FC_SEED = 20_261_122;
const VALID = { phone: PHONES.fr, purpose: "login" } as const;
const TRANSACTION = { phone: PHONES.fr, purpose: "transaction", context: { amount: "49.90", currency: "EUR", merchant: "Shop XY" } } as const;
/** The outcomes PRODUCT.md lists for an inbound message. */
const OUTCOMES = ["verified", "wrong_code", "expired", "no_pending_challenge", "unknown_number", "invalid_sender", "duplicate"];

let h: Harness;
/** The app most refusals are tried against; refusals write nothing, so sharing it changes nothing. */
let main: Awaited<ReturnType<Harness["createApp"]>>;

beforeAll(async () => {
  h = await startHarness();
  main = await h.createApp({ name: "Malformed" });
});
afterAll(async () => {
  await h.close();
});

/** Runs `act` and asserts that no table gained or lost a row meanwhile. */
async function withoutWrites<T>(act: () => Promise<T>): Promise<T> {
  const before = await h.countRows();
  const result = await act();
  expect(await h.countRows()).toEqual(before);
  return result;
}

/** A refusal in the documented shape: status, problem+json, the stable code, no-store. */
function expectProblem(res: Response, status: number, code: string): void {
  if (res.status !== status || res.body?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${res.text.slice(0, 400)}`);
  }
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, title: expect.any(String), type: expect.stringContaining("/docs/errors#") });
}

function postRaw(body: string | Buffer, contentType: string | undefined, key: string = main.sk) {
  let req = h.http().post("/v1/challenges").set("Authorization", `Bearer ${key}`);
  if (contentType !== undefined) req = req.set("Content-Type", contentType);
  return req.send(body);
}

const postJson = (value: unknown, headers: Record<string, string> = {}, key: string = main.sk) =>
  h.http().post("/v1/challenges").set("Authorization", `Bearer ${key}`).set("Content-Type", "application/json").set(headers).send(JSON.stringify(value));

/** POSTs `value` and expects a refusal with `status` and `code`, and no row written. */
async function expectRefusedBody(value: unknown, status: number, code: string): Promise<Response> {
  return withoutWrites(async () => {
    const res = await postJson(value);
    expectProblem(res, status, code);
    return res;
  });
}

describe("POST /v1/challenges refuses bodies that are not a JSON object", () => {
  test.each([
    ["not JSON", "{phone: +33612345678, purpose: login}", "INVALID_JSON"],
    ["truncated JSON", '{"phone": "+33612345678", "purpose": "log', "INVALID_JSON"],
    ["JSON with trailing garbage", '{"phone": "+33612345678", "purpose": "login"} x', "INVALID_JSON"],
    ["a JSON string", '"+33612345678"', "INVALID_JSON"],
    ["JSON null", "null", "INVALID_JSON"],
    ["a JSON number", "42", "INVALID_JSON"],
    ["JSON true", "true", "INVALID_JSON"],
    ["a JSON array", "[]", "VALIDATION_FAILED"],
    ["a JSON array holding a valid body", JSON.stringify([VALID]), "VALIDATION_FAILED"],
    ["an empty object", "{}", "VALIDATION_FAILED"],
    ["deeply nested arrays", `${"[".repeat(5000)}${"]".repeat(5000)}`, "VALIDATION_FAILED"],
  ])("%s → 400 %s", async (_what, body, code) => {
    await withoutWrites(async () => expectProblem(await postRaw(body, "application/json"), 400, code));
  });

  test("an empty body with a JSON content type → 400 VALIDATION_FAILED naming the missing fields", async () => {
    const res = await withoutWrites(() => postRaw("", "application/json"));
    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(["phone", "purpose"]);
    // Said as "required", not as the schema's inner words ("Invalid option: expected one of …").
    expect(res.body.errors).toEqual(expect.arrayContaining([{ field: "phone", message: "required" }, { field: "purpose", message: "required" }]));
  });

  test("a wrong purpose lists the purposes; a missing one is required", async () => {
    const wrong = await withoutWrites(() => postRaw(JSON.stringify({ phone: PHONES.fr, purpose: "lunch" }), "application/json"));
    expect(wrong.body.errors).toEqual([{ field: "purpose", message: expect.stringContaining('"login"') }]);
    const missing = await withoutWrites(() => postRaw(JSON.stringify({ phone: PHONES.fr }), "application/json"));
    expect(missing.body.errors).toEqual([{ field: "purpose", message: "required" }]);
  });
});

describe("POST /v1/challenges refuses other content types with 415", () => {
  test.each([
    ["text/plain", JSON.stringify(VALID)],
    ["application/x-www-form-urlencoded", "phone=%2B33612345678&purpose=login"],
    ["multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="phone"\r\n\r\n+33612345678\r\n--x--\r\n'],
    ["application/xml", "<challenge><phone>+33612345678</phone></challenge>"],
    ["application/json-patch+json", JSON.stringify(VALID)],
    ["application/octet-stream", JSON.stringify(VALID)],
  ])("%s → 415 UNSUPPORTED_MEDIA_TYPE", async (type, body) => {
    await withoutWrites(async () => expectProblem(await postRaw(body, type), 415, "UNSUPPORTED_MEDIA_TYPE"));
  });

  test("JSON in a charset other than UTF-8 → 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    await withoutWrites(async () => expectProblem(await postRaw(JSON.stringify(VALID), "application/json; charset=latin1"), 415, "UNSUPPORTED_MEDIA_TYPE"));
  });
});

describe("POST /v1/challenges refuses bodies over 16 KB with 413", () => {
  test("a body of 16 KB + 1 byte → 413 PAYLOAD_TOO_LARGE", async () => {
    const head = JSON.stringify({ ...VALID, context: { description: "" } }).slice(0, -3);
    const body = `${head}${"x".repeat(16 * 1024 + 1 - head.length - 3)}"}}`;
    expect(Buffer.byteLength(body)).toBe(16 * 1024 + 1);
    await withoutWrites(async () => expectProblem(await postRaw(body, "application/json"), 413, "PAYLOAD_TOO_LARGE"));
  });

  test("a 1 MB body → 413 PAYLOAD_TOO_LARGE", async () => {
    const body = JSON.stringify({ ...VALID, padding: "x".repeat(1024 * 1024) });
    await withoutWrites(async () => expectProblem(await postRaw(body, "application/json"), 413, "PAYLOAD_TOO_LARGE"));
  });
});

describe("POST /v1/challenges refuses unknown fields and prototype keys", () => {
  test("an unknown top-level field → 400 VALIDATION_FAILED naming it", async () => {
    const res = await expectRefusedBody({ ...VALID, appId: "app_someone_else" }, 400, "VALIDATION_FAILED");
    expect(JSON.stringify(res.body.errors)).toContain("appId");
  });

  test("an unknown context field → 400 VALIDATION_FAILED", async () => {
    await expectRefusedBody({ ...TRANSACTION, context: { ...TRANSACTION.context, iban: "DE00" } }, 400, "VALIDATION_FAILED");
  });

  test.each([
    ["__proto__ at the top", `{"phone":"${PHONES.fr}","purpose":"login","__proto__":{"isAdmin":true}}`],
    ["constructor at the top", `{"phone":"${PHONES.fr}","purpose":"login","constructor":{"prototype":{"isAdmin":true}}}`],
    ["prototype at the top", `{"phone":"${PHONES.fr}","purpose":"login","prototype":{"isAdmin":true}}`],
    ["__proto__ in context", `{"phone":"${PHONES.fr}","purpose":"login","context":{"__proto__":{"isAdmin":true}}}`],
    ["constructor in context", `{"phone":"${PHONES.fr}","purpose":"login","context":{"constructor":{"prototype":{"isAdmin":true}}}}`],
  ])("%s → 400 VALIDATION_FAILED, and no prototype is polluted", async (_what, body) => {
    await withoutWrites(async () => expectProblem(await postRaw(body, "application/json"), 400, "VALIDATION_FAILED"));
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});

describe("POST /v1/challenges refuses wrong types and values field by field", () => {
  const wrong: [string, Record<string, unknown>][] = [
    ["phone as a number", { ...VALID, phone: 33612345678 }],
    ["phone as null", { ...VALID, phone: null }],
    ["phone as an array", { ...VALID, phone: [PHONES.fr] }],
    ["phone as an object", { ...VALID, phone: { e164: PHONES.fr } }],
    ["phone as a boolean", { ...VALID, phone: true }],
    ["phone missing", { purpose: "login" }],
    ["purpose missing", { phone: PHONES.fr }],
    ["purpose as a number", { ...VALID, purpose: 1 }],
    ["purpose in upper case", { ...VALID, purpose: "LOGIN" }],
    ["purpose not in the list", { ...VALID, purpose: "withdrawal" }],
    ["purpose empty", { ...VALID, purpose: "" }],
    ["purpose with a trailing space", { ...VALID, purpose: "login " }],
    ["purpose named like an Object method", { ...VALID, purpose: "toString" }],
    ["purpose as an array", { ...VALID, purpose: ["login"] }],
    ["country as a number", { ...VALID, country: 33 }],
    ["country of 3 letters", { ...VALID, country: "FRA" }],
    ["country of 1 letter", { ...VALID, country: "F" }],
    ["country with a digit", { ...VALID, country: "F1" }],
    ["country empty", { ...VALID, country: "" }],
    ["country with accents", { ...VALID, country: "ÉÉ" }],
    ["country as null", { ...VALID, country: null }],
    ["locale as a number", { ...VALID, locale: 1 }],
    ["locale empty", { ...VALID, locale: "" }],
    ["locale with spaces", { ...VALID, locale: "english please" }],
    ["locale of one letter", { ...VALID, locale: "e" }],
    ["locale with a dangling separator", { ...VALID, locale: "en-" }],
    ["locale of digits", { ...VALID, locale: "12" }],
    ["locale with markup", { ...VALID, locale: "<script>" }],
    ["locale over 35 characters", { ...VALID, locale: `en-${"abcdefgh-".repeat(4)}x` }],
    ["context as a string", { ...VALID, context: "payment" }],
    ["context as an array", { ...VALID, context: [] }],
    ["context as null", { ...VALID, context: null }],
    ["context as a number", { ...VALID, context: 1 }],
    ["description as a number", { ...VALID, context: { description: 5 } }],
    ["description empty", { ...VALID, context: { description: "" } }],
    ["description of spaces", { ...VALID, context: { description: "   " } }],
    ["description over 100 characters", { ...VALID, context: { description: "d".repeat(101) } }],
  ];
  test.each(wrong)("%s → 400 VALIDATION_FAILED", async (_what, body) => {
    const res = await expectRefusedBody(body, 400, "VALIDATION_FAILED");
    expect(res.body.errors.length).toBeGreaterThan(0);
  });

  test("a country of two letters that is not a country → 422 INVALID_PHONE (invalid_country)", async () => {
    const res = await expectRefusedBody({ phone: "06 12 34 56 78", country: "XX", purpose: "login" }, 422, "INVALID_PHONE");
    expect(res.body.reason).toBe("invalid_country");
  });
});

describe("POST /v1/challenges checks the transaction context", () => {
  test.each([
    ["amount", { ...VALID, context: { amount: "10.00" } }],
    ["currency", { ...VALID, context: { currency: "EUR" } }],
    ["merchant", { ...VALID, context: { merchant: "Shop" } }],
    ["amount, currency and merchant", { ...VALID, purpose: "signup", context: TRANSACTION.context }],
  ])("%s on a non-transaction purpose → 400 VALIDATION_FAILED", async (_what, body) => {
    await expectRefusedBody(body, 400, "VALIDATION_FAILED");
  });

  test.each([["amount"], ["currency"], ["merchant"]])("a transaction without %s → 400 VALIDATION_FAILED naming it", async (missing) => {
    const context: Record<string, string> = { ...TRANSACTION.context };
    delete context[missing];
    const res = await expectRefusedBody({ ...TRANSACTION, context }, 400, "VALIDATION_FAILED");
    expect(res.body.errors).toEqual([{ field: `context.${missing}`, message: expect.any(String) }]);
  });

  test("a transaction without any context → 400 VALIDATION_FAILED naming all three", async () => {
    const res = await expectRefusedBody({ phone: PHONES.fr, purpose: "transaction" }, 400, "VALIDATION_FAILED");
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(["context.amount", "context.currency", "context.merchant"]);
  });

  test.each([
    ["a comma as decimal separator", "49,90"],
    ["a negative amount", "-1"],
    ["an exponent", "1e3"],
    ["leading spaces", " 49.90"],
    ["trailing spaces", "49.90 "],
    ["hexadecimal", "0x10"],
    ["empty", ""],
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
    ["a boolean", true],
    ["an object", { value: 49.9 }],
  ])("an amount with %s → 400 VALIDATION_FAILED", async (_what, amount) => {
    await expectRefusedBody({ ...TRANSACTION, context: { ...TRANSACTION.context, amount } }, 400, "VALIDATION_FAILED");
  });

  test.each([["eur"], ["EURO"], ["€"], [""], [978]])("currency %j → 400 VALIDATION_FAILED", async (currency) => {
    await expectRefusedBody({ ...TRANSACTION, context: { ...TRANSACTION.context, currency } }, 400, "VALIDATION_FAILED");
  });

  test.each([
    ["empty", ""],
    ["only spaces", "    "],
    ["over 60 characters", "m".repeat(61)],
    ["10,000 characters", "m".repeat(10_000)],
  ])("a merchant %s → 400 VALIDATION_FAILED", async (_what, merchant) => {
    await expectRefusedBody({ ...TRANSACTION, context: { ...TRANSACTION.context, merchant } }, 400, "VALIDATION_FAILED");
  });

  test("the same transaction with well-formed values is accepted (the refusals above are about the values)", async () => {
    const app = await h.createApp();
    const res = await h.createChallenge(app.sk, { ...TRANSACTION, phone: PHONES.de });
    expect(res.status).toBe(201);
    expect(res.body.smsBody).toContain("49.90 EUR");
  });
});

describe("POST /v1/challenges refuses NUL and other control characters", () => {
  test.each([
    ["NUL in the merchant", { ...TRANSACTION, context: { ...TRANSACTION.context, merchant: "Shop\u0000XY" } }],
    ["BEL in the merchant", { ...TRANSACTION, context: { ...TRANSACTION.context, merchant: "Shop\u0007XY" } }],
    ["an ANSI escape in the merchant", { ...TRANSACTION, context: { ...TRANSACTION.context, merchant: "Shop\u001b[31mXY" } }],
    ["NUL in the description", { ...VALID, context: { description: "new\u0000device" } }],
    ["a line feed in the description", { ...VALID, context: { description: "line one\nline two" } }],
    ["DEL in the description", { ...VALID, context: { description: "new\u007fdevice" } }],
    ["a C1 control in the description", { ...VALID, context: { description: "new\u0085device" } }],
    ["NUL in the locale", { ...VALID, locale: "en\u0000" }],
    ["NUL in the country", { ...VALID, country: "F\u0000" }],
    ["NUL in the purpose", { ...VALID, purpose: "login\u0000" }],
    ["NUL in the currency", { ...TRANSACTION, context: { ...TRANSACTION.context, currency: "EU\u0000" } }],
    ["NUL in the amount", { ...TRANSACTION, context: { ...TRANSACTION.context, amount: "49\u0000" } }],
  ])("%s → 400 VALIDATION_FAILED", async (_what, body) => {
    await expectRefusedBody(body, 400, "VALIDATION_FAILED");
  });

  test.each([
    ["NUL after the number", `${PHONES.fr}\u0000`],
    ["NUL inside the number", "+3361234\u00005678"],
    ["a BEL inside the number", "+33612\u000745678"],
  ])("a phone with %s → 422 INVALID_PHONE", async (_what, phone) => {
    await expectRefusedBody({ ...VALID, phone }, 422, "INVALID_PHONE");
  });
});

describe("POST /v1/challenges refuses very long strings", () => {
  test("a phone over 64 characters → 400 VALIDATION_FAILED", async () => {
    await expectRefusedBody({ ...VALID, phone: `${PHONES.fr}${" ".repeat(60)}` }, 400, "VALIDATION_FAILED");
  });

  test("a phone of 64 digits → 422 INVALID_PHONE", async () => {
    await expectRefusedBody({ ...VALID, phone: `+${"3".repeat(63)}` }, 422, "INVALID_PHONE");
  });

  test.each([
    ["a country", { ...VALID, country: "F".repeat(10_000) }],
    ["a purpose", { ...VALID, purpose: "l".repeat(10_000) }],
    ["a locale", { ...VALID, locale: "e".repeat(10_000) }],
    ["an unknown key's name", { ...VALID, ["k".repeat(10_000)]: 1 }],
    ["a description", { ...VALID, context: { description: "d".repeat(10_000) } }],
  ])("%s of 10,000 characters → 400 VALIDATION_FAILED", async (_what, body) => {
    await expectRefusedBody(body, 400, "VALIDATION_FAILED");
  });
});

describe("POST /v1/challenges refuses phone numbers that are not mobile numbers", () => {
  test("an empty phone → 400 VALIDATION_FAILED", async () => {
    await expectRefusedBody({ ...VALID, phone: "" }, 400, "VALIDATION_FAILED");
  });

  test.each([
    ["only spaces", "   ", undefined, "invalid"],
    ["letters", "abc", undefined, "invalid"],
    ["an alphanumeric sender", "ACME", undefined, "invalid"],
    ["an alphanumeric sender with digits", "InfoSMS24", undefined, "invalid"],
    ["a letter among the digits", "+33 6 12 34 56 7A", undefined, "invalid"],
    ["a tel: URI", `tel:${PHONES.fr}`, undefined, "invalid"],
    ["an extension", `${PHONES.fr};ext=12`, undefined, "invalid"],
    ["two plus signs", `+${PHONES.fr}`, undefined, "invalid"],
    ["16 digits", "+1234567890123456", undefined, "too_long"],
    ["20 digits", "+12345678901234567890", undefined, "too_long"],
    ["one digit too many", "+33 6 12 34 56 78 9", undefined, "too_long"],
    ["a country code and one digit", "+33 6", undefined, "too_short"],
    ["a plus sign alone", "+", undefined, "invalid"],
    ["a national number without a country", "06 12 34 56 78", undefined, "invalid_country"],
    ["an unknown country calling code", "+999 1234 5678", undefined, "invalid_country"],
    ["an unassigned French range", "+33 7 00 00 00 00", undefined, "invalid"],
    ["a French national number read as a US number", "06 12 34 56 78", "US", undefined],
  ])("%s (%j) → 422 INVALID_PHONE", async (_what, phone, country, reason) => {
    const res = await expectRefusedBody({ phone, purpose: "login", ...(country ? { country } : {}) }, 422, "INVALID_PHONE");
    if (reason) expect(res.body.reason).toBe(reason);
    expect(res.body.errors).toEqual([{ field: "phone", message: expect.any(String) }]);
  });

  test.each([
    ["a French landline", "+33 1 23 45 67 89", undefined],
    ["a French landline in national form", "01 23 45 67 89", "FR"],
    ["a French VoIP number", "+33 9 12 34 56 78", undefined],
    ["a US toll-free number", "+1 800 555 1212", undefined],
    ["an international freephone number", "+800 1234 5678", undefined],
    ["a French premium-rate number", "+33 8 99 12 34 56", undefined],
    ["a UK premium-rate number", "+44 845 464 7000", undefined],
    ["a French shared-cost number", "+33 8 10 12 34 56", undefined],
  ])("%s → 422 PHONE_NOT_MOBILE", async (_what, phone, country) => {
    const res = await expectRefusedBody({ phone, purpose: "login", ...(country ? { country } : {}) }, 422, "PHONE_NOT_MOBILE");
    expect(res.body.reason).toBe("not_mobile");
  });

  test("a number from a country the app does not allow → 422 COUNTRY_NOT_ALLOWED", async () => {
    const app = await h.createApp({ allowedCountries: ["DE"] });
    await withoutWrites(async () => expectProblem(await h.createChallenge(app.sk, VALID), 422, "COUNTRY_NOT_ALLOWED"));
  });
});

describe("POST /v1/challenges accepts the same mobile number however it is written", () => {
  // Each form must end up as +33612345678: an SMS from that number with the code verifies it.
  test.each([
    ["E.164", PHONES.fr, undefined],
    ["a trunk zero after the country code", "+33 0612345678", undefined],
    ["a trunk zero in parentheses", "+33 (0)6 12 34 56 78", undefined],
    ["national form with a country", "06 12 34 56 78", "FR"],
    ["national form with a lower-case country", "06.12.34.56.78", "fr"],
    ["the 00 international prefix", "0033 6 12 34 56 78", undefined],
    ["full-width digits and plus sign", "＋３３６１２３４５６７８", undefined],
    ["full-width national form", "０６ １２ ３４ ５６ ７８", "FR"],
    ["zero-width characters inside", "+33\u200B6\u200C12\u200D34\u206056\uFEFF78", undefined],
    ["bidi controls inside and around", "\u202E+33 6\u202C 12\u200F 34\u2066 56\u2069 78\u200E", undefined],
    ["non-breaking spaces", "+33\u00A06\u202F12\u00A034\u00A056\u00A078", undefined],
  ])("%s (%j) is accepted as +33612345678", async (_what, phone, country) => {
    const app = await h.createApp();
    const created = await h.createChallenge(app.sk, { phone, purpose: "login", ...(country ? { country } : {}) });
    expect(created.status).toBe(201);
    expect(created.body.phoneMasked).toBe("+33•••••••78");
    const sms = await h.sendSms({ from: PHONES.fr, to: app.number, text: created.body.code });
    expect(sms.body.results[0].outcome).toBe("verified");
  });
});

describe("authentication failures → 401 UNAUTHENTICATED, nothing written", () => {
  const body = JSON.stringify(VALID);
  const cases: [string, () => string | undefined][] = [
    ["no Authorization header", () => undefined],
    ["Basic credentials", () => "Basic dXNlcjpwYXNz"],
    ["the key without the Bearer scheme", () => main.sk],
    ["Bearer without a key", () => "Bearer"],
    ["Bearer with garbage", () => "Bearer garbage"],
    ["a secret key one character short", () => `Bearer ${main.sk.slice(0, -1)}`],
    ["a secret key one character long", () => `Bearer ${main.sk}x`],
    ["a secret key with one character changed", () => `Bearer ${main.sk.slice(0, -1)}${main.sk.endsWith("a") ? "b" : "a"}`],
    ["a well-formed key nobody issued", () => `Bearer sk_${"A".repeat(32)}`],
    ["the secret key's body with the publishable prefix", () => `Bearer pk_${main.sk.slice(3)}`],
    ["two keys", () => `Bearer ${main.sk} ${main.pk}`],
    ["a 300-character token", () => `Bearer ${"x".repeat(300)}`],
    ["the key in another scheme", () => `Token ${main.sk}`],
  ];
  test.each(cases)("%s → 401", async (_what, header) => {
    await withoutWrites(async () => {
      let req = h.http().post("/v1/challenges").set("Content-Type", "application/json");
      const value = header();
      if (value !== undefined) req = req.set("Authorization", value);
      expectProblem(await req.send(body), 401, "UNAUTHENTICATED");
    });
  });

  test("revoked secret and publishable keys → 401, while the new keys work", async () => {
    const app = await h.createApp();
    const newSk = await h.runtime.apps.rotateKey(app.appId, "secret", true);
    const newPk = await h.runtime.apps.rotateKey(app.appId, "publishable", true);
    await withoutWrites(async () => {
      expectProblem(await postJson(VALID, {}, app.sk), 401, "UNAUTHENTICATED");
      expectProblem(await postJson(VALID, {}, app.pk), 401, "UNAUTHENTICATED");
    });
    expect((await postJson(VALID, {}, newSk)).status).toBe(201);
    expect((await postJson({ ...VALID, phone: PHONES.de }, {}, newPk)).status).toBe(201);
  });

  test("an authentication failure is answered before the body is looked at", async () => {
    await withoutWrites(async () => expectProblem(await postRaw("not json", "text/plain", `sk_${"B".repeat(32)}`), 401, "UNAUTHENTICATED"));
  });
});

describe("bad Idempotency-Key headers → 400 VALIDATION_FAILED, nothing written", () => {
  test.each([
    ["256 characters", "k".repeat(256)],
    ["a space", "order 42"],
    ["a tab", "order\t42"],
    ["an accented letter (Latin-1)", "clé-42"],
    ["UTF-8 bytes of an emoji", Buffer.from("key-🔑", "utf8").toString("latin1")],
    ["nothing", ""],
  ])("%s → 400", async (_what, key) => {
    await withoutWrites(async () => expectProblem(await postJson(VALID, { "Idempotency-Key": key }), 400, "VALIDATION_FAILED"));
  });

  test("255 printable ASCII characters are accepted", async () => {
    const app = await h.createApp();
    const res = await postJson(VALID, { "Idempotency-Key": "k".repeat(255) }, app.sk);
    expect(res.status).toBe(201);
  });
});

describe("challenge ids that do not exist → 404 NOT_FOUND with one and the same body", () => {
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

  const withoutRequestId = (body: Record<string, unknown>) => {
    const { requestId: _ignored, ...rest } = body;
    return rest;
  };

  test.each(ids.map((id) => [id.length > 40 ? `${id.slice(0, 30)}… (${id.length} characters)` : id, id]))(
    "%s → 404 on read, cancel and consume",
    async (_label, id) => {
      await withoutWrites(async () => {
        const answers = [
          await h.http().get(`/v1/challenges/${id}`).set("Authorization", `Bearer ${main.sk}`),
          await h.http().get(`/v1/challenges/${id}`).set("X-Poll-Token", "pt_whatever"),
          await h.http().get(`/v1/challenges/${id}`),
          await h.http().post(`/v1/challenges/${id}/cancel`).set("Authorization", `Bearer ${main.sk}`),
          await h.http().post(`/v1/challenges/${id}/consume`).set("Authorization", `Bearer ${main.sk}`),
        ];
        for (const res of answers) expectProblem(res, 404, "NOT_FOUND");
        const reference = withoutRequestId(answers[0]!.body);
        for (const res of answers) expect(withoutRequestId(res.body)).toEqual(reference);
      });
    },
  );

  // These cannot be decoded at all, so no route is even chosen: a malformed request, not an unknown id.
  test.each([["%ZZ"], ["%E0%A4%A"], ["chl_%"], ["%C0%AF"]])("an id with broken percent-encoding (%s) → 400 INVALID_REQUEST", async (id) => {
    await withoutWrites(async () => {
      for (const res of [
        await h.http().get(`/v1/challenges/${id}`).set("Authorization", `Bearer ${main.sk}`),
        await h.http().post(`/v1/challenges/${id}/cancel`).set("Authorization", `Bearer ${main.sk}`),
        await h.http().post(`/v1/challenges/${id}/consume`).set("Authorization", `Bearer ${main.sk}`),
      ]) {
        expectProblem(res, 400, "INVALID_REQUEST");
        expect(res.text).not.toContain(id);
      }
    });
  });

  test("another app's real challenge id gives the same 404 body as an id that never existed", async () => {
    const other = await h.createApp();
    const foreign = (await h.createChallenge(other.sk, { phone: PHONES.gb, purpose: "login" })).body;
    await withoutWrites(async () => {
      const foreignRead = await h.http().get(`/v1/challenges/${foreign.id}`).set("Authorization", `Bearer ${main.sk}`);
      const neverRead = await h.http().get(`/v1/challenges/chl_${"Z".repeat(22)}`).set("Authorization", `Bearer ${main.sk}`);
      const wrongToken = await h.http().get(`/v1/challenges/${foreign.id}`).set("X-Poll-Token", `${foreign.pollToken}x`);
      for (const res of [foreignRead, neverRead, wrongToken]) expectProblem(res, 404, "NOT_FOUND");
      expect(withoutRequestId(foreignRead.body)).toEqual(withoutRequestId(neverRead.body));
      expect(withoutRequestId(wrongToken.body)).toEqual(withoutRequestId(neverRead.body));
    });
  });

  test.each([["abc"], ["31"], ["-1"], ["1.5"], ["1000000"]])("waitSeconds=%j → 400 VALIDATION_FAILED", async (wait) => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.sk, VALID)).body;
    await withoutWrites(async () =>
      expectProblem(await h.http().get(`/v1/challenges/${c.id}?waitSeconds=${wait}`).set("X-Poll-Token", c.pollToken), 400, "VALIDATION_FAILED"),
    );
    const res = await h.http().get(`/v1/challenges/${c.id}?waitSeconds=${wait}`).set("X-Poll-Token", c.pollToken);
    expect(res.body).toMatchObject({
      detail: "The waitSeconds parameter must be a whole number of seconds from 0 to 30",
      errors: [{ field: "waitSeconds", message: "must be a whole number of seconds from 0 to 30" }],
    });
  });
});

describe("unknown routes → 404 problem+json", () => {
  // (GET / is the demo page when the demo is enabled.)
  test.each([
    ["GET", "/nope"],
    ["GET", "/v1"],
    ["GET", "/v1/challenges"],
    ["PUT", "/v1/challenges"],
    ["DELETE", "/v1/challenges/chl_AAAAAAAAAAAAAAAAAAAAAA"],
    ["PATCH", "/v1/challenges/chl_AAAAAAAAAAAAAAAAAAAAAA"],
    ["POST", "/v1/challenges/chl_AAAAAAAAAAAAAAAAAAAAAA/verify"],
    ["GET", "/v2/challenges"],
    ["GET", "/.env"],
    ["GET", "/v1/challenges/chl_AAAAAAAAAAAAAAAAAAAAAA/events/extra"],
    ["POST", `/${"a".repeat(5000)}`],
  ])("%s %s → 404 NOT_FOUND", async (method, path) => {
    await withoutWrites(async () => {
      const res = await h.http()[method.toLowerCase() as "get" | "put" | "delete" | "patch" | "post"](path);
      expectProblem(res, 404, "NOT_FOUND");
    });
  });

  test("an inbound webhook for a provider that does not exist → 404 UNKNOWN_PROVIDER", async () => {
    await withoutWrites(async () => {
      const signed = h.signedGeneric({ messageId: randomId("sms"), from: PHONES.fr, to: main.number, text: "123456" });
      expectProblem(await h.http().post("/v1/inbound/nosuchprovider").set(signed.headers).send(signed.body), 404, "UNKNOWN_PROVIDER");
    });
  });
});

describe("validly signed inbound SMS with hostile texts → 2xx and a stored outcome, never 5xx", () => {
  type Row = { outcome: string; text_length: number; challenge_id: string | null };

  /** Sends `text` from `from` to the app's number; asserts 2xx and a stored row matching the answer. */
  async function deliver(app: { number: string }, from: string, text: string): Promise<{ outcome: string; row: Row }> {
    const messageId = randomId("sms");
    const res = await h.sendSms({ from, to: app.number, text, messageId });
    if (res.status < 200 || res.status >= 300) throw new Error(`expected 2xx, got ${res.status} ${res.text.slice(0, 300)}`);
    const outcome = res.body.results[0].outcome as string;
    expect(OUTCOMES).toContain(outcome);
    const rows = await h.db.query<Row>(
      `SELECT outcome::text AS outcome, text_length, challenge_id FROM inbound_messages WHERE provider = 'generic' AND provider_message_id = $1`,
      [messageId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.outcome).toBe(outcome);
    expect(rows[0]!.text_length).toBe([...text].length);
    return { outcome, row: rows[0]! };
  }

  const fullWidth = (code: string) => [...code].map((d) => String.fromCodePoint(0xff10 + Number(d))).join("");
  const interleave = (code: string, sep: string) => [...code].join(sep);

  const hidden: [string, (code: string) => string][] = [
    ["zero-width spaces around", (c) => `\u200B${c}\u200B`],
    ["zero-width characters between every digit", (c) => interleave(c, "\u200B")],
    ["a mix of zero-width joiners, word joiners and BOMs inside", (c) => `${c.slice(0, 2)}\u200D${c.slice(2, 4)}\u2060${c.slice(4)}\uFEFF`],
    ["a right-to-left override around", (c) => `\u202E${c}\u202C`],
    ["bidi isolates and marks inside", (c) => `\u2067${c.slice(0, 3)}\u2069\u200F${c.slice(3)}\u200E`],
    ["full-width digits", (c) => fullWidth(c)],
    ["full-width digits with zero-width characters between", (c) => interleave(fullWidth(c), "\u200C")],
    ["Arabic-Indic digits", (c) => [...c].map((d) => String.fromCodePoint(0x0660 + Number(d))).join("")],
    ["the app's wording and bidi marks around", (c) => `\u200F${c}\u200F is my code, thanks`],
    ["a NUL after it", (c) => `${c}\u0000`],
    ["after 1,700 letters", (c) => `${"a".repeat(1700)} ${c}`],
  ];
  test.each(hidden)("a code with %s still verifies", async (_what, disguise) => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.sk, { phone: PHONES.de, purpose: "login" })).body;
    const { outcome, row } = await deliver(app, PHONES.de, disguise(c.code));
    expect(outcome).toBe("verified");
    expect(row.challenge_id).toBe(c.id);
    const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
    expect(read.body.status).toBe("verified");
  });

  const hostile: [string, string][] = [
    ["only emoji", "😀🔐🙂👍🏽"],
    ["emoji keycaps without a code", "#️⃣*️⃣"],
    ["an empty text", ""],
    ["only NUL bytes", "\u0000".repeat(20)],
    ["only zero-width and bidi characters", "\u200B\u200C\u200D\u202E\u2066\u2069\uFEFF"],
    ["1,600 characters of text", "Lorem ipsum dolor sit amet ".repeat(60).slice(0, 1600)],
    ["1,601 emoji", "😀".repeat(1601)],
    ["5,000 characters of digit groups", "123 456 ".repeat(625)],
    ["10,000 characters (the generic provider's maximum)", "z".repeat(10_000)],
    ["lone surrogates", "\uD800\uDC00\uD800 \uDFFF"],
    ["control characters", "\u0001\u0002\u0003\u0007\u001b[2J\u007f"],
    ["combining marks stacked on digits (Zalgo)", `1${"\u0301".repeat(300)}2${"\u0334".repeat(300)}3`],
    ["SQL and markup", "'); DROP TABLE challenges; -- <script>alert(1)</script>"],
  ];
  test.each(hostile)("%s, from a phone with a pending challenge: stored, answered 2xx, nothing verified", async (_what, text) => {
    const app = await h.createApp();
    const c = (await h.createChallenge(app.sk, { phone: PHONES.gb, purpose: "login" })).body;
    const { outcome } = await deliver(app, PHONES.gb, text);
    expect(outcome).not.toBe("verified");
    const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
    expect(read.status).toBe(200);
    expect(read.body.status).not.toBe("verified");
  });

  test.each(hostile)("%s, from a phone without challenges: stored as no_pending_challenge", async (_what, text) => {
    const app = await h.createApp();
    const { outcome } = await deliver(app, PHONES.fr2, text);
    expect(outcome).toBe("no_pending_challenge");
  });

  test.each([
    ["an alphanumeric sender", "ACME"],
    ["a sender with a NUL", `${PHONES.fr}\u0000`],
    ["a sender of 16 digits", "+1234567890123456"],
    ["an empty-looking sender", "\u200B"],
    ["a sender with bidi controls only around it", `\u202E${PHONES.fr}\u202C`],
  ])("%s is stored and answered 2xx", async (_what, from) => {
    const app = await h.createApp();
    const { outcome } = await deliver(app, from, "123456");
    expect(OUTCOMES).toContain(outcome);
  });

  test.each([
    ["a NUL in the message id", { messageId: "sms\u0000x" }],
    ["a control character in the message id", { messageId: "sms\u001bx" }],
    ["a NUL in the recipient", { to: "+447400000999\u0000" }],
    ["a receivedAt that is not a date", { receivedAt: "yesterday" }],
    ["an unknown field", { extra: true }],
    ["a number as text", { text: 123456 }],
  ])("a signed payload with %s is never answered 5xx, and a refusal writes nothing", async (_what, patch) => {
    const app = await h.createApp();
    const payload = { messageId: randomId("sms"), from: PHONES.fr, to: app.number, text: "123456", ...patch };
    const before = await h.countRows();
    const signed = h.signedGeneric(payload);
    const res = await h.http().post("/v1/inbound/generic").set(signed.headers).send(signed.body);
    expect(res.status).toBeLessThan(500);
    if (res.status >= 400) {
      expectProblem(res, 400, "WEBHOOK_PAYLOAD_INVALID");
      expect(await h.countRows()).toEqual(before);
    } else {
      expect((await h.countRows()).inbound_messages).toBe((before.inbound_messages ?? 0) + 1);
    }
  });
});

describe("property: arbitrary JSON bodies are refused with a 4xx and write nothing", () => {
  test("300 generated bodies → 400, 413, 415 or 422, never 5xx, rows unchanged", async () => {
    const keyArb = fc.oneof(
      fc.constantFrom("phone", "purpose", "country", "context", "locale", "__proto__", "constructor", "prototype", "amount", "toString"),
      fc.string({ maxLength: 12 }),
    );
    const nearValid = fc.record(
      {
        phone: fc.oneof(fc.string(), fc.jsonValue()),
        purpose: fc.oneof(fc.constantFrom("signup", "login", "password_reset", "profile_change", "transaction", "appointment"), fc.string(), fc.jsonValue()),
        country: fc.oneof(fc.constantFrom("FR", "DE", "XX", "fr"), fc.string({ maxLength: 3 }), fc.jsonValue()),
        context: fc.oneof(
          fc.record(
            { amount: fc.oneof(fc.string(), fc.double(), fc.jsonValue()), currency: fc.string({ maxLength: 4 }), merchant: fc.string(), description: fc.string() },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
        locale: fc.oneof(fc.constantFrom("en", "de-DE", "fr_CA"), fc.string(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    // Well-formed apart from a random phone: reaches the phone parser (random text is practically
    // never a valid mobile number).
    const randomPhone = fc.record({
      phone: fc.string({ minLength: 1, maxLength: 64 }),
      purpose: fc.constantFrom("signup", "login", "password_reset", "profile_change", "appointment"),
    });
    const bodyArb = fc.oneof(
      randomPhone,
      fc.jsonValue(),
      fc.dictionary(keyArb, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }),
      nearValid,
      fc.tuple(nearValid, keyArb, fc.jsonValue({ maxDepth: 2 })).map(([body, key, value]) => ({ ...body, [key]: value })),
    );
    const before = await h.countRows();
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(bodyArb, async (value) => {
        const res = await postJson(value);
        seen.set(`${res.status} ${res.body?.code}`, (seen.get(`${res.status} ${res.body?.code}`) ?? 0) + 1);
        if (![400, 413, 415, 422].includes(res.status)) {
          throw new Error(`status ${res.status} for ${JSON.stringify(value).slice(0, 300)}: ${res.text.slice(0, 300)}`);
        }
        expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
        expect(typeof res.body.code).toBe("string");
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
    expect(await h.countRows()).toEqual(before);
    // The generator reaches every layer: JSON parsing, the schema, and the phone parser behind it.
    expect([...seen.keys()]).toEqual(expect.arrayContaining(["400 INVALID_JSON", "400 VALIDATION_FAILED", "422 INVALID_PHONE"]));
  });
});

describe("problem details follow Accept-Language (en, de, fr)", () => {
  const FIXED_LINE = "+33 1 42 68 53 00";

  test.each([
    [undefined, "en", "This is a fixed-line number (FIXED_LINE), which cannot send text messages; use a mobile number."],
    ["de-DE,de;q=0.9,en;q=0.5", "de", "Das ist eine Festnetznummer, die keine SMS senden kann; bitte eine Mobilfunknummer verwenden."],
    ["fr", "fr", "C'est un numéro de ligne fixe, qui ne peut pas envoyer de SMS ; utilisez un numéro de mobile."],
    ["es", "en", "This is a fixed-line number (FIXED_LINE), which cannot send text messages; use a mobile number."],
  ])("a fixed-line number with Accept-Language %j: detail in %s, the field message the same, code and reason unchanged", async (accept, locale, detail) => {
    const res = await withoutWrites(() => postJson({ phone: FIXED_LINE, purpose: "login" }, accept ? { "Accept-Language": accept } : {}));
    expectProblem(res, 422, "PHONE_NOT_MOBILE");
    expect(res.headers["content-language"]).toBe(locale);
    expect(res.headers.vary).toMatch(/Accept-Language/);
    expect(res.body).toMatchObject({ detail, reason: "not_mobile", title: "The phone number cannot send SMS", errors: [{ field: "phone", message: detail }] });
  });

  test("field messages are translated; the field names stay", async () => {
    const res = await withoutWrites(() => postJson({ phone: PHONES.fr }, { "Accept-Language": "de" }));
    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(res.body).toMatchObject({ detail: "Die Anfrage enthält ungültige oder unbekannte Felder.", errors: [{ field: "purpose", message: "erforderlich" }] });
  });

  test("errors outside the challenge routes too (an unknown route, in French)", async () => {
    const res = await h.http().get("/nope").set("Accept-Language", "fr");
    expectProblem(res, 404, "NOT_FOUND");
    expect(res.body.detail).toBe("Cette ressource n'existe pas.");
  });
});
