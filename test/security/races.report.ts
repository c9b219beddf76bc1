// SECURITY.md figure 3, at the reported size: N = 50 concurrent deliveries of one message, 200
// rounds, against real PostgreSQL connections (the app's pool holds 30). Each round: a new pending
// challenge (a phone of its own), then 50 deliveries of one provider message id at once over 50
// sockets, each signed on its own (a new webhook-id and signature, as a retrying provider sends).
// Expected every round: 50/50 answered 2xx, outcomes 1 × verified + 49 × duplicate, exactly one
// inbound row for the message id, exactly one verification of the challenge.
// Part of `npm run security-report`; needs DATABASE_URL (PGlite has one connection: no race).
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { randomId } from "../../src/shared/crypto.js";
import { onPostgres } from "../support/database.js";
import { startHarness, type Harness } from "../support/harness.js";
import { mobileAt, newSecrets, privacyScan, serve, writeFigure } from "./report-support.js";

const N = 50;
const ROUNDS = 200;

if (!onPostgres) {
  describe("figure 3", () => {
    test.skip("needs PostgreSQL (DATABASE_URL): not measured on embedded PGlite", () => undefined);
  });
  writeFigure("3-races", { skipped: "DATABASE_URL is not set: races need real concurrent PostgreSQL connections" });
} else {
  describe("figure 3: concurrent duplicate deliveries on PostgreSQL", () => {
    let h: Harness;
    let server: Awaited<ReturnType<typeof serve>>;
    const secrets = newSecrets();

    beforeAll(async () => {
      h = await startHarness({
        poolSize: 30,
        env: { LOG_LEVEL: "info", RATE_LIMIT_SECRET_KEY_PER_MINUTE: "1000000", RATE_LIMIT_PHONE_PER_HOUR: "1000" },
      });
      server = await serve(h);
    });
    afterAll(async () => {
      await server?.close();
      await h?.close();
    });

    test(`${ROUNDS} rounds of ${N} simultaneous deliveries of one message: each verifies exactly once, all answered 2xx`, async () => {
      const app = await h.createApp({ name: "Races" });
      const principal = (await h.runtime.apps.authenticate(app.sk))!;
      const failures: string[] = [];
      let answered2xx = 0;
      let verifiedOnce = 0;
      let slowestMs = 0;
      const started = Date.now();
      for (let round = 0; round < ROUNDS; round++) {
        const phone = mobileAt(4_000_000 + round);
        const { challenge } = await h.runtime.challenges.create(principal, { phone, purpose: "login" });
        secrets.phones.add(phone);
        secrets.codes.add(challenge.code!);
        const messageId = randomId("sms");
        const payload = { messageId, from: phone, to: app.number, text: challenge.smsBody };
        const answers = await Promise.all(
          Array.from({ length: N }, async () => {
            const signed = h.signedGeneric(payload);
            const t0 = Date.now();
            const res = await fetch(`${server.url}/v1/inbound/generic`, { method: "POST", headers: signed.headers, body: signed.body });
            const body = (await res.json().catch(() => undefined)) as { results?: { outcome?: string }[] } | undefined;
            slowestMs = Math.max(slowestMs, Date.now() - t0);
            return { status: res.status, outcome: body?.results?.[0]?.outcome ?? `HTTP ${res.status}` };
          }),
        );
        const ok = answers.filter((a) => a.status >= 200 && a.status < 300).length;
        answered2xx += ok;
        const outcomes: Record<string, number> = {};
        for (const a of answers) outcomes[a.outcome] = (outcomes[a.outcome] ?? 0) + 1;
        const [rows] = await h.db.query<{ n: number; verified: number }>(
          `SELECT count(*)::int AS n, count(*) FILTER (WHERE outcome = 'verified')::int AS verified
             FROM inbound_messages WHERE provider = 'generic' AND provider_message_id = $1`,
          [messageId],
        );
        const [verifications] = await h.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM inbound_messages WHERE challenge_id = $1 AND outcome = 'verified'`,
          [challenge.id],
        );
        const [row] = await h.db.query<{ status: string }>(`SELECT status::text AS status FROM challenges WHERE id = $1`, [challenge.id]);
        const once = rows!.n === 1 && rows!.verified === 1 && verifications!.n === 1 && row!.status === "verified";
        if (once) verifiedOnce += 1;
        if (!once || ok !== N || outcomes.verified !== 1 || outcomes.duplicate !== N - 1) {
          failures.push(`round ${round}: ${ok}/${N} 2xx, outcomes ${JSON.stringify(outcomes)}, ${rows!.n} row(s), ${verifications!.n} verification(s), status ${row!.status}`);
        }
      }
      const privacy = await privacyScan(h, secrets);
      writeFigure("3-races", {
        n: N,
        rounds: ROUNDS,
        deliveries: N * ROUNDS,
        answered2xx,
        roundsVerifiedExactlyOnce: verifiedOnce,
        failures: failures.slice(0, 20),
        slowestAnswerMs: slowestMs,
        seconds: Math.round((Date.now() - started) / 1000),
        poolSize: 30,
      });
      writeFigure("11-privacy-races", privacy);
      expect(failures).toEqual([]);
      expect(answered2xx).toBe(N * ROUNDS);
      expect(privacy.leaksInDump).toEqual([]);
      expect(privacy.leaksInLogs).toEqual([]);
    });
  });
}
