// PRODUCT.md "Privacy" and SECURITY.md figure 11: after a full flow, no phone number and no code
// in clear anywhere in the database, and no phone number, code, API key, poll token or webhook
// signature in the logs, which do hold the request log lines.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { randomId } from "../../src/shared/crypto.js";
import { PHONES, startHarness, type Harness } from "../support/harness.js";

let h: Harness;

/** Everything that must never appear in clear. */
const secrets = {
  phones: new Set<string>(),
  codes: new Set<string>(),
  apiKeys: new Set<string>(),
  pollTokens: new Set<string>(),
  signatures: new Set<string>(),
};

/** The phones the flow uses, with the national forms people type. */
const SUBJECTS = [
  { e164: PHONES.fr, national: ["06 12 34 56 78", "0612345678"], country: "FR" },
  { e164: PHONES.fr2, national: ["06 98 76 54 32", "0698765432"], country: "FR" },
  { e164: PHONES.de, national: ["0151 23456789", "015123456789"], country: "DE" },
  { e164: PHONES.gb, national: ["07400 123456", "07400123456"], country: "GB" },
  { e164: "+12015550123", national: ["(201) 555-0123", "2015550123"], country: "US" },
] as const;
/** A phone that only ever sends wrong codes and one that sends without having a challenge. */
const GUESSER = { e164: "+33687654321", national: ["06 87 65 43 21", "0687654321"], country: "FR" } as const;
const STRANGER = { e164: "+4917612345678", national: ["0176 12345678", "017612345678"], country: "DE" } as const;

for (const s of [...SUBJECTS, GUESSER, STRANGER]) {
  secrets.phones.add(s.e164);
  secrets.phones.add(s.e164.slice(1)); // bare international digits, as some providers send them
  for (const n of s.national) secrets.phones.add(n);
}

/** Delivers a signed generic-provider SMS and remembers its signature. */
async function sendSms(from: string, to: string, text: string) {
  const signed = h.signedGeneric({ messageId: randomId("sms"), from, to, text });
  secrets.signatures.add(signed.headers["webhook-signature"].slice("v1,".length));
  const res = await h.http().post("/v1/inbound/generic").set(signed.headers).send(signed.body);
  expect(res.status).toBe(200);
  return res.body.results[0].outcome as string;
}

/** A 6-digit code that is not `code`, for wrong-code attempts. */
const wrongCodeFor = (code: string, seed: number) => {
  const guess = String((Number(code) + 104_729 * seed) % 1_000_000).padStart(6, "0");
  return guess === code ? String((Number(code) + 1) % 1_000_000).padStart(6, "0") : guess;
};

beforeAll(async () => {
  h = await startHarness();

  const bank = await h.createApp({ name: "Privacy Bank", callbackUrl: "https://callbacks.example.test/otp" });
  const shop = await h.createApp({ name: "Privacy Shop" });
  for (const app of [bank, shop]) {
    secrets.apiKeys.add(app.sk);
    secrets.apiKeys.add(app.pk);
  }
  const rotated = await h.runtime.apps.rotateKey(shop.appId, "secret", false);
  secrets.apiKeys.add(rotated);

  const created: { id: string; code: string; pollToken: string; phone: string; app: typeof bank }[] = [];
  for (const [i, s] of SUBJECTS.entries()) {
    const app = i % 2 === 0 ? bank : shop;
    const key = i % 3 === 0 ? app.pk : app.sk;
    // National form with a country, as a mobile app sends what the user typed.
    const res = await h.createChallenge(
      key,
      i === 4
        ? { phone: s.national[0], country: s.country, purpose: "transaction", context: { amount: "49.90", currency: "EUR", merchant: "Shop XY" } }
        : { phone: s.national[0], country: s.country, purpose: "login", context: { description: "new device" } },
      i === 1 ? { "Idempotency-Key": `order-${i}-${randomId("idem")}` } : {},
    );
    expect(res.status).toBe(201);
    created.push({ id: res.body.id, code: res.body.code, pollToken: res.body.pollToken, phone: s.e164, app });
    secrets.codes.add(res.body.code);
    secrets.pollTokens.add(res.body.pollToken);
  }
  // A refused creation with a number in the body.
  expect((await h.createChallenge(bank.sk, { phone: "+33 1 23 45 67 89", purpose: "login" })).status).toBe(422);
  secrets.phones.add("+33123456789");
  secrets.phones.add("33123456789");

  // The guesser has a challenge and sends wrong codes (counted as failed attempts).
  const guesserChallenge = (await h.createChallenge(bank.sk, { phone: GUESSER.e164, purpose: "password_reset" })).body;
  secrets.codes.add(guesserChallenge.code);
  secrets.pollTokens.add(guesserChallenge.pollToken);
  for (const seed of [1, 2, 3]) {
    const guess = wrongCodeFor(guesserChallenge.code, seed);
    secrets.codes.add(guess);
    expect(await sendSms(GUESSER.e164, bank.number, `${guess} is my code`)).toBe("wrong_code");
  }

  // Verify some: the prefilled SMS body, the bare code, the code in full-width digits.
  const [first, second, third, fourth, fifth] = created;
  expect(await sendSms(first!.phone, first!.app.number, `${first!.code} is my Privacy Bank code to log in.`)).toBe("verified");
  expect(await sendSms(second!.phone, second!.app.number, second!.code)).toBe("verified");
  const fullWidth = [...third!.code].map((d) => String.fromCodePoint(0xff10 + Number(d))).join("");
  expect(await sendSms(third!.phone, third!.app.number, fullWidth)).toBe("verified");
  // A wrong code, then the right one; one cancelled; one left pending.
  const wrong = wrongCodeFor(fourth!.code, 7);
  secrets.codes.add(wrong);
  expect(await sendSms(fourth!.phone, fourth!.app.number, wrong)).toBe("wrong_code");
  expect(await sendSms(fourth!.phone, fourth!.app.number, fourth!.code)).toBe("verified");
  expect((await h.http().post(`/v1/challenges/${fifth!.id}/cancel`).set("X-Poll-Token", fifth!.pollToken)).status).toBe(200);

  // A stranger texts a code; an alphanumeric sender texts; a text to an unknown number.
  expect(await sendSms(STRANGER.e164, bank.number, first!.code)).toBe("no_pending_challenge");
  expect(await sendSms("ACME", bank.number, second!.code)).toBe("invalid_sender");
  expect(await sendSms(first!.phone, "+447400000999", first!.code)).toBe("unknown_number");
  // A duplicate delivery of the same message id.
  const dup = h.signedGeneric({ messageId: "dup-1", from: second!.phone, to: second!.app.number, text: second!.code });
  secrets.signatures.add(dup.headers["webhook-signature"].slice(3));
  for (let i = 0; i < 2; i++) await h.http().post("/v1/inbound/generic").set(dup.headers).send(dup.body);
  // A forged webhook carrying a number and a code.
  const forged = h.signedGeneric(
    { messageId: randomId("sms"), from: fourth!.phone, to: fourth!.app.number, text: fourth!.code },
    { secret: `whsec_${Buffer.from("not the configured secret, 32 B!").toString("base64")}` },
  );
  secrets.signatures.add(forged.headers["webhook-signature"].slice(3));
  expect((await h.http().post("/v1/inbound/generic").set(forged.headers).send(forged.body)).status).toBe(403);

  // Reads by poll token and by secret key, a consume, and reads that fail.
  for (const c of created) {
    expect((await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken)).status).toBe(200);
    expect((await h.http().get(`/v1/challenges/${c.id}`).set("Authorization", `Bearer ${c.app.sk}`)).status).toBe(200);
  }
  expect((await h.http().post(`/v1/challenges/${first!.id}/consume`).set("Authorization", `Bearer ${bank.sk}`)).status).toBe(200);
  expect((await h.http().get(`/v1/challenges/${first!.id}`).set("X-Poll-Token", `${first!.pollToken}x`)).status).toBe(404);
  expect((await h.http().get(`/v1/challenges/${first!.id}`).set("Authorization", `Bearer ${shop.sk}`)).status).toBe(404);
  expect((await h.http().post("/v1/challenges").set("Authorization", `Bearer ${bank.sk}x`).send({ phone: PHONES.fr, purpose: "login" })).status).toBe(401);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Where `needle` occurs in `haystack` (codes only as a whole token, not inside a digest or id). */
function findLeaks(haystack: string): string[] {
  const leaks: string[] = [];
  for (const phone of secrets.phones) if (haystack.includes(phone)) leaks.push(`phone ${phone}`);
  for (const code of secrets.codes) {
    if (new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`).test(haystack)) leaks.push(`code ${code}`);
  }
  for (const key of secrets.apiKeys) if (haystack.includes(key)) leaks.push(`API key ${key.slice(0, 7)}…`);
  for (const token of secrets.pollTokens) if (haystack.includes(token)) leaks.push(`poll token ${token.slice(0, 7)}…`);
  for (const sig of secrets.signatures) if (new RegExp(escapeRegExp(sig)).test(haystack)) leaks.push(`signature ${sig.slice(0, 7)}…`);
  return leaks;
}

describe("privacy of stored data", () => {
  test("no table holds a phone number, a code, an API key or a poll token in clear", async () => {
    const tables = await h.db.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    const names = tables.map((t) => t.tablename);
    expect(names).toEqual(expect.arrayContaining(["apps", "api_keys", "virtual_numbers", "challenges", "inbound_messages", "phone_failures"]));

    const dump: Record<string, string[]> = {};
    for (const table of names) {
      const rows = await h.db.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table}" t`);
      dump[table] = rows.map((r) => r.row);
    }
    // The flow really wrote what we search through.
    expect(dump.challenges!.length).toBe(SUBJECTS.length + 1);
    expect(dump.inbound_messages!.length).toBe(12);
    expect(dump.phone_failures!.length).toBeGreaterThanOrEqual(1);
    expect(dump.api_keys!.length).toBe(5);
    expect(dump.challenges!.join("\n")).toContain("+33•••••••78");

    const leaks = Object.entries(dump).flatMap(([table, rows]) => findLeaks(rows.join("\n")).map((leak) => `${table}: ${leak}`));
    expect(leaks).toEqual([]);
  });

  test("the search itself finds a phone number, a code and a key when they are there", () => {
    const [code] = secrets.codes;
    const [key] = secrets.apiKeys;
    expect(findLeaks(`{"phone":"${PHONES.fr}"}`)).toContain(`phone ${PHONES.fr}`);
    expect(findLeaks(`{"text":"${code} is my code"}`)).toContain(`code ${code}`);
    expect(findLeaks(`{"n":${code}}`)).toContain(`code ${code}`);
    expect(findLeaks(`Bearer ${key}`).length).toBeGreaterThan(0);
    // A code inside a hex digest is not a leak.
    expect(findLeaks(`{"hash":"ab${code}cd"}`)).toEqual([]);
  });
});

describe("privacy of logs", () => {
  test("the logs hold request lines for every kind of request of the flow", () => {
    const lines = h
      .logs()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as { req?: { method?: string; path?: string }; res?: { statusCode?: number }; msg?: string });
    const requests = lines.filter((l) => l.req && l.res);
    const seen = (method: string, path: RegExp, status: number) =>
      requests.some((l) => l.req!.method === method && path.test(l.req!.path ?? "") && l.res!.statusCode === status);
    expect(seen("POST", /^\/v1\/challenges$/, 201)).toBe(true);
    expect(seen("POST", /^\/v1\/challenges$/, 422)).toBe(true);
    expect(seen("POST", /^\/v1\/challenges$/, 401)).toBe(true);
    expect(seen("POST", /^\/v1\/inbound\/generic$/, 200)).toBe(true);
    expect(seen("POST", /^\/v1\/inbound\/generic$/, 403)).toBe(true);
    expect(seen("GET", /^\/v1\/challenges\/chl_\w{22}$/, 200)).toBe(true);
    expect(seen("GET", /^\/v1\/challenges\/chl_\w{22}$/, 404)).toBe(true);
    expect(seen("POST", /^\/v1\/challenges\/chl_\w{22}\/consume$/, 200)).toBe(true);
    expect(lines.some((l) => l.msg === "inbound message")).toBe(true);
    expect(lines.some((l) => l.msg === "webhook refused")).toBe(true);
  });

  test("the logs hold no phone number, code, API key, poll token or webhook signature", () => {
    expect(secrets.signatures.size).toBe(13);
    expect(findLeaks(h.logs())).toEqual([]);
  });
});
