// Kubernetes Events (events.k8s.io/v1) about the objects Potoo reads: a rejected rule
// pack ConfigMap, an invalid ConstraintProfile. Repeats of the same event become a
// series on one Event (what `kubectl events` shows as "x3 over 2m") instead of a pile.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { KubeApiError, type KubeClient } from './client.js';
import { GVR, collectionPath, objectPath } from './paths.js';
import { microTime } from './leader.js';

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EventSpec {
  regarding: ObjectReference;
  type: 'Normal' | 'Warning';
  /** UpperCamelCase, machine-readable (e.g. RulePackInvalid). */
  reason: string;
  /** What Potoo did or failed to do (e.g. Load). */
  action: string;
  note: string;
}

/** The apiserver refuses notes over 1 kB. */
const MAX_NOTE = 1024;
/** Repeats within this window join the existing Event's series. */
const SERIES_WINDOW_MS = 30 * 60_000;

interface Recorded {
  name: string;
  namespace: string;
  count: number;
  last: number;
}

export class EventRecorder {
  private readonly recent = new Map<string, Recorded>();

  constructor(
    private readonly client: KubeClient,
    private readonly opts: { controller: string; instance: string; log: Logger; metrics?: Metrics },
  ) {}

  /** Write (or bump) an Event. Never throws: an Event is best effort, the log line is not. */
  async emit(ev: EventSpec): Promise<void> {
    const note = truncate(ev.note, MAX_NOTE);
    const namespace = ev.regarding.namespace || 'default';
    const key = [ev.regarding.kind, namespace, ev.regarding.name, ev.regarding.uid ?? '', ev.type, ev.reason, note].join('\u0000');
    const now = Date.now();
    this.prune(now);
    const prev = this.recent.get(key);
    try {
      if (prev && now - prev.last < SERIES_WINDOW_MS) {
        prev.count++;
        prev.last = now;
        await this.client.mergePatch(objectPath(GVR.events, prev.namespace, prev.name), {
          series: { count: prev.count, lastObservedTime: microTime(new Date(now)) },
        });
      } else {
        const name = `${ev.regarding.name}.${randomBytes(8).toString('hex')}`.slice(-253).replace(/^[.-]+/, '');
        await this.client.create(collectionPath(GVR.events, namespace), {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: { name, namespace },
          eventTime: microTime(new Date(now)),
          reportingController: this.opts.controller,
          reportingInstance: this.opts.instance,
          action: ev.action,
          reason: ev.reason,
          type: ev.type,
          note,
          regarding: { ...ev.regarding, namespace: ev.regarding.namespace },
        });
        this.recent.set(key, { name, namespace, count: 1, last: now });
      }
      this.opts.metrics?.eventsEmitted.inc({ reason: ev.reason, result: 'ok' });
    } catch (err) {
      // The Event may have been deleted (TTL): start a new one next time.
      if (prev && KubeApiError.is(err, 404)) this.recent.delete(key);
      this.opts.metrics?.eventsEmitted.inc({ reason: ev.reason, result: 'error' });
      this.opts.log.warn({ err: (err as Error).message, reason: ev.reason, regarding: `${ev.regarding.kind}/${namespace}/${ev.regarding.name}` }, 'could not write Event');
    }
  }

  private prune(now: number): void {
    if (this.recent.size < 1000) return;
    for (const [k, r] of this.recent) if (now - r.last >= SERIES_WINDOW_MS) this.recent.delete(k);
  }
}

function truncate(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = s.slice(0, max - 3);
  while (Buffer.byteLength(out) > max - 3) out = out.slice(0, -1);
  return out + '...';
}
