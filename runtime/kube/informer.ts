// An informer that holds up: list (paginated) then watch from the list's resourceVersion
// with bookmarks; relist on 410 Gone and after any failed watch; restart with jittered
// exponential backoff on every error (client-node's informer stops for good on anything
// but 410); a watchdog that restarts a watch that went quiet (a dead connection without
// a FIN hangs forever otherwise); and a periodic full relist as a last line of defence.
// A relist hands the sink the complete list, so nothing missed survives as a ghost.
import type { Gvr } from '../../engine/model.js';
import { gvrKey } from '../../engine/gvr.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { backoffDelay } from '../sinks/backoff.js';
import { KubeApiError, WatchIdleError, type KubeClient, type Query, type WatchEvent, type WatchHandle } from './client.js';
import { collectionPath } from './paths.js';

export type RawObject = Record<string, unknown>;

/** Where an informer's objects go. Called synchronously, never concurrently. */
export interface InformerSink {
  /** The complete current list: make the cache hold exactly these. */
  replace(items: RawObject[]): void;
  upsert(obj: RawObject): void;
  delete(obj: RawObject): void;
}

export interface InformerOptions {
  gvr: Gvr;
  /** Limit to one namespace (default: all). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Objects per list page. */
  pageSize?: number;
  /** Restart a watch that delivered nothing (not even a bookmark) for this long. */
  idleTimeoutMs?: number;
  /** Full relist this often even when the watch looks healthy (0 = never). */
  resyncMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Server-side watch timeout range, seconds (client-go uses 5-10 minutes). */
  watchTimeoutSeconds?: [number, number];
  log: Logger;
  metrics?: Metrics;
}

export type InformerState = 'idle' | 'listing' | 'watching' | 'backoff' | 'stopped';

export interface InformerStatus {
  gvr: string;
  namespace?: string;
  state: InformerState;
  synced: boolean;
  resourceVersion?: string;
  lastSyncTime?: string;
  lastError?: { message: string; status: number; time: string };
  relists: number;
  restarts: number;
  events: number;
}

/** List failures that retrying soon will not fix: unauthorized, forbidden, not found. */
const PERMANENT = [401, 403, 404];

type WatchEnd =
  | { kind: 'closed'; events: number; lastedMs: number }
  | { kind: 'expired' }
  | { kind: 'stopped' }
  | { kind: 'resync' }
  | { kind: 'error'; err: Error }
  /** An undecodable line: resume from the last applied version, which redelivers the lost object. */
  | { kind: 'decode'; err: Error };

/**
 * The informer's name in metrics (the `gvr` label) and logs: its resource, namespace and
 * selectors, written as the list request would carry them, e.g.
 * `v1/events?fieldSelector=type=Warning` or
 * `v1/configmaps@potoo-system?labelSelector=potoo.io/rule-pack=true`. Two informers on one
 * resource that differ only in a selector must not add to, or unset, each other's series.
 */
export function informerKey(o: Pick<InformerOptions, 'gvr' | 'namespace' | 'labelSelector' | 'fieldSelector'>): string {
  const selectors = [o.labelSelector ? `labelSelector=${o.labelSelector}` : '', o.fieldSelector ? `fieldSelector=${o.fieldSelector}` : ''].filter(Boolean);
  return gvrKey(o.gvr) + (o.namespace ? `@${o.namespace}` : '') + (selectors.length ? `?${selectors.join('&')}` : '');
}

export class Informer {
  readonly key: string;
  private running = false;
  private state: InformerState = 'idle';
  private hasSynced = false;
  private rv: string | undefined;
  private lastSyncTime: Date | undefined;
  private lastError: InformerStatus['lastError'];
  private relists = 0;
  private restarts = 0;
  private events = 0;
  private watch: WatchHandle | undefined;
  private wake: (() => void) | undefined;
  private resyncDue = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly settleWaiters: (() => void)[] = [];
  private readonly opts: Required<Omit<InformerOptions, 'namespace' | 'labelSelector' | 'fieldSelector' | 'metrics'>> & InformerOptions;

  constructor(
    private readonly client: KubeClient,
    private readonly sink: InformerSink,
    opts: InformerOptions,
  ) {
    this.opts = {
      pageSize: 500,
      idleTimeoutMs: 150_000,
      resyncMs: 15 * 60_000,
      backoff: { initialMs: 500, maxMs: 30_000 },
      watchTimeoutSeconds: [300, 600],
      ...opts,
    };
    this.key = informerKey(opts);
  }

  get synced(): boolean {
    return this.hasSynced;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleResync();
    this.loop = this.run().catch((err: unknown) => {
      // run() handles its own errors; reaching here is a bug, and it must be loud.
      this.opts.log.error({ err, informer: this.key }, 'informer loop crashed');
    });
  }

  /** Stop watching; after this resolves the sink is never called again. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.state = 'stopped';
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.watch?.abort();
    this.wake?.();
    await this.loop;
    this.opts.metrics?.informerSynced.remove({ gvr: this.key });
    // Anyone waiting for a sync that will never come is released (and checks `synced`).
    for (const w of this.syncWaiters.splice(0)) w();
    for (const w of this.settleWaiters.splice(0)) w();
  }

  /** Resolves once the first list has been delivered (or the informer is stopped). */
  waitForSync(): Promise<void> {
    if (this.hasSynced || !this.running) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /**
   * Resolves once the first list was delivered, or a list failed in a way that waiting
   * will not fix soon (unauthorized, forbidden, not found): startup must not hang on one
   * unreadable resource. The informer keeps retrying either way.
   */
  waitForSettled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.settleWaiters.push(resolve));
  }

  isSettled(): boolean {
    return this.hasSynced || !this.running || (this.lastError !== undefined && PERMANENT.includes(this.lastError.status));
  }

  status(): InformerStatus {
    const s: InformerStatus = {
      gvr: gvrKey(this.opts.gvr),
      state: this.state,
      synced: this.hasSynced,
      relists: this.relists,
      restarts: this.restarts,
      events: this.events,
    };
    if (this.opts.namespace) s.namespace = this.opts.namespace;
    if (this.rv) s.resourceVersion = this.rv;
    if (this.lastSyncTime) s.lastSyncTime = this.lastSyncTime.toISOString();
    if (this.lastError) s.lastError = this.lastError;
    return s;
  }

  private scheduleResync(): void {
    if (!this.opts.resyncMs) return;
    // Jitter so informers started together do not relist together.
    const ms = this.opts.resyncMs * (0.9 + Math.random() * 0.2);
    this.resyncTimer = setTimeout(() => {
      this.resyncDue = true;
      this.watch?.abort();
      this.wake?.();
      if (this.running) this.scheduleResync();
    }, ms);
    this.resyncTimer.unref();
  }

  private query(extra: Query): Query {
    const q: Query = { ...extra };
    if (this.opts.labelSelector) q.labelSelector = this.opts.labelSelector;
    if (this.opts.fieldSelector) q.fieldSelector = this.opts.fieldSelector;
    return q;
  }

  private async run(): Promise<void> {
    const m = this.opts.metrics;
    let needList: string | undefined = 'initial';
    let failures = 0;
    while (this.running) {
      if (this.resyncDue) {
        this.resyncDue = false;
        needList ??= 'resync';
      }
      if (needList) {
        this.state = 'listing';
        try {
          const items = await this.listAll();
          if (!this.running) return;
          this.relists++;
          m?.informerRelists.inc({ gvr: this.key, reason: needList });
          this.sink.replace(items);
          this.lastSyncTime = new Date();
          needList = undefined;
          failures = 0;
          if (!this.hasSynced) {
            this.hasSynced = true;
            m?.informerSynced.set({ gvr: this.key }, 1);
            for (const w of this.syncWaiters.splice(0)) w();
            for (const w of this.settleWaiters.splice(0)) w();
          }
        } catch (err) {
          if (!this.running) return;
          this.noteError(err, 'list');
          if (this.isSettled()) for (const w of this.settleWaiters.splice(0)) w();
          await this.backoff(++failures);
          continue;
        }
      }
      this.state = 'watching';
      const end = await this.watchOnce();
      if (!this.running || end.kind === 'stopped') return;
      switch (end.kind) {
        case 'resync':
          needList = 'resync';
          this.resyncDue = false;
          break;
        case 'expired':
          // The resourceVersion fell out of etcd's compaction window: only a list knows the truth.
          needList = 'expired';
          this.countRestart('expired');
          break;
        case 'closed':
          // The server ends every watch at its timeout; that is routine. A watch that
          // ends at once with nothing in it is not, and backs off like an error.
          if (end.events === 0 && end.lastedMs < 1000) {
            this.countRestart('closed-early');
            await this.backoff(++failures);
          } else {
            failures = 0;
            this.countRestart('closed');
          }
          break;
        case 'decode':
          this.noteError(end.err, 'watch-decode');
          this.countRestart('decode');
          await this.backoff(++failures);
          break;
        case 'error': {
          const idle = end.err instanceof WatchIdleError;
          this.noteError(end.err, idle ? 'watch-idle' : 'watch');
          this.countRestart(idle ? 'idle' : 'error');
          // Events may have been lost with the stream (an apiserver restart, a proxy
          // reset): relist rather than trust that resuming from the last version sees all.
          if (!idle) {
            needList = 'error';
            await this.backoff(++failures);
          }
          break;
        }
      }
    }
  }

  private countRestart(reason: string): void {
    this.restarts++;
    this.opts.metrics?.informerRestarts.inc({ gvr: this.key, reason });
  }

  private noteError(err: unknown, phase: string): void {
    const status = err instanceof KubeApiError ? err.status : 0;
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = { message, status, time: new Date().toISOString() };
    this.opts.metrics?.informerErrors.inc({ gvr: this.key, code: String(status) });
    const level = status === 403 ? 'warn' : phase === 'watch-idle' ? 'info' : 'warn';
    const hint = status === 403 ? 'the controller\'s role does not allow list/watch here; grant it (see deploy/rbac) or exclude the resource' : undefined;
    this.opts.log[level]({ informer: this.key, phase, status, err: message, ...(hint ? { hint } : {}) }, `informer ${phase} failed`);
  }

  private async backoff(failures: number): Promise<void> {
    const { initialMs, maxMs } = this.opts.backoff;
    // The shared policy's defaults (x2 per failure, delay uniform in [d/2, d]); the wait
    // below stays here because stop() and a due resync cut it short through `wake`.
    const ms = backoffDelay(failures - 1, { baseMs: initialMs, maxMs });
    this.state = 'backoff';
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = undefined;
  }

  private async listAll(): Promise<RawObject[]> {
    const path = collectionPath(this.opts.gvr, this.opts.namespace);
    const items: RawObject[] = [];
    let cont: string | undefined;
    let limit: number | undefined = this.opts.pageSize;
    for (;;) {
      let page: { metadata?: { resourceVersion?: string; continue?: string }; items?: RawObject[]; kind?: string; apiVersion?: string };
      try {
        page = await this.client.request({ path, verb: 'list', query: this.query({ limit, continue: cont }), timeoutMs: 60_000 });
      } catch (err) {
        if (cont && KubeApiError.is(err, 410)) {
          // The continue token expired between pages: start over in one unpaginated list.
          items.length = 0;
          cont = undefined;
          limit = undefined;
          continue;
        }
        throw err;
      }
      // List items carry no apiVersion/kind; the list's own kind says them (FooList -> Foo).
      const kind = page.kind?.endsWith('List') ? page.kind.slice(0, -4) : undefined;
      for (const it of page.items ?? []) {
        if (it.kind === undefined && kind) it.kind = kind;
        if (it.apiVersion === undefined && page.apiVersion) it.apiVersion = page.apiVersion;
        items.push(it);
      }
      cont = page.metadata?.continue || undefined;
      if (!cont) {
        this.rv = page.metadata?.resourceVersion;
        return items;
      }
    }
  }

  private watchOnce(): Promise<WatchEnd> {
    const [lo, hi] = this.opts.watchTimeoutSeconds;
    const timeoutSeconds = Math.floor(lo + Math.random() * (hi - lo));
    const started = Date.now();
    let events = 0;
    return new Promise<WatchEnd>((resolve) => {
      let settled = false;
      const done = (end: WatchEnd): void => {
        if (settled) return;
        settled = true;
        this.watch = undefined;
        this.wake = undefined;
        resolve(end);
      };
      this.wake = () => {
        this.watch?.abort();
        done(!this.running ? { kind: 'stopped' } : { kind: 'resync' });
      };
      const onEvent = (ev: WatchEvent): void => {
        if (!this.running) return;
        this.events++;
        this.opts.metrics?.watchEvents.inc({ gvr: this.key, type: ev.type });
        if (ev.type === 'ERROR') {
          const st = ev.object as { code?: number; message?: string; reason?: string };
          this.watch?.abort();
          if (st.code === 410) done({ kind: 'expired' });
          else done({ kind: 'error', err: new KubeApiError(st.code ?? 0, st.reason ?? 'WatchError', `watch error event: ${st.message ?? JSON.stringify(st)}`) });
          return;
        }
        const rv = (ev.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
        if (ev.type === 'BOOKMARK') {
          if (rv) this.rv = rv;
          return;
        }
        events++;
        if (ev.type === 'DELETED') this.sink.delete(ev.object);
        else this.sink.upsert(ev.object);
        if (rv) this.rv = rv;
      };
      this.watch = this.client.watch(
        collectionPath(this.opts.gvr, this.opts.namespace),
        this.query({ resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds }),
        {
          onEvent,
          onDecodeError: (line, err) => {
            this.opts.metrics?.watchDecodeErrors.inc({ gvr: this.key });
            this.opts.log.warn({ informer: this.key, err: err.message, bytes: line.length, head: line.slice(0, 120) }, 'watch stream delivered a line that is not JSON; restarting the watch');
            this.watch?.abort();
            done({ kind: 'decode', err: new Error(`undecodable watch line: ${err.message}`) });
          },
          onClose: (err) => {
            if (!this.running) return done({ kind: 'stopped' });
            if (err && KubeApiError.is(err, 410)) return done({ kind: 'expired' });
            if (err) return done({ kind: 'error', err });
            done({ kind: 'closed', events, lastedMs: Date.now() - started });
          },
        },
        { idleTimeoutMs: this.opts.idleTimeoutMs },
      );
    });
  }
}
