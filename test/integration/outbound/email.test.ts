// Codes by e-mail through a real SMTP server started here (smtp-server), not a mock of nodemailer:
// the outbox's e-mail goes out with AUTH from SMTP_URL, from EMAIL_FROM, with a plain-text and an
// HTML part (read back with mailparser), the code first in the subject and the body, in en/de/fr.
// A 5xx reply refuses the message for good (undeliverable), a 4xx reply or a server that is down is
// retried (RFC 5321: 4yz transient, 5yz permanent).
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "@jest/globals";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import { createEmailSender } from "../../../src/outbound/email-sender.js";
import { buildOutboundEmail } from "../../../src/outbound/message-text.js";
import { fixedClock } from "../../../src/shared/clock.js";
import { startHarness, type Harness } from "../../support/harness.js";
import { closedPort } from "../../support/outbound/stand-in.js";

const clock = fixedClock("2026-12-03T12:00:00.000Z");
type Received = { from: string; to: string[]; mail: ParsedMail; user: string | undefined };
const received: Received[] = [];
/** SMTP reply for a recipient (e.g. 550 or 451); accepted when absent. */
const rcptReplies = new Map<string, { code: number; message: string }>();
let server: SMTPServer;
let port: number;
let h: Harness;
let appId: string;

beforeAll(async () => {
  server = new SMTPServer({
    // Plain SMTP on loopback: no STARTTLS offered (a self-signed certificate would be refused), and
    // AUTH PLAIN/LOGIN accepted without TLS (for this local test only).
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === "mailer" && auth.password === "s3cret pass") return callback(null, { user: auth.username });
      return callback(Object.assign(new Error("Invalid credentials"), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      const reply = rcptReplies.get(address.address);
      if (reply) return callback(Object.assign(new Error(reply.message), { responseCode: reply.code }));
      return callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), mail, user: session.user as string | undefined });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.server.address() as AddressInfo).port;
  h = await startHarness({
    clock,
    env: { SMTP_URL: `smtp://mailer:${encodeURIComponent("s3cret pass")}@127.0.0.1:${port}`, EMAIL_FROM: "Acme <no-reply@acme.example>" },
  });
  ({ appId } = await h.createApp());
});
afterAll(async () => {
  await h.runtime.outbound.close();
  await h.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received.length = 0;
  rcptReplies.clear();
});

const enqueueCode = (to: string, locale: "en" | "de" | "fr") => {
  const text = buildOutboundEmail({ appName: "Acme", purpose: "transaction", code: "482913", locale, context: { amount: "49.90", currency: "EUR", merchant: "Shop" }, expiresInSeconds: 300 });
  return h.runtime.outbound.outbox.enqueue({ channel: "email", appId, to, ...text });
};
const statusOf = async (id: string) => (await h.db.query<{ status: string; last_error: string | null; sealed_payload: string | null }>(`SELECT status::text, last_error, sealed_payload FROM outbound_messages WHERE id = $1`, [id]))[0]!;

describe("through the outbox to a real SMTP server", () => {
  test.each([
    ["en", "482913 is your Acme code", "482913 is your Acme code to confirm 49.90 EUR to Shop. Do not share it."],
    ["de", "482913 ist dein Code für Acme", "482913 ist dein Code für Acme zur Bestätigung von 49,90 € an Shop. Gib ihn nicht weiter."],
    ["fr", "482913 est votre code Acme", "482913 est votre code Acme pour confirmer 49,90 € à Shop. Ne le partagez pas."],
  ] as const)("in %s: authenticated, from EMAIL_FROM, code first in subject and both parts", async (locale, subject, sentence) => {
    const { id } = await enqueueCode("jane@example.com", locale);
    expect(await h.runtime.outbound.dispatcher.runOnce()).toMatchObject({ sent: 1 });
    expect(received).toHaveLength(1);
    const { mail, from, to, user } = received[0]!;
    expect(user).toBe("mailer");
    expect(from).toBe("no-reply@acme.example");
    expect(to).toEqual(["jane@example.com"]);
    expect(mail.from?.value).toEqual([{ name: "Acme", address: "no-reply@acme.example" }]);
    expect(mail.subject).toBe(subject);
    expect(mail.text?.startsWith(sentence)).toBe(true);
    // The HTML part opens with the code, then the same sentence.
    expect(String(mail.html)).toMatch(/<body[^>]*>\s*<p[^>]*>482913<\/p>\s*<p>482913 /);
    expect(mail.messageId).toBe(`<${id}@acme.example>`);
    expect(await statusOf(id)).toMatchObject({ status: "sent", sealed_payload: null });
  });

  test("a 550 for the mailbox refuses the message for good: undeliverable, not retried", async () => {
    rcptReplies.set("gone@example.com", { code: 550, message: "Mailbox unavailable" });
    const { id } = await enqueueCode("gone@example.com", "en");
    await h.runtime.outbound.dispatcher.runOnce();
    clock.advance(60_000);
    await h.runtime.outbound.dispatcher.runOnce();
    expect(received).toHaveLength(0);
    expect(await statusOf(id)).toMatchObject({ status: "undeliverable", last_error: expect.stringContaining("SMTP 550") });
  });

  test("a 451 (try again later) is retried, and sent once the server takes it", async () => {
    rcptReplies.set("later@example.com", { code: 451, message: "Try again later" });
    const { id } = await enqueueCode("later@example.com", "en");
    await h.runtime.outbound.dispatcher.runOnce();
    expect(await statusOf(id)).toMatchObject({ status: "queued", last_error: expect.stringContaining("SMTP 451") });
    rcptReplies.clear();
    clock.advance(2_000);
    await h.runtime.outbound.dispatcher.runOnce();
    expect(received.map((r) => r.to[0])).toEqual(["later@example.com"]);
    expect((await statusOf(id)).status).toBe("sent");
  });
});

describe("the e-mail sender's answers", () => {
  const email = { messageId: "msg_test", to: "jane@example.com", subject: "s", text: "t", html: "<p>t</p>" };

  test("wrong credentials are refused (535 is permanent)", async () => {
    const sender = createEmailSender({ smtpUrl: `smtp://mailer:wrong@127.0.0.1:${port}`, from: "a@b.example", timeoutMs: 5000 });
    expect(await sender.send(email)).toMatchObject({ kind: "refused", errorCode: "535" });
    sender.close();
  });

  test("a server that is down is retryable", async () => {
    const sender = createEmailSender({ smtpUrl: `smtp://127.0.0.1:${await closedPort()}`, from: "a@b.example", timeoutMs: 5000 });
    expect(await sender.send(email)).toMatchObject({ kind: "retryable" });
    sender.close();
  });

  test("without SMTP_URL or EMAIL_FROM nothing is sent and the message is refused", async () => {
    expect(await createEmailSender({ smtpUrl: undefined, from: "a@b.example", timeoutMs: 1000 }).send(email)).toEqual({ kind: "refused", reason: "not configured: SMTP_URL" });
    expect(await createEmailSender({ smtpUrl: `smtp://127.0.0.1:${port}`, from: undefined, timeoutMs: 1000 }).send(email)).toEqual({ kind: "refused", reason: "not configured: EMAIL_FROM" });
  });
});
