// In-process fan-out of challenge changes. One LISTEN connection per instance receives the ids of
// changed challenges (sent by a trigger at commit, on any instance); waiters of this instance
// subscribe by id and hold no database connection while they wait.

export type StatusBus = {
  /** Calls `onChange` each time the challenge changes (or the bus lost notifications). */
  subscribe(challengeId: string, onChange: () => void): () => void;
  /** Waiters registered now (for metrics and shutdown). */
  waiterCount(): number;
  /** Wakes every waiter, e.g. on shutdown or after the listener reconnected. */
  wakeAll(): void;
};

export function createStatusBus(): StatusBus & { publish(challengeId: string): void } {
  const waiters = new Map<string, Set<() => void>>();
  let count = 0;
  const call = (fns: Iterable<() => void>) => {
    for (const fn of [...fns]) {
      try {
        fn();
      } catch {
        // a waiter's failure is its own
      }
    }
  };
  return {
    subscribe(challengeId, onChange) {
      let set = waiters.get(challengeId);
      if (!set) waiters.set(challengeId, (set = new Set()));
      set.add(onChange);
      count++;
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        count--;
        set.delete(onChange);
        if (set.size === 0) waiters.delete(challengeId);
      };
    },
    publish(challengeId) {
      const set = waiters.get(challengeId);
      if (set) call(set);
    },
    waiterCount: () => count,
    wakeAll() {
      for (const set of [...waiters.values()]) call(set);
    },
  };
}
