// JSONPath extraction for rule packs.
//
// Script expressions (`[?(...)]` filters and `[(...)]` scripts) are rejected at compile
// time. Rule packs may come from ConfigMaps, and jsonpath-plus's "safe" evaluator has had
// sandbox escapes (CVE-2024-21534, CVE-2025-1302); filtering belongs in CEL
// (`object.spec.containers.filter(c, c.name == 'app')`), which has no code-execution
// surface. jsonpath-plus runs with `eval: false` as a second line of defence.
//
// Plain paths (`$.a.b[0].c`, `$['a-b']`) take a fast path that walks the object directly,
// with jsonpath-plus's own semantics (own properties only, `$.list.length` reads the
// array's length, a falsy root matches nothing). jsonpath-plus re-parses and allocates
// per call; RESEARCH.md measured its resolver as the rules engine's bottleneck.
import { JSONPath } from 'jsonpath-plus';
import { type Result, ok, err } from './result.js';

export interface JsonPathQuery {
  readonly source: string;
  /** Every match, in document order; [] when none. */
  all(obj: unknown): unknown[];
  /** The first match; undefined when none. */
  first(obj: unknown): unknown;
  /** True when the path is served without jsonpath-plus. */
  readonly fast: boolean;
}

export const MAX_JSONPATH_LENGTH = 2000;

const TYPE_SELECTOR =
  /^@(?:null|boolean|number|string|integer|undefined|nonFinite|scalar|array|object|function|other)\(\)/;
/** Names the fast path takes after a dot: jsonpath-plus reads these as plain keys. */
const DOT_NAME = /^[A-Za-z0-9_-]+/;
/** Bracket-quoted keys the fast path takes: what labels, annotations and fields use. */
const QUOTED_NAME = /^[A-Za-z0-9_./+=-]*$/;

function scriptError(column: number): Result<never> {
  return err(
    'JSONPath script expressions ([?(...)] filters and [(...)] scripts) are not allowed: rule packs may come from ConfigMaps. Extract with a plain path and filter in CEL, e.g. object.spec.containers.filter(c, c.name == "app")',
    column,
  );
}

/**
 * Checks the path's structure (jsonpath-plus silently repairs malformed paths such as
 * `$.a[`), rejects scripts, and returns the fast-path keys when the path is plain.
 */
function analyze(path: string): Result<string[] | null> {
  if (path.length === 0) return err('JSONPath is empty');
  if (path.length > MAX_JSONPATH_LENGTH) return err(`JSONPath is longer than ${MAX_JSONPATH_LENGTH} characters`);
  if (path[0] !== '$') return err("JSONPath must start with '$'", 1);
  const keys: string[] = [];
  let plain = true;
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    const col = i + 1;
    if (c === '.') {
      let j = i + 1;
      const descent = path[j] === '.';
      if (descent) {
        plain = false;
        j++;
      }
      if (path[j] === '*') {
        plain = false;
        i = j + 1;
        continue;
      }
      let end = j;
      while (end < path.length && !'.[]~^@()?'.includes(path[end] as string)) end++;
      const name = path.slice(j, end);
      if (name === '') {
        if (descent && (path[end] === '[' || path[end] === '@')) {
          i = end;
          continue;
        }
        return err("expected a name after '.'", col);
      }
      const m = DOT_NAME.exec(name);
      if (!m || m[0].length !== name.length) plain = false;
      keys.push(name);
      i = end;
      continue;
    }
    if (c === '[') {
      const first = path[i + 1];
      if (first === "'" || first === '"') {
        const close = path.indexOf(first, i + 2);
        if (close === -1) return err('unterminated quoted name in JSONPath', i + 2);
        if (path[close + 1] !== ']') {
          // Unions of quoted names (`['a','b']`) are jsonpath-plus's business.
          const end = path.indexOf(']', close);
          if (end === -1) return err("missing ']' in JSONPath", col);
          const inner = path.slice(i + 1, end);
          if (inner.includes('(')) return scriptError(col);
          plain = false;
          i = end + 1;
          continue;
        }
        const name = path.slice(i + 2, close);
        // jsonpath-plus reads a parenthesised quoted name as a script.
        if (name.includes('(')) return scriptError(col);
        if (!QUOTED_NAME.test(name)) plain = false;
        keys.push(name);
        i = close + 2;
        continue;
      }
      const end = path.indexOf(']', i);
      if (end === -1) return err("missing ']' in JSONPath", col);
      const inner = path.slice(i + 1, end);
      if (inner.trim().length === 0) return err("empty '[]' in JSONPath", col);
      if (inner.trim().startsWith('?') || inner.includes('(')) return scriptError(col);
      if (/^\d+$/.test(inner)) keys.push(inner);
      else plain = false;
      i = end + 1;
      continue;
    }
    if (c === '~' || c === '^' || c === '*') {
      plain = false;
      i++;
      continue;
    }
    if (c === '@') {
      const sel = TYPE_SELECTOR.exec(path.slice(i));
      if (!sel) return err(`unexpected '@' in JSONPath`, col);
      plain = false;
      i += sel[0].length;
      continue;
    }
    if (c === '(' || c === '?') return scriptError(col);
    return err(`unexpected '${c}' in JSONPath`, col);
  }
  return ok(plain ? keys : null);
}

function walk(root: unknown, keys: readonly string[]): { found: boolean; value: unknown } {
  // jsonpath-plus returns nothing for a falsy root; match it so both paths agree.
  if (!root) return { found: false, value: undefined };
  let cur: unknown = root;
  for (const k of keys) {
    if (!cur) return { found: false, value: undefined };
    const o: object = Object(cur);
    if (!Object.hasOwn(o, k)) return { found: false, value: undefined };
    cur = (o as Record<string, unknown>)[k];
  }
  return { found: true, value: cur };
}

function slowAll(path: string, obj: unknown): unknown[] {
  if (!obj) return [];
  try {
    const r: unknown = JSONPath({
      path,
      json: obj as object,
      eval: false,
      wrap: true,
      resultType: 'value',
    });
    return Array.isArray(r) ? r : [];
  } catch {
    // Only reachable with odd inputs (scripts are rejected at compile time): no match.
    return [];
  }
}

export function compileJsonPath(path: string): Result<JsonPathQuery> {
  if (typeof path !== 'string') return err('JSONPath must be a string');
  const a = analyze(path);
  if (!a.ok) return a;
  const keys = a.value;
  if (keys !== null) {
    return ok({
      source: path,
      fast: true,
      all(obj) {
        const r = walk(obj, keys);
        return r.found ? [r.value] : [];
      },
      first(obj) {
        return walk(obj, keys).value;
      },
    });
  }
  return ok({
    source: path,
    fast: false,
    all: (obj) => slowAll(path, obj),
    first: (obj) => slowAll(path, obj)[0],
  });
}

/** Evaluates `path` through jsonpath-plus only (for comparisons and benchmarks). */
export function jsonPathPlusAll(path: string, obj: unknown): unknown[] {
  return slowAll(path, obj);
}
