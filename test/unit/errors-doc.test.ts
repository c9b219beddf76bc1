// docs/errors.md and the code registry must tell the same story.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "@jest/globals";
import { problemType } from "../../src/http/problem.js";
import { ERROR_CODES, type ErrorCode } from "../../src/shared/errors.js";

const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
const sections = new Map(
  [...doc.matchAll(/^## ([A-Z_]+)\n\n\*\*(\d{3})\.\*\*/gm)].map((m) => [m[1]!, Number(m[2])] as const),
);

describe("docs/errors.md", () => {
  test.each(Object.entries(ERROR_CODES))("documents %s with its status", (code, { status }) => {
    expect(sections.get(code)).toBe(status);
  });

  test("documents no code that the registry does not have", () => {
    expect([...sections.keys()].filter((c) => !(c in ERROR_CODES))).toEqual([]);
  });

  test("problem types link to the code's section anchor", () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const anchor = problemType(code).split("#")[1];
      expect(anchor).toBe(code.toLowerCase().replace(/_/g, "-"));
    }
  });
});
