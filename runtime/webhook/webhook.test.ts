import fc from 'fast-check';
import { describe, expect, it, beforeAll } from 'vitest';
import type { Constraint, Severity } from '../../engine/model.js';
import { analyzeObjects, type Analyzer } from '../../engine/analyzer.js';
import { objectsFromText } from '../../engine/source/manifests.js';
import { loadAllPacks } from '../packs.js';
import { allowedReview, parseAdmissionReview } from './admission.js';
import { AdmissionHandler, analyzerLookup } from './handler.js';
import { MAX_TOTAL_CHARS, MAX_WARNING_CHARS, redactForeign, renderWarnings, sanitizeWarning, viewRenderer, type ApplicableConstraint, type WarningContext } from './warnings.js';

function review(request: Record<string, unknown>, apiVersion = 'admission.k8s.io/v1'): string {
  return JSON.stringify({ apiVersion, kind: 'AdmissionReview', request });
}

const deployment = (ns: string, name: string, labels: Record<string, string>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
});

function createRequest(obj: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const md = obj.metadata as { name: string; namespace: string };
  return {
    uid: 'u-1',
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    resource: { group: 'apps', version: 'v1', resource: 'deployments' },
    name: md.name,
    namespace: md.namespace,
    operation: 'CREATE',
    userInfo: { username: 'dev', groups: ['developers'] },
    object: obj,
    ...extra,
  };
}

describe('AdmissionReview parsing', () => {
  it('reads a v1 review and keeps what the handler needs', () => {
    const r = parseAdmissionReview(review(createRequest(deployment('a', 'web', { app: 'web' }))));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.request).toMatchObject({ uid: 'u-1', operation: 'CREATE', namespace: 'a', name: 'web', resource: { group: 'apps', resource: 'deployments' } });
    expect(r.request.userInfo.groups).toEqual(['developers']);
  });

  it('echoes v1beta1 for old API servers', () => {
    const r = parseAdmissionReview(review(createRequest(deployment('a', 'web', {})), 'admission.k8s.io/v1beta1'));
    expect(r.ok && r.apiVersion).toBe('admission.k8s.io/v1beta1');
    expect(allowedReview('x', [], 'admission.k8s.io/v1beta1').apiVersion).toBe('admission.k8s.io/v1beta1');
  });

  it.each([
    ['not json', '{', 'json'],
    ['not a review', '{"kind":"Pod"}', 'not-review'],
    ['wrong version', '{"kind":"AdmissionReview","apiVersion":"v9"}', 'version'],
    ['no request', '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}', 'no-request'],
    ['no uid', review({ operation: 'CREATE' }), 'no-uid'],
    ['bad kind', review({ uid: 'x', kind: 3, resource: {}, operation: 'CREATE' }), 'fields'],
    ['bad operation', review({ uid: 'x', kind: { version: 'v1', kind: 'Pod' }, resource: { version: 'v1', resource: 'pods' }, operation: 'EXPLODE' }), 'fields'],
    ['object not an object', review({ uid: 'x', kind: { version: 'v1', kind: 'Pod' }, resource: { version: 'v1', resource: 'pods' }, operation: 'CREATE', object: [1] }), 'fields'],
  ])('refuses %s with a reason', (_name, body, reason) => {
    const r = parseAdmissionReview(body);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe(reason);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: v }))), (body) => {
        const r = parseAdmissionReview(body);
        expect(typeof r.ok).toBe('boolean');
      }),
    );
  });
});

function constraint(id: string, ns: string | undefined, severity: Severity, name = id, summary = `summary of ${name} port 8443 cidr 10.0.0.0/8`): Constraint {
  return {
    id,
    type: 'NetworkIngress',
    effect: 'deny',
    severity,
    source: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', group: 'networking.k8s.io', resource: 'networkpolicies', name, ...(ns ? { namespace: ns } : {}) },
    rule: { pack: 'p', rule: 'r' },
    scope: {},
    summary,
    details: {},
    remediation: [],
    tags: [],
  };
}

const applies = (c: Constraint): ApplicableConstraint => ({ constraint: c, verdict: { applies: true, reasons: [] } });
const ctx = (over: Partial<WarningContext> = {}): WarningContext => ({ namespace: 'team-a', audience: 'developer', detail: 'summary', user: {}, kind: 'Deployment', name: 'web', ...over });

describe('warning lines', () => {
  it('names own-namespace policies and redacts cluster and foreign ones at developer audience', () => {
    const lines = renderWarnings(
      [applies(constraint('own', 'team-a', 'Warning', 'deny-all')), applies(constraint('cl', undefined, 'Critical', 'secret-cluster-policy')), applies(constraint('other', 'team-b', 'Warning', 'their-policy'))],
      ctx(),
    );
    expect(lines[0]).toMatch(/^potoo: CRITICAL: a network policy \(ingress\) owned by the cluster \(deny\) applies to this Deployment/);
    expect(lines.some((l) => l.includes('NetworkPolicy team-a/deny-all'))).toBe(true);
    expect(lines.some((l) => l.includes('a network policy (ingress) owned by another namespace (deny) applies'))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/secret-cluster-policy|their-policy/);
  });

  it('shows everything to a platform admin', () => {
    const lines = renderWarnings([applies(constraint('cl', undefined, 'Critical', 'secret-cluster-policy'))], ctx({ audience: 'platform-admin' }));
    expect(lines[0]).toContain('secret-cluster-policy');
  });

  it('folds several hidden policies of one kind into one line, and skips Info by default', () => {
    const lines = renderWarnings(
      [applies(constraint('a', undefined, 'Warning', 'x')), applies(constraint('b', undefined, 'Warning', 'y')), applies(constraint('c', 'team-a', 'Info', 'z'))],
      ctx(),
    );
    expect(lines).toEqual(['potoo: 2 × a network policy (ingress) owned by the cluster (deny) apply to this Deployment; ask your platform team for details']);
  });

  it('keeps the API server limits: printable, short lines, bounded total and count', () => {
    const many = Array.from({ length: 50 }, (_, i) => applies(constraint(`c${i}`, 'team-a', 'Warning', `p${i}`, 'x'.repeat(400) + '\n\u0007tail')));
    const lines = renderWarnings(many, ctx(), { maxLines: 8 });
    expect(lines.length).toBeLessThanOrEqual(8);
    expect(lines.at(-1)).toMatch(/more constraint\(s\) apply; run: kubectl potoo explain deployment\/web -n team-a/);
    for (const l of lines) {
      expect([...l].length).toBeLessThanOrEqual(MAX_WARNING_CHARS);
      expect(l).not.toMatch(/[\u0000-\u001f]/);
    }
    expect(lines.join('').length).toBeLessThanOrEqual(MAX_TOTAL_CHARS);
    expect(sanitizeWarning('a\n\tb')).toBe('a b');
  });

  it('a throwing privacy hook falls back to the default redaction', () => {
    const lines = renderWarnings([applies(constraint('cl', undefined, 'Warning', 'hidden-name'))], ctx(), {
      render: () => {
        throw new Error('bug');
      },
    });
    expect(lines.join()).not.toContain('hidden-name');
  });

  it('property: at developer audience no line names or details a policy the namespace does not own', () => {
    const nameArb = fc.stringMatching(/^[a-z][a-z0-9-]{5,20}$/);
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: nameArb, ns: fc.constantFrom(undefined, 'team-a', 'team-b', 'team-c'), sev: fc.constantFrom<Severity>('Critical', 'Warning') }), { maxLength: 20 }),
        (specs) => {
          // Each summary carries a unique CIDR and port, as adapter summaries do.
          const cs = specs.map((s, i) => constraint(`id${i}`, s.ns, s.sev, `${s.name}-${i}`, `secret detail ${s.name}-${i} 10.77.${i}.3/32 port ${40000 + i}`));
          const out = renderWarnings(cs.map(applies), ctx()).join('\n');
          cs.forEach((c, i) => {
            if (c.source.namespace === 'team-a') return;
            expect(out).not.toContain(c.source.name);
            expect(out).not.toContain(`10.77.${i}.3`);
            expect(out).not.toContain(String(40000 + i));
          });
        },
      ),
    );
  });

  it('the self-contained fallback rule redacts the same way', () => {
    expect(redactForeign(applies(constraint('x', 'team-a', 'Warning')), ctx())).toHaveProperty('text');
    expect(JSON.stringify(redactForeign(applies(constraint('y', undefined, 'Warning', 'cluster-secret')), ctx()))).not.toContain('cluster-secret');
  });

  it('NotificationPolicy audience settings can reveal cluster policies to developers', () => {
    const reveal = viewRenderer(() => ({ maxDetail: 'full', revealOtherNamespaces: false, revealClusterScoped: true, reveal: [] }));
    const lines = renderWarnings([applies(constraint('cl', undefined, 'Warning', 'allowed-to-see'))], ctx(), { render: reveal });
    expect(lines[0]).toContain('NetworkPolicy allowed-to-see');
  });
});

describe('AdmissionHandler over the example cluster', () => {
  let analyzer: Analyzer;
  beforeAll(async () => {
    const { readInputs } = await import('../files.js');
    const { inputs } = await readInputs(['examples/cluster']);
    const objects = inputs.flatMap((i) => objectsFromText(i.text, i.file).objects);
    const packs = await loadAllPacks();
    analyzer = await analyzeObjects(objects, packs.packs);
  });

  it('warns about the namespace default-deny by name and redacts the cluster webhook', () => {
    const h = new AdmissionHandler({ lookup: analyzerLookup(analyzer) });
    const r = h.handle(review(createRequest(deployment('payments', 'new-api', { app: 'new-api' }))));
    expect(r.status).toBe(200);
    expect(r.outcome).toBe('warned');
    expect(r.body).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u-1', allowed: true } });
    expect(r.warnings.some((w) => w.includes('NetworkPolicy payments/default-deny-ingress'))).toBe(true);
    expect(r.warnings.some((w) => /an admission policy owned by the cluster \(deny\)/.test(w))).toBe(true);
    expect(r.warnings.join()).not.toContain('acme-image-policy');
  });

  it('answers malformed bodies with 400 or an allowed review, never an exception', () => {
    const h = new AdmissionHandler({ lookup: analyzerLookup(analyzer) });
    expect(h.handle('nope')).toMatchObject({ status: 400, outcome: 'malformed' });
    expect(h.handle(review({ uid: 'u-2', operation: 'CREATE' }))).toMatchObject({ status: 200, outcome: 'malformed', body: { response: { uid: 'u-2', allowed: true } } });
  });

  it('fails open when the lookup throws, and skips deletes and controller-owned pods', () => {
    const broken = new AdmissionHandler({
      lookup: {
        applicableTo: () => {
          throw new Error('index corrupted');
        },
        namespaceLabels: () => undefined,
      },
    });
    expect(broken.handle(review(createRequest(deployment('payments', 'x', {}))))).toMatchObject({ status: 200, outcome: 'error', body: { response: { allowed: true } } });
    const h = new AdmissionHandler({ lookup: analyzerLookup(analyzer) });
    expect(h.handle(review(createRequest(deployment('payments', 'x', {}), { operation: 'DELETE', object: null }))).outcome).toBe('skipped');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'x-1', namespace: 'payments', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'u', controller: true }] },
      spec: { containers: [] },
    };
    expect(h.handle(review({ ...createRequest(pod), kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' } })).outcome).toBe('skipped');
  });

  it('answers late requests at once, without warnings', () => {
    const h = new AdmissionHandler({ lookup: analyzerLookup(analyzer), budgetMs: 5 });
    const r = h.handle(review(createRequest(deployment('payments', 'y', {}))), performance.now() - 50);
    expect(r).toMatchObject({ status: 200, outcome: 'late', warnings: [] });
  });
});

describe('which resources the webhook watches', () => {
  it('follows the adapters: named resources, kinds, or a whole group; only list+watch-able ones', async () => {
    const { resolveWanted } = await import('./feed.js');
    const res = (group: string, version: string, resource: string, kind: string, preferred = true, verbs = ['get', 'list', 'watch']) => ({ group, version, resource, kind, namespaced: true, verbs, shortNames: [], preferred });
    const served = [
      res('', 'v1', 'namespaces', 'Namespace'),
      res('', 'v1', 'pods', 'Pod'),
      res('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy'),
      res('constraints.gatekeeper.sh', 'v1beta1', 'k8srequiredlabels', 'K8sRequiredLabels'),
      res('constraints.gatekeeper.sh', 'v1alpha1', 'k8srequiredlabels', 'K8sRequiredLabels', false),
      res('security.istio.io', 'v1', 'peerauthentications', 'PeerAuthentication'),
      res('security.istio.io', 'v1', 'authorizationpolicies', 'AuthorizationPolicy'),
      res('kyverno.io', 'v1', 'clusterpolicies', 'ClusterPolicy', true, ['get']),
    ];
    const wanted = [
      { group: '', resources: ['namespaces'], versions: ['v1'] },
      { group: 'networking.k8s.io', resources: ['networkpolicies'] },
      { group: 'constraints.gatekeeper.sh' },
      { group: 'security.istio.io', kinds: ['PeerAuthentication'] },
      { group: 'kyverno.io', resources: ['clusterpolicies'] },
    ];
    expect(resolveWanted(wanted, served).map((r) => `${r.gvr.group}/${r.gvr.version}/${r.gvr.resource}`).sort()).toEqual(
      ['/v1/namespaces', 'constraints.gatekeeper.sh/v1beta1/k8srequiredlabels', 'networking.k8s.io/v1/networkpolicies', 'security.istio.io/v1/peerauthentications'].sort(),
    );
  });

  it('derives the wanted list from the built-in packs', async () => {
    const { wantedResources } = await import('./feed.js');
    const packs = await loadAllPacks();
    const w = wantedResources(packs.packs);
    expect(w).toContainEqual({ group: 'networking.k8s.io', resources: ['networkpolicies'] });
    expect(w.some((x) => x.group === '' && x.resources?.includes('namespaces'))).toBe(true);
  });
});
