// Re-split and replayed Twilio and Plivo requests through HTTP: the signature schemes concatenate
// names and values without separators, so one captured request can be cut into other parameters
// under the same signature (src/providers/resplit.ts). Every re-split here is checked to be one
// (same signature as the genuine request) before it is sent; none may change anything.
//
// Sources: Twilio's request parameters and SID form,
// https://www.twilio.com/docs/messaging/guides/webhook-request and
// https://www.twilio.com/docs/glossary/what-is-a-sid (`SM`/`MM` + 32 hex digits); Plivo's,
// https://www.plivo.com/docs/messaging/api/message/handling-incoming and
// https://www.plivo.com/docs/messaging/api/messages/ (MessageUUID, a 36-character UUID).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import { computePlivoV3Signature } from "../../../src/providers/plivo/adapter.js";
import { computeTwilioSignature } from "../../../src/providers/twilio/adapter.js";
import { writeFigureWhenReporting } from "../../security/report-support.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import { PLIVO_INBOUND_PATH, plivoInboundParams, plivoNonce, signPlivoRequest } from "../../support/providers/plivo.js";
import { HARNESS_PUBLIC_BASE_URL, signTwilioRequest, twilioInboundParams, twilioMessageSid, TWILIO_INBOUND_PATH } from "../../support/providers/twilio.js";

const TWILIO_TOKEN = "5d1c9e0a7b3f4c2d8e6a1b0c9d8e7f6a";
const PLIVO_TOKEN = "MTIzNGFiY2RlZjU2Nzg5MGFiY2RlZjEyMzQ1Njc4";
const FC_SEED = 20_261_124;

type Pair = [string, string];
type Challenge = { id: string; code: string; pollToken: string; smsBody: string };

let h: Harness;
let numbers = 0;
const tally = { provider: {} as Record<string, { resplits: number; replays: number; refused: number; duplicates: number; changedSomething: number }> };

beforeAll(async () => {
  h = await startHarness({ env: { TWILIO_AUTH_TOKEN: TWILIO_TOKEN, PLIVO_AUTH_TOKEN: PLIVO_TOKEN } });
});
afterAll(async () => {
  // For `npm run security-report` (figure 13): what was sent and what it did.
  writeFigureWhenReporting("13-resplit", tally);
  await h.close();
});

async function appWith(provider: "twilio" | "plivo") {
  return h.createApp({ name: "Acme", numbers: [{ number: `+447400003${String(100 + numbers++).padStart(3, "0")}`, provider }] });
}

async function challengeFor(app: Awaited<ReturnType<typeof appWith>>, phone: string) {
  const res = await h.createChallenge(app.sk, { phone, purpose: "login" });
  expect(res.status).toBe(201);
  return res.body as Challenge;
}

const read = async (c: Challenge) => (await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken)).body as { status: string; attemptsRemaining: number };

/** Every table's row count and the sum of attempts: what a request that changed anything would move. */
async function state() {
  const [row] = await h.db.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM inbound_messages) AS inbound, (SELECT coalesce(sum(attempts), 0)::int FROM challenges) AS attempts,
            (SELECT count(*)::int FROM challenges WHERE status <> 'pending') AS finished, (SELECT coalesce(sum(failures), 0)::int FROM phone_failures) AS failures`,
  );
  return row!;
}

/** Whether anything changed since `before` (asked only of requests answered 200: refusals write nothing, as other tests show). */
async function changedSince(before: Record<string, number>, status: number) {
  return status === 200 && JSON.stringify(await state()) !== JSON.stringify(before);
}

function count(provider: string, kind: "resplits" | "replays", status: number, changed: boolean) {
  const t = (tally.provider[provider] ??= { resplits: 0, replays: 0, refused: 0, duplicates: 0, changedSomething: 0 });
  t[kind] += 1;
  if (status === 401 || status === 403) t.refused += 1;
  else if (status === 200 && !changed) t.duplicates += 1;
  if (changed || (status !== 200 && status !== 401 && status !== 403)) t.changedSomething += 1;
}

// ---- re-splits of a concatenation of names and values ----

/** Names sorted; each name's values sorted: the order both schemes sign the form in. */
const sortedAsSigned = (pairs: readonly Pair[]): Pair[] => [...pairs].sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
const concat = (pairs: readonly Pair[]) => sortedAsSigned(pairs).map(([k, v]) => k + v).join("");

/** `name`'s value swallows the parameter that follows it in the signed order. */
function foldAfter(pairs: readonly Pair[], name: string): Pair[] {
  const sorted = sortedAsSigned(pairs);
  const i = sorted.findIndex(([k]) => k === name);
  const [next, nextValue] = sorted[i + 1]!;
  return [...sorted.slice(0, i), [name, sorted[i]![1] + next + nextValue], ...sorted.slice(i + 2)];
}

/**
 * Other readings of the same concatenation: a value swallowing the next parameter, and a boundary
 * moved by 1 to 3 characters (between a name and its value, or a value and the next name), alone
 * or two at once. Kept only when the concatenation is unchanged and the parameters differ.
 */
function resplitsOf(pairs: readonly Pair[]): Pair[][] {
  const base = sortedAsSigned(pairs);
  const single = (ps: Pair[]): Pair[][] => {
    const out: Pair[][] = [];
    for (let i = 0; i + 1 < ps.length; i++) {
      const [n, v] = ps[i]!;
      const [n2, v2] = ps[i + 1]!;
      out.push([...ps.slice(0, i), [n, v + n2 + v2], ...ps.slice(i + 2)]);
      for (let k = 1; k <= 3; k++) {
        if (v.length >= k) out.push([...ps.slice(0, i), [n, v.slice(0, -k)], [v.slice(-k) + n2, v2], ...ps.slice(i + 2)]);
        if (n2.length > k) out.push([...ps.slice(0, i), [n, v + n2.slice(0, k)], [n2.slice(k), v2], ...ps.slice(i + 2)]);
      }
    }
    for (let i = 0; i < ps.length; i++) {
      const [n, v] = ps[i]!;
      for (let k = 1; k <= 3; k++) {
        if (v.length >= k) out.push([...ps.slice(0, i), [n + v.slice(0, k), v.slice(k)], ...ps.slice(i + 1)]);
        if (n.length > k) out.push([...ps.slice(0, i), [n.slice(0, -k), n.slice(-k) + v], ...ps.slice(i + 1)]);
      }
    }
    return out;
  };
  const target = concat(base);
  const key = (ps: Pair[]) => JSON.stringify(sortedAsSigned(ps));
  const seen = new Set([key(base)]);
  const keep = (ps: Pair[]) => {
    if (concat(ps) !== target || seen.has(key(ps))) return false;
    seen.add(key(ps));
    return true;
  };
  const ones = single(base).filter(keep);
  // Two moves at once, a seeded sample.
  const twos = fc
    .sample(fc.tuple(fc.nat(ones.length - 1), fc.nat(1000)), { seed: FC_SEED, numRuns: 150 })
    .map(([i, j]) => {
      const next = single(sortedAsSigned(ones[i]!));
      return next.length > 0 ? next[j % next.length]! : ones[i]!;
    })
    .filter(keep);
  return [...ones, ...twos];
}

/**
 * Sends every re-split of `genuine` (each checked to carry the genuine signature first) and
 * requires that none changes anything: refused (403) or answered as a duplicate (200).
 */
async function sendEveryResplit(
  provider: string,
  genuine: readonly Pair[],
  before: Record<string, number>,
  hasGenuineSignature: (pairs: Pair[]) => boolean,
  send: (pairs: Pair[]) => Promise<{ status: number; body: unknown }>,
) {
  for (const variant of resplitsOf(genuine)) {
    if (!hasGenuineSignature(variant)) throw new Error(`not a re-split: ${JSON.stringify(sortedAsSigned(variant))}`);
    const res = await send(variant);
    count(provider, "resplits", res.status, await changedSince(before, res.status));
    if (![200, 403].includes(res.status)) throw new Error(`${res.status} ${JSON.stringify(res.body)} for ${JSON.stringify(sortedAsSigned(variant))}`);
  }
  expect(await state()).toEqual(before);
  expect(tally.provider[provider]!.changedSomething).toBe(0);
}

// ---- Twilio ----

const twilioForm = (pairs: readonly Pair[]) => new URLSearchParams(pairs as Pair[]).toString();
const twilioSignature = (pairs: readonly Pair[]) => computeTwilioSignature(TWILIO_TOKEN, `${HARNESS_PUBLIC_BASE_URL}${TWILIO_INBOUND_PATH}`, pairs);
const sendTwilio = (pairs: readonly Pair[], signature: string) =>
  h.http().post(TWILIO_INBOUND_PATH).set({ "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature }).send(twilioForm(pairs));

describe("Twilio", () => {
  test("one real wrong-code SMS, replayed as is and re-split every way, counts one wrong code and locks nothing", async () => {
    const app = await appWith("twilio");
    const c = await challengeFor(app, PHONES.fr);
    const sid = twilioMessageSid();
    const genuine = Object.entries(twilioInboundParams({ from: PHONES.fr, to: app.number, body: "000000", messageSid: sid })) as Pair[];
    const signature = signTwilioRequest({ secret: TWILIO_TOKEN, params: genuine }).headers["x-twilio-signature"]!;
    expect((await sendTwilio(genuine, signature)).status).toBe(200);
    expect((await read(c)).attemptsRemaining).toBe(4);

    // The security review's re-split: MessageSid swallows the parameter that follows it in the
    // signed text (NumMedia there; MessagingServiceSid here, where a Messaging Service is used).
    const folded = foldAfter(genuine, "MessageSid");
    expect(twilioSignature(folded)).toBe(signature);
    const before = await state();
    const refused = await sendTwilio(folded, signature);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("WEBHOOK_SIGNATURE_INVALID");
    count("twilio", "resplits", refused.status, false);

    for (let i = 0; i < 5; i++) {
      const replay = await sendTwilio(genuine, signature);
      expect(replay.status).toBe(200);
      count("twilio", "replays", replay.status, await changedSince(before, replay.status));
    }
    expect(resplitsOf(genuine).length).toBeGreaterThan(150);
    await sendEveryResplit("twilio", genuine, before, (v) => twilioSignature(v) === signature, (v) => sendTwilio(v, signature));
    expect(await read(c)).toMatchObject({ status: "pending", attemptsRemaining: 4 });
  }, 240_000);

  test("a sender written into the text cannot become the sender: the attacker's own SMS and its re-split are both refused", async () => {
    const app = await appWith("twilio");
    // The attacker asks for a challenge for the victim's phone, and so knows its code.
    const victim = await challengeFor(app, PHONES.de);
    for (const reuseId of [false, true]) {
      const sid = twilioMessageSid();
      const fake = reuseId ? sid : twilioMessageSid();
      // The attacker's SMS, sent from their own phone, written to carry parameters of its own.
      const injected: Pair[] = [
        ["From", PHONES.de],
        ["MessageSid", fake],
        ["SmsMessageSid", fake],
        ["SmsSid", fake],
        ["SmsStatus", "received"],
        ["To", app.number],
      ];
      const body = `${victim.code}${injected.map(([k, v]) => k + v).join("")}ToZip`;
      const genuine = Object.entries(twilioInboundParams({ from: PHONES.fr2, to: app.number, body, messageSid: sid })) as Pair[];
      const signature = signTwilioRequest({ secret: TWILIO_TOKEN, params: genuine }).headers["x-twilio-signature"]!;
      // Its re-split: the text ends at the code; the injected parameters follow; the last one
      // (ToZip) swallows everything Twilio really sent after the text, the real From included.
      const sorted = sortedAsSigned(genuine);
      const bodyAt = sorted.findIndex(([k]) => k === "Body");
      const tail = sorted.slice(bodyAt + 1).map(([k, v]) => k + v).join("");
      const forged: Pair[] = [...sorted.slice(0, bodyAt), ["Body", victim.code], ...injected, ["ToZip", tail]];
      expect(twilioSignature(forged)).toBe(signature);

      // The attacker sends the re-split first (the genuine delivery stopped on its way): refused.
      const before = await state();
      const res = await sendTwilio(forged, signature);
      expect(res.status).toBe(403);
      count("twilio", "resplits", res.status, await changedSince(before, res.status));
      expect(await state()).toEqual(before);
      // The genuine request: with a second message id in its text it is ambiguous, refused too;
      // with its own id repeated there, it is what it is, the attacker's own SMS (no challenge of
      // theirs): stored, and the victim's challenge stays pending either way.
      expect((await sendTwilio(genuine, signature)).status).toBe(reuseId ? 200 : 403);
      expect((await read(victim)).status).toBe("pending");
    }
  });
});

// ---- Plivo ----

function plivoRequest(pairs: readonly Pair[], nonce: string, signature: string, query = "") {
  return h
    .http()
    .post(`${PLIVO_INBOUND_PATH}${query}`)
    .set({ "content-type": "application/x-www-form-urlencoded", "x-plivo-signature-v3": signature, "x-plivo-signature-v3-nonce": nonce })
    .send(new URLSearchParams(pairs as Pair[]).toString());
}
const plivoSignature = (pairs: readonly Pair[], nonce: string, query = "") =>
  computePlivoV3Signature(PLIVO_TOKEN, { method: "POST", url: `${HARNESS_PUBLIC_BASE_URL}${PLIVO_INBOUND_PATH}${query}`, postParams: pairs, nonce });

describe("Plivo (V3)", () => {
  test("one real wrong-code SMS, replayed as is and re-split every way, counts one wrong code and locks nothing", async () => {
    const app = await appWith("plivo");
    const c = await challengeFor(app, PHONES.gb);
    const genuine = Object.entries({
      ...plivoInboundParams({ from: PHONES.gb, to: app.number, text: "000000" }),
      PowerpackUUID: randomUUID(),
    }) as Pair[];
    const nonce = plivoNonce();
    const signature = signPlivoRequest({ secret: PLIVO_TOKEN, params: genuine, nonce }).headers["x-plivo-signature-v3"]!;
    expect((await plivoRequest(genuine, nonce, signature)).status).toBe(200);
    expect((await read(c)).attemptsRemaining).toBe(4);

    // MessageUUID swallows the following PowerpackUUID: a new id under the same signature.
    const folded = foldAfter(genuine, "MessageUUID");
    expect(plivoSignature(folded, nonce)).toBe(signature);
    const before = await state();
    const refused = await plivoRequest(folded, nonce, signature);
    expect(refused.status).toBe(403);
    count("plivo", "resplits", refused.status, false);

    for (let i = 0; i < 5; i++) {
      const replay = await plivoRequest(genuine, nonce, signature);
      expect(replay.status).toBe(200);
      count("plivo", "replays", replay.status, await changedSince(before, replay.status));
    }
    expect(resplitsOf(genuine).length).toBeGreaterThan(80);
    await sendEveryResplit("plivo", genuine, before, (v) => plivoSignature(v, nonce) === signature, (v) => plivoRequest(v, nonce, signature));
    expect(await read(c)).toMatchObject({ status: "pending", attemptsRemaining: 4 });
  }, 240_000);

  test("a query that swallows the head of the form cannot make the text's parameters the message's", async () => {
    const app = await appWith("plivo");
    const victim = await challengeFor(app, PHONES.de);
    const ourNumber = app.number.slice(1);
    for (const reuseId of [false, true]) {
      const id = randomUUID();
      const fake = reuseId ? id : randomUUID();
      // The attacker's SMS: `=` and `.` to end a query, then parameters of its own.
      const injected: Pair[] = [
        ["From", PHONES.de.slice(1)],
        ["MessageUUID", fake],
        ["Text", victim.code],
        ["To", ourNumber],
        ["Type", "sms"],
      ];
      const text = `a=b.${injected.map(([k, v]) => k + v).join("")}Units`;
      const genuine = Object.entries(plivoInboundParams({ from: PHONES.fr2, to: app.number, text, messageUuid: id })) as Pair[];
      const nonce = plivoNonce();
      const signature = signPlivoRequest({ secret: PLIVO_TOKEN, params: genuine, nonce }).headers["x-plivo-signature-v3"]!;
      // The re-split: the query is everything up to the text's `=`; the form is what follows its
      // `.`; the last injected name (Units) swallows the rest of what Plivo sent.
      const all = concat(genuine);
      const eq = all.indexOf("a=b.") + 1;
      const query = `?${encodeURIComponent(all.slice(0, eq))}=b`;
      const rest = all.slice(eq + 3);
      const unitsAt = rest.indexOf("Units") + "Units".length;
      const forged: Pair[] = [...injected, ["Units", rest.slice(unitsAt)]];
      expect(forged.map(([k, v]) => k + v).join("")).toBe(rest);
      expect(plivoSignature(forged, nonce, query)).toBe(signature);

      const before = await state();
      const res = await plivoRequest(forged, nonce, signature, query);
      expect(res.status).toBe(403);
      count("plivo", "resplits", res.status, await changedSince(before, res.status));
      expect(await state()).toEqual(before);
      // The genuine request: refused when its text holds a second message id, the attacker's
      // own SMS otherwise; the victim's challenge stays pending either way.
      expect((await plivoRequest(genuine, nonce, signature)).status).toBe(reuseId ? 200 : 403);
      expect((await read(victim)).status).toBe("pending");
    }
  });
});
