// Kubernetes Events on the affected workload (events.k8s.io/v1), the channel every
// developer already reads with `kubectl events` and `kubectl describe`. Repeats of the
// same message about the same object join one Event's `series` (shown as "x5 over 3m")
// instead of stacking up, the way client-go's event recorder does it: the first
// occurrence is written at once, later ones bump the count, patched at most every
// `seriesFlushMs` so a storm costs a handful of writes.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { KubeApiError, type KubeClient } from '../kube/client.js';
import { sinkMetrics } from './metrics.js';
import { SinkError, type Notification, type ObjectRef, type Sink } from './types.js';

export interface EventSpec {
  regarding: ObjectRef;
  related?: ObjectRef;
  type: 'Normal' | 'Warning';
  /** UpperCamelCase, machine-readable (BlockedByConstraint). */
  reason: string;
  /** What Potoo did (Explain). */
  action: string;
  note: string;
}

export interface EventSinkOptions {
  client: Pick<KubeClient, 'request'>;
  /** `reportingController` (events.k8s.io) / `reportingComponent` (core/v1), e.g. potoo.io/controller. */
  reportingController: string;
  /** `reportingInstance`: this replica (its pod name). */
  reportingInstance: string;
  log?: Logger;
  /** Repeats within this window join the existing Event's series (default 30 min, under the API server's 1 h Event TTL). */
  windowMs?: number;
  /** Series count updates are written at most this often per Event (default 10 s). */
  seriesFlushMs?: number;
  /** Events remembered for series (least recently used beyond it start a new Event). */
  maxTracked?: number;
  /** Per API call deadline. */
  timeoutMs?: number;
}

export type EmitResult = 'created' | 'series';

interface Tracked {
  name: string;
  namespace: string;
  count: number;
  /** Count the API server last acknowledged. */
  written: number;
  last: number;
  lastWrite: number;
  /** Serializes work on one Event: the create, then series patches. */
  chain: Promise<unknown>;
  timer: NodeJS.Timeout | undefined;
}

/** The API server refuses notes over 1 kB and reasons/actions over 128 characters. */
const MAX_NOTE_BYTES = 1024;
const MAX_SHORT = 128;

function truncateBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = s.slice(0, max);
  while (Buffer.byteLength(out) > max - 3) out = out.slice(0, -1);
  return out + '...';
}

/** events.k8s.io MicroTime. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** UpperCamelCase, as Event reasons are by convention; at most 128 characters. */
export function eventReason(s: string): string {
  const r = s.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')).replace(/^./, (c) => c.toUpperCase());
  return (r || 'Unknown').slice(0, MAX_SHORT);
}

export function eventFromNotification(n: Notification): EventSpec {
  if (!n.regarding) throw new SinkError(`notification ${n.id} names no object to attach an Event to`, false);
  const spec: EventSpec = {
    regarding: n.regarding,
    type: n.severity === 'Info' ? 'Normal' : 'Warning',
    reason: eventReason(n.reason ?? (n.severity === 'Info' ? 'ConstraintApplies' : 'BlockedByConstraint')),
    action: eventReason(n.action ?? 'Explain'),
    note: `${n.title}: ${n.text}`,
  };
  if (n.related) spec.related = n.related;
  return spec;
}

export class EventSink implements Sink {
  readonly type = 'kubernetes-event' as const;
  private readonly tracked = new Map<string, Tracked>();
  private readonly windowMs: number;
  private readonly flushMs: number;
  private readonly maxTracked: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: EventSinkOptions) {
    this.windowMs = opts.windowMs ?? 30 * 60_000;
    this.flushMs = opts.seriesFlushMs ?? 10_000;
    this.maxTracked = opts.maxTracked ?? 4096;
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  async send(n: Notification): Promise<void> {
    await this.emit(eventFromNotification(n));
  }

  /**
   * Write an Event, or count a repeat into its series. Throws SinkError when the first
   * write fails (the dispatcher retries); series updates that fail are retried on the
   * next flush and never fail a repeat.
   */
  async emit(spec: EventSpec): Promise<EmitResult> {
    const note = truncateBytes(spec.note.replace(/\s+/g, ' ').trim(), MAX_NOTE_BYTES);
    const reason = spec.reason.slice(0, MAX_SHORT);
    const action = spec.action.slice(0, MAX_SHORT);
    const namespace = spec.regarding.namespace || 'default';
    const r = spec.regarding;
    const key = [r.apiVersion, r.kind, namespace, r.name, r.uid ?? '', spec.type, reason, action, note].join('\u0000');
    const now = Date.now();
    const prev = this.tracked.get(key);
    if (prev && now - prev.last < this.windowMs) {
      // LRU: touching moves it to the end.
      this.tracked.delete(key);
      this.tracked.set(key, prev);
      prev.count++;
      prev.last = now;
      // The create may still be in flight: the series waits for it on the chain.
      this.scheduleFlush(key, prev);
      sinkMetrics.eventSeries.inc();
      return 'series';
    }
    if (prev) this.forget(key, prev);
    const t: Tracked = { name: '', namespace, count: 1, written: 0, last: now, lastWrite: now, chain: Promise.resolve(), timer: undefined };
    this.tracked.set(key, t);
    this.evict();
    const create = this.create({ ...spec, reason, action, note }, namespace, now).then(
      (name) => {
        t.name = name;
        t.written = 1;
        t.lastWrite = Date.now();
      },
      (err: unknown) => {
        // Nothing was written: the next emit of this key starts over.
        if (this.tracked.get(key) === t) this.forget(key, t);
        throw err;
      },
    );
    t.chain = create.catch(() => undefined);
    await create;
    return 'created';
  }

  /** Write every pending series count now (shutdown, tests). */
  async flush(): Promise<void> {
    const pending: Promise<unknown>[] = [];
    for (const t of this.tracked.values()) {
      if (t.timer) {
        clearTimeout(t.timer);
        t.timer = undefined;
      }
      if (t.count > t.written) pending.push((t.chain = t.chain.then(() => this.patchSeries(t))));
      else pending.push(t.chain);
    }
    await Promise.allSettled(pending);
  }

  stop(): void {
    for (const t of this.tracked.values()) clearTimeout(t.timer);
  }

  private scheduleFlush(key: string, t: Tracked): void {
    if (t.timer) return;
    const wait = Math.max(0, t.lastWrite + this.flushMs - Date.now());
    t.timer = setTimeout(() => {
      t.timer = undefined;
      if (this.tracked.get(key) !== t) return;
      t.chain = t.chain.then(() => this.patchSeries(t)).catch(() => undefined);
    }, wait);
    t.timer.unref();
  }

  private async create(spec: EventSpec, namespace: string, now: number): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      // client-go names Events <object>.<hex nanos>; a random suffix avoids collisions between replicas.
      const name = `${spec.regarding.name}.${now.toString(16)}${randomBytes(4).toString('hex')}`.slice(-253).replace(/^[.-]+/, '');
      const body: Record<string, unknown> = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace },
        eventTime: microTime(new Date(now)),
        reportingController: this.opts.reportingController,
        reportingInstance: this.opts.reportingInstance,
        action: spec.action,
        reason: spec.reason,
        type: spec.type,
        note: spec.note,
        regarding: { ...spec.regarding, namespace: spec.regarding.namespace ?? '' },
      };
      if (spec.related) body.related = spec.related;
      try {
        await this.opts.client.request({ method: 'POST', path: `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`, body, timeoutMs: this.timeoutMs, verb: 'create' });
        sinkMetrics.eventWrites.inc({ op: 'create', result: 'ok' });
        return name;
      } catch (err) {
        sinkMetrics.eventWrites.inc({ op: 'create', result: 'error' });
        if (err instanceof KubeApiError && err.status === 409 && attempt < 2) continue;
        throw toSinkError(err, `Event on ${spec.regarding.kind} ${namespace}/${spec.regarding.name}`);
      }
    }
  }

  private async patchSeries(t: Tracked): Promise<void> {
    if (!t.name || t.count <= t.written) return;
    const count = t.count;
    try {
      await this.opts.client.request({
        method: 'PATCH',
        path: `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(t.namespace)}/events/${encodeURIComponent(t.name)}`,
        body: { series: { count, lastObservedTime: microTime(new Date(t.last)) } },
        contentType: 'application/merge-patch+json',
        timeoutMs: this.timeoutMs,
        verb: 'patch',
      });
      t.written = Math.max(t.written, count);
      t.lastWrite = Date.now();
      sinkMetrics.eventWrites.inc({ op: 'series', result: 'ok' });
    } catch (err) {
      sinkMetrics.eventWrites.inc({ op: 'series', result: 'error' });
      if (err instanceof KubeApiError && err.status === 404) {
        // The Event expired (TTL) or was deleted: the next repeat starts a new one.
        t.last = 0;
        return;
      }
      this.opts.log?.warn({ err: (err as Error).message, event: `${t.namespace}/${t.name}` }, 'could not update the Event series; will retry');
      t.lastWrite = Date.now();
      // Retry on the next flush tick even if no further repeat arrives.
      const key = [...this.tracked.entries()].find(([, v]) => v === t)?.[0];
      if (key) this.scheduleFlush(key, t);
    }
  }

  private forget(key: string, t: Tracked): void {
    clearTimeout(t.timer);
    this.tracked.delete(key);
  }

  private evict(): void {
    while (this.tracked.size > this.maxTracked) {
      const [key, t] = this.tracked.entries().next().value as [string, Tracked];
      // Write its pending count before forgetting it.
      if (t.count > t.written) t.chain = t.chain.then(() => this.patchSeries(t)).catch(() => undefined);
      clearTimeout(t.timer);
      this.tracked.delete(key);
    }
  }
}

function toSinkError(err: unknown, what: string): SinkError {
  if (err instanceof SinkError) return err;
  if (err instanceof KubeApiError) {
    const retryable = err.status === 0 || err.status === 429 || err.status >= 500;
    return new SinkError(`${what}: ${err.message}`, retryable, err.status);
  }
  return new SinkError(`${what}: ${(err as Error).message}`, true);
}
