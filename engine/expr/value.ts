// Output values in rule packs: the one convention every `emit`, `blame`, `explain` and
// `details` field uses. (This replaces the sketch in DESIGN.md, where any string could
// be CEL: there, `severity: Warning` and `effect: deny` would have been variable names.)
//
//   "{{ expr }}"           A string that is exactly one hole (surrounding whitespace
//                          allowed) is the CEL value with its type: list, map, bool,
//                          number, string, or null.
//                            scope: {namespaces: "{{ [object.metadata.namespace] }}"}
//   "$.path" / "$[...]"    A string starting with `$.` or `$[` is JSONPath over the
//                          variable `object`; the value is the list of all matches.
//                            allowedPorts: $.spec.ingress[*].ports[*]
//   "text {{ expr }} ..."  Any other string containing `{{` is a template rendered to
//                          a string (see template.ts).
//   anything else          Literal: strings, numbers, booleans, null. Lists and maps are
//                          compiled element by element; map keys are always literal.
//
// To write a literal string that starts with `$.`, use `{{ '$.x' }}`; a literal `{{` is
// `{{ '{{' }}`. Errors carry the field path inside the value (`details.ports[2]`) and the
// column inside that field's string. Constant values (no expressions anywhere) are
// deep-frozen at compile time and returned as-is, without allocation. Evaluated values
// may share structure with the input facts: treat them as immutable.
import { type Result, type ExprError, ok } from './result.js';
import { type CelEnv, type CelCompileOptions, type CompiledCel, defaultCelEnv } from './cel.js';
import { compileJsonPath } from './jsonpath.js';
import { compileTemplate, parseSegments, holeError } from './template.js';

export interface CompiledValue {
  evaluate(vars: Record<string, unknown>): Result<unknown>;
  /** No expressions inside: evaluate always returns the same frozen value. */
  readonly isConstant: boolean;
  /** CEL and JSONPath sources inside, for lint. */
  readonly sources: readonly string[];
}

export interface ValueOptions extends CelCompileOptions {
  env?: CelEnv;
}

/** The variable JSONPath values read. */
export const JSONPATH_ROOT_VARIABLE = 'object';

function fail(path: string, e: ExprError): Result<never> {
  const error: ExprError = { ...e };
  if (path !== '') error.path = path;
  return { ok: false, error };
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const c of Object.values(v)) deepFreeze(c);
  }
  return v;
}

function cloneJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneJson);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) {
      if (k === '__proto__') Object.defineProperty(o, k, { value: cloneJson(e), enumerable: true });
      else o[k] = cloneJson(e);
    }
    return o;
  }
  return v;
}

function constant(v: unknown): CompiledValue {
  const r: Result<unknown> = ok(deepFreeze(cloneJson(v)));
  return { isConstant: true, sources: [], evaluate: () => r };
}

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const k = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (path === '') return k;
  return k.startsWith('[') ? `${path}${k}` : `${path}.${k}`;
}

function compileString(s: string, path: string, opts: ValueOptions): Result<CompiledValue> {
  if (s.startsWith('$.') || s.startsWith('$[')) {
    const q = compileJsonPath(s);
    if (!q.ok) return fail(path, q.error);
    const query = q.value;
    return ok({
      isConstant: false,
      sources: [s],
      evaluate: (vars) => ok(query.all(vars[JSONPATH_ROOT_VARIABLE])),
    });
  }
  if (!s.includes('{{')) return ok(constant(s));
  const segs = parseSegments(s);
  if (!segs.ok) return fail(path, segs.error);
  const holes = segs.value.filter((x) => x.kind === 'expr');
  const onlyHole = holes.length === 1 && segs.value.every((x) => x.kind === 'expr' || x.text.trim() === '');
  if (onlyHole) {
    const seg = holes[0];
    if (seg === undefined || seg.kind !== 'expr') return fail(path, { message: 'internal: missing hole' });
    const env = opts.env ?? defaultCelEnv();
    const c = env.compile(seg.source, opts);
    if (!c.ok) return fail(path, holeError(c.error, seg));
    const cel: CompiledCel = c.value;
    return ok({
      isConstant: false,
      sources: [seg.source],
      evaluate(vars) {
        const r = cel.evaluate(vars);
        return r.ok ? r : fail(path, holeError(r.error, seg));
      },
    });
  }
  const t = compileTemplate(s, opts);
  if (!t.ok) return fail(path, t.error);
  const tpl = t.value;
  return ok({
    isConstant: false,
    sources: tpl.sources,
    evaluate(vars) {
      const r = tpl.render(vars);
      return r.ok ? r : fail(path, r.error);
    },
  });
}

/**
 * Compiles a rule-pack output value. `path` names the field for error messages
 * (e.g. `emit.details`); nested errors extend it (`emit.details.ports[2]`).
 */
export function compileValue(v: unknown, path: string, opts: ValueOptions = {}): Result<CompiledValue> {
  if (typeof v === 'string') return compileString(v, path, opts);
  if (Array.isArray(v)) {
    const items: CompiledValue[] = [];
    for (let i = 0; i < v.length; i++) {
      const c = compileValue(v[i], childPath(path, i), opts);
      if (!c.ok) return c;
      items.push(c.value);
    }
    if (items.every((c) => c.isConstant)) return ok(constant(v));
    return ok({
      isConstant: false,
      sources: items.flatMap((c) => c.sources),
      evaluate(vars) {
        const out: unknown[] = new Array<unknown>(items.length);
        for (let i = 0; i < items.length; i++) {
          const r = (items[i] as CompiledValue).evaluate(vars);
          if (!r.ok) return r;
          out[i] = r.value;
        }
        return ok(out);
      },
    });
  }
  if (v !== null && typeof v === 'object') {
    const entries: [string, CompiledValue][] = [];
    for (const [k, e] of Object.entries(v)) {
      const c = compileValue(e, childPath(path, k), opts);
      if (!c.ok) return c;
      entries.push([k, c.value]);
    }
    if (entries.every(([, c]) => c.isConstant)) return ok(constant(v));
    return ok({
      isConstant: false,
      sources: entries.flatMap(([, c]) => c.sources),
      evaluate(vars) {
        const out: Record<string, unknown> = {};
        for (const [k, c] of entries) {
          const r = c.evaluate(vars);
          if (!r.ok) return r;
          if (k === '__proto__') Object.defineProperty(out, k, { value: r.value, enumerable: true });
          else out[k] = r.value;
        }
        return ok(out);
      },
    });
  }
  if (v === undefined) return ok(constant(null));
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return ok(constant(v));
  return fail(path, { message: `unsupported value of type ${typeof v}` });
}
