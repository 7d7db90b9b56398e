// Exponential backoff with jitter, and an abortable sleep: shared by the sinks' retries,
// the webhook's list+watch feed, the Hubble client's reconnects and the informers' restarts.

export interface BackoffPolicy {
  /** First delay (ms). */
  baseMs: number;
  /** Cap on any single delay (ms). */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /**
   * Fraction of the delay that is randomized (0 = none, 1 = "full jitter"). Default 0.5:
   * the delay is uniform in [d/2, d], so many clients that failed together spread out
   * but none retries almost immediately.
   */
  jitter?: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

/** Delay before retry number `attempt` (0-based). `random` is injectable for tests. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const factor = policy.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0.5));
  const raw = Math.min(policy.maxMs, policy.baseMs * Math.pow(factor, Math.max(0, attempt)));
  return Math.round(raw * (1 - jitter) + raw * jitter * random());
}

/** Resolves after `ms`, or early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
