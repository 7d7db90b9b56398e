// Correlate stage: one signal (Warning Event, Hubble drop, admission request, pasted
// error message) -> Attributions naming the specific constraint(s) behind it, best first.
//
// Speed. Rules are indexed by the signal kinds they read and, when their conditions
// require it, by `reason` (an event's reason, a flow's drop reason): a FailedScheduling
// event is never offered the quota rule. The survivors run as compiled closures with
// json-rules-engine semantics (runner.ts), so a signal costs microseconds, not the
// engine's hundreds.
//
// Identity. An Attribution's id hashes the rule, the workload (or involved object) and
// the blamed constraints: the 40th repeat of a FailedCreate updates the attribution the
// first one created (count, lastSeen) instead of adding another.
import type { Attribution, Constraint, KubeObject, Problem, Severity, Workload } from '../model.js';
import { SEVERITIES } from '../model.js';
import type { CompiledCorrelation, CompiledPack } from '../pack/loader.js';
import { requiredValues } from '../rules/direct.js';
import { resolveKind } from '../gvr.js';
import { workloadFromObject, workloadKey } from '../store/workloads.js';
import { fnv1a, toSignal, type Signal, type SignalKind } from '../signals.js';
import { FactView, refOf, withContext, type StageContext, type StageFacts } from './context.js';
import { bindLets, evalField, whenHolds, type Vars } from './evaluate.js';
import { RuleRunner } from './runner.js';

export interface CorrelateOptions {
  /** Attributions kept per signal (best first). */
  maxAttributions?: number;
  /** Constraints one attribution may name: a rule that returns more is fanning out. */
  maxConstraints?: number;
  /** Explanations are cut here. */
  maxExplanationChars?: number;
}

export interface CorrelateResult {
  signal: Signal;
  /** Best first: by confidence, then those naming a constraint, then rule order. */
  attributions: Attribution[];
  problems: Problem[];
  /** Rules the index offered the signal, and how many of them fired. */
  candidates: number;
  fired: number;
}

/** Monotonic counters, metric-ready (`potoo_correlation_<name>_total`). */
export interface CorrelateCounters {
  signals: Record<SignalKind, number>;
  /** Inputs the normalizers refused (not an Event, a flow without endpoints, ...). */
  rejected: number;
  /** Messages cut to MAX_MESSAGE_CHARS before matching. */
  truncated: number;
  /** Signals with at least one attribution naming a known constraint. */
  attributed: number;
  /** Signals where a rule matched but no known constraint was named (not in the store yet, or deleted). */
  unresolved: number;
  /** Signals no rule matched. */
  unmatched: number;
  /** Events whose reason no rule is indexed under (only reason-agnostic rules were tried). */
  unknownReason: number;
  /** Signals about an object the store does not hold (a flow for a pod that is gone). */
  missingSubject: number;
  /** Rule evaluation failures (reported as problems). */
  ruleErrors: number;
  /** Blame results cut to maxConstraints. */
  fanOutCut: number;
}

interface KindIndex {
  byReason: Map<string, CompiledCorrelation[]>;
  anyReason: CompiledCorrelation[];
  merged: Map<string, CompiledCorrelation[]>;
}

const DEFAULTS = { maxAttributions: 10, maxConstraints: 20, maxExplanationChars: 1000 };
const SEVERITY_RANK: Record<Severity, number> = { Critical: 3, Warning: 2, Info: 1 };
/** Merged candidate lists cached per reason; beyond this, reasons are merged per call. */
const MAX_MERGED = 512;

export class CorrelateStage {
  private readonly view: FactView;
  private readonly runner: RuleRunner<CompiledCorrelation>;
  private readonly index = new Map<SignalKind, KindIndex>();
  private readonly order = new Map<CompiledCorrelation, number>();
  private readonly opts: typeof DEFAULTS;
  readonly counters: CorrelateCounters = {
    signals: { event: 0, flow: 0, admission: 0, message: 0 },
    rejected: 0,
    truncated: 0,
    attributed: 0,
    unresolved: 0,
    unmatched: 0,
    unknownReason: 0,
    missingSubject: 0,
    ruleErrors: 0,
    fanOutCut: 0,
  };

  constructor(packs: readonly CompiledPack[], facts: StageFacts, opts: CorrelateOptions = {}) {
    this.opts = { ...DEFAULTS, ...opts };
    this.view = new FactView(facts);
    const rules = packs.flatMap((p) => p.correlations);
    rules.forEach((r, i) => this.order.set(r, i));
    this.runner = new RuleRunner(rules);
    for (const kind of ['event', 'flow', 'admission', 'message'] as const) {
      const idx: KindIndex = { byReason: new Map(), anyReason: [], merged: new Map() };
      for (const r of rules) {
        if (!r.on.includes(kind)) continue;
        const reasons = r.conditions ? requiredValues(r.conditions.tree, ['signal', kind], '$.reason') : undefined;
        if (!reasons) {
          idx.anyReason.push(r);
          continue;
        }
        for (const reason of reasons) {
          const list = idx.byReason.get(reason) ?? [];
          list.push(r);
          idx.byReason.set(reason, list);
        }
      }
      this.index.set(kind, idx);
    }
  }

  /** Stop following constraint changes. */
  dispose(): void {
    this.view.dispose();
  }

  /** The rules a signal of this kind and reason is offered, in pack order. */
  candidates(kind: SignalKind, reason: string): CompiledCorrelation[] {
    const idx = this.index.get(kind);
    if (!idx) return [];
    const hit = idx.merged.get(reason);
    if (hit) return hit;
    const specific = idx.byReason.get(reason) ?? [];
    const list = specific.length === 0 ? idx.anyReason : [...specific, ...idx.anyReason].sort((a, b) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0));
    if (idx.merged.size < MAX_MERGED || specific.length > 0) idx.merged.set(reason, list);
    return list;
  }

  /** Normalize raw input (an Event object, a Flow, an AdmissionReview, a message) and correlate it. */
  async correlateInput(kind: SignalKind, raw: unknown): Promise<CorrelateResult | { signal: undefined; problems: Problem[] }> {
    const s = toSignal(kind, raw);
    if (!s.ok) {
      this.counters.rejected++;
      return { signal: undefined, problems: [{ severity: 'warning', message: `${kind} ignored: ${s.error}` }] };
    }
    return this.correlate(s.signal);
  }

  async correlate(signal: Signal): Promise<CorrelateResult> {
    const prep = this.prepare(signal);
    const sync = this.runner.runSync(prep.vars, prep.rules);
    const run = sync ?? (await this.runner.run(prep.vars, prep.rules));
    return this.finish(prep, run.fired, run.errors);
  }

  /** Synchronous when every candidate rule runs directly (the built-in packs do); otherwise undefined. */
  correlateSync(signal: Signal): CorrelateResult | undefined {
    const prep = this.prepare(signal);
    const run = this.runner.runSync(prep.vars, prep.rules);
    return run ? this.finish(prep, run.fired, run.errors) : undefined;
  }

  private prepare(signal: Signal): Prepared {
    this.counters.signals[signal.kind]++;
    if (signal.truncated) this.counters.truncated++;
    const idx = this.index.get(signal.kind);
    if (signal.kind === 'event' && idx && idx.byReason.size > 0 && !idx.byReason.has(signal.reason)) this.counters.unknownReason++;
    const rules = this.candidates(signal.kind, signal.reason);
    const workload = this.workloadFor(signal);
    const ctx: StageContext = { view: this.view, signal };
    if (workload) ctx.workload = workload;
    if (signal.kind === 'admission' && signal.object) {
      const gvr = signal.resource.resource ? signal.resource : resolveKind(signal.gvk).gvr;
      ctx.subject = this.view.objectTarget(gvr, signal.object, signal.operation);
    } else if (workload) {
      ctx.subject = this.view.workloadTarget(workload);
    }
    const ns = signal.namespace ? this.view.namespaceObject(signal.namespace) : undefined;
    // `namespace` is a CEL reserved word: expressions read the Namespace as `namespaceObject`.
    const vars: Vars = { signal, [signal.kind]: signal, namespace: ns ?? {}, namespaceObject: ns ?? {}, workload: workload ?? null, match: {} };
    return { signal, rules, workload, ctx, vars };
  }

  private workloadFor(signal: Signal): Workload | undefined {
    const v = this.view;
    let w: Workload | undefined;
    let asked = false;
    switch (signal.kind) {
      case 'event':
      case 'message':
        if (signal.involved && signal.namespace) {
          asked = true;
          w = v.workloadOf(signal.namespace, signal.involved.kind, signal.involved.name);
        }
        break;
      case 'flow': {
        const ep = signal.direction === 'egress' ? signal.source : signal.destination;
        if (ep.workload) w = v.workloadOf(ep.namespace, ep.workload.kind, ep.workload.name);
        if (!w && ep.pod) w = v.workloadOf(ep.namespace, 'Pod', ep.pod);
        asked = ep.pod !== '' || ep.workload !== null;
        break;
      }
      case 'admission':
        if (signal.object) {
          const gvr = signal.resource.resource ? signal.resource : resolveKind(signal.gvk).gvr;
          // The object under admission is the truth (on UPDATE the store still holds the old spec);
          // the store only helps for a Pod whose controller owns it.
          w = workloadOf(gvr, signal.object) ?? v.workloadOf(signal.namespace, signal.gvk.kind, signal.name);
        }
        break;
    }
    if (asked && !w && signal.kind !== 'message') this.counters.missingSubject++;
    return w;
  }

  private finish(prep: Prepared, fired: { rule: CompiledCorrelation; captures: Record<string, string> }[], errors: { rule: CompiledCorrelation; message: string }[]): CorrelateResult {
    const { signal } = prep;
    const result: CorrelateResult = { signal, attributions: [], problems: [], candidates: prep.rules.length, fired: fired.length };
    for (const e of errors) {
      this.counters.ruleErrors++;
      result.problems.push({ severity: 'error', pack: e.rule.pack, rule: e.rule.name, message: `conditions failed on ${signal.key}: ${e.message}` });
    }
    withContext(prep.ctx, () => {
      for (const f of fired) {
        const a = this.attribute(f.rule, { ...prep.vars, match: f.captures }, prep, result.problems);
        if (a) result.attributions.push(a);
      }
    });
    result.attributions.sort(
      (a, b) =>
        b.confidence - a.confidence ||
        Number(b.constraintIds.length > 0) - Number(a.constraintIds.length > 0) ||
        (this.ruleOrder(a) ?? 0) - (this.ruleOrder(b) ?? 0),
    );
    if (result.attributions.length > this.opts.maxAttributions) result.attributions.length = this.opts.maxAttributions;
    if (result.attributions.some((a) => a.constraintIds.length > 0)) this.counters.attributed++;
    else if (result.attributions.length > 0) this.counters.unresolved++;
    else this.counters.unmatched++;
    return result;
  }

  private readonly ruleOrderByKey = new Map<string, number>();
  private ruleOrder(a: Attribution): number | undefined {
    const key = `${a.rule.pack}/${a.rule.rule}`;
    let n = this.ruleOrderByKey.get(key);
    if (n === undefined) {
      for (const [r, i] of this.order) if (r.pack === a.rule.pack && r.name === a.rule.rule) n = i;
      this.ruleOrderByKey.set(key, n ?? 0);
    }
    return n;
  }

  private attribute(rule: CompiledCorrelation, baseVars: Vars, prep: Prepared, problems: Problem[]): Attribution | undefined {
    const problem = (field: string, message: string): void => {
      this.counters.ruleErrors++;
      problems.push({ severity: 'error', pack: rule.pack, rule: rule.name, field, message: `${message} (signal ${prep.signal.key})` });
    };
    const vars = bindLets(rule.lets, baseVars, problem);
    if (!vars) return undefined;
    if (!whenHolds(rule.when, vars, problem)) return undefined;
    const blameValue = evalField(rule.blame, vars, 'blame', problem);
    if (blameValue === undefined) return undefined;
    const { ids, unknown } = this.blamedIds(blameValue);
    if (unknown.length) problems.push({ severity: 'warning', pack: rule.pack, rule: rule.name, field: 'blame', message: `blame named unknown constraint id(s) ${unknown.slice(0, 3).join(', ')}` });
    if (ids.length > this.opts.maxConstraints) {
      this.counters.fanOutCut++;
      problems.push({ severity: 'warning', pack: rule.pack, rule: rule.name, field: 'blame', message: `blame named ${ids.length} constraints; kept the first ${this.opts.maxConstraints} (a correlation should name the specific constraint)` });
      ids.length = this.opts.maxConstraints;
    }
    const blamedVars: Vars = { ...vars, blamed: ids.map((id) => this.view.constraint(id)).filter((c): c is Constraint => c !== undefined) };
    const explainValue = evalField(rule.explain, blamedVars, 'explain', problem);
    if (explainValue === undefined) return undefined;
    let explanation = typeof explainValue === 'string' ? explainValue : JSON.stringify(explainValue);
    if (explanation.length > this.opts.maxExplanationChars) explanation = explanation.slice(0, this.opts.maxExplanationChars - 3) + '...';

    let confidence = ids.length > 0 ? 0.8 : 0.2;
    if (rule.confidence) {
      const c = evalField(rule.confidence, blamedVars, 'confidence', problem);
      if (typeof c === 'number' && Number.isFinite(c)) confidence = Math.min(1, Math.max(0, c));
      else if (c !== undefined) problem('confidence', `must be a number between 0 and 1, got ${JSON.stringify(c)}`);
    }
    let severity: Severity = 'Warning';
    const blamed = blamedVars.blamed as Constraint[];
    if (blamed.length) severity = blamed.reduce<Severity>((s, c) => (SEVERITY_RANK[c.severity] > SEVERITY_RANK[s] ? c.severity : s), 'Info');
    if (rule.severity) {
      const s = evalField(rule.severity, blamedVars, 'severity', problem);
      if (SEVERITIES.includes(s as Severity)) severity = s as Severity;
      else if (s !== undefined) problem('severity', `must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(s)}`);
    }
    let details: Record<string, unknown> = {};
    if (rule.details) {
      const d = evalField(rule.details, blamedVars, 'details', problem);
      if (d && typeof d === 'object' && !Array.isArray(d)) details = d as Record<string, unknown>;
      else if (d !== undefined && d !== null) problem('details', 'must be a map');
    }
    const match = baseVars.match as Record<string, string>;
    if (Object.keys(match).length > 0 && details.match === undefined) details = { ...details, match };

    const { signal, workload } = prep;
    const subject = workload
      ? workloadKey(workload)
      : signal.involved
        ? `${signal.involved.kind}/${signal.involved.namespace}/${signal.involved.name}`
        : signal.key;
    const idSource = `${rule.pack}/${rule.name}|${subject}|${ids.length ? ids.join(',') : 'unresolved:' + explanation}`;
    const a: Attribution = {
      id: `${fnv1a(idSource)}${fnv1a('#' + idSource)}`,
      rule: { pack: rule.pack, rule: rule.name },
      signal: { kind: signal.kind, ref: signal.key },
      constraintIds: ids,
      confidence,
      severity,
      explanation,
      details,
      count: signal.count,
    };
    if (signal.namespace) a.signal.namespace = signal.namespace;
    if (workload) a.workload = refOf(workload);
    if (signal.lastSeen) a.lastSeen = signal.lastSeen;
    return a;
  }

  /** Blame values: ids or constraint objects, one or a list; unknown ids are reported, not kept. */
  private blamedIds(v: unknown): { ids: string[]; unknown: string[] } {
    const list = Array.isArray(v) ? v : v === null || v === undefined ? [] : [v];
    const ids: string[] = [];
    const unknown: string[] = [];
    const seen = new Set<string>();
    for (const x of list) {
      const id = typeof x === 'string' ? x : typeof x === 'object' && x !== null && typeof (x as { id?: unknown }).id === 'string' ? (x as { id: string }).id : undefined;
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      if (this.view.constraint(id)) ids.push(id);
      else unknown.push(id);
    }
    return { ids, unknown };
  }
}

interface Prepared {
  signal: Signal;
  rules: CompiledCorrelation[];
  workload: Workload | undefined;
  ctx: StageContext;
  vars: Vars;
}

/** The admitted object is not in the store yet: its workload view comes from the object itself. */
function workloadOf(gvr: { group: string; version: string; resource: string }, obj: KubeObject): Workload | undefined {
  try {
    return workloadFromObject(gvr, obj);
  } catch {
    return undefined;
  }
}
