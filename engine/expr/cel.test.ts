import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { compileCel, createCelEnv, defaultCelEnv, toCelValue, fromCelValue, MAX_CEL_LENGTH, type CelEnv } from './cel.js';
import type { Result } from './result.js';

function run(src: string, vars: Record<string, unknown> = {}, env: CelEnv = defaultCelEnv()): Result<unknown> {
  const c = env.compile(src);
  if (!c.ok) return c;
  return c.value.evaluate(vars);
}

function val(src: string, vars: Record<string, unknown> = {}, env?: CelEnv): unknown {
  const r = run(src, vars, env);
  if (!r.ok) throw new Error(`${src}: ${r.error.message}`);
  return r.value;
}

function errorOf(src: string, vars: Record<string, unknown> = {}, env?: CelEnv) {
  const r = run(src, vars, env);
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

/** Only JSON types, all the way down. */
function isPlainJson(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isPlainJson);
  if (typeof v === 'object') {
    const p: unknown = Object.getPrototypeOf(v);
    return (p === Object.prototype || p === null) && Object.values(v).every(isPlainJson);
  }
  return false;
}

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web', tier: 'front' } },
  spec: {
    replicas: 3,
    paused: false,
    progressDeadlineSeconds: 600,
    selector: { matchLabels: { app: 'web' } },
    template: {
      spec: {
        containers: [
          { name: 'app', resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: 1, memory: '1Gi' } } },
          { name: 'proxy', resources: { requests: { cpu: '100m' } } },
        ],
      },
    },
  },
  status: { ratio: 0.5 },
};

describe('numbers', () => {
  it('JSON integers are CEL ints: object.spec.replicas + 1 == 4', () => {
    expect(val('object.spec.replicas + 1 == 4', { object: deployment })).toBe(true);
    expect(val('object.spec.replicas * 2', { object: deployment })).toBe(6);
    expect(val('object.spec.replicas / 2', { object: deployment })).toBe(1);
    expect(val('object.spec.replicas % 2 == 1', { object: deployment })).toBe(true);
    expect(val('object.spec.replicas > 2 && object.spec.replicas < 3.5', { object: deployment })).toBe(true);
    expect(val('[1, 2, 3].exists(n, n == object.spec.replicas)', { object: deployment })).toBe(true);
  });

  it('non-integral numbers stay doubles', () => {
    expect(val('object.status.ratio * 2.0', { object: deployment })).toBe(1);
    expect(val('double(object.spec.replicas) * object.status.ratio', { object: deployment })).toBe(1.5);
  });

  it('explains int/double mixing', () => {
    const e = errorOf('object.spec.replicas * 0.5', { object: deployment });
    expect(e.message).toMatch(/no such overload/);
    expect(e.message).toMatch(/convert with double\(x\)/);
    expect(e.column).toBe(1);
  });

  it('integers past 2^53 leave as decimal strings, overflow is an error', () => {
    expect(val('9007199254740993')).toBe('9007199254740993');
    expect(val('9007199254740991')).toBe(9007199254740991);
    expect(errorOf('9223372036854775807 + 1').message).toMatch(/overflow/);
    // Past 2^53 a JSON number is not an exact integer any more: it stays a double.
    expect(val('type(x) == double', { x: 2 ** 53 + 2 })).toBe(true);
  });

  it('uint values leave as numbers', () => {
    expect(val('uint(5)')).toBe(5);
  });
});

describe('optional chaining and absence', () => {
  const vars = { object: deployment };
  it.each([
    ['object.?spec.?nope.orValue(7)', 7],
    ['object.?spec.?replicas.orValue(7)', 3],
    ['object.?metadata.?labels.?tier.orValue("none")', 'front'],
    ['object.?metadata.?annotations.?x.orValue("none")', 'none'],
    ['object.?spec.?replicas.hasValue()', true],
    ['object.?nope.?deeper.hasValue()', false],
    ["object.metadata.labels[?'app'].orValue('')", 'web'],
    ['object.?spec.?replicas', 3],
    ['object.?spec.?nope', null],
    ['optional.none().or(optional.of(2)).value()', 2],
    ['has(object.spec.replicas)', true],
    ['has(object.spec.nope)', false],
    ["size(object.spec.?template.?spec.?initContainers.orValue([]))", 0],
  ])('%s', (src, expected) => {
    expect(val(src, vars)).toEqual(expected);
  });

  it('an undefined field is absent', () => {
    expect(val('has(w.replicas)', { w: { name: 'x', replicas: undefined } })).toBe(false);
    expect(val('w.?replicas.orValue(1)', { w: { name: 'x', replicas: undefined } })).toBe(1);
  });

  it('a missing key is an error with its column', () => {
    const e = errorOf('object.spec.nope + 1', vars);
    expect(e.message).toBe('No such key: nope');
    expect(e.column).toBe(13);
  });
});

describe('output values are plain JSON', () => {
  it.each([
    ['{"n": 1, "d": 1.5, "s": "x", "b": true, "z": null, "l": [1, [2]], "m": {"k": {"j": 1}}}', { n: 1, d: 1.5, s: 'x', b: true, z: null, l: [1, [2]], m: { k: { j: 1 } } }],
    ['{1: "a", true: "b"}', { '1': 'a', true: 'b' }],
    ['timestamp("2024-05-01T10:00:00Z")', '2024-05-01T10:00:00.000Z'],
    ['duration("90m")', '5400s'],
    ['b"hi"', 'aGk='],
    ['quantity("1.5Gi")', '1536Mi'],
    ['ip("2001:DB8::1")', '2001:db8::1'],
    ['cidr("10.0.0.1/8")', '10.0.0.1/8'],
    ['url("https://a.example/x")', 'https://a.example/x'],
    ['type(1)', 'int'],
    ['optional.of([1, 2])', [1, 2]],
    ['[optional.none(), optional.of(1)]', [null, 1]],
    ['[1.0 / 0.0]', [null]],
  ])('%s', (src, expected) => {
    const v = val(src);
    expect(v).toEqual(expected);
    expect(isPlainJson(v)).toBe(true);
  });

  it('unchanged parts of the input come back as the very same objects', () => {
    const v = val('object.spec.template', { object: deployment });
    expect(v).toBe(deployment.spec.template);
    const m = val('{"sel": object.spec.selector, "n": object.spec.replicas}', { object: deployment }) as Record<string, unknown>;
    expect(m.sel).toBe(deployment.spec.selector);
  });

  it('property: any JSON document read back whole is equal and plain', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (doc) => {
        const normalized: unknown = JSON.parse(JSON.stringify(doc));
        const out = val('x', { x: normalized });
        expect(out).toEqual(normalized);
        expect(isPlainJson(out)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('converts each input object once (per-object cache)', () => {
    const o = { a: { b: 1 }, c: [1, 2] };
    expect(toCelValue(o)).toBe(toCelValue(o));
    const c = toCelValue(o) as { a: { b: unknown } };
    expect(c.a.b).toBe(1n);
    expect(fromCelValue(c)).toBe(o);
    const noInts = { a: 'x', b: [true, 'y'] };
    expect(toCelValue(noInts)).toBe(noInts);
  });

  it('keeps a "__proto__" key as data', () => {
    const o: unknown = JSON.parse('{"__proto__": {"x": 1}, "y": 2}');
    expect(val('o["__proto__"].x + o.y', { o })).toBe(3);
  });
});

describe('quantity library', () => {
  const vars = { object: deployment };
  it.each([
    ['quantity("1Gi") == quantity("1073741824")', true],
    ['quantity("0.1") == quantity("100m")', true],
    ['quantity("1k") != quantity("1Ki")', true],
    ['isQuantity("1.5Gi")', true],
    ['isQuantity("1.5 Gi")', false],
    ['quantity("1.5").isInteger()', false],
    ['quantity("2k").isInteger()', true],
    ['quantity("2k").asInteger()', 2000],
    ['quantity("250m").asApproximateFloat()', 0.25],
    ['quantity("-1").sign()', -1],
    ['quantity("0").sign()', 0],
    ['quantity("1Gi").isGreaterThan(quantity("1G"))', true],
    ['quantity("1G").isLessThan(quantity("1Gi"))', true],
    ['quantity("1G").compareTo(quantity("1Gi"))', -1],
    ['quantity("1Gi").compareTo(quantity("1024Mi"))', 0],
    ['quantity("1Gi").add(quantity("512Mi"))', '1536Mi'],
    ['quantity("1").add(2)', '3'],
    ['quantity("1").sub(quantity("100m"))', '900m'],
    ['quantity("1").sub(2)', '-1'],
    ['string(quantity("1024Mi"))', '1Gi'],
    ['quantity(4).add(1)', '5'],
    ['quantity("1") < quantity("1001m")', true],
    ['quantity("2Gi") >= quantity("2048Mi")', true],
    ['object.spec.template.spec.containers.map(c, quantity(c.resources.requests.cpu)).exists(q, q.isGreaterThan(quantity("200m")))', true],
    ['quantity(string(object.spec.template.spec.containers[0].resources.limits.cpu)).asApproximateFloat()', 1],
  ])('%s', (src, expected) => {
    expect(val(src, vars)).toEqual(expected);
  });

  it.each([
    ['quantity("1.5 Gi")', /invalid quantity '1.5 Gi'/],
    ['quantity("1500m").asInteger()', /not an integer/],
    ['quantity("100E").asInteger()', /overflows int64/],
    ['quantity(1.5)', /no matching overload/],
  ])('%s fails', (src, why) => {
    expect(errorOf(src).message).toMatch(why);
  });
});

describe('ip and cidr libraries', () => {
  it.each([
    ['isIP("10.0.0.1")', true],
    ['isIP("10.0.0.256")', false],
    ['isIP("::ffff:10.0.0.1")', false],
    ['ip("10.0.0.1").family()', 4],
    ['ip("fd00::1").family()', 6],
    ['ip("127.0.0.1").isLoopback()', true],
    ['ip("0.0.0.0").isUnspecified()', true],
    ['ip("169.254.0.1").isLinkLocalUnicast()', true],
    ['ip("224.0.0.1").isLinkLocalMulticast()', true],
    ['ip("8.8.8.8").isGlobalUnicast()', true],
    ['string(ip("2001:0DB8::0001"))', '2001:db8::1'],
    ['ip("10.0.0.1") == ip("10.0.0.1")', true],
    ['ip("10.0.0.1") != ip("10.0.0.2")', true],
    ['isCIDR("10.0.0.0/8")', true],
    ['isCIDR("10.0.0.0/33")', false],
    ['cidr("10.0.0.0/8").containsIP(ip("10.1.2.3"))', true],
    ['cidr("10.0.0.0/8").containsIP("11.1.2.3")', false],
    ['cidr("10.0.0.0/8").containsCIDR(cidr("10.1.0.0/16"))', true],
    ['cidr("10.0.0.0/8").containsCIDR("0.0.0.0/0")', false],
    ['cidr("10.1.2.3/8").ip()', '10.1.2.3'],
    ['cidr("10.1.2.3/8").masked()', '10.0.0.0/8'],
    ['string(cidr("10.1.2.3/8").masked())', '10.0.0.0/8'],
    ['cidr("fd00::/8").prefixLength()', 8],
    ['cidr("10.0.0.0/8") == cidr("10.0.0.0/8")', true],
    ['cidr("10.0.0.1/8") == cidr("10.0.0.0/8")', false],
    ['["10.0.0.0/8", "192.168.0.0/16"].exists(c, cidr(c).containsIP("192.168.1.1"))', true],
  ])('%s', (src, expected) => {
    expect(val(src)).toEqual(expected);
  });

  it.each([
    ['ip("10.0.0")', /invalid IP address '10.0.0'/],
    ['ip("::ffff:1.2.3.4")', /IPv4-mapped/],
    ['cidr("10.0.0.0")', /missing '\/<prefix length>'/],
    ['cidr("10.0.0.0/8").containsIP("nope")', /invalid IP address 'nope'/],
  ])('%s fails', (src, why) => {
    expect(errorOf(src).message).toMatch(why);
  });
});

describe('url library', () => {
  it.each([
    ['url("https://user@example.com:8443/a/b c?x=1&x=2&y=%20z#frag").getScheme()', 'https'],
    ['url("https://example.com:8443/a").getHost()', 'example.com:8443'],
    ['url("https://example.com:8443/a").getHostname()', 'example.com'],
    ['url("https://example.com:8443/a").getPort()', '8443'],
    ['url("https://example.com").getPort()', ''],
    ['url("https://example.com").getEscapedPath()', ''],
    ['url("https://[::1]:80/x").getHost()', '[::1]:80'],
    ['url("https://[::1]:80/x").getHostname()', '::1'],
    ['url("https://example.com/a b/%2F").getEscapedPath()', '/a%20b/%2F'],
    ['url("https://example.com/?x=1&x=2&y=%20z&bad=%zz").getQuery()', { x: ['1', '2'], y: [' z'] }],
    ['url("/healthz?verbose").getQuery()', { verbose: [''] }],
    ['url("/healthz").getScheme()', ''],
    ['url("HTTP://Example.com/").getScheme()', 'http'],
    ['isURL("https://example.com")', true],
    ['isURL("example.com")', false],
    ['isURL("/a/b")', true],
    ['isURL("https://exa mple.com/")', false],
    ['isURL("https://example.com:80a/")', false],
    ['isURL("/a%zz")', false],
  ])('%s', (src, expected) => {
    expect(val(src)).toEqual(expected);
  });

  it('fails on relative references', () => {
    expect(errorOf('url("example.com/x")').message).toMatch(/absolute URI or an absolute path/);
  });
});

describe('regex', () => {
  it('matches uses RE2: (a+)+$ on a 50k-character input returns promptly', () => {
    const s = 'a'.repeat(50_000) + '!';
    const t0 = Date.now();
    expect(val('s.matches("(a+)+$")', { s })).toBe(false);
    expect(val('[s].exists(x, x.matches("(a+)+$"))', { s })).toBe(false);
    expect(val('matches(s, "(a+)+$")', { s })).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it.each([
    ['"abc".matches("^a.c$")', true],
    ['"abc".matches("b")', true],
    ['"abc".matches("^b")', false],
    ['matches("abc", "c$")', true],
    ['["x1", "y"].filter(s, s.matches("[0-9]")).size()', 1],
    ['"a1b22c333".find("[0-9]+")', '1'],
    ['"abc".find("[0-9]+")', ''],
    ['"a1b22c333".findAll("[0-9]+")', ['1', '22', '333']],
    ['"a1b22c333".findAll("[0-9]+", 2)', ['1', '22']],
    ['"exceeded quota: q1, requested".find("quota: [^,]+")', 'quota: q1'],
  ])('%s', (src, expected) => {
    expect(val(src)).toEqual(expected);
  });

  it('an invalid pattern is an evaluation error with a message', () => {
    const e = errorOf('"abc".matches("(")');
    expect(e.message).toMatch(/invalid regular expression '\(': .*missing closing/);
    expect(e.column).toBe(1);
    expect(errorOf('"x".find("(?=x)")').message).toMatch(/unsupported Perl syntax/);
  });

  it('type errors mention matches, not the internal name', () => {
    const c = compileCel('1.matches("a")');
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.error.message).toBe("found no matching overload for 'int.matches(string)'");
  });
});

describe('string helpers', () => {
  it.each([
    ['"a.b.c".replace(".", "-")', 'a-b-c'],
    ['"a.b.c".replace(".", "-", 1)', 'a-b.c'],
    ['"a.b.c".replace(".", "-", 0)', 'a.b.c'],
    ['"a.b.c".replace(".", "-", -1)', 'a-b-c'],
    ['"ab".replace("", "-", 2)', '-a-b'],
    ['"Hello".lowerAscii()', 'hello'],
    ['"Hello".upperAscii()', 'HELLO'],
    ['" x ".trim()', 'x'],
    ['"a,b".split(",")', ['a', 'b']],
    ['["a", "b"].join("/")', 'a/b'],
    ['"hello".indexOf("l")', 2],
    ['"hello".lastIndexOf("l")', 3],
    ['"hello".substring(1, 3)', 'el'],
  ])('%s', (src, expected) => {
    expect(val(src)).toEqual(expected);
  });
});

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each([
    ['selectorMatches(object.spec.selector, labels)', true],
    ['selectorMatches({"matchLabels": {"app": "db"}}, labels)', false],
    ['selectorMatches({}, labels)', true],
    ['selectorMatches(null, labels)', false],
    ['selectorMatches(object.spec.?nope.orValue(null), labels)', false],
    ['selectorMatches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]}, labels)', true],
    ['selectorMatches({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, labels)', false],
    ['selectorMatches({"matchLabels": {"app": "web"}}, null)', false],
    ['selectorText(object.spec.selector)', 'app=web'],
    ['selectorText({})', 'all'],
    ['selectorText(null)', 'none'],
    ['selectorText({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "NotIn", "values": ["x", "y"]}]})', 'a=1,b notin (x,y)'],
  ])('%s', (src, expected) => {
    expect(val(src, { object: deployment, labels })).toEqual(expected);
  });

  it('rejects a selector that is not a map', () => {
    expect(errorOf('selectorMatches("app=web", {})').message).toMatch(/selector must be a map/);
    expect(errorOf('selectorMatches({}, [1])').message).toMatch(/labels must be a map/);
  });
});

describe('percent', () => {
  it.each([
    ['percent("500m", "2")', 25],
    ['percent("512Mi", "1Gi")', 50],
    ['percent(quantity("3"), quantity("4"))', 75],
    ['percent(3, 4)', 75],
    ['percent(1.5, 3)', 50],
    ['percent("6", "4")', 150],
    ['percent("1", "0")', 0],
    ['percent("1", "lots")', 0],
    ['percent("lots", "1")', 0],
    ['percent(null, "1")', 0],
  ])('%s', (src, expected) => {
    expect(val(src)).toBe(expected);
  });

  it('reads ResourceQuota status', () => {
    const rq = { status: { hard: { 'requests.cpu': '4', pods: '10' }, used: { 'requests.cpu': '3500m', pods: '5' } } };
    expect(
      val('object.status.hard.map(k, percent(object.status.used[k], object.status.hard[k])).exists(p, p >= 80.0)', {
        object: rq,
      }),
    ).toBe(true);
  });
});

describe('compilation', () => {
  it('reports parse errors with a column', () => {
    const c = compileCel('object.spec.replicas +');
    expect(c.ok).toBe(false);
    if (!c.ok) {
      expect(c.error.message).toMatch(/Unexpected token/);
      expect(c.error.column).toBe(23);
    }
  });

  it('rejects unknown functions at compile time', () => {
    const c = compileCel('constraintsOf("a")');
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.error.message).toMatch(/no matching overload for 'constraintsOf\(string\)'/);
  });

  it('with a variable list, rejects other identifiers at compile time', () => {
    const good = compileCel('object.spec.replicas > 1 && workload.name != ""', { variables: ['object', 'workload'] });
    expect(good.ok).toBe(true);
    const bad = compileCel('objct.spec.replicas > 1', { variables: ['object'] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.message).toBe('Unknown variable: objct');
      expect(bad.error.column).toBe(1);
    }
    // Macro variables are not free identifiers.
    expect(compileCel('object.items.all(i, i > 0)', { variables: ['object'] }).ok).toBe(true);
  });

  it('without a variable list, a missing variable fails at evaluation', () => {
    const e = errorOf('nope + 1');
    expect(e.message).toBe('Unknown variable: nope');
  });

  it('bounds length, nesting and size', () => {
    const long = compileCel('1 + '.repeat(MAX_CEL_LENGTH / 4) + '1');
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.error.message).toMatch(/longer than 10000/);
    const deep = compileCel('('.repeat(100) + '1' + ')'.repeat(100));
    expect(deep.ok).toBe(false);
    if (!deep.ok) expect(deep.error.message).toMatch(/maxDepth/i);
    const wide = compileCel(Array.from({ length: 3000 }, (_, i) => `x${i}`).join(' + '));
    expect(wide.ok).toBe(false);
    if (!wide.ok) expect(wide.error.message).toMatch(/maxAstNodes|longer than/i);
    expect(compileCel('  ').ok).toBe(false);
    expect(compileCel(42 as unknown as string).ok).toBe(false);
  });

  it('never throws at evaluation, whatever the input', () => {
    const c = compileCel('x.y + 1');
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    for (const x of [{ y: Symbol('s') }, { y: () => 1 }, { y: 'a' }, null, 5, { y: new WeakMap() }]) {
      const r = c.value.evaluate({ x });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(typeof r.error.message).toBe('string');
    }
  });
});

describe('extension', () => {
  it('adds functions without touching the default environment', () => {
    const calls: unknown[][] = [];
    const ext = defaultCelEnv().extend({
      functions: [
        {
          signature: 'constraintsOf(string, string, string, string): list<dyn>',
          handler: ((...args: string[]) => {
            calls.push(args);
            return [{ id: 'q1', limit: 10, ratio: 0.5 }];
          }) as (...args: never[]) => unknown,
        },
        {
          signature: 'twice(dyn): dyn',
          handler: ((x: number) => x * 2) as (...args: never[]) => unknown,
        },
        {
          signature: 'rawKind(dyn): string',
          raw: true,
          handler: ((x: unknown) => typeof x) as (...args: never[]) => unknown,
        },
      ],
      constants: [{ name: 'maxReplicas', type: 'int', value: 5 }],
    });
    expect(ext.ok).toBe(true);
    if (!ext.ok) return;
    const env = ext.value;
    expect(val('constraintsOf("v1", "resourcequotas", "shop", "q1")[0].limit + 1', {}, env)).toBe(11);
    expect(calls).toEqual([['v1', 'resourcequotas', 'shop', 'q1']]);
    expect(val('twice(object.spec.replicas)', { object: deployment }, env)).toBe(6);
    expect(val('rawKind(1)', {}, env)).toBe('bigint');
    expect(val('maxReplicas - 1', {}, env)).toBe(4);
    expect(val('quantity("1").add(1)', {}, env)).toBe('2');
    expect(compileCel('twice(1)').ok).toBe(false);
  });

  it('reports bad or clashing signatures as errors', () => {
    const bad = defaultCelEnv().extend({ functions: [{ signature: 'nope', handler: () => 1 }] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/Invalid signature/);
    const clash = defaultCelEnv().extend({ functions: [{ signature: 'quantity(string): dyn', handler: () => 1 }] });
    expect(clash.ok).toBe(false);
    if (!clash.ok) expect(clash.error.message).toMatch(/overlaps/);
  });

  it('rejects asynchronous handlers at evaluation', () => {
    const env = createCelEnv({ functions: [{ signature: 'later(): int', raw: true, handler: async () => 1n }] });
    expect(env.ok).toBe(true);
    if (!env.ok) return;
    expect(errorOf('later()', {}, env.value).message).toMatch(/asynchronous/);
  });

  it('extends an extension', () => {
    const a = createCelEnv({ functions: [{ signature: 'one(): int', handler: () => 1 }] });
    if (!a.ok) throw new Error(a.error.message);
    const b = a.value.extend({ functions: [{ signature: 'two(): int', handler: () => 2 }] });
    if (!b.ok) throw new Error(b.error.message);
    expect(val('one() + two()', {}, b.value)).toBe(3);
    expect(a.value.compile('two()').ok).toBe(false);
  });
});

describe('lists library', () => {
  it.each([
    ['[3, 1, 2].sum()', 6],
    ['[].sum()', 0],
    ['[1.5, 2.5].sum()', 4],
    ['[quantity("1"), quantity("500m")].sum()', '1500m'],
    ['object.spec.template.spec.containers.map(c, quantity(c.resources.requests.cpu)).sum()', '350m'],
    ['[quantity("1"), quantity("500m")].min()', '500m'],
    ['["b", "a"].min()', 'a'],
    ['[3, 1, 2].max()', 3],
    ['[1, 2, 2].isSorted()', true],
    ['[3, 1].isSorted()', false],
    ['[1, 2, 3].indexOf(2)', 1],
    ['["a", "b", "a"].lastIndexOf("a")', 2],
    ['[{"a": 1}].indexOf({"a": 1})', 0],
    ['[1, 2].indexOf(5)', -1],
  ])('%s', (src, expected) => {
    expect(val(src, { object: deployment })).toEqual(expected);
  });

  it.each([
    ['[1, 2.5].sum()', /cannot add double to int/],
    ['[].max()', /empty list/],
    ['["a", "b"].sum()', /sum\(\) needs/],
    ['[1, "a"].isSorted()', /cannot compare/],
    ['[9223372036854775807, 1].sum()', /overflow/],
  ])('%s fails', (src, why) => {
    expect(errorOf(src).message).toMatch(why);
  });
});
