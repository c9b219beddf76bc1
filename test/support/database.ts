// A database of its own for each test file: a fresh PostgreSQL database when DATABASE_URL is set,
// an in-memory PGlite otherwise. Migrated with the real migrations, once per run: on PostgreSQL
// into a template database that every test database is then copied from (CREATE DATABASE …
// TEMPLATE, a file copy, several times cheaper than migrating each one); on PGlite into a dump of
// its data folder that every test database starts from (PGlite's own start runs initdb, seconds of
// WebAssembly: loading a dump is several times faster).
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { openPglite, openPostgres, type Database } from "../../src/db/database.js";
import { applyMigrations } from "../../src/db/migrate.js";
import { pgliteRunner } from "../../src/db/sql-runner.js";

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

/**
 * Connections of a test database's pool: tests that send one request at a time use one or two;
 * the race tests ask for more (RACE_POOL_SIZE in harness.ts). Kept small so that two runs of the
 * suite at once fit in the server's max_connections (see "Connections" in docs/testing.md).
 */
export const DEFAULT_POOL_SIZE = 8;

export async function openTestDatabase(options: { poolSize?: number; migrate?: boolean } = {}): Promise<TestDatabase> {
  if (!onPostgres) {
    const template = options.migrate !== false ? await pgliteTemplate() : undefined;
    const database = await openPglite(undefined, template ? { loadDataDir: template } : {});
    if (options.migrate !== false && !template) await database.migrate();
    return {
      database,
      kind: "pglite",
      url: undefined,
      query: (sql, params) => database.withConnection((s) => s.query(sql, params)),
      drop: () => database.close(),
    };
  }
  const run = process.env.ROTP_TEST_RUN;
  const name = `rotp_t_${run ?? "x"}_${randomBytes(5).toString("hex")}`;
  const fromTemplate = options.migrate !== false && run !== undefined;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    if (fromTemplate) await createFromTemplate(admin, name, await migratedTemplate(admin, run));
    else await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  const database = openPostgres({
    url,
    poolSize: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 10_000,
    applicationName: "reverse-otp-test",
  });
  if (options.migrate !== false && !fromTemplate) await database.migrate();
  const side = new pg.Pool({ connectionString: url, max: 2 });
  // pg-pool's end() resolves before its clients' backends are gone, so the DROP DATABASE … WITH
  // (FORCE) below can terminate one of them (57P01); without a listener the pool re-emits that as an
  // unhandled "error" and fails whatever test is running (seen in full `npm test` runs).
  side.on("error", () => undefined);
  return {
    database,
    kind: "postgres",
    url,
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

function databaseUrl(name: string): string {
  const url = new URL(adminUrl!);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * The run's migrated template database (`rotp_t_<run>_template`, dropped with the run's other
 * databases by global-teardown.js): built by the first test file that needs it, under an advisory
 * lock so that the other worker waits for it instead of building it too. Its comment marks it
 * complete; one left half-built by a crashed worker is built again. Each run (ROTP_TEST_RUN, set by
 * global-setup.js) has its own, so two runs at once never copy or drop each other's.
 */
async function migratedTemplate(admin: pg.Client, run: string): Promise<string> {
  const template = `rotp_t_${run}_template`;
  await admin.query("SELECT pg_advisory_lock(hashtext($1))", [template]);
  try {
    const { rows } = await admin.query<{ comment: string | null }>(
      "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
      [template],
    );
    if (rows[0]?.comment === TEMPLATE_COMPLETE) return template;
    await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${template}"`);
    const database = openPostgres({ url: databaseUrl(template), poolSize: 1, connectTimeoutMs: 5000, statementTimeoutMs: 10_000, applicationName: "reverse-otp-test" });
    try {
      await database.migrate();
    } finally {
      await database.close();
    }
    await admin.query(`COMMENT ON DATABASE "${template}" IS '${TEMPLATE_COMPLETE}'`);
    return template;
  } finally {
    await admin.query("SELECT pg_advisory_unlock(hashtext($1))", [template]);
  }
}

const TEMPLATE_COMPLETE = "reverse-otp test template: migrated";

/**
 * CREATE DATABASE … TEMPLATE refuses while a session is connected to the template (55006): right
 * after the template was migrated its connections may still be closing (node-postgres resolves
 * end() before the server has let them go), so that answer is retried, briefly.
 */
async function createFromTemplate(admin: pg.Client, name: string, template: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "55006" || attempt >= 100) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * The run's migrated PGlite data folder, as PGlite's dumpDataDir() writes it (a tar file in the
 * system's temporary folder, `rotp-pglite-template-<run>.tar`, removed by global-teardown.js): the
 * first test file that needs it migrates a new PGlite and dumps it (both workers may at the very
 * start; the file is written under another name and renamed, so a reader never sees half of it).
 */
async function pgliteTemplate(): Promise<Blob | undefined> {
  const run = process.env.ROTP_TEST_RUN;
  if (run === undefined) return undefined;
  const file = path.join(os.tmpdir(), `rotp-pglite-template-${run}.tar`);
  if (!existsSync(file)) {
    const db = await PGlite.create();
    try {
      await applyMigrations(pgliteRunner(db));
      const dump = await db.dumpDataDir("none");
      const partial = `${file}.${process.pid}.${randomBytes(3).toString("hex")}`;
      writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
      renameSync(partial, file);
    } finally {
      await db.close();
    }
  }
  return new Blob([readFileSync(file)]);
}
