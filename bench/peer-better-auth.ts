// A real peer for the creation path: better-auth (the most used open-source TypeScript auth
// library) with its phone-number plugin, served by Express 5 on its own PostgreSQL database, as its
// documentation sets it up: `database` a `pg` Pool (better-auth's Kysely adapter), the handler
// mounted with `toNodeHandler`. POST /api/auth/phone-number/send-otp with `{ phoneNumber }` draws
// a code and stores it (one INSERT into its `verification` table); `sendOTP` does nothing, as the
// benchmark sends no SMS for our challenges either.
//
// Differences from better-auth's defaults, so that the benchmark measures the path:
// - its rate limiter stays on (as in production, where it is on by default) with its default
//   in-memory store, but the phone-number plugin's rule (10 per minute per IP and path) is raised
//   to 100,000,000 per minute: every request is still counted, none is refused;
// - telemetry off.
//
// At start-up the server creates better-auth's tables in DATABASE_URL (its own migration API,
// getMigrations), then answers GET /healthz.
//
// Env: DATABASE_URL (a database of its own), PORT, HOST, DB_POOL_SIZE (default 10).
// Run: node --import tsx bench/peer-better-auth.ts
import express from "express";
import pg from "pg";
import { betterAuth, type BetterAuthOptions } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { phoneNumber } from "better-auth/plugins/phone-number";

const env = process.env;
const port = Number(env.PORT ?? 3100);
const host = env.HOST ?? "127.0.0.1";
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.DB_POOL_SIZE ?? 10) });

const options = {
  baseURL: `http://${host}:${port}`,
  secret: "bench-better-auth-secret-0123456789abcdefghijklmnop",
  database: pool,
  telemetry: { enabled: false },
  rateLimit: {
    enabled: true,
    storage: "memory",
    customRules: { "/phone-number/*": { window: 60, max: 100_000_000 } },
  },
  logger: { level: "error" },
  plugins: [
    phoneNumber({
      sendOTP: () => undefined,
    }),
  ],
} satisfies BetterAuthOptions;

const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);

const app = express();
app.get("/healthz", (_req, res) => {
  res.json({ status: "ok" });
});
// better-auth reads the body itself: no express.json() before it.
app.all("/api/auth/*splat", toNodeHandler(auth));

const server = app.listen(port, host);
server.keepAliveTimeout = 5_000;
const stop = () => server.close(() => void pool.end().then(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
