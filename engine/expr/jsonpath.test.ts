import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { compileJsonPath, jsonPathPlusAll, type JsonPathQuery } from './jsonpath.js';

function jp(p: string): JsonPathQuery {
  const r = compileJsonPath(p);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const pod = {
  metadata: {
    name: 'web',
    labels: { app: 'web', 'app.kubernetes.io/name': 'web' },
    annotations: { 'prometheus.io/scrape': 'true' },
  },
  spec: {
    replicas: 0,
    containers: [
      { name: 'app', ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }] },
      { name: 'sidecar', ports: [{ containerPort: 15090 }] },
    ],
    'host-network': false,
  },
};

describe('compileJsonPath', () => {
  it.each([
    ['$.metadata.name', ['web'], true],
    ['$.spec.containers[0].name', ['app'], true],
    ['$.spec.containers.1.name', ['sidecar'], true],
    ["$.metadata.labels['app.kubernetes.io/name']", ['web'], true],
    ['$.metadata.annotations["prometheus.io/scrape"]', ['true'], true],
    ["$['spec']['host-network']", [false], true],
    ['$.spec.host-network', [false], true],
    ['$.spec.replicas', [0], true],
    ['$.spec.containers.length', [2], true],
    ['$.spec.nope', [], true],
    ['$.spec.containers[5].name', [], true],
    ['$.spec.containers[*].name', ['app', 'sidecar'], false],
    ['$.spec.containers[*].ports[*].containerPort', [8080, 9090, 15090], false],
    ['$..containerPort', [8080, 9090, 15090], false],
    ['$.spec.containers[-1:].name', ['sidecar'], false],
    ['$.spec.containers[0,1].name', ['app', 'sidecar'], false],
    ['$.metadata.labels[app,nope]', ['web'], false],
    ['$.metadata.labels~', ['labels'], false],
  ])('%s', (path, expected, fast) => {
    const q = jp(path);
    expect(q.fast).toBe(fast);
    expect(q.all(pod)).toEqual(expected);
    expect(q.first(pod)).toEqual(expected[0]);
    expect(q.source).toBe(path);
  });

  it('matches nothing on null, undefined or scalar roots', () => {
    for (const p of ['$.a', '$.a[*]']) {
      expect(jp(p).all(null)).toEqual([]);
      expect(jp(p).all(undefined)).toEqual([]);
      expect(jp(p).first(7)).toBeUndefined();
    }
  });

  it('reads own properties only', () => {
    expect(jp('$.constructor').all({})).toEqual([]);
    expect(jp('$.a.toString').all({ a: {} })).toEqual([]);
    expect(jp('$.__proto__').all(JSON.parse('{"__proto__": 1}'))).toEqual([1]);
  });

  it.each([
    ['', /empty/, undefined],
    ['a.b', /must start with '\$'/, 1],
    ['$.a[', /missing '\]'/, 4],
    ["$.a['b", /unterminated/, 5],
    ['$.a[]', /empty '\[\]'/, 4],
    ['$.', /expected a name/, 2],
    ['$.a.', /expected a name/, 4],
    ['$ a', /unexpected ' '/, 2],
  ])('rejects %j', (p, why, column) => {
    const r = compileJsonPath(p);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toMatch(why);
      expect(r.error.column).toBe(column);
    }
  });

  it.each([
    '$.spec.containers[?(@.name == "app")]',
    '$.spec.containers[?@.name]',
    '$.spec.containers[ ?(@.name)]',
    '$.spec.containers[(@.length-1)]',
    "$.spec['(@.x)']",
    '$.spec.a(b)',
    '$..[?(@.x)]',
  ])('rejects script expression %j with a pointer to CEL', (p) => {
    const r = compileJsonPath(p);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toMatch(/script expressions .* not allowed/);
      expect(r.error.message).toMatch(/filter in CEL/);
      expect(r.error.column).toBeGreaterThan(1);
    }
  });

  it('a malicious filter cannot execute code, even past the compile check', () => {
    const g = globalThis as { __potooPwned?: number };
    delete g.__potooPwned;
    const payloads = [
      "$..[?(@.constructor.constructor('globalThis.__potooPwned = 1')())]",
      "$[?(@.constructor.constructor('globalThis.__potooPwned = 2')())]",
      "$.a[(this.constructor.constructor('globalThis.__potooPwned = 3')())]",
    ];
    for (const p of payloads) {
      expect(compileJsonPath(p).ok).toBe(false);
      // jsonpath-plus itself runs with eval: false.
      expect(jsonPathPlusAll(p, { a: [{ b: 1 }], c: { d: 2 } })).toEqual([]);
    }
    expect(g.__potooPwned).toBeUndefined();
  });

  it('leaves odd spellings to jsonpath-plus, with its results', () => {
    for (const p of ['$.spec.containers[ 0 ].name', "$.metadata.labels['app kubernetes']", '$.spec.x y']) {
      const q = jp(p);
      expect(q.fast).toBe(false);
      expect(q.all(pod)).toEqual(jsonPathPlusAll(p, pod));
    }
    expect(jp('$.spec.containers[00]').all(pod)).toEqual(jsonPathPlusAll('$.spec.containers[00]', pod));
  });

  it('allows type selectors', () => {
    expect(jp('$..*@number()').all({ a: 1, b: 'x', c: { d: 2 } })).toEqual([1, 2]);
  });
});

describe('fast path agrees with jsonpath-plus', () => {
  const key = fc.oneof(
    fc.constantFrom('a', 'b', 'c-d', '0', '1', 'length', 'x.y', 'p/q', 'k_8'),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,6}$/),
  );
  const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(0), fc.constant('')),
      fc.array(tie('node'), { maxLength: 3 }),
      fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    ),
  })).node;
  const step = fc.oneof(
    key.filter((k) => /^[A-Za-z0-9_-]+$/.test(k)).map((k) => `.${k}`),
    key.map((k) => `['${k}']`),
    key.map((k) => `["${k}"]`),
    fc.nat({ max: 3 }).map((n) => `[${n}]`),
  );
  it('on generated plain paths and documents', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 4 }), json, (steps, doc) => {
        const path = '$' + steps.join('');
        const q = jp(path);
        expect(q.fast).toBe(true);
        expect(q.all(doc)).toEqual(jsonPathPlusAll(path, doc));
      }),
      { numRuns: 1500 },
    );
  });
});
