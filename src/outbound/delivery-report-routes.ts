// HTTP routes of /v1/delivery-reports/:provider (and /:provider/:token for the unsigned providers).
// The raw bytes and the public URL are captured before any parsing, because signatures cover them.
import express, { Router, type NextFunction, type Request, type Response } from "express";
import { setLogPath } from "../http/logger.js";
import type { InboundRequest } from "../providers/provider.js";
import type { Clock } from "../shared/clock.js";
import type { DeliveryReportService } from "./delivery-report-service.js";

/** Infobip batches up to 100 reports (about 60 KB); far below this. */
const MAX_REPORT_BYTES = 256 * 1024;

export function deliveryReportRoutes(deps: { reports: DeliveryReportService; publicBaseUrl: string; clock: Clock }): Router {
  const router = Router();
  const raw = express.raw({ type: () => true, limit: MAX_REPORT_BYTES });
  const handle = async (req: Request, res: Response) => {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
    const request: InboundRequest = {
      method: req.method === "GET" ? "GET" : "POST",
      publicUrl: `${deps.publicBaseUrl}${req.originalUrl}`,
      headers,
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      ...(req.params.token !== undefined ? { pathToken: String(req.params.token) } : {}),
      receivedAt: deps.clock.now(),
    };
    const { status } = await deps.reports.handle(String(req.params.provider ?? "").toLowerCase(), request);
    res.status(status).type("text/plain").send("");
  };
  // Log lines name the provider, never the path token (set by the route, whatever the path's spelling).
  const logPath = (req: Request, _res: Response, next: NextFunction) => {
    const name = /^[a-z0-9-]{1,24}$/i.test(String(req.params.provider)) ? String(req.params.provider).toLowerCase() : "[invalid]";
    setLogPath(req, `/v1/delivery-reports/${name}${req.params.token !== undefined ? "/[token]" : ""}`);
    next();
  };
  router.post("/:provider", logPath, raw, handle);
  router.get("/:provider", logPath, handle);
  router.post("/:provider/:token", logPath, raw, handle);
  router.get("/:provider/:token", logPath, handle);
  return router;
}
