// Adapt stage: one policy object -> normalized Constraints, driven by adapter rules.
import type { Constraint, Gvr, KubeObject, Problem, RemediationStep, Scope, Severity } from '../model.js';
import { AUDIENCES, SEVERITIES } from '../model.js';
import type { CompiledAdapter, CompiledPack } from '../pack/loader.js';
import type { CompiledValue } from '../expr/value.js';
import { RuleRunner, type RunResult } from './runner.js';
import { withCelScope } from '../expr/cel.js';
import { compactScope, validateScope } from '../scopecheck.js';
import { sourceKey } from '../store/constraints.js';
import { bindLets, evalField, evalForEach, typeName, type Vars } from './evaluate.js';
import { FactLookup } from '../expr/potoolib.js';
import { isRecord } from '../json.js';

export interface AdaptInput {
  gvr: Gvr;
  object: KubeObject;
  /** The object's Namespace, when known (labels feed conditions and summaries). */
  namespace?: KubeObject;
  /**
   * Other objects of the fact store, as the CEL variable `facts` (`facts.get(...)`,
   * `facts.list(...)`); absent: an empty store. The caller reads `facts.reads` after
   * adapting to know which objects this one depends on.
   */
  facts?: FactLookup;
}

const NO_FACTS = { find: () => [] };

export interface Skip {
  rule: string;
  pack: string;
  reason: string;
}

export interface AdaptOutput {
  constraints: Constraint[];
  skipped: Skip[];
  problems: Problem[];
  /** How many adapter rules were offered the object (0 = no adapter knows its GVR). */
  offered: number;
}

export interface AdaptStats {
  objects: number;
  engineMs: number;
  emitMs: number;
}

/** Upper bound on constraints from one object: a hostile list must not flood the store. */
const MAX_CONSTRAINTS_PER_OBJECT = 1000;

export class AdaptStage {
  private readonly adapters: CompiledAdapter[];
  private readonly fallback: CompiledAdapter[];
  /** GVR/kind -> the adapter rules offered such objects (computed once per key). */
  private readonly offered = new Map<string, CompiledAdapter[]>();
  private readonly offeredByGvr = new WeakMap<Gvr, Map<string | undefined, CompiledAdapter[]>>();
  private readonly runner: RuleRunner<CompiledAdapter>;
  readonly stats: AdaptStats = { objects: 0, engineMs: 0, emitMs: 0 };

  constructor(packs: readonly CompiledPack[]) {
    const all = packs.flatMap((p) => p.adapters);
    this.adapters = all.filter((a) => !a.match.fallback);
    this.fallback = all.filter((a) => a.match.fallback);
    this.runner = new RuleRunner(all);
  }

  /** How many condition runs were compiled closures versus json-rules-engine runs. */
  get conditionRuns(): { direct: number; engine: number } {
    return this.runner.stats;
  }

  /** Does any non-fallback adapter claim this GVR (and kind)? */
  handles(gvr: Gvr, kind?: string): boolean {
    // rulesFor offers the fallback only when no other adapter matches.
    return this.rulesFor(gvr, kind).some((a) => !a.match.fallback);
  }

  /** Is any adapter rule (fallback included) offered objects of this GVR and kind? */
  offers(gvr: Gvr, kind: string | undefined): boolean {
    return this.rulesFor(gvr, kind).length > 0;
  }

  private rulesFor(gvr: Gvr, kind: string | undefined): CompiledAdapter[] {
    // The store hands out one GVR object per resource, so most lookups hit by identity
    // without building a key (this runs for every stored object on a full re-adapt).
    let byKind = this.offeredByGvr.get(gvr);
    if (!byKind) this.offeredByGvr.set(gvr, (byKind = new Map()));
    let rules = byKind.get(kind);
    if (rules) return rules;
    const key = `${gvr.group}/${gvr.version}/${gvr.resource}/${kind ?? ''}`;
    rules = this.offered.get(key);
    if (!rules) {
      rules = this.adapters.filter((a) => matchesGvr(a, gvr, kind));
      if (rules.length === 0) rules = this.fallback.filter((a) => matchesGvr(a, gvr, kind));
      this.offered.set(key, rules);
    }
    byKind.set(kind, rules);
    return rules;
  }

  /**
   * Adapt without awaiting, which every object whose conditions compile allows; undefined
   * when a condition needs json-rules-engine (then call {@link adapt}).
   */
  adaptSync(input: AdaptInput): AdaptOutput | undefined {
    const out: AdaptOutput = { constraints: [], skipped: [], problems: [], offered: 0 };
    const rules = this.rulesFor(input.gvr, input.object.kind);
    out.offered = rules.length;
    if (rules.length === 0) return out;
    const vars = this.varsFor(input);
    // Conditions and emission share one conversion scope.
    return withCelScope(() => {
      const t0 = performance.now();
      const r = this.runner.runSync(vars, rules);
      this.stats.engineMs += performance.now() - t0;
      if (!r) return undefined;
      this.stats.objects++;
      this.emitAll(r, input, vars, out);
      return out;
    });
  }

  async adapt(input: AdaptInput): Promise<AdaptOutput> {
    return this.adaptSync(input) ?? (await this.adaptWithEngine(input));
  }

  /**
   * The asynchronous half of {@link adapt}: for an object `adaptSync` declined (a condition
   * needs json-rules-engine). Its runs use the process-wide conversion cache.
   */
  async adaptWithEngine(input: AdaptInput): Promise<AdaptOutput> {
    const rules = this.rulesFor(input.gvr, input.object.kind);
    const out: AdaptOutput = { constraints: [], skipped: [], problems: [], offered: rules.length };
    this.stats.objects++;
    const vars = this.varsFor(input);
    const t0 = performance.now();
    const r = await this.runner.run(vars, rules);
    this.stats.engineMs += performance.now() - t0;
    this.emitAll(r, input, vars, out);
    return out;
  }

  private varsFor(input: AdaptInput): Vars {
    return { object: input.object, namespace: input.namespace ?? {}, gvr: input.gvr, facts: input.facts ?? new FactLookup(NO_FACTS) };
  }

  private emitAll(r: RunResult<CompiledAdapter>, input: AdaptInput, vars: Vars, out: AdaptOutput): void {
    const t1 = performance.now();
    const ref = objectRef(input.object);
    for (const e of r.errors) out.problems.push({ severity: 'error', object: ref, pack: e.rule.pack, rule: e.rule.name, message: `conditions failed: ${e.message}` });
    for (const { rule: a } of r.fired) {
      this.emitFor(a, input, vars, out);
      if (out.constraints.length > MAX_CONSTRAINTS_PER_OBJECT) {
        out.constraints.length = MAX_CONSTRAINTS_PER_OBJECT;
        out.problems.push({ severity: 'error', object: ref, pack: a.pack, rule: a.name, message: `more than ${MAX_CONSTRAINTS_PER_OBJECT} constraints from one object; the rest are dropped` });
        break;
      }
    }
    this.stats.emitMs += performance.now() - t1;
  }

  private emitFor(a: CompiledAdapter, input: AdaptInput, baseVars: Vars, out: AdaptOutput): void {
    const ref = objectRef(input.object);
    const problem = (field: string, message: string): void => {
      out.problems.push({ severity: 'error', object: ref, pack: a.pack, rule: a.name, field, message });
    };
    if (a.skip) {
      const vars = bindLets(a.lets, baseVars, problem);
      if (!vars) return;
      const reason = evalField(a.skip, vars, 'skip', problem);
      if (reason !== undefined) out.skipped.push({ pack: a.pack, rule: a.name, reason: String(reason) });
      return;
    }
    if (!a.emit) return;
    let items: { item: unknown; index: number }[] | undefined;
    if (a.forEach) {
      const list = evalForEach(a.forEach, baseVars, problem);
      if (list === undefined) return;
      items = list.map((item, index) => ({ item, index }));
    }
    const base = adaptedSourceKey(input);
    for (const it of items ?? [undefined]) {
      // `let` is bound per item so that it can name `item`.
      const v: Vars = it ? { ...baseVars, item: it.item, index: it.index } : baseVars;
      const itemVars = bindLets(a.lets, v, problem);
      if (!itemVars) continue;
      const c = this.buildConstraint(a, input, itemVars, problem);
      if (!c) continue;
      let key = '';
      if (a.key) {
        const k = evalField(a.key, itemVars, 'key', problem);
        if (k === undefined) continue;
        key = String(k);
      } else if (it) {
        const name = (it.item as { name?: unknown } | null)?.name;
        key = typeof name === 'string' && name ? name : String(it.index);
      }
      c.id = `${base}#${a.pack}/${a.name}${key ? '/' + key : ''}`;
      out.constraints.push(c);
    }
  }

  private buildConstraint(
    a: CompiledAdapter,
    input: AdaptInput,
    vars: Vars,
    problem: (field: string, message: string) => void,
  ): Constraint | undefined {
    const emit = a.emit as Record<string, CompiledValue>;
    // A field whose expression failed is already reported; its shape check would only echo it.
    const failed = new Set<string>();
    const get = (k: string): unknown => {
      if (!emit[k]) return undefined;
      const v = evalField(emit[k] as CompiledValue, vars, `emit.${k}`, problem);
      if (v === undefined) failed.add(`emit.${k}`);
      return v;
    };
    const type = get('type');
    const effect = get('effect');
    const severity = get('severity');
    const summary = get('summary');
    const scope = compactScope(get('scope'));
    const details = emit.details ? get('details') : {};
    const remediation = emit.remediation ? get('remediation') : [];
    const tags = emit.tags ? get('tags') : [];
    let ok = true;
    // Messages are built only for a field that fails (this runs for every constraint).
    const need = (cond: boolean, field: string, msg: () => string): void => {
      if (failed.size > 0 && failed.has(field.split('.').slice(0, 2).join('.'))) {
        ok = false;
        return;
      }
      if (!cond) {
        problem(field, msg());
        ok = false;
      }
    };
    need(typeof type === 'string' && type.length > 0, 'emit.type', () => `must be a non-empty string, got ${typeName(type)}`);
    need(typeof effect === 'string' && effect.length > 0, 'emit.effect', () => `must be a non-empty string, got ${typeName(effect)}`);
    need(SEVERITIES.includes(severity as Severity), 'emit.severity', () => `must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(severity)}`);
    need(typeof summary === 'string', 'emit.summary', () => `must be a string, got ${typeName(summary)}`);
    need(isRecord(details), 'emit.details', () => `must be a map, got ${typeName(details)}`);
    const rem = checkRemediation(remediation);
    need(rem !== undefined, 'emit.remediation', () => 'must be a list of {action, who, command?} with who one of ' + AUDIENCES.join(', '));
    need(Array.isArray(tags) && tags.every((t) => typeof t === 'string'), 'emit.tags', () => 'must be a list of strings');
    const scopeErrors = validateScope(scope);
    for (const e of scopeErrors) need(false, `emit.scope${e.path ? '.' + e.path : ''}`, () => e.message);
    if (!ok) return undefined;
    const obj = input.object;
    const md = obj.metadata ?? {};
    const source: Constraint['source'] = {
      apiVersion: obj.apiVersion ?? `${input.gvr.group ? input.gvr.group + '/' : ''}${input.gvr.version}`,
      kind: obj.kind ?? '',
      group: input.gvr.group,
      resource: input.gvr.resource,
      name: md.name ?? '',
    };
    if (md.namespace) source.namespace = md.namespace;
    if (md.uid) source.uid = md.uid;
    return {
      id: '',
      type: type as string,
      effect: effect as string,
      severity: severity as Severity,
      source,
      rule: { pack: a.pack, rule: a.name },
      scope: scope as Scope,
      summary: summary as string,
      details: details as Record<string, unknown>,
      remediation: rem as RemediationStep[],
      tags: tags as string[],
    };
  }
}

function checkRemediation(v: unknown): RemediationStep[] | undefined {
  if (!Array.isArray(v)) return undefined;
  for (const s of v) {
    if (!isRecord(s) || typeof s.action !== 'string' || !AUDIENCES.includes(s.who as RemediationStep['who'])) return undefined;
    if (s.command !== undefined && typeof s.command !== 'string') return undefined;
  }
  return v as RemediationStep[];
}

export function matchesGvr(a: CompiledAdapter, gvr: Gvr, kind: string | undefined): boolean {
  const m = a.match;
  if (m.group !== undefined && m.group !== '*' && m.group !== gvr.group) return false;
  if (m.excludeGroups?.includes(gvr.group)) return false;
  if (m.versions && !m.versions.includes(gvr.version) && !m.versions.includes('*')) return false;
  if (m.resources && !m.resources.includes(gvr.resource) && !m.resources.includes('*')) return false;
  if (m.kinds && (kind === undefined || !m.kinds.includes(kind)) && !m.kinds.includes('*')) return false;
  return true;
}

/** The stable prefix of every constraint id from one object: its source key. */
export function adaptedSourceKey(input: { gvr: Gvr; object: KubeObject }): string {
  const md = input.object.metadata ?? {};
  return sourceKey({ group: input.gvr.group, resource: input.gvr.resource, namespace: md.namespace, name: md.name ?? '' });
}

export function objectRef(obj: KubeObject): string {
  const md = obj.metadata ?? {};
  return `${obj.kind ?? '?'} ${md.namespace ? md.namespace + '/' : ''}${md.name ?? '?'}`;
}

