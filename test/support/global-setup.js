// Runs once before all test files (self-contained: jest's moduleNameMapper does not apply here).
import { randomBytes } from "node:crypto";
import pg from "pg";

export default async function globalSetup() {
  process.env.TZ = "UTC";
  process.env.ROTP_TEST_RUN = randomBytes(3).toString("hex");
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stdout.write("\n[reverse-otp tests] DATABASE_URL is not set: running on embedded PGlite; tests that need several real connections are skipped.\n");
    return;
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    throw new Error(`DATABASE_URL is set but PostgreSQL is not reachable: ${error.message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  process.stdout.write(`\n[reverse-otp tests] running against PostgreSQL (${new URL(url).host}); each test file creates and drops its own database.\n`);
}
