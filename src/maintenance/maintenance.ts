// Periodic jobs of each instance: expiry sweeping (so an expired challenge's status change reaches
// waiters, callbacks and the dashboard even if nobody reads it) and the retention purge. Both are
// safe to run on every instance at once: each statement is a conditional update or a delete.
import type { ChallengeService } from "../challenges/challenge-service.js";
import type { Logger } from "../http/logger.js";
import type { Clock } from "../shared/clock.js";
import { PURGE_TABLES, type MaintenanceRepository, type PurgeCounts, type PurgeCutoffs, type PurgeTable } from "./maintenance-repository.js";

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

export type Retention = { challengeDays: number; inboundHours: number };

export type PurgeProgress = { table: PurgeTable; deleted: number; expected: number };

export type PurgeReport = { dryRun: boolean; cutoffs: ReturnType<typeof purgeCutoffs>; counts: PurgeCounts };

/** Rows deleted per statement by `purgeInBatches`. */
export const DEFAULT_PURGE_BATCH_SIZE = 1000;

export function purgeCutoffs(now: Date, retention: Retention) {
  const t = now.getTime();
  return {
    now,
    challengesBefore: new Date(t - retention.challengeDays * DAY_MS),
    // Providers retry for up to a day: dedup rows must outlive that (config enforces ≥ 48 h).
    inboundBefore: new Date(t - retention.inboundHours * HOUR_MS),
    partsBefore: new Date(t - DAY_MS),
    rateLimitsBefore: new Date(t - HOUR_MS),
    // Lock-outs last at most a day; a count untouched for two days no longer matters.
    failuresBefore: new Date(t - 2 * DAY_MS),
  };
}

export function createMaintenance(deps: {
  repository: MaintenanceRepository;
  /** Challenges and wrong-code counts are the challenges feature's to expire and delete. */
  challenges: Pick<ChallengeService, "expireOverdue" | "countPurgeable" | "purgeBatch">;
  clock: Clock;
  logger: Logger;
  retention: Retention;
  sweepEveryMs?: number;
  purgeEveryMs?: number;
}) {
  const { repository, clock, logger } = deps;
  const timers: NodeJS.Timeout[] = [];
  let running: Promise<unknown> = Promise.resolve();

  const sweep = async () => {
    const expired = await deps.challenges.expireOverdue(clock.now());
    if (expired > 0) logger.debug({ expired }, "expired overdue challenges");
    return expired;
  };
  const guarded = (job: () => Promise<unknown>, name: string) => () => {
    running = running.then(job).catch((err: unknown) => logger.warn({ err, job: name }, "maintenance job failed; will retry"));
  };

  const purgeBatch = (table: PurgeTable, cutoffs: PurgeCutoffs, limit: number): Promise<number> =>
    table === "challenges" || table === "phoneFailures"
      ? deps.challenges.purgeBatch(table, cutoffs, limit)
      : repository.purgeBatch(table, cutoffs, limit);

  /**
   * The retention purge on demand (the CLI's `purge`): counts what is due, then, unless `dryRun`,
   * deletes it table by table in batches, telling `onProgress` after each batch.
   */
  const purgeInBatches = async (options: { dryRun?: boolean; batchSize?: number; onProgress?: (p: PurgeProgress) => void } = {}): Promise<PurgeReport> => {
    const cutoffs = purgeCutoffs(clock.now(), deps.retention);
    const expected: PurgeCounts = { ...(await repository.countPurgeable(cutoffs)), ...(await deps.challenges.countPurgeable(cutoffs)) };
    if (options.dryRun) return { dryRun: true, cutoffs, counts: expected };
    const batchSize = options.batchSize ?? DEFAULT_PURGE_BATCH_SIZE;
    const counts: PurgeCounts = { challenges: 0, inboundMessages: 0, inboundParts: 0, rateLimits: 0, phoneFailures: 0 };
    for (const table of PURGE_TABLES) {
      if (expected[table] === 0) continue;
      for (;;) {
        const deleted = await purgeBatch(table, cutoffs, batchSize);
        counts[table] += deleted;
        if (deleted > 0) options.onProgress?.({ table, deleted: counts[table], expected: Math.max(expected[table], counts[table]) });
        if (deleted < batchSize) break;
      }
    }
    logger.info({ purged: counts }, "retention purge");
    return { dryRun: false, cutoffs, counts };
  };

  /** The hourly purge: in batches too, so no single statement outlives the statement deadline. */
  const purge = async (): Promise<PurgeCounts> => (await purgeInBatches()).counts;

  return {
    sweep,
    purge,
    purgeInBatches,
    start() {
      timers.push(setInterval(guarded(sweep, "sweep"), deps.sweepEveryMs ?? 5_000));
      timers.push(setInterval(guarded(purge, "purge"), deps.purgeEveryMs ?? HOUR_MS));
      for (const t of timers) t.unref();
      guarded(purge, "purge")();
    },
    async stop() {
      for (const t of timers.splice(0)) clearInterval(t);
      await running;
    },
  };
}

export type Maintenance = ReturnType<typeof createMaintenance>;
