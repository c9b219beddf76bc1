// The "simulation ticket" of a demo challenge: what the server needs to send that challenge's SMS
// later (the phone in E.164, our number, the SMS text), sealed for the browser to hand back.
//
// Why a ticket: the database keeps neither the phone nor the code in clear (only HMACs), so the
// server cannot rebuild the SMS from a challenge id. Keeping it in memory would break on a restart
// and across instances; a ticket sealed with AES-256-GCM under a key derived from HASH_KEY works
// everywhere and cannot be forged or altered: the simulate route sends exactly the SMS the demo
// created, never one the caller wrote (so it cannot try codes or senders), and only with the
// challenge's poll token.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { z } from "zod";

export type DemoTicket = { appId: string; challengeId: string; from: string; to: string; text: string };

const ticketSchema = z.strictObject({
  v: z.literal(1),
  appId: z.string(),
  challengeId: z.string(),
  from: z.string(),
  to: z.string(),
  text: z.string(),
});

export type TicketSealer = { seal(ticket: DemoTicket): string; open(sealed: string): DemoTicket | undefined };

/** `hashKey` is the primary HASH_KEY; HKDF with its own label keeps this key apart from every other use. */
export function createTicketSealer(hashKey: string): TicketSealer {
  const key = Buffer.from(hkdfSync("sha256", hashKey, "reverse-otp", "demo-simulation-ticket", 32));
  return {
    seal(ticket) {
      const iv = randomBytes(12); // 96-bit random IV per seal, as GCM expects
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const ct = Buffer.concat([cipher.update(JSON.stringify({ v: 1, ...ticket }), "utf8"), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString("base64url");
    },
    /** The ticket, or undefined for anything this server did not seal (or that was altered). */
    open(sealed) {
      if (sealed.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(sealed)) return undefined;
      const raw = Buffer.from(sealed, "base64url");
      if (raw.length < 29) return undefined;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
        const parsed = ticketSchema.safeParse(JSON.parse(text));
        if (!parsed.success) return undefined;
        const { v: _version, ...ticket } = parsed.data;
        return ticket;
      } catch {
        return undefined;
      }
    },
  };
}
