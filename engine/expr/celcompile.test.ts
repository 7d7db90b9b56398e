// The CEL fast path (celcompile.ts) against the interpreter it stands in for.
//
// Every expression here is evaluated twice through the public API: with the fast path on
// (closures first, interpreter when they give up) and with setCelFastPath(false) (the
// cel-js interpreter alone). The two Results must be deep-equal: the same ok flag, the
// same JSON value, the same error message and column. celEvaluations says which path
// answered, so the tests also check the closures really ran: a differential in which the
// fast path always gave up would prove nothing.
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { celEvaluations, compileCel, setCelFastPath, type CompiledCel } from './cel.js';
import type { Result } from './result.js';

/** Who answered the fast-path evaluation. `chain`: a plain field path, read without CEL at all. */
type Answered = 'fast' | 'gaveUp' | 'interpreted' | 'chain';

interface Both {
  fast: Result<unknown>;
  interpreted: Result<unknown>;
  answered: Answered;
}

const compiled = new Map<string, CompiledCel>();

function compile(src: string): CompiledCel {
  let c = compiled.get(src);
  if (!c) {
    const r = compileCel(src);
    if (!r.ok) throw new Error(`${src} does not compile: ${r.error.message}`);
    c = r.value;
    compiled.set(src, c);
  }
  return c;
}

/** Evaluates `src` with the fast path on, then interpreter-only (the same compiled expression). */
function both(src: string, vars: Record<string, unknown>): Both {
  const c = compile(src);
  const before = { ...celEvaluations };
  try {
    setCelFastPath(true);
    const fast = c.evaluate(vars);
    const answered: Answered =
      celEvaluations.compiled > before.compiled ? 'fast' : celEvaluations.gaveUp > before.gaveUp ? 'gaveUp' : celEvaluations.interpreted > before.interpreted ? 'interpreted' : 'chain';
    const mid = { ...celEvaluations };
    setCelFastPath(false);
    const interpreted = c.evaluate(vars);
    // The switch must really have been off: no closure may have answered the second run.
    if (celEvaluations.compiled !== mid.compiled || celEvaluations.gaveUp !== mid.gaveUp) throw new Error(`${src}: setCelFastPath(false) still ran the fast path`);
    return { fast, interpreted, answered };
  } finally {
    setCelFastPath(true);
  }
}

/** Asserts both paths agree; returns who answered the fast-path run. */
function expectAgree(src: string, vars: Record<string, unknown>, label = ''): Answered {
  const r = both(src, vars);
  expect(r.fast, `${src} ${label}: fast path (${r.answered}) vs interpreter`).toStrictEqual(r.interpreted);
  return r.answered;
}

afterEach(() => setCelFastPath(true));

// ---------------------------------------------------------------------------------------
// Variable sets. JSON numbers that are safe integers are CEL ints; others (1.5, 2^53,
// 2^63, 1e300) are doubles.

const TYPICAL: Record<string, unknown> = {
  a: 1,
  b: 1.5,
  c: 2,
  s: 'héllo wörld 😀',
  e: '',
  n: null,
  t: true,
  l: [1, 'x', 2.5, null, { k: 1 }, [2]],
  ints: [3, 1, 2],
  strs: ['b', 'a', 'c'],
  m: { x: 1, y: null, z: { w: 'q', n: [1, 2] }, 'key.with.dots': 'd' },
  obj: {
    items: [
      { name: 'a', n: 1, ok: true, tags: ['x'] },
      { name: 'b', n: 2, ok: false, tags: [] },
      // No `ok`: `i.ok` fails on this one.
      { name: 'c', n: 3, tags: ['x', 'y'] },
    ],
    labels: { app: 'web', tier: 'front' },
    sel: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] },
  },
  big: 2 ** 63,
};

/** The same names holding other types: every operator meets a type it may not take. */
const RETYPED: Record<string, unknown> = {
  a: 'one',
  b: 2,
  c: 0,
  s: 42,
  e: [],
  n: {},
  t: 'true',
  l: [],
  ints: [1.5, -2, 0],
  strs: ['a', 1, null],
  m: { x: 'one', z: [1], y: { w: null } },
  obj: { items: [], labels: [], sel: null },
  big: -1,
};

/** Nulls and missing fields. */
const SPARSE: Record<string, unknown> = {
  a: null,
  b: null,
  s: null,
  l: null,
  m: {},
  obj: { items: [{}, { name: null }], labels: {} },
};

/** Numbers and strings at the edges; JSON keys that are Object.prototype names (JSON.parse keeps `__proto__` as data). */
const EDGES: Record<string, unknown> = JSON.parse(`{
  "a": 9007199254740992, "b": -0, "c": -9223372036854775808, "s": "ÄÖÜ ß İ \\u00a0\\u2028", "e": "\\ud800x",
  "n": 1e300, "t": false,
  "l": [0, -0, 1e-7, 9007199254740992, "0", "", [], {}],
  "ints": [-1, 0, 9007199254740991], "strs": ["", " ", "😀"],
  "m": {"__proto__": {"x": 1}, "toString": "ts", "hasOwnProperty": null, "valueOf": {"w": "v"}, "x": 2},
  "obj": {"items": [{"name": "__proto__", "n": -1, "ok": true, "tags": ["__proto__"]}], "labels": {"__proto__": "p"}},
  "big": 1.7976931348623157e308
}`) as Record<string, unknown>;
// A field explicitly undefined is absent (stages build such objects in JS).
EDGES.u = { name: 'x', replicas: undefined };

const VAR_SETS: [string, Record<string, unknown>][] = [
  ['TYPICAL', TYPICAL],
  ['RETYPED', RETYPED],
  ['SPARSE', SPARSE],
  ['EDGES', EDGES],
];

// ---------------------------------------------------------------------------------------
// The table. `F`: the fast path must answer this one by itself on TYPICAL (if it gave up,
// the test fails: the construct is not exercised). `A`: any path: errors, errors absorbed
// by `||`/`&&`/macros, overflows and constructs the closures hand to the interpreter.

type Case = { src: string; fast: boolean };
const F = (src: string): Case => ({ src, fast: true });
const A = (src: string): Case => ({ src, fast: false });

const CASES: Record<string, Case[]> = {
  'field access .': [F("m.z.w + '!'"), F('m.x == 1'), F('obj.items[1].name + m.z.w'), A('m.missing'), A('m.z.missing.w'), A('m.missing + 1'), A('m.x.w + 1'), A("has(u.replicas) || u.name == 'x'")],
  'optional .?': [
    F('m.?x.orValue(0)'),
    F('m.?missing.orValue(0)'),
    F("m.?z.?w.orValue('none')"),
    F("m.?missing.?w.orValue('none')"),
    F("m.?z.w.orValue('none')"),
    F('m.?z.w'),
    F('m.?missing'),
    F('m.?y'),
    F('m.?z.n'),
    F('obj.?items.orValue([]).size()'),
  ],
  'index []': [F("m['x'] == 1"), F("m['key.with.dots'] + ''"), F('l[0] == 1'), F("l[1] + ''"), F('ints[a] + 0'), F("obj.items[0]['name'] + ''"), A('l[10]'), A('l[-1]'), A('m[1]'), A("l['0']"), A("m['missing']"), A('m[n]')],
  'index [?]': [F("m[?'x'].orValue(0)"), F("m[?'missing'].orValue(0)"), F('m[?s].hasValue()'), F("obj.labels[?'app'].orValue('')"), A('l[?0].orValue(9)'), A('l[?9].orValue(9)'), A('m[?1].orValue(9)')],
  optionals: [
    F('m.?x.hasValue()'),
    F('m.?missing.hasValue()'),
    F('m.?x.value()'),
    F('m.?missing.or(m.?x).orValue(0)'),
    F('m.?x.or(m.?y)'),
    F('m.?missing.or(m.?missing2)'),
    F('m.?missing.or(m.?missing2).hasValue()'),
    // The argument is evaluated only for an empty optional: no error here.
    F('m.?x.orValue(m.missing)'),
    A('m.?missing.value()'),
    A('m.?missing.orValue(m.missing)'),
    A('optional.of(a).orValue(0)'),
    A('optional.none().or(m.?x).value()'),
  ],
  'has()': [F('has(m.x)'), F('has(m.y)'), F('has(m.missing)'), F('has(m.z.w)'), F('has(obj.items)'), F('has(obj.labels.app)'), A('has(m.missing.w)'), A('has(m.x.w)'), A('has(l.x)')],
  ternary: [F("a == 1 ? 'one' : 'other'"), F('t ? l : m'), F("false ? m.missing : 'safe'"), F("true ? 'safe' : m.missing"), A('a ? 1 : 2'), A('m.missing ? 1 : 2')],
  'logic && ||': [
    F('true || 1/0 == 1'),
    F('false && 1/0 == 1'),
    F('t && a == 1'),
    F("a == 2 || s != ''"),
    F('a == 1 || m.missing == 1'),
    F('a == 2 && m.missing == 1'),
    A('1/0 == 1 || true'),
    A('m.missing == 1 || true'),
    A('m.missing == 1 && false'),
    A('m.missing == 1 || false'),
    A('m.missing == 1 && true'),
    A('a || true'),
    A('a && false'),
    A('m.missing == 1 || m.other == 2'),
  ],
  '! and unary -': [F('!t'), F('!(a == 1)'), F('-a'), F('-b'), F('-(-a)'), F('-c + 2'), A('!a'), A('-s'), A('-t'), A('-(-9223372036854775807 - 1)')],
  '== and !=': [
    F('a == b'),
    F('b == 1.5'),
    F('a == dyn(1.0)'),
    F('dyn(1.0) == a'),
    F('dyn(2.5) != c'),
    F('n == null'),
    F('m == null'),
    F('l == null'),
    F('s == null'),
    F('null == m'),
    F('a != s'),
    F('s == a'),
    F('t == a'),
    F('type(m) == map'),
    F('type(l) == list'),
    F('type(a) == int'),
    F('type(b) == double'),
    F('type(s) == string'),
    F('type(n) == null_type'),
    F('type(t) == bool'),
    F('type(a) == type(b)'),
    F('type(a) != type(1)'),
    F('type(m) == type({})'),
    F('m == m'),
    F('l == l'),
    F('big == dyn(9223372036854775807)'),
    F('dyn(9223372036854775807) != big'),
    F('dyn(9007199254740993) == dyn(9007199254740992.0)'),
    F('0.0 / 0.0 == 0.0 / 0.0'),
    A("m.z == {'w': 'q', 'n': [1, 2]}"),
    A('l == [1]'),
    A('m != {}'),
    A('type(type(a)) == type'),
    A('type(a) == a'),
    A("quantity('1Gi') == quantity('1024Mi')"),
  ],
  in: [
    F('1 in l'),
    F("'x' in l"),
    F('1.0 in l'),
    F('2.5 in l'),
    F('null in l'),
    F("'k' in l"),
    F("'x' in m"),
    F("'y' in m"),
    F("'missing' in m"),
    F('s in strs'),
    F('a in ints'),
    F("'key.with.dots' in m"),
    F("'web' in obj.labels"),
    F('dyn(9007199254740993) in [9007199254740992.0]'),
    F("'a' in [{'a': 1}, 'a']"),
    F('a in []'),
    A('[2] in l'),
    A("{'k': 1} in l"),
    A('1 in m'),
    A('a in s'),
  ],
  '+': [F("s + '!'"), F('l + [3]'), F('ints + strs'), F('a + 2'), F('b + 0.25'), F('[] + []'), F("e + ''"), A('9223372036854775807 + 1'), A('a + b'), A('s + a'), A('-9223372036854775807 - 2'), A('m + m'), A('n + n')],
  '- * / %': [
    F('c - a'),
    F('a * 7'),
    F('b * 2.0'),
    F('b - 0.5'),
    F('7 / c'),
    F('-7 / c'),
    F('7 % c'),
    F('-7 % c'),
    F('7 % -c'),
    F('b / 0.0'),
    F('-b / 0.0'),
    F('0.0 / 0.0'),
    A('a / 0'),
    A('a % 0'),
    A('9223372036854775807 * 2'),
    A('(-9223372036854775807 - 1) / -1'),
    A('(-9223372036854775807 - 1) % -1'),
    A('a - b'),
    A('s - s'),
  ],
  'ordering < <= > >=': [
    F('a < b'),
    F('b > a'),
    F('a <= 1'),
    F('c >= b'),
    F("s < 'z'"),
    F("'a' < 'b'"),
    F("'\\uFFFF' < '😀'"),
    F("'é' > 'z'"),
    F('e <= s'),
    F('big > 9223372036854775807'),
    F('dyn(9223372036854775807) < big'),
    F('dyn(9007199254740993) > dyn(9007199254740992.0)'),
    F('b >= 1.5'),
    A('s < a'),
    A('t < false'),
    A('0.0 / 0.0 < 1.0'),
    A('l < l'),
    A('n < 1'),
  ],
  literals: [
    F('[a, b, s, n, m, l]'),
    F("{'a': a, 'b': [b]}"),
    F('{s: 1}'),
    // cel-js leaves these keys out of map literals.
    F("{'__proto__': 1, 'a': 2}"),
    F("{'constructor': 1, 'prototype': 2, 'k': 3}"),
    F("size({'__proto__': m})"),
    F("{'toString': 1}.toString"),
    F("{'a': 1, 'a': 2}"),
    F('{s: 1, s: 2}'),
    F('[]'),
    F('{}'),
    F('[[], {}, [[null]]]'),
    A('{a: 1}'),
    A('{t: 1}'),
  ],
  macros: [
    F('ints.map(x, x * 2)'),
    F('obj.items.map(i, i.name)'),
    F('ints.map(x, x > 1, x * 10)'),
    F('obj.items.filter(i, i.n > 1).map(i, i.name)'),
    F('ints.exists(x, x == 2)'),
    F('ints.all(x, x > 0)'),
    F('ints.exists_one(x, x > 2)'),
    F('ints.exists_one(x, x > 1)'),
    F('m.map(k, k)'),
    F("m.filter(k, k.startsWith('k'))"),
    F("m.all(k, k != '')"),
    F("obj.labels.exists(k, obj.labels[k] == 'web')"),
    F("obj.items.map(i, i.tags.map(t, i.name + ':' + t))"),
    F('[[1, 2], [3]].map(x, x.map(x, x * 10))'),
    F("obj.items.exists(i, i.tags.exists(t, t == 'y'))"),
    F("obj.items.all(i, i.tags.all(t, t in ['x', 'y']))"),
    F('ints.map(x, ints.filter(y, y < x))'),
    F('[].all(x, false)'),
    F('[].exists(x, true)'),
    F('l.filter(x, type(x) == int)'),
    F('l.map(x, type(x))'),
    F('l.map(x, type(x) == list, size(x))'),
    // Short-circuits before the item without `ok`.
    F('obj.items.exists(i, i.ok)'),
    F('obj.items.all(i, i.ok)'),
    A('obj.items.filter(i, i.ok)'),
    A('obj.items.exists_one(i, i.ok)'),
    A('[0, 1].exists(x, 1 / x == 1)'),
    A('[0, 1].all(x, 1 / x > 0)'),
    A('[0, 1].all(x, 1 / x < 0)'),
    A('l.map(x, x + 1)'),
    A('a.map(x, x)'),
    A('n.map(x, x)'),
    A('m.map(k, m[k] + 1)'),
  ],
  'size()': [F('size(s)'), F('s.size()'), F("size('😀é')"), F('size(l)'), F('l.size()'), F('size(m)'), F('m.size()'), F('size(e)'), F('size(obj.items) == 3'), A('size(a)'), A('size(n)'), A('size(b)')],
  'type() dyn() string()': [F('type(a)'), F('type(m)'), F('type(n)'), F('type(l)'), F('type(s)'), F('type(b)'), F('type(t)'), F('dyn(m)'), F('dyn(a) + 1'), F('string(a)'), F('string(t)'), F('string(s)'), F('string(c - 5)'), A('type(type(a))'), A("type(quantity('1'))"), A('dyn(m.?x)'), A('string(b)'), A('string(n)'), A('string(m)')],
  'string functions': [
    F('s.lowerAscii()'),
    F('s.upperAscii()'),
    F("'ÄB ß İ'.lowerAscii()"),
    F("'äb ß'.upperAscii()"),
    F("'  \\u00a0x\\u2028\\ufeff '.trim()"),
    F('strs.join()'),
    F("strs.join(', ')"),
    F("[].join('-')"),
    F("s.startsWith('hé')"),
    F("s.endsWith('😀')"),
    F("s.contains('wö')"),
    F("s.contains('')"),
    F("e.startsWith('')"),
    F("e.endsWith('x')"),
    A('l.join()'),
    A('a.trim()'),
    A("a.contains('x')"),
    A('s.startsWith(a)'),
  ],
  'Potoo library': [
    F('compact(m)'),
    F('compact(l)'),
    F('compact([n, a, n])'),
    F('selectorText(obj.sel)'),
    F("selectorText({'matchLabels': obj.labels})"),
    F('listOf(l)'),
    F('listOf(m.x)'),
    F('listOf(n)'),
    F("merge(m, {'x': 2})"),
    F('sorted(ints)'),
    F('sorted(strs)'),
    F("['b', 'a', 'b'].distinct()"),
    F('[[1], [2, [3]]].flatten()'),
    F("kindRefs('apps/v1/Deployment')"),
    F("kindsForResources(['apps'], ['deployments'])"),
    F('selectorRequirements(obj.sel)'),
    F("selectorValues(obj.sel, 'tier')"),
    F('enumerate(strs)'),
    F('percent(1, 4)'),
    F("s.matches('w.rld')"),
    F("s.find('l+')"),
    F('ints.isSorted()'),
    F('[1, 2, 3].sum()'),
    F('ints.max()'),
    F("quantity('1Gi')"),
    A('compact(s)'),
    A('selectorText(a)'),
    A("s.matches('(')"),
    A("quantity('1Gi') < quantity('2Gi')"),
    A("quantity('x')"),
    A("ip('10.0.0.1').family()"),
    A("cidr('10.0.0.0/8').containsIP('10.1.2.3')"),
    A("[1, 'a'].indexOf('a')"),
    A('[1, 2.5].sum()'),
  ],
};

describe('fast path == interpreter, expression table', () => {
  for (const [construct, cases] of Object.entries(CASES)) {
    describe(construct, () => {
      it.each(cases.map((c) => [c.src, c] as const))('%s', (_src, c) => {
        for (const [name, vars] of VAR_SETS) {
          const answered = expectAgree(c.src, vars, `with ${name}`);
          if (name === 'TYPICAL' && c.fast) expect(answered, `${c.src}: the fast path should answer this on TYPICAL`).toBe('fast');
        }
      });
    });
  }

  it('the fast path answers most of the table, and gives up on the rest', () => {
    const seen: Record<Answered, number> = { fast: 0, gaveUp: 0, interpreted: 0, chain: 0 };
    const all = Object.values(CASES).flat();
    for (const c of all) for (const [, vars] of VAR_SETS) seen[both(c.src, vars).answered]++;
    const total = all.length * VAR_SETS.length;
    // Both directions matter: closures that never run test nothing; closures that never
    // give up would mean the error cases are not reaching the interpreter.
    expect(seen.fast, JSON.stringify(seen)).toBeGreaterThan(total / 3);
    expect(seen.gaveUp, JSON.stringify(seen)).toBeGreaterThan(total / 10);
  });

  it('setCelFastPath is a runtime switch on an already compiled expression', () => {
    const c = compile('ints.map(x, x * 2)');
    const before = { ...celEvaluations };
    setCelFastPath(false);
    expect(c.evaluate(TYPICAL)).toEqual({ ok: true, value: [6, 2, 4] });
    expect(celEvaluations.interpreted).toBe(before.interpreted + 1);
    expect(celEvaluations.compiled).toBe(before.compiled);
    setCelFastPath(true);
    expect(c.evaluate(TYPICAL)).toEqual({ ok: true, value: [6, 2, 4] });
    expect(celEvaluations.compiled).toBe(before.compiled + 1);
  });
});

// ---------------------------------------------------------------------------------------
// cel-js decides a value's runtime type by its `constructor` property, so it refuses a
// JSON map that has its own `constructor` key ("Unsupported type: object") wherever it
// looks at that value. The closures must give up there too, not pass the map along.

describe('fast path == interpreter on JSON maps with a `constructor` key', () => {
  const vars: Record<string, unknown> = JSON.parse(`{
    "m": {"constructor": 1, "a": 2},
    "cm": {"data": {"constructor": "x"}},
    "l": [{"constructor": "x"}],
    "o": {"a": 1}
  }`) as Record<string, unknown>;
  it.each([
    // Where the closures inspect the map, they give up like the interpreter.
    'size(m)',
    "'a' in m",
    'm.a + 1',
    'has(m.a)',
    'm.?a.orValue(0)',
    'type(m)',
    'm == null',
    'm.map(k, k)',
    'compact(m)',
    'size(cm.data)',
    "cm.data.?constructor.orValue('')",
    'l.map(x, 1)',
    // Where they only pass the map along.
    '[m]',
    '[m].size()',
    "{'k': m}",
    "{'k': m}.size()",
    'm == m',
    'true ? m : o',
    '[o, m][0]',
    '[1].map(x, m)',
    'listOf([m])',
    '[cm.data].size()',
    'l.size()',
    'size(l)',
    '[o, m].exists(x, x == o)',
  ])('%s', (src) => {
    expectAgree(src, vars);
  });
});

// ---------------------------------------------------------------------------------------
// Property: arbitrary JSON-ish values bound to `a`, `b` and `obj`, a fixed list of
// expression templates over them.

/** Keys drawn from a small pool so that field accesses hit often; `__proto__` is a data key here. */
const KEYS = ['a', 'b', 'x', 'name', 'n', 'ok', 'tags', 'items', '__proto__', 'toString'];

/** An object built like JSON.parse builds it: every key an own data property. */
function jsonObject(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

function jsonArbitraries(keys: readonly string[]) {
  const scalar = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.integer(),
    fc.constantFrom(1.5, -0.5, -0, 2 ** 53, 2 ** 63, 1e300, 9007199254740991, -9007199254740991),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom('', 'x', 'a', 'name', 'é😀', '__proto__'),
    fc.string({ maxLength: 4 }),
    fc.boolean(),
    fc.constant(null),
  );
  const key = fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 3 }));
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('map')),
    list: fc.array(tie('value'), { maxLength: 4 }),
    map: fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(jsonObject),
  }));
  // Items shaped like the templates expect, often, so macros get past the first element.
  const item = fc.oneof(
    value,
    fc.record({ name: fc.oneof(fc.constantFrom('a', 'b', ''), value), n: fc.oneof(fc.integer({ min: -2, max: 5 }), value), ok: fc.oneof(fc.boolean(), value), tags: fc.oneof(fc.array(fc.constantFrom('x', 'y', ''), { maxLength: 3 }), value) }, { requiredKeys: [] }),
  );
  const obj = fc.oneof(value, fc.record({ items: fc.oneof(fc.array(item, { maxLength: 4 }), value), name: value, x: value }, { requiredKeys: [] }));
  return { value, obj };
}

const TEMPLATES = [
  'a == b',
  'a != b',
  'a < b',
  'a >= b',
  'a + b',
  'a - b',
  'a * b',
  'a / b',
  'a % b',
  '-a',
  '!a',
  'a in b',
  "'x' in a",
  "a in [1, 'x', 1.5, null]",
  'size(a)',
  'type(a) == type(b)',
  'type(a)',
  'string(a)',
  'a == a',
  '[a, b]',
  "{'k': a, 'j': b}",
  'b[a]',
  'b[?a].orValue(0)',
  'has(obj.x)',
  'has(obj.items)',
  'obj.?x.orValue(a)',
  'obj.?x.?name.orValue(b)',
  "obj[?'name'].hasValue()",
  'obj.?items.or(obj.?x).orValue([])',
  'obj.x == a || obj.name == b',
  'obj.x == a && obj.name == b',
  'a == b ? obj.x : obj.name',
  'obj.items.map(i, i.name)',
  'obj.items.filter(i, i.ok == true)',
  'obj.items.exists(i, i.n > 1)',
  'obj.items.all(i, has(i.name))',
  'obj.items.exists_one(i, i.ok)',
  "obj.items.map(i, i.tags.map(t, t + '!'))",
  'obj.items.map(i, type(i) == map, i.n)',
  'a.map(k, k)',
  "size(obj.items) > 0 && obj.items[0].name.startsWith('a')",
  'compact(a)',
  'listOf(obj.items).size()',
  'a.lowerAscii() == b',
  'obj.name.contains(a)',
  '[a].exists(x, x in b)',
];

function propertyRun(keys: readonly string[], seed?: number) {
  const { value, obj } = jsonArbitraries(keys);
  const seen: Record<Answered, number> = { fast: 0, gaveUp: 0, interpreted: 0, chain: 0 };
  fc.assert(
    fc.property(value, value, obj, (a, b, o) => {
      const vars = { a, b, obj: o };
      for (const src of TEMPLATES) {
        const r = both(src, vars);
        seen[r.answered]++;
        expect(r.fast, `${src} with ${JSON.stringify(vars)}: fast path (${r.answered}) vs interpreter`).toStrictEqual(r.interpreted);
      }
    }),
    { numRuns: 200, ...(seed === undefined ? {} : { seed }) },
  );
  return seen;
}

describe('fast path == interpreter, generated JSON', () => {
  it('agrees on every template for arbitrary values', () => {
    const seen = propertyRun(KEYS);
    console.log(`generated JSON: ${JSON.stringify(seen)} evaluations by path`);
    // Not vacuous: a good share of the evaluations ran the closures to the end.
    expect(seen.fast, JSON.stringify(seen)).toBeGreaterThan(200 * TEMPLATES.length * 0.2);
  });

  it('agrees when maps may also have a `constructor` key', () => {
    propertyRun([...KEYS, 'constructor']);
  });
});
