// readBearer (src/http/auth.ts): the one reader of `Authorization: Bearer <token>`, for API keys,
// ADMIN_TOKEN and METRICS_TOKEN alike (three readers with different rules before).
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { MAX_BEARER_TOKEN_LENGTH, readBearer } from "../../../src/http/auth.js";

const KEY = `sk_${"A1b2".repeat(8)}`;

describe("readBearer", () => {
  it.each<[string, string | undefined, ReturnType<typeof readBearer>]>([
    ["no header", undefined, { kind: "absent" }],
    ["a key", `Bearer ${KEY}`, { kind: "token", token: KEY }],
    ["the scheme in any case", `bEaReR ${KEY}`, { kind: "token", token: KEY }],
    ["several spaces or a tab before the token", `Bearer \t  ${KEY}`, { kind: "token", token: KEY }],
    ["white space after the token", `Bearer ${KEY} \t`, { kind: "token", token: KEY }],
    ["a token of the longest length", `Bearer ${"x".repeat(MAX_BEARER_TOKEN_LENGTH)}`, { kind: "token", token: "x".repeat(MAX_BEARER_TOKEN_LENGTH) }],
    ["an empty header", "", { kind: "malformed" }],
    ["the scheme alone", "Bearer", { kind: "malformed" }],
    ["the scheme and a space", "Bearer ", { kind: "malformed" }],
    ["the token without the scheme", KEY, { kind: "malformed" }],
    ["the scheme glued to the token", `Bearer${KEY}`, { kind: "malformed" }],
    ["another scheme", "Basic dXNlcjpwYXNz", { kind: "malformed" }],
    ["two tokens", `Bearer ${KEY} ${KEY}`, { kind: "malformed" }],
    ["a token one character too long", `Bearer ${"x".repeat(MAX_BEARER_TOKEN_LENGTH + 1)}`, { kind: "malformed" }],
    ["white space before the scheme", ` Bearer ${KEY}`, { kind: "malformed" }],
    ["a line break in the header", `Bearer ${KEY}\nX`, { kind: "malformed" }],
    ["a non-ASCII token", "Bearer clé", { kind: "malformed" }],
  ])("%s", (_what, header, expected) => {
    expect(readBearer(header)).toEqual(expected);
  });

  it("gives back any token of visible ASCII characters as it was sent, and nothing else", () => {
    const visible = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: MAX_BEARER_TOKEN_LENGTH });
    fc.assert(
      fc.property(visible, fc.constantFrom("Bearer", "bearer", "BEARER"), fc.constantFrom(" ", "\t", "  "), (token, scheme, gap) => {
        expect(readBearer(`${scheme}${gap}${token}`)).toEqual({ kind: "token", token });
      }),
      { seed: 20_261_203, numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (header) => {
        const result = readBearer(header);
        if (result.kind === "token") expect(header).toMatch(new RegExp(`^bearer[ \\t]+${result.token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[ \\t]*$`, "i"));
        else expect(result).toEqual({ kind: "malformed" });
      }),
      { seed: 20_261_203, numRuns: 1000 },
    );
  });
});
