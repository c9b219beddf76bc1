// `purge`: the retention purge, now, in batches with progress; `--dry-run` only counts.
import { PURGE_TABLES, type PurgeTable } from "../maintenance/maintenance-repository.js";
import { intOption, output, parseCommand, UsageError, type CliContext } from "./context.js";
import { createProgress } from "./progress.js";

const LABELS: Record<PurgeTable, string> = {
  inboundMessages: "inbound messages",
  challenges: "challenges",
  inboundParts: "multi-part SMS parts",
  rateLimits: "rate-limit counters",
  phoneFailures: "wrong-code counts",
};

export async function purgeCommand(ctx: CliContext, args: string[]): Promise<void> {
  const command = "purge";
  const { values } = parseCommand(command, args, { "dry-run": { type: "boolean" }, "batch-size": { type: "string" }, json: { type: "boolean" } });
  const batchSize = intOption(values["batch-size"], "batch-size", command);
  if (batchSize !== undefined && (batchSize < 1 || batchSize > 100_000)) throw new UsageError("--batch-size must be from 1 to 100000", command);
  const dryRun = values["dry-run"] ?? false;
  const progress = createProgress(ctx);

  const report = await ctx.withRuntime(async (rt) => {
    const { retention } = rt.config;
    ctx.stderr(
      `${dryRun ? "Counting" : "Purging"} challenges older than ${retention.challengeDays} days and inbound messages older than ${retention.inboundHours} hours…\n`,
    );
    return rt.maintenance.purgeInBatches({
      dryRun,
      ...(batchSize !== undefined ? { batchSize } : {}),
      onProgress: (p) => progress.update(`Deleting ${LABELS[p.table]}`, p.deleted, p.expected),
    });
  });
  progress.end();

  const width = Math.max(...PURGE_TABLES.map((t) => LABELS[t].length));
  const lines = PURGE_TABLES.map((t) => `  ${LABELS[t].padEnd(width)}  ${report.counts[t]}`);
  output(
    ctx,
    values.json,
    {
      dryRun,
      cutoffs: Object.fromEntries(Object.entries(report.cutoffs).map(([k, v]) => [k, v.toISOString()])),
      counts: report.counts,
    },
    `${dryRun ? "Would delete (dry run, nothing deleted):" : "Deleted:"}\n${lines.join("\n")}\n` +
      `(challenges created before ${report.cutoffs.challengesBefore.toISOString()}, with their callback events; ` +
      `inbound messages before ${report.cutoffs.inboundBefore.toISOString()})`,
  );
}
