// Live signals -> attributions: core Warning Events (a watch with a `type=Warning` field
// selector, ADDED and MODIFIED, since repeats bump count/series on the same object) and,
// with --hubble-address, Hubble drops. Each goes through the correlate stage over the
// controller's analyzer and on to the notification pipeline.
//
// Loop safety: Potoo's own Events (reportingController potoo.io/controller) are never
// correlated, so an Event we write cannot come back as a signal.
import type { Attribution } from '../../engine/model.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import { CorrelateStage, type CorrelateCounters, type StageFacts } from '../../engine/stages/index.js';
import { HubbleClient, attributeFlows, type NormalizedFlow } from '../hubble/index.js';
import type { KubeClient } from '../kube/client.js';
import { Informer, type InformerSink, type RawObject } from '../kube/informer.js';
import { errorMessage, type Logger } from '../log.js';
import { counter, histogram } from '../sinks/promutil.js';
import type { NotificationPipeline } from './notifications.js';
import type { InformerTuning } from './watches.js';

/** The reportingController of every Event Potoo writes; signals skip Events that carry it. */
export const POTOO_CONTROLLER = 'potoo.io/controller';
const CORE_EVENTS = { group: '', version: 'v1', resource: 'events' };

export const correlationMetrics = {
  signals: counter('potoo_correlation_signals_total', 'Signals offered to the correlate stage, by kind (event, flow, admission, message).', ['kind']),
  outcomes: counter(
    'potoo_correlation_outcomes_total',
    'Correlation results by outcome: attributed (named a known constraint), unresolved (a rule matched, the constraint is unknown), unmatched, rejected (not a usable signal), unknown_reason, missing_subject, rule_error, fan_out_cut, truncated.',
    ['outcome'],
  ),
  ignored: counter('potoo_correlation_ignored_events_total', 'Events not correlated, by reason (own: written by Potoo; stale: older than the startup window; unchanged: relisted without change).', ['reason']),
  duration: histogram('potoo_correlation_duration_seconds', 'Time from receiving a signal to handing its attributions to the notify stage.', [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], ['kind']),
  errors: counter('potoo_correlation_errors_total', 'Signals whose handling failed (logged; the signal is dropped, nothing stops).', ['kind']),
};

const OUTCOME_FIELDS: readonly [keyof Omit<CorrelateCounters, 'signals'>, string][] = [
  ['attributed', 'attributed'],
  ['unresolved', 'unresolved'],
  ['unmatched', 'unmatched'],
  ['rejected', 'rejected'],
  ['unknownReason', 'unknown_reason'],
  ['missingSubject', 'missing_subject'],
  ['ruleErrors', 'rule_error'],
  ['fanOutCut', 'fan_out_cut'],
  ['truncated', 'truncated'],
];

export interface SignalPipelineOptions {
  client: KubeClient;
  facts: StageFacts;
  notifications: NotificationPipeline;
  log: Logger;
  tuning?: InformerTuning;
  /** On the first list (startup), Events last seen longer ago than this are history, not news (default 5 min). */
  startupWindowMs?: number;
  hubble?: { address: string; tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string }; namespaces?: readonly string[] };
}

/** Turns the stage's plain counters into prom-client counters by delta (the stage is rebuilt on pack changes). */
class CounterBridge {
  private last: CorrelateCounters | undefined;

  sync(c: CorrelateCounters): void {
    const prev = this.last;
    for (const kind of Object.keys(c.signals) as (keyof CorrelateCounters['signals'])[]) {
      const d = c.signals[kind] - (prev?.signals[kind] ?? 0);
      if (d > 0) correlationMetrics.signals.inc({ kind }, d);
    }
    for (const [field, outcome] of OUTCOME_FIELDS) {
      const d = c[field] - (prev?.[field] ?? 0);
      if (d > 0) correlationMetrics.outcomes.inc({ outcome }, d);
    }
    this.last = { ...c, signals: { ...c.signals } };
  }

  reset(): void {
    this.last = undefined;
  }
}

export class SignalPipeline {
  private stage: CorrelateStage | undefined;
  private readonly bridge = new CounterBridge();
  private readonly informer: Informer;
  private readonly hubble: HubbleClient | undefined;
  /** Event key -> resourceVersion last handled: a relist hands over only what changed. */
  private readonly seen = new Map<string, string>();
  private listed = false;
  private readonly startupWindowMs: number;
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: SignalPipelineOptions) {
    this.startupWindowMs = opts.startupWindowMs ?? 5 * 60_000;
    const sink: InformerSink = {
      replace: (items) => this.onList(items),
      upsert: (obj) => this.onEvent(obj),
      delete: (obj) => {
        this.seen.delete(eventKey(obj));
      },
    };
    this.informer = new Informer(opts.client, sink, { gvr: CORE_EVENTS, fieldSelector: 'type=Warning', log: opts.log, ...(opts.tuning ?? {}) });
    if (opts.hubble) {
      this.hubble = new HubbleClient({
        address: opts.hubble.address,
        ...(opts.hubble.tls ? { tls: opts.hubble.tls } : {}),
        ...(opts.hubble.namespaces?.length ? { namespaces: opts.hubble.namespaces } : {}),
        log: opts.log,
        onFlow: attributeFlows({
          correlate: (flow) => this.correlateFlow(flow),
          onAttribution: (a) => void this.opts.notifications.attribution(a),
          log: opts.log,
        }),
      });
    }
  }

  start(): void {
    this.informer.start();
    this.hubble?.start();
  }

  async settled(): Promise<void> {
    await this.informer.waitForSettled();
  }

  async stop(): Promise<void> {
    await this.informer.stop();
    await this.hubble?.stop();
    this.stage?.dispose();
  }

  setPacks(packs: readonly CompiledPack[]): void {
    this.stage?.dispose();
    this.stage = new CorrelateStage(packs, this.opts.facts);
    this.bridge.reset();
  }

  /** Resolves when every received signal has reached the notification pipeline. */
  async idle(): Promise<void> {
    if (this.inflight === 0) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private onList(items: RawObject[]): void {
    const first = !this.listed;
    this.listed = true;
    const keep = new Set<string>();
    const cutoff = Date.now() - this.startupWindowMs;
    for (const obj of items) {
      const k = eventKey(obj);
      keep.add(k);
      if (first && lastSeenMs(obj) < cutoff) {
        // History from before this replica started: remembered, not re-announced.
        this.seen.set(k, resourceVersion(obj));
        correlationMetrics.ignored.inc({ reason: 'stale' });
        continue;
      }
      this.onEvent(obj);
    }
    for (const k of [...this.seen.keys()]) if (!keep.has(k)) this.seen.delete(k);
  }

  private onEvent(obj: RawObject): void {
    const k = eventKey(obj);
    const rv = resourceVersion(obj);
    if (this.seen.get(k) === rv) {
      correlationMetrics.ignored.inc({ reason: 'unchanged' });
      return;
    }
    this.seen.set(k, rv);
    if (isOwnEvent(obj)) {
      correlationMetrics.ignored.inc({ reason: 'own' });
      return;
    }
    this.inflight++;
    void this.handleEvent(obj).finally(() => {
      if (--this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private async handleEvent(obj: RawObject): Promise<void> {
    const stage = this.stage;
    if (!stage) return;
    const t0 = performance.now();
    const observedAt = new Date();
    try {
      const r = await stage.correlateInput('event', obj);
      this.bridge.sync(stage.counters);
      if (!r.signal) {
        this.opts.log.debug({ event: eventKey(obj), problems: r.problems.map((p) => p.message) }, 'event is not a usable signal');
        return;
      }
      for (const p of r.problems) this.opts.log.warn({ pack: p.pack, rule: p.rule, problem: p.message }, 'correlation rule problem');
      const best = bestAttributions(r.attributions);
      if (best.length === 0) {
        this.opts.log.debug({ signal: r.signal.key, reason: r.signal.reason }, 'no constraint explains this event');
      }
      for (const a of best) await this.opts.notifications.attribution(a, observedAt);
      correlationMetrics.duration.observe({ kind: 'event' }, (performance.now() - t0) / 1000);
    } catch (err) {
      correlationMetrics.errors.inc({ kind: 'event' });
      this.opts.log.error({ err: errorMessage(err), event: eventKey(obj) }, 'could not correlate a Warning Event');
    }
  }

  private async correlateFlow(flow: NormalizedFlow): Promise<Attribution[]> {
    const stage = this.stage;
    if (!stage) return [];
    const t0 = performance.now();
    try {
      const r = await stage.correlateInput('flow', flow);
      this.bridge.sync(stage.counters);
      if (!r.signal) return [];
      return bestAttributions(r.attributions);
    } finally {
      correlationMetrics.duration.observe({ kind: 'flow' }, (performance.now() - t0) / 1000);
    }
  }
}

/**
 * What to notify about: the attributions that name a constraint, at the best confidence
 * found (the stage sorts best first). Lower-ranked guesses stay in `potoo explain`.
 */
export function bestAttributions(list: readonly Attribution[]): Attribution[] {
  const named = list.filter((a) => a.constraintIds.length > 0);
  const top = named[0];
  if (!top) return [];
  return named.filter((a) => a.confidence >= top.confidence);
}

export function isOwnEvent(obj: RawObject): boolean {
  const source = (obj.source ?? {}) as { component?: unknown };
  return obj.reportingComponent === POTOO_CONTROLLER || obj.reportingController === POTOO_CONTROLLER || source.component === POTOO_CONTROLLER;
}

function eventKey(obj: RawObject): string {
  const md = (obj.metadata ?? {}) as { namespace?: string; name?: string };
  return `${md.namespace ?? ''}/${md.name ?? ''}`;
}

function resourceVersion(obj: RawObject): string {
  return String((obj.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? '');
}

function lastSeenMs(obj: RawObject): number {
  const series = (obj.series ?? {}) as { lastObservedTime?: unknown };
  for (const v of [series.lastObservedTime, obj.lastTimestamp, obj.eventTime, obj.firstTimestamp, (obj.metadata as { creationTimestamp?: unknown } | undefined)?.creationTimestamp]) {
    if (typeof v === 'string' && v) {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) return t;
    }
  }
  return 0;
}
