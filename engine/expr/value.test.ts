import { describe, it, expect } from 'vitest';
import { compileValue, type CompiledValue } from './value.js';

function cv(v: unknown, path = 'emit'): CompiledValue {
  const r = compileValue(v, path);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

function ev(v: unknown, vars: Record<string, unknown>): unknown {
  const r = cv(v).evaluate(vars);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const netpol = {
  metadata: { name: 'deny', namespace: 'shop' },
  spec: {
    podSelector: { matchLabels: { app: 'web' } },
    policyTypes: ['Ingress'],
    ingress: [{ ports: [{ port: 80 }, { port: 443 }] }, { ports: [{ port: 8080 }] }],
  },
};
const vars = { object: netpol };

describe('compileValue', () => {
  it('a lone {{ expr }} keeps the CEL type', () => {
    expect(ev('{{ [object.metadata.namespace] }}', vars)).toEqual(['shop']);
    expect(ev('  {{ size(object.spec.?ingress.orValue([])) == 0 }}  ', vars)).toBe(false);
    expect(ev('{{ object.spec.podSelector }}', vars)).toEqual({ matchLabels: { app: 'web' } });
    expect(ev('{{ size(object.spec.ingress) }}', vars)).toBe(2);
    expect(ev('{{ null }}', vars)).toBeNull();
    expect(ev("{{ 'deny' }}", vars)).toBe('deny');
  });

  it('$. and $[ are JSONPath over `object`, giving every match', () => {
    expect(ev('$.spec.ingress[*].ports[*].port', vars)).toEqual([80, 443, 8080]);
    expect(ev("$['metadata'].name", vars)).toEqual(['deny']);
    expect(ev('$.spec.nope', vars)).toEqual([]);
    expect(ev('$.spec.policyTypes', {})).toEqual([]);
  });

  it('other strings with {{ are templates', () => {
    expect(ev('{{ object.metadata.name }} in {{ object.metadata.namespace }}', vars)).toBe('deny in shop');
    expect(ev('ports: {{ object.spec.ingress[0].ports.map(p, p.port) }}', vars)).toBe('ports: 80, 443');
  });

  it('everything else is literal; lists and maps compile element-wise with literal keys', () => {
    expect(ev('NetworkIngress', vars)).toBe('NetworkIngress');
    expect(ev('size(object.spec.ingress) == 0', vars)).toBe('size(object.spec.ingress) == 0');
    expect(ev('$', vars)).toBe('$');
    expect(ev(42, vars)).toBe(42);
    expect(ev(true, vars)).toBe(true);
    expect(ev(null, vars)).toBeNull();
    const emit = {
      type: 'NetworkIngress',
      effect: "{{ size(object.spec.?ingress.orValue([])) == 0 ? 'deny' : 'restrict' }}",
      severity: 'Warning',
      scope: { namespaces: '{{ [object.metadata.namespace] }}', workloadSelector: '{{ object.spec.podSelector }}' },
      details: { allowedPorts: '$.spec.ingress[*].ports[*]', '{{ not.a.key }}': 1 },
      summary: 'Restricts ingress to pods matching {{ selectorText(object.spec.podSelector) }}',
      tags: ['network', '{{ object.metadata.name }}'],
    };
    expect(ev(emit, vars)).toEqual({
      type: 'NetworkIngress',
      effect: 'restrict',
      severity: 'Warning',
      scope: { namespaces: ['shop'], workloadSelector: { matchLabels: { app: 'web' } } },
      details: { allowedPorts: [{ port: 80 }, { port: 443 }, { port: 8080 }], '{{ not.a.key }}': 1 },
      summary: 'Restricts ingress to pods matching app=web',
      tags: ['network', 'deny'],
    });
  });

  it('collects sources for lint', () => {
    const c = cv({ a: '{{ x + 1 }}', b: ['$.spec.x', 'n: {{ y }} {{ z }}'], c: 'lit' });
    expect(c.isConstant).toBe(false);
    expect(c.sources).toEqual([' x + 1 ', '$.spec.x', ' y ', ' z ']);
  });

  it('constants evaluate to one frozen value without allocating', () => {
    const src = { type: 'X', list: [1, { a: 'b' }], n: null };
    const c = cv(src);
    expect(c.isConstant).toBe(true);
    expect(c.sources).toEqual([]);
    const a = c.evaluate({});
    const b = c.evaluate({ object: netpol });
    expect(a).toBe(b);
    expect(a.ok && a.value).toEqual(src);
    if (a.ok) {
      expect(a.value).not.toBe(src);
      expect(Object.isFrozen(a.value)).toBe(true);
      expect(Object.isFrozen((a.value as { list: unknown[] }).list[1])).toBe(true);
    }
    expect(Object.isFrozen(src)).toBe(false);
  });

  it('compile errors carry the field path and column', () => {
    const r = compileValue({ details: { ports: [1, 2, 'x {{ 1 + }}'] } }, 'spec.adapters[0].emit');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.path).toBe('spec.adapters[0].emit.details.ports[2]');
      expect(r.error.column).toBe(3);
      expect(r.error.message).toMatch(/Unexpected token/);
    }
    const jp = compileValue({ x: '$.a[?(@.b)]' }, 'emit');
    expect(jp.ok).toBe(false);
    if (!jp.ok) {
      expect(jp.error.path).toBe('emit.x');
      expect(jp.error.message).toMatch(/script expressions/);
    }
    const odd = compileValue({ 'a b': ['{{'] }, '');
    expect(odd.ok).toBe(false);
    if (!odd.ok) expect(odd.error.path).toBe('["a b"][0]');
  });

  it('evaluation errors carry the field path and column', () => {
    const r = cv({ details: { n: '{{ object.spec.nope }}' } }, 'emit').evaluate(vars);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.path).toBe('emit.details.n');
      expect(r.error.column).toBe(1);
      expect(r.error.message).toMatch(/No such key: nope/);
    }
    const t = cv(['a', 'x {{ object.nope }}'], 'tags').evaluate(vars);
    expect(!t.ok && t.error.path).toBe('tags[1]');
  });

  it('rejects values that are not JSON', () => {
    const r = compileValue({ f: () => 1 }, 'emit');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.path).toBe('emit.f');
      expect(r.error.message).toMatch(/unsupported value of type function/);
    }
  });

  it('honours a variable list', () => {
    const r = compileValue('{{ obj.x }}', 'emit', { variables: ['object'] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/Unknown variable: obj/);
  });
});
