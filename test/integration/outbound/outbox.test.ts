// The outbound outbox on a real database: enqueue commits with the caller's transaction (or not at
// all); the dispatcher sends each message through the generic provider to a local stand-in of the
// gateway; crashes between commit and send, and between claim and send, lose nothing and double
// nothing; the send-then-crash window repeats the message with the same webhook-id (at least once,
// as documented); retries with back-off on 5xx, none on a refusal, `failed` at the deadline; two
// dispatchers on real concurrent connections send each message once; metrics by provider and country.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "@jest/globals";
import { createOutboundDispatcher } from "../../../src/outbound/outbound-dispatcher.js";
import type { OutboxRepository } from "../../../src/outbound/outbox-repository.js";
import type { OutboundSmsInput } from "../../../src/outbound/outbox.js";
import { createSealer } from "../../../src/shared/crypto.js";
import { fixedClock } from "../../../src/shared/clock.js";
import { onPostgres } from "../../support/database.js";
import { PHONES, startHarness, TEST_HASH_KEY, type Harness } from "../../support/harness.js";
import { startStandIn, type StandIn } from "../../support/outbound/stand-in.js";

const clock = fixedClock("2026-12-03T09:00:00.000Z");
let h: Harness;
let gateway: StandIn;
let appId: string;
let number: string;

beforeAll(async () => {
  gateway = await startStandIn({ status: 202 });
  h = await startHarness({ clock, env: { GENERIC_OUTBOUND_URL: `${gateway.url}/sms`, OUTBOUND_DEADLINE_SECONDS: "120" } });
  const app = await h.createApp();
  appId = app.appId;
  number = app.number;
});
afterAll(async () => {
  await h.runtime.outbound.close();
  await h.close();
  await gateway.close();
});
beforeEach(() => {
  gateway.reset();
});

const outbound = () => h.runtime.outbound;
const sms = (text = "123456 is your Acme code to log in. Do not share it."): OutboundSmsInput => ({
  channel: "sms",
  appId,
  provider: "generic",
  from: number,
  to: { e164: PHONES.fr, country: "FR" },
  text,
});
const row = async (id: string) =>
  (await h.db.query<Record<string, unknown>>(`SELECT status::text, attempts, sealed_payload, provider_message_id, last_error, sent_at, failed_at, recipient_masked, prefix, country FROM outbound_messages WHERE id = $1`, [id]))[0]!;
/** Another dispatcher over the same database (another instance, or this one after a restart). */
const anotherDispatcher = (overrides: Partial<Parameters<typeof createOutboundDispatcher>[0]> = {}) =>
  createOutboundDispatcher({
    repository: outbound().repository,
    senders: outbound().senders,
    email: outbound().email,
    sealer: createSealer([TEST_HASH_KEY], "outbound-payload"),
    clock,
    logger: h.runtime.logger,
    leaseMs: 30_000,
    ...overrides,
  });
const sentIds = () => gateway.requests.map((r) => String(r.headers["webhook-id"]));

describe("enqueue", () => {
  test("a message enqueued in a transaction that rolls back does not exist and is never sent", async () => {
    let id = "";
    await expect(
      h.db.database.prisma.$transaction(async (tx) => {
        id = (await outbound().outbox.enqueueIn(tx, sms())).id;
        throw new Error("the challenge could not be created");
      }),
    ).rejects.toThrow("the challenge could not be created");
    expect(await h.db.query(`SELECT id FROM outbound_messages WHERE id = $1`, [id])).toEqual([]);
    await outbound().dispatcher.runOnce();
    expect(sentIds()).not.toContain(id);
  });

  test("a committed message is stored sealed (no number, no code in clear), queued, and sent once", async () => {
    const { id, delivery } = await h.db.database.prisma.$transaction((tx) => outbound().outbox.enqueueIn(tx, sms()));
    expect(delivery).toEqual({ status: "queued", updatedAt: clock.now() });
    const stored = await row(id);
    expect(stored).toMatchObject({ status: "queued", recipient_masked: "+33•••••••78", prefix: "+33612", country: "FR" });
    const dump = JSON.stringify(await h.db.query(`SELECT * FROM outbound_messages WHERE id = $1`, [id]));
    expect(dump).not.toContain("612345678");
    expect(dump).not.toContain("123456");

    expect(await outbound().dispatcher.runOnce()).toMatchObject({ sent: 1 });
    expect(sentIds()).toEqual([id]);
    expect(JSON.parse(gateway.last().body.toString())).toEqual({ messageId: id, from: number, to: PHONES.fr, text: sms().text });
    // Sent: the payload (number and code) is erased; the gateway's id is our message id.
    expect(await row(id)).toMatchObject({ status: "sent", attempts: 1, sealed_payload: null, provider_message_id: id });
    await outbound().dispatcher.runOnce();
    expect(sentIds()).toEqual([id]);
  });
});

describe("crashes", () => {
  test("between commit and send (no dispatcher ran): the next process sends it, once", async () => {
    const { id } = await outbound().outbox.enqueue(sms());
    // "Restart": a fresh dispatcher over the same database.
    await anotherDispatcher().runOnce();
    await outbound().dispatcher.runOnce();
    expect(sentIds()).toEqual([id]);
  });

  test("between claim and send: the lease runs out and the message is sent once", async () => {
    const { id } = await outbound().outbox.enqueue(sms());
    // A dispatcher claims and dies before sending.
    const now = clock.now();
    const claimed = await outbound().repository.claimDue(now, new Date(now.getTime() + 30_000), 10);
    expect(claimed.map((c) => c.id)).toContain(id);
    await outbound().dispatcher.runOnce();
    expect(sentIds()).toEqual([]); // leased: nobody else sends it
    clock.advance(30_001);
    await outbound().dispatcher.runOnce();
    expect(sentIds()).toEqual([id]);
    expect(await row(id)).toMatchObject({ status: "sent", attempts: 2 });
  });

  test("between send and record (the send-then-crash window): sent again with the same webhook-id, at least once", async () => {
    const { id } = await outbound().outbox.enqueue(sms());
    let failNext = true;
    const repository: OutboxRepository = {
      ...outbound().repository,
      markSent: async (...args) => {
        if (failNext) {
          failNext = false;
          throw new Error("process died before storing the result");
        }
        return outbound().repository.markSent(...args);
      },
    };
    const dying = anotherDispatcher({ repository });
    await dying.runOnce();
    expect(await row(id)).toMatchObject({ status: "queued" });
    clock.advance(30_001);
    await outbound().dispatcher.runOnce();
    // Two requests, one message id: a gateway that drops repeated webhook-ids delivers it once.
    expect(sentIds()).toEqual([id, id]);
    expect(await row(id)).toMatchObject({ status: "sent", attempts: 2 });
  });
});

describe("answers", () => {
  test("retries 5xx and 429 with back-off, then records the acceptance", async () => {
    gateway.answer({ status: 503 }, { status: 429, headers: { "retry-after": "8" } });
    const { id } = await outbound().outbox.enqueue(sms());
    await outbound().dispatcher.runOnce();
    expect(await row(id)).toMatchObject({ status: "queued", attempts: 1, last_error: "HTTP 503" });
    await outbound().dispatcher.runOnce();
    expect(sentIds()).toEqual([id]); // not due yet: 2 s back-off
    clock.advance(2_000);
    await outbound().dispatcher.runOnce();
    expect(sentIds()).toEqual([id, id]);
    clock.advance(5_000); // the schedule says 5 s, Retry-After 8 s: the longer wins
    await outbound().dispatcher.runOnce();
    expect(sentIds()).toHaveLength(2);
    clock.advance(3_000);
    await outbound().dispatcher.runOnce();
    expect(sentIds()).toEqual([id, id, id]);
    expect(await row(id)).toMatchObject({ status: "sent", attempts: 3 });
  });

  test("a permanent refusal is not retried: undeliverable, payload erased", async () => {
    gateway.answer({ status: 400, body: "invalid number" });
    const { id } = await outbound().outbox.enqueue(sms());
    await outbound().dispatcher.runOnce();
    clock.advance(60_000);
    await outbound().dispatcher.runOnce();
    expect(sentIds()).toEqual([id]);
    expect(await row(id)).toMatchObject({ status: "undeliverable", attempts: 1, sealed_payload: null, last_error: "HTTP 400: invalid number" });
  });

  test("past the overall deadline the delivery is failed, whatever the retries", async () => {
    const { id } = await outbound().outbox.enqueue(sms());
    for (let i = 0; i < 8; i++) gateway.answer({ status: 500 });
    for (let elapsed = 0; elapsed <= 130_000; elapsed += 10_000) {
      await outbound().dispatcher.runOnce();
      clock.advance(10_000);
    }
    await outbound().dispatcher.runOnce();
    const stored = await row(id);
    expect(stored).toMatchObject({ status: "failed", sealed_payload: null });
    expect(stored.failed_at).not.toBeNull();
    const attempts = sentIds().filter((x) => x === id).length;
    expect(attempts).toBeGreaterThan(1);
    clock.advance(600_000);
    await outbound().dispatcher.runOnce();
    expect(sentIds().filter((x) => x === id)).toHaveLength(attempts);
  });

  test("a message queued past its deadline without any attempt (instances were down) fails unsent", async () => {
    const { id } = await outbound().outbox.enqueue(sms());
    clock.advance(121_000);
    await outbound().dispatcher.runOnce();
    expect(sentIds()).toEqual([]);
    expect(await row(id)).toMatchObject({ status: "failed", attempts: 0, last_error: "deadline passed before the provider accepted the message" });
  });
});

describe("wake-up and concurrency", () => {
  test("a running dispatcher is woken by the commit (LISTEN/NOTIFY) and sends without waiting for its timer", async () => {
    await outbound().dispatcher.start();
    try {
      const { id } = await outbound().outbox.enqueue(sms());
      for (let i = 0; i < 1000 && !sentIds().includes(id); i++) await new Promise((r) => setTimeout(r, 10));
      expect(sentIds()).toEqual([id]);
    } finally {
      await outbound().dispatcher.stop();
    }
  });

  (onPostgres ? test : test.skip)("two dispatchers on concurrent connections send each of 40 messages exactly once", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) ids.add((await outbound().outbox.enqueue(sms())).id);
    const make = () => anotherDispatcher({ batchSize: 3 });
    await Promise.all([make().runOnce(), make().runOnce(), make().runOnce()]);
    const sent = sentIds();
    expect(sent).toHaveLength(40);
    expect(new Set(sent)).toEqual(ids);
  });
});

test("metrics: results and send latency by provider and country, and the queue depth", async () => {
  await outbound().outbox.enqueue(sms());
  await outbound().dispatcher.runOnce();
  const text = (await h.http().get("/metrics")).text;
  expect(text).toMatch(/reverse_otp_outbound_messages_total\{provider="generic",country="FR",result="sent"\} \d+/);
  expect(text).toMatch(/reverse_otp_outbound_messages_total\{provider="generic",country="FR",result="undeliverable"\} 1/);
  expect(text).toMatch(/reverse_otp_outbound_send_seconds_count\{provider="generic",country="FR"\} \d+/);
  expect(text).toMatch(/reverse_otp_outbound_queue_depth \d+/);
});
