// Polling helpers shared by unit and integration tests: wait for a condition with a
// deadline, failing with what was awaited (and the last error) when it never holds.

/** Polls `fn` until it returns something other than undefined/false; that value. */
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls a boolean condition every 10 ms until it holds, for at most `ms`. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  await waitFor(() => cond(), ms, 'condition', 10);
}
