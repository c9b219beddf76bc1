// A background worker's loop: rounds run one after the other, woken by a notification (LISTEN)
// and by a timer (which also brings retries, and the work of other instances' lost leases).
// A wake during a round queues exactly one more round. Used by the callback and outbound outboxes.
import type { Logger } from "../http/logger.js";

export type BackgroundLoopOptions<T> = {
  /** One round of work; its result goes to runOnce's caller. */
  round: () => Promise<T>;
  /** How often the timer wakes the loop, in milliseconds. */
  pollIntervalMs: number;
  /** Subscribes `wake` to notifications; resolves to the unsubscribe. */
  listen?: (wake: () => void) => Promise<() => Promise<void>>;
  logger: Logger;
  /** Names the worker in log lines ("callback", "outbound"). */
  name: string;
};

export function createBackgroundLoop<T>(options: BackgroundLoopOptions<T>) {
  const { logger, name } = options;
  let started = false;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let wakeQueued = false;
  // Rounds run one after the other (a promise chain as a mutex).
  let chain: Promise<unknown> = Promise.resolve();
  const exclusive = <R>(fn: () => Promise<R>): Promise<R> => {
    const next = chain.then(fn);
    chain = next.catch(() => undefined);
    return next;
  };

  function wake(): void {
    if (!started || stopping || wakeQueued) return;
    wakeQueued = true;
    exclusive(async () => {
      wakeQueued = false;
      if (!stopping) await options.round();
    }).catch((error: unknown) => logger.warn({ err: error }, `${name} round failed; retrying on the next tick`));
  }

  return {
    /** Listens for notifications, wakes every `pollIntervalMs`, and runs a round now. */
    async start(): Promise<void> {
      if (started) return;
      started = true;
      stopping = false;
      timer = setInterval(wake, options.pollIntervalMs);
      timer.unref();
      if (options.listen) {
        try {
          unlisten = await options.listen(wake);
        } catch (error) {
          // The timer still brings every piece of work, only later.
          logger.warn({ err: error }, `${name} notifications unavailable; relying on the timer`);
        }
      }
      wake();
    },
    /** Stops waking, and waits for the round in flight. */
    async stop(): Promise<void> {
      stopping = true;
      started = false;
      if (timer) clearInterval(timer);
      timer = undefined;
      const u = unlisten;
      unlisten = undefined;
      await u?.().catch(() => undefined);
      await chain;
    },
    /** One round now, after any round in flight (tests and tools). */
    runOnce: (): Promise<T> => exclusive(options.round),
    /** Asks for a round soon. */
    wake,
    /** Whether the loop is stopping (rounds end early). */
    isStopping: () => stopping,
  };
}
