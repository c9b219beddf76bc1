// The composition root: opens the database (PostgreSQL, or embedded PGlite in DATA_DIR), applies
// migrations, and wires every service from explicit dependencies. Used by the server and the CLI.
import path from "node:path";
import { buildApp } from "./app.js";
import { APP_CHANNEL, createAppCache } from "./apps/app-cache.js";
import { createAppDirectory } from "./apps/app-directory.js";
import { createAppRepository } from "./apps/app-repository.js";
import { createAppService } from "./apps/app-service.js";
import { createCallbackDispatcher } from "./callbacks/callback-dispatcher.js";
import { createCallbackRepository } from "./callbacks/callback-repository.js";
import { OUTBOX_CHANNEL, STATUS_CHANNEL } from "./challenges/challenge-notices.js";
import { createChallengeRepository } from "./challenges/challenge-repository.js";
import { createChallengeService } from "./challenges/challenge-service.js";
import { createCodeGenerator } from "./challenges/code-policy.js";
import { createVerification } from "./challenges/verification.js";
import type { Config } from "./config.js";
import { createDashboardRepository } from "./dashboard/dashboard-repository.js";
import { createDashboardService } from "./dashboard/dashboard-service.js";
import { openPglite, openPostgres, type Database } from "./db/database.js";
import { loadOrCreateSecrets, lockDataDir } from "./db/embedded.js";
import { pendingMigrations, readMigrations } from "./db/migrate.js";
import type { Logger } from "./http/logger.js";
import { createDemoOutbox } from "./demo/demo-outbox.js";
import { createDemoService, DEMO_NUMBER } from "./demo/demo-service.js";
import { createInboundRepository } from "./inbound/inbound-repository.js";
import { createInboundService } from "./inbound/inbound-service.js";
import { createMisconfigurationReporter, misconfigurationOfRefusal } from "./inbound/misconfiguration.js";
import { createMetrics } from "./http/metrics.js";
import { createMaintenance } from "./maintenance/maintenance.js";
import { createMaintenanceRepository } from "./maintenance/maintenance-repository.js";
import { createLimitsService } from "./limits/limits-service.js";
import { createRateLimits, createRateLimitStore } from "./limits/rate-limit-repository.js";
import { createStatusBus } from "./realtime/status-bus.js";
import { createWaiterSlots } from "./realtime/waiter-slots.js";
import { createProviderRegistry, PROVIDER_NAMES } from "./providers/registry.js";
import { configuredProviders, unconfiguredProviders } from "./providers/unconfigured.js";
import { createOutboundFeature } from "./outbound/outbound-feature.js";
import type { SenderRegistry } from "./outbound/sender-registry.js";
import { systemClock, type Clock } from "./shared/clock.js";
import { createHasher, createSealer, hmacSha256Hex } from "./shared/crypto.js";

export type Runtime = Awaited<ReturnType<typeof createRuntime>>;

export type RuntimeOptions = {
  logger: Logger;
  clock?: Clock;
  /** An already open database (tests); otherwise opened from the configuration. */
  database?: Database;
  /** Process metrics (CPU, memory, event loop); off in tests that build several runtimes. */
  collectDefaultMetrics?: boolean;
  /** How often rate-limit counts are written (default every second); tests that count statements stretch it. */
  rateLimitFlushIntervalMs?: number;
};

/** Opens the database named by the configuration; in embedded mode also locks DATA_DIR and loads its secrets. */
async function openConfiguredDatabase(config: Config, logger: Logger) {
  if (config.databaseUrl) {
    const database = openPostgres({
      url: config.databaseUrl,
      poolSize: config.db.poolSize,
      connectTimeoutMs: config.db.connectTimeoutMs,
      statementTimeoutMs: config.db.statementTimeoutMs,
      onPoolError: (err) => logger.warn({ err }, "database connection error"),
    });
    return { database, hashKeys: config.hashKeys, genericSecrets: config.genericWebhookSecrets, release: () => undefined, createdSecrets: false };
  }
  const release = lockDataDir(config.dataDir);
  try {
    const { secrets, created } = loadOrCreateSecrets(config.dataDir);
    const database = await openPglite(path.join(config.dataDir, "pgdata"));
    return {
      database,
      hashKeys: config.hashKeys ?? [secrets.hashKey],
      genericSecrets: config.genericWebhookSecrets ?? [secrets.genericWebhookSecret],
      release,
      createdSecrets: created,
    };
  } catch (error) {
    release();
    throw error;
  }
}

export async function createRuntime(config: Config, options: RuntimeOptions) {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const opened = options.database
    ? {
        database: options.database,
        hashKeys: config.hashKeys,
        genericSecrets: config.genericWebhookSecrets,
        release: () => undefined,
        createdSecrets: false,
      }
    : await openConfiguredDatabase(config, logger);
  const { database } = opened;
  let appliedMigrations: string[] = [];
  try {
    const report = await database.migrate();
    appliedMigrations = report.applied;
    if (report.applied.length > 0) logger.info({ applied: report.applied }, "database migrated");
    for (const warning of report.warnings) logger.warn(warning);
  } catch (error) {
    await database.close();
    opened.release();
    throw error;
  }
  if (!opened.hashKeys || opened.hashKeys.length === 0) throw new Error("HASH_KEY is required");

  const hasher = createHasher(opened.hashKeys);
  const metrics = createMetrics({ collectDefaults: options.collectDefaultMetrics ?? true });
  const providers = createProviderRegistry({
    ...config.providers,
    genericWebhookSecrets: opened.genericSecrets ?? [],
    messageIdKey: hmacSha256Hex(opened.hashKeys[0]!, "provider-message-id"),
  });
  // Providers without a secret answer like configured ones (registry.ts); logs and metrics tell the operator.
  const configured = configuredProviders(config.providers, opened.genericSecrets ?? []);
  const unconfigured = new Set<string>(PROVIDER_NAMES.filter((name) => !configured[name]));
  const secretSealer = createSealer(opened.hashKeys, "callback-secret");
  const appRepository = createAppRepository(database.prisma, { secretSealer });
  // Keys and app settings cached in this instance, dropped when any instance changes them (NOTIFY).
  const appCache = createAppCache(appRepository);
  const unlistenApps = await database.listen(APP_CHANNEL, (appId) => appCache.invalidate(appId), () => appCache.clear());
  // What other features may read of apps and numbers (the repository stays the app service's).
  const appDirectory = createAppDirectory(appRepository, appCache);
  const apps = createAppService({
    repository: appRepository,
    keys: appCache,
    onChanged: (appId) => appCache.invalidate(appId),
    clock,
    providers: [...providers.keys()],
    defaults: config.defaults,
    allowPrivateCallbacks: config.callbacksAllowPrivateNetworks,
  });
  // Listens on STATUS_CHANNEL only while someone waits (src/realtime/status-bus.ts).
  const bus = createStatusBus({ listen: (onChange, onLost) => database.listen(STATUS_CHANNEL, onChange, onLost) });
  const waiters = createWaiterSlots({
    perChallenge: config.waiters.perChallenge,
    perClient: config.waiters.perClient,
    onRefused: (limit) => {
      metrics.rateLimited.inc({ limit });
      logger.info({ limit }, "rate limited");
    },
  });
  const shutdown = new AbortController();
  // Counted locally and written in batches (rate-limit-repository.ts); close() writes the rest.
  const rateLimits = createRateLimits(createRateLimitStore(database.statement), hasher, (kind) => {
    metrics.rateLimited.inc({ limit: kind });
    logger.info({ limit: kind }, "rate limited");
  }, options.rateLimitFlushIntervalMs === undefined ? {} : { flushIntervalMs: options.rateLimitFlushIntervalMs });
  const limits = createLimitsService({
    rateLimits,
    apps: appDirectory,
    defaults: config.rateLimits,
    adminTokenMaxFailures: config.adminTokenMaxFailures,
  });
  // Sending codes (the classic direction): the outbox, its dispatcher, senders, delivery reports.
  // In demo mode the demo number's SMS are kept for the demo page while no gateway can send them.
  const demoOutbox = config.demoEnabled ? createDemoOutbox(DEMO_NUMBER, () => clock.now()) : undefined;
  const outbound = createOutboundFeature({
    ...(demoOutbox ? { wrapSenders: (senders: SenderRegistry) => demoOutbox.wrap(senders) } : {}),
    config,
    database,
    hashKeys: opened.hashKeys,
    hasher,
    genericWebhookSecrets: opened.genericSecrets ?? [],
    providers,
    registry: metrics.registry,
    clock,
    logger,
  });
  // The only writer of challenges and phone_failures; the verification and the challenge service
  // share it.
  const challengeRepository = createChallengeRepository(database.prisma, database.statement, database.shortTransaction);
  const verification = createVerification({ challenges: challengeRepository, hasher });
  const challenges = createChallengeService({
    verification,
    limitCodeAttempt: (subjects) => limits.checkCodeAttempt(subjects),
    sending: { outbox: outbound.outbox, guard: outbound.guard },
    phoneSealer: createSealer(opened.hashKeys, "challenge-phone"),
    bus,
    phonePerHour: config.rateLimits.phonePerHour,
    challenges: challengeRepository,
    apps: appDirectory,
    hasher,
    derivationKey: opened.hashKeys[0]!,
    generateCode: createCodeGenerator(),
    clock,
    onCreated: (purpose) => metrics.challengesCreated.inc({ purpose }),
    onRefused: (code) => {
      if (code === "RATE_LIMITED") metrics.rateLimited.inc({ limit: "phone" });
    },
  });
  const misconfigurations = createMisconfigurationReporter({
    clock,
    logger,
    count: (provider, reason) => metrics.misconfiguredDeliveries.inc({ provider, reason }),
  });
  const inbound = createInboundService({
    inbound: createInboundRepository(database.prisma),
    numbers: appDirectory,
    verification,
    hasher,
    sealer: createSealer(opened.hashKeys, "inbound-part-text"),
    clock,
    providers,
    onOutcome: (provider, result) => {
      metrics.inboundMessages.inc({ provider, outcome: result.outcome });
      logger.info({ provider, outcome: result.outcome }, "inbound message");
    },
    onRejected: (provider, refusedAs, detail) => {
      const notConfigured = unconfigured.has(provider) && refusedAs.startsWith("WEBHOOK_");
      const code = notConfigured ? "WEBHOOK_NOT_CONFIGURED" : refusedAs;
      const reason = notConfigured ? `no secret is configured for ${provider} (answered as ${refusedAs})` : detail;
      metrics.webhookRejections.inc({ provider, reason: code });
      logger.warn({ provider, code, reason }, "webhook refused");
      const misconfiguration = misconfigurationOfRefusal(code);
      if (misconfiguration) misconfigurations.report({ provider, reason: misconfiguration, detail: reason });
    },
    onMisconfigured: (event) => misconfigurations.report(event),
  });
  // Signed callbacks from the outbox; sending starts with startBackground() (the server's, not the CLI's).
  const callbackRepository = createCallbackRepository(database.prisma, { secretSealer });
  const callbacks = createCallbackDispatcher({
    repository: callbackRepository,
    onDelivery: (report) => metrics.callbackDeliveries.inc({ result: report.outcome }),
    clock,
    logger,
    allowPrivateNetworks: config.callbacksAllowPrivateNetworks,
    fetchTimeoutMs: 10_000,
    listen: (wake) => database.listen(OUTBOX_CHANNEL, wake, wake),
  });
  // The demo app is set up on first use (the server asks at start-up), not here: the CLI builds
  // runtimes too, and must not create apps or keys as a side effect.
  const demo = config.demoEnabled
    ? createDemoService({
        apps,
        numbers: appDirectory,
        challenges,
        inbound,
        limits,
        deliveries: outbound.repository,
        ...(demoOutbox ? { outbox: demoOutbox } : {}),
        genericWebhookSecrets: opened.genericSecrets ?? [],
        hashKey: opened.hashKeys[0]!,
        publicBaseUrl: config.publicBaseUrl,
        clock,
        logger,
      })
    : undefined;
  const dashboard = createDashboardService({ repository: createDashboardRepository(database.prisma), apps: appDirectory, clock });
  const maintenance = createMaintenance({
    repository: createMaintenanceRepository(database.prisma),
    challenges,
    clock,
    logger,
    retention: config.retention,
  });
  metrics.setCollectors({ waiters: () => bus.waiterCount(), callbackQueueDepth: () => callbackRepository.countUndelivered() });
  const localMigrations = await readMigrations();
  /** Ready: the database answers and every local migration is applied. */
  const isReady = async () =>
    database.withConnection(async (sql) => (await pendingMigrations(sql, localMigrations)).length === 0);

  return {
    config,
    logger,
    clock,
    database,
    hasher,
    providers,
    /** Providers without a secret: they refuse every delivery (the server names them at start-up). */
    providersWithoutSecret: [...unconfigured],
    genericWebhookSecrets: opened.genericSecrets ?? [],
    createdSecrets: opened.createdSecrets,
    /** Providers that the apps' numbers use (all apps, or the given ones) but that have no secret: they refuse every delivery. */
    unconfiguredProviders: async (of?: Parameters<typeof unconfiguredProviders>[0]) =>
      unconfiguredProviders(of ?? (await apps.list()), configured),
    /** The migrations this start-up applied (the CLI's `migrate` reports them). */
    appliedMigrations,
    apps,
    /** Apps and numbers as other features read them. */
    appDirectory,
    challenges,
    inbound,
    isReady,
    /** The HTTP app on this runtime (it never listens; the caller does). */
    buildHttpApp: () =>
      buildApp({
        logger,
        clock,
        apps,
        challenges,
        inbound,
        limits,
        publicBaseUrl: config.publicBaseUrl,
        trustProxy: config.trustProxy,
        isReady,
        shutdown: shutdown.signal,
        waiters,
        metrics,
        metricsTokens: config.metricsTokens,
        metricsPublic: config.metricsPublic,
        requestTimeoutMs: config.requestTimeoutMs,
        ...(demo ? { demo } : {}),
        dashboard,
        adminTokens: config.adminTokens,
        deliveryReports: outbound.deliveryReports,
      }),
    /** The demo (DEMO_ENABLED), or undefined. */
    demo,
    metrics,
    maintenance,
    bus,
    /** Writes the rate-limit counts this instance holds (done every second anyway). */
    flushRateLimits: () => rateLimits.flush(),
    /** Ends long-polls and event streams (they answer with the current state). */
    beginShutdown: () => shutdown.abort(),
    callbacks,
    /** Sending codes: outbox (enqueue), senders, dispatcher, delivery reports, money and abuse rules. */
    outbound,
    /** Background work of a serving instance: sending callbacks, expiry sweeping, retention. */
    startBackground: async () => {
      maintenance.start();
      await callbacks.start();
      await outbound.dispatcher.start();
    },
    async close() {
      shutdown.abort();
      await callbacks.stop().catch(() => undefined);
      await outbound.close().catch(() => undefined);
      await maintenance.stop().catch(() => undefined);
      await rateLimits.close().catch(() => undefined);
      await bus.close().catch(() => undefined);
      await unlistenApps().catch(() => undefined);
      await database.close();
      opened.release();
    },
  };
}
