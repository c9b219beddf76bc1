// Which secrets are refused at start-up for being too weak to be secrets, and which random ones pass.
import { randomBytes } from "node:crypto";
import { describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import { estimatedBits, standardWebhooksSecretProblem, textSecretProblem } from "../../../src/shared/secret-strength.js";

const whsec = (bytes: Buffer) => `whsec_${bytes.toString("base64")}`;

describe("Standard Webhooks secrets", () => {
  test.each([
    ["whsec_", "0 bytes"],
    ["whsec_YQ==", "1 bytes"],
    ["whsec_changeme", "6 bytes"],
    [whsec(Buffer.from("sixteen-bytes-ab")), "16 bytes"],
    [whsec(randomBytes(23)), "23 bytes"],
    [whsec(randomBytes(65)), "65 bytes"],
    [whsec(Buffer.alloc(32)), "repeated"],
    [whsec(Buffer.from("ab".repeat(16))), "repeated"],
    ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_"],
    ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw!", "Base64"],
    ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwA", "Base64"],
  ])("%s is refused (%s)", (secret, problem) => {
    expect(standardWebhooksSecretProblem(secret)).toEqual(expect.stringContaining(problem));
  });

  test("the specification's own example key (24 bytes) and random keys of 24 to 64 bytes pass", () => {
    expect(standardWebhooksSecretProblem("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).toBeUndefined();
    fc.assert(
      fc.property(fc.integer({ min: 24, max: 64 }), (n) => {
        expect(standardWebhooksSecretProblem(whsec(randomBytes(n)))).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});

describe("text secrets (HMAC keys, bearer and path tokens)", () => {
  test.each([
    ["changeme", 37],
    ["k".repeat(32), 150],
    ["0123456789abcdef", 64],
    ["short", 23],
    ["a".repeat(10) + "b".repeat(30), 188],
  ])("%s is refused (about %i bits or a repeated pattern)", (secret) => {
    expect(textSecretProblem(secret)).toBeDefined();
  });

  test("the size is named, never the value", () => {
    const problem = textSecretProblem("hunter2hunter2")!;
    expect(problem).toContain("14 characters");
    expect(problem).not.toContain("hunter2");
  });

  test.each([
    ["32 hex digits (a Twilio auth token)", 32, "hex", 128],
    ["22 Base64 characters", 22, "base64url", 132],
    ["39 decimal digits", 39, "digits", 129],
  ])("%s: about %i characters carry at least 128 bits", (_what, length, kind, bits) => {
    const secret =
      kind === "hex"
        ? randomBytes(length).toString("hex").slice(0, length)
        : kind === "digits"
          ? Array.from(randomBytes(length), (b) => String(b % 10)).join("")
          : randomBytes(length).toString("base64url").slice(0, length);
    expect(estimatedBits(secret)).toBeGreaterThanOrEqual(Math.min(bits, 128));
  });

  test("random secrets from the commands the messages suggest pass, every time", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), (kind) => {
        const secret = [randomBytes(16).toString("hex"), randomBytes(32).toString("hex"), randomBytes(48).toString("base64")][kind]!;
        expect(textSecretProblem(secret)).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  test("one character short of 128 bits is refused", () => {
    expect(textSecretProblem(randomBytes(16).toString("hex").slice(0, 31))).toEqual(expect.stringContaining("124 bits"));
  });
});
