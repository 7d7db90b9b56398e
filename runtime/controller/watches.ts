// The set of running informers that feed the fact store: reconciled against each new
// selection, so informers start when a resource appears and stop (dropping its objects
// from the store) when it goes.
import type { Gvr } from '../../engine/model.js';
import { gvrKey } from '../../engine/gvr.js';
import type { KubeClient } from '../kube/client.js';
import { Informer, type InformerStatus } from '../kube/informer.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { SelectReason, SelectedResource } from './selection.js';
import type { StoreFeed } from './storefeed.js';

export interface InformerTuning {
  idleTimeoutMs?: number;
  resyncMs?: number;
  pageSize?: number;
  backoff?: { initialMs: number; maxMs: number };
}

export interface WatchedResource {
  gvr: Gvr;
  kind: string;
  namespaced: boolean;
  reasons: SelectReason[];
  since: string;
  informer: InformerStatus;
}

interface Entry {
  sel: SelectedResource;
  informer: Informer;
  since: Date;
}

const grKey = (g: Pick<Gvr, 'group' | 'resource'>): string => `${g.group}|${g.resource}`;

export class WatchSet {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly client: KubeClient,
    private readonly feed: StoreFeed,
    private readonly opts: { log: Logger; metrics?: Metrics; tuning?: InformerTuning },
  ) {}

  /** Start what is new, stop what is gone, restart what changed version. */
  async reconcile(selected: readonly SelectedResource[]): Promise<{ started: string[]; stopped: string[] }> {
    const want = new Map(selected.map((s) => [grKey(s.gvr), s]));
    const started: string[] = [];
    const stopped: string[] = [];
    for (const [k, e] of [...this.entries]) {
      const s = want.get(k);
      if (s && s.gvr.version === e.sel.gvr.version) {
        e.sel = s;
        continue;
      }
      this.entries.delete(k);
      await e.informer.stop();
      this.feed.drop(e.sel.gvr);
      stopped.push(gvrKey(e.sel.gvr));
      this.opts.log.info({ gvr: gvrKey(e.sel.gvr), reason: s ? `version changed to ${s.gvr.version}` : 'no longer served or selected' }, 'informer stopped');
    }
    for (const [k, s] of want) {
      if (this.entries.has(k)) continue;
      const informer = new Informer(this.client, this.feed.sinkFor(s.gvr), {
        gvr: s.gvr,
        log: this.opts.log,
        ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
        ...(this.opts.tuning ?? {}),
      });
      this.entries.set(k, { sel: s, informer, since: new Date() });
      informer.start();
      started.push(gvrKey(s.gvr));
      this.opts.log.info({ gvr: gvrKey(s.gvr), kind: s.kind, reasons: s.reasons }, 'informer started');
    }
    this.opts.metrics?.informersRunning.set(this.entries.size);
    if (this.opts.metrics) {
      this.opts.metrics.watchedGvrs.reset();
      for (const e of this.entries.values()) for (const r of e.sel.reasons) this.opts.metrics.watchedGvrs.inc({ reason: r });
    }
    return { started, stopped };
  }

  /**
   * Resolves when every informer has listed once, or has failed in a way waiting will not
   * fix soon (forbidden, not found): readiness must not hang on one unreadable resource.
   */
  async settled(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all([...this.entries.values()].map((e) => e.informer.waitForSettled())), timeout]);
    clearTimeout(timer);
  }

  list(): WatchedResource[] {
    return [...this.entries.values()].map((e) => ({
      gvr: e.sel.gvr,
      kind: e.sel.kind,
      namespaced: e.sel.namespaced,
      reasons: e.sel.reasons,
      since: e.since.toISOString(),
      informer: e.informer.status(),
    }));
  }

  has(gvr: Pick<Gvr, 'group' | 'resource'>): boolean {
    return this.entries.has(grKey(gvr));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.informer.stop()));
    this.entries.clear();
    this.opts.metrics?.informersRunning.set(0);
  }
}
