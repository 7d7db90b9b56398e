// Keeps one ConstraintReport per namespace current. Changes mark namespaces dirty
// (a constraint marks the namespaces its scope can reach, a workload its own); each
// dirty namespace is rebuilt after a short quiet period (bounded by a maximum delay
// under constant churn), compared with what the cluster holds, and written only when
// the content differs. Our own writes come back through the report informer and are
// recognised, so a write never triggers another.
import type { Analyzer } from '../../engine/analyzer.js';
import { createHash } from 'node:crypto';
import { candidateNamespaces } from '../../engine/scope.js';
import type { Constraint } from '../../engine/model.js';
import { KubeApiError, type KubeClient } from '../kube/client.js';
import { Informer, type RawObject } from '../kube/informer.js';
import { GVR, collectionPath, objectPath } from '../kube/paths.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { ObjectCache, type CacheChange } from './cache.js';
import { buildReport, type ReportContent, type ReportOptions } from './report.js';
import type { InformerTuning } from './watches.js';

/** Every namespace's report has this name. */
export const REPORT_NAME = 'potoo';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'potoo';

export interface ReportWriterOptions {
  identity: string;
  log: Logger;
  metrics?: Metrics;
  /** Quiet period after the last change before a namespace is rebuilt. */
  debounceMs?: number;
  /** Longest a dirty namespace waits under constant churn. */
  maxDelayMs?: number;
  /** Namespaces rebuilt/written at once. */
  concurrency?: number;
  /** Namespaces that never get a report. */
  excludeNamespaces?: readonly string[];
  report?: ReportOptions;
  tuning?: InformerTuning;
}

export interface ReportWriterStats {
  written: number;
  unchanged: number;
  deleted: number;
  errors: number;
  dirty: number;
  lastWrite?: string;
}

type Status = ReportContent & { lastUpdateTime?: string; generatedBy?: string };

/** The comparable part of a report's status (what we would write, minus bookkeeping). */
function contentOf(status: unknown): unknown {
  if (typeof status !== 'object' || status === null) return undefined;
  const { lastUpdateTime: _t, generatedBy: _g, ...rest } = status as Status;
  return rest;
}

/** JSON with sorted keys: the apiserver re-serializes objects with its own key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** A fingerprint of report content: what is compared, so whole reports need not stay in memory. */
export function contentHash(content: unknown): string {
  return createHash('sha256').update(canonical(content)).digest('base64url');
}

/** What the report cache keeps of a report: identity, version and a fingerprint of its content. */
function slimReport(obj: RawObject): RawObject {
  const md = (obj.metadata ?? {}) as { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  const slim: RawObject = { metadata: { name: md.name, namespace: md.namespace, resourceVersion: md.resourceVersion } };
  if (obj.status !== undefined) slim.statusHash = contentHash(contentOf(obj.status));
  return slim;
}

export class ReportWriter {
  private readonly cache: ObjectCache;
  private readonly informer: Informer;
  private readonly dirty = new Map<string, { first: number; last: number }>();
  private readonly inFlight = new Set<string>();
  /**
   * What we last wrote per namespace and the resourceVersion it got. A report still at
   * that version is ours, whatever the apiserver did to it on the way in (defaulting,
   * pruning), so neither its echo nor a rebuild with the same content writes again.
   */
  private readonly written = new Map<string, { hash: string; rv: string | undefined }>();
  private timer: NodeJS.Timeout | undefined;
  private enabled = false;
  private stopped = false;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly exclude: Set<string>;
  private readonly s: ReportWriterStats = { written: 0, unchanged: 0, deleted: 0, errors: 0, dirty: 0 };
  private running = 0;
  private readonly queue: string[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly client: KubeClient,
    private readonly analyzer: Analyzer,
    private readonly opts: ReportWriterOptions,
  ) {
    this.exclude = new Set(opts.excludeNamespaces ?? []);
    this.cache = new ObjectCache((changes) => this.onReports(changes), slimReport);
    this.informer = new Informer(client, this.cache, {
      gvr: GVR.constraintReports,
      labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
      log: opts.log,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      ...(opts.tuning ?? {}),
    });
  }

  /** Start following changes and the cluster's reports; nothing is written until enable(). */
  start(): void {
    this.informer.start();
    this.unsubscribe.push(
      this.analyzer.constraints.subscribe((ch) => {
        this.markForConstraint(ch.constraint);
        if (ch.type === 'MODIFIED') this.markForConstraint(ch.old);
      }),
      this.analyzer.workloads.subscribe((ev) => {
        this.mark(ev.workload.namespace);
        if (ev.old && ev.old.namespace !== ev.workload.namespace) this.mark(ev.old.namespace);
      }),
      this.analyzer.store.subscribe((ev) => {
        // Namespace labels feed namespaceSelectors; a new namespace needs its first report.
        if (ev.gvrKey === 'v1/namespaces') this.mark(ev.key);
      }),
    );
  }

  async waitForReportsListed(): Promise<void> {
    await this.informer.waitForSync();
  }

  /** Begin writing (this replica leads and its caches are synced): every namespace is rebuilt. */
  enable(): void {
    if (this.enabled) return;
    this.enabled = true;
    this.markAll();
  }

  /** Stop writing (leadership lost). Pending work is dropped; enable() rebuilds everything. */
  disable(): void {
    this.enabled = false;
    this.dirty.clear();
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.disable();
    for (const u of this.unsubscribe.splice(0)) u();
    await this.informer.stop();
  }

  stats(): ReportWriterStats {
    return { ...this.s, dirty: this.dirty.size + this.queue.length + this.inFlight.size };
  }

  /** Reports currently in the cluster, as last seen (identity, version and content fingerprint). */
  reports(): RawObject[] {
    return this.cache.list();
  }

  /** Resolves when no namespace is dirty, queued or being written. */
  async idle(): Promise<void> {
    if (this.dirty.size === 0 && this.queue.length === 0 && this.inFlight.size === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  markAll(): void {
    const names = new Set(this.analyzer.store.namespaces().map((n) => n.name));
    for (const r of this.cache.list()) {
      const ns = (r.metadata as { namespace?: string } | undefined)?.namespace;
      if (ns) names.add(ns);
    }
    for (const ns of names) this.mark(ns, false);
    this.schedule();
  }

  private markForConstraint(c: Constraint): void {
    const nss = candidateNamespaces(c.scope);
    if (nss === 'all') this.markAll();
    else for (const ns of nss) this.mark(ns);
  }

  /** `schedule: false` when marking many at once: the caller schedules once at the end. */
  mark(ns: string, schedule = true): void {
    if (!this.enabled || this.stopped || this.exclude.has(ns)) return;
    const now = Date.now();
    const d = this.dirty.get(ns);
    if (d) d.last = now;
    else this.dirty.set(ns, { first: now, last: now });
    if (schedule) this.schedule();
  }

  private schedule(): void {
    if (!this.enabled || this.stopped) return;
    const debounce = this.opts.debounceMs ?? 250;
    const maxDelay = this.opts.maxDelayMs ?? 1000;
    let due = Infinity;
    for (const d of this.dirty.values()) due = Math.min(due, Math.min(d.last + debounce, d.first + maxDelay));
    if (due === Infinity) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), Math.max(0, due - Date.now()));
  }

  private tick(): void {
    this.timer = undefined;
    const debounce = this.opts.debounceMs ?? 250;
    const maxDelay = this.opts.maxDelayMs ?? 1000;
    const now = Date.now();
    for (const [ns, d] of [...this.dirty]) {
      if (this.inFlight.has(ns)) continue;
      if (now >= d.last + debounce || now >= d.first + maxDelay) {
        this.dirty.delete(ns);
        this.queue.push(ns);
        this.firstDirty.set(ns, Math.min(this.firstDirty.get(ns) ?? Infinity, d.first));
      }
    }
    this.pump();
    this.schedule();
  }

  /** When each queued namespace first became dirty (for the change-to-report latency). */
  private readonly firstDirty = new Map<string, number>();

  private pump(): void {
    const max = this.opts.concurrency ?? 4;
    while (this.running < max && this.queue.length > 0) {
      const ns = this.queue.shift() as string;
      if (this.inFlight.has(ns)) continue;
      this.inFlight.add(ns);
      this.running++;
      void this.flush(ns).finally(() => {
        this.inFlight.delete(ns);
        this.running--;
        this.pump();
        // Marked again while it was being written: go round once more.
        if (this.dirty.has(ns)) this.schedule();
        this.checkIdle();
      });
    }
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.dirty.size === 0 && this.queue.length === 0 && this.inFlight.size === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async flush(ns: string): Promise<void> {
    if (!this.enabled) return;
    const first = this.firstDirty.get(ns);
    this.firstDirty.delete(ns);
    const m = this.opts.metrics;
    const t0 = performance.now();
    try {
      // Reports reflect fully adapted state, not a half-processed batch of changes.
      await this.analyzer.idle();
      const tIdle = performance.now();
      if (!this.enabled) return;
      const nsObj = this.analyzer.store.get(GVR.namespaces, undefined, ns);
      const terminating = (nsObj?.status as { phase?: string } | undefined)?.phase === 'Terminating';
      const built = nsObj && !terminating ? buildReport(this.analyzer, ns, this.opts.report) : undefined;
      const existing = this.cache.get(`${ns}/${REPORT_NAME}`);
      if (!built) {
        // Nothing to report (no workloads, no constraints) or the namespace is gone: a
        // terminating namespace takes its report with it, otherwise we remove ours.
        if (existing && !terminating) {
          await this.client.delete(objectPath(GVR.constraintReports, ns, REPORT_NAME)).catch((err: unknown) => {
            if (!KubeApiError.is(err, 404)) throw err;
          });
          this.written.delete(ns);
          this.s.deleted++;
          m?.reportWrites.inc({ result: 'deleted' });
        }
        return;
      }
      // JSON round trip: what the apiserver stores has no undefined fields.
      const content = JSON.parse(JSON.stringify(built)) as ReportContent;
      const hash = contentHash(content);
      const mine = this.written.get(ns);
      const existingRv = (existing?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
      const same = existing && (existing.statusHash === hash || (mine !== undefined && mine.rv === existingRv && mine.hash === hash));
      if (same) {
        if (!mine || mine.rv !== existingRv) this.written.set(ns, { hash, rv: existingRv });
        this.s.unchanged++;
        m?.reportWrites.inc({ result: 'unchanged' });
        return;
      }
      const tBuilt = performance.now();
      if (!existing) {
        try {
          await this.client.create(collectionPath(GVR.constraintReports, ns), {
            apiVersion: 'potoo.io/v1alpha1',
            kind: 'ConstraintReport',
            metadata: { name: REPORT_NAME, namespace: ns, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
            spec: { namespace: ns },
          });
        } catch (err) {
          if (!KubeApiError.is(err, 409)) throw err;
        }
      }
      const tCreated = performance.now();
      this.written.set(ns, { hash, rv: undefined });
      const status: Status = { ...content, lastUpdateTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), generatedBy: this.opts.identity };
      // JSON patch `add` replaces the whole status (a merge patch would keep stale keys).
      const updated = await this.client.request<{ metadata?: { resourceVersion?: string } }>({
        method: 'PATCH',
        path: objectPath(GVR.constraintReports, ns, REPORT_NAME, 'status'),
        body: [{ op: 'add', path: '/status', value: status }],
        contentType: 'application/json-patch+json',
      });
      this.written.set(ns, { hash, rv: updated?.metadata?.resourceVersion });
      this.s.written++;
      this.s.lastWrite = new Date().toISOString();
      m?.reportWrites.inc({ result: existing ? 'updated' : 'created' });
      this.opts.log.debug(
        {
          namespace: ns,
          idleMs: Math.round(tIdle - t0),
          buildMs: Math.round(tBuilt - tIdle),
          createMs: Math.round(tCreated - tBuilt),
          patchMs: Math.round(performance.now() - tCreated),
          entries: content.entries.length,
          bytes: JSON.stringify(status).length,
        },
        'ConstraintReport written',
      );
      if (first !== undefined) m?.reportLatency.observe((Date.now() - first) / 1000);
    } catch (err) {
      this.written.delete(ns);
      this.s.errors++;
      m?.reportWrites.inc({ result: 'error' });
      const e = err as KubeApiError;
      // A namespace being deleted refuses new objects; that is expected, not a failure.
      const level = e.status === 403 && /being terminated/.test(e.message) ? 'debug' : 'warn';
      this.opts.log[level]({ namespace: ns, err: e.message }, 'could not write ConstraintReport');
      if (level === 'warn' && this.enabled) {
        // Try again later rather than leave the report stale.
        setTimeout(() => this.mark(ns), 5000).unref();
      }
    } finally {
      m?.reports.set(this.cache.size);
    }
  }

  private onReports(changes: CacheChange[]): void {
    for (const c of changes) {
      const ns = (c.object.metadata as { namespace?: string } | undefined)?.namespace;
      if (!ns) continue;
      if (c.type !== 'DELETED') {
        const mine = this.written.get(ns);
        const rv = (c.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
        // Our own write echoing back: nothing to do.
        if (mine !== undefined && ((mine.rv !== undefined && mine.rv === rv) || c.object.statusHash === mine.hash)) continue;
        // A report we created but have not filled in yet (create, then status patch).
        if (c.type === 'ADDED' && c.object.statusHash === undefined && this.inFlight.has(ns)) continue;
      }
      // Someone else changed or deleted it: put our version back.
      this.mark(ns);
    }
  }
}
