// An instance listens for challenge changes only while someone waits (src/realtime/status-bus.ts):
// no LISTEN connection for them at start-up, one as soon as a long-poll waits, and the long-poll is
// woken by the verification as before. On PostgreSQL the connection is also looked for in
// pg_stat_activity. The lifecycle (linger, restart, failed start) is unit-tested in
// test/unit/realtime/status-bus.test.ts.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import pg from "pg";
import { PHONES, startHarness, type Harness } from "../support/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Connections of the test database whose last statement is the status channel's LISTEN (PostgreSQL). */
async function statusListeners(): Promise<number> {
  const url = new URL(h.db.url!);
  const client = new pg.Client({ connectionString: h.db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND query = 'LISTEN "reverse_otp_challenge"'`,
      [decodeURIComponent(url.pathname.slice(1))],
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("listens only once a long-poll waits, and the verification wakes it", async () => {
  const bus = h.runtime.bus;
  expect(bus.isListening()).toBe(false);
  if (h.db.kind === "postgres") expect(await statusListeners()).toBe(0);

  const app = await h.createApp();
  const created = await h.createChallenge(app.sk, { phone: PHONES.fr, purpose: "login" });
  expect(created.status).toBe(201);
  const c = created.body as { id: string; pollToken: string; smsBody: string };
  // A plain read does not listen.
  expect((await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken)).status).toBe(200);
  expect(bus.isListening()).toBe(false);

  const waiting = h.http().get(`/v1/challenges/${c.id}?waitSeconds=30`).set("X-Poll-Token", c.pollToken).then((res) => res);
  await until(() => bus.waiterCount() === 1, "the long-poll waits");
  expect(bus.isListening()).toBe(true);
  if (h.db.kind === "postgres") await until(async () => (await statusListeners()) === 1, "the LISTEN connection is open");

  const sms = await h.sendSms({ from: PHONES.fr, to: app.number, text: c.smsBody });
  expect(sms.body.results[0].outcome).toBe("verified");
  const answer = await waiting;
  expect(answer.status).toBe(200);
  expect(answer.body.status).toBe("verified");
  expect(bus.waiterCount()).toBe(0);
});
