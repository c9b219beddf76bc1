// HTTP routes of /v1/challenges. Thin: parse, call the service, shape the answer.
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from "express";
import type { LimitsService } from "../limits/limits-service.js";
import { authenticate, pollTokenOf } from "../http/auth.js";
import { parseWith, requireContentType } from "../http/validation.js";
import type { AppService } from "../apps/app-service.js";
import { AppError } from "../shared/errors.js";
import type { ChallengeService } from "./challenge-service.js";
import { challengeIdParam as challengeId, checkBody, createChallengeBody, fallbackBody, idempotencyKeyHeader, waitSecondsParam } from "./challenge-schemas.js";
import type { ChallengeView } from "./challenge-view.js";
import { clientKey } from "../limits/client-key.js";
import type { WaiterSlots } from "../realtime/waiter-slots.js";

// The request schemas live in challenge-schemas.ts, where the OpenAPI document is generated from.
export { createChallengeBody };

/** SSE comment lines keep proxies from closing a quiet stream. */
const SSE_HEARTBEAT_MS = 15_000;

function accessOf(req: Request) {
  const pollToken = pollTokenOf(req);
  return { ...(req.principal ? { principal: req.principal } : {}), ...(pollToken ? { pollToken } : {}) };
}

export function challengeRoutes(deps: {
  challenges: ChallengeService;
  apps: AppService;
  limits: Pick<LimitsService, "checkKey">;
  shutdown: AbortSignal;
  /** Caps on waiting long-polls and streams per challenge and per client (realtime/waiter-slots.ts). */
  waiters: WaiterSlots;
  /** The app's error handler (http/problem.ts), for long-polls, which answer their errors themselves. */
  answerError: ErrorRequestHandler;
}): Router {
  const router = Router();
  // Waiting long-polls and streams to end on shutdown. One listener on the signal for all of them:
  // AbortSignal's addEventListener/removeEventListener walk its listener list (duplicate check), so
  // one listener per waiter made thousands of waiters cost O(n²) (seen in `npm run bench` profiles).
  const onShutdown = new Set<() => void>();
  deps.shutdown.addEventListener("abort", () => {
    for (const fn of [...onShutdown]) fn();
  });
  const json = express.json({ limit: "16kb", strict: true });
  const limitKey = (isCreation: boolean): RequestHandler => async (req, _res, next) => {
    if (req.principal) await deps.limits.checkKey(req.principal, req.ip, isCreation);
    next();
  };
  const optionalKey = [authenticate(deps.apps, { required: false }), limitKey(false)];
  const requiredKey = [authenticate(deps.apps, { required: true }), limitKey(false)];
  const creationKey = [authenticate(deps.apps, { required: true }), limitKey(true)];
  router.use((_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  });

  router.post("/", ...creationKey, requireContentType("application/json"), json, async (req, res) => {
    const body = parseWith(createChallengeBody, req.body ?? {});
    const rawKey = req.get("idempotency-key");
    const idempotencyKey = rawKey === undefined ? undefined : parseWith(idempotencyKeyHeader, rawKey, "Idempotency-Key header");
    const { challenge, replayed } = await deps.challenges.create(req.principal!, body as Parameters<ChallengeService["create"]>[1], idempotencyKey, clientKey(req.ip));
    if (replayed) res.setHeader("Idempotent-Replayed", "true");
    res.status(201).json(challenge);
  });

  /** Long-poll: answers at the first change, after waitSeconds, on shutdown, or never if the client left. */
  const waitForChange = (req: Request, res: Response, id: string, waitSeconds: number) =>
    new Promise<ChallengeView>((resolve, reject) => {
      let first: ChallengeView | undefined;
      let latest: ChallengeView | undefined;
      let stop: (() => void) | undefined;
      let settled = false;
      // The slot this long-poll holds while it waits (taken once the first read authorised it).
      let slot: { release: () => void } | undefined;
      // Asked to answer (shutdown, time up, client gone) before the first read gave the current
      // state: answer with it as soon as it is there.
      let settleOnFirstView = false;
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        stop?.();
        slot?.release();
        onShutdown.delete(settle);
        res.off("close", settle);
      };
      const settle = () => {
        if (settled) return;
        if (!latest) {
          settleOnFirstView = true;
          return;
        }
        finish();
        resolve(latest!);
      };
      const timer = setTimeout(settle, waitSeconds * 1000);
      onShutdown.add(settle);
      res.on("close", settle);
      deps.challenges
        .watch(id, accessOf(req), (v, isFinal) => {
          if (settled) return;
          latest = v;
          if (!first) {
            first = v;
            if (isFinal || settleOnFirstView) return settle();
            const taken = deps.waiters.acquire(id, clientKey(req.ip));
            if ("refused" in taken) {
              finish();
              return reject(taken.refused);
            }
            slot = taken;
          } else settle();
        })
        .then((s) => {
          stop = s;
          if (settled || deps.shutdown.aborted) {
            s();
            settle();
          }
        })
        .catch((error: unknown) => {
          finish();
          reject(error);
        });
    });

  router.get("/:id", ...optionalKey, async (req, res) => {
    const id = parseWith(challengeId, req.params.id, "id");
    const waitSeconds =
      req.query.waitSeconds === undefined ? 0 : parseWith(waitSecondsParam, req.query.waitSeconds, "waitSeconds parameter", "waitSeconds");
    if (waitSeconds === 0) {
      res.json(await deps.challenges.get(id, accessOf(req)));
      return;
    }
    // Long-poll, not awaited: Express keeps each router level's state of a request (about 2.5 kB)
    // while its handler's promise is pending and `req.next` refers to it, and thousands of
    // long-polls wait at once; so the wait runs on its own and answers its errors itself.
    req.next = undefined as unknown as Request["next"];
    waitForChange(req, res, id, waitSeconds).then(
      (view) => {
        if (!res.writableEnded && !res.destroyed) res.json(view);
      },
      (error: unknown) => deps.answerError(error, req, res, () => undefined),
    );
  });

  router.get("/:id/events", ...optionalKey, async (req, res) => {
    const id = parseWith(challengeId, req.params.id, "id");
    let heartbeat: NodeJS.Timeout | undefined;
    let stop: (() => void) | undefined;
    let slot: { release: () => void } | undefined;
    let refused: AppError | undefined;
    const end = () => {
      clearInterval(heartbeat);
      stop?.();
      slot?.release();
      onShutdown.delete(end);
      if (!res.writableEnded) res.end();
    };
    // The first view comes synchronously inside watch(): headers go out then, so an unknown id is
    // still a clean 404 (watch throws before calling back), and a stream over the caps a clean 429
    // (a slot is taken only once the read authorised the request, and only to wait: a final
    // challenge's stream answers at once).
    stop = await deps.challenges.watch(id, accessOf(req), (view, isFinal) => {
      if (refused) return;
      if (!res.headersSent && !isFinal) {
        const taken = deps.waiters.acquire(id, clientKey(req.ip));
        if ("refused" in taken) {
          refused = taken.refused;
          return;
        }
        slot = taken;
      }
      if (!res.headersSent) {
        res.writeHead(200, {
          "Content-Type": "text/event-stream; charset=utf-8",
          "Cache-Control": "no-store",
          Connection: "keep-alive",
          "X-Accel-Buffering": "no",
        });
        heartbeat = setInterval(() => res.write(": keep-alive\n\n"), SSE_HEARTBEAT_MS);
        res.on("close", end);
        onShutdown.add(end);
      }
      res.write(`event: status\ndata: ${JSON.stringify(view)}\n\n`);
      if (isFinal) setImmediate(end);
    });
    if (refused) {
      stop();
      throw refused;
    }
    if (res.writableEnded || res.destroyed || deps.shutdown.aborted) end();
  });

  router.post("/:id/cancel", ...optionalKey, async (req, res) => {
    const view = await deps.challenges.cancel(parseWith(challengeId, req.params.id, "id"), accessOf(req));
    res.json(view);
  });

  // The classic direction: switch a pending reverse challenge to a sent code; check a typed code.
  // Either needs the secret key or the challenge's poll token (a publishable key alone: 403).
  router.post("/:id/fallback", ...optionalKey, requireContentType("application/json"), json, async (req, res) => {
    const id = parseWith(challengeId, req.params.id, "id");
    const body = parseWith(fallbackBody, req.body ?? {});
    res.json(await deps.challenges.fallback(id, accessOf(req), body));
  });

  router.post("/:id/check", ...optionalKey, requireContentType("application/json"), json, async (req, res) => {
    const id = parseWith(challengeId, req.params.id, "id");
    const { code } = parseWith(checkBody, req.body ?? {});
    res.json(await deps.challenges.check(id, accessOf(req), code, req.ip));
  });

  router.post("/:id/consume", ...requiredKey, async (req, res) => {
    if (req.principal?.kind !== "secret") throw new AppError("FORBIDDEN", "Only a secret key may consume a verification");
    res.json(await deps.challenges.consume(parseWith(challengeId, req.params.id, "id"), req.principal));
  });

  return router;
}
