import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { Constraint, Scope, ScopeTerm } from '../model.js';
import { evaluateScope, type ScopeSubject } from '../scope.js';
import { clusterRoleSubject, namespaceSubject } from '../scope.fixtures.js';
import { ConstraintIndex, sourceKey, type ConstraintChange } from './constraints.js';

function constraint(id: string, scope: Scope, over: Partial<Constraint> = {}): Constraint {
  return {
    id,
    type: 'NetworkIngress',
    effect: 'deny',
    severity: 'Warning',
    source: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      group: 'networking.k8s.io',
      resource: 'networkpolicies',
      name: id,
      namespace: 'payments',
    },
    rule: { pack: 'p', rule: 'r' },
    scope,
    summary: '',
    details: {},
    remediation: [],
    tags: [],
    ...over,
  };
}

const workload = (ns: string, podLabels: Record<string, string> = {}): ScopeSubject => ({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  name: 'api',
  namespace: ns,
  labels: {},
  annotations: {},
  namespaceLabels: { 'kubernetes.io/metadata.name': ns },
  podLabels,
});

const ids = (xs: { constraint: Constraint }[]): string[] => xs.map((x) => x.constraint.id);

describe('sourceKey', () => {
  it('uses resource.group/namespace/name without the version', () => {
    expect(sourceKey({ group: 'networking.k8s.io', resource: 'networkpolicies', namespace: 'a', name: 'n' })).toBe(
      'networkpolicies.networking.k8s.io/a/n',
    );
    expect(sourceKey({ group: '', resource: 'resourcequotas', namespace: 'a', name: 'q' })).toBe('resourcequotas/a/q');
    expect(sourceKey({ group: 'kyverno.io', resource: 'clusterpolicies', name: 'p' })).toBe('clusterpolicies.kyverno.io/p');
  });
});

describe('ConstraintIndex', () => {
  it('answers by namespace bucket plus cluster-wide constraints, exactly', () => {
    const idx = new ConstraintIndex();
    idx.upsert(constraint('np-api', { namespaces: ['payments'], selector: { matchLabels: { app: 'api' } } }));
    idx.upsert(constraint('np-web', { namespaces: ['payments'], selector: { matchLabels: { app: 'web' } } }));
    idx.upsert(constraint('np-other', { namespaces: ['other'] }));
    idx.upsert(constraint('cluster', { kinds: [{ group: '', kind: 'Pod' }], excludedNamespaces: ['kube-*'] }));
    idx.upsert(constraint('wild', { namespaces: ['pay*'] }));
    const r = idx.applicableTo(workload('payments', { app: 'api' }));
    expect(ids(r)).toEqual(['cluster', 'np-api', 'wild']);
    expect(r.find((x) => x.constraint.id === 'np-api')?.verdict.reasons).toContain('pod labels app=api match selector app=api');
    expect(ids(idx.applicableTo(workload('kube-system')))).toEqual([]);
    expect(idx.byNamespace('payments').map((c) => c.id).sort()).toEqual(['np-api', 'np-web']);
    expect(idx.clusterWideConstraints().map((c) => c.id).sort()).toEqual(['cluster', 'wild']);
  });

  it('explains the candidates that do not apply, on request', () => {
    const idx = new ConstraintIndex();
    idx.upsert(constraint('np-web', { namespaces: ['payments'], selector: { matchLabels: { app: 'web' } } }));
    const r = idx.applicableTo(workload('payments', { app: 'api' }), { includeNotApplying: true });
    expect(r).toHaveLength(1);
    expect(r[0]?.verdict.applies).toBe(false);
    expect(JSON.parse(JSON.stringify(r[0]?.verdict))).toEqual({
      applies: false,
      reasons: [
        'namespace payments matches namespaces [payments]',
        'labels (no app) do not match selector app=web',
        'its pods: namespace payments matches namespaces [payments]',
        'its pods: pod labels app=api do not match selector app=web',
      ],
    });
    expect(idx.explain('np-web', workload('payments', { app: 'web' }))?.applies).toBe(true);
    expect(idx.explain('missing', workload('payments'))).toBeUndefined();
  });

  it('scans everything for cluster-scoped targets, which namespace criteria do not exclude', () => {
    const idx = new ConstraintIndex();
    idx.upsert(constraint('ns-scoped', { namespaces: ['payments'] }));
    idx.upsert(constraint('pods-only', { kinds: [{ group: '', kind: 'Pod' }] }));
    const clusterRole = clusterRoleSubject;
    expect(ids(idx.applicableTo(clusterRole))).toEqual(['ns-scoped']);
    const ns = namespaceSubject('payments');
    expect(ids(idx.applicableTo(ns))).toEqual(['ns-scoped']);
    expect(ids(idx.applicableTo({ ...ns, name: 'other' }))).toEqual([]);
  });

  it('indexes by type, source GVR and source; re-upsert moves buckets', () => {
    const idx = new ConstraintIndex();
    idx.upsert(constraint('a', { namespaces: ['x'] }));
    idx.upsert(constraint('q', { namespaces: ['x'] }, {
      type: 'ResourceQuota',
      source: { apiVersion: 'v1', kind: 'ResourceQuota', group: '', resource: 'resourcequotas', name: 'q', namespace: 'x' },
    }));
    expect(idx.byType('ResourceQuota').map((c) => c.id)).toEqual(['q']);
    expect(idx.bySourceGvr('networking.k8s.io/v1/networkpolicies').map((c) => c.id)).toEqual(['a']);
    expect(idx.bySourceGvr({ group: '', version: 'v1', resource: 'resourcequotas' }).map((c) => c.id)).toEqual(['q']);
    expect(idx.bySource('resourcequotas/x/q').map((c) => c.id)).toEqual(['q']);
    idx.upsert(constraint('a', { namespaces: ['y'] }));
    expect(idx.byNamespace('x').map((c) => c.id)).toEqual(['q']);
    expect(idx.byNamespace('y').map((c) => c.id)).toEqual(['a']);
    expect(idx.size).toBe(2);
  });

  it('replaceForSource replaces exactly the constraints of one object', () => {
    const idx = new ConstraintIndex();
    const changes: ConstraintChange[] = [];
    idx.subscribe((c) => changes.push(c));
    const src = 'clusterpolicies.kyverno.io/require-labels';
    const kyv = (id: string, ns: string[]): Constraint =>
      constraint(id, { namespaces: ns }, {
        type: 'Admission',
        source: { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', group: 'kyverno.io', resource: 'clusterpolicies', name: 'require-labels' },
      });
    idx.upsert(constraint('unrelated', {}));
    expect(idx.replaceForSource(src, [kyv('r1', ['a']), kyv('r2', ['b'])])).toEqual({ added: ['r1', 'r2'], updated: [], removed: [] });
    expect(idx.replaceForSource(src, [kyv('r2', ['c']), kyv('r3', [])])).toEqual({ added: ['r3'], updated: ['r2'], removed: ['r1'] });
    expect(idx.bySource(src).map((c) => c.id).sort()).toEqual(['r2', 'r3']);
    expect(idx.byNamespace('a')).toEqual([]);
    expect(idx.byNamespace('c').map((c) => c.id)).toEqual(['r2']);
    expect(changes.map((c) => `${c.type} ${c.constraint.id}`)).toEqual([
      'ADDED unrelated',
      'ADDED r1',
      'ADDED r2',
      'DELETED r1',
      'MODIFIED r2',
      'ADDED r3',
    ]);
    expect(idx.removeSource(src).sort()).toEqual(['r2', 'r3']);
    expect(idx.all().map((c) => c.id)).toEqual(['unrelated']);
    expect(idx.byType('Admission')).toEqual([]);
    expect(idx.bySourceGvr('kyverno.io/v1/clusterpolicies')).toEqual([]);
  });

  // The buckets are an optimisation only: the answer must equal a full scan.
  it('applicableTo equals evaluating every constraint', () => {
    const NS = ['a', 'b', 'c', 'kube-system'];
    const term: fc.Arbitrary<ScopeTerm> = fc.record(
      {
        namespaces: fc.array(fc.constantFrom(...NS, 'kube-*', '*'), { maxLength: 2 }),
        excludedNamespaces: fc.array(fc.constantFrom(...NS, 'kube-*'), { maxLength: 1 }),
        selector: fc.record({ matchLabels: fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('x', 'y'), { maxKeys: 1 }) }),
        kinds: fc.array(fc.constantFrom({ group: '', kind: 'Pod' }, { group: 'apps', kind: '*' }, { group: '', kind: 'Namespace' }), {
          maxLength: 1,
        }),
      },
      { requiredKeys: [] },
    );
    const scope: fc.Arbitrary<Scope> = fc
      .tuple(term, fc.option(fc.array(term, { maxLength: 2 }), { nil: undefined }), fc.option(fc.array(term, { maxLength: 1 }), { nil: undefined }))
      .map(([t, any, all]) => ({ ...t, ...(any ? { any } : {}), ...(all ? { all } : {}) }));
    const target: fc.Arbitrary<ScopeSubject> = fc.oneof(
      fc.record({ ns: fc.constantFrom(...NS), app: fc.constantFrom('x', 'y') }).map(({ ns, app }) => workload(ns, { app })),
      fc.constantFrom(...NS).map(
        (name): ScopeSubject => ({ group: '', version: 'v1', kind: 'Namespace', name, labels: {}, annotations: {}, namespaceLabels: {} }),
      ),
    );
    const op = fc.oneof(
      fc.record({ t: fc.constant('upsert' as const), id: fc.constantFrom('c1', 'c2', 'c3', 'c4', 'c5'), scope }),
      fc.record({ t: fc.constant('remove' as const), id: fc.constantFrom('c1', 'c2', 'c3', 'c4', 'c5') }),
      fc.record({ t: fc.constant('source' as const), src: fc.constantFrom('s1', 's2'), ids: fc.uniqueArray(fc.constantFrom('c1', 'c2', 'c6'), { maxLength: 2 }), scope }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 15 }), fc.array(target, { minLength: 1, maxLength: 5 }), (ops, targets) => {
        const idx = new ConstraintIndex();
        for (const o of ops) {
          if (o.t === 'upsert') idx.upsert(constraint(o.id, o.scope));
          else if (o.t === 'remove') idx.remove(o.id);
          else idx.replaceForSource(o.src, o.ids.map((id) => constraint(id, o.scope)));
        }
        for (const t of targets) {
          const expected = idx
            .all()
            .filter((c) => evaluateScope(c.scope, t).applies)
            .map((c) => c.id)
            .sort();
          expect(ids(idx.applicableTo(t))).toEqual(expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});
