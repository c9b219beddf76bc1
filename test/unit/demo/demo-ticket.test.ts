// Simulation tickets: sealed so that only this server's tickets open, unaltered.
import { describe, expect, test } from "@jest/globals";
import { createTicketSealer } from "../../../src/demo/demo-ticket.js";

const KEY = "demo-ticket-test-key-0123456789abcdefghijklmnop";
const ticket = { appId: "app_1", challengeId: "chl_1", from: "+33612345678", to: "+447400000000", text: "123456 is my Demo code to log in." };

describe("demo tickets", () => {
  test("open to what was sealed, and hide phone and text", () => {
    const sealer = createTicketSealer(KEY);
    const sealed = sealer.seal(ticket);
    expect(sealer.open(sealed)).toEqual(ticket);
    expect(Buffer.from(sealed, "base64url").toString("latin1")).not.toMatch(/33612345678|123456/);
    // A fresh IV per seal: the same ticket never seals to the same text.
    expect(sealer.seal(ticket)).not.toBe(sealed);
  });

  test("do not open under another key, altered, truncated, or as anything else", () => {
    const sealed = createTicketSealer(KEY).seal(ticket);
    const sealer = createTicketSealer(KEY);
    expect(createTicketSealer(`${KEY}x`).open(sealed)).toBeUndefined();
    const bytes = Buffer.from(sealed, "base64url");
    for (const index of [0, 12, 28, bytes.length - 1]) {
      const altered = Buffer.from(bytes);
      altered[index] = altered[index]! ^ 0x01;
      expect(sealer.open(altered.toString("base64url"))).toBeUndefined();
    }
    expect(sealer.open(sealed.slice(0, 30))).toBeUndefined();
    for (const junk of ["", "x", "not base64!", "A".repeat(5000), Buffer.from(JSON.stringify({ v: 1, ...ticket })).toString("base64url")]) {
      expect(sealer.open(junk)).toBeUndefined();
    }
  });
});
