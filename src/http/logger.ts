// Logging: pino, with numbers, codes, keys, tokens and signatures kept out of the output.
// Request logs carry the path without its query string (GET webhooks put numbers and texts there)
// and with path tokens of unsigned providers masked.
import type { IncomingMessage, ServerResponse } from "node:http";
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger };

export function safePath(url: string | undefined): string {
  const path = (url ?? "").split("?")[0] ?? "";
  return path.replace(/^(\/v1\/inbound\/[^/]+)\/[^/]+/, "$1/[token]").slice(0, 200);
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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "reverse-otp" },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      serializers: {
        req: (req: IncomingMessage & { id?: string }) => ({ id: req.id, method: req.method, path: safePath(req.url) }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      },
    },
    destination,
  );
}
