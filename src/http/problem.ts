// Errors → RFC 9457 problem+json. One place decides status, code and what may be said.
import type { ErrorRequestHandler, Response } from "express";
import { z } from "zod";
import { AppError, ERROR_CODES, type ErrorCode, type FieldError } from "../shared/errors.js";
import type { Logger } from "./logger.js";
import { localizeProblem, negotiateLocale } from "./problem-i18n.js";

export const errorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

export const fieldErrorSchema = z.strictObject({
  field: z.string().meta({ description: "The field, as a dotted path (`context.amount`), or the part of the request in parentheses." }),
  message: z.string(),
}) satisfies z.ZodType<FieldError>;

/** The body of every error answer (RFC 9457 problem details); the OpenAPI document is generated from it. */
export const problemSchema = z.strictObject({
  type: z.string().meta({ description: "Link to this code's section of the error reference (`/docs/errors#<code>`)." }),
  title: z.string().meta({ description: "Short, stable summary of the code." }),
  status: z.int().min(400).max(599).meta({ description: "The HTTP status, repeated." }),
  detail: z
    .string()
    .meta({ description: "What went wrong with this request, for people (do not parse it), in the language of `Accept-Language` (`en`, `de` or `fr`; English otherwise)." }),
  code: errorCodeSchema,
  reason: z.string().optional().meta({ description: "Refines some codes (`INVALID_PHONE`, `PHONE_NOT_MOBILE`, `RATE_LIMITED`, `FORBIDDEN`)." }),
  errors: z.array(fieldErrorSchema).optional().meta({ description: "One entry per invalid field." }),
  attemptsRemaining: z
    .int()
    .min(0)
    .optional()
    .meta({ description: "`WRONG_CODE` only: wrong codes this phone may still type or text before its pending challenges fail (0: they failed)." }),
  requestId: z.string().optional().meta({ description: "The `X-Request-Id` of this answer, also in the service's logs." }),
});

export type Problem = z.output<typeof problemSchema>;

/** Where a code is documented: docs/errors.md, served by the service itself at /docs/errors. */
export function problemType(code: ErrorCode, publicBaseUrl = ""): string {
  return `${publicBaseUrl}/docs/errors#${code.toLowerCase().replace(/_/g, "-")}`;
}

// PostgreSQL SQLSTATE classes and Prisma/driver codes meaning "the database is not there right now".
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-4])|^57014$|^40001$|^40P01$/;
const UNAVAILABLE_PRISMA = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028", "P2034"]);
const UNAVAILABLE_MESSAGE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection terminated|connection timeout|timeout exceeded|Can't reach database|Transaction already closed|Transaction API error|terminating connection|the database system is (starting up|shutting down|in recovery)|Unable to start a transaction|Server has closed the connection/i;

/** True when an error means the database is unreachable, overloaded or too slow (so: retry later). */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 4) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown; meta?: unknown };
  if (e.name === "PrismaClientInitializationError") return true;
  if (typeof e.code === "string" && (UNAVAILABLE_PRISMA.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) return true;
  if (typeof e.message === "string" && UNAVAILABLE_MESSAGE.test(e.message)) return true;
  return isDatabaseUnavailable(e.cause, depth + 1) || isDatabaseUnavailable(e.meta, depth + 1);
}

/** Sends the problem; `detail` and field messages in the request's Accept-Language (en, de, fr). */
export function sendProblem(res: Response, error: AppError, requestId: string | undefined, publicBaseUrl: string): void {
  if (error.extra.retryAfterSeconds !== undefined) res.setHeader("Retry-After", String(Math.max(1, error.extra.retryAfterSeconds)));
  const locale = negotiateLocale(res.req?.headers["accept-language"]);
  const { detail, errors } = localizeProblem(
    { code: error.code, detail: error.detail ?? error.title, reason: error.extra.reason, lineType: error.extra.lineType, errors: error.extra.errors },
    locale,
  );
  res
    .status(error.status)
    .type("application/problem+json")
    .setHeader("Cache-Control", "no-store")
    .setHeader("Content-Language", locale)
    .vary("Accept-Language")
    .send(
      JSON.stringify({
        type: problemType(error.code, publicBaseUrl),
        title: error.title,
        status: error.status,
        detail,
        code: error.code,
        ...(error.extra.reason ? { reason: error.extra.reason } : {}),
        ...(errors ? { errors } : {}),
        ...(error.extra.attemptsRemaining !== undefined ? { attemptsRemaining: error.extra.attemptsRemaining } : {}),
        ...(requestId ? { requestId } : {}),
      } satisfies Problem),
    );
}

type BodyParserError = Error & { type?: string; status?: number; expose?: boolean };

/** Maps body-parser's and the router's errors onto our codes. Their messages may quote the URL
 *  (a path token!) or the body, so none is passed on. */
function fromBodyParser(error: BodyParserError): AppError | undefined {
  if (error instanceof URIError || (error.status === 400 && /^Failed to decode param/.test(error.message))) {
    return new AppError("INVALID_REQUEST", "The URL is not correctly percent-encoded");
  }
  switch (error.type) {
    case "entity.too.large":
      return new AppError("PAYLOAD_TOO_LARGE", "The request body is too large");
    case "entity.parse.failed":
      return new AppError("INVALID_JSON", "The body is not valid JSON");
    case "charset.unsupported":
    case "encoding.unsupported":
      return new AppError("UNSUPPORTED_MEDIA_TYPE", error.message);
    case "request.aborted":
    case "request.size.invalid":
    case "stream.encoding.set":
    case "stream.not.readable":
      return new AppError("INVALID_REQUEST", "The request body could not be read");
    default:
      return typeof error.status === "number" && error.status >= 400 && error.status < 500 && error.expose
        ? new AppError("INVALID_REQUEST", "The request could not be read")
        : undefined;
  }
}

export function problemHandler(logger: Logger, publicBaseUrl: string): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const requestId = (req as { id?: string }).id;
    if (res.headersSent) {
      // Answered already (a deadline's 503, or a stream): a late error only closes an unfinished response.
      if (!res.writableEnded) res.destroy();
      return;
    }
    const isWebhook = req.path.startsWith("/v1/inbound/") || req.path.startsWith("/v1/delivery-reports/");
    let appError: AppError;
    if (error instanceof AppError) {
      appError = error;
    } else if (fromBodyParser(error as BodyParserError)) {
      appError = fromBodyParser(error as BodyParserError)!;
    } else if (isDatabaseUnavailable(error) || isWebhook) {
      // Webhooks never answer 4xx or 500 for our own trouble: 503 makes every provider retry, so a
      // message that could not be stored is delivered again instead of lost.
      logger.warn({ err: error, requestId }, "database unavailable or unexpected error; answering 503");
      appError = new AppError("SERVICE_UNAVAILABLE", "The service is temporarily unavailable; retry later", { retryAfterSeconds: 5 });
    } else {
      logger.error({ err: error, requestId }, "unexpected error");
      appError = new AppError("INTERNAL", "Internal error");
    }
    sendProblem(res, appError, requestId, publicBaseUrl);
  };
}

export const ALL_ERROR_CODES = Object.keys(ERROR_CODES) as ErrorCode[];
