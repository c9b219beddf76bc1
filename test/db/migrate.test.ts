// The migration applier (src/db/migrate.ts) keeps Prisma's `_prisma_migrations` bookkeeping, so a
// database migrated here can be handled by `prisma migrate` and the other way round. Each test
// opens a database of its own (PostgreSQL when DATABASE_URL is set, PGlite otherwise).
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, test } from "@jest/globals";
import { DEFAULT_MIGRATIONS_DIR, MigrationError, applyMigrations, readMigrations, type LocalMigration } from "../../src/db/migrate.js";
import { onPostgres, openTestDatabase, type TestDatabase } from "../support/database.js";

type MigrationRow = {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
};

const opened: TestDatabase[] = [];
const tempDirs: string[] = [];
/** PGlite: one instance for the file (a new one costs seconds); each test gets an empty schema of its own. */
let sharedPglite: TestDatabase | undefined;
let schemaCount = 0;

afterEach(async () => {
  for (const db of opened.splice(0)) await db.drop();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await sharedPglite?.drop();
});

/**
 * An empty database: a new PostgreSQL database per test, or on PGlite a new schema made the only
 * one on the search path. PGlite has a single connection, so the SET holds for everything the
 * test runs, and the applier (which looks at `current_schema()` and unqualified names) sees a
 * database with nothing in it.
 */
async function emptyDatabase(): Promise<TestDatabase> {
  if (onPostgres) {
    const db = await openTestDatabase({ migrate: false, poolSize: 2 });
    opened.push(db);
    return db;
  }
  sharedPglite ??= await openTestDatabase({ migrate: false });
  const schema = `migrate_test_${++schemaCount}`;
  await sharedPglite.query(`CREATE SCHEMA "${schema}"`);
  await sharedPglite.query(`SET search_path TO "${schema}"`);
  return sharedPglite;
}

const apply = (db: TestDatabase, local?: LocalMigration[]) => db.database.withConnection((sql) => applyMigrations(sql, local));

const historyOf = (db: TestDatabase) =>
  db.query<MigrationRow>(`SELECT * FROM "_prisma_migrations" ORDER BY migration_name`);

async function tableExists(db: TestDatabase, name: string): Promise<boolean> {
  const [row] = await db.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [`"${name}"`]);
  return row?.exists ?? false;
}

/** A migrations folder of our own: { folderName: sql }. */
function migrationsFolder(migrations: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rotp-migrations-"));
  tempDirs.push(dir);
  writeFileSync(path.join(dir, "migration_lock.toml"), 'provider = "postgresql"\n');
  for (const [name, sql] of Object.entries(migrations)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

/** Asserts that `promise` rejects with a MigrationError whose message matches `pattern`. */
async function expectMigrationError(promise: Promise<unknown>, pattern: RegExp): Promise<MigrationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MigrationError);
  expect((error as MigrationError).message).toMatch(pattern);
  return error as MigrationError;
}

const sha256OfFile = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("applyMigrations on the project's migrations", () => {
  test("on an empty database, applies every migration and records each as Prisma does", async () => {
    const db = await emptyDatabase();
    const folders = readdirSync(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(folders.length).toBeGreaterThan(0);

    const report = await apply(db);
    expect(report).toEqual({ applied: folders, alreadyApplied: 0, warnings: [] });

    const rows = await historyOf(db);
    expect(rows.map((r) => r.migration_name)).toEqual(folders);
    for (const row of rows) {
      expect(row.checksum).toBe(sha256OfFile(path.join(DEFAULT_MIGRATIONS_DIR, row.migration_name, "migration.sql")));
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.id).toMatch(UUID_V4);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.applied_steps_count).toBe(1);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
    }
    for (const table of ["apps", "api_keys", "virtual_numbers", "challenges", "inbound_messages", "phone_failures"]) {
      expect(await tableExists(db, table)).toBe(true);
    }
  });

  test("creates _prisma_migrations with exactly the columns and types of Prisma's schema engine", async () => {
    const db = await emptyDatabase();
    await apply(db);
    const columns = await db.query<{ column_name: string; data_type: string; is_nullable: string; character_maximum_length: number | null }>(
      `SELECT column_name, data_type, is_nullable, character_maximum_length
         FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = '_prisma_migrations'
        ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: "id", data_type: "character varying", is_nullable: "NO", character_maximum_length: 36 },
      { column_name: "checksum", data_type: "character varying", is_nullable: "NO", character_maximum_length: 64 },
      { column_name: "finished_at", data_type: "timestamp with time zone", is_nullable: "YES", character_maximum_length: null },
      { column_name: "migration_name", data_type: "character varying", is_nullable: "NO", character_maximum_length: 255 },
      { column_name: "logs", data_type: "text", is_nullable: "YES", character_maximum_length: null },
      { column_name: "rolled_back_at", data_type: "timestamp with time zone", is_nullable: "YES", character_maximum_length: null },
      { column_name: "started_at", data_type: "timestamp with time zone", is_nullable: "NO", character_maximum_length: null },
      { column_name: "applied_steps_count", data_type: "integer", is_nullable: "NO", character_maximum_length: null },
    ]);
  });

  test("running again applies nothing, warns of nothing and adds no row", async () => {
    const db = await emptyDatabase();
    const first = await apply(db);
    const rowsBefore = await historyOf(db);

    const second = await apply(db);
    expect(second).toEqual({ applied: [], alreadyApplied: first.applied.length, warnings: [] });
    expect(await historyOf(db)).toEqual(rowsBefore);
  });

  test("a database with tables but no migration history is refused (P3005) and left untouched", async () => {
    const db = await emptyDatabase();
    await db.query(`CREATE TABLE "legacy_users" (id integer PRIMARY KEY)`);

    await expectMigrationError(apply(db), /P3005/);
    expect(await tableExists(db, "_prisma_migrations")).toBe(false);
    expect(await tableExists(db, "apps")).toBe(false);
    expect(await tableExists(db, "legacy_users")).toBe(true);
  });

  test("a failed migration row (finished_at and rolled_back_at NULL) blocks further migrations (P3009)", async () => {
    const db = await emptyDatabase();
    await apply(db);
    await db.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count, logs)
       VALUES ('7a1d3c52-4a4e-4c1e-9f0e-3d2b1a000001', $1, '20990101000000_half_done', now(), 0, 'boom')`,
      ["0".repeat(64)],
    );
    const error = await expectMigrationError(apply(db), /P3009/);
    expect(error.message).toContain("20990101000000_half_done");
  });

  test("a failed migration that was marked rolled back no longer blocks", async () => {
    const db = await emptyDatabase();
    await apply(db);
    await db.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, rolled_back_at, applied_steps_count)
       VALUES ('7a1d3c52-4a4e-4c1e-9f0e-3d2b1a000002', $1, '20990101000000_rolled_back', now(), now(), 0)`,
      ["0".repeat(64)],
    );
    await expect(apply(db)).resolves.toMatchObject({ applied: [] });
  });
});

describe("applyMigrations on a migrations folder of its own", () => {
  test("readMigrations lists the folders in name order with the SHA-256 of each file's bytes", async () => {
    const dir = migrationsFolder({
      "20260102000000_second": "CREATE TABLE b (id int);\n",
      "20260101000000_first": "CREATE TABLE a (id int);\n-- é\n",
    });
    const local = await readMigrations(dir);
    expect(local.map((m) => m.name)).toEqual(["20260101000000_first", "20260102000000_second"]);
    for (const m of local) {
      expect(m.checksum).toBe(sha256OfFile(path.join(dir, m.name, "migration.sql")));
    }
  });

  test("a failing migration stores its error in logs, leaves finished_at NULL, rolls its script back and stops", async () => {
    const db = await emptyDatabase();
    const dir = migrationsFolder({
      "20260101000000_create_a": `CREATE TABLE "mig_a" (id int);`,
      "20260102000000_broken": `CREATE TABLE "mig_b" (id int);\nINSERT INTO "mig_missing" VALUES (1);\n`,
      "20260103000000_create_c": `CREATE TABLE "mig_c" (id int);`,
    });
    const local = await readMigrations(dir);

    const error = await expectMigrationError(apply(db, local), /20260102000000_broken/);
    expect(error.message).toContain("mig_missing");

    const rows = await historyOf(db);
    expect(rows.map((r) => r.migration_name)).toEqual(["20260101000000_create_a", "20260102000000_broken"]);
    const [done, failed] = rows;
    expect(done).toMatchObject({ applied_steps_count: 1, rolled_back_at: null, logs: null });
    expect(done!.finished_at).toBeInstanceOf(Date);
    expect(failed).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0, checksum: local[1]!.checksum });
    expect(failed!.logs).toContain("mig_missing");

    // One migration is one implicit transaction: the table created before the failing statement is gone.
    expect(await tableExists(db, "mig_a")).toBe(true);
    expect(await tableExists(db, "mig_b")).toBe(false);
    expect(await tableExists(db, "mig_c")).toBe(false);

    // And the failed row now blocks every later run, as Prisma's P3009 does.
    await expectMigrationError(apply(db, local), /P3009/);
    expect(await tableExists(db, "mig_c")).toBe(false);
  });

  test("a new migration added to the folder is applied on the next run, and only it", async () => {
    const db = await emptyDatabase();
    const dir = migrationsFolder({ "20260101000000_create_a": `CREATE TABLE "mig_a" (id int);` });
    expect((await apply(db, await readMigrations(dir))).applied).toEqual(["20260101000000_create_a"]);

    mkdirSync(path.join(dir, "20260102000000_create_b"));
    writeFileSync(path.join(dir, "20260102000000_create_b", "migration.sql"), `CREATE TABLE "mig_b" (id int);`);
    const report = await apply(db, await readMigrations(dir));
    expect(report).toEqual({ applied: ["20260102000000_create_b"], alreadyApplied: 1, warnings: [] });
    expect(await tableExists(db, "mig_b")).toBe(true);
  });

  test("an applied migration whose file was modified afterwards yields a warning and is not run again", async () => {
    const db = await emptyDatabase();
    const dir = migrationsFolder({ "20260101000000_create_a": `CREATE TABLE "mig_a" (id int);\n` });
    await apply(db, await readMigrations(dir));

    writeFileSync(path.join(dir, "20260101000000_create_a", "migration.sql"), `CREATE TABLE "mig_a" (id int);\nCREATE TABLE "mig_a2" (id int);\n`);
    const report = await apply(db, await readMigrations(dir));
    expect(report.applied).toEqual([]);
    expect(report.warnings).toEqual([expect.stringMatching(/20260101000000_create_a.*modified/)]);
    expect(await tableExists(db, "mig_a2")).toBe(false);
  });

  test("an applied migration that only changed line endings (LF ↔ CRLF) yields no warning, as in Prisma", async () => {
    const db = await emptyDatabase();
    const dir = migrationsFolder({ "20260101000000_create_a": `-- create a\nCREATE TABLE "mig_a" (id int);\n` });
    await apply(db, await readMigrations(dir));

    writeFileSync(path.join(dir, "20260101000000_create_a", "migration.sql"), `-- create a\r\nCREATE TABLE "mig_a" (id int);\r\n`);
    expect((await apply(db, await readMigrations(dir))).warnings).toEqual([]);
  });

  test("a migration applied in the database but missing locally yields a warning", async () => {
    const db = await emptyDatabase();
    const dir = migrationsFolder({
      "20260101000000_create_a": `CREATE TABLE "mig_a" (id int);`,
      "20260102000000_create_b": `CREATE TABLE "mig_b" (id int);`,
    });
    await apply(db, await readMigrations(dir));

    rmSync(path.join(dir, "20260102000000_create_b"), { recursive: true });
    const report = await apply(db, await readMigrations(dir));
    expect(report.applied).toEqual([]);
    expect(report.warnings).toEqual([expect.stringMatching(/20260102000000_create_b.*missing locally/)]);
  });
});
