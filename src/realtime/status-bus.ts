// In-process fan-out of challenge changes. One LISTEN connection per instance receives the ids of
// changed challenges (sent by a trigger at commit, on any instance); waiters of this instance
// subscribe by id and hold no database connection while they wait.
//
// The instance listens only while someone waits (and for LINGER_MS after the last waiter left, so
// that clients polling one long-poll after another do not open and close the connection each
// time). A listening instance receives the id of EVERY change of every challenge, its own and the
// other instances': its LISTEN connection's backend and the process pay for each verification
// (measured with `npm run bench -- --only webhook` on a 2-core machine: 1,283 webhooks/s listening, 1,497/s not).
// With nobody waiting, nobody needs them.

/** How long the bus keeps listening after its last waiter left. */
export const LINGER_MS = 60_000;

export type StatusBus = {
  /** Calls `onChange` each time the challenge changes (or the bus lost notifications). */
  subscribe(challengeId: string, onChange: () => void): () => void;
  /**
   * Resolves once changes committed from now on reach the subscribers: call it after subscribing
   * and before reading what is waited for (starts listening if the bus is not). Rejects when the
   * listening connection cannot be opened (the database is away).
   */
  ready(): Promise<void>;
  /** Waiters registered now (for metrics and shutdown). */
  waiterCount(): number;
  /** Wakes every waiter, e.g. on shutdown or after the listener reconnected. */
  wakeAll(): void;
};

/** Starts listening: `onChange` with the id of each changed challenge, `onLost` after notifications may have been lost; resolves with the function that stops. */
export type StatusListen = (onChange: (challengeId: string) => void, onLost: () => void) => Promise<() => Promise<void>>;

export type StatusBusOptions = {
  /** Without it (tests), the bus is fed by `publish` alone and always ready. */
  listen?: StatusListen;
  lingerMs?: number;
};

const READY = Promise.resolve();

export function createStatusBus(options: StatusBusOptions = {}): StatusBus & {
  publish(challengeId: string): void;
  /** Whether the bus listens now (or is starting to). */
  isListening(): boolean;
  /** Stops listening for good. */
  close(): Promise<void>;
} {
  const waiters = new Map<string, Set<() => void>>();
  const lingerMs = options.lingerMs ?? LINGER_MS;
  let count = 0;
  let listening: Promise<() => Promise<void>> | undefined;
  let lingerTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const call = (fns: Iterable<() => void>) => {
    for (const fn of [...fns]) {
      try {
        fn();
      } catch {
        // a waiter's failure is its own
      }
    }
  };
  const publish = (challengeId: string) => {
    const set = waiters.get(challengeId);
    if (set) call(set);
  };
  const wakeAll = () => {
    for (const set of [...waiters.values()]) call(set);
  };
  const stop = (current: Promise<() => Promise<void>>) =>
    current.then(
      (unlisten) => unlisten(),
      () => undefined,
    );
  const stopIfIdle = () => {
    lingerTimer = undefined;
    if (count > 0 || !listening) return;
    const current = listening;
    listening = undefined;
    void stop(current).catch(() => undefined);
  };

  return {
    subscribe(challengeId, onChange) {
      let set = waiters.get(challengeId);
      if (!set) waiters.set(challengeId, (set = new Set()));
      set.add(onChange);
      count++;
      if (lingerTimer) {
        clearTimeout(lingerTimer);
        lingerTimer = undefined;
      }
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        count--;
        set.delete(onChange);
        if (set.size === 0) waiters.delete(challengeId);
        if (count === 0 && listening && !closed) {
          clearTimeout(lingerTimer);
          lingerTimer = setTimeout(stopIfIdle, lingerMs);
          lingerTimer.unref();
        }
      };
    },
    ready() {
      if (!options.listen) return READY;
      if (closed) return Promise.reject(new Error("The status bus is closed"));
      if (!listening) {
        const started = options.listen(publish, wakeAll);
        listening = started;
        // A failed start is forgotten: the next waiter tries again.
        started.catch(() => {
          if (listening === started) listening = undefined;
        });
      }
      return listening.then(() => undefined);
    },
    publish,
    waiterCount: () => count,
    wakeAll,
    isListening: () => listening !== undefined,
    async close() {
      closed = true;
      clearTimeout(lingerTimer);
      lingerTimer = undefined;
      const current = listening;
      listening = undefined;
      if (current) await stop(current);
    },
  };
}
