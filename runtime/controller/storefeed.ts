// Informers -> fact store, with a gate. The analyzer re-adapts objects as store change
// events arrive, but a rule-pack swap re-adapts everything on its own schedule; if
// events kept flowing during a swap, an object could be adapted with the new packs and
// then overwritten by a slower re-adaptation of its older state. So while a swap runs,
// informer deliveries queue here and are applied, in order, once it is done.
import type { Gvr } from '../../engine/model.js';
import { gvrKey } from '../../engine/gvr.js';
import type { FactStore } from '../../engine/store/store.js';
import type { InformerSink, RawObject } from '../kube/informer.js';
import type { Logger } from '../log.js';

type Op = () => void;

export class StoreFeed {
  private paused = 0;
  /** Held ops; those before `head` have already run (drained by index: `shift()` per op is O(n) on large queues). */
  private readonly pending: Op[] = [];
  private head = 0;
  /** Refusals already logged, so a bad object that is relisted every resync logs once. */
  private readonly refused = new Map<string, string>();

  constructor(
    readonly store: FactStore,
    private readonly log: Logger,
  ) {}

  /** Run `fn` with store deliveries held back; they are applied when it settles. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.paused++;
    try {
      return await fn();
    } finally {
      this.paused--;
      if (this.paused === 0) this.drain();
    }
  }

  get queued(): number {
    return this.pending.length - this.head;
  }

  private run(op: Op): void {
    if (this.paused > 0) this.pending.push(op);
    else op();
  }

  private drain(): void {
    // `head` is shared state, not a local: an op can re-enter drain() (an exclusive()
    // whose fn throws synchronously settles at once), and the inner drain must carry on
    // from the next op, not re-run the ones before it. An op is consumed before it runs,
    // so one that throws is not retried; the rest stay queued for the next drain.
    try {
      while (this.paused === 0 && this.head < this.pending.length) this.pending[this.head++]!();
    } finally {
      if (this.head > 0) {
        if (this.head === this.pending.length) this.pending.length = 0;
        else this.pending.splice(0, this.head);
        this.head = 0;
      }
    }
  }

  sinkFor(gvr: Gvr): InformerSink {
    const key = gvrKey(gvr);
    return {
      replace: (items: RawObject[]) =>
        this.run(() => {
          const r = this.store.replaceAll(gvr, items);
          for (const e of r.errors) this.refuse(key, items[e.index], e.error);
        }),
      upsert: (obj: RawObject) =>
        this.run(() => {
          const r = this.store.upsert(gvr, obj);
          if (!r.ok) this.refuse(key, obj, r.error);
        }),
      delete: (obj: RawObject) =>
        this.run(() => {
          const md = (obj.metadata ?? {}) as { namespace?: string; name?: string };
          if (md.name) this.store.delete(gvr, md.namespace, md.name);
        }),
    };
  }

  /** Forget a GVR whose informer stopped: its objects leave the store (and their constraints with them). */
  drop(gvr: Gvr): void {
    this.run(() => {
      const n = this.store.dropGvr(gvr);
      if (n > 0) this.log.info({ gvr: gvrKey(gvr), objects: n }, 'dropped objects of a resource no longer watched');
    });
  }

  private refuse(key: string, obj: RawObject | undefined, error: string): void {
    const md = (obj?.metadata ?? {}) as { namespace?: string; name?: string; resourceVersion?: string };
    const ref = `${key} ${md.namespace ? md.namespace + '/' : ''}${md.name ?? '?'}`;
    if (this.refused.get(ref) === `${md.resourceVersion}|${error}`) return;
    if (this.refused.size > 10_000) this.refused.clear();
    this.refused.set(ref, `${md.resourceVersion}|${error}`);
    this.log.warn({ object: ref, err: error }, 'object refused by the fact store; it is left out');
  }
}
