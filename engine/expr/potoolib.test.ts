import { describe, expect, it } from 'vitest';
import { compileCel } from './cel.js';
import { FactLookup, flatten, kindRefs, kindsForResources } from './potoolib.js';

const cel = (src: string, vars: Record<string, unknown> = {}): unknown => {
  const c = compileCel(src);
  if (!c.ok) throw new Error(c.error.message);
  const r = c.value.evaluate(vars);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

describe('kindRefs (Kyverno-style kind selectors)', () => {
  it('parses every documented form', () => {
    expect(kindRefs(['Pod'])).toEqual([{ group: '*', kind: 'Pod' }]);
    expect(kindRefs(['v1/Pod'])).toEqual([{ group: '*', version: 'v1', kind: 'Pod' }]);
    expect(kindRefs(['apps/v1/Deployment'])).toEqual([{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    expect(kindRefs(['batch/*/CronJob'])).toEqual([{ group: 'batch', kind: 'CronJob' }]);
    expect(kindRefs(['*/Pod'])).toEqual([{ group: '*', kind: 'Pod' }]);
    expect(kindRefs(['Deployment/scale', 'Pod.exec'])).toEqual([
      { group: '*', kind: 'Deployment' },
      { group: '*', kind: 'Pod' },
    ]);
    expect(kindRefs(['v1/Pod/exec'])).toEqual([{ group: '*', version: 'v1', kind: 'Pod' }]);
    expect(kindRefs(['apps/v1/Deployment/scale'])).toEqual([{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    expect(kindRefs(['*', '*/*', '*/status'])).toEqual([{ group: '*', kind: '*' }]);
    expect(kindRefs(['networking.k8s.io/v1/Ingress'])).toEqual([{ group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' }]);
  });
  it('drops malformed entries instead of failing', () => {
    expect(kindRefs(['', 'a/b/c/d/e', 3, null])).toEqual([]);
    expect(kindRefs('Pod')).toEqual([{ group: '*', kind: 'Pod' }]);
    expect(kindRefs(undefined)).toEqual([]);
  });
  it('is callable from CEL', () => {
    expect(cel("kindRefs(['Pod', 'apps/v1/Deployment'])")).toEqual([
      { group: '*', kind: 'Pod' },
      { group: 'apps', version: 'v1', kind: 'Deployment' },
    ]);
  });
});

describe('kindsForResources', () => {
  it('marks guessed kinds with their resource', () => {
    expect(kindsForResources(['flowcontrol.apiserver.k8s.io'], ['flowschemas'])).toEqual([
      { group: 'flowcontrol.apiserver.k8s.io', kind: 'Flowschema', resource: 'flowschemas' },
    ]);
    expect(kindsForResources([''], ['pods', 'pods/exec'])).toEqual([{ group: '', kind: 'Pod' }]);
  });
});

describe('flatten', () => {
  it('flattens one level by default, n levels on request, in CEL too', () => {
    expect(flatten([[1], [2, [3]], 4])).toEqual([1, 2, [3], 4]);
    expect(flatten([[1], [2, [3]]], 2)).toEqual([1, 2, 3]);
    expect(cel('[[1], [2, 3]].flatten()')).toEqual([1, 2, 3]);
    expect(cel('[[[1]], [2]].flatten(2)')).toEqual([1, 2]);
  });
});

describe('FactLookup (the adapt stage `facts` variable)', () => {
  const store = [
    { apiVersion: 'x.io/v1', kind: 'Thing', metadata: { name: 'a' }, spec: { n: 1 } },
    { apiVersion: 'x.io/v2', kind: 'Thing', metadata: { name: 'b', namespace: 'ns' }, spec: { n: 2 } },
  ];
  const source = {
    find: (group: string, version: string, kind: string, namespace: string, name: string | undefined) =>
      store.filter((o) => {
        const [g, v] = o.apiVersion.split('/');
        return g === group && (version === '*' || v === version) && o.kind === kind && (namespace === '*' || (o.metadata.namespace ?? '') === namespace) && (name === undefined || o.metadata.name === name);
      }),
  };
  it('gets one object or null, lists many, and records every read', () => {
    const facts = new FactLookup(source);
    expect(cel("facts.get('x.io/*', 'Thing', '', 'a').spec.n + 1", { facts })).toBe(2);
    expect(cel("facts.get('x.io/v1', 'Thing', 'ns', 'b')", { facts })).toBeNull();
    expect(cel("facts.list('x.io/*', 'Thing', '*').map(o, o.metadata.name)", { facts })).toEqual(['a', 'b']);
    expect(cel("facts.list('x.io/v2', 'Thing', 'ns').size()", { facts })).toBe(1);
    expect(facts.reads).toEqual(['x.io|Thing||a', 'x.io|Thing|ns|b', 'x.io|Thing|*|*', 'x.io|Thing|ns|*']);
  });
  it('fails as an evaluation error, not a crash, when misused', () => {
    const c = compileCel("facts.get('x.io/v1', 'Thing', '', 'a')");
    expect(c.ok).toBe(true);
    if (c.ok) expect(c.value.evaluate({ facts: {} }).ok).toBe(false);
  });
});
