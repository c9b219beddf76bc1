#!/usr/bin/env -S npx tsx
// Offline schema-drift check and migration writer.
//
//   npx tsx scripts/schema-diff.ts                  # exit 0: no drift, 1: drift (SQL printed), 2: error
//   npx tsx scripts/schema-diff.ts --create <name>  # write prisma/migrations/<UTC timestamp>_<name>/
//   options: --schema <file|dir> --migrations <dir> --pglite (embedded PostgreSQL instead of a server)
//
// How it works: Prisma's own schema engine, compiled to WebAssembly, computes the SQL that takes
// "the migrations folder applied to an empty shadow database" to "prisma/schema.prisma" — the same
// computation as `prisma migrate diff --from-migrations … --to-schema … --script`, and the same
// renderer as `prisma migrate dev`. The native engine binary (which the Prisma CLI downloads from a
// host this project cannot rely on) is not needed.
//
// - Engine: the JS glue of the npm package @prisma/schema-engine-wasm (pinned) drives the
//   WebAssembly module that ships inside the installed `prisma` package (build/schema_engine_bg.wasm,
//   i.e. exactly the engine of our Prisma CLI) when its import/export interface matches the glue;
//   otherwise the package's own module is used and a note is printed.
// - Database: a PostgreSQL server (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres)
//   on which temporary databases `rotp_drift_*` are created and dropped, or embedded PGlite.
//   The driver adapters are wrapped to fix three gaps (see PRISMA-OFFLINE.md): our own shadow
//   database (adapter-pg's ignores the database name with a connection string), the `"char"` type
//   (OID 18, which adapter-pg 7.10.1 cannot map), and executeScript (adapter-pg splits scripts on
//   ";", PGlite's adapter does not await): each migration runs as one simple query, as Prisma does.
// - Objects that schema.prisma cannot express (partial/expression indexes, CHECK and EXCLUDE
//   constraints, triggers, functions, views, extensions) are invisible to the engine's diff. They
//   must be listed in RAW_SQL_ALLOW_LIST below: an unlisted one, or a listed one that the
//   migrations no longer create, is reported as drift.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type SqlResultSet,
} from "@prisma/driver-adapter-utils";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";
import pg from "pg";

// ---------------------------------------------------------------------------------------------
// Allow-list of raw-SQL objects: created by migrations, not expressible in schema.prisma.
// ---------------------------------------------------------------------------------------------

export type RawObjectKind = "index" | "check" | "exclusion" | "trigger" | "function" | "view" | "materialized view" | "extension";

export interface RawSqlObject {
  kind: RawObjectKind;
  /** Table the object belongs to (indexes, constraints, triggers); null otherwise. */
  table: string | null;
  /** Object name; functions as `name(argument types)`. */
  name: string;
}

export interface AllowListEntry extends RawSqlObject {
  /** Why it lives in raw SQL. */
  reason: string;
}

export const RAW_SQL_ALLOW_LIST: readonly AllowListEntry[] = [
  {
    kind: "function",
    table: null,
    name: `reverse_otp_create_challenge(${[
      "p_lock_key text", "p_app_id text", "p_phone_hashes text[]", "p_client_hashes text[]", "p_now timestamp with time zone",
      "p_window_start timestamp with time zone", "p_limit integer", "p_max_pending_before integer", "p_id text",
      "p_virtual_number_id text", "p_phone_hash text", "p_phone_masked text", "p_phone_country text", "p_code_hash text",
      "p_poll_token_hash text", 'p_purpose "Purpose"', "p_context jsonb", "p_locale text", "p_max_attempts integer",
      "p_idempotency_key text", "p_request_fingerprint text", "p_client_hash text", "p_expires_at timestamp with time zone",
      'p_channel "ChallengeChannel"', "p_phone_sealed text", "OUT out_failures integer", "OUT out_locked_until timestamp with time zone",
      "OUT out_failure_updated_at timestamp with time zone", "OUT out_pending_ids text[]", "OUT out_created_in_window integer",
      "OUT out_oldest_in_window timestamp with time zone", "OUT out_inserted boolean", "OUT out_virtual_number text",
    ].join(", ")})`,
    reason: "a plain reverse creation in one statement: the phone's lock, then the facts and the INSERT, each with a snapshot taken after the lock (src/challenges/challenge-sql.ts, CREATE_PLAIN_SQL)",
  },
  {
    kind: "function",
    table: null,
    name: "reverse_otp_notify_app()",
    reason: "trigger function: NOTIFY of app, key and number changes, which drop the instances' caches",
  },
  ...["apps", "api_keys", "virtual_numbers"].map((table) => ({
    kind: "trigger" as const,
    table,
    name: `${table}_notify_change`,
    reason: "sends the NOTIFY in the transaction that changes an app, its keys or numbers (cache invalidation)",
  })),
  {
    kind: "index",
    table: "challenges",
    name: "challenges_pending_phone_code_key",
    reason: "partial unique index (WHERE status = 'pending'): two pending challenges of one phone never share a code",
  },
  {
    kind: "function",
    table: null,
    name: "reverse_otp_notify_challenge()",
    reason: "trigger function: NOTIFY of challenge changes for the real-time fan-out",
  },
  {
    kind: "trigger",
    table: "challenges",
    name: "challenges_notify_change",
    reason: "sends the NOTIFY in the transaction that changes a challenge's status",
  },
  {
    kind: "function",
    table: null,
    name: "reverse_otp_enqueue_callback()",
    reason: "trigger function: writes the callback outbox event (body built in SQL) and NOTIFYs the dispatchers",
  },
  {
    kind: "trigger",
    table: "challenges",
    name: "challenges_enqueue_callback",
    reason: "writes the callback event in the transaction that gives a challenge its final status (transactional outbox)",
  },
  {
    kind: "function",
    table: null,
    name: "reverse_otp_erase_sealed_phone()",
    reason: "trigger function: erases a challenge's sealed phone once it can no longer fall back to sms",
  },
  {
    kind: "trigger",
    table: "challenges",
    name: "challenges_erase_sealed_phone",
    reason: "the sealed phone lives only while a pending reverse challenge may still fall back, whatever path changes it",
  },
  {
    kind: "check",
    table: "virtual_numbers",
    name: "virtual_numbers_kind_check",
    reason: "a long number is E.164 without a country, a short code is 3-8 digits with its country: the two kinds of key never meet",
  },
];

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_SCHEMA_PATH = path.join(PROJECT_ROOT, "prisma", "schema.prisma");
export const DEFAULT_MIGRATIONS_PATH = path.join(PROJECT_ROOT, "prisma", "migrations");
export const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

export type DatabaseTarget = { kind: "postgres"; url: string } | { kind: "pglite" };

export interface CheckOptions {
  /** A .prisma file or a folder of them. Default: prisma/schema.prisma. */
  schemaPath?: string;
  /** Default: prisma/migrations. */
  migrationsPath?: string;
  /** Default: RAW_SQL_ALLOW_LIST. */
  allowList?: readonly AllowListEntry[];
}

export interface DriftReport {
  /** True when the SQL is not empty or raw-SQL objects disagree with the allow-list. */
  drift: boolean;
  /** SQL that brings the migrations up to the schema ("" when none), allow-listed steps removed. */
  sql: string;
  /** The engine's script as rendered (before the allow-list filter). */
  engineSql: string;
  /** Engine steps dropped because they only concern allow-listed objects. */
  allowListedSteps: string[];
  /** Raw-SQL objects created by the migrations that are not in the allow-list. */
  unlistedRawObjects: RawSqlObject[];
  /** Allow-list entries that the migrations do not create. */
  missingAllowListed: AllowListEntry[];
  /** Schema engine version (engine commit). */
  engineVersion: string;
}

export interface SchemaDiffSession {
  readonly target: DatabaseTarget;
  readonly engineVersion: string;
  /** Where the WebAssembly engine came from. */
  readonly engineSource: string;
  check(options?: CheckOptions): Promise<DriftReport>;
  close(): Promise<void>;
}

/** One-shot check: opens a session, checks, closes. */
export async function checkSchemaDrift(target: DatabaseTarget, options: CheckOptions = {}): Promise<DriftReport> {
  const session = await openSchemaDiffSession(target);
  try {
    return await session.check(options);
  } finally {
    await session.close();
  }
}

/** Human-readable description of the non-SQL part of a report (raw-SQL objects vs allow-list). */
export function describeRawObjectProblems(report: DriftReport): string[] {
  const lines: string[] = [];
  for (const o of report.unlistedRawObjects) {
    lines.push(
      `raw-SQL ${o.kind} ${JSON.stringify(o.name)}${o.table ? ` on ${JSON.stringify(o.table)}` : ""} is created by the migrations ` +
        `but schema.prisma cannot express it: add it to RAW_SQL_ALLOW_LIST in scripts/schema-diff.ts with a reason`,
    );
  }
  for (const o of report.missingAllowListed) {
    lines.push(
      `allow-listed raw-SQL ${o.kind} ${JSON.stringify(o.name)}${o.table ? ` on ${JSON.stringify(o.table)}` : ""} is not created by the migrations: ` +
        `restore it in a migration or remove it from RAW_SQL_ALLOW_LIST`,
    );
  }
  return lines;
}

/** Folder name Prisma would use: UTC YYYYMMDDHHMMSS + "_" + normalised name. */
export function migrationFolderName(name: string, now: Date = new Date()): string {
  const slug = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 200);
  if (!slug) throw new UsageError(`invalid migration name ${JSON.stringify(name)}: use letters, digits and underscores`);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const ts =
    p(now.getUTCFullYear(), 4) + p(now.getUTCMonth() + 1) + p(now.getUTCDate()) + p(now.getUTCHours()) + p(now.getUTCMinutes()) + p(now.getUTCSeconds());
  return `${ts}_${slug}`;
}

/** Writes `<migrationsPath>/<folder>/migration.sql`; refuses a folder that would not sort last. */
export function writeMigration(migrationsPath: string, name: string, sql: string, now: Date = new Date()): string {
  const folder = migrationFolderName(name, now);
  const existing = listMigrationFolders(migrationsPath);
  const last = existing[existing.length - 1];
  if (last !== undefined && folder <= last) {
    throw new UsageError(`new migration ${folder} would not sort after the last one (${last}); check the clock or the folder names`);
  }
  const dir = path.join(migrationsPath, folder);
  mkdirSync(dir, { recursive: false });
  const file = path.join(dir, "migration.sql");
  writeFileSync(file, sql.endsWith("\n") ? sql : `${sql}\n`);
  return file;
}

export class UsageError extends Error {}

// ---------------------------------------------------------------------------------------------
// The WebAssembly schema engine
// ---------------------------------------------------------------------------------------------

type PanicRegistry = { message: string; set_message(message: string): void };
const g = globalThis as typeof globalThis & { PRISMA_WASM_PANIC_REGISTRY?: PanicRegistry };
// The engine reports Rust panics through this global (as the Prisma CLI sets it up).
g.PRISMA_WASM_PANIC_REGISTRY ??= {
  message: "",
  set_message(message: string) {
    this.message = message;
  },
};

interface LoadedEngine {
  version: string;
  source: string;
}
let loaded: LoadedEngine | null = null;

// tsconfig's lib (ES2023, no DOM) and @types/node 20 do not declare WebAssembly: a minimal view.
type WasmModule = object;
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: Record<string, Record<string, unknown>>): Promise<{ exports: Record<string, unknown> }>;
  Module: {
    imports(module: WasmModule): { module: string; name: string; kind: string }[];
    exports(module: WasmModule): { name: string; kind: string }[];
  };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

function signature(mod: WasmModule): string {
  const imports = wasmApi.Module.imports(mod).map((i) => `${i.module}/${i.name}:${i.kind}`);
  const exports = wasmApi.Module.exports(mod).map((e) => `${e.name}:${e.kind}`);
  return [...imports.sort(), "|", ...exports.sort()].join(",");
}

async function loadEngine(): Promise<LoadedEngine> {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const glueDir = path.dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
  const packageWasm = path.join(glueDir, "schema_engine_bg.wasm");
  const glueVersion = (JSON.parse(readFileSync(path.join(glueDir, "package.json"), "utf8")) as { version: string }).version;
  const packageModule = await wasmApi.compile(readFileSync(packageWasm));

  let chosen = packageModule;
  let source = `@prisma/schema-engine-wasm@${glueVersion}`;
  try {
    const prismaDir = path.dirname(require.resolve("prisma/package.json"));
    const cliWasm = path.join(prismaDir, "build", "schema_engine_bg.wasm");
    if (existsSync(cliWasm)) {
      const cliModule = await wasmApi.compile(readFileSync(cliWasm));
      const prismaVersion = (JSON.parse(readFileSync(path.join(prismaDir, "package.json"), "utf8")) as { version: string }).version;
      if (signature(cliModule) === signature(packageModule)) {
        chosen = cliModule;
        source = `prisma@${prismaVersion} (build/schema_engine_bg.wasm) with the glue of @prisma/schema-engine-wasm@${glueVersion}`;
      } else {
        process.stderr.write(
          `schema-diff: note: the engine bundled with prisma@${prismaVersion} does not match the glue of ` +
            `@prisma/schema-engine-wasm@${glueVersion}; using that package's own engine. Pin the package to the ` +
            `version matching node_modules/@prisma/engines-version when upgrading Prisma.\n`,
        );
      }
    }
  } catch {
    // No prisma package: use the package's own engine.
  }
  const instance = await wasmApi.instantiate(chosen, { "./schema_engine_bg.js": glue as unknown as Record<string, unknown> });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  loaded = { version: glue.version(), source };
  return loaded;
}

/**
 * A Rust panic inside the engine surfaces as an uncaught WebAssembly trap from a microtask, not as
 * a rejection. Turn it into a rejection of `work`, and re-instantiate the module next time.
 */
async function guardPanics<T>(work: () => Promise<T>): Promise<T> {
  const registry = g.PRISMA_WASM_PANIC_REGISTRY!;
  registry.message = "";
  let rejectPanic: (e: Error) => void = () => {};
  const panicked = new Promise<never>((_, reject) => {
    rejectPanic = reject;
  });
  const onUncaught = (err: unknown) => {
    const e = err as { name?: string; message?: string; stack?: string } | null;
    const fromWasm = e?.name === "RuntimeError" || /wasm-function/.test(e?.stack ?? "");
    if (fromWasm) {
      loaded = null;
      rejectPanic(new Error(`schema engine panicked: ${registry.message || e?.message || String(err)}`));
    } else {
      process.removeListener("uncaughtException", onUncaught);
      process.nextTick(() => {
        throw err;
      });
    }
  };
  process.on("uncaughtException", onUncaught);
  try {
    return await Promise.race([work(), panicked]);
  } finally {
    process.removeListener("uncaughtException", onUncaught);
  }
}

// ---------------------------------------------------------------------------------------------
// Driver adapters
// ---------------------------------------------------------------------------------------------

const CHAR_OID = 18; // PostgreSQL's internal one-byte "char" (pg_constraint.contype, …)
const TEXT_OID = 25;

/**
 * pg client that relabels `"char"` result columns as text for @prisma/adapter-pg (which throws
 * UnsupportedNativeDataType on OID 18) and remembers them, keyed by the rows array that the
 * adapter passes through, so that queryRaw can report them as Character, which the engine expects.
 */
const charColumns = new WeakMap<object, number[]>();
class CharAwareClient extends pg.Client {}
{
  type AnyQuery = (this: pg.Client, ...args: unknown[]) => unknown;
  const baseQuery = pg.Client.prototype.query as unknown as AnyQuery;
  const fix = (res: unknown): unknown => {
    for (const r of Array.isArray(res) ? res : [res]) {
      const result = r as { fields?: { dataTypeID: number }[]; rows?: object } | undefined;
      const idx: number[] = [];
      result?.fields?.forEach((f, i) => {
        if (f.dataTypeID === CHAR_OID) {
          f.dataTypeID = TEXT_OID;
          idx.push(i);
        }
      });
      if (idx.length > 0 && result?.rows) charColumns.set(result.rows, idx);
    }
    return res;
  };
  (CharAwareClient.prototype as unknown as { query: AnyQuery }).query = function (this: pg.Client, ...args: unknown[]) {
    const [config] = args;
    if (config && typeof (config as { submit?: unknown }).submit === "function") return baseQuery.apply(this, args);
    const cbIndex = args.findIndex((a) => typeof a === "function");
    if (cbIndex >= 0) {
      const cb = args[cbIndex] as (err: unknown, res: unknown) => void;
      const wrapped = [...args];
      wrapped[cbIndex] = (err: unknown, res: unknown) => cb(err, err ? res : fix(res));
      return baseQuery.apply(this, wrapped);
    }
    return (baseQuery.apply(this, args) as Promise<unknown>).then(fix);
  };
}

interface Queryable {
  queryRaw(q: SqlQuery): Promise<SqlResultSet>;
}

function withCharColumns<T extends Queryable>(q: T): T {
  const queryRaw = q.queryRaw.bind(q);
  q.queryRaw = async (query: SqlQuery) => {
    const out = await queryRaw(query);
    for (const i of charColumns.get(out.rows) ?? []) out.columnTypes[i] = ColumnTypeEnum.Character;
    return out;
  };
  return q;
}

/** adapter-pg: char columns, and each script as one simple query (one implicit transaction). */
function patchPgAdapter(adapter: SqlDriverAdapter): SqlDriverAdapter {
  withCharColumns(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => withCharColumns(await startTransaction(isolationLevel));
  // No parameters: node-postgres uses the simple query protocol, which runs several statements.
  adapter.executeScript = async (script: string) => {
    await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
  };
  return adapter;
}

function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

interface ShadowHooks {
  /** Called with the shadow database's adapter once the engine is done with it, before it goes. */
  beforeShadowDispose(adapter: SqlDriverAdapter): Promise<void>;
}

interface Backend {
  factory: SqlMigrationAwareDriverAdapterFactory;
  close(): Promise<void>;
}

async function postgresBackend(url: string, hooks: ShadowHooks): Promise<Backend> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const prefix = `rotp_drift_${process.pid}_${randomBytes(4).toString("hex")}`;
  const created: string[] = [];
  let counter = 0;
  const createDatabase = async (name: string) => {
    // template0: only the migrations decide what the database contains.
    await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`);
    created.push(name);
  };
  const dropDatabase = async (name: string) => {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    created.splice(created.indexOf(name), 1);
  };
  const connectTo = async (name: string) =>
    patchPgAdapter(await new PrismaPg({ connectionString: databaseUrl(url, name), Client: CharAwareClient, max: 2 }).connect());

  const main = `${prefix}_main`;
  try {
    await createDatabase(main);
  } catch (e) {
    await admin.end();
    throw e;
  }
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: "postgres",
    adapterName: "@prisma/adapter-pg",
    connect: () => connectTo(main),
    async connectToShadowDb() {
      const name = `${prefix}_shadow_${counter++}`;
      await createDatabase(name);
      const adapter = await connectTo(name);
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        try {
          await hooks.beforeShadowDispose(adapter);
        } finally {
          await dispose();
          await dropDatabase(name);
        }
      };
      return adapter;
    },
  };
  return {
    factory,
    async close() {
      try {
        for (const name of [...created].reverse()) await dropDatabase(name);
      } finally {
        await admin.end();
      }
    },
  };
}

async function pgliteBackend(hooks: ShadowHooks): Promise<Backend> {
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import("@electric-sql/pglite"), import("pglite-prisma-adapter")]);
  // One in-memory instance serves as main and shadow database (the engine only asks the main one
  // for its version during a diff); each shadow use starts from an empty public schema.
  const db = await PGlite.create();
  const connect = async () => {
    const adapter = (await new PrismaPGlite(db).connect()) as unknown as SqlDriverAdapter;
    const convert = (adapter as unknown as { onError?: (e: unknown) => never }).onError?.bind(adapter);
    // pglite-prisma-adapter 0.7.2 does not await exec(): do it here.
    adapter.executeScript = async (script: string) => {
      try {
        await db.exec(script);
      } catch (e) {
        if (convert) convert(e);
        throw e;
      }
    };
    return adapter;
  };
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: "postgres",
    adapterName: "pglite-prisma-adapter",
    connect,
    async connectToShadowDb() {
      await db.exec(`DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;`);
      const adapter = await connect();
      adapter.dispose = async () => {
        await hooks.beforeShadowDispose(adapter);
      };
      return adapter;
    },
  };
  return { factory, close: () => db.close() };
}

// ---------------------------------------------------------------------------------------------
// Reading the inputs
// ---------------------------------------------------------------------------------------------

function listMigrationFolders(migrationsPath: string): string[] {
  if (!existsSync(migrationsPath)) return [];
  return readdirSync(migrationsPath, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

function readMigrations(migrationsPath: string): glue.MigrationList {
  const baseDir = path.resolve(migrationsPath);
  if (!existsSync(baseDir) || !statSync(baseDir).isDirectory()) throw new UsageError(`migrations folder not found: ${baseDir}`);
  const lockPath = path.join(baseDir, "migration_lock.toml");
  return {
    baseDir,
    lockfile: { path: "migration_lock.toml", content: existsSync(lockPath) ? readFileSync(lockPath, "utf8") : null },
    shadowDbInitScript: "",
    migrationDirectories: listMigrationFolders(baseDir).map((dir) => {
      const file = path.join(baseDir, dir, "migration.sql");
      let content: glue.JsResult<string, string>;
      try {
        content = { tag: "ok", value: readFileSync(file, "utf8") };
      } catch (e) {
        content = { tag: "error", value: (e as Error).message };
      }
      return { path: dir, migrationFile: { path: "migration.sql", content } };
    }),
  };
}

function readSchema(schemaPath: string): glue.SchemasContainer {
  const p = path.resolve(schemaPath);
  if (!existsSync(p)) throw new UsageError(`schema not found: ${p}`);
  const files = statSync(p).isDirectory()
    ? (readdirSync(p, { recursive: true }) as string[])
        .filter((f) => f.endsWith(".prisma"))
        .sort()
        .map((f) => path.join(p, f))
    : [p];
  if (files.length === 0) throw new UsageError(`no .prisma file in ${p}`);
  return { files: files.map((f) => ({ path: f, content: readFileSync(f, "utf8") })) };
}

// ---------------------------------------------------------------------------------------------
// Raw-SQL objects in the shadow database
// ---------------------------------------------------------------------------------------------

const RAW_OBJECTS_SQL = `
SELECT 'index' AS kind, t.relname::text AS table_name, i.relname::text AS name
  FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname = current_schema() AND (x.indpred IS NOT NULL OR x.indexprs IS NOT NULL)
UNION ALL
SELECT CASE c.contype WHEN 'c' THEN 'check' ELSE 'exclusion' END, t.relname::text, c.conname::text
  FROM pg_constraint c
  JOIN pg_class t ON t.oid = c.conrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname = current_schema() AND c.contype IN ('c', 'x')
UNION ALL
SELECT 'trigger', t.relname::text, tg.tgname::text
  FROM pg_trigger tg
  JOIN pg_class t ON t.oid = tg.tgrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname = current_schema() AND NOT tg.tgisinternal
UNION ALL
SELECT 'function', NULL, p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')'
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = current_schema()
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, NULL, c.relname::text
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'extension', NULL, e.extname::text FROM pg_extension e WHERE e.extname <> 'plpgsql'
ORDER BY 1, 2, 3`;

async function readRawObjects(adapter: SqlDriverAdapter): Promise<RawSqlObject[]> {
  const res = await adapter.queryRaw({ sql: RAW_OBJECTS_SQL, args: [], argTypes: [] });
  return res.rows.map(([kind, table, name]) => ({
    kind: kind as RawObjectKind,
    table: (table as string | null) ?? null,
    name: name as string,
  }));
}

const sameObject = (a: RawSqlObject, b: RawSqlObject) => a.kind === b.kind && a.name === b.name && (a.table ?? null) === (b.table ?? null);

/** Splits a rendered Prisma migration script into its steps ("-- Comment\nSQL;" blocks). */
function splitSteps(script: string): string[] {
  return script
    .split(/\n{2,}(?=--|\/\*)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

// ---------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------

export async function openSchemaDiffSession(target: DatabaseTarget): Promise<SchemaDiffSession> {
  const engineInfo = await loadEngine();
  let captured: RawSqlObject[] | null = null;
  let captureError: unknown = null;
  const hooks: ShadowHooks = {
    async beforeShadowDispose(adapter) {
      try {
        captured = await readRawObjects(adapter);
      } catch (e) {
        captureError = e;
      }
    },
  };
  const backend = target.kind === "postgres" ? await postgresBackend(target.url, hooks) : await pgliteBackend(hooks);
  let engine: glue.SchemaEngine;
  try {
    engine = await guardPanics(() =>
      glue.SchemaEngine.new(
        { datamodels: undefined },
        (log: string) => {
          if (process.env.SCHEMA_DIFF_DEBUG) process.stderr.write(`[schema-engine] ${log}\n`);
        },
        bindMigrationAwareSqlAdapterFactory(backend.factory),
      ),
    );
  } catch (e) {
    await backend.close();
    throw e;
  }

  let closed = false;
  return {
    target,
    engineVersion: engineInfo.version,
    engineSource: engineInfo.source,
    async check(options: CheckOptions = {}): Promise<DriftReport> {
      if (closed) throw new Error("session is closed");
      const allowList = options.allowList ?? RAW_SQL_ALLOW_LIST;
      const migrationsList = readMigrations(options.migrationsPath ?? DEFAULT_MIGRATIONS_PATH);
      const schema = readSchema(options.schemaPath ?? DEFAULT_SCHEMA_PATH);
      captured = null;
      captureError = null;
      const result = await guardPanics(() =>
        engine.diff({
          from: { tag: "migrations", ...migrationsList },
          to: { tag: "schemaDatamodel", ...schema },
          script: true,
          exitCode: true,
          filters: { externalTables: [], externalEnums: [] },
        }),
      );
      if (captureError) throw captureError;
      const rawObjects: RawSqlObject[] = captured ?? [];
      if (captured === null && migrationsList.migrationDirectories.length > 0) {
        throw new Error("internal: the shadow database was not inspected");
      }

      const engineSql = result.exitCode === 2 ? (result.stdout ?? "") : "";
      const steps = splitSteps(engineSql);
      const mentionsAllowListed = (step: string) => allowList.some((a) => step.includes(quoteIdent(a.name)));
      const allowListedSteps = steps.filter(mentionsAllowListed);
      const kept = steps.filter((s) => !mentionsAllowListed(s));
      // Unfiltered, the script is kept byte for byte as the engine rendered it (as `migrate dev` writes it).
      const sql = allowListedSteps.length === 0 ? engineSql : kept.length > 0 ? `${kept.join("\n\n")}\n` : "";
      const unlistedRawObjects = rawObjects.filter((o) => !allowList.some((a) => sameObject(a, o)));
      const missingAllowListed = allowList.filter((a) => !rawObjects.some((o) => sameObject(a, o)));
      return {
        drift: sql !== "" || unlistedRawObjects.length > 0 || missingAllowListed.length > 0,
        sql,
        engineSql,
        allowListedSteps,
        unlistedRawObjects,
        missingAllowListed,
        engineVersion: engineInfo.version,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        engine.free();
      } catch {
        // After an engine panic the instance is still borrowed and cannot be freed; it is dropped
        // with the module, which is re-instantiated for the next session.
      } finally {
        await backend.close();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

const USAGE = `usage: npx tsx scripts/schema-diff.ts [--create <name>] [--schema <file|dir>] [--migrations <dir>] [--pglite]

Prints the SQL that brings prisma/migrations up to prisma/schema.prisma, or "No difference".
Exit code: 0 no drift, 1 drift, 2 error.
  --create <name>     write that SQL to <migrations>/<UTC YYYYMMDDHHMMSS>_<name>/migration.sql
  --schema <path>     schema file or folder (default prisma/schema.prisma)
  --migrations <dir>  migrations folder (default prisma/migrations)
  --pglite            use embedded PGlite instead of a PostgreSQL server
PostgreSQL server: DATABASE_URL (default ${DEFAULT_DATABASE_URL}); temporary databases rotp_drift_* are
created there and dropped again (needs the CREATEDB privilege).`;

interface CliArgs {
  create?: string;
  schemaPath: string;
  migrationsPath: string;
  pglite: boolean;
}

function parseArgs(argv: string[]): CliArgs | "help" {
  const args: CliArgs = { schemaPath: DEFAULT_SCHEMA_PATH, migrationsPath: DEFAULT_MIGRATIONS_PATH, pglite: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === "--help" || a === "-h") return "help";
    else if (a === "--create") args.create = value();
    else if (a === "--schema") args.schemaPath = path.resolve(value());
    else if (a === "--migrations") args.migrationsPath = path.resolve(value());
    else if (a === "--pglite") args.pglite = true;
    else throw new UsageError(`unknown argument ${a}`);
  }
  return args;
}

function rel(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
}

export async function main(argv: string[]): Promise<number> {
  const started = Date.now();
  const parsed = parseArgs(argv);
  if (parsed === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.create !== undefined) migrationFolderName(parsed.create); // validate before any work
  const target: DatabaseTarget = parsed.pglite ? { kind: "pglite" } : { kind: "postgres", url: process.env.DATABASE_URL || DEFAULT_DATABASE_URL };
  const where = target.kind === "pglite" ? "embedded PGlite" : "PostgreSQL temporary databases";
  const session = await openSchemaDiffSession(target);
  const onSignal = () => {
    void session.close().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const options = { schemaPath: parsed.schemaPath, migrationsPath: parsed.migrationsPath };
    const report = await session.check(options);
    const problems = describeRawObjectProblems(report);
    const footer = () =>
      `schema-diff: engine ${report.engineVersion} (${session.engineSource}), ${where}, ${((Date.now() - started) / 1000).toFixed(1)} s\n`;

    if (parsed.create === undefined) {
      if (!report.drift) {
        process.stdout.write("No difference\n");
        process.stderr.write(footer());
        return 0;
      }
      if (report.sql) process.stdout.write(report.sql);
      for (const line of problems) process.stderr.write(`schema-diff: ${line}\n`);
      if (report.sql) {
        process.stderr.write(
          `schema-diff: drift: ${rel(parsed.migrationsPath)} does not produce ${rel(parsed.schemaPath)}; the SQL above closes the gap.\n` +
            `schema-diff: to write it as a migration: npx tsx scripts/schema-diff.ts --create <name>\n`,
        );
      }
      process.stderr.write(footer());
      return 1;
    }

    if (!report.sql) {
      process.stdout.write("No difference: no migration created\n");
      for (const line of problems) process.stderr.write(`schema-diff: ${line}\n`);
      process.stderr.write(footer());
      return problems.length > 0 ? 1 : 0;
    }
    const file = writeMigration(parsed.migrationsPath, parsed.create, report.sql);
    process.stdout.write(report.sql);
    process.stdout.write(`\nCreated ${rel(file)}\n`);
    const after = await session.check(options);
    if (after.sql) {
      process.stderr.write(`schema-diff: warning: drift remains after the new migration:\n${after.sql}`);
    }
    for (const line of describeRawObjectProblems(after)) process.stderr.write(`schema-diff: ${line}\n`);
    process.stderr.write(footer());
    return after.drift ? 1 : 0;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await session.close();
  }
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof UsageError) process.stderr.write(`schema-diff: ${err.message}\n\n${USAGE}\n`);
      else if (err instanceof Error) process.stderr.write(`schema-diff: error: ${process.env.SCHEMA_DIFF_DEBUG ? err.stack : err.message}\n`);
      else process.stderr.write(`schema-diff: error: ${String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
