// Bearer keys. The app always comes from the key, never from the body.
import type { Request, RequestHandler } from "express";
import type { AppService, Principal } from "../apps/app-service.js";
import { AppError } from "../shared/errors.js";

declare module "express-serve-static-core" {
  interface Request {
    principal?: Principal;
  }
}

function bearer(req: Request): string | undefined {
  const header = req.get("authorization");
  if (!header) return undefined;
  const match = /^Bearer\s+(\S{1,200})\s*$/i.exec(header);
  if (!match) throw new AppError("UNAUTHENTICATED", "Use the header Authorization: Bearer <key>");
  return match[1];
}

/** Resolves the key if one is presented; `required` makes a missing key a 401. A wrong key is always a 401. */
export function authenticate(apps: AppService, options: { required: boolean }): RequestHandler {
  return async (req, _res, next) => {
    const key = bearer(req);
    if (key === undefined) {
      if (options.required) throw new AppError("UNAUTHENTICATED", "An API key is required");
      return next();
    }
    const principal = await apps.authenticate(key);
    if (!principal) throw new AppError("UNAUTHENTICATED", "The API key is not valid");
    req.principal = principal;
    next();
  };
}

export function pollTokenOf(req: Request): string | undefined {
  const token = req.get("x-poll-token");
  return token && token.length <= 200 ? token : undefined;
}
