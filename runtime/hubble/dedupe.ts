// "Have we handed on this drop within the last window?" A Map kept in insertion order
// doubles as a queue: a key is (re)inserted at the back whenever it is admitted, so the
// front holds the oldest admissions, and eviction only ever looks at the front, deleting
// while the entry there has expired or the map is over its cap. Each admission costs O(1)
// amortized, however many keys the window holds (a full scan per admission, once the map
// is large, is what a retransmit storm across many peers cannot afford).

export class DedupeWindow {
  /** key -> when it was last admitted (ms); oldest admission first. */
  private readonly admitted = new Map<string, number>();

  /**
   * @param windowMs a key admitted at t is refused until t + windowMs (exclusive), then admitted again
   * @param maxKeys memory bound: past it the oldest keys are forgotten early (a repeat of one may
   *   then be handed on again: never a lost drop, at worst a repeated one)
   */
  constructor(
    readonly windowMs: number,
    readonly maxKeys: number,
  ) {}

  get size(): number {
    return this.admitted.size;
  }

  /** True to hand the flow on (first sighting, or the last one is `windowMs` old); false for a repeat. */
  admit(key: string, now: number): boolean {
    const prev = this.admitted.get(key);
    if (prev !== undefined) {
      if (now - prev < this.windowMs) return false;
      // Map.set keeps an existing key where it was: move it to the back with its new time.
      this.admitted.delete(key);
    }
    this.admitted.set(key, now);
    this.evict(now);
    return true;
  }

  private evict(now: number): void {
    // Deleting the entry an iterator just returned is safe, and the iterator moves on.
    // Admissions are in time order (unless the clock steps back, when an expired entry
    // may wait behind a fresh one until that one expires or the cap reaches it; lookups
    // check the time, so that only costs memory, never a decision).
    for (const [key, at] of this.admitted) {
      if (this.admitted.size > this.maxKeys || now - at >= this.windowMs) this.admitted.delete(key);
      else break;
    }
  }
}
