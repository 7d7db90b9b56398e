// At most N per sliding minute per key. A token bucket refilled at N/min would let 2N
// through in a minute (a full bucket plus the refill); the acceptance is "at most N
// within any minute", so this keeps the timestamps of the last N admissions per key.
export class SlidingWindowLimiter {
  private readonly windows = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Admit one event for `key` if fewer than `limit` were admitted in the last window. */
  tryAcquire(key: string): boolean {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w) this.windows.set(key, (w = []));
    const cutoff = t - this.windowMs;
    let drop = 0;
    while (drop < w.length && w[drop]! <= cutoff) drop++;
    if (drop) w.splice(0, drop);
    if (w.length >= this.limit) return false;
    w.push(t);
    return true;
  }

  /** Forget idle keys (call now and then; keys are namespaces, a bounded set). */
  prune(): void {
    const cutoff = this.now() - this.windowMs;
    for (const [k, w] of this.windows) if (!w.length || w[w.length - 1]! <= cutoff) this.windows.delete(k);
  }
}
