// The command line: `npm run --silent cli -- <command> …`. Every command that touches the database
// applies pending migrations first, so it works on a new, empty database. The commands live in
// src/cli/ (run.ts dispatches); this file wires them to the process.
import { loadConfigFromEnv, type Config } from "./config.js";
import { systemClock } from "./shared/clock.js";
import type { CliContext } from "./cli/context.js";
import { runCli } from "./cli/run.js";

let config: Config | undefined;
const loadConfig = () => (config ??= loadConfigFromEnv());

const context: CliContext = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isStderrTty: process.stderr.isTTY === true,
  config: loadConfig,
  async withRuntime(fn) {
    const cfg = loadConfig();
    // Loaded here, not at the top: help and usage errors need no database (and answer at once).
    const [{ pino }, { createLogger }, { createRuntime }] = await Promise.all([
      import("pino"),
      import("./http/logger.js"),
      import("./runtime.js"),
    ]);
    // Logs go to stderr: stdout carries the command's answer (--json must stay parseable).
    const runtime = await createRuntime(cfg, {
      logger: createLogger(cfg.logLevel === "info" ? "warn" : cfg.logLevel, pino.destination(2)),
      collectDefaultMetrics: false,
    });
    try {
      return await fn(runtime);
    } finally {
      await runtime.close();
    }
  },
  clock: systemClock,
  fetch: (input, init) => fetch(input, init),
};

process.exitCode = await runCli(process.argv.slice(2), context);
