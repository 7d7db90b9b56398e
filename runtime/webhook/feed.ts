// Feeding the webhook's own read-only fact store. The webhook must not depend on the
// controller process (a controller crash must not touch admission), so it runs its own
// informers (runtime/kube/informer.ts: list, watch with bookmarks, relist on 410 and on
// errors, jittered backoff, idle watchdog) over the resources its packs adapt, found by
// API discovery and re-discovered periodically so CRDs installed later are picked up.
import type { Logger } from 'pino';
import type { Gvr } from '../../engine/model.js';
import { gvrKey } from '../../engine/gvr.js';
import type { FactStore } from '../../engine/store/store.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import type { KubeClient } from '../kube/client.js';
import { discover, type ApiResource } from '../kube/discovery.js';
import { Informer, type RawObject } from '../kube/informer.js';
import { backoffDelay, sleep } from '../sinks/backoff.js';
import { webhookMetrics } from './metrics.js';

export interface StoreFeed {
  start(): void;
  /** True when every watched resource finished its first list. */
  synced(): boolean;
  stop(): Promise<void>;
}

export const NAMESPACES_GVR: Gvr = { group: '', version: 'v1', resource: 'namespaces' };

/**
 * What a pack's adapters read, before discovery settles versions: a group, narrowed by
 * resource names or by kinds (neither: every resource of the group, as for Gatekeeper's
 * one-CRD-per-template constraints).
 */
export interface WantedResource {
  group: string;
  resources?: string[];
  kinds?: string[];
  /** Acceptable versions (any served version when absent). */
  versions?: string[];
}

/** The resources the non-fallback adapters of these packs read, plus Namespaces. */
export function wantedResources(packs: readonly CompiledPack[]): WantedResource[] {
  const out: WantedResource[] = [{ group: '', resources: ['namespaces'], versions: ['v1'] }];
  for (const p of packs) {
    for (const a of p.adapters) {
      const m = a.match;
      // The fallback (generic) adapter needs a full scan of discovery, which is the controller's job.
      if (m.fallback || m.group === undefined || m.group === '*') continue;
      const w: WantedResource = { group: m.group };
      if (m.resources && !m.resources.includes('*')) w.resources = [...m.resources];
      if (m.kinds && !m.kinds.includes('*')) w.kinds = [...m.kinds];
      if (m.versions && !m.versions.includes('*')) w.versions = [...m.versions];
      out.push(w);
    }
  }
  return out;
}

/** For each served resource some wanted entry matches, the version to watch (the group's preferred one when acceptable). */
export function resolveWanted(wanted: readonly WantedResource[], served: readonly ApiResource[]): { gvr: Gvr; kind: string }[] {
  const best = new Map<string, ApiResource>();
  for (const r of served) {
    if (!r.verbs.includes('list') || !r.verbs.includes('watch')) continue;
    const ok = wanted.some(
      (w) =>
        w.group === r.group &&
        (!w.resources || w.resources.includes(r.resource)) &&
        (!w.kinds || w.kinds.includes(r.kind)) &&
        (!w.versions || w.versions.includes(r.version)),
    );
    if (!ok) continue;
    const key = `${r.group}|${r.resource}`;
    const prev = best.get(key);
    if (!prev || (r.preferred && !prev.preferred)) best.set(key, r);
  }
  return [...best.values()].map((r) => ({ gvr: { group: r.group, version: r.version, resource: r.resource }, kind: r.kind })).sort((a, b) => gvrKey(a.gvr).localeCompare(gvrKey(b.gvr)));
}

export interface ListWatchFeedOptions {
  client: KubeClient;
  store: FactStore;
  /** Resources to follow; re-discovered every `rediscoverMs`. */
  wanted: readonly WantedResource[];
  log: Logger;
  rediscoverMs?: number;
  /** Passed to each informer (tests shorten them). */
  informer?: { idleTimeoutMs?: number; resyncMs?: number; backoff?: { initialMs: number; maxMs: number } };
}

export class ListWatchFeed implements StoreFeed {
  private readonly ctl = new AbortController();
  private readonly informers = new Map<string, Informer>();
  private discovered = false;
  private runner: Promise<void> | undefined;

  constructor(private readonly opts: ListWatchFeedOptions) {}

  start(): void {
    this.runner ??= this.run();
  }

  synced(): boolean {
    if (!this.discovered) return false;
    // A resource the ServiceAccount may not read (403) will not sync until RBAC changes:
    // it must not hold readiness hostage; the informer logs it and keeps retrying.
    for (const i of this.informers.values()) if (!i.synced && i.status().lastError?.status !== 403) return false;
    return true;
  }

  /** Resolves true once synced, false on timeout or stop. */
  async waitSynced(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.ctl.signal.aborted) {
      if (this.synced()) return true;
      await sleep(50, this.ctl.signal);
    }
    return this.synced();
  }

  /** Which resources are being watched (for logs and tests). */
  watched(): string[] {
    return [...this.informers.keys()].sort();
  }

  async stop(): Promise<void> {
    this.ctl.abort();
    await this.runner;
    await Promise.allSettled([...this.informers.values()].map((i) => i.stop()));
    this.informers.clear();
    webhookMetrics.storeSynced.set(0);
  }

  private async run(): Promise<void> {
    const signal = this.ctl.signal;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        const d = await discover(this.opts.client);
        if (signal.aborted) return;
        for (const e of d.errors) this.opts.log.warn({ error: e }, 'partial API discovery');
        await this.reconcile(resolveWanted(this.opts.wanted, d.resources));
        this.discovered = true;
        attempt = 0;
        await sleep(this.opts.rediscoverMs ?? 5 * 60_000, signal);
      } catch (err) {
        webhookMetrics.feedErrors.inc({ resource: 'discovery' });
        const delay = backoffDelay(attempt++);
        this.opts.log.warn({ err: (err as Error).message, retryInMs: delay }, 'API discovery failed');
        await sleep(delay, signal);
      }
    }
  }

  private async reconcile(found: { gvr: Gvr; kind: string }[]): Promise<void> {
    const want = new Map(found.map((f) => [gvrKey(f.gvr), f]));
    for (const [key, inf] of this.informers) {
      if (want.has(key)) continue;
      this.informers.delete(key);
      await inf.stop();
      this.opts.store.dropGvr(key);
      this.opts.log.info({ resource: key }, 'resource no longer served; stopped watching it');
    }
    for (const [key, f] of want) {
      if (this.informers.has(key) || this.ctl.signal.aborted) continue;
      const store = this.opts.store;
      const gvr = f.gvr;
      const log = this.opts.log;
      const refused = (error: string): void => {
        webhookMetrics.feedErrors.inc({ resource: key });
        log.warn({ resource: key, error }, 'object refused by the fact store');
      };
      const inf = new Informer(
        this.opts.client,
        {
          replace: (items: RawObject[]) => {
            for (const e of store.replaceAll(gvr, items).errors) refused(e.error);
            webhookMetrics.feedRelists.inc({ resource: key });
            webhookMetrics.storeSynced.set(this.synced() ? 1 : 0);
          },
          upsert: (obj: RawObject) => {
            const r = store.upsert(gvr, obj);
            if (!r.ok) refused(r.error);
          },
          delete: (obj: RawObject) => {
            const md = (obj.metadata ?? {}) as { namespace?: string; name?: string };
            store.delete(gvr, md.namespace, md.name ?? '');
          },
        },
        { gvr, log, ...this.opts.informer },
      );
      this.informers.set(key, inf);
      inf.start();
      log.info({ resource: key }, 'watching');
    }
    webhookMetrics.storeSynced.set(this.synced() ? 1 : 0);
  }
}

/** A feed that holds still: the store was filled from manifests before the server started. */
export class StaticFeed implements StoreFeed {
  start(): void {
    webhookMetrics.storeSynced.set(1);
  }
  synced(): boolean {
    return true;
  }
  async stop(): Promise<void> {
    // nothing to release
  }
}
