// Require stage: one subject (a workload, or any object a rule names by kind: a
// Certificate, an Ingress, a Namespace) -> Findings for the companion resources it
// needs and lacks (a ServiceMonitor for its metrics port, the Issuer its Certificate
// names, what `potoo.io/requires` lists).
//
// Findings are meant to be reconciled, not appended: their ids are stable per subject,
// rule and item, and every result lists the id prefixes of the rules it checked, so a
// caller clears exactly the earlier findings that are now satisfied (clearedFindings).
// Debounce is the caller's clock; each finding carries its rule's debounceMs.
import type { Finding, Gvr, KubeObject, Problem, RemediationStep, Severity, Workload } from '../model.js';
import { AUDIENCES, SEVERITIES } from '../model.js';
import type { CompiledPack, CompiledRequirement } from '../pack/loader.js';
import { gvrOf, parseApiVersion, toGvr } from '../gvr.js';
import type { ScopeSubject } from '../scope.js';
import type { SelectingOptions } from '../store/store.js';
import { OWNER_RESOURCES, isWorkloadGvr, workloadFromObject, workloadKey } from '../store/workloads.js';
import { rec } from '../json.js';
import type { DynamicFact } from '../rules/ruleset.js';
import { FactView, withContext, type StageContext, type StageFacts } from './context.js';
import { bindLets, evalField, evalForEach, whenHolds, type Vars } from './evaluate.js';
import { RuleRunner } from './runner.js';

export interface SubjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

export interface RequireInput {
  gvr: Gvr;
  object: KubeObject;
}

export interface RequireResult {
  /** What was evaluated; undefined when the object is not a subject (a Deployment's ReplicaSet). */
  subject: SubjectRef | undefined;
  findings: Finding[];
  /**
   * Finding-id prefixes (`<subject>#<pack>/<rule>`) of the rules that ran without error:
   * an earlier finding under one of them that is not in `findings` is satisfied now.
   */
  checked: string[];
  problems: Problem[];
}

/** Metric-ready counters. */
export interface RequireCounters {
  subjects: number;
  findings: number;
  ruleErrors: number;
}

/** Private var carrying the scope subject for the `selecting` fact. */
const SUBJECT_VAR = 'potoo:subject';
const MAX_FINDINGS_PER_RULE = 100;

const WORKLOAD_KINDS = new Set(Object.keys(OWNER_RESOURCES));

/** `monitoring.coreos.com/v1/servicemonitors`, `v1/services`, or {group, version, resource}. */
function gvrParam(v: unknown): Gvr | undefined {
  if (typeof v === 'string') return toGvr(v);
  const r = rec(v);
  return r ? toGvr(r as unknown as Gvr) : undefined;
}

/** A finding's subject when the object is not a pod controller: its own labels stand in for pod labels. */
function pseudoWorkload(obj: KubeObject): Workload {
  const md = obj.metadata ?? {};
  const gv = typeof obj.apiVersion === 'string' ? parseApiVersion(obj.apiVersion) : undefined;
  return {
    apiVersion: obj.apiVersion ?? '',
    kind: obj.kind ?? '',
    group: gv?.group ?? '',
    name: md.name ?? '',
    namespace: md.namespace ?? (obj.kind === 'Namespace' ? (md.name ?? '') : ''),
    labels: { ...(md.labels ?? {}) },
    annotations: { ...(md.annotations ?? {}) },
    podLabels: { ...(md.labels ?? {}) },
    podAnnotations: {},
    containers: [],
    ports: [],
  };
}

export class RequireStage {
  private readonly view: FactView;
  private readonly rules: CompiledRequirement[];
  private readonly runner: RuleRunner<CompiledRequirement>;
  readonly counters: RequireCounters = { subjects: 0, findings: 0, ruleErrors: 0 };

  constructor(packs: readonly CompiledPack[], facts: StageFacts) {
    this.view = new FactView(facts);
    this.rules = packs.flatMap((p) => p.requirements);
    this.runner = new RuleRunner(this.rules, this.dynamicFacts());
  }

  dispose(): void {
    this.view.dispose();
  }

  /** Kinds some rule names explicitly (besides the pod controllers every default rule sees). */
  extraKinds(): Set<string> {
    const out = new Set<string>();
    for (const r of this.rules) for (const k of r.kinds ?? []) if (!WORKLOAD_KINDS.has(k)) out.add(k);
    return out;
  }

  /** Does any rule look at objects of this kind? (Change routing: re-run only for these.) */
  interestedIn(kind: string): boolean {
    return this.rules.some((r) => (r.kinds ? r.kinds.includes(kind) : WORKLOAD_KINDS.has(kind)));
  }

  private dynamicFacts(): Record<string, DynamicFact> {
    const view = (): FactView => this.view;
    return {
      // Count of objects of `resource` whose selector at `selectorPath` selects the subject.
      selecting: (params, vars) => {
        const gvr = gvrParam(params.resource);
        const subject = vars[SUBJECT_VAR] as ScopeSubject | undefined;
        if (!gvr || !subject || typeof params.selectorPath !== 'string') return 0;
        const opts: SelectingOptions = {};
        const ns = params.namespaces;
        if (ns === 'all' || ns === 'same') opts.namespaces = ns;
        else if (Array.isArray(ns)) opts.namespaces = { also: ns.filter((x): x is string => typeof x === 'string') };
        if (params.absent === 'all' || params.absent === 'none') opts.absent = params.absent;
        if (params.selectorKind === 'map' || params.selectorKind === 'labelSelector' || params.selectorKind === 'auto') opts.selectorKind = params.selectorKind;
        if (params.labels === 'own' || params.labels === 'pod') opts.labels = params.labels;
        return view().selecting(gvr.group, gvr.resource, params.selectorPath, subject, opts).length;
      },
      // Objects of `resource` in the subject's namespace ('same'), every one ('all'), a named one, or '' (cluster).
      objects: (params, vars) => {
        const gvr = gvrParam(params.resource);
        const subject = vars[SUBJECT_VAR] as ScopeSubject | undefined;
        if (!gvr) return [];
        const where = typeof params.namespace === 'string' ? params.namespace : 'same';
        const ns = where === 'same' ? (subject?.namespace ?? '') : where === 'all' ? '*' : where;
        const list = view().objectsOf(gvr.group, gvr.resource, ns);
        return typeof params.name === 'string' ? list.filter((o) => o.metadata?.name === params.name) : list;
      },
    };
  }

  /** Evaluate one stored object: a workload, or an object of a kind some rule names. */
  async evaluate(input: RequireInput): Promise<RequireResult> {
    const { gvr, object } = input;
    let workload: Workload | undefined;
    let subject: ScopeSubject;
    if (isWorkloadGvr(gvr)) {
      workload = workloadFromObject(gvr, object);
      if (!workload) return { subject: undefined, findings: [], checked: [], problems: [] };
      subject = this.view.workloadTarget(workload);
    } else {
      workload = pseudoWorkload(object);
      subject = this.view.objectTarget(gvr, object);
    }
    return this.run(workload, object, subject);
  }

  /** Evaluate a workload from the workload index (its object is looked up for `object`). */
  async evaluateWorkload(w: Workload): Promise<RequireResult> {
    const res = OWNER_RESOURCES[w.kind];
    const obj = res ? this.view.getObject(res.group, res.resource, w.namespace, w.name) : undefined;
    return this.run(w, obj ?? { apiVersion: w.apiVersion, kind: w.kind, metadata: { name: w.name, namespace: w.namespace, labels: w.labels, annotations: w.annotations } }, this.view.workloadTarget(w));
  }

  /** Every workload and every object of the kinds rules name: what an offline analysis reports. */
  async evaluateAll(): Promise<RequireResult[]> {
    const out: RequireResult[] = [];
    for (const w of this.view.facts.workloads.list()) out.push(await this.evaluateWorkload(w));
    const kinds = this.extraKinds();
    if (kinds.size === 0) return out;
    for (const g of this.view.facts.store.gvrs()) {
      for (const obj of this.view.facts.store.list(g)) {
        if (!obj.kind || !kinds.has(obj.kind)) continue;
        out.push(await this.evaluate({ gvr: gvrOf(obj) ?? g, object: obj }));
      }
    }
    return out;
  }

  private async run(workload: Workload, object: KubeObject, subject: ScopeSubject): Promise<RequireResult> {
    this.counters.subjects++;
    const ref: SubjectRef = { apiVersion: workload.apiVersion, kind: workload.kind, name: workload.name, namespace: workload.namespace };
    const key = workloadKey(workload);
    const rules = this.rules.filter((r) => (r.kinds ? r.kinds.includes(workload.kind) : WORKLOAD_KINDS.has(workload.kind)));
    const result: RequireResult = { subject: ref, findings: [], checked: [], problems: [] };
    if (rules.length === 0) return result;
    const ns = workload.namespace ? this.view.namespaceObject(workload.namespace) : undefined;
    const vars: Vars = { workload, object, namespace: ns ?? {}, namespaceObject: ns ?? {}, match: {}, [SUBJECT_VAR]: subject };
    const ctx: StageContext = { view: this.view, subject, workload };
    const run = withContext(ctx, () => this.runner.runSync(vars, rules)) ?? (await this.runner.run(vars, rules));
    const failed = new Set<CompiledRequirement>();
    for (const e of run.errors) {
      failed.add(e.rule);
      this.counters.ruleErrors++;
      result.problems.push({ severity: 'error', pack: e.rule.pack, rule: e.rule.name, object: key, message: `conditions failed: ${e.message}` });
    }
    withContext(ctx, () => {
      for (const f of run.fired) {
        if (!this.emit(f.rule, { ...vars, match: f.captures }, key, ref, result)) failed.add(f.rule);
      }
    });
    for (const r of rules) if (!failed.has(r)) result.checked.push(`${key}#${r.pack}/${r.name}`);
    this.counters.findings += result.findings.length;
    return result;
  }

  /** Emit a fired rule's findings; false when it failed (its earlier findings must not be cleared). */
  private emit(rule: CompiledRequirement, base: Vars, key: string, ref: SubjectRef, result: RequireResult): boolean {
    let ok = true;
    const problem = (field: string, message: string): void => {
      ok = false;
      this.counters.ruleErrors++;
      result.problems.push({ severity: 'error', pack: rule.pack, rule: rule.name, object: key, field, message });
    };
    const vars = bindLets(rule.lets, base, problem);
    if (!vars) return false;
    if (!whenHolds(rule.when, vars, problem)) return ok;
    let items: { item: unknown; index: number }[] | undefined;
    if (rule.forEach) {
      const list = evalForEach(rule.forEach, vars, problem);
      if (list === undefined) return false;
      items = list.slice(0, MAX_FINDINGS_PER_RULE).map((item, index) => ({ item, index }));
    }
    for (const it of items ?? [undefined]) {
      const v: Vars = it ? { ...vars, item: it.item, index: it.index } : vars;
      let itemKey = '';
      if (it) {
        if (rule.key) {
          const k = evalField(rule.key, v, 'key', problem);
          if (k === undefined) continue;
          itemKey = String(k);
        } else {
          const name = rec(it.item)?.name;
          itemKey = typeof name === 'string' && name ? name : typeof it.item === 'string' ? it.item : String(it.index);
        }
      }
      const f = this.build(rule, v, problem);
      if (!f) continue;
      f.id = `${key}#${rule.pack}/${rule.name}${itemKey ? '/' + itemKey : ''}`;
      f.workload = ref;
      result.findings.push(f);
    }
    return ok;
  }

  private build(rule: CompiledRequirement, vars: Vars, problem: (field: string, message: string) => void): Finding | undefined {
    const get = (k: string): unknown => {
      const c = rule.emit[k];
      return c ? evalField(c, vars, `emit.${k}`, problem) : undefined;
    };
    const expects = rec(get('expects'));
    const severity = get('severity');
    const summary = get('summary');
    const details = rule.emit.details ? get('details') : {};
    const remediation = rule.emit.remediation ? get('remediation') : [];
    if (!expects || typeof expects.apiVersion !== 'string' || typeof expects.kind !== 'string') {
      problem('emit.expects', 'must be a map with apiVersion and kind (and optionally name)');
      return undefined;
    }
    if (!SEVERITIES.includes(severity as Severity)) {
      problem('emit.severity', `must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(severity)}`);
      return undefined;
    }
    if (typeof summary !== 'string') {
      problem('emit.summary', 'must be a string');
      return undefined;
    }
    if (!rec(details)) {
      problem('emit.details', 'must be a map');
      return undefined;
    }
    const rem = remediationList(remediation);
    if (!rem) {
      problem('emit.remediation', `must be a list of {action, who, command?} with who one of ${AUDIENCES.join(', ')}`);
      return undefined;
    }
    const exp: Finding['expects'] = { apiVersion: expects.apiVersion, kind: expects.kind };
    if (typeof expects.name === 'string' && expects.name) exp.name = expects.name;
    return {
      id: '',
      rule: { pack: rule.pack, rule: rule.name },
      workload: { apiVersion: '', kind: '', name: '', namespace: '' },
      expects: exp,
      severity: severity as Severity,
      summary,
      remediation: rem,
      details: details as Record<string, unknown>,
      debounceMs: rule.debounceMs,
    };
  }
}

function remediationList(v: unknown): RemediationStep[] | undefined {
  if (!Array.isArray(v)) return undefined;
  for (const s of v) {
    const r = rec(s);
    if (!r || typeof r.action !== 'string' || !AUDIENCES.includes(r.who as RemediationStep['who'])) return undefined;
    if (r.command !== undefined && typeof r.command !== 'string') return undefined;
  }
  return v as RemediationStep[];
}

/**
 * Earlier findings the new result shows satisfied: those under a prefix the result
 * checked (same subject and rule) that it no longer reports.
 */
export function clearedFindings(previous: readonly Finding[], result: RequireResult): Finding[] {
  const now = new Set(result.findings.map((f) => f.id));
  return previous.filter((f) => !now.has(f.id) && result.checked.some((p) => f.id === p || f.id.startsWith(p + '/')));
}
