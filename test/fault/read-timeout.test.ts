// A transaction abandoned on a frozen PostgreSQL must not reach the next request (src/db/database.ts,
// destroyOnReadTimeout). The server is frozen (SIGSTOP) while a transaction's statement runs; the
// client's read deadline (query_timeout) fails the transaction; after the thaw, the next
// transaction on the pool (one connection, so necessarily the same slot) must run on a clean
// connection: not inside the abandoned transaction, neither failing with 25P02 nor committing the
// abandoned work with its own COMMIT. Both happened before the fix. `npm run test:fault`.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import pg from "pg";
import { openPostgres, type Database } from "../../src/db/database.js";
import { startPrivatePostgres, type PrivatePostgres } from "./private-postgres.js";

let server: PrivatePostgres;
let side: pg.Client;

beforeAll(async () => {
  server = await startPrivatePostgres();
  side = new pg.Client({ connectionString: server.url });
  await side.connect();
  await side.query("CREATE TABLE t (id text PRIMARY KEY)");
}, 60_000);

afterAll(async () => {
  await side?.end().catch(() => undefined);
  server?.destroy();
});

async function abandonOnFrozenServer(db: Database, options: { statementTimeoutOff: boolean }) {
  const started = Date.now();
  let error: unknown;
  await db.prisma
    .$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe("INSERT INTO t VALUES ('abandoned')");
        // Without a server-side deadline the statement completes after the thaw (the abandoned
        // transaction then holds a finished INSERT); with it, the statement is cancelled.
        if (options.statementTimeoutOff) await tx.$executeRawUnsafe("SET LOCAL statement_timeout = 0");
        // Frozen while the backend is busy with this statement, longer than two read deadlines.
        setTimeout(() => server.freeze(), 300);
        await tx.$queryRawUnsafe("SELECT pg_sleep(1)");
      },
      { maxWait: 5000, timeout: 30_000 },
    )
    .catch((e: unknown) => {
      error = e;
    });
  const failedAfterMs = Date.now() - started;
  // The read deadline is statement timeout + 1 s = 4 s; the transaction fails at the first one
  // (before the fix it waited for a second one, on its ROLLBACK: 8 s).
  await new Promise((r) => setTimeout(r, Math.max(0, 9000 - failedAfterMs)));
  server.thaw();
  return { error, failedAfterMs };
}

test.each([
  ["with the server's statement timeout (the abandoned statement is cancelled)", false],
  ["without it (the abandoned statement completes after the thaw)", true],
])(
  "a transaction abandoned on a frozen server does not reach the next request on its connection, %s",
  async (_label, statementTimeoutOff) => {
    await side.query("TRUNCATE t");
    const db = openPostgres({ url: server.url, poolSize: 1, connectTimeoutMs: 2000, statementTimeoutMs: 3000, onPoolError: () => undefined });
    try {
      const { error, failedAfterMs } = await abandonOnFrozenServer(db, { statementTimeoutOff });
      const next = await db.prisma
        .$transaction(async (tx) => {
          await tx.$executeRawUnsafe("INSERT INTO t VALUES ('next')");
        })
        .then(
          () => "committed",
          (e: unknown) => String((e as Error).message).split("\n").at(-1),
        );
      const rows = (await side.query<{ id: string }>("SELECT id FROM t ORDER BY id")).rows.map((r) => r.id);
      expect({
        firstFailedWith: String((error as Error | undefined)?.message).match(/Query read timeout/)?.[0],
        firstFailedWithin7s: failedAfterMs < 7000,
        next,
        rows,
      }).toEqual({ firstFailedWith: "Query read timeout", firstFailedWithin7s: true, next: "committed", rows: ["next"] });
    } finally {
      await db.close();
    }
  },
  60_000,
);
