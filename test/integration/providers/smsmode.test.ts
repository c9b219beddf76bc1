// smsmode inbound SMS end to end through HTTP on a real database, both formats on
// `/v1/inbound/smsmode/<token>`: the HTTP API reply callback (GET) and the REST webhook (POST).
//
// The reply callback as smsmode documents it — "Documentation technique API HTTP" 2.7 (FR, 2017),
// 3.4 (EN, 2019) and 3.5 (FR, 2020), public copies in webeweb/smsmode-library (Resources/doc/,
// doc/): `numero` "the sMsmode number to which the reply has been sent (not to be confused with
// emetteur)", `emetteur` "the MSISDN of the person who replied", `responseID` from 3.x on; texts in
// ISO-8859-15. Replies in France often come to a short code (36034 in the documented example), a
// long number works the same way; a sender written nationally is read with the number's country;
// a bare GET (the back office checking the URL) is a 200 that changes nothing.
//
// Also: missing, wrong and near-miss tokens are refused and write nothing; rotation works; the REST
// retry schedule (same messageId six more times) and concurrent duplicates change nothing; non-MO
// callbacks are acknowledged; malformed authentic payloads get 400.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Response } from "supertest";
import { maskPhone } from "../../../src/challenges/phone.js";
import { fixedClock } from "../../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import { pathTokenNearMisses, type PathTokenRequest } from "../../support/providers/path-token.js";
import { formatSmsmodeReceptionDate, signSmsmodeRequest, smsmodeReply, smsmodeRestMo } from "../../support/providers/smsmode.js";

const clock = fixedClock("2031-05-04T10:00:00.000Z");
const TOKEN = "smsmodeIntTok_Lk8Jh5Gf2Ds9Aq6Wz3Xc0Vb7Nm4";
const OLD_TOKEN = "smsmodeOldTok_Qa1Ws2Ed3Rf4Tg5Yh6Uj7Ik8Ol9";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock, env: { SMSMODE_WEBHOOK_TOKEN: `${TOKEN},${OLD_TOKEN}` } });
});
afterAll(async () => {
  await h?.close();
});

type CreatedChallenge = { id: string; code: string; pollToken: string; smsBody: string };

let numberCounter = 0;
/** Virtual numbers of this file: UK mobiles +44 7400 3xxxxx, served by smsmode. */
const nextNumber = () => `+4474003${String(numberCounter++).padStart(5, "0")}`;
let shortCodeCounter = 0;
/** French short codes of this file (36034 itself is kept for the documented example). */
const nextShortCode = () => String(38100 + shortCodeCounter++);

function send(req: PathTokenRequest, path = req.path) {
  const call = req.method === "GET" ? h.http().get(path) : h.http().post(path);
  return call.set(req.headers).send(req.body);
}

async function pendingChallenge(phone: string = PHONES.fr, registered: { number: string; country?: string } = { number: nextNumber() }) {
  const app = await h.createApp({ numbers: [{ ...registered, provider: "smsmode" }] });
  const number = app.number;
  const created = await h.createChallenge(app.sk, { phone, purpose: "login" });
  expect(created.status).toBe(201);
  const challenge = created.body as CreatedChallenge;
  const sms = { from: phone, to: number, text: challenge.smsBody, receivedAt: clock.now() };
  return { app, number, challenge, reply: smsmodeReply(sms), rest: smsmodeRestMo(sms) };
}

async function challengeStatus(c: CreatedChallenge) {
  const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return (read.body as { status: string }).status;
}

async function inboundRows(id: string) {
  return h.db.query<{ outcome: string; received_at: Date }>(
    `SELECT outcome::text AS outcome, received_at FROM inbound_messages WHERE provider = 'smsmode' AND provider_message_id = $1`,
    [id],
  );
}

/** The stored messages of a challenge's phone to a number, with who sent them to what. */
async function rowsTo(recipient: string) {
  return h.db.query<{ outcome: string; recipient: string; sender_masked: string | null; sender_country: string | null; provider_message_id: string }>(
    `SELECT outcome::text AS outcome, recipient, sender_masked, sender_country, provider_message_id FROM inbound_messages
      WHERE provider = 'smsmode' AND recipient = $1 ORDER BY provider_message_id`,
    [recipient],
  );
}

/** A reply callback written out as in smsmode's documented example, our number and the user's put in. */
function documentedQuery(numero: string, emetteur: string, message: string, version: "2.7" | "3.4" | "3.5", responseID = "azertyu123") {
  // The example of 2.7, 3.4 and 3.5, field for field and in order; 2.7 has no responseID.
  const fields: [string, string][] = [
    ["numero", numero],
    ["message", message],
    ["emetteur", emetteur],
    ["date_reception", formatSmsmodeReceptionDate(clock.now())],
    ["smsID", "abcd1234"],
    ["refClient", "monclient123"],
    ...(version === "2.7" ? [] : ([["responseID", responseID]] as [string, string][])),
  ];
  return Object.fromEntries(fields);
}

function expectProblem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(code);
}

async function expectRefused(c: CreatedChallenge, sendIt: () => Promise<Response>, status: number, code: string) {
  const before = await h.countRows();
  expectProblem(await sendIt(), status, code);
  expect(await h.countRows()).toEqual(before);
  expect(await challengeStatus(c)).toBe("pending");
}

describe("smsmode HTTP API reply callback (GET), as documented", () => {
  test.each(["3.4", "3.5"] as const)("the documented shape of %s, to the short code 36034, verifies the user's challenge", async (version) => {
    const shortCode = version === "3.4" ? "36034" : nextShortCode();
    const { challenge } = await pendingChallenge(PHONES.fr, { number: shortCode, country: "FR" });
    const responseID = `azertyu123-${version}`;
    const res = await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: documentedQuery(shortCode, PHONES.fr.slice(1), challenge.smsBody, version, responseID) }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
    expect(await rowsTo(shortCode)).toEqual([{ outcome: "verified", recipient: shortCode, sender_masked: maskPhone(PHONES.fr), sender_country: "FR", provider_message_id: responseID }]);
  });

  test("the documented shape of 2.7 (no responseID) verifies, under a derived id that a repeated notification shares", async () => {
    const shortCode = nextShortCode();
    const { challenge } = await pendingChallenge(PHONES.fr, { number: shortCode, country: "FR" });
    const request = signSmsmodeRequest({ token: TOKEN, format: "reply", query: documentedQuery(shortCode, PHONES.fr.slice(1), challenge.smsBody, "2.7") });
    expect((await send(request)).status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
    const after = await h.countRows();
    expect((await send(request)).status).toBe(200);
    expect(await h.countRows()).toEqual(after);
    const rows = await rowsTo(shortCode);
    expect(rows).toEqual([expect.objectContaining({ outcome: "verified", provider_message_id: expect.stringMatching(/^derived_[A-Za-z0-9_-]{43}$/) })]);
  });

  test("a reply to a long number (numero in international digits) verifies too", async () => {
    const { challenge, number } = await pendingChallenge(PHONES.fr, { number: "+33756300001" });
    const res = await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: documentedQuery(number.slice(1), PHONES.fr.slice(1), challenge.smsBody, "3.4", "long-number-1") }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("a sender written nationally (0612…) is read with the short code's country, on the first delivery and on the cached fast path", async () => {
    const shortCode = nextShortCode();
    const { app, challenge } = await pendingChallenge(PHONES.fr2, { number: shortCode, country: "FR" });
    // First delivery: the number is read from the database (step-by-step path).
    const national2 = `0${PHONES.fr2.slice(3)}`;
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: documentedQuery(shortCode, national2, challenge.smsBody, "3.4", "national-1") }))).status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
    // Second: the number's owner is cached, so the one-statement path reads the sender.
    const second = await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" });
    const national = `0${PHONES.fr.slice(3)}`;
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: documentedQuery(shortCode, national, second.body.smsBody, "3.4", "national-2") }))).status).toBe(200);
    expect(await challengeStatus(second.body as CreatedChallenge)).toBe("verified");
    expect((await rowsTo(shortCode)).map((r) => [r.outcome, r.sender_masked, r.sender_country])).toEqual([
      ["verified", maskPhone(PHONES.fr2), "FR"],
      ["verified", maskPhone(PHONES.fr), "FR"],
    ]);
  });

  test("a sender written nationally to a long number is read with that number's country", async () => {
    const { challenge, number } = await pendingChallenge(PHONES.gb, { number: nextNumber() });
    const national = `0${PHONES.gb.slice(3)}`;
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: documentedQuery(number.slice(1), national, challenge.smsBody, "3.4", "national-gb") }))).status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("with numero and emetteur the other way round (the old mistake), nothing verifies and the row names the user's number", async () => {
    const shortCode = nextShortCode();
    const { challenge } = await pendingChallenge(PHONES.fr, { number: shortCode, country: "FR" });
    const res = await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: documentedQuery(PHONES.fr.slice(1), shortCode, challenge.smsBody, "3.4", "swapped-1") }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("pending");
    expect(await rowsTo(PHONES.fr)).toEqual([expect.objectContaining({ outcome: "unknown_number", provider_message_id: "swapped-1" })]);
  });

  test("accents sent as ISO-8859-15 bytes (é è à ç ù €) are read, and the code in the text verifies", async () => {
    const shortCode = nextShortCode();
    const { challenge } = await pendingChallenge(PHONES.fr, { number: shortCode, country: "FR" });
    const query = documentedQuery(shortCode, PHONES.fr.slice(1), `Réponse à ça où 5€ è: ${challenge.code}`, "3.5", "latin9-1");
    const req = signSmsmodeRequest({ token: TOKEN, format: "reply", query, encoding: "iso-8859-15" });
    expect(req.path).toContain("R%E9ponse");
    expect(req.path).toContain("%A4");
    expect((await send(req)).status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("a bare GET with the token (the back office checking the URL) is a 200 that changes nothing; a wrong token is refused", async () => {
    const { challenge } = await pendingChallenge();
    const before = await h.countRows();
    const res = await h.http().get(`/v1/inbound/smsmode/${TOKEN}`);
    expect(res.status).toBe(200);
    expect(await h.countRows()).toEqual(before);
    await expectRefused(challenge, () => h.http().get(`/v1/inbound/smsmode/${TOKEN.slice(0, -1)}`), 403, "WEBHOOK_SIGNATURE_INVALID");
    await expectRefused(challenge, () => h.http().get(`/v1/inbound/smsmode`), 401, "WEBHOOK_SIGNATURE_MISSING");
  });
});

describe("smsmode HTTP API reply callback (GET)", () => {
  test("a reply from the challenge's phone (bare digits) to our number verifies it, and smsmode gets 200", async () => {
    const { challenge, reply } = await pendingChallenge();
    const res = await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: reply }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
    expect(await inboundRows(reply.responseID!)).toEqual([{ outcome: "verified", received_at: clock.now() }]);
  });

  test("a reply whose text is encoded as ISO-8859-15 still verifies", async () => {
    const { challenge, reply } = await pendingChallenge();
    const res = await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: { ...reply, message: `Café € ${challenge.code}` }, encoding: "iso-8859-15" }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("without a token: 401 WEBHOOK_SIGNATURE_MISSING, nothing written", async () => {
    const { challenge, reply } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: undefined, format: "reply", query: reply })), 401, "WEBHOOK_SIGNATURE_MISSING");
  });

  test("a token in the query string instead of the path does not count: 401", async () => {
    const { challenge, reply } = await pendingChallenge();
    const req = signSmsmodeRequest({ token: undefined, format: "reply", query: reply });
    await expectRefused(challenge, () => send(req, `${req.path}&token=${TOKEN}`), 401, "WEBHOOK_SIGNATURE_MISSING");
  });

  test.each(pathTokenNearMisses(TOKEN))("a token with its $name: 403, nothing written", async ({ presented }) => {
    const { challenge, reply } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: presented, format: "reply", query: reply })), 403, "WEBHOOK_SIGNATURE_INVALID");
  });

  test("the same responseID delivered again is answered 200 and changes nothing", async () => {
    const { challenge, reply } = await pendingChallenge();
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: reply }))).status).toBe(200);
    const after = await h.countRows();
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: reply }))).status).toBe(200);
    expect(await h.countRows()).toEqual(after);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("a delivery-report callback on the same URL is acknowledged with 200 and stores nothing", async () => {
    const { number, challenge } = await pendingChallenge();
    const before = await h.countRows();
    const report = { numero: number.slice(1), date_reception: "04052031-120000", statut: "11", smsID: "abc123", refClient: "r1" };
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: report as never }))).status).toBe(200);
    expect(await h.countRows()).toEqual(before);
    expect(await challengeStatus(challenge)).toBe("pending");
  });

  test("a reply without emetteur (no sender) or numero is refused with 400 and writes nothing", async () => {
    const { challenge, reply } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: { ...reply, emetteur: undefined, statut: undefined } })), 400, "WEBHOOK_PAYLOAD_INVALID");
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: TOKEN, format: "reply", query: { ...reply, numero: undefined } })), 400, "WEBHOOK_PAYLOAD_INVALID");
  });
});

describe("smsmode REST webhook (POST)", () => {
  test("an SMS MO verifies whichever way round from and recipient.to are, and the row names our number as recipient", async () => {
    const asDocumented = await pendingChallenge(PHONES.fr);
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: asDocumented.rest }))).status).toBe(200);
    const swapped = await pendingChallenge(PHONES.de);
    const payload = { ...swapped.rest, from: swapped.rest.recipient!.to, recipient: { to: swapped.rest.from } };
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload }))).status).toBe(200);
    expect(await challengeStatus(asDocumented.challenge)).toBe("verified");
    expect(await challengeStatus(swapped.challenge)).toBe("verified");
    expect((await rowsTo(asDocumented.number)).map((r) => [r.outcome, r.sender_masked])).toEqual([["verified", maskPhone(PHONES.fr)]]);
    expect((await rowsTo(swapped.number)).map((r) => [r.outcome, r.sender_masked])).toEqual([["verified", maskPhone(PHONES.de)]]);
  });

  test("an SMS MO to a short code verifies", async () => {
    const shortCode = nextShortCode();
    const { challenge, rest } = await pendingChallenge(PHONES.fr, { number: shortCode, country: "FR" });
    expect(rest.recipient?.to).toBe(shortCode);
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: rest }))).status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("an SMS MO from the challenge's phone verifies it, and smsmode gets 200", async () => {
    const { challenge, rest } = await pendingChallenge(PHONES.de);
    const res = await send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: rest }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
    expect(await inboundRows(rest.messageId)).toEqual([{ outcome: "verified", received_at: clock.now() }]);
  });

  test("without a token, with a wrong token, or an upper-cased one: refused, nothing written", async () => {
    const { challenge, rest } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: undefined, format: "rest", payload: rest })), 401, "WEBHOOK_SIGNATURE_MISSING");
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: `${TOKEN.slice(0, -1)}Z`, format: "rest", payload: rest })), 403, "WEBHOOK_SIGNATURE_INVALID");
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: TOKEN.toUpperCase(), format: "rest", payload: rest })), 403, "WEBHOOK_SIGNATURE_INVALID");
  });

  test("the older token of the rotation list is accepted too", async () => {
    const { challenge, rest } = await pendingChallenge();
    expect((await send(signSmsmodeRequest({ token: OLD_TOKEN, format: "rest", payload: rest }))).status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("smsmode's six retries of one messageId (+30 s … +24 h) are answered 200 and change nothing", async () => {
    const { challenge, rest } = await pendingChallenge();
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: rest }))).status).toBe(200);
    const after = await h.countRows();
    for (const delaySeconds of [30, 120, 600, 3_600, 18_000, 86_400]) {
      clock.advance(delaySeconds * 1000);
      expect((await send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: rest }))).status).toBe(200);
    }
    expect(await h.countRows()).toEqual(after);
    expect(await inboundRows(rest.messageId)).toEqual([expect.objectContaining({ outcome: "verified" })]);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("six concurrent deliveries of one messageId all get 200 and verify once", async () => {
    const { challenge, rest } = await pendingChallenge();
    const before = await h.countRows();
    const answers = await Promise.all(Array.from({ length: 6 }, () => send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: rest }))));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(await h.countRows()).toEqual({ ...before, inbound_messages: before.inbound_messages! + 1 });
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test.each([
    ["a status callback of a message we sent (MT)", { direction: "MT", status: { value: "DELIVERED" } }],
    ["an RCS message", { channel: { type: "RCS" } }],
  ])("%s is acknowledged with 200 and stores nothing", async (_name, change) => {
    const { challenge, rest } = await pendingChallenge();
    const before = await h.countRows();
    expect((await send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: { ...rest, ...change } }))).status).toBe(200);
    expect(await h.countRows()).toEqual(before);
    expect(await challengeStatus(challenge)).toBe("pending");
  });

  test("a malformed but authentic payload answers 400 WEBHOOK_PAYLOAD_INVALID and writes nothing", async () => {
    const { challenge, rest } = await pendingChallenge();
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: { ...rest, body: {} } })), 400, "WEBHOOK_PAYLOAD_INVALID");
    await expectRefused(challenge, () => send(signSmsmodeRequest({ token: TOKEN, format: "rest", payload: "not json" })), 400, "WEBHOOK_PAYLOAD_INVALID");
  });
});
