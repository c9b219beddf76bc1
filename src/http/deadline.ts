// A deadline on every request: when the database hangs (frozen, overloaded), the client gets a 503
// with Retry-After in time instead of waiting — providers retry, apps back off. Whatever the
// handler does later is discarded (a webhook that then commits is a duplicate on the retry, and
// dedup makes that harmless: nothing is acknowledged before it is committed).
import type { RequestHandler } from "express";
import { AppError } from "../shared/errors.js";

export function requestDeadline(options: {
  ms: number;
  /** Extra time a request asks for (long-polls); Infinity for streams. */
  extraMs?: (req: Parameters<RequestHandler>[0]) => number;
  onTimeout: (req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1], error: AppError) => void;
}): RequestHandler {
  return (req, res, next) => {
    const extra = options.extraMs?.(req) ?? 0;
    if (!Number.isFinite(extra)) return next();
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      options.onTimeout(
        req,
        res,
        new AppError("SERVICE_UNAVAILABLE", "The request took too long; retry later", { retryAfterSeconds: 5 }),
      );
    }, options.ms + extra);
    const clear = () => clearTimeout(timer);
    res.on("finish", clear);
    res.on("close", clear);
    next();
  };
}
