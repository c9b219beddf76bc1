// Dispatch of the command line, help, and how errors end: a usage error exits with 2, any other
// with 1, each as one clear message on stderr and never a stack trace.
import { ConfigError } from "../config.js";
import { DataDirInUseError } from "../db/embedded.js";
import { MigrationError } from "../db/migrate.js";
import { AppError } from "../shared/errors.js";
import { APPS_COMMANDS } from "./apps.js";
import { parseCommand, UsageError, type CliContext } from "./context.js";
import { helpFor } from "./help.js";
import { purgeCommand } from "./purge.js";
import { simulateSmsCommand } from "./simulate-sms.js";
import { simulateDeliveryReportCommand } from "./simulate-delivery-report.js";

const RUN = "npm run --silent cli --";

/**
 * The command-line option behind each field the app service names in its errors, so a refused
 * command speaks of `--low-assurance`, not of the service's `lowAssurance`.
 */
const OPTION_OF_FIELD: Record<string, string> = {
  name: "--name",
  number: "--number",
  provider: "--provider",
  country: "--country",
  channel: "--channel",
  codeLength: "--code-length",
  codeAlphabet: "--code-alphabet",
  codeTtlSeconds: "--ttl-seconds",
  maxAttempts: "--max-attempts",
  lowAssurance: "--low-assurance",
  lockoutSeconds: "--lockout-seconds",
  allowedCountries: "--allowed-countries",
  defaultLocale: "--locale",
  rateLimitPhonePerHour: "--rate-limit-phone-per-hour",
  rateLimitPublishableKeyPerMinute: "--rate-limit-publishable-key-per-minute",
  rateLimitSecretKeyPerMinute: "--rate-limit-secret-key-per-minute",
  callbackUrl: "--callback-url",
  callbackSecret: "--keep-secret",
};
// Only the camel-case names: "number" or "name" in a message are ordinary words.
const FIELD_WORDS = new RegExp(`\\b(${Object.keys(OPTION_OF_FIELD).filter((f) => /[A-Z]/.test(f)).join("|")})\\b`, "g");

/** A field path of the app service (`numbers[0].provider`) as the option that sets it. */
export function optionOfField(field: string): string {
  const base = /^numbers\[\d+\](?:\.(provider|country|channel))?$/.exec(field);
  if (base) return base[1] ? `--${base[1]}` : "--number";
  return OPTION_OF_FIELD[field] ?? field;
}

/** A message with the service's field names (`set lowAssurance`) replaced by options (`set --low-assurance`). */
export function withOptionNames(message: string): string {
  return message.replace(FIELD_WORDS, (word) => OPTION_OF_FIELD[word]!);
}
const isHelpFlag = (arg: string) => arg === "--help" || arg === "-h";

async function migrateCommand(ctx: CliContext, args: string[]): Promise<void> {
  parseCommand("migrate", args, {});
  const applied = await ctx.withRuntime(async (rt) => rt.appliedMigrations);
  ctx.stdout(applied.length === 0 ? "Database is up to date.\n" : `Applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}\n`).join("")}Database is up to date.\n`);
}

/** The command path that help is asked for: "apps set-policy", "purge", "" (everything). */
function helpPath(words: string[]): string {
  const [command, sub] = words;
  if (!command) return "";
  if (command === "apps" && sub !== undefined && !sub.startsWith("-")) return `apps ${sub}`;
  return command;
}

function showHelp(ctx: CliContext, path: string): void {
  const text = helpFor(path);
  if (text === undefined) {
    throw new UsageError(path.startsWith("apps ") ? `Unknown apps command "${path.slice(5)}"` : `Unknown command "${path}"`);
  }
  ctx.stdout(text);
}

async function dispatch(ctx: CliContext, argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || isHelpFlag(command)) {
    showHelp(ctx, "");
    return 0;
  }
  if (command === "help") {
    // `help apps create`; `help --help` is help's own help.
    const words = rest.filter((arg) => !isHelpFlag(arg));
    showHelp(ctx, words.length > 0 ? helpPath(words) : rest.length > 0 ? "help" : "");
    return 0;
  }
  // `<command> [<sub-command>] … --help`: that command's help, whatever else is given.
  if (rest.some(isHelpFlag)) {
    showHelp(ctx, helpPath(argv));
    return 0;
  }
  switch (command) {
    case "apps": {
      const [sub, ...args] = rest;
      if (sub === undefined) throw new UsageError(`apps needs a command: ${Object.keys(APPS_COMMANDS).join(", ")}`, "apps");
      const run = APPS_COMMANDS[sub];
      if (!run) throw new UsageError(`Unknown apps command "${sub}"`, "apps");
      await run(ctx, args);
      return 0;
    }
    case "migrate":
      await migrateCommand(ctx, rest);
      return 0;
    case "purge":
      await purgeCommand(ctx, rest);
      return 0;
    case "simulate-sms":
      return simulateSmsCommand(ctx, rest);
    case "simulate-delivery-report":
      return simulateDeliveryReportCommand(ctx, rest);
    default:
      throw new UsageError(`Unknown command "${command}"`);
  }
}

/** Runs one command line; resolves to the exit status. */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  try {
    return await dispatch(ctx, argv);
  } catch (error) {
    if (error instanceof UsageError) {
      const help = error.command ? `${RUN} ${error.command} --help` : `${RUN} help`;
      ctx.stderr(`Error: ${error.message}\nRun "${help}" for usage.\n`);
      return 2;
    }
    if (error instanceof AppError) {
      const fields = error.extra.errors?.map((e) => `\n  - ${optionOfField(e.field)}: ${withOptionNames(e.message)}`).join("") ?? "";
      ctx.stderr(`Error: ${error.message}${fields}\n`);
      return 1;
    }
    if (error instanceof ConfigError || error instanceof DataDirInUseError || error instanceof MigrationError) {
      ctx.stderr(`${error.message}\n`);
      return 1;
    }
    ctx.stderr(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
