// Infobip inbound SMS end to end through HTTP on a real database: `POST /v1/inbound/infobip/<token>`
// with batches of messages. A real-looking forward verifies its challenge; a batch where one message
// verifies and another is a duplicate of an earlier forward stores exactly the new one; missing,
// wrong and near-miss tokens are refused and write nothing; rotation works; concurrent duplicate
// batches change nothing; delivery reports are acknowledged; a malformed message refuses its whole
// batch (nothing written).
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Response } from "supertest";
import { fixedClock } from "../../../src/shared/clock.js";
import { PHONES, startHarness, type Harness } from "../../support/harness.js";
import { infobipBatch, infobipInbound, signInfobipRequest } from "../../support/providers/infobip.js";
import { pathTokenNearMisses, type PathTokenRequest } from "../../support/providers/path-token.js";

const clock = fixedClock("2031-05-04T10:00:00.000Z");
const TOKEN = "infobipIntTok_Yt6Re5Wq4Az3Sx2Dc1Fv0Gb9Hn8";
const OLD_TOKEN = "infobipOldTok_Uj7Ik8Ol9Pm0Nb1Vc2Xz3As4Qw5";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock, env: { INFOBIP_WEBHOOK_TOKEN: `${TOKEN},${OLD_TOKEN}` } });
});
afterAll(async () => {
  await h?.close();
});

type CreatedChallenge = { id: string; code: string; pollToken: string; smsBody: string };

let numberCounter = 0;
/** Virtual numbers of this file: UK mobiles +44 7400 4xxxxx, served by Infobip. */
const nextNumber = () => `+4474004${String(numberCounter++).padStart(5, "0")}`;

function send(req: PathTokenRequest, path = req.path) {
  return h.http().post(path).set(req.headers).send(req.body);
}

async function pendingChallenge(phone: string = PHONES.fr) {
  const number = nextNumber();
  const app = await h.createApp({ numbers: [{ number, provider: "infobip" }] });
  const created = await h.createChallenge(app.sk, { phone, purpose: "login" });
  expect(created.status).toBe(201);
  const challenge = created.body as CreatedChallenge;
  const message = infobipInbound({ from: phone, to: number, text: challenge.smsBody, receivedAt: clock.now() });
  return { app, number, challenge, message };
}

async function challengeStatus(c: CreatedChallenge) {
  const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
  expect(read.status).toBe(200);
  return (read.body as { status: string }).status;
}

async function inboundRows(id: string) {
  return h.db.query<{ outcome: string; parts: number; received_at: Date }>(
    `SELECT outcome::text AS outcome, parts, received_at FROM inbound_messages WHERE provider = 'infobip' AND provider_message_id = $1`,
    [id],
  );
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

describe("Infobip inbound SMS", () => {
  test("a forward of the challenge's SMS (bare digits, keyword split off) verifies it, and Infobip gets 200", async () => {
    const { challenge, number } = await pendingChallenge();
    const message = infobipInbound({ from: PHONES.fr, to: number, text: `OTP ${challenge.smsBody}`, keyword: "OTP", smsCount: 2, receivedAt: clock.now() });
    const res = await send(signInfobipRequest({ token: TOKEN, payload: infobipBatch([message]) }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
    expect(await inboundRows(message.messageId)).toEqual([{ outcome: "verified", parts: 2, received_at: clock.now() }]);
  });

  test("in one batch, a new message verifies while a duplicate of an earlier forward changes nothing", async () => {
    const earlier = await pendingChallenge();
    expect((await send(signInfobipRequest({ token: TOKEN, payload: infobipBatch([earlier.message]) }))).status).toBe(200);
    expect(await challengeStatus(earlier.challenge)).toBe("verified");
    const later = await pendingChallenge(PHONES.de);
    const before = await h.countRows();

    const res = await send(signInfobipRequest({ token: TOKEN, payload: infobipBatch([later.message, earlier.message]) }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(later.challenge)).toBe("verified");
    expect(await h.countRows()).toEqual({ ...before, inbound_messages: before.inbound_messages! + 1 });
    expect(await inboundRows(earlier.message.messageId)).toEqual([expect.objectContaining({ outcome: "verified" })]);
    expect(await inboundRows(later.message.messageId)).toEqual([expect.objectContaining({ outcome: "verified" })]);
  });

  test("a batch of several new messages stores each one", async () => {
    const a = await pendingChallenge();
    const b = await pendingChallenge(PHONES.gb);
    const unrelated = infobipInbound({ from: PHONES.fr2, to: a.number, text: "hello", receivedAt: clock.now() });
    const res = await send(signInfobipRequest({ token: TOKEN, payload: infobipBatch([a.message, unrelated, b.message]) }));
    expect(res.status).toBe(200);
    expect(await challengeStatus(a.challenge)).toBe("verified");
    expect(await challengeStatus(b.challenge)).toBe("verified");
    expect(await inboundRows(unrelated.messageId)).toEqual([expect.objectContaining({ outcome: "no_pending_challenge" })]);
  });

  test("without a token: 401 WEBHOOK_SIGNATURE_MISSING, nothing written", async () => {
    const { challenge, message } = await pendingChallenge();
    await expectRefused(challenge, () => send(signInfobipRequest({ token: undefined, payload: infobipBatch([message]) })), 401, "WEBHOOK_SIGNATURE_MISSING");
  });

  test.each(pathTokenNearMisses(TOKEN))("a token with its $name: 403, nothing written", async ({ presented }) => {
    const { challenge, message } = await pendingChallenge();
    await expectRefused(challenge, () => send(signInfobipRequest({ token: presented, payload: infobipBatch([message]) })), 403, "WEBHOOK_SIGNATURE_INVALID");
  });

  test("the older token of the rotation list is accepted too", async () => {
    const { challenge, message } = await pendingChallenge();
    expect((await send(signInfobipRequest({ token: OLD_TOKEN, payload: infobipBatch([message]) }))).status).toBe(200);
    expect(await challengeStatus(challenge)).toBe("verified");
  });

  test("five concurrent deliveries of the same batch all get 200 and store each message once", async () => {
    const a = await pendingChallenge();
    const b = await pendingChallenge(PHONES.de);
    const payload = infobipBatch([a.message, b.message]);
    const before = await h.countRows();
    const answers = await Promise.all(Array.from({ length: 5 }, () => send(signInfobipRequest({ token: TOKEN, payload }))));
    expect(answers.map((r) => r.status)).toEqual(Array(5).fill(200));
    expect(await h.countRows()).toEqual({ ...before, inbound_messages: before.inbound_messages! + 2 });
    expect(await challengeStatus(a.challenge)).toBe("verified");
    expect(await challengeStatus(b.challenge)).toBe("verified");
  });

  test("a delivery report posted to the same URL is acknowledged with 200 and stores nothing", async () => {
    const { challenge } = await pendingChallenge();
    const before = await h.countRows();
    const report = {
      results: [
        {
          bulkId: "BULK-1",
          messageId: "MSG-REPORT-1",
          to: "33612345678",
          sentAt: "2031-05-04T09:00:00.000+0000",
          doneAt: "2031-05-04T09:00:05.000+0000",
          smsCount: 1,
          status: { groupId: 3, groupName: "DELIVERED", id: 5, name: "DELIVERED_TO_HANDSET" },
        },
      ],
    };
    expect((await send(signInfobipRequest({ token: TOKEN, payload: report }))).status).toBe(200);
    expect(await h.countRows()).toEqual(before);
    expect(await challengeStatus(challenge)).toBe("pending");
  });

  test("one malformed message refuses its whole batch with 400, and nothing of the batch is written", async () => {
    const { challenge, message } = await pendingChallenge();
    const broken = { ...message, messageId: "broken-1", from: undefined };
    await expectRefused(challenge, () => send(signInfobipRequest({ token: TOKEN, payload: infobipBatch([message, broken as never]) })), 400, "WEBHOOK_PAYLOAD_INVALID");
    expect(await inboundRows(message.messageId)).toEqual([]);
  });
});
