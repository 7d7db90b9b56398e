import { describe, expect, it } from 'vitest';
import type { ApiResource } from '../kube/discovery.js';
import { selectResources, servedVersion, type SelectionInput } from './selection.js';

const res = (group: string, version: string, resource: string, kind: string, extra: Partial<ApiResource> = {}): ApiResource => ({
  group,
  version,
  resource,
  kind,
  namespaced: true,
  verbs: ['get', 'list', 'watch'],
  shortNames: [],
  preferred: true,
  ...extra,
});

const base: SelectionInput = {
  resources: [
    res('', 'v1', 'pods', 'Pod'),
    res('', 'v1', 'namespaces', 'Namespace', { namespaced: false }),
    res('', 'v1', 'secrets', 'Secret'),
    res('', 'v1', 'configmaps', 'ConfigMap'),
    res('', 'v1', 'resourcequotas', 'ResourceQuota'),
    res('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy'),
    res('constraints.gatekeeper.sh', 'v1beta1', 'k8srequiredlabels', 'K8sRequiredLabels', { namespaced: false }),
    res('constraints.gatekeeper.sh', 'v1', 'k8srequiredlabels', 'K8sRequiredLabels', { namespaced: false, preferred: false }),
    res('potoo.io', 'v1alpha1', 'constraintreports', 'ConstraintReport'),
    res('acme.io', 'v1', 'egressbudgets', 'EgressBudget'),
    res('acme.io', 'v1', 'widgets', 'Widget'),
    res('acme.io', 'v1', 'fences', 'Fence'),
    res('acme.io', 'v1', 'policyreports', 'PolicyReport'),
    res('monitoring.coreos.com', 'v1', 'prometheusrules', 'PrometheusRule'),
    res('', 'v1', 'bindings', 'Binding', { verbs: ['create'] }),
  ],
  preferredVersions: new Map([['', 'v1'], ['constraints.gatekeeper.sh', 'v1beta1'], ['acme.io', 'v1']]),
  crds: [
    { group: 'acme.io', resource: 'egressbudgets', kind: 'EgressBudget', annotations: {} },
    { group: 'acme.io', resource: 'widgets', kind: 'Widget', annotations: {} },
    { group: 'acme.io', resource: 'fences', kind: 'Fence', annotations: { 'potoo.io/is-policy': 'true' } },
    { group: 'acme.io', resource: 'policyreports', kind: 'PolicyReport', annotations: {} },
    { group: 'monitoring.coreos.com', resource: 'prometheusrules', kind: 'PrometheusRule', annotations: {} },
    { group: 'potoo.io', resource: 'constraintreports', kind: 'ConstraintReport', annotations: { 'potoo.io/is-policy': 'true' } },
  ],
  adapterMatches: [],
  profiles: [],
};

const picked = (input: SelectionInput): Record<string, string[]> =>
  Object.fromEntries(selectResources(input).selected.map((s) => [`${s.gvr.group}/${s.gvr.version}/${s.gvr.resource}`, s.reasons]));

describe('selectResources', () => {
  it('watches subjects, known policies, annotated and policy-named CRDs, never Potoo itself, secrets or reports', () => {
    expect(picked(base)).toEqual({
      '/v1/namespaces': ['subject'],
      '/v1/pods': ['subject'],
      '/v1/resourcequotas': ['known'],
      'networking.k8s.io/v1/networkpolicies': ['known'],
      'constraints.gatekeeper.sh/v1beta1/k8srequiredlabels': ['known'],
      'acme.io/v1/egressbudgets': ['heuristic'],
      'acme.io/v1/fences': ['annotation'],
    });
    const ex = selectResources(base).excluded;
    expect(ex).toContainEqual({ group: 'potoo.io', resource: 'constraintreports', reason: "Potoo's own resource" });
  });

  it('adds what adapters and profiles name, and lets a profile pick the version', () => {
    const got = picked({
      ...base,
      adapterMatches: [{ group: 'acme.io', resources: ['widgets'] }, { fallback: true }, { group: '*', resources: ['*'] }],
      profiles: [{ profile: 'gk', group: 'constraints.gatekeeper.sh', resource: 'k8srequiredlabels', version: 'v1', enabled: true }],
    });
    expect(got['acme.io/v1/widgets']).toEqual(['adapter']);
    expect(got['constraints.gatekeeper.sh/v1/k8srequiredlabels']).toEqual(['known', 'profile']);
    expect(got['/v1/configmaps']).toBeUndefined();
  });

  it('a disabled profile or an is-policy "false" annotation switches a resource off', () => {
    const got = picked({
      ...base,
      crds: base.crds.map((c) => (c.resource === 'egressbudgets' ? { ...c, annotations: { 'potoo.io/is-policy': 'false' } } : c)),
      profiles: [{ profile: 'off', group: 'networking.k8s.io', resource: 'networkpolicies', enabled: false }],
    });
    expect(got['networking.k8s.io/v1/networkpolicies']).toBeUndefined();
    expect(got['acme.io/v1/egressbudgets']).toBeUndefined();
  });

  it('servedVersion says whether a target is served and at which version', () => {
    expect(servedVersion(base.resources, base.preferredVersions, { group: 'constraints.gatekeeper.sh', resource: 'k8srequiredlabels' })).toBe('v1beta1');
    expect(servedVersion(base.resources, base.preferredVersions, { group: 'constraints.gatekeeper.sh', resource: 'k8srequiredlabels', version: 'v1' })).toBe('v1');
    expect(servedVersion(base.resources, base.preferredVersions, { group: 'ghost.io', resource: 'ghosts' })).toBeUndefined();
  });
});
