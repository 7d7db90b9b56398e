// Issue #3 acceptance: `--explain-traffic` against hand-computed verdicts for the
// NetworkPolicy recipes and the Cilium examples of ../shared/corpus. Each scenario pairs
// corpus policies with a small fixture of namespaces and pods; each case says what the
// recipe's (or example's) name and documentation say must happen, and which policy
// decides. A few cases also run the real CLI, to check the np-guard style output.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { analyzeObjects, type Analyzer } from '../../engine/analyzer.js';
import type { KubeObject } from '../../engine/model.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import type { SourcedObject } from '../../engine/source/manifests.js';
import { evaluateTraffic, renderTrafficVerdict, resolveEndpoint } from '../../engine/traffic.js';
import { loadPackFiles } from '../../runtime/packs.js';
import { main } from '../../runtime/cli/main.js';
import { CORPUS, ROOT, objectsOf, present, describeCorpusRequiredInCI } from './corpus.js';

const PACK_FILES = ['networkpolicy.yaml', 'cilium.yaml', 'adminnetworkpolicy.yaml', 'istio.yaml'].map((f) => join(ROOT, 'adapters', f));

describeCorpusRequiredInCI('traffic');

// ------------------------------------------------------------------------ fixtures

function ns(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

function pod(namespace: string, name: string, labels: Record<string, string> = {}, ports: { name?: string; containerPort: number; protocol?: string }[] = []): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'c', image: 'registry.example/app:1', ports }] },
  };
}

function deployment(namespace: string, name: string, labels: Record<string, string>, ports: { name?: string; containerPort: number }[] = []): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'registry.example/app:1', ports }] } } },
  };
}

interface Case {
  from: string;
  to: string;
  port: number | string;
  allowed: boolean;
  /** Names of the policies among the deciding rules. */
  decidedBy?: string[];
  /** The direction that decides a denial. */
  deniedAt?: 'ingress' | 'egress';
  why: string;
}

interface Scenario {
  name: string;
  /** Corpus files, relative to ../shared/corpus. */
  files: string[];
  fixtures: KubeObject[];
  cases: Case[];
}

const web = deployment('default', 'web', { app: 'web' }, [{ name: 'http', containerPort: 80 }]);

const SCENARIOS: Scenario[] = [
  {
    name: 'recipe 01: deny all traffic to an application',
    files: ['netpol-recipes/01-deny-all-traffic-to-an-application/web-deny-all.yaml'],
    fixtures: [web, pod('default', 'client', { app: 'client' })],
    cases: [
      { from: 'default/Pod/client', to: 'default/Deployment/web', port: 80, allowed: false, decidedBy: ['web-deny-all'], deniedAt: 'ingress', why: 'web-deny-all selects app=web with no ingress rule' },
      { from: 'default/Deployment/web', to: 'default/Pod/client', port: 8080, allowed: true, why: 'the policy isolates web for ingress only' },
    ],
  },
  {
    name: 'recipe 02a: allow all traffic to an application (over a deny-all)',
    files: ['netpol-recipes/01-deny-all-traffic-to-an-application/web-deny-all.yaml', 'netpol-recipes/02a-allow-all-traffic-to-an-application/web-allow-all.yaml'],
    fixtures: [web, ns('other'), pod('other', 'client')],
    cases: [{ from: 'other/Pod/client', to: 'default/Deployment/web', port: 80, allowed: true, decidedBy: ['web-allow-all'], why: 'an empty ingress rule allows every source; allows are a union' }],
  },
  {
    name: 'recipe 04: deny traffic from other namespaces',
    files: ['netpol-recipes/04-deny-traffic-from-other-namespaces/deny-from-other-namespaces.yaml'],
    fixtures: [web, pod('default', 'client'), ns('foo'), pod('foo', 'client')],
    cases: [
      { from: 'default/Pod/client', to: 'default/Deployment/web', port: 80, allowed: true, decidedBy: ['deny-from-other-namespaces'], why: 'podSelector {} in from means every pod of the same namespace' },
      { from: 'foo/Pod/client', to: 'default/Deployment/web', port: 80, allowed: false, decidedBy: ['deny-from-other-namespaces'], deniedAt: 'ingress', why: 'pods of other namespaces are not selected by the peer' },
    ],
  },
  {
    name: 'recipe 05: allow traffic from all namespaces',
    files: ['netpol-recipes/05-allow-traffic-from-all-namespaces/web-allow-all-namespaces.yaml'],
    fixtures: [web, ns('secondary'), pod('secondary', 'client')],
    cases: [
      { from: 'secondary/Pod/client', to: 'default/Deployment/web', port: 80, allowed: true, decidedBy: ['web-allow-all-namespaces'], why: 'namespaceSelector {} selects every namespace' },
      { from: '198.51.100.7', to: 'default/Deployment/web', port: 80, allowed: false, deniedAt: 'ingress', why: 'a namespaceSelector selects pods, not addresses outside the cluster' },
    ],
  },
  {
    name: 'recipe 06: allow traffic from a namespace',
    files: ['netpol-recipes/06-allow-traffic-from-a-namespace/web-allow-prod.yaml'],
    fixtures: [web, ns('prod', { purpose: 'production' }), ns('dev', { purpose: 'testing' }), pod('prod', 'client'), pod('dev', 'client')],
    cases: [
      { from: 'prod/Pod/client', to: 'default/Deployment/web', port: 80, allowed: true, decidedBy: ['web-allow-prod'], why: 'namespace labelled purpose=production' },
      { from: 'dev/Pod/client', to: 'default/Deployment/web', port: 80, allowed: false, decidedBy: ['web-allow-prod'], deniedAt: 'ingress', why: 'namespace labelled purpose=testing' },
    ],
  },
  {
    name: 'recipe 07: allow traffic from some pods in another namespace',
    files: ['netpol-recipes/07-allow-traffic-from-some-pods-in-another-namespace/web-allow-all-ns-monitoring.yaml'],
    fixtures: [web, ns('ops', { team: 'operations' }), ns('dev'), pod('ops', 'mon', { type: 'monitoring' }), pod('ops', 'shell', { type: 'debug' }), pod('dev', 'mon', { type: 'monitoring' })],
    cases: [
      { from: 'ops/Pod/mon', to: 'default/Deployment/web', port: 80, allowed: true, decidedBy: ['web-allow-all-ns-monitoring'], why: 'team=operations namespace AND type=monitoring pod' },
      { from: 'ops/Pod/shell', to: 'default/Deployment/web', port: 80, allowed: false, deniedAt: 'ingress', why: 'right namespace, wrong pod labels' },
      { from: 'dev/Pod/mon', to: 'default/Deployment/web', port: 80, allowed: false, deniedAt: 'ingress', why: 'right pod labels, wrong namespace' },
    ],
  },
  {
    name: 'recipe 09: allow traffic only to a port',
    files: ['netpol-recipes/09-allow-traffic-only-to-a-port/api-allow-5000.yaml'],
    fixtures: [deployment('default', 'apiserver', { app: 'apiserver' }, [{ name: 'api', containerPort: 5000 }, { name: 'admin', containerPort: 8000 }]), pod('default', 'mon', { role: 'monitoring' }), pod('default', 'other', { role: 'frontend' })],
    cases: [
      { from: 'default/Pod/mon', to: 'default/Deployment/apiserver', port: 5000, allowed: true, decidedBy: ['api-allow-5000'], why: 'role=monitoring on 5000' },
      { from: 'default/Pod/mon', to: 'default/Deployment/apiserver', port: 'admin', allowed: false, deniedAt: 'ingress', why: 'the named port admin resolves to 8000, not 5000' },
      { from: 'default/Pod/other', to: 'default/Deployment/apiserver', port: 5000, allowed: false, deniedAt: 'ingress', why: 'role=frontend is not role=monitoring' },
    ],
  },
  {
    name: 'recipe 11: deny egress traffic from an application',
    files: ['netpol-recipes/11-deny-egress-traffic-from-an-application/foo-deny-egress.yaml'],
    fixtures: [deployment('default', 'foo', { app: 'foo' }), web],
    cases: [{ from: 'default/Deployment/foo', to: 'default/Deployment/web', port: 80, allowed: false, decidedBy: ['foo-deny-egress'], deniedAt: 'egress', why: 'egress: [] with policyTypes Egress denies every destination' }],
  },
  {
    name: 'recipe 11 (second policy): deny egress except DNS',
    files: ['netpol-recipes/11-deny-egress-traffic-from-an-application/foo-deny-egress-2.yaml'],
    fixtures: [deployment('default', 'foo', { app: 'foo' }), web, ns('kube-system'), pod('kube-system', 'coredns', { 'k8s-app': 'kube-dns' }, [{ name: 'dns', containerPort: 53, protocol: 'UDP' }])],
    cases: [
      { from: 'default/Deployment/foo', to: 'kube-system/Pod/coredns', port: '53/UDP', allowed: true, decidedBy: ['foo-deny-egress'], why: 'DNS to kube-dns pods in kube-system' },
      { from: 'default/Deployment/foo', to: 'kube-system/Pod/coredns', port: 53, allowed: true, why: 'TCP 53 is listed too' },
      { from: 'default/Deployment/foo', to: 'default/Deployment/web', port: 80, allowed: false, deniedAt: 'egress', why: 'everything else is denied' },
      { from: 'default/Deployment/foo', to: '8.8.8.8', port: '53/UDP', allowed: false, deniedAt: 'egress', why: 'an outside resolver is not a kube-dns pod' },
    ],
  },
  {
    name: 'recipe 12: deny all non-whitelisted traffic from the namespace',
    files: ['netpol-recipes/12-deny-all-non-whitelisted-traffic-from-the-namespace/default-deny-all-egress.yaml'],
    fixtures: [web, ns('other'), pod('other', 'client')],
    cases: [
      { from: 'default/Deployment/web', to: '93.184.216.34', port: 443, allowed: false, decidedBy: ['default-deny-all-egress'], deniedAt: 'egress', why: 'every pod of default is egress-isolated' },
      { from: 'other/Pod/client', to: 'default/Deployment/web', port: 80, allowed: true, why: 'the policy restricts egress of default, not ingress' },
    ],
  },
  {
    name: 'Cilium l3_egress: frontend may only talk to backend',
    files: ['cilium/examples/policies/l3/simple/l3_egress.yaml'],
    fixtures: [pod('default', 'fe', { role: 'frontend' }), pod('default', 'be', { role: 'backend' }), pod('default', 'db', { role: 'db' })],
    cases: [
      { from: 'default/Pod/fe', to: 'default/Pod/be', port: 8080, allowed: true, decidedBy: ['l3-egress-rule'], why: 'toEndpoints role=backend, any port' },
      { from: 'default/Pod/fe', to: 'default/Pod/db', port: 5432, allowed: false, decidedBy: ['l3-egress-rule'], deniedAt: 'egress', why: 'role=db is not allowed' },
      { from: 'default/Pod/fe', to: '1.1.1.1', port: 443, allowed: false, deniedAt: 'egress', why: 'nothing outside the cluster is allowed' },
    ],
  },
  {
    name: 'Cilium l4: egress only on TCP 80, to anyone',
    files: ['cilium/examples/policies/l4/l4.yaml'],
    fixtures: [pod('default', 'svc', { app: 'myService' })],
    cases: [
      { from: 'default/Pod/svc', to: '93.184.216.34', port: 80, allowed: true, why: 'a toPorts-only rule allows every peer on the port' },
      { from: 'default/Pod/svc', to: '93.184.216.34', port: 443, allowed: false, deniedAt: 'egress', why: 'only port 80' },
    ],
  },
  {
    name: 'Cilium l7: HTTP GET /public from env=prod',
    files: ['cilium/examples/policies/l7.yaml'],
    fixtures: [pod('default', 'service', { app: 'service' }), pod('default', 'prod', { env: 'prod' }), pod('default', 'dev', { env: 'dev' })],
    cases: [
      { from: 'default/Pod/prod', to: 'default/Pod/service', port: 80, allowed: true, decidedBy: ['rule1'], why: 'env=prod on TCP 80 (HTTP GET /public only)' },
      { from: 'default/Pod/dev', to: 'default/Pod/service', port: 80, allowed: false, deniedAt: 'ingress', why: 'env=dev is not allowed' },
    ],
  },
  {
    name: 'Cilium multi_rule: frontend on any port, anyone on 80',
    files: ['cilium/examples/policies/l4/multi_rule.yaml'],
    fixtures: [pod('default', 'be', { role: 'backend' }), pod('default', 'fe', { role: 'frontend' })],
    cases: [
      { from: '203.0.113.5', to: 'default/Pod/be', port: 80, allowed: true, why: 'the second rule allows any peer on TCP 80' },
      { from: '203.0.113.5', to: 'default/Pod/be', port: 443, allowed: false, deniedAt: 'ingress', why: 'only the frontend may use other ports' },
      { from: 'default/Pod/fe', to: 'default/Pod/be', port: 443, allowed: true, why: 'role=frontend on any port' },
    ],
  },
  {
    name: 'Cilium from_world_deny: deny from world wins over allow from all',
    files: ['cilium/examples/policies/l3/entities/from_world_deny.yaml'],
    fixtures: [ns('shop'), pod('shop', 'web', { app: 'web' }), pod('default', 'client')],
    cases: [
      { from: '8.8.8.8', to: 'shop/Pod/web', port: 443, allowed: false, decidedBy: ['external-lockdown'], deniedAt: 'ingress', why: 'ingressDeny fromEntities world' },
      { from: 'default/Pod/client', to: 'shop/Pod/web', port: 443, allowed: true, decidedBy: ['external-lockdown'], why: 'fromEntities all allows the cluster' },
    ],
  },
  {
    name: 'Cilium cidr: CIDR and CIDRSet with except',
    files: ['cilium/examples/policies/cidr.yaml'],
    fixtures: [pod('default', 'svc', { app: 'myService' })],
    cases: [
      { from: 'default/Pod/svc', to: '20.1.1.1', port: 443, allowed: true, why: 'toCIDR 20.1.1.1/32' },
      { from: 'default/Pod/svc', to: '10.20.30.40', port: 443, allowed: true, why: 'inside 10.0.0.0/8' },
      { from: 'default/Pod/svc', to: '10.96.0.10', port: 443, allowed: false, deniedAt: 'egress', why: '10.96.0.0/12 is excepted' },
    ],
  },
  {
    name: 'Cilium dns-matchname: FQDN egress plus DNS to kube-dns for everyone',
    files: ['cilium/examples/policies/getting-started/dns-matchname.yaml'],
    fixtures: [pod('default', 'bot', { org: 'empire', class: 'mediabot' }), pod('default', 'xwing', { org: 'alliance' }), ns('kube-system'), pod('kube-system', 'coredns', { 'k8s-app': 'kube-dns' })],
    cases: [
      { from: 'default/Pod/bot', to: 'api.twitter.com', port: 443, allowed: true, why: 'toFQDNs matchName api.twitter.com' },
      { from: 'default/Pod/bot', to: 'www.twitter.com', port: 443, allowed: false, deniedAt: 'egress', why: 'another name' },
      { from: 'default/Pod/xwing', to: 'kube-system/Pod/coredns', port: '53/UDP', allowed: true, why: 'every pod may query kube-dns (DNS rules apply)' },
      { from: 'default/Pod/xwing', to: 'api.twitter.com', port: 443, allowed: false, deniedAt: 'egress', why: 'the second rule puts every pod in egress default deny' },
    ],
  },
  {
    name: 'Cilium egress-default-deny: an empty egress section',
    files: ['cilium/examples/policies/l3/egress-default-deny/egress-default-deny.yaml'],
    fixtures: [pod('default', 'r', { role: 'restricted' }), pod('default', 'o', { role: 'open' })],
    cases: [
      { from: 'default/Pod/r', to: 'default/Pod/o', port: 80, allowed: false, decidedBy: ['deny-all-egress'], deniedAt: 'egress', why: 'role=restricted has no egress allowed' },
      { from: 'default/Pod/o', to: 'default/Pod/r', port: 80, allowed: true, why: 'ingress of restricted is not touched' },
    ],
  },
  {
    name: 'Cilium world: only the outside world may reach role=public',
    files: ['cilium/examples/policies/l3/entities/world.yaml'],
    fixtures: [pod('default', 'pub', { role: 'public' }), pod('default', 'c')],
    cases: [
      { from: '198.51.100.1', to: 'default/Pod/pub', port: 443, allowed: true, why: 'fromEntities world' },
      { from: 'default/Pod/c', to: 'default/Pod/pub', port: 443, allowed: false, deniedAt: 'ingress', why: 'a pod is not the world entity' },
    ],
  },
  {
    name: 'Cilium and-statement: namespace AND label in one selector',
    files: ['cilium/examples/policies/l3/match-expressions/and-statement.yaml'],
    fixtures: [pod('default', 'api'), ns('production'), pod('production', 'strict', { 'cilium.example.com/policy': 'strict' }), pod('production', 'loose', { 'cilium.example.com/policy': 'loose' })],
    cases: [
      { from: 'production/Pod/strict', to: 'default/Pod/api', port: 80, allowed: true, why: 'namespace production and policy=strict' },
      { from: 'production/Pod/loose', to: 'default/Pod/api', port: 80, allowed: false, deniedAt: 'ingress', why: 'policy=loose' },
    ],
  },
  {
    name: 'Cilium kafka: only empire-hq may produce',
    files: ['cilium/examples/policies/l7/kafka/kafka.yaml'],
    fixtures: [pod('default', 'kafka', { app: 'kafka' }), pod('default', 'hq', { app: 'empire-hq' }), pod('default', 'outpost', { app: 'empire-outpost' })],
    cases: [
      { from: 'default/Pod/hq', to: 'default/Pod/kafka', port: 9092, allowed: true, why: 'empire-hq on 9092 (Kafka rules apply)' },
      { from: 'default/Pod/outpost', to: 'default/Pod/kafka', port: 9092, allowed: false, deniedAt: 'ingress', why: 'empire-outpost is not allowed' },
    ],
  },
];

// ------------------------------------------------------------------------ the checks

async function compiledPacks(): Promise<CompiledPack[]> {
  const r = await loadPackFiles(PACK_FILES);
  const errors = r.problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new Error(errors.map((p) => p.message).join('\n'));
  return r.packs;
}

async function analyzerFor(s: Scenario, packs: CompiledPack[]): Promise<Analyzer> {
  const objects: SourcedObject[] = s.files.flatMap((f) => objectsOf(join(CORPUS, f)));
  objects.push(...s.fixtures.map((object, i) => ({ object, file: `fixture[${i}]`, line: 0 })));
  const a = await analyzeObjects(objects, packs);
  expect(a.problems(), s.name).toEqual([]);
  return a;
}

const missing = SCENARIOS.flatMap((s) => s.files).filter((f) => present && !existsSync(join(CORPUS, f)));

describe.skipIf(!present)('--explain-traffic: hand-computed verdicts on the corpus', async () => {
  const packs = present ? await compiledPacks() : [];

  it('has at least 20 cases, both allowed and denied, and every corpus file exists', () => {
    const cases = SCENARIOS.flatMap((s) => s.cases);
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(cases.filter((c) => c.allowed).length).toBeGreaterThan(5);
    expect(cases.filter((c) => !c.allowed).length).toBeGreaterThan(5);
    expect(missing).toEqual([]);
  });

  for (const s of SCENARIOS) {
    it(s.name, async () => {
      const a = await analyzerFor(s, packs);
      for (const c of s.cases) {
        const src = resolveEndpoint(a, c.from);
        const dst = resolveEndpoint(a, c.to);
        if (!src.ok || !dst.ok) throw new Error(`${c.from} / ${c.to}: ${!src.ok ? src.error : ''} ${!dst.ok ? dst.error : ''}`);
        const v = evaluateTraffic(a, { src: src.endpoint, dst: dst.endpoint, port: c.port });
        const text = `${c.from} -> ${c.to} :${c.port} (${c.why})\n${renderTrafficVerdict(v)}`;
        expect(v.allowed, text).toBe(c.allowed);
        if (c.deniedAt) expect(v[c.deniedAt].allowed, text).toBe(false);
        if (c.decidedBy) {
          const names = [...v.ingress.decidedBy, ...v.egress.decidedBy].map((d) => d.source.name);
          for (const n of c.decidedBy) expect(names, text).toContain(n);
          // The deciding policy is named in the explanation, as np-guard names it.
          for (const n of c.decidedBy) expect(text).toContain(n);
        }
      }
    });
  }
});

describe.skipIf(!present)('potoo analyze --explain-traffic (the CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'potoo-traffic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
    try {
      const code = await main(argv);
      return { code, out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  const packArgs = PACK_FILES.flatMap((f) => ['--packs', f]);

  it('prints the verdict, then the deciding rules per direction with the policy names', async () => {
    const s = SCENARIOS.find((x) => x.name.startsWith('recipe 06')) as Scenario;
    const fixture = join(dir, 'recipe06.yaml');
    writeFileSync(fixture, s.fixtures.map((o) => stringify(o)).join('---\n'));
    const files = s.files.map((f) => join(CORPUS, f));
    const denied = await run(['analyze', '--no-builtin', ...packArgs, ...files, fixture, '--explain-traffic', 'dev/Pod/client', 'default/Deployment/web', '80']);
    expect(denied.code, denied.err).toBe(0);
    expect(denied.out).toContain('Connections between dev/client[Pod] => default/web[Deployment]:');
    expect(denied.out).toContain('Denied TCP:80 (http) due to the following policies and rules:');
    expect(denied.out).toMatch(/\tEgress \(Allowed\)\n\t\tthe system default \(Allow all\)/);
    expect(denied.out).toContain("\tIngress (Denied)\n\t\tNetworkPolicy 'default/web-allow-prod' selects default/web[Deployment], but dev/client[Pod] on TCP:80 (http) is not allowed by any Ingress rule");
    const allowed = await run(['analyze', '--no-builtin', ...packArgs, ...files, fixture, '--explain-traffic', 'prod/Pod/client', 'default/app=web', 'http', '-o', 'json']);
    expect(allowed.code, allowed.err).toBe(0);
    const v = JSON.parse(allowed.out) as { allowed: boolean; ingress: { reason: string; decidedBy: { policy: string }[] } };
    expect(v.allowed).toBe(true);
    expect(v.ingress.reason).toBe('allowed-by-rule');
    expect(v.ingress.decidedBy.map((d) => d.policy)).toEqual(["NetworkPolicy 'default/web-allow-prod'"]);
  });

  it('reports an unknown endpoint as a usage error', async () => {
    const r = await run(['analyze', '--no-builtin', ...packArgs, join(CORPUS, SCENARIOS[0]?.files[0] ?? ''), '--explain-traffic', 'default/Deployment/nope', '8.8.8.8', '80']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no workload Deployment/nope in namespace default');
  });
});
