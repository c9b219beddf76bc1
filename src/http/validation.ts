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

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = "body"): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new AppError("VALIDATION_FAILED", `The ${what} has invalid or unknown fields`, {
      errors: result.error.issues.slice(0, 20).map((issue) => ({
        field: issue.path.map(String).join(".") || `(${what})`,
        message: issue.message,
      })),
    });
  }
  return result.data;
}
