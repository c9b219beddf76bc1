// Applies the migrations in prisma/migrations the way Prisma's `migrate deploy` does, so a database
// migrated here can later be handled by `prisma migrate status/deploy/dev` and the other way round:
// same `_prisma_migrations` table, same checksums (SHA-256 hex of the file's bytes), same advisory
// lock, one simple query per migration. We do it ourselves because the Prisma CLI needs a native
// engine that cannot always be downloaded (air-gapped hosts, CI), and because start-up and every
// CLI command migrate first.
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SqlRunner } from "./sql-runner.js";

/** The advisory lock key Prisma's schema engine takes around migrations. */
const PRISMA_MIGRATION_LOCK_KEY = 72707369;

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

export type LocalMigration = { name: string; sql: string; checksum: string };

export type MigrationReport = {
  applied: string[];
  alreadyApplied: number;
  /** Applied migrations whose local file changed since, and ones the database has but this build lacks. */
  warnings: string[];
};

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

export async function readMigrations(dir = DEFAULT_MIGRATIONS_DIR): Promise<LocalMigration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(path.join(dir, name, "migration.sql"));
      return { name, sql: bytes.toString("utf8"), checksum: createHash("sha256").update(bytes).digest("hex") };
    }),
  );
}

// Prisma accepts a checksum of the file with CRLF line endings turned into LF or the other way round.
function checksumVariants(sql: string): string[] {
  const lf = sql.replace(/\r\n/g, "\n");
  const crlf = lf.replace(/\n/g, "\r\n");
  return [sql, lf, crlf].map((s) => createHash("sha256").update(s, "utf8").digest("hex"));
}

type MigrationRow = {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
};

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Which local migrations the database has not applied yet (for readiness checks). */
export async function pendingMigrations(sql: SqlRunner, local: LocalMigration[]): Promise<string[]> {
  const [exists] = await sql.query<{ exists: boolean }>(`SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS exists`);
  if (!exists?.exists) return local.map((m) => m.name);
  const rows = await sql.query<{ migration_name: string }>(
    `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  const done = new Set(rows.map((r) => r.migration_name));
  return local.filter((m) => !done.has(m.name)).map((m) => m.name);
}

/**
 * Applies pending migrations under Prisma's advisory lock. `sql` must be one dedicated connection
 * (the lock is held by the session).
 */
export async function applyMigrations(sql: SqlRunner, local?: LocalMigration[]): Promise<MigrationReport> {
  const migrations = local ?? (await readMigrations());
  await sql.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATION_LOCK_KEY]);
  try {
    await sql.query("SET statement_timeout = 0");
    const [state] = await sql.query<{ has_table: boolean; other_tables: number }>(`
      SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS has_table,
             (SELECT count(*)::int FROM pg_catalog.pg_tables
               WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations') AS other_tables`);
    if (!state?.has_table && (state?.other_tables ?? 0) > 0) {
      throw new MigrationError(
        "The database schema is not empty and has no migration history (Prisma error P3005). " +
          "Point DATABASE_URL at an empty database, or baseline it first.",
      );
    }
    await sql.exec(CREATE_MIGRATIONS_TABLE);

    const rows = await sql.query<MigrationRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`,
    );
    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed) {
      throw new MigrationError(
        `Migration ${failed.migration_name} failed earlier and blocks further migrations (Prisma error P3009). ` +
          `Fix the database, then mark it with \`prisma migrate resolve\` or delete its row from _prisma_migrations.`,
      );
    }

    const warnings: string[] = [];
    const applied = new Map(rows.filter((r) => r.finished_at !== null && r.rolled_back_at === null).map((r) => [r.migration_name, r]));
    const localNames = new Set(migrations.map((m) => m.name));
    for (const row of applied.values()) {
      if (!localNames.has(row.migration_name)) {
        warnings.push(`migration ${row.migration_name} is applied in the database but missing locally`);
      }
    }
    for (const m of migrations) {
      const row = applied.get(m.name);
      if (row && !checksumVariants(m.sql).includes(row.checksum)) {
        warnings.push(`migration ${m.name} was modified after it was applied`);
      }
    }

    const appliedNow: string[] = [];
    for (const m of migrations) {
      if (applied.has(m.name)) continue;
      const id = randomUUID();
      await sql.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), 0)`,
        [id, m.checksum, m.name],
      );
      try {
        await sql.exec(m.sql);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await sql.query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, message]);
        throw new MigrationError(`Migration ${m.name} failed: ${message}`);
      }
      await sql.query(
        `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
        [id],
      );
      appliedNow.push(m.name);
    }
    return { applied: appliedNow, alreadyApplied: applied.size, warnings };
  } finally {
    await sql.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATION_LOCK_KEY]).catch(() => undefined);
  }
}
