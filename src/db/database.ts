// Opens the database: PostgreSQL through node-postgres, or embedded PGlite. Returns the Prisma
// client (used only by repository modules) and a raw SQL runner for migrations and housekeeping.
// PGlite and its adapter are imported only when embedded mode is used (openPglite): merely loading
// the PGlite module costs a PostgreSQL-mode process about 45 MB of resident memory (measured with
// `npm run bench`), for nothing.
import type { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { applyMigrations, type MigrationReport } from "./migrate.js";
import { pgClientRunner, pgliteRunner, type SqlRunner } from "./sql-runner.js";

/**
 * An open Prisma transaction. Repositories run their steps on it; services only hand it from one
 * repository to another, when one transaction spans two features (a verification by SMS changes a
 * challenge and records the inbound message that caused it).
 */
export type Transaction = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/** Runs one SQL statement of a hot path and returns its rows (see Database#statement). */
export type StatementRunner = <T extends Record<string, unknown>>(name: string, sql: string, params: unknown[]) => Promise<T[]>;

/** The rows of the last statement of a script that returned rows (see Database#shortTransaction). */
export type ScriptRows = Record<string, unknown>[];

/**
 * A short transaction in two round trips: `first` runs right after BEGIN, then `next` sees its rows
 * and gives the script that ends the transaction (COMMIT follows it in the same round trip), or
 * undefined to roll back. `next` must not use the database (PGlite: it would wait for this very
 * transaction). Scripts are literal SQL with several statements and no parameters: values are
 * written in with `sqlLiteral` (challenge-sql.ts).
 */
export type ShortTransaction = (first: string, next: (rows: ScriptRows) => string | undefined) => Promise<{ first: ScriptRows; last?: ScriptRows }>;

export type Database = {
  kind: "postgres" | "pglite";
  prisma: PrismaClient;
  /** Runs a function with one dedicated connection (PGlite: the only one). */
  withConnection<T>(fn: (sql: SqlRunner) => Promise<T>): Promise<T>;
  /**
   * One SQL statement of a hot path, outside Prisma. PostgreSQL: a named prepared statement on a
   * pooled connection (parsed once per connection, no Prisma request pipeline: measured with `npm
   * run bench`, Prisma's $queryRawUnsafe cost about 0.12 ms of CPU per call more than node-postgres);
   * errors are node-postgres errors (`code` is the SQLSTATE). PGlite: through Prisma, which
   * serialises it with every other query on the one connection; errors are Prisma's.
   */
  statement: StatementRunner;
  /**
   * A short transaction of a hot path (challenge creation), each script one round trip.
   * PostgreSQL: the simple query protocol on one pooled connection (several statements per
   * message, each with its own snapshot, so a statement after an advisory lock sees what the lock's
   * previous holder committed). PGlite: PGlite's own transaction, which holds off every other query.
   */
  shortTransaction: ShortTransaction;
  migrate(): Promise<MigrationReport>;
  /**
   * LISTEN on `channel` over one dedicated connection (per instance, whatever the number of
   * waiters). `onReconnect` runs after the connection came back, since notifications sent while it
   * was away are lost: listeners re-read what they wait for.
   */
  listen(channel: string, onNotify: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
};

export type PostgresOptions = {
  url: string;
  poolSize: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  applicationName?: string;
  onPoolError?: (error: Error) => void;
};

/**
 * node-postgres answers a query that outlives `query_timeout` with "Query read timeout" but keeps
 * the connection as it is: the query is still awaited (a frozen server has not answered it), and a
 * statement queued behind it that times out too — Prisma's ROLLBACK — is dropped unsent, so a
 * failed transaction held its connection for two timeouts (8 s). Released to the pool (Prisma
 * releases a failed transaction's connection without an error), that connection then carried the
 * abandoned transaction into the next request: after PostgreSQL was frozen (SIGSTOP) and thawed,
 * the next transaction on it failed with 25P02 "current transaction is aborted", or, when the
 * abandoned statement had completed, its COMMIT committed the abandoned work too (reproduced by
 * test/fault/read-timeout.test.ts). So a read timeout destroys the connection at once: the server
 * rolls the transaction back when it reads the end of the stream, the queries queued behind fail
 * at once, and the pool replaces the connection.
 */
function destroyOnReadTimeout(client: pg.PoolClient): void {
  const destroy = (error: unknown) => {
    if (error instanceof Error && error.message === "Query read timeout") {
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    }
  };
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const last = args.at(-1);
    if (typeof last === "function") {
      // Callback form (pg.Pool#query uses it).
      args[args.length - 1] = (error: unknown, result: unknown) => {
        destroy(error);
        (last as (e: unknown, r: unknown) => void)(error, result);
      };
      return query(...args);
    }
    const result = query(...args);
    if (result instanceof Promise) result.catch(destroy);
    return result;
  };
}

/**
 * The rows of a script's last statement that returned any columns (node-postgres gives one result per
 * statement of a multi-statement query, PGlite's exec an array; BEGIN and COMMIT return none).
 */
function rowsOfScript(result: unknown): ScriptRows {
  const results = (Array.isArray(result) ? result : [result]) as { rows?: ScriptRows; fields?: unknown[] }[];
  const withColumns = results.filter((r) => (r.fields?.length ?? 0) > 0);
  return withColumns.at(-1)?.rows ?? [];
}

export function openPostgres(options: PostgresOptions): Database {
  const connection = {
    connectionString: options.url,
    connectionTimeoutMillis: options.connectTimeoutMs,
    // Deadlines on every statement: a frozen or overloaded server must not hold a request forever.
    statement_timeout: options.statementTimeoutMs,
    query_timeout: options.statementTimeoutMs + 1000,
    idle_in_transaction_session_timeout: options.statementTimeoutMs * 2,
    application_name: options.applicationName ?? "reverse-otp",
  };
  const pool = new pg.Pool({ ...connection, max: options.poolSize, idleTimeoutMillis: 30_000 });
  pool.on("error", (error) => options.onPoolError?.(error));
  pool.on("connect", (client) => {
    destroyOnReadTimeout(client);
    // pg-pool listens for "error" only while a client is idle; a connection lost while checked out
    // between two queries (a Prisma transaction's, say: server restarted, or 57P01 from an
    // administrator) would otherwise be an unhandled "error" that ends the process. The query in
    // flight fails on its own and the pool drops the broken client on release.
    client.on("error", () => undefined);
  });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { onPoolError: options.onPoolError }) });

  // Migrations get their own connection without a statement deadline (a migration may take long).
  const withMigrationConnection = async <T>(fn: (sql: SqlRunner) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ ...connection, statement_timeout: 0, query_timeout: undefined });
    client.on("error", () => undefined); // a lost connection fails the migration's query instead
    await client.connect();
    try {
      return await fn(pgClientRunner(client));
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const listenerClients = new Set<pg.Client>();
  let closed = false;

  async function listen(channel: string, onNotify: (payload: string) => void, onReconnect?: () => void) {
    let client: pg.Client | undefined;
    let stopped = false;
    let retryMs = 250;
    const connect = async (): Promise<void> => {
      if (stopped || closed) return;
      const c = new pg.Client({ ...connection, statement_timeout: 0, query_timeout: undefined, application_name: `${connection.application_name}-listen` });
      c.on("notification", (msg) => {
        if (msg.channel === channel) onNotify(msg.payload ?? "");
      });
      let gone = false; // "error" and "end" both arrive for one loss: reconnect once
      const reconnect = (error?: Error) => {
        if (gone) return;
        gone = true;
        if (error) options.onPoolError?.(error);
        listenerClients.delete(c);
        c.removeAllListeners("error");
        c.on("error", () => undefined);
        c.end().catch(() => undefined);
        if (client === c) client = undefined;
        if (!stopped && !closed) {
          setTimeout(() => {
            if (stopped || closed) return;
            connect()
              .then(() => onReconnect?.())
              .catch(() => undefined);
          }, retryMs).unref();
          retryMs = Math.min(retryMs * 2, 5000);
        }
      };
      c.on("error", reconnect);
      c.on("end", () => reconnect());
      try {
        await c.connect();
        await c.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
      } catch (error) {
        reconnect(error as Error);
        throw error;
      }
      retryMs = 250;
      client = c;
      listenerClients.add(c);
    };
    try {
      await connect();
    } catch (error) {
      stopped = true; // no handle to stop it is returned: no retry may go on behind the caller's back
      throw error;
    }
    return async () => {
      stopped = true;
      if (client) {
        listenerClients.delete(client);
        client.removeAllListeners("end");
        await client.end().catch(() => undefined);
      }
    };
  }

  return {
    kind: "postgres",
    prisma,
    listen,
    statement: async <T extends Record<string, unknown>>(name: string, sql: string, params: unknown[]) =>
      (await pool.query<T>({ name, text: sql, values: params })).rows,
    shortTransaction: async (first, next) => {
      const client = await pool.connect(); // has its own "error" listener (see "connect" above)
      let open = true;
      let broken = false;
      try {
        const firstRows = rowsOfScript(await client.query(`BEGIN;\n${first}`));
        const finish = next(firstRows);
        if (finish === undefined) {
          await client.query("ROLLBACK");
          open = false;
          return { first: firstRows };
        }
        const last = rowsOfScript(await client.query(`${finish};\nCOMMIT`));
        open = false;
        return { first: firstRows, last };
      } catch (error) {
        // A failed statement skips the rest of its message (COMMIT included): the block is aborted.
        if (open) await client.query("ROLLBACK").catch(() => (broken = true));
        throw error;
      } finally {
        client.release(broken);
      }
    },
    withConnection: async (fn) => {
      const client = await pool.connect(); // has its own "error" listener (see "connect" above)
      try {
        return await fn(pgClientRunner(client));
      } finally {
        client.release();
      }
    },
    migrate: () => withMigrationConnection((sql) => applyMigrations(sql)),
    close: async () => {
      closed = true;
      for (const c of listenerClients) {
        c.removeAllListeners("end");
        await c.end().catch(() => undefined);
      }
      await prisma.$disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

/**
 * Embedded PostgreSQL (PGlite, WebAssembly). `dataDir` undefined = in memory (tests), started from
 * `loadDataDir` when given (a data folder PGlite's dumpDataDir() wrote: tests start from a migrated
 * one instead of running initdb and the migrations in every test file).
 */
export async function openPglite(dataDir: string | undefined, options: { loadDataDir?: Blob } = {}): Promise<Database> {
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import("@electric-sql/pglite"), import("pglite-prisma-adapter")]);
  const db: PGlite = dataDir ? await PGlite.create(dataDir) : await PGlite.create(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  const runner = pgliteRunner(db);
  return {
    kind: "pglite",
    prisma,
    statement: <T extends Record<string, unknown>>(_name: string, sql: string, params: unknown[]) => prisma.$queryRawUnsafe<T[]>(sql, ...params),
    withConnection: (fn) => fn(runner),
    shortTransaction: (first, next) =>
      db.transaction(async (tx) => {
        const firstRows = rowsOfScript(await tx.exec(first));
        const finish = next(firstRows);
        if (finish === undefined) {
          await tx.rollback();
          return { first: firstRows };
        }
        return { first: firstRows, last: rowsOfScript(await tx.exec(finish)) };
      }),
    // The adapter's executeScript does not await; migrations go to PGlite's exec directly.
    migrate: () => applyMigrations(runner),
    listen: async (channel, onNotify) => {
      const unlisten = await db.listen(channel, onNotify);
      return async () => {
        if (!db.closed) await unlisten();
      };
    },
    close: async () => {
      await prisma.$disconnect().catch(() => undefined);
      if (!db.closed) await db.close();
    },
  };
}
