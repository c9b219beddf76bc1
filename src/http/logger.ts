// Logging: pino, with numbers, codes, keys, tokens and signatures kept out of the output (error
// codes stay readable). Request logs carry the path without its query string (GET webhooks put
// numbers and texts there) and with path tokens of unsigned providers masked, by route.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pino, type Level, type Logger, type DestinationStream } from "pino";
import { ERROR_CODES } from "../shared/errors.js";

export type { Logger };

const MAX_LOGGED_PATH_CHARS = 200;

/**
 * Paths that routes with a secret in them (the path token of unsigned providers) set for their
 * requests, secret left out (`setLogPath`). Routes decide, not a pattern over the raw path: the
 * router matches `/V1/INBOUND/…`, absolute-form targets (`POST http://host/v1/inbound/…`), trailing
 * slashes and %-escapes alike, so a pattern would have to know every spelling the router accepts.
 */
const routeLogPaths = new WeakMap<object, string>();

/** The path to log for `req` instead of its own (set by a route whose path holds a secret). */
export function setLogPath(req: object, path: string): void {
  routeLogPaths.set(req, path.slice(0, MAX_LOGGED_PATH_CHARS));
}

const decodeSegment = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/**
 * The path of a request that no secret-holding route claimed (404s, and requests refused before
 * routing): without query string, scheme and host; `//` collapsed; and, as a second line of defence,
 * everything after `/v1/inbound/<provider>/` (and `/v1/delivery-reports/<provider>/`) replaced by `[token]` however it is spelled (case,
 * %-escapes, empty segments).
 */
function normalizedPath(url: string): string {
  let path = url.replace(/[?#].*$/s, "");
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  if (absolute) path = path.slice(absolute[0].length) || "/";
  const segments = path.split("/").filter((s) => s !== "");
  const [v1, inbound, provider, ...rest] = segments.map((s) => decodeSegment(s).toLowerCase());
  if (v1 === "v1" && (inbound === "inbound" || inbound === "delivery-reports") && provider !== undefined) {
    const name = /^[a-z0-9-]{1,24}$/.test(provider) ? provider : "[invalid]";
    return `/v1/${inbound}/${name}${rest.length > 0 ? "/[token]" : ""}`;
  }
  return `/${segments.join("/")}${path.endsWith("/") && segments.length > 0 ? "/" : ""}`.slice(0, MAX_LOGGED_PATH_CHARS);
}

/** What log lines show of a request's path: never a path token, a query string or a host. */
export function safePath(req: { originalUrl?: string; url?: string } | string | undefined): string {
  if (typeof req === "object" && req !== null) {
    const fromRoute = routeLogPaths.get(req);
    if (fromRoute !== undefined) return fromRoute;
    return normalizedPath(req.originalUrl ?? req.url ?? "");
  }
  return normalizedPath(req ?? "");
}

export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-poll-token"]',
  'req.headers["idempotency-key"]',
  'req.headers["webhook-signature"]',
  'req.headers["x-twilio-signature"]',
  'req.headers["x-plivo-signature-v3"]',
  'req.headers["x-plivo-signature-v2"]',
  'req.headers["telnyx-signature-ed25519"]',
  'req.headers["messagebird-signature"]',
  'req.headers["messagebird-signature-jwt"]',
  "phone",
  "code",
  "text",
  "body",
  "*.phone",
  "*.code",
  "*.text",
  "*.secretKey",
  "*.publishableKey",
  "*.pollToken",
];

/** Shapes of the codes that could be a challenge's code: 4–8 digits, or 4–8 of the alphanumeric alphabet. */
const OTP_SHAPES = [/^[0-9]{4,8}$/, /^[2-9A-HJKMNP-Z]{4,8}$/];
/** Shapes of error codes: ours (UPPER_SNAKE), Node's (`ERR_…`, `ECONNREFUSED`), Prisma's (`P2002`). */
const ERROR_CODE_SHAPES = [/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/, /^E[A-Z]{3,}$/, /^P\d{4}$/];

/**
 * A `code` field holds an OTP code or an error code. Error codes stay readable (a refused
 * webhook's line must say why); anything that could be an OTP code, or is not an error code at
 * all, is redacted.
 */
export function isReadableErrorCode(value: unknown): boolean {
  if (typeof value !== "string" || value.length > 64) return false;
  if (OTP_SHAPES.some((shape) => shape.test(value))) return false;
  return Object.hasOwn(ERROR_CODES, value) || ERROR_CODE_SHAPES.some((shape) => shape.test(value));
}

function censor(value: unknown, path: string[]): unknown {
  return path[path.length - 1] === "code" && isReadableErrorCode(value) ? value : "[redacted]";
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "reverse-otp" },
      redact: { paths: REDACTED_PATHS, censor },
      serializers: {
        // originalUrl: Express rewrites req.url inside mounted routers (it would lose /v1/inbound/…
        // and with it the masking of path tokens).
        req: (req: IncomingMessage & { id?: string; originalUrl?: string }) => ({ id: req.id, method: req.method, path: safePath(req) }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      },
    },
    destination,
  );
}

/**
 * One log line per request, written when it ends: "request completed" (5xx at error, 4xx at info,
 * the rest at debug) or "request aborted" (the client left first), with the request id, method,
 * safe path, status and response time. The id comes from a well-formed `X-Request-Id` or is new,
 * and is echoed in the answer. (pino-http did this with two child loggers per request, each
 * holding the serialised request and its own bound log methods: about 3 kB that every waiting
 * long-poll kept for its whole wait, measured in a heap snapshot with 5,000 waiters.)
 */
export function requestLogger(logger: Logger) {
  return (req: IncomingMessage & { id?: string }, res: ServerResponse, next: () => void): void => {
    const incoming = req.headers["x-request-id"];
    const id = typeof incoming === "string" && /^[\w.-]{8,64}$/.test(incoming) ? incoming : randomUUID();
    req.id = id;
    res.setHeader("X-Request-Id", id);
    const started = performance.now();
    const done = () => {
      res.off("finish", done);
      res.off("close", done);
      const completed = res.writableFinished;
      const level: Level = res.statusCode >= 500 ? "error" : res.statusCode >= 400 || !completed ? "info" : "debug";
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        { req, res, responseTime: Math.round(performance.now() - started) },
        completed ? "request completed" : "request aborted",
      );
    };
    res.on("finish", done);
    res.on("close", done);
    next();
  };
}
