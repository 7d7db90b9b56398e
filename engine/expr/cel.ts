// CEL for rule packs: @marcbachmann/cel-js plus the Kubernetes CEL libraries policy
// authors already know (quantity, ip/cidr, url, regex, lists), plus label selectors and
// `percent()` for quota usage.
//
// Numbers. cel-js types every JS number as `double`, and CEL has no mixed int/double
// arithmetic, so `object.spec.replicas + 1` fails on JSON input. Values entering an
// evaluation are therefore converted: safe-integer numbers become BigInt (CEL `int`),
// other numbers stay `double`. This matches how Kubernetes types JSON integers for CEL;
// the cost is that an integral value in a float field (`1.0` parses as `1`) is an int,
// so mix with doubles through `double(x)`. Conversion is cached per variable value
// (WeakMap), so a fact object is converted once however many rules read it; facts are
// treated as immutable (the fact store replaces objects, it does not edit them).
//
// Values leaving an evaluation are plain JSON: int -> number (decimal string past 2^53),
// map -> object, optional -> its value or null, timestamp -> RFC 3339, duration ->
// seconds string ("5400s"), bytes -> base64, quantity/ip/cidr/url -> their string, CEL
// type -> its name, NaN/Infinity -> null.
//
// Regex. cel-js implements `matches` with JS RegExp (backtracking: `(a+)+$` hangs) and
// refuses to re-register it, so each parsed AST has its `.matches(...)` calls pointed at an
// RE2 implementation (regex.ts) before type checking.
//
// Variables. With `variables`, only those names may appear (a typo fails at compile time);
// without, any identifier is a dyn variable and a missing one fails at evaluation.
import {
  Environment,
  EvaluationError,
  Optional,
  type EnvironmentOptions,
  type ParseResult,
  type RegisteredFunctionHandler,
} from '@marcbachmann/cel-js';
import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { matchesSelector, selectorText } from '../selector.js';
import type { LabelSelector } from '../model.js';
import { type Result, ok, err, errorMessage } from './result.js';
import {
  type Quantity,
  parseQuantity,
  formatQuantity,
  compareQuantity,
  addQuantity,
  subQuantity,
  quantityFromInteger,
  quantityAsInteger,
  quantityAsApproximateFloat,
  quantityIsInteger,
  quantitySign,
} from './quantity.js';
import {
  type IP,
  type CIDR,
  type ParseIPOptions,
  parseIP,
  parseCIDR,
  formatIP,
  formatCIDR,
  containsIP,
  containsCIDR,
  masked,
  equalIP,
  equalCIDR,
  isLoopback,
  isUnspecified,
  isLinkLocalMulticast,
  isLinkLocalUnicast,
  isGlobalUnicast,
} from './net.js';
import { type ParsedURL, parseURL, escapedPath, queryParams } from './url.js';
import { RegexCache } from './regex.js';
import { POTOO_LIBRARY } from './potoolib.js';
import { compileFast, type FastEnv } from './celcompile.js';
import { NETWORK_LIBRARY } from './netlib.js';

export const MAX_CEL_LENGTH = 10_000;
export const CEL_LIMITS = {
  maxAstNodes: 5_000,
  maxDepth: 64,
  maxListElements: 1_000,
  maxMapEntries: 1_000,
  maxCallArguments: 32,
} as const;

/** Objects nested deeper than this are handed to CEL unconverted (Kubernetes objects are far shallower). */
const MAX_CONVERT_DEPTH = 200;
/** Name the RE2 `matches` is registered under; messages show it as `matches`. */
const RE2_MATCHES = '__re2_matches';
/** Kubernetes' CEL ip()/cidr() reject IPv4-mapped IPv6 addresses; so do we, inside CEL. */
const CEL_IP_OPTIONS: ParseIPOptions = { allowIPv4Mapped: false };

// ---------------------------------------------------------------------------------------
// Public types

/** A function handler: receives CEL or JSON values (see `raw`), returns a value. */
export type CelHandler = (...args: never[]) => unknown;

export interface CelFunctionDef {
  /** cel-js signature: `name(type, ...): type` or `ReceiverType.name(...): type`. */
  signature: string;
  handler: CelHandler;
  description?: string;
  /**
   * false (default): arguments arrive as plain JSON (numbers, objects) and the result is
   * converted into CEL (integers -> int). true: the handler sees and returns CEL values
   * (BigInt, Map, Optional, registered classes).
   */
  raw?: boolean;
}

export interface CelTypeDef {
  name: string;
  /** Instances of this class are values of the type. */
  ctor: abstract new (...args: never[]) => object;
}

export interface CelConstantDef {
  name: string;
  /** CEL type name, e.g. `int`, `string`, `map`. */
  type: string;
  /** A JSON value (converted like variables) or a CEL value. */
  value: unknown;
}

export interface CelExtension {
  types?: readonly CelTypeDef[];
  functions?: readonly CelFunctionDef[];
  constants?: readonly CelConstantDef[];
}

export interface CelCompileOptions {
  /** Allowed variable names; absent: any identifier is a variable. */
  variables?: readonly string[];
}

export interface CompiledCel {
  readonly source: string;
  /** Evaluates with JSON variables; the value is plain JSON. */
  evaluate(vars: Record<string, unknown>): Result<unknown>;
}

export interface CelEnv {
  compile(source: string, opts?: CelCompileOptions): Result<CompiledCel>;
  /** A new environment with more types/functions/constants; this one is unchanged. */
  extend(ext: CelExtension): Result<CelEnv>;
}

// ---------------------------------------------------------------------------------------
// CEL value classes for the Kubernetes libraries. Private fields keep internals out of
// CEL field access (cel-js exposes own properties of registered classes).

export class CelQuantity {
  readonly #q: Quantity;
  constructor(q: Quantity) {
    this.#q = q;
  }
  get quantity(): Quantity {
    return this.#q;
  }
  toString(): string {
    return formatQuantity(this.#q);
  }
}

export class CelIP {
  readonly #ip: IP;
  constructor(ip: IP) {
    this.#ip = ip;
  }
  get ip(): IP {
    return this.#ip;
  }
  toString(): string {
    return formatIP(this.#ip);
  }
}

export class CelCIDR {
  readonly #c: CIDR;
  constructor(c: CIDR) {
    this.#c = c;
  }
  get cidr(): CIDR {
    return this.#c;
  }
  toString(): string {
    return formatCIDR(this.#c);
  }
}

export class CelURL {
  readonly #u: ParsedURL;
  constructor(u: ParsedURL) {
    this.#u = u;
  }
  get url(): ParsedURL {
    return this.#u;
  }
  toString(): string {
    return this.#u.source;
  }
}

// ---------------------------------------------------------------------------------------
// JSON <-> CEL values

/**
 * Converted values, by the JSON object they were made from. Only the objects passed as
 * variables are keys: a WeakMap entry per nested object cost more (set and GC) than the
 * conversion it saved.
 */
const rootCache = new WeakMap<object, unknown>();
/**
 * On a converted object or array: the JSON value it came from, so results hand back the
 * original instead of converting again. A symbol key is invisible to CEL (keys, size,
 * `in`) and to JSON.
 */
const ORIGIN = Symbol('potoo.cel.origin');

function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  // A JSON key "__proto__" is data; plain assignment would change the prototype.
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const p: unknown = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function markOrigin<T extends object>(out: T, origin: object): T {
  (out as Record<symbol, unknown>)[ORIGIN] = origin;
  return out;
}

/**
 * Conversions made while a scope is open (see {@link withCelScope}): kept until it closes
 * instead of for the JSON object's lifetime.
 */
let scope: Map<object, unknown> | undefined;

/**
 * Runs `fn` with its own conversion cache. The adapt stage converts each policy and its
 * `let` values once per object; keeping those CEL copies for as long as the store keeps
 * the policy doubled what every policy costs in memory and in garbage-collection copying.
 * Conversions are pure functions of (immutable) JSON, so a scope only changes how long a
 * cached copy lives, never a value.
 */
export function withCelScope<T>(fn: () => T): T {
  const outer = scope;
  scope = new Map();
  try {
    return fn();
  } finally {
    scope = outer;
  }
}

/**
 * Converted values holding a map with its own `constructor` key somewhere. cel-js types a
 * value by its `.constructor`, so it fails on such maps in ways the fast path does not
 * copy: expressions reading them are left to the interpreter.
 */
const CONSTRUCTOR_KEYED = new WeakSet<object>();
let sawConstructorKey = false;

/** A JSON value as CEL sees it: safe integers become BigInt. Cached per object. */
export function toCelValue(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return toCel(v, 0);
  const hit = scope?.get(v) ?? rootCache.get(v);
  if (hit !== undefined) return hit;
  sawConstructorKey = false;
  const out = toCel(v, 0);
  if (sawConstructorKey && typeof out === 'object' && out !== null) CONSTRUCTOR_KEYED.add(out);
  if (scope) scope.set(v, out);
  else rootCache.set(v, out);
  return out;
}

/**
 * A variable's CEL value for the fast path, or undefined when the interpreter must read it.
 * Handler results reach the fast path through toCelValue too (wrapped handlers, facts, the
 * URL query map), so they carry the same mark.
 */
function fastVariable(v: unknown): unknown {
  const c = toCelValue(v);
  return typeof c === 'object' && c !== null && CONSTRUCTOR_KEYED.has(c) ? undefined : c;
}

function toCel(v: unknown, depth: number): unknown {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v !== 'object' || v === null || depth > MAX_CONVERT_DEPTH) return v;
  if (Array.isArray(v)) {
    let arr: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i];
      const c = e === undefined ? null : toCel(e, depth + 1);
      if (c !== e && arr === undefined) arr = v.slice(0, i);
      if (arr !== undefined) arr.push(c);
    }
    return arr === undefined ? v : markOrigin(arr, v);
  }
  if (isPlainObject(v)) {
    let obj: Record<string, unknown> | undefined;
    const keys = Object.keys(v);
    if (Object.prototype.hasOwnProperty.call(v, 'constructor')) sawConstructorKey = true;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      const e = v[k];
      // An undefined field is an absent field: `has()` must say false, not fail.
      const c = e === undefined ? undefined : toCel(e, depth + 1);
      if (c !== e && obj === undefined) {
        obj = {};
        // Earlier fields converted to themselves; copy them as they are.
        for (let j = 0; j < i; j++) {
          const pk = keys[j] as string;
          if (v[pk] !== undefined) setOwn(obj, pk, v[pk]);
        }
      }
      if (obj !== undefined && c !== undefined) setOwn(obj, k, c);
    }
    return obj === undefined ? v : markOrigin(obj, v);
  }
  if (v instanceof Map) {
    let changed = false;
    const m = new Map<unknown, unknown>();
    for (const [k, e] of v) {
      const c = toCel(e, depth + 1);
      if (c !== e) changed = true;
      m.set(k, c);
    }
    return changed ? markOrigin(m, v) : v;
  }
  return v;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

function bigintToJson(n: bigint): number | string {
  return n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n.toString();
}

function bytesToBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] as number);
  return btoa(s);
}

/**
 * Set by fromCelValue when the JSON it returns would not convert back to the same CEL
 * value (an integral double becomes an int, an optional its value, a quantity its text).
 */
let lossy = false;

/**
 * A CEL result as JSON. Inside a conversion scope, the JSON is remembered as that CEL
 * value when the round trip is exact, so a `let` value or a field handed to the next
 * expression is not converted again.
 */
function resultToJson(out: unknown): unknown {
  if (!scope) return fromCelValue(out);
  lossy = false;
  const json = fromCelValue(out);
  if (!lossy && typeof json === 'object' && json !== null && !scope.has(json)) scope.set(json, out);
  return json;
}

/** A CEL result as plain JSON (see the header for the mapping). */
export function fromCelValue(v: unknown): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'bigint':
      if (v > MAX_SAFE || v < MIN_SAFE) lossy = true;
      return bigintToJson(v);
    case 'number':
      if (!Number.isFinite(v) || Number.isInteger(v)) lossy = true;
      return Number.isFinite(v) ? v : null;
    case 'object':
      break;
    default:
      lossy = true;
      return null;
  }
  if (v === null) return null;
  const origin = (v as Record<symbol, unknown>)[ORIGIN];
  if (origin !== undefined) return origin;
  if (Array.isArray(v)) {
    let arr: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i];
      const c = fromCelValue(e);
      if (c !== e && arr === undefined) arr = v.slice(0, i);
      if (arr !== undefined) arr.push(c);
    }
    return arr ?? v;
  }
  if (isPlainObject(v)) {
    let obj: Record<string, unknown> | undefined;
    const keys = Object.keys(v);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      const e = v[k];
      const c = fromCelValue(e);
      if (c !== e && obj === undefined) {
        obj = {};
        for (let j = 0; j < i; j++) setOwn(obj, keys[j] as string, v[keys[j] as string]);
      }
      if (obj !== undefined) setOwn(obj, k, c);
    }
    return obj ?? v;
  }
  // Everything below turns into JSON of another CEL type.
  lossy = true;
  if (v instanceof Optional) return v.hasValue() ? fromCelValue(v.value()) : null;
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, e] of v) setOwn(o, String(fromCelValue(k)), fromCelValue(e));
    return o;
  }
  if (v instanceof Set) return [...v].map(fromCelValue);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof UnsignedInt) return bigintToJson(v.value);
  if (v instanceof Duration) return v.toString();
  if (v instanceof Uint8Array) return bytesToBase64(v);
  // Registered value classes (quantity, ip, cidr, url) render as their text; a CEL type
  // value prints as `Type<int>`, of which the name is what an author wants to see.
  const text = String(v);
  const typeName = /^Type<(.+)>$/.exec(text);
  return typeName ? typeName[1] : text;
}

// ---------------------------------------------------------------------------------------
// Errors

interface CelErrorLike {
  summary?: unknown;
  range?: { start?: unknown };
  message?: unknown;
}

const INT_DOUBLE_HINT =
  ' (CEL does not mix int and double: JSON integers are int, so convert with double(x) or int(x))';

function celError<T>(e: unknown): Result<T> {
  const x = (typeof e === 'object' && e !== null ? e : {}) as CelErrorLike;
  let message = typeof x.summary === 'string' ? x.summary : errorMessage(e);
  message = message.replaceAll(RE2_MATCHES, 'matches');
  if (/overload/.test(message) && /\bint\b/.test(message) && /\bdouble\b/.test(message)) {
    message += INT_DOUBLE_HINT;
  }
  const start = x.range?.start;
  return err(message, typeof start === 'number' ? start + 1 : undefined);
}

function fail(message: string): never {
  throw new EvaluationError(message);
}

// ---------------------------------------------------------------------------------------
// The `matches` rewrite

interface AstLike {
  op: string;
  args: unknown;
  meta?: unknown;
}

function isAst(v: object): v is AstLike {
  return typeof (v as { op?: unknown }).op === 'string' && 'args' in v;
}

/** Points every `x.matches(re)` in the tree (macro bodies included) at the RE2 overload. */
function rewriteMatches(root: unknown): void {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const n = stack.pop();
    if (typeof n !== 'object' || n === null || seen.has(n)) continue;
    seen.add(n);
    if (Array.isArray(n)) {
      for (const c of n) stack.push(c);
    } else if (isAst(n)) {
      if (n.op === 'rcall' && Array.isArray(n.args) && n.args[0] === 'matches') n.args[0] = RE2_MATCHES;
      stack.push(n.args, n.meta);
    } else if (isPlainObject(n)) {
      for (const c of Object.values(n)) stack.push(c);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Built-in library

const regexCache = new RegexCache();

function regexFor(pattern: string) {
  const r = regexCache.get(pattern);
  if (!r.ok) fail(r.error.message);
  return r.value;
}

function toQuantity(s: string): CelQuantity {
  const r = parseQuantity(s);
  if (!r.ok) fail(r.error.message);
  return new CelQuantity(r.value);
}

function toIP(s: string): CelIP {
  const r = parseIP(s, CEL_IP_OPTIONS);
  if (!r.ok) fail(r.error.message);
  return new CelIP(r.value);
}

function toCIDR(s: string): CelCIDR {
  const r = parseCIDR(s, CEL_IP_OPTIONS);
  if (!r.ok) fail(r.error.message);
  return new CelCIDR(r.value);
}

function toURL(s: string): CelURL {
  const r = parseURL(s);
  if (!r.ok) fail(r.error.message);
  return new CelURL(r.value);
}

/** A number for percent(): quantities, quantity strings, ints and doubles; undefined otherwise. */
function percentOperand(v: unknown): number | undefined {
  if (v instanceof CelQuantity) return quantityAsApproximateFloat(v.quantity);
  if (typeof v === 'string') {
    const q = parseQuantity(v);
    return q.ok ? quantityAsApproximateFloat(q.value) : undefined;
  }
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (v instanceof UnsignedInt) return Number(v.value);
  return undefined;
}

function asSelector(v: unknown): LabelSelector | null {
  const j = fromCelValue(v);
  if (j === null || j === undefined) return null;
  if (typeof j !== 'object' || Array.isArray(j)) fail('selector must be a map (a Kubernetes LabelSelector) or null');
  return j as LabelSelector;
}

function asLabels(v: unknown): Record<string, string> {
  const j = fromCelValue(v);
  if (j === null || j === undefined) return {};
  if (typeof j !== 'object' || Array.isArray(j)) fail('labels must be a map of strings');
  return j as Record<string, string>;
}

/** What list min/max/sum/isSorted/indexOf can order: one kind per list, as in CEL. */
type Ordered = { kind: 'int'; v: bigint } | { kind: 'double'; v: number } | { kind: 'string'; v: string } | { kind: 'Quantity'; v: Quantity };

function ordered(x: unknown): Ordered {
  if (typeof x === 'bigint') return { kind: 'int', v: x };
  if (typeof x === 'number') return { kind: 'double', v: x };
  if (typeof x === 'string') return { kind: 'string', v: x };
  if (x instanceof CelQuantity) return { kind: 'Quantity', v: x.quantity };
  if (x instanceof UnsignedInt) return { kind: 'int', v: x.value };
  return fail('list elements must be int, double, string or Quantity');
}

function compareOrdered(a: Ordered, b: Ordered): number {
  if (a.kind !== b.kind) fail(`cannot compare ${a.kind} with ${b.kind} in a list`);
  if (a.kind === 'Quantity') return compareQuantity(a.v, b.v as Quantity);
  return a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
}

function listExtreme(list: readonly unknown[], sign: 1 | -1, name: string): unknown {
  if (list.length === 0) fail(`${name}() called on an empty list`);
  let best = list[0];
  let bestO = ordered(best);
  for (let i = 1; i < list.length; i++) {
    const o = ordered(list[i]);
    if (compareOrdered(o, bestO) * sign > 0) {
      best = list[i];
      bestO = o;
    }
  }
  return best;
}

function listSum(list: readonly unknown[]): unknown {
  if (list.length === 0) return 0n;
  const first = ordered(list[0]);
  if (first.kind === 'string') fail('sum() needs a list of int, double or Quantity');
  let acc: Ordered = first;
  for (let i = 1; i < list.length; i++) {
    const o = ordered(list[i]);
    if (o.kind !== acc.kind) fail(`sum() cannot add ${o.kind} to ${acc.kind}`);
    if (acc.kind === 'int') acc = { kind: 'int', v: acc.v + (o.v as bigint) };
    else if (acc.kind === 'double') acc = { kind: 'double', v: acc.v + (o.v as number) };
    else if (acc.kind === 'Quantity') acc = { kind: 'Quantity', v: addQuantity(acc.v, o.v as Quantity) };
  }
  if (acc.kind === 'int' && (acc.v > 9_223_372_036_854_775_807n || acc.v < -9_223_372_036_854_775_808n)) {
    fail('integer overflow in sum()');
  }
  return acc.kind === 'Quantity' ? new CelQuantity(acc.v) : acc.v;
}

/** CEL equality for indexOf: numbers by value across int/double, the rest structurally. */
function celEquals(a: unknown, b: unknown): boolean {
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) {
    // Loose equality compares a BigInt and a number by value, which is CEL's rule.
    return a == b;
  }
  if (a instanceof CelQuantity && b instanceof CelQuantity) return compareQuantity(a.quantity, b.quantity) === 0;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  return JSON.stringify(fromCelValue(a)) === JSON.stringify(fromCelValue(b));
}

function replaceN(s: string, from: string, to: string, n: bigint): string {
  if (n === 0n) return s;
  if (n < 0n) return s.replaceAll(from, to);
  let out = '';
  let rest = s;
  for (let i = 0n; i < n; i++) {
    const at = rest.indexOf(from);
    if (at === -1) break;
    out += rest.slice(0, at) + to;
    rest = rest.slice(at + from.length);
    if (from === '') {
      // Go's strings.Replace with an empty `old` inserts between runes.
      if (rest === '') return out;
      out += rest[0];
      rest = rest.slice(1);
    }
  }
  return out + rest;
}

interface BuiltinFn {
  sig: string;
  fn: RegisteredFunctionHandler;
}

function builtins(): { types: [string, abstract new (...args: never[]) => object][]; fns: BuiltinFn[]; ops: BuiltinFn[] } {
  const cmp = (a: CelQuantity, b: CelQuantity) => compareQuantity(a.quantity, b.quantity);
  const fns: BuiltinFn[] = [
    // quantity (k8s.io/apiserver/pkg/cel/library/quantity.go)
    { sig: 'quantity(string): Quantity', fn: (s: string) => toQuantity(s) },
    { sig: 'quantity(int): Quantity', fn: (n: bigint) => new CelQuantity(quantityFromInteger(n)) },
    { sig: 'isQuantity(string): bool', fn: (s: string) => parseQuantity(s).ok },
    { sig: 'Quantity.isInteger(): bool', fn: (q: CelQuantity) => quantityIsInteger(q.quantity) },
    {
      sig: 'Quantity.asInteger(): int',
      fn: (q: CelQuantity) => {
        const r = quantityAsInteger(q.quantity);
        return r.ok ? r.value : fail(r.error.message);
      },
    },
    { sig: 'Quantity.asApproximateFloat(): double', fn: (q: CelQuantity) => quantityAsApproximateFloat(q.quantity) },
    { sig: 'Quantity.sign(): int', fn: (q: CelQuantity) => BigInt(quantitySign(q.quantity)) },
    { sig: 'Quantity.isGreaterThan(Quantity): bool', fn: (a: CelQuantity, b: CelQuantity) => cmp(a, b) > 0 },
    { sig: 'Quantity.isLessThan(Quantity): bool', fn: (a: CelQuantity, b: CelQuantity) => cmp(a, b) < 0 },
    { sig: 'Quantity.compareTo(Quantity): int', fn: (a: CelQuantity, b: CelQuantity) => BigInt(cmp(a, b)) },
    { sig: 'Quantity.add(Quantity): Quantity', fn: (a: CelQuantity, b: CelQuantity) => new CelQuantity(addQuantity(a.quantity, b.quantity)) },
    { sig: 'Quantity.add(int): Quantity', fn: (a: CelQuantity, n: bigint) => new CelQuantity(addQuantity(a.quantity, quantityFromInteger(n))) },
    { sig: 'Quantity.sub(Quantity): Quantity', fn: (a: CelQuantity, b: CelQuantity) => new CelQuantity(subQuantity(a.quantity, b.quantity)) },
    { sig: 'Quantity.sub(int): Quantity', fn: (a: CelQuantity, n: bigint) => new CelQuantity(subQuantity(a.quantity, quantityFromInteger(n))) },
    { sig: 'string(Quantity): string', fn: (q: CelQuantity) => q.toString() },

    // ip / cidr (k8s.io/apiserver/pkg/cel/library/ip.go, cidr.go)
    { sig: 'ip(string): IP', fn: (s: string) => toIP(s) },
    { sig: 'isIP(string): bool', fn: (s: string) => parseIP(s, CEL_IP_OPTIONS).ok },
    { sig: 'IP.family(): int', fn: (ip: CelIP) => BigInt(ip.ip.family) },
    { sig: 'IP.isUnspecified(): bool', fn: (ip: CelIP) => isUnspecified(ip.ip) },
    { sig: 'IP.isLoopback(): bool', fn: (ip: CelIP) => isLoopback(ip.ip) },
    { sig: 'IP.isLinkLocalMulticast(): bool', fn: (ip: CelIP) => isLinkLocalMulticast(ip.ip) },
    { sig: 'IP.isLinkLocalUnicast(): bool', fn: (ip: CelIP) => isLinkLocalUnicast(ip.ip) },
    { sig: 'IP.isGlobalUnicast(): bool', fn: (ip: CelIP) => isGlobalUnicast(ip.ip) },
    { sig: 'string(IP): string', fn: (ip: CelIP) => ip.toString() },
    { sig: 'cidr(string): CIDR', fn: (s: string) => toCIDR(s) },
    { sig: 'isCIDR(string): bool', fn: (s: string) => parseCIDR(s, CEL_IP_OPTIONS).ok },
    { sig: 'CIDR.containsIP(IP): bool', fn: (c: CelCIDR, ip: CelIP) => containsIP(c.cidr, ip.ip) },
    { sig: 'CIDR.containsIP(string): bool', fn: (c: CelCIDR, s: string) => containsIP(c.cidr, toIP(s).ip) },
    { sig: 'CIDR.containsCIDR(CIDR): bool', fn: (c: CelCIDR, o: CelCIDR) => containsCIDR(c.cidr, o.cidr) },
    { sig: 'CIDR.containsCIDR(string): bool', fn: (c: CelCIDR, s: string) => containsCIDR(c.cidr, toCIDR(s).cidr) },
    { sig: 'CIDR.ip(): IP', fn: (c: CelCIDR) => new CelIP(c.cidr.ip) },
    { sig: 'CIDR.masked(): CIDR', fn: (c: CelCIDR) => new CelCIDR(masked(c.cidr)) },
    { sig: 'CIDR.prefixLength(): int', fn: (c: CelCIDR) => BigInt(c.cidr.prefix) },
    { sig: 'string(CIDR): string', fn: (c: CelCIDR) => c.toString() },

    // url (k8s.io/apiserver/pkg/cel/library/urls.go)
    { sig: 'url(string): URL', fn: (s: string) => toURL(s) },
    { sig: 'isURL(string): bool', fn: (s: string) => parseURL(s).ok },
    { sig: 'URL.getScheme(): string', fn: (u: CelURL) => u.url.scheme },
    { sig: 'URL.getHost(): string', fn: (u: CelURL) => u.url.host },
    { sig: 'URL.getHostname(): string', fn: (u: CelURL) => u.url.hostname },
    { sig: 'URL.getPort(): string', fn: (u: CelURL) => u.url.port },
    { sig: 'URL.getEscapedPath(): string', fn: (u: CelURL) => escapedPath(u.url) },
    { sig: 'URL.getQuery(): map<string, list<string>>', fn: (u: CelURL) => toCelValue(queryParams(u.url)) },
    { sig: 'string(URL): string', fn: (u: CelURL) => u.toString() },

    // regex (RE2; k8s.io/apiserver/pkg/cel/library/regex.go)
    { sig: `string.${RE2_MATCHES}(string): bool`, fn: (s: string, re: string) => regexFor(re).test(s) },
    { sig: 'matches(string, string): bool', fn: (s: string, re: string) => regexFor(re).test(s) },
    { sig: 'string.find(string): string', fn: (s: string, re: string) => regexFor(re).exec(s)?.match ?? '' },
    { sig: 'string.findAll(string): list<string>', fn: (s: string, re: string) => regexFor(re).findAll(s).map((m) => m.match) },
    {
      sig: 'string.findAll(string, int): list<string>',
      fn: (s: string, re: string, n: bigint) => regexFor(re).findAll(s, Number(n)).map((m) => m.match),
    },

    // strings cel-js lacks (cel-go ext/strings)
    { sig: 'string.replace(string, string): string', fn: (s: string, a: string, b: string) => s.replaceAll(a, b) },
    { sig: 'string.replace(string, string, int): string', fn: (s: string, a: string, b: string, n: bigint) => replaceN(s, a, b, n) },

    // label selectors (engine/selector.ts semantics)
    {
      sig: 'selectorMatches(dyn, dyn): bool',
      fn: (sel: unknown, labels: unknown) => matchesSelector(asSelector(sel), asLabels(labels), 'none'),
    },
    { sig: 'selectorText(dyn): string', fn: (sel: unknown) => selectorText(asSelector(sel)) },

    // lists (k8s.io/apiserver/pkg/cel/library/lists.go), also over quantities
    { sig: 'list<A>.isSorted(): bool', fn: (l: unknown[]) => l.every((x, i) => i === 0 || compareOrdered(ordered(l[i - 1]), ordered(x)) <= 0) },
    { sig: 'list<A>.sum(): A', fn: (l: unknown[]) => listSum(l) },
    { sig: 'list<A>.min(): A', fn: (l: unknown[]) => listExtreme(l, -1, 'min') },
    { sig: 'list<A>.max(): A', fn: (l: unknown[]) => listExtreme(l, 1, 'max') },
    { sig: 'list<A>.indexOf(A): int', fn: (l: unknown[], x: unknown) => BigInt(l.findIndex((e) => celEquals(e, x))) },
    { sig: 'list<A>.lastIndexOf(A): int', fn: (l: unknown[], x: unknown) => BigInt(l.findLastIndex((e) => celEquals(e, x))) },

    // ResourceQuota usage
    {
      sig: 'percent(dyn, dyn): double',
      fn: (used: unknown, hard: unknown) => {
        const h = percentOperand(hard);
        const u = percentOperand(used);
        if (h === undefined || h === 0 || u === undefined) return 0;
        return (u / h) * 100;
      },
    },
  ];
  const qCmp = (f: (c: number) => boolean) => (a: CelQuantity, b: CelQuantity) => f(cmp(a, b));
  const ops: BuiltinFn[] = [
    { sig: 'Quantity == Quantity', fn: qCmp((c) => c === 0) },
    { sig: 'Quantity < Quantity', fn: qCmp((c) => c < 0) },
    { sig: 'Quantity <= Quantity', fn: qCmp((c) => c <= 0) },
    { sig: 'Quantity > Quantity', fn: qCmp((c) => c > 0) },
    { sig: 'Quantity >= Quantity', fn: qCmp((c) => c >= 0) },
    { sig: 'IP == IP', fn: (a: CelIP, b: CelIP) => equalIP(a.ip, b.ip) },
    { sig: 'CIDR == CIDR', fn: (a: CelCIDR, b: CelCIDR) => equalCIDR(a.cidr, b.cidr) },
  ];
  return {
    types: [
      ['Quantity', CelQuantity],
      ['IP', CelIP],
      ['CIDR', CelCIDR],
      ['URL', CelURL],
    ],
    fns,
    ops,
  };
}

// ---------------------------------------------------------------------------------------
// Environments

const ENV_OPTIONS: EnvironmentOptions = {
  unlistedVariablesAreDyn: true,
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
  limits: CEL_LIMITS,
};

/**
 * Handlers Potoo registers: plain functions of their arguments, so the fast path
 * (celcompile.ts) may call them directly where cel-js would.
 */
const OWN_HANDLERS = new WeakSet<object>();
type CelClass = abstract new (...args: never[]) => object;
/** Each environment's classes registered as CEL types, by name, for the fast path's parameter checks. */
const envClasses = new WeakMap<Environment, ReadonlyMap<string, CelClass>>();

function own<T extends object>(h: T): T {
  OWN_HANDLERS.add(h);
  return h;
}

function wrapHandler(def: CelFunctionDef): RegisteredFunctionHandler {
  const h = def.handler as (...args: unknown[]) => unknown;
  if (def.raw) return own(h);
  return own((...args: unknown[]) => toCelValue(h(...args.map(fromCelValue))));
}

/** How evaluations went: compiled closures, handed back to the interpreter, or interpreted. */
export const celEvaluations = { compiled: 0, gaveUp: 0, interpreted: 0 };

let fastPathOn = true;

/**
 * Turns the compiled fast path off (false: every evaluation interpreted) or on; the
 * differential tests and `bench/analyze.ts --interpret` compare the two.
 */
export function setCelFastPath(on: boolean): void {
  fastPathOn = on;
}

const fastEnvs = new WeakMap<Environment, FastEnv>();

function fastEnvOf(env: Environment): FastEnv {
  let f = fastEnvs.get(env);
  if (!f) {
    f = { types: typeValues(env), ownHandlers: OWN_HANDLERS, classes: envClasses.get(env) ?? new Map(), variable: fastVariable, passable: (v) => !CONSTRUCTOR_KEYED.has(v) };
    fastEnvs.set(env, f);
  }
  return f;
}

/** The values `type(x)` returns in `env`, by kind, for the fast path's `type()` and `==`. */
function typeValues(env: Environment): Map<string, object> {
  const out = new Map<string, object>();
  const samples: [string, string][] = [
    ['null_type', 'null'],
    ['bool', 'true'],
    ['int', '1'],
    ['double', '1.0'],
    ['string', "''"],
    ['list', '[]'],
    ['map', '{}'],
    ['type', 'int'],
  ];
  for (const [kind, src] of samples) out.set(kind, env.evaluate(`type(${src})`) as object);
  return out;
}

class Env implements CelEnv {
  /** Environments with a fixed variable list, by the sorted list. */
  private readonly byVariables = new Map<string, Environment>();

  constructor(private readonly env: Environment) {}

  extend(ext: CelExtension): Result<CelEnv> {
    try {
      const child = this.env.clone();
      const classes = new Map(envClasses.get(this.env));
      for (const t of ext.types ?? []) {
        child.registerType(t.name, t.ctor);
        classes.set(t.name, t.ctor);
      }
      envClasses.set(child, classes);
      for (const c of ext.constants ?? []) child.registerConstant(c.name, c.type, toCelValue(c.value));
      for (const f of ext.functions ?? []) {
        child.registerFunction(f.signature, wrapHandler(f), f.description ? { description: f.description } : undefined);
      }
      return ok(new Env(child));
    } catch (e) {
      return err(`cannot extend the CEL environment: ${errorMessage(e)}`);
    }
  }

  private envFor(variables: readonly string[]): Result<Environment> {
    const key = [...new Set(variables)].sort().join(',');
    const hit = this.byVariables.get(key);
    if (hit) return ok(hit);
    try {
      const e = this.env.clone({ unlistedVariablesAreDyn: false });
      envClasses.set(e, envClasses.get(this.env) ?? new Map());
      for (const v of key === '' ? [] : key.split(',')) e.registerVariable(v, 'dyn');
      this.byVariables.set(key, e);
      return ok(e);
    } catch (x) {
      return err(`invalid CEL variable list: ${errorMessage(x)}`);
    }
  }

  compile(source: string, opts: CelCompileOptions = {}): Result<CompiledCel> {
    if (typeof source !== 'string') return err('CEL expression must be a string');
    if (source.length > MAX_CEL_LENGTH) return err(`CEL expression is longer than ${MAX_CEL_LENGTH} characters`);
    if (source.trim() === '') return err('CEL expression is empty');
    let env = this.env;
    if (opts.variables) {
      const r = this.envFor(opts.variables);
      if (!r.ok) return r;
      env = r.value;
    }
    let parsed: ParseResult;
    try {
      parsed = env.parse(source);
      rewriteMatches(parsed.ast);
      const checked = parsed.check();
      if (!checked.valid) return celError(checked.error);
    } catch (e) {
      return celError(e);
    }
    const run = parsed;
    const compiled = compileFast(parsed.ast, fastEnvOf(env));
    const fast = 'fn' in compiled ? compiled.fn : undefined;
    const chain = selectChain(source);
    const refs = identifiersIn(source);
    return ok({
      source,
      evaluate(vars: Record<string, unknown>): Result<unknown> {
        if (chain) {
          // Most template holes are plain field paths; walking the JSON gives the value the
          // interpreter would (conversion round-trips JSON unchanged) at a fraction of the
          // cost. Anything unusual (a missing field) takes the interpreter for its error.
          const v = walkChain(vars, chain);
          if (v !== undefined) return ok(v);
        }
        if (fast && fastPathOn) {
          try {
            const out = fast(vars);
            celEvaluations.compiled++;
            return ok(resultToJson(out));
          } catch {
            // The interpreter decides: an error (with its message) or a case the closures leave to it.
            celEvaluations.gaveUp++;
          }
        } else {
          celEvaluations.interpreted++;
        }
        // Convert only what the expression can name: stages pass many variables (lets,
        // facts) and most expressions read one or two of them.
        const ctx: Record<string, unknown> = {};
        for (const k of refs) {
          const v = vars[k];
          if (v !== undefined) ctx[k] = toCelValue(v);
        }
        try {
          const out: unknown = run(ctx);
          if (out instanceof Promise) {
            out.catch(() => undefined);
            return err('asynchronous CEL functions are not supported');
          }
          return ok(resultToJson(out));
        } catch (e) {
          return celError(e);
        }
      },
    });
  }
}

const CHAIN = /^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$/;
const LITERAL_WORDS = new Set(['true', 'false', 'null']);

/** `object.metadata.name` -> ['object', 'metadata', 'name']; anything else -> undefined. */
function selectChain(source: string): string[] | undefined {
  const m = CHAIN.exec(source);
  if (!m) return undefined;
  const parts = (m[1] as string).split('.');
  return LITERAL_WORDS.has(parts[0] as string) ? undefined : parts;
}

function walkChain(vars: Record<string, unknown>, chain: readonly string[]): unknown {
  let cur: unknown = vars;
  for (const k of chain) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  // Only plain JSON leaves and containers: a BigInt or class instance takes the interpreter.
  if (cur === null || typeof cur === 'string' || typeof cur === 'boolean') return cur;
  if (typeof cur === 'number') return cur;
  if (typeof cur === 'object' && (Array.isArray(cur) || Object.getPrototypeOf(cur) === Object.prototype || Object.getPrototypeOf(cur) === null)) return cur;
  return undefined;
}

/** Every identifier-shaped word in the source (a superset of the variables it reads). */
function identifiersIn(source: string): string[] {
  return [...new Set(source.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [])];
}

let defaultEnv: Env | undefined;

/** A fresh environment with the Potoo library, optionally extended. */
export function createCelEnv(ext?: CelExtension): Result<CelEnv> {
  let base: Environment;
  try {
    base = new Environment(ENV_OPTIONS);
    const lib = builtins();
    for (const [name, ctor] of lib.types) base.registerType(name, ctor);
    envClasses.set(base, new Map(lib.types));
    for (const f of lib.fns) base.registerFunction(f.sig, own(f.fn));
    for (const o of lib.ops) base.registerOperator(o.sig, o.fn);
  } catch (e) {
    return err(`cannot create the CEL environment: ${errorMessage(e)}`);
  }
  const env = new Env(base);
  return ext ? env.extend(ext) : ok(env);
}

/** The shared environment with the Potoo library (created on first use). */
export function defaultCelEnv(): CelEnv {
  if (!defaultEnv) {
    const r = createCelEnv({
      types: [...(POTOO_LIBRARY.types ?? []), ...(NETWORK_LIBRARY.types ?? [])],
      functions: [...(POTOO_LIBRARY.functions ?? []), ...(NETWORK_LIBRARY.functions ?? [])],
      constants: [...(POTOO_LIBRARY.constants ?? []), ...(NETWORK_LIBRARY.constants ?? [])],
    });
    // The built-in library is fixed code; failing here is a bug, not an input error.
    if (!r.ok) throw new Error(r.error.message);
    defaultEnv = r.value as Env;
  }
  return defaultEnv;
}

/** Compiles with the default environment. */
export function compileCel(source: string, opts?: CelCompileOptions): Result<CompiledCel> {
  return defaultCelEnv().compile(source, opts);
}
