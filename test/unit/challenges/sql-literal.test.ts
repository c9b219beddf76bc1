// The creation's scripts write values into SQL as literals (src/challenges/challenge-sql.ts,
// sqlLiteral): every value must come back from PostgreSQL exactly as it went in, whatever quotes,
// backslashes or dollar signs it holds, and no value can end its literal. Checked on embedded
// PostgreSQL (PGlite) and with generated strings (fast-check).
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { PGlite } from "@electric-sql/pglite";
import fc from "fast-check";
import { sqlLiteral } from "../../../src/challenges/challenge-sql.js";

let db: PGlite;
beforeAll(async () => {
  db = await PGlite.create();
});
afterAll(async () => {
  await db?.close();
});

const roundTrip = async (literal: string) => (await db.query<{ v: unknown }>(`SELECT ${literal} AS v`)).rows[0]!.v;
// PostgreSQL text holds no NUL; the API refuses control characters before they reach SQL.
const text = fc.string({ unit: "grapheme", maxLength: 40 }).filter((s) => !s.includes("\u0000"));

describe("sqlLiteral", () => {
  test.each(["", "'", "''", "\\", "\\'", "'; DROP TABLE x; --", "$$", "$tag$ x $tag$", "E'\\x41'", "Grüße ☎ 🇫🇷", "a\nb"])("the string %j comes back unchanged", async (s) => {
    expect(await roundTrip(sqlLiteral(s))).toBe(s);
  });

  test("generated strings, arrays of them and JSON objects of them come back unchanged", async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.array(text, { maxLength: 4 }), fc.dictionary(text, text, { maxKeys: 3 }), async (s, list, object) => {
        expect(await roundTrip(sqlLiteral(s))).toBe(s);
        expect(await roundTrip(sqlLiteral(list))).toEqual(list);
        expect(await roundTrip(sqlLiteral({ json: object }))).toEqual(object);
      }),
      { numRuns: 200 },
    );
  });

  test("dates keep their millisecond, integers their value, null is NULL; other numbers are refused", async () => {
    const at = new Date("2031-06-02T08:00:00.123Z");
    expect(((await roundTrip(sqlLiteral(at))) as Date).toISOString()).toBe(at.toISOString());
    expect(await roundTrip(`${sqlLiteral(-42)}::int`)).toBe(-42);
    expect(await roundTrip(sqlLiteral(null))).toBeNull();
    expect(() => sqlLiteral(1.5)).toThrow(TypeError);
    expect(() => sqlLiteral(Number.NaN)).toThrow(TypeError);
  });
});
