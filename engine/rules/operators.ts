// Potoo's condition operators, added to json-rules-engine's built-in ones.
import { compileSafeRegex, type SafeRegex } from '../expr/regex.js';
import { compileCel, type CompiledCel } from '../expr/cel.js';

// Operands are compiled when a pack loads; operators look them up by source text, so
// evaluation never compiles and a pattern shared by many rules compiles once. A source
// not registered at load (a tree built by hand) is compiled on first use and kept; null
// marks one that does not compile.
const regexes = new Map<string, SafeRegex | null>();
const cels = new Map<string, CompiledCel | null>();

export function regexOperand(source: string, compiled: SafeRegex): void {
  regexes.set(source, compiled);
}

export function celOperand(source: string, compiled: CompiledCel): void {
  cels.set(source, compiled);
}

/** The regex for `source`: the one registered at load, else compiled now; null if invalid. */
export function regexFor(source: string): SafeRegex | null {
  let r = regexes.get(source);
  if (r === undefined) {
    const c = compileSafeRegex(source);
    regexes.set(source, (r = c.ok ? c.value : null));
  }
  return r;
}

/** The CEL program for `source`: the one registered at load, else compiled now; null if invalid. */
export function celFor(source: string): CompiledCel | null {
  let c = cels.get(source);
  if (c === undefined) {
    const r = compileCel(source);
    cels.set(source, (c = r.ok ? r.value : null));
  }
  return c;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

function asList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  return v === undefined || v === null ? [] : [v];
}

function size(v: unknown): number {
  if (Array.isArray(v) || typeof v === 'string') return v.length;
  if (v && typeof v === 'object') return Object.keys(v).length;
  return 0;
}

function regexTest(fact: unknown, pattern: unknown): boolean {
  if (typeof fact !== 'string' || typeof pattern !== 'string') return false;
  const re = regexFor(pattern);
  return re ? re.test(fact) : false;
}

/** name -> evaluator(factValue, conditionValue). */
export const OPERATORS: Record<string, (fact: unknown, value: unknown) => boolean> = {
  exists: (f, v) => (f !== undefined && f !== null) === (v !== false),
  absent: (f, v) => (f === undefined || f === null) === (v !== false),
  empty: (f, v) => isEmpty(f) === (v !== false),
  notEmpty: (f, v) => !isEmpty(f) === (v !== false),
  matches: (f, v) => regexTest(f, v),
  notMatches: (f, v) => typeof f === 'string' && !regexTest(f, v),
  containsAny: (f, v) => {
    const have = asList(f);
    return asList(v).some((x) => have.includes(x));
  },
  containsAll: (f, v) => {
    const have = asList(f);
    return asList(v).every((x) => have.includes(x));
  },
  startsWith: (f, v) => typeof f === 'string' && typeof v === 'string' && f.startsWith(v),
  endsWith: (f, v) => typeof f === 'string' && typeof v === 'string' && f.endsWith(v),
  sizeEqual: (f, v) => size(f) === Number(v),
  sizeGreaterThan: (f, v) => size(f) > Number(v),
  cel: (f, v) => {
    if (typeof v !== 'string') return false;
    const c = celFor(v);
    if (!c) return false;
    const r = c.evaluate({ self: f ?? null });
    return r.ok && r.value === true;
  },
};

/**
 * json-rules-engine's own array operators reject non-array facts through a validator that
 * makes the whole condition false; `contains` on a string is a common author expectation.
 */
export const OVERRIDES: Record<string, (fact: unknown, value: unknown) => boolean> = {
  contains: (f, v) => (Array.isArray(f) ? f.includes(v) : typeof f === 'string' && typeof v === 'string' && f.includes(v)),
  doesNotContain: (f, v) => (Array.isArray(f) ? !f.includes(v) : !(typeof f === 'string' && typeof v === 'string' && f.includes(v))),
  in: (f, v) => Array.isArray(v) && v.includes(f),
  notIn: (f, v) => Array.isArray(v) && !v.includes(f),
};

function numberValidator(v: unknown): boolean {
  // json-rules-engine's own check for the numeric operators.
  return Number.parseFloat(v as string).toString() !== 'NaN';
}

/**
 * json-rules-engine's built-in operators that RuleSet keeps as they are, written out for
 * the direct path (direct.ts); the library does not export them.
 */
export const ENGINE_DEFAULTS: Record<string, (fact: unknown, value: unknown) => boolean> = {
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  lessThan: (a, b) => numberValidator(a) && (a as number) < (b as number),
  lessThanInclusive: (a, b) => numberValidator(a) && (a as number) <= (b as number),
  greaterThan: (a, b) => numberValidator(a) && (a as number) > (b as number),
  greaterThanInclusive: (a, b) => numberValidator(a) && (a as number) >= (b as number),
};

export const OPERATOR_NAMES: ReadonlySet<string> = new Set([
  ...Object.keys(ENGINE_DEFAULTS),
  ...Object.keys(OVERRIDES),
  ...Object.keys(OPERATORS),
]);
