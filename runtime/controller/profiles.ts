// ConstraintProfile: a platform team registers a policy resource with Potoo (a GVR plus
// a built-in adapter by name, or inline adapter rules in the RulePack format), can
// override severity, or switch a resource off. Profiles compile into ordinary rule
// packs through the same loader, so an inline rule is validated exactly as a file is.
import { isRecord } from '../../engine/json.js';
import type { Problem, Severity } from '../../engine/model.js';
import { formatProblem, SEVERITIES } from '../../engine/model.js';
import { loadPackDocument, type CompiledPack } from '../../engine/pack/loader.js';
import { RULEPACK_API_VERSION, RULEPACK_KIND } from '../../engine/pack/types.js';
import type { RawObject } from '../kube/informer.js';
import { stampConditions, type Condition, type ConditionInput } from './conditions.js';
import type { ProfileTarget } from './selection.js';

export interface ProfileSpec {
  description?: string;
  target?: { group?: string; version?: string; resource?: string; kind?: string };
  adapter?: string;
  adapters?: unknown[];
  severity?: string;
  enabled?: boolean;
}

export type { Condition } from './conditions.js';

export interface ProfileStatus {
  observedGeneration?: number;
  adapter?: string;
  servedVersion?: string;
  constraints?: number;
  objects?: number;
  conditions: Condition[];
}

export interface CompiledProfile {
  name: string;
  uid?: string;
  generation: number;
  target: ProfileTarget | undefined;
  /** Adapter rules for the target; undefined when disabled, invalid, or left to the generic adapter. */
  pack: CompiledPack | undefined;
  /** What reads the target: `<pack>`, `<pack>/<rule>`, `inline`, or `generic`. */
  adapter: string;
  problems: Problem[];
  reason: 'Loaded' | 'Disabled' | 'InvalidSpec' | 'UnknownAdapter' | 'InvalidRules';
}

/** Pack names derived from profiles: never collide with file or ConfigMap packs by convention. */
export function profilePackName(profile: string): string {
  return `profile.${profile}`.slice(0, 253).replace(/[.-]+$/, '');
}

/**
 * Compile one ConstraintProfile object. `available` are the packs a profile may name
 * (built-in and ConfigMap packs). Never throws; problems say what is wrong, with
 * field paths into the profile (`spec.adapters[0].emit.effect`).
 */
export function compileProfile(obj: RawObject, available: readonly CompiledPack[]): CompiledProfile {
  const md = (obj.metadata ?? {}) as { name?: string; uid?: string; generation?: number };
  const name = md.name ?? '';
  const file = `constraintprofile ${name}`;
  const out: CompiledProfile = { name, generation: md.generation ?? 0, target: undefined, pack: undefined, adapter: 'generic', problems: [], reason: 'Loaded' };
  if (md.uid) out.uid = md.uid;
  const fail = (reason: CompiledProfile['reason'], field: string, message: string): CompiledProfile => {
    out.reason = reason;
    out.problems.push({ severity: 'error', file, field, message });
    out.pack = undefined;
    return out;
  };
  const spec = (isRecord(obj.spec) ? obj.spec : {}) as ProfileSpec;
  const t = spec.target;
  if (!isRecord(t) || typeof t.resource !== 'string' || t.resource === '' || typeof (t.group ?? '') !== 'string') {
    return fail('InvalidSpec', 'spec.target', 'target needs group ("" for core) and resource');
  }
  const enabled = spec.enabled !== false;
  out.target = { profile: name, group: t.group ?? '', resource: t.resource, enabled };
  if (t.version) out.target.version = t.version;
  if (!enabled) {
    out.reason = 'Disabled';
    out.adapter = 'none';
    return out;
  }
  if (spec.severity !== undefined && !SEVERITIES.includes(spec.severity as Severity)) {
    return fail('InvalidSpec', 'spec.severity', `must be one of ${SEVERITIES.join(', ')}`);
  }
  const match: Record<string, unknown> = { group: out.target.group, resources: [out.target.resource] };
  if (t.version) match.versions = [t.version];
  let rules: Record<string, unknown>[];
  let fieldBase: string;
  if (spec.adapter !== undefined && spec.adapters !== undefined) {
    return fail('InvalidSpec', 'spec', 'set either adapter or adapters, not both');
  }
  if (typeof spec.adapter === 'string') {
    const [packName, ruleName] = spec.adapter.split('/', 2) as [string, string | undefined];
    const pack = available.find((p) => p.name === packName);
    if (!pack) {
      const names = available.filter((p) => p.adapters.length > 0).map((p) => p.name);
      return fail('UnknownAdapter', 'spec.adapter', `no rule pack named ${packName}; packs with adapters: ${names.join(', ') || '(none)'}`);
    }
    const source = (pack.document.spec.adapters ?? []) as unknown as Record<string, unknown>[];
    rules = ruleName ? source.filter((r) => r.name === ruleName) : source.filter((r) => !(isRecord(r.match) && r.match.fallback === true));
    if (rules.length === 0) {
      return fail('UnknownAdapter', 'spec.adapter', ruleName ? `pack ${packName} has no adapter rule ${ruleName}` : `pack ${packName} has no adapter rules`);
    }
    // The named rules now read the profile's target instead of what they were written for.
    rules = rules.map((r) => ({ ...structuredClone(r), match }));
    fieldBase = `spec.adapter (${spec.adapter})`;
    out.adapter = spec.adapter;
  } else if (Array.isArray(spec.adapters)) {
    if (spec.adapters.length === 0) return fail('InvalidSpec', 'spec.adapters', 'is empty; omit it to use the generic adapter');
    rules = spec.adapters.map((r) => (isRecord(r) ? { ...structuredClone(r), ...(r.match === undefined ? { match } : {}) } : (r as Record<string, unknown>)));
    fieldBase = '';
    out.adapter = 'inline';
  } else {
    // Registration only: the generic adapter reads the objects (and says so in summaries).
    return out;
  }
  if (spec.severity !== undefined) {
    for (const r of rules) if (isRecord(r) && isRecord(r.emit)) r.emit = { ...r.emit, severity: spec.severity };
  }
  const doc = {
    apiVersion: RULEPACK_API_VERSION,
    kind: RULEPACK_KIND,
    metadata: { name: profilePackName(name) },
    spec: { description: spec.description ?? `ConstraintProfile ${name}`, adapters: rules },
  };
  const r = loadPackDocument({ value: doc, index: 0, start: { line: 1, column: 1 }, locate: () => ({ line: 0, column: 0 }) }, { file });
  for (const p of r.problems) {
    // Positions point into the generated document, not the profile: keep the field only.
    delete p.line;
    delete p.column;
    if (fieldBase && p.field) p.field = `${fieldBase}: ${p.field}`;
    out.problems.push(p);
  }
  if (!r.pack || out.problems.some((p) => p.severity === 'error')) {
    out.reason = 'InvalidRules';
    out.pack = undefined;
    return out;
  }
  out.pack = r.pack;
  return out;
}

export interface StatusFacts {
  /** The version the API serves the target at, or undefined when it does not. */
  servedVersion: string | undefined;
  objects: number;
  constraints: number;
}

/**
 * The status a profile should have. Transition times carry over from `previous` while a
 * condition's status stays the same, so rewriting an unchanged status is a no-op.
 */
export function profileStatus(p: CompiledProfile, facts: StatusFacts, previous: ProfileStatus | undefined, now: Date): ProfileStatus {
  const gr = p.target ? `${p.target.group || 'core'}/${p.target.resource}` : '(no target)';
  const errors = p.problems.filter((x) => x.severity === 'error');
  const message = errors.map(formatProblem).join('\n').slice(0, 32_000);
  const invalid = errors.length > 0;
  const conds: ConditionInput[] = [];
  if (invalid) {
    conds.push({ type: 'Accepted', status: 'False', reason: p.reason, message });
    conds.push({ type: 'Invalid', status: 'True', reason: p.reason, message });
  } else {
    const acceptedMsg =
      p.reason === 'Disabled'
        ? `spec.enabled is false: Potoo ignores ${gr}`
        : p.adapter === 'generic'
          ? `${gr} is read by the generic adapter (set spec.adapter or spec.adapters for precise constraints)`
          : `${gr} is read by adapter ${p.adapter}`;
    conds.push({ type: 'Accepted', status: 'True', reason: p.reason, message: acceptedMsg });
    conds.push({ type: 'Invalid', status: 'False', reason: 'Valid', message: 'the profile and its rules are valid' });
  }
  if (p.target) {
    conds.push(
      facts.servedVersion
        ? { type: 'Served', status: 'True', reason: 'Served', message: `the API server serves ${gr} at version ${facts.servedVersion}` }
        : {
            type: 'Served',
            status: 'False',
            reason: 'NotServed',
            message: `the API server does not serve ${gr}${p.target.version ? ` at version ${p.target.version}` : ''}: install its CRD or fix spec.target`,
          },
    );
  }
  const status: ProfileStatus = {
    observedGeneration: p.generation,
    adapter: p.adapter,
    constraints: facts.constraints,
    objects: facts.objects,
    conditions: stampConditions(conds, p.generation, previous?.conditions, now),
  };
  if (facts.servedVersion) status.servedVersion = facts.servedVersion;
  return status;
}
