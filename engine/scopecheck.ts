// Shape check for a Scope an adapter emitted: adapters are data, so their output is checked.
import { validateSelector } from './selector.js';
import { isRecord } from './json.js';

export interface ScopeShapeError {
  path: string;
  message: string;
}

const TERM_FIELDS = new Set(['kinds', 'names', 'namespaces', 'excludedNamespaces', 'namespaceSelector', 'selector', 'annotations', 'operations', 'scope']);
const SCOPE_FIELDS = new Set([...TERM_FIELDS, 'any', 'all', 'exclude', 'autogen']);
const MAX_DEPTH = 8;

export function validateScope(scope: unknown): ScopeShapeError[] {
  const errors: ScopeShapeError[] = [];
  checkScope(scope, '', errors, 0);
  return errors;
}

function join(base: string, k: string | number): string {
  return typeof k === 'number' ? `${base}[${k}]` : base ? `${base}.${k}` : k;
}

function checkScope(v: unknown, path: string, errors: ScopeShapeError[], depth: number): void {
  if (depth > MAX_DEPTH) {
    errors.push({ path, message: `scope nests deeper than ${MAX_DEPTH} levels` });
    return;
  }
  if (!isRecord(v)) {
    errors.push({ path, message: 'scope must be a map' });
    return;
  }
  checkTerm(v, path, errors, SCOPE_FIELDS);
  for (const k of ['any', 'all'] as const) {
    if (v[k] === undefined || v[k] === null) continue;
    const list = v[k];
    if (!Array.isArray(list)) errors.push({ path: join(path, k), message: 'must be a list of scope terms' });
    else
      list.forEach((t, i) => {
        const at = join(join(path, k), i);
        if (!isRecord(t)) errors.push({ path: at, message: 'must be a map' });
        // An entry with its own any/all/exclude is a nested scope (see scope.ts).
        else if (t.any != null || t.all != null || t.exclude != null) checkScope(t, at, errors, depth + 1);
        else checkTerm(t, at, errors, TERM_FIELDS);
      });
  }
  if (v.exclude !== undefined && v.exclude !== null) {
    if (!Array.isArray(v.exclude)) errors.push({ path: join(path, 'exclude'), message: 'must be a list of scopes' });
    else v.exclude.forEach((s, i) => checkScope(s, join(join(path, 'exclude'), i), errors, depth + 1));
  }
  if (v.autogen !== undefined && v.autogen !== null && !isStringList(v.autogen)) {
    errors.push({ path: join(path, 'autogen'), message: 'must be a list of kinds' });
  }
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function checkTerm(t: Record<string, unknown>, path: string, errors: ScopeShapeError[], allowed: Set<string>): void {
  for (const k of Object.keys(t)) {
    if (!allowed.has(k)) errors.push({ path: join(path, k), message: `unknown scope field ${k}` });
  }
  for (const k of ['names', 'namespaces', 'excludedNamespaces', 'operations'] as const) {
    if (t[k] !== undefined && t[k] !== null && !isStringList(t[k])) errors.push({ path: join(path, k), message: 'must be a list of strings' });
  }
  for (const k of ['namespaceSelector', 'selector'] as const) {
    for (const m of validateSelector(t[k])) errors.push({ path: join(path, k), message: m });
  }
  if (t.annotations !== undefined && t.annotations !== null) {
    if (!isRecord(t.annotations) || !Object.values(t.annotations).every((x) => typeof x === 'string')) {
      errors.push({ path: join(path, 'annotations'), message: 'must be a map of strings' });
    }
  }
  if (t.scope !== undefined && t.scope !== null && !['Cluster', 'Namespaced', '*'].includes(t.scope as string)) {
    errors.push({ path: join(path, 'scope'), message: 'must be Cluster, Namespaced or *' });
  }
  if (t.kinds !== undefined && t.kinds !== null) {
    if (!Array.isArray(t.kinds)) errors.push({ path: join(path, 'kinds'), message: 'must be a list of {group, version?, kind}' });
    else
      t.kinds.forEach((k, i) => {
        if (
          !isRecord(k) ||
          typeof k.group !== 'string' ||
          typeof k.kind !== 'string' ||
          (k.version !== undefined && typeof k.version !== 'string') ||
          (k.resource !== undefined && typeof k.resource !== 'string')
        ) {
          errors.push({ path: join(join(path, 'kinds'), i), message: 'must be {group, version?, kind, resource?} with string values' });
        }
      });
  }
}

/**
 * Drop null fields: adapters write `selector: "{{ cond ? sel : null }}"` to leave a
 * field out, and a null in a scope means the same as an absent field.
 */
export function compactScope<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => compactScope(x)) as T;
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null || x === undefined) continue;
    // Selectors and annotation maps are data, not scope structure: keep them verbatim.
    out[k] = k === 'any' || k === 'all' || k === 'exclude' ? compactScope(x) : x;
  }
  return out as T;
}
