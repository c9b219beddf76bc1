// A provider-like sender: delivers each message until it is acknowledged with a 2xx, retrying
// after any other answer or a network error, and records every attempt. Used by the fault test
// (test/fault/postgres-restart.test.ts) and by `npm run chaos` (bench/chaos.ts).
export type Attempt = {
  messageId: string;
  /** HTTP status, or 0 when no answer came (connection refused or reset, timeout). */
  status: number;
  /** How long the attempt took, from sending to the answer (or the error). */
  ms: number;
  /** When the attempt started, in ms after the sender started. */
  atMs: number;
};

export type SenderReport = {
  sent: number;
  acknowledged: number;
  attempts: Attempt[];
  answers503: number;
  otherFailures: number;
  maxMs: number;
  unacknowledged: string[];
};

export async function sendWithRetries(options: {
  messages: { id: string; send: () => Promise<number> }[];
  ratePerSecond: number;
  /** Delay before the first retry; also every retry's delay unless maxRetryDelayMs is set. */
  retryDelayMs: number;
  /**
   * Exponential back-off, as providers do: the delay doubles after each failed attempt up to this
   * cap, with ±25 % jitter (so a crowd of retries does not arrive in lock-step). Unset: fixed delay.
   */
  maxRetryDelayMs?: number;
  /** Gives up on a message after this long (the test then reports it as lost). */
  giveUpAfterMs: number;
  onTick?: (elapsedMs: number) => void;
}): Promise<SenderReport> {
  const attempts: Attempt[] = [];
  const unacknowledged: string[] = [];
  const start = Date.now();
  const delayAfter = (failures: number) => {
    if (options.maxRetryDelayMs === undefined) return options.retryDelayMs;
    const base = Math.min(options.maxRetryDelayMs, options.retryDelayMs * 2 ** (failures - 1));
    return base * (0.75 + Math.random() * 0.5);
  };
  const deliver = async (m: { id: string; send: () => Promise<number> }) => {
    const first = Date.now();
    for (let failures = 1; ; failures++) {
      const t0 = Date.now();
      let status: number;
      try {
        status = await m.send();
      } catch {
        status = 0;
      }
      attempts.push({ messageId: m.id, status, ms: Date.now() - t0, atMs: t0 - start });
      if (status >= 200 && status < 300) return;
      if (Date.now() - first > options.giveUpAfterMs) {
        unacknowledged.push(m.id);
        return;
      }
      await new Promise((r) => setTimeout(r, delayAfter(failures)));
    }
  };
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < options.messages.length; i++) {
    const due = start + (i * 1000) / options.ratePerSecond;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    options.onTick?.(Date.now() - start);
    inFlight.push(deliver(options.messages[i]!));
  }
  await Promise.all(inFlight);
  return {
    sent: options.messages.length,
    acknowledged: options.messages.length - unacknowledged.length,
    attempts,
    answers503: attempts.filter((a) => a.status === 503).length,
    otherFailures: attempts.filter((a) => a.status !== 503 && (a.status < 200 || a.status >= 300)).length,
    maxMs: attempts.reduce((max, a) => Math.max(max, a.ms), 0),
    unacknowledged,
  };
}
