// The dashboard page (`/dashboard`) and its JSON API (`GET /v1/admin/stats`), behind ADMIN_TOKEN.
// The page itself holds no data and no secret: it asks for the token and sends it as a Bearer
// header to the API. Without ADMIN_TOKEN both answer 404 (the page says how to turn it on).
import { Router } from "express";
import { z } from "zod";
import { PURPOSES } from "../challenges/sms-text.js";
import { presentsOneOf } from "../http/auth.js";
import { parseWith } from "../http/validation.js";
import { AppError } from "../shared/errors.js";
import { readTemplate, sendPage } from "../web/web.js";
import type { DashboardService } from "./dashboard-service.js";

const isoDate = z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time, e.g. 2026-11-22T10:00:00Z" }).transform((s) => new Date(s));

export const statsQuery = z.strictObject({
  from: isoDate.optional(),
  to: isoDate.optional(),
  app: z.string().regex(/^app_[0-9A-Za-z]{1,64}$/, "must be an app id").optional(),
  provider: z.string().regex(/^[a-z0-9-]{1,40}$/, "must be a provider name").optional(),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, "must be an ISO 3166 alpha-2 country code")
    .transform((s) => s.toUpperCase())
    .optional(),
  purpose: z.enum(PURPOSES as unknown as [string, ...string[]]).optional(),
});

/** The admin token's attempt limit (limits-service.ts): checked before the token, counted after a wrong one. */
export type AdminAttempts = {
  refuseSpentAdminClient(clientIp: string | undefined): Promise<void>;
  countWrongAdminToken(clientIp: string | undefined): Promise<void>;
};

export function dashboardRoutes(deps: { dashboard: DashboardService; adminTokens: readonly string[]; attempts: AdminAttempts }): Router {
  const router = Router();
  const enabled = deps.adminTokens.length > 0;
  const page = readTemplate(enabled ? "dashboard.html" : "dashboard-disabled.html");

  router.get("/dashboard", (_req, res) => {
    sendPage(res, page, enabled ? 200 : 404);
  });

  router.get("/v1/admin/stats", async (req, res) => {
    if (!enabled) throw new AppError("NOT_FOUND", "The dashboard is disabled: set ADMIN_TOKEN to enable it");
    res.setHeader("Cache-Control", "no-store");
    await deps.attempts.refuseSpentAdminClient(req.ip);
    if (!presentsOneOf(req, deps.adminTokens)) {
      await deps.attempts.countWrongAdminToken(req.ip);
      throw new AppError("UNAUTHENTICATED", "Use the header Authorization: Bearer <ADMIN_TOKEN>");
    }
    // Empty parameters (an unselected filter) count as absent.
    const raw = Object.fromEntries(Object.entries(req.query).filter(([, v]) => v !== ""));
    const query = parseWith(statsQuery, raw, "query");
    res.json(
      await deps.dashboard.stats({
        from: query.from,
        to: query.to,
        appId: query.app,
        provider: query.provider,
        country: query.country,
        purpose: query.purpose,
      }),
    );
  });

  return router;
}
