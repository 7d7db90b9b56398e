// Nested scopes in any[]/all[] and resource-based kind refs (see scope.ts, model.ts).
import { describe, expect, it } from 'vitest';
import type { Scope, ScopeTarget } from './model.js';
import { candidateNamespaces, evaluateScope } from './scope.js';
import { validateScope } from './scopecheck.js';

const pod = (ns: string, labels: Record<string, string> = {}): ScopeTarget => ({
  group: '',
  version: 'v1',
  kind: 'Pod',
  resource: 'pods',
  name: 'p',
  namespace: ns,
  labels,
  annotations: {},
  namespaceLabels: {},
});

describe('nested scopes in all[]', () => {
  // (Pod or Deployment) AND (namespace a or label tier=web), minus namespace b.
  const scope: Scope = {
    all: [
      { any: [{ kinds: [{ group: '', kind: 'Pod' }] }, { kinds: [{ group: 'apps', kind: 'Deployment' }] }] },
      { any: [{ namespaces: ['a'] }, { selector: { matchLabels: { tier: 'web' } } }], exclude: [{ namespaces: ['b'] }] },
    ],
  };
  it('intersects two disjunctions', () => {
    expect(validateScope(scope)).toEqual([]);
    expect(evaluateScope(scope, pod('a')).applies).toBe(true);
    expect(evaluateScope(scope, pod('c', { tier: 'web' })).applies).toBe(true);
    expect(evaluateScope(scope, pod('c')).applies).toBe(false);
    expect(evaluateScope(scope, pod('b', { tier: 'web' })).applies).toBe(false);
    expect(evaluateScope(scope, { ...pod('a'), kind: 'Service', resource: 'services' }).applies).toBe(false);
  });
  it('keeps candidateNamespaces sound', () => {
    expect(candidateNamespaces(scope)).toBe('all');
    const narrow: Scope = { all: [{ any: [{ namespaces: ['a'] }, { namespaces: ['b'] }] }, { namespaces: ['b', 'c'] }] };
    expect([...(candidateNamespaces(narrow) as Set<string>)]).toEqual(['b']);
  });
  it('rejects unknown fields inside a nested scope', () => {
    expect(validateScope({ all: [{ any: [{ bogus: 1 }] }] }).map((e) => e.path)).toEqual(['all[0].any[0].bogus']);
  });
});

describe('kind refs guessed from a resource', () => {
  const flow: ScopeTarget = { ...pod('x'), group: 'flowcontrol.apiserver.k8s.io', kind: 'FlowSchema', resource: 'flowschemas', namespace: undefined } as ScopeTarget;
  const ref = { kinds: [{ group: 'flowcontrol.apiserver.k8s.io', kind: 'Flowschema', resource: 'flowschemas' }] };
  it('compare by resource when the target knows its resource', () => {
    expect(evaluateScope(ref, flow).applies).toBe(true);
    expect(evaluateScope(ref, { ...flow, resource: 'prioritylevelconfigurations' }).applies).toBe(false);
  });
  it('fall back to the kind otherwise', () => {
    const { resource: _r, ...noResource } = flow;
    expect(evaluateScope(ref, noResource).applies).toBe(false);
    expect(evaluateScope(ref, { ...noResource, kind: 'Flowschema' }).applies).toBe(true);
  });
});
