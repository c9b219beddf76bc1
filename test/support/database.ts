// A database of its own for each test file: a fresh PostgreSQL database when DATABASE_URL is set,
// an in-memory PGlite otherwise. Migrated with the real migrations.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { openPglite, openPostgres, type Database } from "../../src/db/database.js";

export type TestDatabase = {
  database: Database;
  kind: "postgres" | "pglite";
  /** Connection string of the test database (PostgreSQL only). */
  url: string | undefined;
  /** Runs raw SQL on a separate connection (PostgreSQL) or on PGlite. */
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
};

export const adminUrl = process.env.DATABASE_URL;
export const onPostgres = adminUrl !== undefined && adminUrl !== "";

export async function openTestDatabase(options: { poolSize?: number; migrate?: boolean } = {}): Promise<TestDatabase> {
  if (!onPostgres) {
    const database = await openPglite(undefined);
    if (options.migrate !== false) await database.migrate();
    return {
      database,
      kind: "pglite",
      url: undefined,
      query: (sql, params) => database.withConnection((s) => s.query(sql, params)),
      drop: () => database.close(),
    };
  }
  const name = `rotp_t_${process.env.ROTP_TEST_RUN ?? "x"}_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(adminUrl!);
  url.pathname = `/${name}`;
  const database = openPostgres({
    url: url.toString(),
    poolSize: options.poolSize ?? 20,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 10_000,
    applicationName: "reverse-otp-test",
  });
  if (options.migrate !== false) await database.migrate();
  const side = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // pg-pool's end() resolves before its clients' backends are gone, so the DROP DATABASE … WITH
  // (FORCE) below can terminate one of them (57P01); without a listener the pool re-emits that as an
  // unhandled "error" and fails whatever test is running (seen in full `npm test` runs).
  side.on("error", () => undefined);
  return {
    database,
    kind: "postgres",
    url: url.toString(),
    query: async (sql, params) => (await side.query(sql, params)).rows,
    drop: async () => {
      await database.close();
      await side.end();
      const drop = new pg.Client({ connectionString: adminUrl });
      await drop.connect();
      await drop.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await drop.end();
    },
  };
}
