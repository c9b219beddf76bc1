// Schema drift: prisma/migrations, applied to an empty database, must produce exactly the tables,
// columns, enums, indexes and foreign keys that prisma/schema.prisma describes (Prisma's own schema
// engine computes the difference, see scripts/schema-diff.ts). Raw-SQL objects that the schema
// cannot express must be listed in RAW_SQL_ALLOW_LIST there.
//
// Runs on PostgreSQL when DATABASE_URL is set, and always on embedded PGlite.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import {
  DEFAULT_MIGRATIONS_PATH,
  DEFAULT_SCHEMA_PATH,
  describeRawObjectProblems,
  openSchemaDiffSession,
  RAW_SQL_ALLOW_LIST,
  writeMigration,
  type DatabaseTarget,
  type DriftReport,
  type SchemaDiffSession,
} from "../../scripts/schema-diff.js";

const databaseUrl = process.env.DATABASE_URL || undefined;
const projectRoot = path.resolve(path.dirname(DEFAULT_SCHEMA_PATH), "..");
const scriptPath = path.join(projectRoot, "scripts", "schema-diff.ts");

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "rotp-drift-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the schema whose App model has one more column. */
function schemaWithExtraField(): string {
  const source = readFileSync(DEFAULT_SCHEMA_PATH, "utf8");
  const changed = source.replace(/^model App \{\n/m, (m) => `${m}  driftProbe String?\n`);
  expect(changed).not.toBe(source);
  const file = path.join(tempDir(), "schema.prisma");
  writeFileSync(file, changed);
  return file;
}

function copyOfMigrations(): string {
  const dir = path.join(tempDir(), "migrations");
  cpSync(DEFAULT_MIGRATIONS_PATH, dir, { recursive: true });
  return dir;
}

/** Shows the SQL and allow-list problems in the failure message. */
const summary = (r: DriftReport) => ({ sql: r.sql, rawObjectProblems: describeRawObjectProblems(r) });

const ADD_PROBE_COLUMN = /ALTER TABLE "apps" ADD COLUMN\s+"driftProbe" TEXT;/;

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const { NODE_OPTIONS: _ignored, ...rest } = process.env;
    const child = spawn(process.execPath, ["--import", "tsx", scriptPath, ...args], {
      cwd: projectRoot,
      env: { ...rest, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function driftSuite(name: string, target: DatabaseTarget, full: boolean): void {
  describe(`schema drift on ${name}`, () => {
    let session: SchemaDiffSession;
    beforeAll(async () => {
      session = await openSchemaDiffSession(target);
    });
    afterAll(async () => {
      await session?.close();
    });

    test("prisma/migrations produce prisma/schema.prisma (no drift)", async () => {
      const report = await session.check();
      expect(summary(report)).toEqual({ sql: "", rawObjectProblems: [] });
      expect(report.drift).toBe(false);
    });

    test("the check fails for a schema with a field that no migration creates", async () => {
      const report = await session.check({ schemaPath: schemaWithExtraField() });
      expect(report.drift).toBe(true);
      expect(report.sql).toMatch(ADD_PROBE_COLUMN);
    });

    if (!full) return;

    test("the SQL it reports, written as the next migration, closes the drift", async () => {
      const schemaPath = schemaWithExtraField();
      const migrationsPath = copyOfMigrations();
      const before = await session.check({ schemaPath, migrationsPath });
      expect(before.sql).toMatch(ADD_PROBE_COLUMN);
      const file = writeMigration(migrationsPath, "add drift probe", before.sql, new Date(Date.UTC(2099, 0, 2, 3, 4, 5)));
      expect(path.relative(migrationsPath, file)).toBe(path.join("20990102030405_add_drift_probe", "migration.sql"));
      const after = await session.check({ schemaPath, migrationsPath });
      expect(summary(after)).toEqual({ sql: "", rawObjectProblems: [] });
    });

    test("raw-SQL objects must match the allow-list, both ways", async () => {
      const stale = { kind: "index", table: "apps", name: "apps_no_such_key", reason: "test" } as const;
      const report = await session.check({ allowList: [stale] });
      expect(report.drift).toBe(true);
      expect(report.sql).toBe("");
      expect(report.missingAllowListed).toEqual([stale]);
      const allowListed = RAW_SQL_ALLOW_LIST.map(({ kind, table, name }) => ({ kind, table, name }));
      expect(report.unlistedRawObjects).toEqual(expect.arrayContaining(allowListed));
    });

    test("command line: exit 1 with the SQL on drift, --create writes the migration, then exit 0", async () => {
      const schemaPath = schemaWithExtraField();
      const migrationsPath = copyOfMigrations();
      const env: NodeJS.ProcessEnv = target.kind === "postgres" ? { DATABASE_URL: target.url } : {};
      const common = ["--schema", schemaPath, "--migrations", migrationsPath, ...(target.kind === "pglite" ? ["--pglite"] : [])];

      const drift = await runCli(common, env);
      expect({ code: drift.code, stderr: drift.stderr }).toEqual({ code: 1, stderr: expect.stringContaining("drift") });
      expect(drift.stdout).toMatch(ADD_PROBE_COLUMN);

      const create = await runCli([...common, "--create", "add_drift_probe"], env);
      expect({ code: create.code, stderr: create.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      const created = readdirSync(migrationsPath).filter((d) => /^\d{14}_add_drift_probe$/.test(d));
      expect(created).toHaveLength(1);
      const sql = readFileSync(path.join(migrationsPath, created[0]!, "migration.sql"), "utf8");
      expect(sql).toMatch(ADD_PROBE_COLUMN);

      // --create checks again after writing and exits 0 only when no drift remains; one more run
      // shows the plain output (skipped on PGlite, whose start-up costs ~4 s per process).
      if (target.kind === "postgres") {
        const clean = await runCli(common, env);
        expect({ code: clean.code, stdout: clean.stdout }).toEqual({ code: 0, stdout: "No difference\n" });
      }
      expect(existsSync(path.join(projectRoot, "prisma", "migrations", created[0]!))).toBe(false);
    }, 300_000); // child processes (tsx start-up, and PGlite's ~4 s each on PGlite)
  });
}

if (databaseUrl) {
  driftSuite("PostgreSQL", { kind: "postgres", url: databaseUrl }, true);
} else {
  describe("schema drift on PostgreSQL", () => {
    test.skip("schema drift on PostgreSQL (needs DATABASE_URL: PostgreSQL)", () => {});
  });
}
// Embedded PostgreSQL always: the full set when it is the only target, the core checks otherwise.
driftSuite("embedded PGlite", { kind: "pglite" }, !databaseUrl);
