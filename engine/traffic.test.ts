import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Constraint, Scope } from './model.js';
import { ConstraintIndex } from './store/constraints.js';
import type { NetworkDetails, NetworkPeer, NetworkRule, TrafficEndpoint } from './network.js';
import { fqdnPatternMatches, parsePortSpec, peerMatches, portMatches, resolvePort, validateNetworkDetails } from './network.js';
import { evaluateTraffic, podEndpoint, renderTrafficVerdict, type TrafficContext } from './traffic.js';

let n = 0;
function constraint(name: string, scope: Scope, details: NetworkDetails, kind = 'NetworkPolicy'): Constraint {
  return {
    id: `${kind}/${name}#${n++}`,
    type: details.direction === 'ingress' ? 'NetworkIngress' : 'NetworkEgress',
    effect: 'restrict',
    severity: 'Info',
    source: { apiVersion: 'v1', kind, group: 'x', resource: 'x', name, namespace: scope.namespaces?.[0] },
    rule: { pack: 'test', rule: 'r' },
    scope,
    summary: '',
    details: details as unknown as Record<string, unknown>,
    remediation: [],
    tags: [],
  };
}

function ctx(...cs: Constraint[]): TrafficContext {
  const idx = new ConstraintIndex();
  for (const c of cs) idx.upsert(c);
  return { constraints: idx };
}

const podsIn = (ns: string, labels: Record<string, string> = {}): Scope => ({ namespaces: [ns], kinds: [{ group: '', kind: 'Pod' }], selector: { matchLabels: labels } });
const P = (ns: string, labels: Record<string, string>, name?: string): TrafficEndpoint => ({ kind: 'pod', namespace: ns, labels, ...(name ? { name } : {}) });
const allowFrom = (peers: NetworkPeer[], ports?: NetworkRule['ports']): NetworkRule => ({ action: 'allow', peers, ...(ports ? { ports } : {}) });
const ingress = (rules: NetworkRule[], extra: Partial<NetworkDetails> = {}): NetworkDetails => ({ direction: 'ingress', tier: 'namespace', isolates: true, rules, ...extra });

describe('ports', () => {
  it('parses numbers, protocols and names', () => {
    expect(parsePortSpec(80)).toEqual({ port: 80, protocol: 'TCP' });
    expect(parsePortSpec('53/udp')).toEqual({ port: 53, protocol: 'UDP' });
    expect(parsePortSpec('http')).toEqual({ name: 'http', protocol: 'TCP' });
  });

  it('resolves named ports against the destination pod, by name and protocol', () => {
    const dst: TrafficEndpoint = { kind: 'pod', namespace: 'a', labels: {}, ports: [{ container: 'c', name: 'dns', containerPort: 53, protocol: 'UDP' }, { container: 'c', name: 'http', containerPort: 8080, protocol: 'TCP' }] };
    expect(resolvePort(parsePortSpec('http'), dst)).toEqual({ protocol: 'TCP', port: 8080, name: 'http' });
    expect(resolvePort(parsePortSpec('dns'), dst)).toEqual({ protocol: 'TCP', name: 'dns' });
    expect(portMatches({ protocol: 'TCP', port: 'http' }, resolvePort(parsePortSpec(8080), dst), dst)).toBe(true);
    expect(portMatches({ protocol: 'TCP', port: 'http' }, resolvePort(parsePortSpec(8081), dst), dst)).toBe(false);
    expect(portMatches({ protocol: 'UDP', port: 'dns' }, resolvePort(parsePortSpec('53/UDP'), dst), dst)).toBe(true);
    // A named rule port cannot match a destination outside the cluster.
    expect(portMatches({ port: 'http' }, { protocol: 'TCP', port: 8080 }, { kind: 'external', ip: '1.2.3.4' })).toBe(false);
  });

  it('ranges, wildcards and protocols', () => {
    const dst: TrafficEndpoint = { kind: 'external', ip: '1.1.1.1' };
    expect(portMatches({ protocol: 'TCP', port: 32000, endPort: 32768 }, { protocol: 'TCP', port: 32768 }, dst)).toBe(true);
    expect(portMatches({ protocol: 'TCP', port: 32000, endPort: 32768 }, { protocol: 'TCP', port: 32769 }, dst)).toBe(false);
    expect(portMatches({ protocol: 'ANY', port: '0' }, { protocol: 'SCTP', port: 9 }, dst)).toBe(true);
    expect(portMatches({ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }, dst)).toBe(false);
    expect(portMatches({ protocol: 'TCP', port: '443' }, { protocol: 'TCP', port: 443 }, dst)).toBe(true);
  });
});

describe('peers', () => {
  it('entities, CIDRs with except, FQDN names and patterns', () => {
    const ext: TrafficEndpoint = { kind: 'external', ip: '10.96.0.10' };
    expect(peerMatches({ kind: 'entity', entity: 'world' }, ext)).toBe(true);
    expect(peerMatches({ kind: 'entity', entity: 'cluster' }, ext)).toBe(false);
    expect(peerMatches({ kind: 'entity', entity: 'cluster' }, P('a', {}))).toBe(true);
    expect(peerMatches({ kind: 'entity', entity: 'cluster' }, { kind: 'entity', entity: 'host' })).toBe(true);
    expect(peerMatches({ kind: 'cidr', cidr: '10.0.0.0/8', except: ['10.96.0.0/12'] }, ext)).toBe(false);
    expect(peerMatches({ kind: 'cidr', cidr: '10.0.0.0/8', except: ['10.96.0.0/12'] }, { kind: 'external', ip: '10.1.0.1' })).toBe(true);
    expect(peerMatches({ kind: 'cidr', cidr: 'not-a-cidr' }, ext)).toBe(false);
    expect(fqdnPatternMatches('*.twitter.com', 'api.twitter.com')).toBe(true);
    expect(fqdnPatternMatches('*.twitter.com', 'a.b.twitter.com')).toBe(false);
    expect(fqdnPatternMatches('**.cilium.io', 'a.b.cilium.io')).toBe(true);
    expect(fqdnPatternMatches('special*service.api.cilium.io', 'special-x-service.api.cilium.io')).toBe(true);
    expect(peerMatches({ kind: 'fqdn', name: 'Example.com.' }, { kind: 'external', fqdn: 'example.com' })).toBe(true);
  });

  it('pods by labels, namespace labels and names, service accounts and principals', () => {
    const e: TrafficEndpoint = { kind: 'pod', namespace: 'ci', labels: { app: 'job' }, serviceAccount: 'robot' };
    expect(peerMatches({ kind: 'pods', pods: { matchLabels: { app: 'job' } }, namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'ci' } } }, e)).toBe(true);
    expect(peerMatches({ kind: 'pods', namespaceNames: ['c*'] }, e)).toBe(true);
    expect(peerMatches({ kind: 'pods', notNamespaceNames: ['ci'] }, e)).toBe(false);
    expect(peerMatches({ kind: 'pods', serviceAccounts: ['ci/robot'] }, e)).toBe(true);
    expect(peerMatches({ kind: 'pods', serviceAccounts: ['other/robot'] }, e)).toBe(false);
    expect(peerMatches({ kind: 'pods', principals: ['cluster.local/ns/ci/sa/*'] }, e)).toBe(true);
    expect(peerMatches({ kind: 'pods' }, { kind: 'external', ip: '1.1.1.1' })).toBe(false);
  });

  it('a pod outside a peer selector never matches it (property)', () => {
    const labels = fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('a', 'b'), { maxKeys: 2 });
    fc.assert(
      fc.property(labels, labels, fc.constantFrom('x', 'y'), fc.constantFrom('x', 'y'), (sel, podLabels, selNs, podNs) => {
        const m = peerMatches({ kind: 'pods', pods: { matchLabels: sel }, namespaceNames: [selNs] }, P(podNs, podLabels));
        const inside = podNs === selNs && Object.entries(sel).every(([k, v]) => podLabels[k] === v);
        expect(m).toBe(inside);
      }),
    );
  });
});

describe('evaluateTraffic', () => {
  const web = P('default', { app: 'web' }, 'Deployment/web');
  const client = P('default', { app: 'client' }, 'Pod/client');

  it('no policy: allowed by the system default', () => {
    const v = evaluateTraffic(ctx(), { src: client, dst: web, port: 80 });
    expect(v.allowed).toBe(true);
    expect(v.ingress.reason).toBe('no-policy');
    expect(renderTrafficVerdict(v)).toContain('the system default (Allow all)');
  });

  it('isolation: the union of allows decides, else default deny naming every isolating policy', () => {
    const deny = constraint('deny-all', podsIn('default', { app: 'web' }), ingress([]));
    const allow = constraint('allow-client', podsIn('default', { app: 'web' }), ingress([allowFrom([{ kind: 'pods', pods: { matchLabels: { app: 'client' } }, namespaceNames: ['default'] }], [{ protocol: 'TCP', port: 80 }])]));
    const v1 = evaluateTraffic(ctx(deny, allow), { src: client, dst: web, port: 80 });
    expect(v1.allowed).toBe(true);
    expect(v1.ingress.decidedBy.map((d) => d.source.name)).toEqual(['allow-client']);
    const v2 = evaluateTraffic(ctx(deny, allow), { src: client, dst: web, port: 443 });
    expect(v2.allowed).toBe(false);
    expect(v2.ingress.reason).toBe('default-deny');
    expect(v2.ingress.decidedBy.map((d) => d.source.name).sort()).toEqual(['allow-client', 'deny-all']);
    expect(renderTrafficVerdict(v2)).toContain("NetworkPolicy 'default/deny-all' selects default/web[Deployment], but default/client[Pod] on TCP:443 is not allowed by any Ingress rule (no rules defined)");
  });

  it('a deny rule wins over any allow', () => {
    const allowAll = constraint('all', podsIn('default'), ingress([allowFrom([{ kind: 'any' }])]), 'CiliumNetworkPolicy');
    const denyClient = constraint('no-client', podsIn('default'), ingress([{ action: 'deny', peers: [{ kind: 'pods', pods: { matchLabels: { app: 'client' } } }] }]), 'CiliumNetworkPolicy');
    const v = evaluateTraffic(ctx(allowAll, denyClient), { src: client, dst: web, port: 80 });
    expect(v.allowed).toBe(false);
    expect(v.ingress.reason).toBe('denied-by-rule');
    expect(v.ingress.decidedBy.map((d) => d.source.name)).toEqual(['no-client']);
  });

  it('admin tier: lowest priority first, first matching rule; pass goes to the namespace tier; baseline last', () => {
    const anyNs: Scope = { kinds: [{ group: '', kind: 'Pod' }], namespaceSelector: {} };
    const admin = (name: string, priority: number, action: NetworkRule['action']) => constraint(name, anyNs, { direction: 'ingress', tier: 'admin', priority, isolates: false, rules: [{ action, peers: [{ kind: 'pods' }], name: action }] }, 'AdminNetworkPolicy');
    const baseline = constraint('default', anyNs, { direction: 'ingress', tier: 'baseline', isolates: false, rules: [{ action: 'deny', peers: [{ kind: 'any' }] }] }, 'BaselineAdminNetworkPolicy');
    const np = constraint('np', podsIn('default', { app: 'web' }), ingress([allowFrom([{ kind: 'any' }])]));
    expect(evaluateTraffic(ctx(admin('b', 20, 'allow'), admin('a', 10, 'deny')), { src: client, dst: web, port: 80 }).allowed).toBe(false);
    expect(evaluateTraffic(ctx(admin('b', 20, 'deny'), admin('a', 10, 'allow')), { src: client, dst: web, port: 80 }).allowed).toBe(true);
    const passed = evaluateTraffic(ctx(admin('a', 10, 'pass'), admin('b', 20, 'deny'), np), { src: client, dst: web, port: 80 });
    expect(passed.allowed).toBe(true);
    expect(passed.ingress.tier).toBe('namespace');
    const toBaseline = evaluateTraffic(ctx(admin('a', 10, 'pass'), baseline), { src: client, dst: web, port: 80 });
    expect(toBaseline.allowed).toBe(false);
    expect(toBaseline.ingress.reason).toBe('baseline-deny');
    expect(evaluateTraffic(ctx(baseline, np), { src: client, dst: web, port: 80 }).allowed).toBe(true);
  });

  it('mesh tier only after L3/L4, with the same deny-then-isolation semantics; l7 conditions are reported', () => {
    const meshAllow = constraint('httpbin', podsIn('default', { app: 'web' }), { direction: 'ingress', tier: 'mesh', isolates: true, rules: [{ action: 'allow', peers: [{ kind: 'any' }], l7: ['method in [GET]'] }] }, 'AuthorizationPolicy');
    const v = evaluateTraffic(ctx(meshAllow), { src: client, dst: web, port: 80 });
    expect(v.allowed).toBe(true);
    expect(v.l7).toEqual(['method in [GET]']);
    const npDeny = constraint('deny', podsIn('default', { app: 'web' }), ingress([]));
    const v2 = evaluateTraffic(ctx(meshAllow, npDeny), { src: client, dst: web, port: 80 });
    expect(v2.allowed).toBe(false);
    expect(v2.ingress.tier).toBe('namespace');
  });

  it('egress is decided at the source, ingress at the destination; external endpoints are not evaluated', () => {
    const egressDeny = constraint('lock', podsIn('default', { app: 'client' }), { direction: 'egress', tier: 'namespace', isolates: true, rules: [] });
    const v = evaluateTraffic(ctx(egressDeny), { src: client, dst: { kind: 'external', ip: '8.8.8.8' }, port: '53/UDP' });
    expect(v.allowed).toBe(false);
    expect(v.egress.allowed).toBe(false);
    expect(v.ingress.evaluated).toBe(false);
    expect(v.port).toEqual({ protocol: 'UDP', port: 53 });
  });

  it('malformed details are ignored, never a crash', () => {
    const bad = { ...constraint('bad', podsIn('default'), ingress([])), details: { direction: 'ingress', tier: 'namespace', isolates: 'yes', rules: 'none' } };
    const odd = constraint('odd', podsIn('default'), ingress([{ action: 'allow', peers: [{ kind: 'cidr', cidr: '999.1.1.1/99' }], ports: [{ port: 'nope', protocol: 'TCP' }] }]));
    const v = evaluateTraffic(ctx(bad, odd), { src: { kind: 'external', ip: '1.2.3.4' }, dst: web, port: 80 });
    expect(v.allowed).toBe(false);
    expect(v.ingress.decidedBy.map((d) => d.source.name)).toEqual(['odd']);
    expect(validateNetworkDetails(bad.details)).toEqual(['isolates must be a boolean', 'rules must be a list']);
  });

  it('Hubble endpoints: label sources and pseudo-labels are dropped from labels (engine/cilium.ts)', () => {
    const e = podEndpoint('web', ['k8s:app=api', 'k8s:io.kubernetes.pod.namespace=web', 'k8s:io.cilium.k8s.policy.serviceaccount=api', 'reserved:host']);
    // Cilium's service-account pseudo-label names the pod's service account.
    expect(e).toEqual({ kind: 'pod', namespace: 'web', labels: { app: 'api' }, serviceAccount: 'api' });
  });
});

describe('resolveEndpoint', () => {
  it('reads workloads, label lists (keys may hold a slash), addresses, entities and DNS names', async () => {
    const { analyzeObjects } = await import('./analyzer.js');
    const { resolveEndpoint } = await import('./traffic.js');
    const a = await analyzeObjects(
      [
        {
          object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { 'app.kubernetes.io/name': 'web' } }, spec: { containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] } } } },
          file: 'x',
          line: 0,
        },
      ],
      [],
    );
    const w = resolveEndpoint(a, 'shop/Deployment/web');
    expect(w.ok && w.endpoint.kind === 'pod' && w.endpoint.ports?.[0]?.containerPort).toBe(8080);
    expect(resolveEndpoint(a, 'shop/deployment/web').ok).toBe(true);
    expect(resolveEndpoint(a, 'shop/web').ok).toBe(true);
    const l = resolveEndpoint(a, 'shop/app.kubernetes.io/name=web,tier=fe');
    expect(l.ok && l.endpoint).toEqual({ kind: 'pod', namespace: 'shop', labels: { 'app.kubernetes.io/name': 'web', tier: 'fe' }, ports: [], namespaceLabels: { 'kubernetes.io/metadata.name': 'shop' } });
    expect(resolveEndpoint(a, '10.0.0.1')).toEqual({ ok: true, endpoint: { kind: 'external', ip: '10.0.0.1' } });
    expect(resolveEndpoint(a, 'kube-apiserver')).toEqual({ ok: true, endpoint: { kind: 'entity', entity: 'kube-apiserver' } });
    expect(resolveEndpoint(a, 'api.example.com')).toEqual({ ok: true, endpoint: { kind: 'external', fqdn: 'api.example.com' } });
    expect(resolveEndpoint(a, 'shop/Deployment/nope')).toEqual({ ok: false, error: 'no workload Deployment/nope in namespace shop' });
    expect(resolveEndpoint(a, 'nonsense').ok).toBe(false);
  });
});
