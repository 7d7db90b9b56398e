// Bad input for the admission adapters: policies from other API versions, with unknown
// fields, half-written or with wrong types anywhere. Never a crash, never a silent drop:
// every policy object yields a constraint, a reported skip or a per-object problem.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { KubeObject } from '../../engine/model.js';
import { analyzeObjects } from '../../engine/analyzer.js';
import { objectRef } from '../../engine/stages/adapt.js';
import { loadAllPacks } from '../../runtime/packs.js';
import type { CompiledPack } from '../../engine/pack/loader.js';

let packsP: Promise<CompiledPack[]> | undefined;
const packs = (): Promise<CompiledPack[]> => (packsP ??= loadAllPacks().then((r) => r.packs));

const SEEDS: KubeObject[] = [
  {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'kp', annotations: { 'pod-policies.kyverno.io/autogen-controllers': 'Deployment' } },
    spec: {
      validationFailureAction: 'Enforce',
      validationFailureActionOverrides: [{ action: 'Audit', namespaces: ['dev'] }],
      rules: [
        {
          name: 'r',
          match: { any: [{ resources: { kinds: ['Pod'], namespaces: ['a'], selector: { matchLabels: { app: 'x' } }, operations: ['CREATE'] } }] },
          exclude: { all: [{ resources: { names: ['x-*'] } }, { subjects: [{ kind: 'User', name: 'u' }] }] },
          validate: { failureAction: 'Audit', message: 'm', pattern: { spec: {} } },
        },
        { name: 'g', match: { resources: { kinds: ['Namespace'] } }, generate: { kind: 'ConfigMap', name: 'c', data: {} } },
        { name: 'v', match: { any: [{ resources: { kinds: ['Pod'] } }] }, verifyImages: [{ imageReferences: ['*'], failureAction: 'Enforce' }] },
      ],
    },
  },
  {
    apiVersion: 'kyverno.io/v1',
    kind: 'Policy',
    metadata: { name: 'np', namespace: 'shop' },
    spec: { rules: [{ name: 'r', match: { all: [{ resources: { kinds: ['apps/v1/Deployment'] } }] }, mutate: { patchStrategicMerge: {} } }] },
  },
  {
    apiVersion: 'kyverno.io/v2',
    kind: 'PolicyException',
    metadata: { name: 'ex', namespace: 'kyverno' },
    spec: { exceptions: [{ policyName: 'kp', ruleNames: ['r'] }], match: { any: [{ resources: { kinds: ['Pod'], namespaces: ['a'] } }] } },
  },
  {
    apiVersion: 'kyverno.io/v2',
    kind: 'ClusterCleanupPolicy',
    metadata: { name: 'cp' },
    spec: { schedule: '* * * * *', match: { any: [{ resources: { kinds: ['Pod'] } }] } },
  },
  {
    apiVersion: 'policies.kyverno.io/v1',
    kind: 'ValidatingPolicy',
    metadata: { name: 'vp' },
    spec: {
      validationActions: ['Deny'],
      matchConstraints: { namespaceSelector: { matchLabels: { a: 'b' } }, resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] },
      validations: [{ expression: 'true', message: 'm' }],
    },
  },
  {
    apiVersion: 'constraints.gatekeeper.sh/v1beta1',
    kind: 'K8sRequiredLabels',
    metadata: { name: 'gk' },
    spec: {
      enforcementAction: 'scoped',
      scopedEnforcementActions: [{ action: 'warn', enforcementPoints: [{ name: 'validation.gatekeeper.sh' }] }],
      match: { kinds: [{ apiGroups: [''], kinds: ['Pod'] }], excludedNamespaces: ['kube-*'], labelSelector: { matchLabels: { a: 'b' } } },
      parameters: { labels: ['owner'] },
    },
  },
  {
    apiVersion: 'templates.gatekeeper.sh/v1',
    kind: 'ConstraintTemplate',
    metadata: { name: 'k8srequiredlabels', annotations: { description: 'd' } },
    spec: { crd: { spec: { names: { kind: 'K8sRequiredLabels' } } }, targets: [{ target: 'admission.k8s.gatekeeper.sh', rego: 'package x' }] },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: 'vap' },
    spec: { paramKind: { apiVersion: 'v1', kind: 'ConfigMap' }, matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['deployments'] }] }, validations: [{ expression: 'true' }] },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: 'vapb' },
    spec: { policyName: 'vap', validationActions: ['Deny', 'Audit'], paramRef: { name: 'p', namespace: 'x' }, matchResources: { objectSelector: { matchLabels: { a: 'b' } } } },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1beta1',
    kind: 'MutatingAdmissionPolicyBinding',
    metadata: { name: 'mapb' },
    spec: { policyName: 'map' },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1beta1',
    kind: 'MutatingAdmissionPolicy',
    metadata: { name: 'map' },
    spec: { matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] } },
  },
  {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'psa', labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn-version': 'v1.30' } },
  },
];

const JUNK: unknown[] = [null, 0, 42, -1, 1.5, '', 'x', '*', true, false, [], {}, [null], [1, 'a'], { a: { b: null } }, [{}], 'Enforce', ['*']];

/** Every path below the object's root, except what makes it an object at all. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...at, i], ...paths(x, [...at, i])));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const p = [...at, k];
      if (p.join('.') === 'apiVersion' || p.join('.') === 'kind' || p.join('.') === 'metadata.name' || (p[0] === 'metadata' && p.length === 1)) {
        if (p[0] === 'metadata') out.push(...paths(x, p).filter((q) => q.join('.') !== 'metadata.name'));
        continue;
      }
      out.push(p, ...paths(x, p));
    }
  }
  return out;
}

function mutate(obj: KubeObject, path: (string | number)[], value: unknown, remove: boolean): KubeObject {
  const copy = structuredClone(obj) as Record<string | number, unknown>;
  let cur: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (remove && !Array.isArray(cur)) delete cur[last];
  else cur[last] = structuredClone(value);
  return copy as KubeObject;
}

const mutationArb = fc.record({
  seed: fc.nat(SEEDS.length - 1),
  edits: fc.array(fc.record({ pick: fc.nat(), junk: fc.constantFrom(...JUNK), remove: fc.boolean() }), { minLength: 1, maxLength: 3 }),
  version: fc.constantFrom(undefined, 'v9', 'v1alpha7'),
});

describe('admission adapters on broken policies', () => {
  it('never crash and never drop an object silently', async () => {
    const all = await packs();
    // Objects the check below looked at: rejected inputs are skipped, so count the rest,
    // lest a parser that rejected everything pass vacuously.
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArb, { minLength: 1, maxLength: 4 }), async (muts) => {
        const objects = muts.map((m, i) => {
          let o = structuredClone(SEEDS[m.seed] as KubeObject);
          for (const e of m.edits) {
            const ps = paths(o);
            if (ps.length === 0) break;
            o = mutate(o, ps[e.pick % ps.length] as (string | number)[], e.junk, e.remove);
          }
          if (m.version) o.apiVersion = (o.apiVersion as string).replace(/v[0-9a-z]+$/, m.version);
          // Distinct names so each object's outputs can be told apart.
          o.metadata = { ...(o.metadata ?? {}), name: `${o.metadata?.name ?? 'x'}-${i}` };
          return o;
        });
        // The seeds unmodified alongside, so cross-object reads (binding -> policy) happen.
        const an = await analyzeObjects([...objects, ...SEEDS].map((object) => ({ object, file: 'fuzz.yaml', line: 1 })), all);
        const problems = an.problems();
        for (const o of objects) {
          const ref = objectRef(o);
          const constraints = an.allConstraints().filter((c) => c.source.kind === o.kind && c.source.name === o.metadata?.name);
          const skips = an.skipped().filter((s) => s.object === ref);
          const mine = problems.filter((p) => p.object === ref);
          const rejected = an.inputProblems.some((p) => p.object === ref);
          const psaless = o.kind === 'Namespace' && !Object.keys((o.metadata?.labels as Record<string, string> | undefined) ?? {}).some((k) => /^pod-security\.kubernetes\.io\/(enforce|warn|audit)$/.test(k));
          if (psaless || rejected) continue;
          checked++;
          expect(constraints.length + skips.length + mine.length, `${ref}: ${JSON.stringify(o)}`).toBeGreaterThan(0);
        }
      }),
      { numRuns: 150 },
    );
    expect(checked).toBeGreaterThan(150);
  });
});
