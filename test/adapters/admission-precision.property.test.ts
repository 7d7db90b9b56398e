// Precision (and recall) of the admission adapters on generated policies and resources:
// for each engine's match grammar, a resource whose kind, namespace or labels fall
// outside the policy's match is reported as not affected, and one inside is affected.
// The expected verdicts come from small reference matchers written here from each
// engine's documented semantics, independent of engine/scope.ts.
//
// Pod controllers are reached through the pods they create (a Pod rule affects a
// Deployment), so the references check a Deployment twice: as itself and as its pods.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { KubeObject } from '../../engine/model.js';
import { analyzeObjects } from '../../engine/analyzer.js';
import { evaluateScope } from '../../engine/scope.js';
import { gvrOf } from '../../engine/gvr.js';
import { objectTarget } from '../../engine/store/workloads.js';
import { loadAllPacks } from '../../runtime/packs.js';
import type { CompiledPack } from '../../engine/pack/loader.js';

let packsP: Promise<CompiledPack[]> | undefined;
const packs = (): Promise<CompiledPack[]> => (packsP ??= loadAllPacks().then((r) => r.packs));

// ---------------------------------------------------------------------------------
// Generated resources
// ---------------------------------------------------------------------------------

const NAMESPACES = ['a', 'b', 'team-x', 'kube-system'] as const;
const NS_LABELS: Record<string, Record<string, string>> = {
  a: { env: 'prod' },
  b: { env: 'dev' },
  'team-x': { env: 'prod', team: 'x' },
  'kube-system': {},
};

interface Res {
  kind: 'Pod' | 'Service' | 'ConfigMap' | 'Deployment' | 'ClusterRole';
  namespace: string | undefined;
  labels: Record<string, string>;
  name: string;
}

const KIND_INFO: Record<Res['kind'], { apiVersion: string; group: string; resource: string; namespaced: boolean }> = {
  Pod: { apiVersion: 'v1', group: '', resource: 'pods', namespaced: true },
  Service: { apiVersion: 'v1', group: '', resource: 'services', namespaced: true },
  ConfigMap: { apiVersion: 'v1', group: '', resource: 'configmaps', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', group: 'apps', resource: 'deployments', namespaced: true },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespaced: false },
};

const labelsArb = fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('web', 'db'), { maxKeys: 2 });

const resArb: fc.Arbitrary<Res> = fc
  .record({
    kind: fc.constantFrom<Res['kind']>('Pod', 'Service', 'ConfigMap', 'Deployment', 'ClusterRole'),
    namespace: fc.constantFrom(...NAMESPACES),
    labels: labelsArb,
    name: fc.constantFrom('web', 'db-0', 'api'),
  })
  .map((r) => ({ ...r, namespace: KIND_INFO[r.kind].namespaced ? r.namespace : undefined }));

function toObject(r: Res): KubeObject {
  const md: Record<string, unknown> = { name: r.name, labels: r.labels };
  if (r.namespace) md.namespace = r.namespace;
  const obj: KubeObject = { apiVersion: KIND_INFO[r.kind].apiVersion, kind: r.kind, metadata: md };
  // The template carries the same labels, so "its pods" differ from it only in kind.
  if (r.kind === 'Deployment') obj.spec = { selector: { matchLabels: r.labels }, template: { metadata: { labels: r.labels }, spec: { containers: [{ name: 'c', image: 'x' }] } } };
  return obj;
}

/** The views a reference judges: the resource itself and, for a Deployment, its pods. */
function views(r: Res): Res[] {
  return r.kind === 'Deployment' ? [r, { ...r, kind: 'Pod', name: r.name + '-abc12' }] : [r];
}

function potooApplies(constraints: { scope: Parameters<typeof evaluateScope>[0] }[], r: Res, operation = 'CREATE'): boolean {
  const obj = toObject(r);
  const gvr = gvrOf(obj);
  if (!gvr) throw new Error('gvr');
  const t = objectTarget(gvr, obj, r.namespace ? { 'kubernetes.io/metadata.name': r.namespace, ...NS_LABELS[r.namespace] } : {}, operation);
  return constraints.some((c) => evaluateScope(c.scope, t).applies);
}

const glob = (p: string, v: string): boolean => (p.endsWith('*') ? v.startsWith(p.slice(0, -1)) : p === v);
const labelsMatch = (sel: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  sel === undefined || Object.entries(sel).every(([k, v]) => labels[k] === v);

async function adapt(objects: KubeObject[]) {
  const an = await analyzeObjects(
    objects.map((object) => ({ object, file: 'gen.yaml', line: 1 })),
    await packs(),
  );
  expect(an.problems()).toEqual([]);
  return an.allConstraints();
}

const RUNS = { numRuns: 60 };

// ---------------------------------------------------------------------------------
// Kyverno ClusterPolicy: match.any filters, exclude.any filters
// ---------------------------------------------------------------------------------

interface KFilter {
  kinds: string[];
  namespaces?: string[];
  selector?: Record<string, string>;
}
const kFilterArb: fc.Arbitrary<KFilter> = fc.record(
  {
    kinds: fc.subarray(['Pod', 'Service', 'apps/v1/Deployment', 'ClusterRole', '*'], { minLength: 1, maxLength: 2 }),
    namespaces: fc.subarray(['a', 'b', 'team-*'], { minLength: 1, maxLength: 2 }),
    selector: fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('web', 'db'), { minKeys: 1, maxKeys: 1 }),
  },
  { requiredKeys: ['kinds'] },
);
const kExcludeArb = fc.record(
  {
    namespaces: fc.subarray(['a', 'kube-system'], { minLength: 1, maxLength: 1 }),
    selector: fc.dictionary(fc.constantFrom('app'), fc.constantFrom('db'), { minKeys: 1, maxKeys: 1 }),
  },
  { requiredKeys: [] },
).filter((x) => Object.keys(x).length > 0);

function kyvernoKindMatches(sel: string, r: Res): boolean {
  if (sel === '*') return true;
  const parts = sel.split('/');
  const kind = parts[parts.length - 1];
  const group = parts.length === 3 ? parts[0] : undefined;
  return kind === r.kind && (group === undefined || group === KIND_INFO[r.kind].group);
}

/** Kyverno: every field of a filter must hold; `namespaces` never holds without a namespace. */
function kyvernoFilter(f: { kinds?: string[]; namespaces?: string[]; selector?: Record<string, string> }, r: Res): boolean {
  if (f.kinds && !f.kinds.some((k) => kyvernoKindMatches(k, r))) return false;
  if (f.namespaces && !(r.namespace !== undefined && f.namespaces.some((p) => glob(p, r.namespace!)))) return false;
  return labelsMatch(f.selector, r.labels);
}

describe('Kyverno match grammar: precision on generated resources', () => {
  it('a resource is affected exactly when a match filter holds and no exclude filter does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(kFilterArb, { minLength: 1, maxLength: 2 }), fc.array(kExcludeArb, { maxLength: 1 }), fc.array(resArb, { minLength: 1, maxLength: 6 }), async (any, excl, resources) => {
        const policy: KubeObject = {
          apiVersion: 'kyverno.io/v1',
          kind: 'ClusterPolicy',
          metadata: { name: 'gen' },
          spec: {
            validationFailureAction: 'Enforce',
            rules: [
              {
                name: 'r',
                match: { any: any.map((f) => ({ resources: { kinds: f.kinds, ...(f.namespaces ? { namespaces: f.namespaces } : {}), ...(f.selector ? { selector: { matchLabels: f.selector } } : {}) } })) },
                ...(excl.length ? { exclude: { any: excl.map((f) => ({ resources: { ...(f.namespaces ? { namespaces: f.namespaces } : {}), ...(f.selector ? { selector: { matchLabels: f.selector } } : {}) } })) } } : {}),
                validate: { message: 'm', pattern: {} },
              },
            ],
          },
        };
        const constraints = (await adapt([policy])).filter((c) => c.source.name === 'gen');
        expect(constraints).toHaveLength(1);
        for (const r of resources) {
          const expected = views(r).some((v) => any.some((f) => kyvernoFilter(f, v)) && !excl.some((f) => kyvernoFilter(f, v)));
          expect(potooApplies(constraints, r), `${JSON.stringify(r)} vs ${JSON.stringify({ any, excl })}`).toBe(expected);
        }
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------
// Gatekeeper constraint match
// ---------------------------------------------------------------------------------

const gkMatchArb = fc.record(
  {
    kinds: fc.array(fc.record({ apiGroups: fc.subarray(['', 'apps', '*'], { minLength: 1, maxLength: 2 }), kinds: fc.subarray(['Pod', 'Service', 'Deployment', 'ClusterRole'], { minLength: 1, maxLength: 2 }) }), { minLength: 1, maxLength: 2 }),
    namespaces: fc.subarray(['a', 'team-*'], { minLength: 1, maxLength: 2 }),
    excludedNamespaces: fc.subarray(['b', 'kube-*'], { minLength: 1, maxLength: 2 }),
    labelSelector: fc.dictionary(fc.constantFrom('app'), fc.constantFrom('web', 'db'), { minKeys: 1, maxKeys: 1 }),
    namespaceSelector: fc.dictionary(fc.constantFrom('env'), fc.constantFrom('prod'), { minKeys: 1, maxKeys: 1 }),
    scope: fc.constantFrom('Cluster', 'Namespaced', '*'),
  },
  { requiredKeys: ['kinds'] },
);

/** Gatekeeper: a cluster-scoped object is never disqualified by namespace fields. */
type GkMatch = typeof gkMatchArb extends fc.Arbitrary<infer T> ? T : never;
function gatekeeperMatch(m: GkMatch, r: Res): boolean {
  const g = KIND_INFO[r.kind].group;
  if (!m.kinds.some((k) => (k.apiGroups.includes('*') || k.apiGroups.includes(g)) && k.kinds.includes(r.kind))) return false;
  const ns = r.namespace;
  if (m.scope === 'Cluster' && ns !== undefined) return false;
  if (m.scope === 'Namespaced' && ns === undefined) return false;
  if (ns !== undefined && m.namespaces && !m.namespaces.some((p) => glob(p, ns))) return false;
  if (ns !== undefined && m.excludedNamespaces && m.excludedNamespaces.some((p) => glob(p, ns))) return false;
  if (ns !== undefined && m.namespaceSelector && !labelsMatch(m.namespaceSelector, NS_LABELS[ns] ?? {})) return false;
  return labelsMatch(m.labelSelector, r.labels);
}

describe('Gatekeeper match grammar: precision on generated resources', () => {
  it('a resource is affected exactly when the match holds for it (or its pods)', async () => {
    await fc.assert(
      fc.asyncProperty(gkMatchArb, fc.array(resArb, { minLength: 1, maxLength: 6 }), async (m, resources) => {
        const match: Record<string, unknown> = { kinds: m.kinds };
        if (m.namespaces) match.namespaces = m.namespaces;
        if (m.excludedNamespaces) match.excludedNamespaces = m.excludedNamespaces;
        if (m.labelSelector) match.labelSelector = { matchLabels: m.labelSelector };
        if (m.namespaceSelector) match.namespaceSelector = { matchLabels: m.namespaceSelector };
        if (m.scope) match.scope = m.scope;
        const constraints = await adapt([{ apiVersion: 'constraints.gatekeeper.sh/v1beta1', kind: 'K8sGen', metadata: { name: 'gen' }, spec: { match } }]);
        expect(constraints).toHaveLength(1);
        for (const r of resources) {
          const expected = views(r).some((v) => gatekeeperMatch(m, v));
          expect(potooApplies(constraints, r), `${JSON.stringify(r)} vs ${JSON.stringify(match)}`).toBe(expected);
        }
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------
// ValidatingAdmissionPolicy + binding, and Kyverno's ValidatingPolicy (same MatchResources)
// ---------------------------------------------------------------------------------

const RESOURCES: Record<string, Res['kind']> = { pods: 'Pod', services: 'Service', configmaps: 'ConfigMap', deployments: 'Deployment', clusterroles: 'ClusterRole' };
const GROUP_OF: Record<string, string> = { pods: '', services: '', configmaps: '', deployments: 'apps', clusterroles: 'rbac.authorization.k8s.io' };
const rulesArb = fc.subarray(Object.keys(RESOURCES), { minLength: 1, maxLength: 3 });
const envArb = fc.option(fc.constantFrom('prod', 'dev'), { nil: undefined });
const objSelArb = fc.option(fc.constantFrom('web', 'db'), { nil: undefined });

/** Admission MatchResources: a rule holds; namespaceSelector does not apply to cluster-scoped objects. */
function admissionMatch(resources: string[], env: string | undefined, app: string | undefined, r: Res): boolean {
  if (!resources.some((x) => RESOURCES[x] === r.kind)) return false;
  if (env && r.namespace !== undefined && NS_LABELS[r.namespace]?.env !== env) return false;
  return app === undefined || r.labels.app === app;
}

function ruleList(resources: string[]) {
  const groups = [...new Set(resources.map((x) => GROUP_OF[x] as string))];
  return groups.map((g) => ({ apiGroups: [g], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: resources.filter((x) => GROUP_OF[x] === g) }));
}

describe('ValidatingAdmissionPolicy + binding and Kyverno ValidatingPolicy: precision on generated resources', () => {
  it('a binding affects exactly the resources both the policy and the binding match', async () => {
    await fc.assert(
      fc.asyncProperty(rulesArb, objSelArb, envArb, fc.array(resArb, { minLength: 1, maxLength: 6 }), async (resources, app, env, objs) => {
        const policy: KubeObject = {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingAdmissionPolicy',
          metadata: { name: 'gen' },
          spec: { matchConstraints: { resourceRules: ruleList(resources), ...(app ? { objectSelector: { matchLabels: { app } } } : {}) }, validations: [{ expression: 'true' }] },
        };
        const binding: KubeObject = {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingAdmissionPolicyBinding',
          metadata: { name: 'gen-binding' },
          spec: { policyName: 'gen', validationActions: ['Deny'], ...(env ? { matchResources: { namespaceSelector: { matchLabels: { env } } } } : {}) },
        };
        const constraints = await adapt([policy, binding]);
        expect(constraints.map((c) => c.source.name)).toEqual(['gen-binding']);
        for (const r of objs) {
          const expected = views(r).some((v) => admissionMatch(resources, env, app, v));
          expect(potooApplies(constraints, r), `${JSON.stringify(r)} vs ${JSON.stringify({ resources, app, env })}`).toBe(expected);
        }
      }),
      RUNS,
    );
  });

  it('a ValidatingPolicy affects exactly what its matchConstraints match', async () => {
    await fc.assert(
      fc.asyncProperty(rulesArb, objSelArb, envArb, fc.array(resArb, { minLength: 1, maxLength: 6 }), async (resources, app, env, objs) => {
        const policy: KubeObject = {
          apiVersion: 'policies.kyverno.io/v1',
          kind: 'ValidatingPolicy',
          metadata: { name: 'gen' },
          spec: {
            validationActions: ['Deny'],
            matchConstraints: {
              resourceRules: ruleList(resources),
              ...(app ? { objectSelector: { matchLabels: { app } } } : {}),
              ...(env ? { namespaceSelector: { matchLabels: { env } } } : {}),
            },
            validations: [{ expression: 'true' }],
          },
        };
        const constraints = await adapt([policy]);
        expect(constraints).toHaveLength(1);
        for (const r of objs) {
          const expected = views(r).some((v) => admissionMatch(resources, env, app, v));
          expect(potooApplies(constraints, r), `${JSON.stringify(r)} vs ${JSON.stringify({ resources, app, env })}`).toBe(expected);
        }
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------
// Pod Security Admission
// ---------------------------------------------------------------------------------

describe('Pod Security Admission: precision on generated resources', () => {
  it('enforce affects pods (and controllers through them) in the labelled namespace only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...NAMESPACES), fc.constantFrom('enforce', 'warn', 'audit'), fc.array(resArb, { minLength: 1, maxLength: 6 }), async (ns, mode, objs) => {
        const constraints = await adapt([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [`pod-security.kubernetes.io/${mode}`]: 'restricted' } } }]);
        expect(constraints).toHaveLength(1);
        for (const r of objs) {
          const expected = r.namespace === ns && (r.kind === 'Pod' || r.kind === 'Deployment');
          expect(potooApplies(constraints, r), `${JSON.stringify(r)} vs ${ns}/${mode}`).toBe(expected);
        }
      }),
      RUNS,
    );
  });
});
