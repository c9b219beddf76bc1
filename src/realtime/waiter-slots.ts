// Caps on waiting connections (long-polls and event streams) of this instance: per challenge, and
// per client (an IPv4 address or an IPv6 /64, limits/client-key.ts). A waiter holds a socket, a
// subscription and a timer for up to 30 s (long-poll) or the challenge's lifetime (stream), so
// without a cap one client with one poll token could keep thousands open. Kept in memory: the
// connections are this instance's.
import { AppError } from "../shared/errors.js";

export type WaiterLimit = "challenge_waiters" | "client_waiters";

export type WaiterSlots = ReturnType<typeof createWaiterSlots>;

/** How long a refused client should wait before trying again: about one long-poll. */
const RETRY_AFTER_SECONDS = 30;

export function createWaiterSlots(options: { perChallenge: number; perClient: number; onRefused?: (limit: WaiterLimit) => void }) {
  const byChallenge = new Map<string, number>();
  const byClient = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, delta: number) => {
    const next = (map.get(key) ?? 0) + delta;
    if (next <= 0) map.delete(key);
    else map.set(key, next);
  };
  const refuse = (limit: WaiterLimit, detail: string) => {
    options.onRefused?.(limit);
    return new AppError("RATE_LIMITED", detail, { retryAfterSeconds: RETRY_AFTER_SECONDS, reason: limit });
  };
  return {
    /**
     * Takes a slot for one waiter of `challengeId` from `client`, or answers the refusal (429) when
     * either cap is reached. The returned release is idempotent.
     */
    acquire(challengeId: string, client: string): { release: () => void } | { refused: AppError } {
      if ((byChallenge.get(challengeId) ?? 0) >= options.perChallenge) {
        return { refused: refuse("challenge_waiters", `At most ${options.perChallenge} long-polls and event streams may wait on one challenge`) };
      }
      if ((byClient.get(client) ?? 0) >= options.perClient) {
        return { refused: refuse("client_waiters", `At most ${options.perClient} long-polls and event streams may wait from one client`) };
      }
      add(byChallenge, challengeId, 1);
      add(byClient, client, 1);
      let released = false;
      return {
        release: () => {
          if (released) return;
          released = true;
          add(byChallenge, challengeId, -1);
          add(byClient, client, -1);
        },
      };
    },
  };
}
