// A value written into SQL as a literal, for scripts of several statements in one round trip (the
// simple query protocol has no parameters): challenge creation and what commits with it.
import pg from "pg";

/**
 * A value written into SQL as a literal, for the creation's scripts (several statements per round
 * trip: the simple query protocol has no parameters). Strings go through node-postgres's
 * escapeLiteral (libpq's PQescapeLiteral, backslashes included), and every other kind is typed by
 * a cast, so a value can never end the literal it is in.
 */
export type SqlValue = string | number | Date | null | readonly string[] | { json: unknown };
export function sqlLiteral(value: SqlValue): string {
  if (value === null) return "NULL";
  if (typeof value === "string") return pg.escapeLiteral(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError("only integers are written into SQL");
    return `${value}`;
  }
  if (value instanceof Date) return `${pg.escapeLiteral(value.toISOString())}::timestamptz`;
  if ("json" in value) return `${pg.escapeLiteral(JSON.stringify(value.json))}::jsonb`;
  return `ARRAY[${(value as readonly string[]).map((v) => pg.escapeLiteral(v)).join(", ")}]::text[]`;
}

