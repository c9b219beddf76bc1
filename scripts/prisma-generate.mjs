#!/usr/bin/env node
// Generates the Prisma client into src/generated/prisma (kept out of git).
//
// The Prisma CLI insists that its native schema engine exists, and tries to download it when it
// does not; `generate` itself never runs the engine. Machines without access to Prisma's binary
// host (CI, air-gapped hosts) therefore point PRISMA_SCHEMA_ENGINE_BINARY at an existing file when
// the real engine is absent. Migrate commands are never run through this stand-in: migrations are
// applied by src/db/migrate.ts.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const env = { ...process.env, CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1" };

if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  const enginesDir = path.dirname(require.resolve("@prisma/engines/package.json"));
  const realEngine = readdirSync(enginesDir).find((f) => f.startsWith("schema-engine"));
  env.PRISMA_SCHEMA_ENGINE_BINARY = realEngine ? path.join(enginesDir, realEngine) : process.execPath;
}

const cli = require.resolve("prisma/build/index.js");
const result = spawnSync(process.execPath, [cli, "generate"], { env, stdio: ["ignore", "pipe", "pipe"] });
if (result.status !== 0) {
  process.stderr.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exit(result.status ?? 1);
}
if (!existsSync("src/generated/prisma/client.ts")) {
  process.stderr.write("prisma generate reported success but src/generated/prisma/client.ts is missing\n");
  process.exit(1);
}
