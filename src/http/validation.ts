// Request validation helpers: content-type allow-lists and zod parsing into AppError.
import type { RequestHandler } from "express";
import type { z } from "zod";
import { AppError } from "../shared/errors.js";

export function requireContentType(...types: string[]): RequestHandler {
  return (req, _res, next) => {
    const hasBody = req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0";
    const chunked = req.headers["transfer-encoding"] !== undefined;
    if (!hasBody && !chunked) return next();
    if (!req.is(types)) {
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Send the body as ${types.join(" or ")}`);
    }
    next();
  };
}

/**
 * A missing field says "required", whatever its type: zod's own words for it ("Invalid option:
 * expected one of …", "expected string, received undefined") describe the schema, not the request.
 * Messages a schema sets itself take precedence over this map.
 */
const requestErrorMap = (issue: { input?: unknown; code: string }) =>
  issue.input === undefined && (issue.code === "invalid_type" || issue.code === "invalid_value" || issue.code === "invalid_union")
    ? "required"
    : undefined;

/**
 * Parses `value` or throws VALIDATION_FAILED with one field error per issue. `what` names the part
 * of the request (`body`, `Idempotency-Key header`); `field` names a single value (a query
 * parameter), whose errors then carry its name.
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = "body", field?: string): z.output<S> {
  const result = schema.safeParse(value, { error: requestErrorMap });
  if (!result.success) {
    const errors = result.error.issues.slice(0, 20).map((issue) => ({
      field: issue.path.map(String).join(".") || field || `(${what})`,
      message: issue.message,
    }));
    const detail = field && errors.length === 1 ? `The ${what} ${errors[0]!.message}` : `The ${what} has invalid or unknown fields`;
    throw new AppError("VALIDATION_FAILED", detail, { errors });
  }
  return result.data;
}
