import { describe, expect, it, vi } from 'vitest';
import type { Gvr } from '../../engine/model.js';
import type { FactStore } from '../../engine/store/store.js';
import type { RawObject } from '../kube/informer.js';
import { silentLogger } from '../log.js';
import { StoreFeed } from './storefeed.js';

const PODS: Gvr = { group: '', version: 'v1', resource: 'pods' };

/** Records what reaches the store, in order; `upsert` of an object named `boom` throws; `hook` runs inside upserts. */
function fakeStore(hook?: (name: string) => void): { store: FactStore; applied: string[] } {
  const applied: string[] = [];
  const name = (o: unknown): string => String(((o as RawObject).metadata as { name?: string } | undefined)?.name);
  const store = {
    upsert: (_gvr: unknown, obj: unknown) => {
      if (name(obj) === 'boom') throw new Error('boom');
      applied.push(`upsert ${name(obj)}`);
      hook?.(name(obj));
      return { ok: true, change: null };
    },
    replaceAll: (_gvr: unknown, objs: readonly unknown[]) => {
      applied.push(`replace ${objs.map(name).join(',')}`);
      return { added: 0, modified: 0, deleted: 0, unchanged: 0, errors: [] };
    },
    delete: (_gvr: unknown, _ns: string | undefined, n: string) => {
      applied.push(`delete ${n}`);
      return null;
    },
    dropGvr: () => {
      applied.push('drop');
      return 0;
    },
  };
  return { store: store as unknown as FactStore, applied };
}

const pod = (name: string): RawObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'ns', name } });

describe('StoreFeed', () => {
  it('applies deliveries at once when no swap runs; holds them during one and applies them in order after', async () => {
    const { store, applied } = fakeStore();
    const feed = new StoreFeed(store, silentLogger());
    const sink = feed.sinkFor(PODS);
    sink.upsert(pod('a'));
    expect(applied).toEqual(['upsert a']);
    let release!: () => void;
    const swap = feed.exclusive(() => new Promise<string>((r) => (release = () => r('done'))));
    sink.upsert(pod('b'));
    sink.replace([pod('c'), pod('d')]);
    sink.delete(pod('b'));
    feed.drop(PODS);
    expect(applied).toEqual(['upsert a']);
    expect(feed.queued).toBe(4);
    release();
    expect(await swap).toBe('done');
    expect(applied).toEqual(['upsert a', 'upsert b', 'replace c,d', 'delete b', 'drop']);
    expect(feed.queued).toBe(0);
  });

  it('nested swaps: deliveries wait for the outermost one', async () => {
    const { store, applied } = fakeStore();
    const feed = new StoreFeed(store, silentLogger());
    const sink = feed.sinkFor(PODS);
    let releaseOuter!: () => void;
    const outer = feed.exclusive(() => new Promise<void>((r) => (releaseOuter = r)));
    await feed.exclusive(async () => sink.upsert(pod('x')));
    expect(applied).toEqual([]);
    expect(feed.queued).toBe(1);
    releaseOuter();
    await outer;
    expect(applied).toEqual(['upsert x']);
  });

  it('drains a large burst (100k deliveries) in order, in linear time', async () => {
    const { store, applied } = fakeStore();
    const feed = new StoreFeed(store, silentLogger());
    const sink = feed.sinkFor(PODS);
    const n = 100_000;
    const objs = Array.from({ length: n }, (_, i) => pod(`p${i}`));
    let release!: () => void;
    const swap = feed.exclusive(() => new Promise<void>((r) => (release = r)));
    for (const o of objs) sink.upsert(o);
    expect(feed.queued).toBe(n);
    // Linear, checked by what the drain does rather than by a clock: shift() per op is what
    // made it quadratic (0.5-5 s here), so the drain may not shift the queue per delivery.
    const shift = vi.spyOn(Array.prototype, 'shift');
    let shifts: number;
    try {
      release();
      await swap;
    } finally {
      shifts = shift.mock.calls.length;
      shift.mockRestore();
    }
    expect(shifts).toBeLessThan(100);
    expect(feed.queued).toBe(0);
    expect(applied.length).toBe(n);
    for (let i = 0; i < n; i++) if (applied[i] !== `upsert p${i}`) expect.fail(`delivery ${i} out of order: ${applied[i]}`);
  });

  it('an op that starts a swap stops the drain; the rest stay queued, in order, ahead of later deliveries', async () => {
    let feed!: StoreFeed;
    let releaseSecond!: () => void;
    let second: Promise<void> | undefined;
    // Applying `starter` starts another swap (as a change that triggers a rule-pack swap could).
    const { store, applied } = fakeStore((n) => {
      if (n === 'starter') second = feed.exclusive(() => new Promise<void>((r) => (releaseSecond = r)));
    });
    feed = new StoreFeed(store, silentLogger());
    const sink = feed.sinkFor(PODS);
    let releaseFirst!: () => void;
    const first = feed.exclusive(() => new Promise<void>((r) => (releaseFirst = r)));
    for (const n of ['a', 'starter', 'b', 'c']) sink.upsert(pod(n));
    releaseFirst();
    await first;
    expect(applied).toEqual(['upsert a', 'upsert starter']);
    expect(feed.queued).toBe(2);
    sink.upsert(pod('d'));
    expect(feed.queued).toBe(3);
    releaseSecond();
    await second;
    expect(applied).toEqual(['upsert a', 'upsert starter', 'upsert b', 'upsert c', 'upsert d']);
    expect(feed.queued).toBe(0);
  });

  it('an op that re-enters the drain (a swap that fails at once) runs nothing twice and keeps the order', async () => {
    let feed!: StoreFeed;
    // exclusive() with a synchronously throwing fn runs its finally (and so drain()) before returning.
    const { store, applied } = fakeStore((n) => {
      if (n === 'reenter')
        feed
          .exclusive(() => {
            throw new Error('sync');
          })
          .catch(() => undefined);
    });
    feed = new StoreFeed(store, silentLogger());
    const sink = feed.sinkFor(PODS);
    let release!: () => void;
    const swap = feed.exclusive(() => new Promise<void>((r) => (release = r)));
    for (const n of ['a', 'reenter', 'b', 'c']) sink.upsert(pod(n));
    release();
    await swap;
    expect(applied).toEqual(['upsert a', 'upsert reenter', 'upsert b', 'upsert c']);
    expect(feed.queued).toBe(0);
  });

  it('an op that throws is consumed, not retried; the ones after it are applied by the next drain', async () => {
    const { store, applied } = fakeStore();
    const feed = new StoreFeed(store, silentLogger());
    const sink = feed.sinkFor(PODS);
    let release!: () => void;
    const swap = feed.exclusive(() => new Promise<void>((r) => (release = r)));
    sink.upsert(pod('a'));
    sink.upsert(pod('boom'));
    sink.upsert(pod('b'));
    release();
    await expect(swap).rejects.toThrow('boom');
    expect(applied).toEqual(['upsert a']);
    expect(feed.queued).toBe(1);
    await feed.exclusive(async () => undefined);
    expect(applied).toEqual(['upsert a', 'upsert b']);
    expect(feed.queued).toBe(0);
  });
});
