// Builds the Express app from its dependencies. Never listens (see server.ts).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import express, { type Express } from "express";
import type { AppService } from "./apps/app-service.js";
import { challengeRoutes } from "./challenges/challenge-routes.js";
import { dashboardRoutes } from "./dashboard/dashboard-routes.js";
import type { DashboardService } from "./dashboard/dashboard-service.js";
import { demoRoutes } from "./demo/demo-routes.js";
import type { DemoService } from "./demo/demo-service.js";
import type { ChallengeService } from "./challenges/challenge-service.js";
import { presentsOneOf } from "./http/auth.js";
import { requestLogger, safePath, type Logger } from "./http/logger.js";
import { requestDeadline } from "./http/deadline.js";
import type { Metrics } from "./http/metrics.js";
import { problemHandler, sendProblem } from "./http/problem.js";
import { inboundRoutes } from "./inbound/inbound-routes.js";
import { openApiRoutes } from "./openapi/openapi-routes.js";
import type { InboundService } from "./inbound/inbound-service.js";
import type { LimitsService } from "./limits/limits-service.js";
import type { WaiterSlots } from "./realtime/waiter-slots.js";
import type { Clock } from "./shared/clock.js";
import { AppError } from "./shared/errors.js";
import { renderMarkdown } from "./web/markdown.js";
import { readTemplate, renderTemplate, sendPage, webAssets } from "./web/web.js";
import { deliveryReportRoutes } from "./outbound/delivery-report-routes.js";
import type { DeliveryReportService } from "./outbound/delivery-report-service.js";

const ERRORS_DOC = readFileSync(fileURLToPath(new URL("../docs/errors.md", import.meta.url)), "utf8");
/** docs/errors.md as a page, with an anchor per code: the target of every problem's `type`. */
const ERRORS_PAGE = (() => {
  const { html, title } = renderMarkdown(ERRORS_DOC);
  return renderTemplate(readTemplate("reference.html"), { title, sourcePath: "/docs/errors.md" }, { content: html });
})();

export type AppDeps = {
  logger: Logger;
  clock: Clock;
  apps: AppService;
  challenges: ChallengeService;
  inbound: InboundService;
  limits: LimitsService;
  publicBaseUrl: string;
  trustProxy: boolean | number | string[];
  /** Readiness: database reachable and migrations applied. */
  isReady: () => Promise<boolean>;
  /** Aborted when the service shuts down: long-polls answer, event streams end. */
  shutdown: AbortSignal;
  /** Caps on waiting long-polls and event streams, per challenge and per client. */
  waiters: WaiterSlots;
  metrics: Metrics;
  /** Bearer tokens that /metrics requires. */
  metricsTokens: readonly string[];
  /** Without tokens: /metrics public (true) or closed with a 404 (production without METRICS_PUBLIC). */
  metricsPublic?: boolean;
  /** Deadline of a request (long-polls get their wait on top; streams have none). */
  requestTimeoutMs: number;
  /** The demo page at `/` and its /demo/ routes; absent when DEMO_ENABLED is off. */
  demo?: DemoService;
  /** The dashboard (`/dashboard`, `/v1/admin/stats`); it answers 404 without admin tokens. */
  dashboard?: DashboardService;
  /** Bearer tokens of the dashboard (ADMIN_TOKEN). */
  adminTokens?: readonly string[];
  /** Delivery reports of the codes we send (`/v1/delivery-reports/:provider`). */
  deliveryReports?: DeliveryReportService;
};

export function buildApp(deps: AppDeps): Express {
  const app = express();
  const problems = problemHandler(deps.logger, deps.publicBaseUrl);
  app.disable("x-powered-by");
  app.set("trust proxy", deps.trustProxy);
  app.set("query parser", "simple");

  // One log line per request, with its id (X-Request-Id) and without query string, path token or headers.
  app.use(requestLogger(deps.logger));
  app.use(deps.metrics.middleware);
  app.use(
    requestDeadline({
      ms: deps.requestTimeoutMs,
      extraMs: (req) =>
        req.path.endsWith("/events") ? Number.POSITIVE_INFINITY : Math.min(30, Number(req.query.waitSeconds) || 0) * 1000,
      onTimeout: (req, res, error) => {
        deps.logger.warn({ requestId: (req as { id?: string }).id, path: safePath(req) }, "request deadline passed; answering 503");
        sendProblem(res, error, (req as { id?: string }).id, deps.publicBaseUrl);
      },
    }),
  );
  // Browsers that reached the service over https keep to https (a year); only when it is served so.
  const hsts = deps.publicBaseUrl.toLowerCase().startsWith("https://");
  app.use((_req, res, next) => {
    res.setHeader("X-Content-Type-Options", "nosniff");
    if (hsts) res.setHeader("Strict-Transport-Security", "max-age=31536000");
    next();
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    const ready = await deps.isReady().catch(() => false);
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "unavailable" });
  });

  app.get("/metrics", async (req, res) => {
    if (deps.metricsTokens.length === 0 && deps.metricsPublic === false) {
      throw new AppError("NOT_FOUND", "/metrics is closed in production: set METRICS_TOKEN, or METRICS_PUBLIC=true to serve it to anyone");
    }
    if (deps.metricsTokens.length > 0 && !presentsOneOf(req, deps.metricsTokens)) {
      throw new AppError("UNAUTHENTICATED", "/metrics needs Authorization: Bearer <METRICS_TOKEN>");
    }
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.get("/docs/errors", (_req, res) => {
    sendPage(res, ERRORS_PAGE);
  });
  app.get("/docs/errors.md", (_req, res) => {
    res.type("text/markdown; charset=utf-8").send(ERRORS_DOC);
  });
  // GET /openapi.json and the interactive reference at GET /docs (src/openapi/).
  app.use(openApiRoutes({ publicBaseUrl: deps.publicBaseUrl }));

  app.use(
    "/v1/challenges",
    challengeRoutes({ challenges: deps.challenges, apps: deps.apps, limits: deps.limits, shutdown: deps.shutdown, waiters: deps.waiters, answerError: problems }),
  );
  app.use("/v1/inbound", inboundRoutes({ inbound: deps.inbound, publicBaseUrl: deps.publicBaseUrl, clock: deps.clock }));
  if (deps.deliveryReports) {
    app.use("/v1/delivery-reports", deliveryReportRoutes({ reports: deps.deliveryReports, publicBaseUrl: deps.publicBaseUrl, clock: deps.clock }));
  }
  // Web pages (src/web/): the demo, the dashboard, and their CSS/JS files.
  app.use(webAssets());
  if (deps.demo) app.use(demoRoutes({ demo: deps.demo }));
  if (deps.dashboard) app.use(dashboardRoutes({ dashboard: deps.dashboard, adminTokens: deps.adminTokens ?? [], attempts: deps.limits }));

  app.use((req, _res, next) => {
    next(new AppError("NOT_FOUND", `No route ${req.method} ${req.path.slice(0, 100)}`));
  });
  app.use(problems);
  return app;
}
