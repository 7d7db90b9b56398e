// Normalization at the fact store's door. Informers hand over class instances with Date
// timestamps from the initial list and plain JSON with string timestamps from the
// watch; manifest files hand over whatever YAML parsed to. Everything past this point
// sees one shape: frozen plain JSON with sorted keys, timestamps as RFC 3339 strings,
// integers as JS numbers (the CEL layer converts to BigInt where it needs to).
import { rec } from '../json.js';
import type { KubeObject } from '../model.js';

export interface NormalizeLimits {
  /** Deepest nesting accepted (the object itself is depth 1). */
  maxDepth: number;
  /** Approximate serialized size bound, in UTF-16 code units of the JSON text. */
  maxBytes: number;
}

/**
 * etcd's default request limit is 1.5 MiB, so 4 MiB leaves room for anything a real
 * apiserver can hold while stopping a pathological manifest before it eats memory.
 */
export const DEFAULT_LIMITS: Readonly<NormalizeLimits> = Object.freeze({ maxDepth: 100, maxBytes: 4 * 1024 * 1024 });

export type NormalizeResult = { ok: true; object: KubeObject } | { ok: false; error: string };

class Reject {
  constructor(readonly message: string) {}
}

interface Ctx {
  limits: NormalizeLimits;
  bytes: number;
}

/**
 * Kubernetes serializes metav1.Time as RFC 3339 with second precision and MicroTime
 * with six fractional digits. A Date cannot tell which it was, so whole seconds use the
 * Time form (what watch JSON carries for creationTimestamp and friends) and anything
 * with milliseconds uses the MicroTime form.
 */
export function formatTimestamp(d: Date): string {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ
  const ms = d.getUTCMilliseconds();
  return ms === 0 ? iso.slice(0, 19) + 'Z' : iso.slice(0, 23) + '000Z';
}

function charge(ctx: Ctx, n: number): void {
  ctx.bytes += n;
  if (ctx.bytes > ctx.limits.maxBytes) {
    throw new Reject(`object is larger than ${ctx.limits.maxBytes} bytes serialized`);
  }
}

const SKIP = Symbol('skip');

/** The value at a key path through nested maps; undefined as soon as a step is not a map. */
export function valueAt(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const p of path) {
    const r = rec(cur);
    if (!r) return undefined;
    cur = r[p];
  }
  return cur;
}

/**
 * Assignment would treat a `__proto__` key (legal in JSON, and in CRD payloads) as the
 * prototype setter; JSON.parse makes it an own property, and so must we.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function walk(value: unknown, depth: number, ctx: Ctx, rootMeta: boolean): unknown {
  switch (typeof value) {
    case 'string':
      charge(ctx, value.length + 2);
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new Reject(`non-finite number ${String(value)} is not JSON`);
      charge(ctx, 8);
      return value;
    case 'boolean':
      charge(ctx, 5);
      return value;
    case 'bigint': {
      const n = Number(value);
      if (!Number.isSafeInteger(n)) throw new Reject(`integer ${value.toString()} does not fit a JS number`);
      charge(ctx, 8);
      return n;
    }
    case 'undefined':
    case 'function':
    case 'symbol':
      return SKIP;
    case 'object':
      break;
  }
  if (value === null) {
    charge(ctx, 4);
    return null;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new Reject('invalid Date');
    charge(ctx, 22);
    return formatTimestamp(value);
  }
  if (depth > ctx.limits.maxDepth) throw new Reject(`object is nested deeper than ${ctx.limits.maxDepth} levels`);
  if (Array.isArray(value)) {
    charge(ctx, 2);
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const x = walk(value[i], depth + 1, ctx, false);
      // JSON.stringify writes null for holes it cannot represent; do the same.
      out[i] = x === SKIP ? null : x;
      charge(ctx, 1);
    }
    return Object.freeze(out);
  }
  if (value instanceof Map || value instanceof Set || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    throw new Reject(`unsupported value of type ${value.constructor.name}`);
  }
  charge(ctx, 2);
  const out: Record<string, unknown> = {};
  // Own enumerable keys only (a class instance's data fields, never its prototype),
  // sorted: client-node classes list fields in their attribute-map order while watch
  // JSON follows the server's, and sorting makes both byte-identical (it is also the
  // order `kubectl get -o yaml` shows).
  for (const key of Object.keys(value).sort()) {
    const raw = (value as Record<string, unknown>)[key];
    // ObjectMeta decodes null as absent (`labels:` with nothing under it in YAML).
    if (rootMeta && (key === 'managedFields' || raw === null)) continue;
    const x = walk(raw, depth + 1, ctx, false);
    if (x === SKIP) continue;
    charge(ctx, key.length + 3);
    setOwn(out, key, x);
  }
  return Object.freeze(out);
}

function isStringMap(v: unknown): v is Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const x of Object.values(v)) if (typeof x !== 'string') return false;
  return true;
}

/**
 * Normalize one object, or say why it cannot enter the store. Never throws: oversized,
 * too deep, cyclic or shapeless input is an error value the caller counts as a problem.
 */
export function normalizeObject(input: unknown, limits?: Partial<NormalizeLimits>): NormalizeResult {
  const lim: NormalizeLimits = { ...DEFAULT_LIMITS, ...limits };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, error: 'object must be a JSON object' };
  }
  const ctx: Ctx = { limits: lim, bytes: 0 };
  let obj: Record<string, unknown>;
  try {
    // The walk runs level by level so metadata can skip managedFields before paying
    // for it (it is often the bulk of a live object and no rule reads it).
    charge(ctx, 2);
    obj = {};
    for (const key of Object.keys(input).sort()) {
      const raw = (input as Record<string, unknown>)[key];
      const x = walk(raw, 2, ctx, key === 'metadata');
      if (x === SKIP) continue;
      charge(ctx, key.length + 3);
      setOwn(obj, key, x);
    }
    Object.freeze(obj);
  } catch (e) {
    if (e instanceof Reject) return { ok: false, error: e.message };
    // A RangeError from a runaway structure, or a throwing getter on a foreign object.
    return { ok: false, error: `cannot normalize object: ${e instanceof Error ? e.message : String(e)}` };
  }
  const problem = shapeProblem(obj);
  if (problem) return { ok: false, error: problem };
  return { ok: true, object: obj as KubeObject };
}

function shapeProblem(obj: Record<string, unknown>): string | undefined {
  if (typeof obj.apiVersion !== 'string' || obj.apiVersion === '') return 'object has no apiVersion';
  if (typeof obj.kind !== 'string' || obj.kind === '') return 'object has no kind';
  const meta = obj.metadata;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return 'object has no metadata';
  const m = meta as Record<string, unknown>;
  if (typeof m.name !== 'string' || m.name === '') return 'object has no metadata.name';
  if (m.name.includes('/')) return `metadata.name ${m.name} contains "/"`;
  if (m.namespace !== undefined && typeof m.namespace !== 'string') return 'metadata.namespace must be a string';
  if (typeof m.namespace === 'string' && m.namespace.includes('/')) return `metadata.namespace ${m.namespace} contains "/"`;
  // The apiserver rejects non-string label/annotation values (a YAML `version: 1` is a
  // number); refusing them here keeps offline analysis honest about what would apply.
  if (m.labels !== undefined && m.labels !== null && !isStringMap(m.labels)) return 'metadata.labels values must be strings';
  if (m.annotations !== undefined && m.annotations !== null && !isStringMap(m.annotations)) {
    return 'metadata.annotations values must be strings';
  }
  return undefined;
}

/** Structural equality of normalized JSON values; key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const aa = Array.isArray(a);
  if (aa !== Array.isArray(b)) return false;
  if (aa) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!jsonEqual(x[i], y[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const kx = Object.keys(x);
  if (kx.length !== Object.keys(y).length) return false;
  for (const k of kx) {
    if (!Object.prototype.hasOwnProperty.call(y, k)) return false;
    if (!jsonEqual(x[k], y[k])) return false;
  }
  return true;
}
