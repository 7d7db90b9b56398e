// The privacy invariant of DESIGN §6, as a property: at developer audience, no rendered
// delivery contains the name, namespace, port numbers, CIDRs or selector labels of a
// constraint owned by another namespace or by the cluster, unless NotificationPolicy
// reveals it. Checked over the built-in notification routes and over a careless route
// that echoes the correlation's explanation and details verbatim.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Attribution, Constraint, Delivery } from './model.js';
import { loadPacks, type CompiledPack } from './pack/loader.js';
import { DEFAULT_AUDIENCES, constraintView, isVisible, resolvePolicy, scrubber, sensitiveTokens, type NotificationPolicy } from './privacy.js';
import { NotifyStage } from './stages/notify.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const VIEWER_NS = 'team-a';

function packsOf(yaml: string, file: string): CompiledPack[] {
  const r = loadPacks(yaml, { file });
  if (r.problems.some((p) => p.severity === 'error')) throw new Error(r.problems.map((p) => p.message).join('; '));
  return r.packs;
}

const BUILTIN = packsOf(readFileSync(join(root, 'rules', 'notifications', 'default.yaml'), 'utf8'), 'default.yaml');
const CARELESS = packsOf(
  `
apiVersion: potoo.io/v1alpha1
kind: RulePack
metadata: {name: careless}
spec:
  notifications:
    - name: echo
      on: attribution
      conditions: {all: [{fact: subject, path: $.resolved, operator: equal, value: true}]}
      deliver:
        channel: webhook
        audience: developer
        detail: full
        text: "{{ attribution.explanation }} {{ attribution.details }} {{ constraints.map(c, c.label + c.summary).join(';') }}"
        data:
          raw: "{{ attribution.details }}"
          explanation: "{{ attribution.explanation }}"
`,
  'careless.yaml',
);

// Hidden tokens carry a `zq` prefix no template or visible name uses, so a hit is a leak.
const word = (prefix: string) => fc.stringMatching(/^[a-z][a-z0-9]{2,7}$/).map((s) => `${prefix}${s}`);
const owner = fc.constantFrom('same', 'other', 'cluster');
const TYPES = ['NetworkIngress', 'NetworkEgress', 'Admission', 'ResourceQuota', 'ResourceLimit'];

const constraintArb = fc
  .record({
    owner,
    ns: word('zqns'),
    name: word('zqn'),
    ownName: word('own'),
    type: fc.constantFrom(...TYPES),
    effect: fc.constantFrom('deny', 'restrict', 'limit'),
    labelKey: word('zqk'),
    labelValue: word('zqv'),
    exprKey: word('zqe'),
    exprValue: word('zqx'),
    peerKey: word('zqpk'),
    peerValue: word('zqpv'),
    port: fc.integer({ min: 1024, max: 65535 }),
    cidr: fc.tuple(fc.integer({ min: 11, max: 250 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `172.${a}.${b}.0/24`),
    webhook: word('zqw').map((w) => `${w}.example.com`),
  })
  .map((g) => {
    const namespace = g.owner === 'same' ? VIEWER_NS : g.owner === 'other' ? g.ns : undefined;
    const name = g.owner === 'same' ? g.ownName : g.name;
    const c: Constraint = {
      id: `policies.example.com/${namespace ? namespace + '/' : ''}${name}#p/r`,
      type: g.type,
      effect: g.effect,
      severity: 'Warning',
      source: { apiVersion: 'example.com/v1', kind: 'Policy', group: 'example.com', resource: 'policies', name, ...(namespace ? { namespace } : {}) },
      rule: { pack: 'p', rule: 'r' },
      scope: {
        ...(namespace ? { namespaces: [namespace] } : {}),
        selector: { matchLabels: { [g.labelKey]: g.labelValue } },
        namespaceSelector: { matchExpressions: [{ key: g.exprKey, operator: 'In', values: [g.exprValue] }] },
      },
      summary: `${name} in ${namespace ?? 'the cluster'} denies port ${g.port} from ${g.cidr} for ${g.labelKey}=${g.labelValue}`,
      details: { webhook: g.webhook, rules: [{ peers: [{ ipBlock: { cidr: g.cidr } }, { podSelector: { matchLabels: { [g.peerKey]: g.peerValue } } }], ports: [{ protocol: 'TCP', port: g.port }] }] },
      remediation: [
        { action: `Ask the owners of ${namespace ?? 'the cluster'} to open port ${g.port} in ${name}`, who: 'developer' },
        { action: `Edit ${name} (${g.webhook})`, who: 'namespace-admin' },
      ],
      tags: [],
    };
    return { c, tokens: { strings: [name, namespace ?? '', g.labelKey, g.labelValue, g.exprKey, g.exprValue, g.peerKey, g.peerValue, g.cidr, g.cidr.split('/')[0] as string, g.webhook].filter((s) => s !== '' && s !== VIEWER_NS), port: String(g.port) } };
  });

function attributionFor(constraints: Constraint[]): Attribution {
  // As careless as a correlation explanation can be: every identifying detail, verbatim.
  const explanation = constraints.map((c) => `${c.source.name}/${c.source.namespace ?? ''}: ${c.summary} ${JSON.stringify(c.scope)} ${JSON.stringify(c.details)}`).join(' | ');
  return {
    id: 'a1',
    rule: { pack: 'correlate-x', rule: 'y' },
    signal: { kind: 'event', ref: 'event|x', namespace: VIEWER_NS },
    constraintIds: constraints.map((c) => c.id),
    confidence: 0.9,
    severity: 'Critical',
    explanation,
    details: { match: { text: explanation }, constraints: constraints.map((c) => c.details) },
    workload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app-web', namespace: VIEWER_NS },
    count: 3,
  };
}

function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (out.push(k), strings(x, out));
  return out;
}

function leaks(d: Delivery, hidden: { strings: string[]; port: string }[]): string[] {
  const texts = [d.text, ...strings(d.data)];
  const found: string[] = [];
  for (const h of hidden) {
    const port = new RegExp(`(?<![0-9])${h.port}(?![0-9])`);
    for (const t of texts) {
      for (const s of h.strings) if (t.includes(s)) found.push(`${JSON.stringify(s)} in ${JSON.stringify(t.slice(0, 200))}`);
      if (port.test(t)) found.push(`port ${h.port} in ${JSON.stringify(t.slice(0, 200))}`);
    }
  }
  return found;
}

describe('privacy', () => {
  it('developers never see what other namespaces or the cluster own, unless a NotificationPolicy reveals it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(constraintArb, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom<'summary' | 'detailed' | 'full'>('summary', 'detailed', 'full'),
        async (gen, revealOther, revealCluster, channelDetail) => {
          const constraints = gen.map((g) => g.c);
          const policy: NotificationPolicy = {
            metadata: { name: 'cluster', namespace: 'potoo-system' },
            spec: {
              audiences: { developer: { maxDetail: 'full', revealOtherNamespaces: revealOther, revealClusterScoped: revealCluster } },
              channels: [{ name: 'team', type: 'slack', audience: 'developer', detail: channelDetail, minSeverity: 'Info', urlSecretRef: { name: 's' } }],
            },
          };
          const hidden = gen.filter((g) => (g.c.source.namespace === undefined ? !revealCluster : g.c.source.namespace !== VIEWER_NS && !revealOther)).map((g) => g.tokens);
          for (const packs of [BUILTIN, CARELESS]) {
            const stage = new NotifyStage(packs, undefined, { policies: [policy] });
            const r = await stage.notify({ subject: { kind: 'attribution', attribution: attributionFor(constraints) }, constraints });
            expect(r.problems).toEqual([]);
            const dev = r.deliveries.filter((d) => d.audience === 'developer');
            expect(dev.length).toBeGreaterThan(0);
            for (const d of dev) expect(leaks(d, hidden), `${d.rule.rule} ${d.channel}`).toEqual([]);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('shows a developer what their own namespace owns, by name', () => {
    const own: Constraint = {
      id: 'resourcequotas/team-a/compute#q/q',
      type: 'ResourceQuota',
      effect: 'limit',
      severity: 'Warning',
      source: { apiVersion: 'v1', kind: 'ResourceQuota', group: '', resource: 'resourcequotas', name: 'compute', namespace: VIEWER_NS },
      rule: { pack: 'q', rule: 'q' },
      scope: { namespaces: [VIEWER_NS] },
      summary: 'Quota compute limits pods',
      details: {},
      remediation: [{ action: 'Lower requests', who: 'developer' }, { action: 'Raise the quota', who: 'namespace-admin' }],
      tags: [],
    };
    const dev = { audience: 'developer' as const, namespace: VIEWER_NS, detail: 'detailed' as const, policy: DEFAULT_AUDIENCES.developer };
    expect(isVisible(own, dev)).toBe(true);
    expect(constraintView(own, dev)).toMatchObject({ visible: true, label: 'ResourceQuota compute', name: 'compute', remediation: [{ action: 'Lower requests' }] });
    const other = { ...own, source: { ...own.source, namespace: 'team-b' } };
    expect(constraintView(other, dev)).toMatchObject({ visible: false, name: '', label: 'a resource quota owned by another namespace' });
  });

  it('collects the identifying tokens of a constraint', () => {
    const t = sensitiveTokens({
      id: 'x#y',
      type: 'NetworkEgress',
      effect: 'deny',
      severity: 'Info',
      source: { apiVersion: 'v1', kind: 'P', group: '', resource: 'ps', name: 'egress-lock', namespace: 'platform' },
      rule: { pack: 'p', rule: 'r' },
      scope: { namespaces: ['platform'], selector: { matchLabels: { tier: 'backend' } } },
      summary: '',
      details: { rules: [{ peers: [{ ipBlock: { cidr: '10.2.0.0/16', except: ['10.2.3.0/24'] } }, { namespaceSelector: { matchLabels: { env: 'prod' } } }], ports: [{ port: 5432 }, { port: 'https' }] }] },
      remediation: [],
      tags: [],
    });
    expect(t.strings).toEqual(expect.arrayContaining(['egress-lock', 'platform', 'tier', 'backend', '10.2.0.0/16', '10.2.0.0', '10.2.3.0/24', 'env', 'prod', 'https']));
    expect(t.ports).toEqual(['5432']);
  });

  it('scrubs whole port numbers only, and keeps allowed words that contain a hidden one', () => {
    const scrub = scrubber({ strings: ['web'], ports: ['80'] }, ['web-frontend']);
    expect(scrub('web-frontend on 80, not 8080 or 180; web')).toBe('web-frontend on [redacted], not 8080 or 180; [redacted]');
  });

  it('resolves NotificationPolicies: a namespace may hide more, never reveal what it does not own', () => {
    const cluster: NotificationPolicy = {
      metadata: { name: 'c', namespace: 'potoo-system' },
      spec: {
        namespaceSelector: { matchLabels: { team: 'a' } },
        audiences: { developer: { maxDetail: 'full', revealClusterScoped: true } },
        channels: [{ name: 'platform', type: 'slack', audience: 'platform-admin', detail: 'full', urlSecretRef: { name: 'p' }, namespaces: ['team-*'] }],
      },
    };
    const local: NotificationPolicy = {
      metadata: { name: 'mine', namespace: VIEWER_NS },
      spec: {
        audiences: { developer: { maxDetail: 'summary', revealOtherNamespaces: true } },
        channels: [{ name: 'team', type: 'teams', urlSecretRef: { name: 't' } }],
      },
    };
    const p = resolvePolicy([cluster, local], VIEWER_NS, { team: 'a' }, ['potoo-system']);
    expect(p.audiences.developer).toMatchObject({ maxDetail: 'summary', revealClusterScoped: true, revealOtherNamespaces: false });
    expect(p.channels.map((c) => `${c.policy}/${c.name}:${c.audience}:${c.detail}`)).toEqual(['potoo-system/c/platform:platform-admin:full', 'team-a/mine/team:developer:summary']);
    expect(p.channels[1]?.urlSecretRef).toEqual({ name: 't', namespace: VIEWER_NS });
    // Not governed (labels do not match): defaults, and only the namespace's own channels.
    const q = resolvePolicy([cluster], 'team-b', { team: 'b' }, ['potoo-system']);
    expect(q.audiences.developer.revealClusterScoped).toBe(false);
    expect(q.channels).toEqual([]);
  });
});
