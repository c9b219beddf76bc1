// HTTP routes of /v1/inbound/:provider. The raw bytes and the public URL are captured before any
// parsing, because signatures cover them.
import express, { Router, type Request, type RequestHandler, type Response } from "express";
import { setLogPath } from "../http/logger.js";
import type { Clock } from "../shared/clock.js";
import type { InboundRequest } from "../providers/provider.js";
import type { InboundService } from "./inbound-service.js";

/** Providers' payloads are small; Infobip batches stay well below this. */
const MAX_WEBHOOK_BYTES = 256 * 1024;

function headersOf(req: Request): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

export function inboundRoutes(deps: { inbound: InboundService; publicBaseUrl: string; clock: Clock }): Router {
  const router = Router();
  const raw = express.raw({ type: () => true, limit: MAX_WEBHOOK_BYTES });

  const handle = async (req: Request, res: Response) => {
    const provider = String(req.params.provider ?? "").toLowerCase();
    const request: InboundRequest = {
      // Express answers HEAD with the GET route: a HEAD is a GET whose body is dropped.
      method: req.method === "POST" ? "POST" : "GET",
      // Signatures that cover the URL are checked against the configured public URL, never `Host`.
      publicUrl: `${deps.publicBaseUrl}${req.originalUrl}`,
      headers: headersOf(req),
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      ...(req.params.token !== undefined ? { pathToken: String(req.params.token) } : {}),
      receivedAt: deps.clock.now(),
    };
    const { answer } = await deps.inbound.handle(provider, request);
    res.status(answer.status);
    if (answer.contentType) res.type(answer.contentType);
    res.send(answer.body ?? "");
  };

  // Log lines show the route, not the path: `/v1/inbound/<provider>/[token]` however the path was
  // spelled (http/logger.ts). Set first, so that requests refused by the body parser are covered too.
  const logPath: RequestHandler = (req, _res, next) => {
    const provider = String(req.params.provider ?? "").toLowerCase();
    const name = /^[a-z0-9-]{1,24}$/.test(provider) ? provider : "[invalid]";
    setLogPath(req, `/v1/inbound/${name}${req.params.token !== undefined ? "/[token]" : ""}`);
    next();
  };
  router.post("/:provider", logPath, raw, handle);
  router.get("/:provider", logPath, handle);
  router.post("/:provider/:token", logPath, raw, handle);
  router.get("/:provider/:token", logPath, handle);
  return router;
}
