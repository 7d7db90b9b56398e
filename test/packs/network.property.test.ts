// Precision (and recall) of the network and mesh adapters' match grammars, as properties
// over generated pods, namespaces and selectors: a pod outside a policy's endpoint
// selector, workload selector or namespace is not affected, and a pod inside is. Peer
// grammars likewise: traffic from a pod outside a rule's peer selector or namespace is not
// allowed by that rule. Each property compares the adapter's verdict with a direct
// restatement of the engine's documented semantics.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { analyzeObjects } from '../../engine/analyzer.js';
import type { KubeObject, LabelSelector, LabelSelectorRequirement } from '../../engine/model.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import { evaluateTraffic, resolveEndpoint } from '../../engine/traffic.js';
import { loadPackFiles } from '../../runtime/packs.js';

const ROOT = join(__dirname, '..', '..');
const PACK_FILES = ['networkpolicy.yaml', 'cilium.yaml', 'adminnetworkpolicy.yaml', 'istio.yaml'].map((f) => join(ROOT, 'adapters', f));

const KEYS = ['app', 'tier', 'env'];
const VALUES = ['web', 'api', 'db'];
const NAMESPACES = ['a', 'b', 'c'];

const labelsArb = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 3 });
const requirementArb: fc.Arbitrary<LabelSelectorRequirement> = fc.oneof(
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom('In' as const, 'NotIn' as const), values: fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 2 }) }),
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
);
const selectorArb: fc.Arbitrary<LabelSelector> = fc.record({ matchLabels: labelsArb, matchExpressions: fc.array(requirementArb, { maxLength: 2 }) }, { requiredKeys: [] });
const nsLabelsArb = fc.record({ a: labelsArb, b: labelsArb, c: labelsArb });

/** apimachinery's LabelSelectorAsSelector, restated. */
function ref(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const r of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const inV = has && (r.values ?? []).includes(labels[r.key] as string);
    const ok = r.operator === 'In' ? inV : r.operator === 'NotIn' ? !inV : r.operator === 'Exists' ? has : !has;
    if (!ok) return false;
  }
  return true;
}

function subset(want: Record<string, string>, have: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

function pod(namespace: string, name: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels }, spec: { containers: [{ name: 'c', image: 'x' }] } };
}

function namespaces(labels: Record<string, Record<string, string>>): KubeObject[] {
  return NAMESPACES.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n, labels: labels[n] ?? {} } }));
}

/** Cilium writes label keys with a source prefix, or none; all three mean the pod label. */
function ciliumKeys(sel: LabelSelector, prefix: string, lowerOps: boolean): Record<string, unknown> {
  const ml: Record<string, string> = {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) ml[prefix + k] = v;
  const out: Record<string, unknown> = { matchLabels: ml };
  if (sel.matchExpressions?.length) out.matchExpressions = sel.matchExpressions.map((r) => ({ ...r, key: prefix + r.key, operator: lowerOps ? r.operator.toLowerCase() : r.operator }));
  return out;
}

let packsP: Promise<CompiledPack[]> | undefined;
function packs(): Promise<CompiledPack[]> {
  packsP ??= loadPackFiles(PACK_FILES).then((r) => {
    if (r.problems.some((p) => p.severity === 'error')) throw new Error(r.problems.map((p) => p.message).join('\n'));
    return r.packs;
  });
  return packsP;
}

async function applies(objects: KubeObject[], podNs: string, policyName: string): Promise<boolean> {
  const a = await analyzeObjects(objects.map((object, i) => ({ object, file: `gen[${i}]`, line: 0 })), await packs());
  expect(a.problems()).toEqual([]);
  const w = a.workloads.find('Pod', podNs, 'p');
  if (!w) throw new Error('generated pod missing');
  return a.applicableTo(w).some((x) => x.constraint.source.name === policyName);
}

async function allowed(objects: KubeObject[], from: string, to: string, port: number): Promise<boolean> {
  const a = await analyzeObjects(objects.map((object, i) => ({ object, file: `gen[${i}]`, line: 0 })), await packs());
  expect(a.problems()).toEqual([]);
  const s = resolveEndpoint(a, from);
  const d = resolveEndpoint(a, to);
  if (!s.ok || !d.ok) throw new Error('unresolved endpoint');
  return evaluateTraffic(a, { src: s.endpoint, dst: d.endpoint, port }).allowed;
}

const RUNS = { numRuns: 40 };

describe('subject selection: exactly the selected pods are affected', () => {
  it('NetworkPolicy: podSelector in the policy namespace', async () => {
    await fc.assert(
      fc.asyncProperty(selectorArb, fc.constantFrom(...NAMESPACES), fc.constantFrom(...NAMESPACES), labelsArb, async (sel, policyNs, podNs, labels) => {
        const np = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np', namespace: policyNs }, spec: { podSelector: sel, policyTypes: ['Ingress'] } };
        expect(await applies([np, pod(podNs, 'p', labels)], podNs, 'np')).toBe(podNs === policyNs && ref(sel, labels));
      }),
      RUNS,
    );
  });

  it('CiliumNetworkPolicy: endpointSelector with k8s:/any:/no source prefix, any operator case', async () => {
    await fc.assert(
      fc.asyncProperty(selectorArb, fc.constantFrom('', 'k8s:', 'any:'), fc.boolean(), fc.constantFrom(...NAMESPACES), fc.constantFrom(...NAMESPACES), labelsArb, async (sel, prefix, lower, policyNs, podNs, labels) => {
        const cnp = { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'cnp', namespace: policyNs }, spec: { endpointSelector: ciliumKeys(sel, prefix, lower), ingress: [{}] } };
        expect(await applies([cnp, pod(podNs, 'p', labels)], podNs, 'cnp')).toBe(podNs === policyNs && ref(sel, labels));
      }),
      RUNS,
    );
  });

  it('CiliumClusterwideNetworkPolicy: namespace pseudo-label and pod labels', async () => {
    await fc.assert(
      fc.asyncProperty(selectorArb, fc.option(fc.uniqueArray(fc.constantFrom(...NAMESPACES), { minLength: 1, maxLength: 2 })), fc.constantFrom(...NAMESPACES), labelsArb, async (sel, nsList, podNs, labels) => {
        const es = ciliumKeys(sel, 'k8s:', false) as { matchExpressions?: unknown[] };
        if (nsList) es.matchExpressions = [...(es.matchExpressions ?? []), { key: 'k8s:io.kubernetes.pod.namespace', operator: 'In', values: nsList }];
        const ccnp = { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name: 'ccnp' }, spec: { endpointSelector: es, egress: [{}] } };
        expect(await applies([ccnp, pod(podNs, 'p', labels)], podNs, 'ccnp')).toBe((nsList === null || nsList.includes(podNs)) && ref(sel, labels));
      }),
      RUNS,
    );
  });

  it('AdminNetworkPolicy: subject namespaces or pods, by namespace labels', async () => {
    await fc.assert(
      fc.asyncProperty(selectorArb, fc.option(selectorArb), nsLabelsArb, fc.constantFrom(...NAMESPACES), labelsArb, async (nsSel, podSel, nsl, podNs, labels) => {
        const subject = podSel ? { pods: { namespaceSelector: nsSel, podSelector: podSel } } : { namespaces: nsSel };
        const anp = { apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name: 'anp' }, spec: { priority: 1, subject, ingress: [{ name: 'r', action: 'Deny', from: [{ namespaces: {} }] }] } };
        const nsLabels = { ...nsl[podNs as 'a'], 'kubernetes.io/metadata.name': podNs };
        expect(await applies([anp, ...namespaces(nsl), pod(podNs, 'p', labels)], podNs, 'anp')).toBe(ref(nsSel, nsLabels) && (!podSel || ref(podSel, labels)));
      }),
      RUNS,
    );
  });

  it('Istio AuthorizationPolicy and Sidecar: selector labels, own namespace or the root namespace', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(labelsArb), fc.constantFrom('a', 'b', 'istio-system'), fc.constantFrom(...NAMESPACES), labelsArb, fc.boolean(), async (sel, policyNs, podNs, labels, sidecar) => {
        const obj = sidecar
          ? { apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'pol', namespace: policyNs }, spec: { ...(sel ? { workloadSelector: { labels: sel } } : {}), egress: [{ hosts: ['./*'] }] } }
          : { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'pol', namespace: policyNs }, spec: { ...(sel ? { selector: { matchLabels: sel } } : {}), action: 'DENY', rules: [{ from: [{ source: { namespaces: ['x'] } }] }] } };
        const root = policyNs === 'istio-system';
        // AuthorizationPolicy: root + selector = matching workloads in every namespace.
        // Sidecar: a selector always stays in its namespace; root without one = mesh default.
        const nsOk = root ? (sidecar ? !sel : true) : podNs === policyNs;
        expect(await applies([obj, pod(podNs, 'p', labels)], podNs, 'pol')).toBe(nsOk && subset(sel ?? {}, labels));
      }),
      RUNS,
    );
  });
});

describe('peer selection: only the selected peers are allowed', () => {
  it('NetworkPolicy from podSelector (same namespace) and namespaceSelector', async () => {
    await fc.assert(
      fc.asyncProperty(selectorArb, fc.option(selectorArb), nsLabelsArb, fc.constantFrom(...NAMESPACES), labelsArb, async (podSel, nsSel, nsl, srcNs, srcLabels) => {
        const peer = nsSel ? { podSelector: podSel, namespaceSelector: nsSel } : { podSelector: podSel };
        const np = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np', namespace: 'a' }, spec: { podSelector: { matchLabels: { role: 'target' } }, ingress: [{ from: [peer] }] } };
        const objects = [np, ...namespaces(nsl), pod('a', 't', { role: 'target' }), pod(srcNs, 'src', srcLabels)];
        const nsOk = nsSel ? ref(nsSel, { ...nsl[srcNs as 'a'], 'kubernetes.io/metadata.name': srcNs }) : srcNs === 'a';
        // The source may be the target itself only when its labels say so; ours never carry role.
        expect(await allowed(objects, `${srcNs}/Pod/src`, 'a/Pod/t', 80)).toBe(nsOk && ref(podSel, srcLabels));
      }),
      RUNS,
    );
  });

  it('Cilium fromEndpoints: pod labels, and the policy namespace unless the selector names one', async () => {
    await fc.assert(
      fc.asyncProperty(selectorArb, fc.option(fc.constantFrom(...NAMESPACES)), fc.constantFrom(...NAMESPACES), labelsArb, async (sel, selNs, srcNs, srcLabels) => {
        const es = ciliumKeys(sel, 'k8s:', false) as { matchLabels: Record<string, string> };
        if (selNs) es.matchLabels['k8s:io.kubernetes.pod.namespace'] = selNs;
        const cnp = { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'cnp', namespace: 'a' }, spec: { endpointSelector: { matchLabels: { role: 'target' } }, ingress: [{ fromEndpoints: [es] }] } };
        const objects = [cnp, pod('a', 't', { role: 'target' }), pod(srcNs, 'src', srcLabels)];
        expect(await allowed(objects, `${srcNs}/Pod/src`, 'a/Pod/t', 80)).toBe(srcNs === (selNs ?? 'a') && ref(sel, srcLabels));
      }),
      RUNS,
    );
  });

  it('AdminNetworkPolicy Deny from pods: only matching sources are denied', async () => {
    await fc.assert(
      fc.asyncProperty(selectorArb, selectorArb, nsLabelsArb, fc.constantFrom(...NAMESPACES), labelsArb, async (nsSel, podSel, nsl, srcNs, srcLabels) => {
        const anp = {
          apiVersion: 'policy.networking.k8s.io/v1alpha1',
          kind: 'AdminNetworkPolicy',
          metadata: { name: 'anp' },
          spec: { priority: 5, subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { role: 'target' } } } }, ingress: [{ name: 'deny', action: 'Deny', from: [{ pods: { namespaceSelector: nsSel, podSelector: podSel } }] }] },
        };
        const objects = [anp, ...namespaces(nsl), pod('a', 't', { role: 'target' }), pod(srcNs, 'src', srcLabels)];
        const hit = ref(nsSel, { ...nsl[srcNs as 'a'], 'kubernetes.io/metadata.name': srcNs }) && ref(podSel, srcLabels);
        expect(await allowed(objects, `${srcNs}/Pod/src`, 'a/Pod/t', 80)).toBe(!hit);
      }),
      RUNS,
    );
  });
});

describe('bad input: half-written and garbage specs', () => {
  const KEYS_SEEN = ['spec', 'specs', 'ingress', 'egress', 'ingressDeny', 'egressDeny', 'endpointSelector', 'nodeSelector', 'fromEndpoints', 'toEndpoints', 'toPorts', 'ports', 'port', 'protocol', 'rules', 'http', 'dns', 'kafka', 'fromEntities', 'toEntities', 'toCIDR', 'toCIDRSet', 'cidr', 'except', 'toFQDNs', 'matchName', 'matchPattern', 'matchLabels', 'matchExpressions', 'key', 'operator', 'values', 'action', 'from', 'to', 'source', 'operation', 'when', 'selector', 'subject', 'namespaces', 'pods', 'namespaceSelector', 'podSelector', 'priority', 'name', 'mtls', 'mode', 'portLevelMtls', 'jwtRules', 'issuer', 'workloadSelector', 'labels', 'hosts', 'outboundTrafficPolicy', 'targetRefs', 'kind', 'principals', 'networks', 'domainNames', 'namedPort', 'portNumber', 'portRange', 'policyTypes', 'ipBlock', 'enableDefaultDeny', 'icmps', 'fields', 'type', 'family'];
  const leaf = fc.oneof(fc.constantFrom('', 'x', '80', 'TCP', 'ALLOW', 'DENY', 'Allow', 'Pass', 'STRICT', '*/*', './*', 'a/b', '10.0.0.0/8', 'world', 'k8s:app', 'In', 'in', '0', 'http'), fc.integer({ min: -1, max: 70000 }), fc.boolean(), fc.constant(null));
  const tree = fc.letrec((tie) => ({ node: fc.oneof({ maxDepth: 5 }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.constantFrom(...KEYS_SEEN), tie('node'), { maxKeys: 4 })) })).node;
  const KINDS: [string, string][] = [
    ['networking.k8s.io/v1', 'NetworkPolicy'],
    ['cilium.io/v2', 'CiliumNetworkPolicy'],
    ['cilium.io/v2', 'CiliumClusterwideNetworkPolicy'],
    ['security.istio.io/v1', 'AuthorizationPolicy'],
    ['security.istio.io/v1beta1', 'PeerAuthentication'],
    ['security.istio.io/v1', 'RequestAuthentication'],
    ['networking.istio.io/v1alpha3', 'Sidecar'],
    ['policy.networking.k8s.io/v1alpha1', 'AdminNetworkPolicy'],
    ['policy.networking.k8s.io/v1alpha1', 'BaselineAdminNetworkPolicy'],
  ];

  it('every object yields a constraint, a reported skip or a located problem; nothing throws', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KINDS), tree, fc.option(tree), async ([apiVersion, kind], spec, specs) => {
        const clusterScoped = kind.includes('Clusterwide') || kind.includes('Admin');
        const obj: KubeObject = { apiVersion, kind, metadata: clusterScoped ? { name: 'x' } : { name: 'x', namespace: 'a' }, spec };
        if (specs !== null) obj.specs = specs;
        const a = await analyzeObjects([{ object: obj, file: 'gen', line: 0 }], await packs());
        const said = a.allConstraints().length + a.skipped().length + a.problems().filter((p) => p.object !== undefined).length;
        expect(said, JSON.stringify(obj)).toBeGreaterThan(0);
      }),
      { numRuns: 150, seed: 20261125 },
    );
  });
});
