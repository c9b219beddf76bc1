// Starts the service: configuration, runtime, HTTP server, graceful shutdown.
import { createServer, type Server } from "node:http";
import { ConfigError, loadConfigFromEnv } from "./config.js";
import { DataDirInUseError } from "./db/embedded.js";
import { MigrationError } from "./db/migrate.js";
import { createLogger } from "./http/logger.js";
import { prettyDestination } from "./http/pretty-log.js";
import { describeUnconfigured } from "./providers/unconfigured.js";
import { withStableShapes } from "./http/stable-shapes.js";
import { providerStartupNotices } from "./providers/registry.js";
import { createRuntime } from "./runtime.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfigFromEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // People at a terminal read lines; everything else (journald, files, collectors) gets JSON.
  const logger = createLogger(config.logLevel, process.stdout.isTTY ? prettyDestination(process.stdout) : undefined);
  let runtime;
  try {
    runtime = await createRuntime(config, { logger });
  } catch (error) {
    if (error instanceof DataDirInUseError || error instanceof MigrationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // Before listening, so that a ready service has said it.
  for (const entry of await runtime.unconfiguredProviders()) {
    logger.warn({ provider: entry.provider, variable: entry.variable, apps: entry.apps.length }, describeUnconfigured(entry));
  }
  const app = runtime.buildHttpApp();

  const server: Server = createServer(withStableShapes(app)).listen(config.port, config.host);
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  logger.info(
    { mode: runtime.database.kind === "pglite" ? `embedded (${config.dataDir})` : "postgresql", port, publicBaseUrl: config.publicBaseUrl },
    `reverse-otp listening on http://${config.host}:${port}`,
  );
  for (const notice of providerStartupNotices(config.providers)) logger.warn(notice);
  if (runtime.providersWithoutSecret.length > 0) {
    logger.info({ providers: runtime.providersWithoutSecret }, "providers without a secret refuse every delivery (answered as forged)");
  }
  // Signals are handled from the moment the server listens: background start-up (LISTEN on a busy
  // embedded database, the demo app) can take a while, and a SIGTERM then must still stop cleanly.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing in-flight requests");
    runtime.beginShutdown();
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    force.unref();
    server.close(async () => {
      // Background start-up (below) finishes first: closing the database under it would fail it.
      await startup.catch(() => undefined);
      await runtime.close();
      logger.info("stopped");
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  // Background work and the demo app, after the server listens (the health check answers meanwhile).
  const startup = (async () => {
    await runtime.startBackground();
    let demoAppId: string | undefined;
    if (runtime.demo) {
      try {
        demoAppId = await runtime.demo.ensure();
        logger.info(`demo page: http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}/ (DEMO_ENABLED)`);
      } catch (error) {
        logger.warn({ err: error }, "the demo is unavailable");
      }
    }
    const apps = (await runtime.apps.list()).filter((app) => app.id !== demoAppId);
    if (apps.length === 0) {
      logger.info(
        runtime.database.kind === "pglite"
          ? "No app yet. Embedded mode allows one process per data folder: stop the service (Ctrl-C), run\n" +
              "  npm run --silent cli -- apps create --name \"My app\" --number +447400000100 --json\n" +
              "and start it again. The command prints the app's secret and publishable keys (shown once)."
          : "No app yet. Create one (the service may keep running):\n" +
              "  npm run --silent cli -- apps create --name \"My app\" --number +447400000100 --json\n" +
              "The command prints the app's secret and publishable keys (shown once).",
      );
    }
  })();
  try {
    await startup;
  } catch (error) {
    // A start-up step that failed because a shutdown began meanwhile is not a failed start.
    if (!stopping) throw error;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`reverse-otp failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
