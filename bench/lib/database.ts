// Benchmark databases: a fresh PostgreSQL database per target (service, reference) on the server
// named by BENCH_DATABASE_URL or DATABASE_URL, migrated with the project's own migrations, seeded
// with plain SQL, dropped at the end. A peer (bench/peer-better-auth.ts) gets an empty one and
// creates its own tables.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { applyMigrations } from "../../src/db/migrate.js";
import { pgClientRunner } from "../../src/db/sql-runner.js";
import { processCpuSeconds } from "./process.js";

export type BenchDatabase = {
  name: string;
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
};

export async function createBenchDatabase(adminUrl: string, label: string, options: { ourSchema?: boolean } = {}): Promise<BenchDatabase> {
  const name = `rotp_bench_${label}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  if (options.ourSchema ?? true) {
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      await applyMigrations(pgClientRunner(client));
    } finally {
      await client.end();
    }
  }
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  pool.on("error", () => undefined); // an idle connection ended by the server (e.g. by the final DROP … FORCE)
  return {
    name,
    url: url.toString(),
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function serverVersion(adminUrl: string): Promise<string> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return rows[0]?.v ?? "unknown";
  } finally {
    await c.end();
  }
}

/** Outcomes stored for the inbound messages whose provider message id starts with `prefix`. */
export async function countOutcomes(pool: pg.Pool, prefix: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ outcome: string; n: number }>(
    `SELECT outcome::text AS outcome, count(*)::int AS n FROM inbound_messages WHERE provider_message_id LIKE $1 || '%' GROUP BY 1`,
    [prefix],
  );
  return Object.fromEntries(rows.map((r) => [r.outcome, r.n]));
}

/**
 * CPU seconds (user + system) used so far by the PostgreSQL backends of database `name`, by
 * process id, read from /proc: the server must run on this host (as the benchmark assumes) and
 * its processes be readable; an empty map otherwise. Counting backends too is what makes CPU per
 * request comparable between servers on a busy machine, where throughput mostly measures the
 * share of the cores each run got.
 */
export async function backendCpuSeconds(pool: pg.Pool, name: string): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name]);
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      out.set(pid, processCpuSeconds(pid));
    } catch {
      // ended meanwhile, or not readable (another host or user): not counted
    }
  }
  return out;
}

/** CPU seconds the backends used between two readings (a backend that started meanwhile counts from zero). */
export function backendCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}
