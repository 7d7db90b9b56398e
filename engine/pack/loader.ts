// RulePack text -> compiled packs, or located problems. Nothing here throws to callers.
import { Ajv, type ErrorObject } from 'ajv';
import schema from './rulepack.schema.json' with { type: 'json' };
import type { Problem } from '../model.js';
import { parseYamlStream, formatPath, type LocatedDocument, type PathSegment, type YamlLimits, DEFAULT_YAML_LIMITS } from '../source/yaml.js';
import { compileValue, type CompiledValue } from '../expr/value.js';
import { compileConditions, STAGE_FACTS, type CompiledConditions } from '../rules/conditions.js';
import { stageCelEnv } from '../stages/env.js';
import { isRecord } from '../json.js';
import {
  SECTIONS,
  RULEPACK_API_VERSION,
  RULEPACK_KIND,
  type AdapterMatch,
  type AdapterRule,
  type ConditionTree,
  type CorrelationRule,
  type NotificationRule,
  type PackTest,
  type RequirementRule,
  type RulePackDocument,
  type Section,
  type SignalKind,
} from './types.js';

export { RULEPACK_API_VERSION, RULEPACK_KIND };

/** Where a pack came from: a file path, or e.g. `configmap potoo-system/extra (pack.yaml)`. */
export interface PackOrigin {
  file: string;
}

export interface CompiledRuleBase {
  pack: string;
  name: string;
  section: Section;
  index: number;
  conditions: CompiledConditions | undefined;
  lets: [string, CompiledValue][];
  /** YAML location of the rule, for messages. */
  line?: number;
}

export interface CompiledAdapter extends CompiledRuleBase {
  section: 'adapters';
  match: AdapterMatch;
  forEach?: CompiledValue;
  key?: CompiledValue;
  skip?: CompiledValue;
  emit?: Record<string, CompiledValue>;
}

export interface CompiledRequirement extends CompiledRuleBase {
  section: 'requirements';
  kinds: string[] | undefined;
  debounceMs: number;
  when?: CompiledValue;
  forEach?: CompiledValue;
  key?: CompiledValue;
  emit: Record<string, CompiledValue>;
}

export interface CompiledCorrelation extends CompiledRuleBase {
  section: 'correlations';
  /** The signal kinds it reads (a single `on` is a one-element list). */
  on: SignalKind[];
  when?: CompiledValue;
  blame: CompiledValue;
  confidence?: CompiledValue;
  severity?: CompiledValue;
  explain: CompiledValue;
  details?: CompiledValue;
}

export interface CompiledNotification extends CompiledRuleBase {
  section: 'notifications';
  on: 'attribution' | 'finding' | 'constraint';
  final: boolean;
  forEach?: CompiledValue;
  deliver: Record<string, CompiledValue>;
}

export interface CompiledPack {
  name: string;
  origin: PackOrigin;
  /** The document as written (after validation), for serialization and tests. */
  document: RulePackDocument;
  adapters: CompiledAdapter[];
  requirements: CompiledRequirement[];
  correlations: CompiledCorrelation[];
  notifications: CompiledNotification[];
  tests: { test: PackTest; line?: number }[];
}

export interface LoadResult {
  packs: CompiledPack[];
  problems: Problem[];
}

export interface LoadOptions {
  yaml?: YamlLimits;
  /** Largest pack text accepted (bytes). */
  maxBytes?: number;
}

const DEFAULT_MAX_PACK_BYTES = 8 * 1024 * 1024;
const DEFAULT_DEBOUNCE_MS = 90_000;

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
const validateSchema = ajv.compile(schema);

export const RULEPACK_SCHEMA: unknown = schema;

/** Load every RulePack document in a YAML/JSON stream. A broken document never hides the others. */
export function loadPacks(text: string, origin: PackOrigin, opts: LoadOptions = {}): LoadResult {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_PACK_BYTES;
  if (text.length > maxBytes) {
    return {
      packs: [],
      problems: [{ severity: 'error', file: origin.file, message: `rule pack is ${text.length} bytes, over the ${maxBytes}-byte limit` }],
    };
  }
  const stream = parseYamlStream(text, origin.file, opts.yaml ?? DEFAULT_YAML_LIMITS);
  const result: LoadResult = { packs: [], problems: [...stream.problems] };
  for (const doc of stream.documents) {
    const r = loadPackDocument(doc, origin);
    result.problems.push(...r.problems);
    if (r.pack) result.packs.push(r.pack);
  }
  const seen = new Map<string, string>();
  for (const p of result.packs) {
    const prev = seen.get(p.name);
    if (prev !== undefined) {
      result.problems.push({ severity: 'error', file: origin.file, pack: p.name, message: `pack name ${p.name} is defined twice (also in ${prev})` });
    }
    seen.set(p.name, p.origin.file);
  }
  if (result.problems.some((p) => p.severity === 'error')) {
    // A pack with errors is rejected whole: half a pack would silently change behaviour.
    const broken = new Set(result.problems.filter((p) => p.severity === 'error').map((p) => p.pack));
    result.packs = result.packs.filter((p) => !broken.has(p.name) && !broken.has(undefined));
  }
  return result;
}

/** Load one already-parsed document (from YAML with locations, or a plain object). */
export function loadPackDocument(doc: LocatedDocument, origin: PackOrigin): { pack?: CompiledPack; problems: Problem[] } {
  const value = doc.value;
  const problems: Problem[] = [];
  const packName = packNameOf(value);
  const at = (path: readonly PathSegment[], message: string, rule?: string): Problem => {
    const pos = doc.locate(path);
    const p: Problem = { severity: 'error', file: origin.file, line: pos.line, column: pos.column, field: formatPath(path), message };
    if (packName) p.pack = packName;
    if (rule) p.rule = rule;
    return p;
  };

  if (!isRecord(value) || value.kind !== RULEPACK_KIND) {
    const kind = isRecord(value) && typeof value.kind === 'string' ? value.kind : typeof value;
    problems.push(at([], `expected a ${RULEPACK_KIND} (apiVersion ${RULEPACK_API_VERSION}), found ${kind}`));
    return { problems };
  }
  if (!validateSchema(value)) {
    for (const e of relevantSchemaErrors(validateSchema.errors ?? [])) {
      const path = pointerToPath(e.instancePath);
      problems.push(at(extendPath(path, e), schemaMessage(e), ruleNameAt(value, path)));
    }
    return { problems };
  }
  const document = value as unknown as RulePackDocument;
  const name = document.metadata.name;
  const pack: CompiledPack = {
    name,
    origin,
    document,
    adapters: [],
    requirements: [],
    correlations: [],
    notifications: [],
    tests: [],
  };

  const compileField = (v: unknown, path: PathSegment[], rule: string): CompiledValue | undefined => {
    // Stage rules (not adapters) may call the stage helpers (constraintsOf, selecting, ...).
    const r = compileValue(v, formatPath(path), path[1] === 'adapters' ? {} : { env: stageCelEnv() });
    if (r.ok) return r.value;
    problems.push(at(path, r.error.message, rule));
    return undefined;
  };
  const compileFields = (obj: Record<string, unknown>, path: PathSegment[], rule: string): Record<string, CompiledValue> => {
    const out: Record<string, CompiledValue> = {};
    for (const [k, v] of Object.entries(obj)) {
      const c = compileField(v, [...path, k], rule);
      if (c) out[k] = c;
    }
    return out;
  };

  for (const section of SECTIONS) {
    const rules = (document.spec[section] ?? []) as { name: string }[];
    const names = new Set<string>();
    rules.forEach((rule, index) => {
      const base: PathSegment[] = ['spec', section, index];
      if (names.has(rule.name)) problems.push(at([...base, 'name'], `rule name ${rule.name} is used twice in ${section}`, rule.name));
      names.add(rule.name);
      const r = rule as Record<string, unknown>;
      const common = (): CompiledRuleBase | undefined => {
        let conditions: CompiledConditions | undefined;
        if (r.conditions !== undefined) {
          const c = compileConditions(r.conditions as ConditionTree, STAGE_FACTS[section]);
          if (!c.ok) {
            for (const e of c.errors) problems.push(at([...base, 'conditions', ...e.path], e.message, rule.name));
            return undefined;
          }
          conditions = c.value;
        }
        const lets: [string, CompiledValue][] = [];
        for (const [k, v] of Object.entries((r.let ?? {}) as Record<string, unknown>)) {
          const c = compileField(v, [...base, 'let', k], rule.name);
          if (c) lets.push([k, c]);
        }
        return { pack: name, name: rule.name, section, index, conditions, lets, line: doc.locate(base).line };
      };
      const c = common();
      if (!c) return;
      switch (section) {
        case 'adapters': {
          const a = rule as AdapterRule;
          const compiled: CompiledAdapter = { ...c, section, match: a.match };
          if (a.forEach !== undefined) compiled.forEach = compileField(a.forEach, [...base, 'forEach'], a.name);
          if (a.key !== undefined) compiled.key = compileField(a.key, [...base, 'key'], a.name);
          if (a.skip !== undefined) compiled.skip = compileField(a.skip, [...base, 'skip'], a.name);
          if (a.emit) compiled.emit = compileFields(a.emit as unknown as Record<string, unknown>, [...base, 'emit'], a.name);
          pack.adapters.push(compiled);
          break;
        }
        case 'requirements': {
          const q = rule as RequirementRule;
          const debounceMs = q.debounce ? parseDuration(q.debounce) : DEFAULT_DEBOUNCE_MS;
          const compiled: CompiledRequirement = {
            ...c,
            section,
            kinds: q.on?.kinds,
            debounceMs,
            emit: compileFields(q.emit as unknown as Record<string, unknown>, [...base, 'emit'], q.name),
          };
          if (q.when !== undefined) compiled.when = compileField(q.when, [...base, 'when'], q.name);
          if (q.forEach !== undefined) compiled.forEach = compileField(q.forEach, [...base, 'forEach'], q.name);
          if (q.key !== undefined) compiled.key = compileField(q.key, [...base, 'key'], q.name);
          pack.requirements.push(compiled);
          break;
        }
        case 'correlations': {
          const q = rule as CorrelationRule;
          const blame = compileField(q.blame, [...base, 'blame'], q.name);
          const explain = compileField(q.explain, [...base, 'explain'], q.name);
          if (!blame || !explain) return;
          const compiled: CompiledCorrelation = { ...c, section, on: Array.isArray(q.on) ? q.on : [q.on], blame, explain };
          if (q.when !== undefined) compiled.when = compileField(q.when, [...base, 'when'], q.name);
          if (q.confidence !== undefined) compiled.confidence = compileField(q.confidence, [...base, 'confidence'], q.name);
          if (q.severity !== undefined) compiled.severity = compileField(q.severity, [...base, 'severity'], q.name);
          if (q.details !== undefined) compiled.details = compileField(q.details, [...base, 'details'], q.name);
          pack.correlations.push(compiled);
          break;
        }
        case 'notifications': {
          const q = rule as NotificationRule;
          const compiled: CompiledNotification = {
            ...c,
            section,
            on: q.on ?? 'attribution',
            final: q.final ?? false,
            deliver: compileFields(q.deliver as unknown as Record<string, unknown>, [...base, 'deliver'], q.name),
          };
          if (q.forEach !== undefined) compiled.forEach = compileField(q.forEach, [...base, 'forEach'], q.name);
          pack.notifications.push(compiled);
          break;
        }
      }
    });
  }
  (document.spec.tests ?? []).forEach((test, index) => {
    pack.tests.push({ test, line: doc.locate(['spec', 'tests', index]).line });
  });
  return problems.length ? { problems } : { pack, problems };
}

/** `90s`, `1m30s`, `250ms` -> milliseconds. The schema has already checked the shape. */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of s.matchAll(/([0-9]+)(ms|s|m|h)/g)) total += Number(m[1]) * (units[m[2] as string] ?? 0);
  return total;
}

function packNameOf(value: unknown): string | undefined {
  if (!isRecord(value) || !isRecord(value.metadata)) return undefined;
  return typeof value.metadata.name === 'string' ? value.metadata.name : undefined;
}

function ruleNameAt(value: Record<string, unknown>, path: PathSegment[]): string | undefined {
  if (path[0] !== 'spec' || typeof path[1] !== 'string' || typeof path[2] !== 'number') return undefined;
  const spec = value.spec as Record<string, unknown>;
  const list = spec?.[path[1]];
  if (!Array.isArray(list)) return undefined;
  const rule = list[path[2]] as Record<string, unknown> | undefined;
  return typeof rule?.name === 'string' ? rule.name : undefined;
}

function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^[0-9]+$/.test(s) ? Number(s) : s));
}

function extendPath(path: PathSegment[], e: ErrorObject): PathSegment[] {
  if (e.keyword === 'additionalProperties') return [...path, (e.params as { additionalProperty: string }).additionalProperty];
  return path;
}

function schemaMessage(e: ErrorObject): string {
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown field ${(e.params as { additionalProperty: string }).additionalProperty}`;
    case 'required':
      return `missing required field ${(e.params as { missingProperty: string }).missingProperty}`;
    case 'enum':
      return `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).join(', ')}`;
    case 'const':
      return `must be ${String((e.params as { allowedValue: unknown }).allowedValue)}`;
    case 'type':
      return `must be ${(e.params as { type: string }).type}`;
    case 'pattern':
      return `must match ${(e.params as { pattern: string }).pattern}`;
    case 'oneOf':
      return 'matches none of the allowed shapes';
    default:
      return e.message ?? e.keyword;
  }
}

/**
 * `oneOf` failures make ajv report every branch's complaint. Keep the deepest errors
 * (the most specific ones), drop the `oneOf` summary when deeper errors explain it, and
 * drop duplicates, so an author sees the one field that is wrong.
 */
function relevantSchemaErrors(errors: ErrorObject[]): ErrorObject[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  const paths = [...byPath.keys()];
  const out: ErrorObject[] = [];
  for (const [path, list] of byPath) {
    const hasDeeper = paths.some((p) => p !== path && p.startsWith(path + '/'));
    for (const e of list) {
      // A deeper error exists under this branch: the branch mismatch is its consequence.
      if (hasDeeper && (e.keyword === 'oneOf' || e.keyword === 'type')) continue;
      out.push(e);
    }
  }
  // `oneOf` alternatives report required/additionalProperties for the branch not taken; when
  // the same path also has a more specific message, prefer unknown-field over missing-field.
  const seen = new Set<string>();
  return out.filter((e) => {
    const k = e.instancePath + '|' + schemaMessage(e);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
