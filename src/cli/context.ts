// What every command gets: where to write, the configuration, and a runtime on the configured
// database. The entry point (src/cli.ts) wires the process's; tests wire their own, so commands run
// in-process against a test database.
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Config } from "../config.js";
import type { Runtime } from "../runtime.js";
import type { Clock } from "../shared/clock.js";

export type CliContext = {
  /** The command's answer (keep it parseable with --json). */
  stdout: (text: string) => void;
  /** Progress, warnings and errors. */
  stderr: (text: string) => void;
  /** Whether stderr is a terminal: progress rewrites one line there, and prints whole lines elsewhere. */
  isStderrTty: boolean;
  /** The configuration, parsed when a command first needs it (so --help works with a bad environment). */
  config: () => Config;
  /** Runs `fn` on a runtime (database opened and migrated), closed afterwards. */
  withRuntime: <T>(fn: (runtime: Runtime) => Promise<T>) => Promise<T>;
  clock: Clock;
  fetch: typeof fetch;
};

/** Bad use of the command line: reported with a pointer to --help, exit status 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose help to point to, e.g. "apps set-policy". */
    readonly command?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses a command's arguments strictly: unknown options and unexpected positionals are usage
 * errors naming the command. `positionals` names the expected ones, in order (all required).
 */
export function parseCommand<O extends Options>(command: string, args: string[], options: O, positionals: readonly string[] = []) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const e = error as Error & { code?: string };
    const option = /'(-[^' ]+)/.exec(e.message)?.[1];
    if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) throw new UsageError(`Unknown option ${option} for "${command}"`, command);
    throw new UsageError(e.message, command);
  }
  const missing = positionals.slice(parsed.positionals.length);
  if (missing.length > 0) throw new UsageError(`${command} needs ${missing.map((p) => `<${p}>`).join(" ")}`, command);
  const extra = parsed.positionals.slice(positionals.length);
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}" for "${command}"`, command);
  return { values: parsed.values, positionals: parsed.positionals };
}

/** A whole number option (undefined when not given). */
export function intOption(value: string | undefined, name: string, command: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number`, command);
  return Number(value);
}

/** Writes `value` as JSON with --json, `text` otherwise. */
export function output(ctx: CliContext, json: boolean | undefined, value: unknown, text: string): void {
  ctx.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}
