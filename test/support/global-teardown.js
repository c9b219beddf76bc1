// Drops this run's template database and the databases a crashed test file of this run may have
// left behind, and removes its PGlite template (see test/support/database.ts).
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";

export default async function globalTeardown() {
  const url = process.env.DATABASE_URL;
  const run = process.env.ROTP_TEST_RUN;
  if (!run) return;
  rmSync(path.join(os.tmpdir(), `rotp-pglite-template-${run}.tar`), { force: true });
  if (!url) return;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query("SELECT datname FROM pg_database WHERE datname LIKE $1", [`rotp_t_${run}_%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
