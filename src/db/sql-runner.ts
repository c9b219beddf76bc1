// The smallest SQL surface that migrations and housekeeping need, over one connection, for both
// PostgreSQL (node-postgres) and embedded PGlite.
import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";

export type SqlRunner = {
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements as one simple query (one implicit transaction). */
  exec(script: string): Promise<void>;
};

export function pgClientRunner(client: pg.ClientBase): SqlRunner {
  return {
    query: async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
      (await client.query(sql, params)).rows as T[],
    // Without parameters node-postgres uses the simple query protocol, which accepts many statements.
    exec: async (script) => {
      await client.query(script);
    },
  };
}

export function pgliteRunner(db: PGlite): SqlRunner {
  return {
    query: async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
      (await db.query<T>(sql, params)).rows,
    exec: async (script) => {
      await db.exec(script);
    },
  };
}
