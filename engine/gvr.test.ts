import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  KNOWN_KINDS,
  formatApiVersion,
  gvkOf,
  gvrKey,
  gvrOf,
  kindForResource,
  kindInfo,
  namespacedKey,
  objectKey,
  parseApiVersion,
  parseGvrKey,
  pluralize,
  resolveKind,
  toGvr,
} from './gvr.js';

const segment = fc.stringMatching(/^[a-z][a-z0-9.-]{0,12}$/);

describe('apiVersion', () => {
  it('parses core and named groups', () => {
    expect(parseApiVersion('v1')).toEqual({ group: '', version: 'v1' });
    expect(parseApiVersion('apps/v1')).toEqual({ group: 'apps', version: 'v1' });
    expect(parseApiVersion('networking.k8s.io/v1')).toEqual({ group: 'networking.k8s.io', version: 'v1' });
  });

  it('rejects malformed values', () => {
    for (const bad of ['', 'a/b/c', '/v1', 'apps/']) expect(parseApiVersion(bad)).toBeUndefined();
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(fc.option(segment, { nil: '' }), segment, (group, version) => {
        expect(parseApiVersion(formatApiVersion(group, version))).toEqual({ group, version });
      }),
    );
  });
});

describe('gvrKey', () => {
  it('writes the core group as apiVersion/resource', () => {
    expect(gvrKey({ group: '', version: 'v1', resource: 'pods' })).toBe('v1/pods');
    expect(gvrKey({ group: 'apps', version: 'v1', resource: 'deployments' })).toBe('apps/v1/deployments');
  });

  it('round-trips, and accepts /v1/pods', () => {
    fc.assert(
      fc.property(fc.option(segment, { nil: '' }), segment, segment, (group, version, resource) => {
        const gvr = { group, version, resource };
        expect(parseGvrKey(gvrKey(gvr))).toEqual(gvr);
      }),
    );
    expect(parseGvrKey('/v1/pods')).toEqual({ group: '', version: 'v1', resource: 'pods' });
    expect(parseGvrKey('pods')).toBeUndefined();
    expect(parseGvrKey('a/b/c/d')).toBeUndefined();
    expect(parseGvrKey('apps//deployments')).toBeUndefined();
  });

  it('toGvr accepts both shapes and refuses malformed ones', () => {
    expect(toGvr('apps/v1/deployments')).toEqual({ group: 'apps', version: 'v1', resource: 'deployments' });
    expect(toGvr({ group: '', version: 'v1', resource: 'pods' })).toEqual({ group: '', version: 'v1', resource: 'pods' });
    expect(toGvr({ group: '', version: '', resource: 'pods' })).toBeUndefined();
    expect(toGvr('nope')).toBeUndefined();
  });
});

describe('kind table', () => {
  it('knows the kinds the adapters need, with their scope', () => {
    const expectKind = (group: string, kind: string, resource: string, namespaced: boolean): void => {
      expect(kindInfo(group, kind), `${group}/${kind}`).toMatchObject({ resource, namespaced });
    };
    expectKind('', 'Pod', 'pods', true);
    expectKind('', 'Namespace', 'namespaces', false);
    expectKind('', 'ResourceQuota', 'resourcequotas', true);
    expectKind('', 'LimitRange', 'limitranges', true);
    expectKind('', 'ReplicationController', 'replicationcontrollers', true);
    expectKind('apps', 'Deployment', 'deployments', true);
    expectKind('batch', 'CronJob', 'cronjobs', true);
    expectKind('networking.k8s.io', 'NetworkPolicy', 'networkpolicies', true);
    expectKind('networking.k8s.io', 'Ingress', 'ingresses', true);
    expectKind('admissionregistration.k8s.io', 'ValidatingAdmissionPolicyBinding', 'validatingadmissionpolicybindings', false);
    expectKind('admissionregistration.k8s.io', 'MutatingAdmissionPolicy', 'mutatingadmissionpolicies', false);
    expectKind('admissionregistration.k8s.io', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', false);
    expectKind('policy.networking.k8s.io', 'BaselineAdminNetworkPolicy', 'baselineadminnetworkpolicies', false);
    expectKind('cilium.io', 'CiliumNetworkPolicy', 'ciliumnetworkpolicies', true);
    expectKind('cilium.io', 'CiliumClusterwideNetworkPolicy', 'ciliumclusterwidenetworkpolicies', false);
    expectKind('kyverno.io', 'ClusterPolicy', 'clusterpolicies', false);
    expectKind('kyverno.io', 'Policy', 'policies', true);
    expectKind('policies.kyverno.io', 'ValidatingPolicy', 'validatingpolicies', false);
    expectKind('security.istio.io', 'AuthorizationPolicy', 'authorizationpolicies', true);
    expectKind('networking.istio.io', 'Gateway', 'gateways', true);
    expectKind('monitoring.coreos.com', 'ServiceMonitor', 'servicemonitors', true);
    expectKind('cert-manager.io', 'ClusterIssuer', 'clusterissuers', false);
    expectKind('templates.gatekeeper.sh', 'ConstraintTemplate', 'constrainttemplates', false);
    expectKind('coordination.k8s.io', 'Lease', 'leases', true);
  });

  it('is consistent both ways', () => {
    for (const k of KNOWN_KINDS) {
      expect(kindInfo(k.group, k.kind)).toBe(k);
      expect(kindForResource(k.group, k.resource)).toBe(k);
      expect(k.resource).toBe(k.resource.toLowerCase());
    }
  });
});

describe('pluralize', () => {
  it('follows the English rules CRD generators use', () => {
    expect(pluralize('Widget')).toBe('widgets');
    expect(pluralize('Policy')).toBe('policies');
    expect(pluralize('Gateway')).toBe('gateways');
    expect(pluralize('Ingress')).toBe('ingresses');
    expect(pluralize('Box')).toBe('boxes');
    expect(pluralize('Match')).toBe('matches');
    expect(pluralize('Mesh')).toBe('meshes');
  });

  it('agrees with the table for regular kinds', () => {
    // The table's irregular or convention-bound entries (Endpoints, Gatekeeper mutators,
    // Prometheus) are exactly what the table is for.
    const irregular = new Set(['Endpoints', 'Assign', 'AssignMetadata', 'ModifySet', 'AssignImage', 'Prometheus']);
    for (const k of KNOWN_KINDS) if (!irregular.has(k.kind)) expect(pluralize(k.kind), k.kind).toBe(k.resource);
  });

  it('always yields a lowercase name', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,20}$/), (kind) => {
        const p = pluralize(kind);
        expect(p).toBe(p.toLowerCase());
        expect(p.startsWith(kind.toLowerCase().slice(0, -1))).toBe(true);
      }),
    );
  });
});

describe('resolveKind', () => {
  it('uses the table, then conventions, then a guess', () => {
    expect(resolveKind({ group: 'apps', version: 'v1beta2', kind: 'Deployment' })).toEqual({
      gvr: { group: 'apps', version: 'v1beta2', resource: 'deployments' },
      kind: 'Deployment',
      namespaced: true,
      known: true,
    });
    expect(resolveKind({ group: 'constraints.gatekeeper.sh', version: 'v1beta1', kind: 'K8sRequiredLabels' })).toEqual({
      gvr: { group: 'constraints.gatekeeper.sh', version: 'v1beta1', resource: 'k8srequiredlabels' },
      kind: 'K8sRequiredLabels',
      namespaced: false,
      known: true,
    });
    expect(resolveKind({ group: 'example.com', version: 'v1', kind: 'Widget' })).toEqual({
      gvr: { group: 'example.com', version: 'v1', resource: 'widgets' },
      kind: 'Widget',
      namespaced: undefined,
      known: false,
    });
  });

  it('reads objects', () => {
    expect(gvkOf({ apiVersion: 'apps/v1', kind: 'Deployment' })).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect(gvrOf({ apiVersion: 'v1', kind: 'Pod' })).toEqual({ group: '', version: 'v1', resource: 'pods' });
    expect(gvrOf({ apiVersion: 'v1' })).toBeUndefined();
    expect(gvrOf({ apiVersion: 'a/b/c', kind: 'X' })).toBeUndefined();
  });
});

describe('objectKey', () => {
  it('is namespace/name, or name when cluster-scoped', () => {
    expect(objectKey({ metadata: { namespace: 'a', name: 'b' } })).toBe('a/b');
    expect(objectKey({ metadata: { name: 'b' } })).toBe('b');
    expect(objectKey({ metadata: { namespace: '', name: 'b' } })).toBe('b');
    expect(namespacedKey(undefined, 'x')).toBe('x');
  });
});
