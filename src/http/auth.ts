// Bearer credentials: API keys (the app always comes from the key, never from the body) and the
// operators' tokens of the dashboard and /metrics, all read by `readBearer`.
import type { Request, RequestHandler } from "express";
import type { AppService, Principal } from "../apps/app-service.js";
import { safeEqual } from "../shared/crypto.js";
import { AppError } from "../shared/errors.js";

declare module "express-serve-static-core" {
  interface Request {
    principal?: Principal;
  }
}

/**
 * Longest token read from a Bearer header. API keys have 35 characters and configured tokens
 * (ADMIN_TOKEN, METRICS_TOKEN) are meant to be short random strings; anything longer is malformed,
 * so no request makes the service hash kilobytes per configured token.
 */
export const MAX_BEARER_TOKEN_LENGTH = 500;

/** `Bearer`, case-insensitive (RFC 9110 §11.1), white space, one token of visible characters, optional white space. */
const BEARER = new RegExp(`^Bearer[ \\t]+([\\x21-\\x7e]{1,${MAX_BEARER_TOKEN_LENGTH}})[ \\t]*$`, "i");

export type BearerHeader = { kind: "absent" } | { kind: "malformed" } | { kind: "token"; token: string };

/**
 * The one reader of `Authorization: Bearer <token>`, for API keys, ADMIN_TOKEN and METRICS_TOKEN
 * alike: `absent` without an Authorization header, `malformed` for a header of any other form
 * (another scheme, no token, two tokens, a token too long or with characters outside visible ASCII).
 */
export function readBearer(header: string | undefined): BearerHeader {
  if (header === undefined) return { kind: "absent" };
  const token = BEARER.exec(header)?.[1];
  return token === undefined ? { kind: "malformed" } : { kind: "token", token };
}

/** Whether the request presents one of `tokens` as its Bearer token. Every token is compared, each in constant time. */
export function presentsOneOf(req: Request, tokens: readonly string[]): boolean {
  const bearer = readBearer(req.get("authorization"));
  if (bearer.kind !== "token") return false;
  let matched = false;
  for (const token of tokens) matched = safeEqual(token, bearer.token) || matched;
  return matched;
}

/** Resolves the key if one is presented; `required` makes a missing key a 401. A wrong key is always a 401. */
export function authenticate(apps: AppService, options: { required: boolean }): RequestHandler {
  return async (req, _res, next) => {
    const bearer = readBearer(req.get("authorization"));
    if (bearer.kind === "malformed") throw new AppError("UNAUTHENTICATED", "Use the header Authorization: Bearer <key>");
    if (bearer.kind === "absent") {
      if (options.required) throw new AppError("UNAUTHENTICATED", "An API key is required");
      return next();
    }
    const principal = await apps.authenticate(bearer.token);
    if (!principal) throw new AppError("UNAUTHENTICATED", "The API key is not valid");
    req.principal = principal;
    next();
  };
}

export function pollTokenOf(req: Request): string | undefined {
  const token = req.get("x-poll-token");
  return token && token.length <= 200 ? token : undefined;
}
