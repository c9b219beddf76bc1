/** Waits for a condition (not for a duration): polls every 10 ms, gives up after 10 s with a message. */
export async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Sends a request as a real client or SMS provider does: an answer 503 (the service shed load, or
 * its database was busy) is sent again after a short pause, up to `attempts` times; any other
 * answer is final. Race tests then assert what a client sees in the end (every message
 * acknowledged, exactly one verification), not that a busy machine never answered 503 first.
 */
export async function retrying503<R extends { status: number }>(send: () => PromiseLike<R>, attempts = 20): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    const res = await send();
    if (res.status !== 503 || attempt >= attempts) return res;
    await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
  }
}
