// Codes by e-mail, through SMTP with nodemailer (SMTP_URL, EMAIL_FROM). One message: plain-text
// and HTML parts (built by message-text.ts), our message id in the Message-ID header.
// Answers are sorted like the SMS providers' (sms-sender.ts):
//   accepted  — the server took the message (250 after DATA); its queue id, if it says one;
//   retryable — connection, TLS, timeout or greeting trouble, and 4xx replies (RFC 5321: transient);
//   refused   — 5xx replies (RFC 5321: permanent), e.g. 550 mailbox unavailable, 553 bad address.
import type { Transporter } from "nodemailer";
import { shortReason, type SendResult } from "./sms-sender.js";

export type OutboundEmail = { messageId: string; to: string; subject: string; text: string; html: string };

export type EmailSender = {
  readonly isConfigured: boolean;
  send(email: OutboundEmail): Promise<SendResult>;
  close(): void;
};

export type EmailSenderSettings = {
  smtpUrl: string | undefined;
  from: string | undefined;
  /** Deadline of each SMTP phase (connect, greeting, each command), in milliseconds. */
  timeoutMs: number;
  /** Accept self-signed certificates (tests with a local server only). */
  allowSelfSignedCertificates?: boolean;
};

type SmtpError = Error & { code?: string; responseCode?: number; response?: string };

export function classifySmtpError(error: SmtpError): SendResult {
  const code = error.responseCode;
  const reason = shortReason(`SMTP ${code ?? error.code ?? "error"}: ${(error.response ?? error.message).replace(/\s+/g, " ")}`);
  if (code !== undefined && code >= 500 && code < 600) return { kind: "refused", reason, errorCode: String(code) };
  if (error.code === "EENVELOPE" && code === undefined) return { kind: "refused", reason };
  return { kind: "retryable", reason };
}

/** `Acme <no-reply@acme.example>` → the domain, for our Message-ID. */
const domainOf = (from: string) => /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? "reverse-otp.invalid";

export function createEmailSender(settings: EmailSenderSettings): EmailSender {
  const configured = Boolean(settings.smtpUrl && settings.from);
  // nodemailer is loaded with the first e-mail (about 4.5 MB of memory a service without SMTP, or
  // one that never sends an e-mail, does not need to hold).
  let transport: Promise<Transporter> | undefined;
  const openTransport = async (): Promise<Transporter> => {
    const { default: nodemailer } = await import("nodemailer");
    const created = nodemailer.createTransport(settings.smtpUrl!, { from: settings.from });
    // URL options plus our deadlines (a connection string cannot carry them).
    Object.assign((created as unknown as { options: Record<string, unknown> }).options, {
      connectionTimeout: settings.timeoutMs,
      greetingTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
      ...(settings.allowSelfSignedCertificates ? { tls: { rejectUnauthorized: false } } : {}),
    });
    return created;
  };
  return {
    isConfigured: configured,
    async send(email) {
      if (!configured) return { kind: "refused", reason: `not configured: ${!settings.smtpUrl ? "SMTP_URL" : "EMAIL_FROM"}` };
      try {
        transport ??= openTransport();
        const info = await (await transport).sendMail({
          to: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          messageId: `<${email.messageId}@${domainOf(settings.from!)}>`,
          // Nothing in a code e-mail wants tracking, auto-replies or bulk handling.
          headers: { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All" },
        });
        // Our Message-ID names the e-mail (an SMTP server's queue id is not unique across servers).
        void info;
        return { kind: "accepted", status: 250, providerMessageId: email.messageId };
      } catch (error) {
        return classifySmtpError(error as SmtpError);
      }
    },
    close: () => void transport?.then((t) => t.close(), () => undefined),
  };
}
