import { describe, expect, it } from 'vitest';
import type { CompiledPack } from '../../engine/pack/loader.js';
import type { ApiResource } from '../kube/discovery.js';
import { loadAllPacks } from '../packs.js';
import { packsFromConfigMap } from './rulepacks.js';
import { knownPolicyResources, selectResources, servedVersion, type SelectionInput } from './selection.js';

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

/** A pack as a ConfigMap would bring it: one skip-only adapter per match (flow-style YAML). */
const pack = (name: string, ...matches: string[]): CompiledPack => {
  const adapters = matches.map((m, i) => `    - name: a${i}\n      match: ${m}\n      skip: "test"\n`).join('');
  const r = packsFromConfigMap({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'potoo-system' },
    data: { 'pack.yaml': `apiVersion: potoo.io/v1alpha1\nkind: RulePack\nmetadata: {name: ${name}}\nspec:\n  adapters:\n${adapters}` },
  });
  expect(r.problems).toEqual([]);
  return r.packs[0] as CompiledPack;
};

const builtinLike = pack(
  'builtin-like',
  '{group: "", resources: [resourcequotas]}',
  '{group: networking.k8s.io, resources: [networkpolicies]}',
  '{group: constraints.gatekeeper.sh}',
);

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
  known: knownPolicyResources([builtinLike]),
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

  it('adds what profiles name, and lets a profile pick the version', () => {
    const got = picked({
      ...base,
      profiles: [{ profile: 'gk', group: 'constraints.gatekeeper.sh', resource: 'k8srequiredlabels', version: 'v1', enabled: true }],
    });
    expect(got['constraints.gatekeeper.sh/v1/k8srequiredlabels']).toEqual(['known', 'profile']);
  });

  it("a user pack's adapter makes its resource known; without the pack only the annotation or heuristic selects", () => {
    const user = pack(
      'acme',
      '{group: acme.io, resources: [widgets]}',
      '{group: acme.io, kinds: [Fence]}',
      '{group: acme.io, resources: ["*"], kinds: [EgressBudget]}',
    );
    const withUser = picked({ ...base, known: knownPolicyResources([builtinLike, user]) });
    expect(withUser['acme.io/v1/widgets']).toEqual(['known']);
    expect(withUser['acme.io/v1/fences']).toEqual(['known', 'annotation']);
    expect(withUser['acme.io/v1/egressbudgets']).toEqual(['known']);
    // The pack goes (ConfigMap deleted): the next selection drops what only it claimed.
    const without = picked({ ...base, known: knownPolicyResources([builtinLike]) });
    expect(without['acme.io/v1/widgets']).toBeUndefined();
    expect(without['acme.io/v1/fences']).toEqual(['annotation']);
    expect(without['acme.io/v1/egressbudgets']).toEqual(['heuristic']);
  });

  it('fallback adapters and matches on any group claim nothing', () => {
    const broad = pack('broad', '{fallback: true}', '{group: "*", resources: ["*"]}', '{resources: [configmaps]}');
    expect([...knownPolicyResources([broad]).keys()]).toEqual([]);
    const got = picked({ ...base, known: knownPolicyResources([broad]) });
    expect(got['/v1/configmaps']).toBeUndefined();
    expect(got['/v1/secrets']).toBeUndefined();
    expect(got['/v1/resourcequotas']).toBeUndefined();
  });

  it('knownPolicyResources: "*" lists mean any, identical claims once', () => {
    const a = pack('a', '{group: acme.io, resources: [widgets], kinds: ["*"]}', '{group: acme.io, resources: [widgets]}', '{group: gk.io, resources: ["*"]}');
    expect(Object.fromEntries(knownPolicyResources([a, a]))).toEqual({
      'acme.io': [{ group: 'acme.io', resources: ['widgets'] }],
      'gk.io': [{ group: 'gk.io' }],
    });
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

  it('the built-in packs claim every resource the controller watched before the packs decided (KNOWN_POLICY_RESOURCES)', async () => {
    const { packs } = await loadAllPacks();
    // The old hard-coded list, with each resource's kind; '*' groups as an invented CRD.
    const old: [group: string, resource: string, kind: string][] = [
      ['', 'resourcequotas', 'ResourceQuota'],
      ['', 'limitranges', 'LimitRange'],
      ['networking.k8s.io', 'networkpolicies', 'NetworkPolicy'],
      ['admissionregistration.k8s.io', 'validatingwebhookconfigurations', 'ValidatingWebhookConfiguration'],
      ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'MutatingWebhookConfiguration'],
      ['admissionregistration.k8s.io', 'validatingadmissionpolicies', 'ValidatingAdmissionPolicy'],
      ['admissionregistration.k8s.io', 'validatingadmissionpolicybindings', 'ValidatingAdmissionPolicyBinding'],
      ['admissionregistration.k8s.io', 'mutatingadmissionpolicies', 'MutatingAdmissionPolicy'],
      ['admissionregistration.k8s.io', 'mutatingadmissionpolicybindings', 'MutatingAdmissionPolicyBinding'],
      ['policy.networking.k8s.io', 'adminnetworkpolicies', 'AdminNetworkPolicy'],
      ['policy.networking.k8s.io', 'baselineadminnetworkpolicies', 'BaselineAdminNetworkPolicy'],
      ['policy.networking.k8s.io', 'clusternetworkpolicies', 'ClusterNetworkPolicy'],
      ['kyverno.io', 'clusterpolicies', 'ClusterPolicy'],
      ['kyverno.io', 'policies', 'Policy'],
      ['kyverno.io', 'policyexceptions', 'PolicyException'],
      ['policies.kyverno.io', 'somefuturepolicies', 'SomeFuturePolicy'],
      ['constraints.gatekeeper.sh', 'k8sanything', 'K8sAnything'],
      ['templates.gatekeeper.sh', 'constrainttemplates', 'ConstraintTemplate'],
      ['mutations.gatekeeper.sh', 'somefuturemutators', 'SomeFutureMutator'],
      ['cilium.io', 'ciliumnetworkpolicies', 'CiliumNetworkPolicy'],
      ['cilium.io', 'ciliumclusterwidenetworkpolicies', 'CiliumClusterwideNetworkPolicy'],
      ['security.istio.io', 'authorizationpolicies', 'AuthorizationPolicy'],
      ['security.istio.io', 'peerauthentications', 'PeerAuthentication'],
      ['security.istio.io', 'requestauthentications', 'RequestAuthentication'],
      ['networking.istio.io', 'sidecars', 'Sidecar'],
    ];
    const sel = selectResources({
      resources: old.map(([g, r, k]) => res(g, 'v1', r, k)),
      preferredVersions: new Map(),
      crds: [],
      known: knownPolicyResources(packs),
      profiles: [],
    }).selected;
    const known = sel.filter((s) => s.reasons.includes('known')).map((s) => `${s.gvr.group}/${s.gvr.resource}`);
    expect(known.sort()).toEqual(old.map(([g, r]) => `${g}/${r}`).sort());
  });

  it('servedVersion says whether a target is served and at which version', () => {
    expect(servedVersion(base.resources, base.preferredVersions, { group: 'constraints.gatekeeper.sh', resource: 'k8srequiredlabels' })).toBe('v1beta1');
    expect(servedVersion(base.resources, base.preferredVersions, { group: 'constraints.gatekeeper.sh', resource: 'k8srequiredlabels', version: 'v1' })).toBe('v1');
    expect(servedVersion(base.resources, base.preferredVersions, { group: 'ghost.io', resource: 'ghosts' })).toBeUndefined();
  });
});
