import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test/wait.js';
import { KubeConfig } from '@kubernetes/client-node';
import { resolvePolicy, type NotificationPolicy, type StageFacts } from '../../engine/stages/index.js';
import { KubeClient } from '../kube/client.js';
import { silentLogger } from '../log.js';
import { NotificationPipeline } from './notifications.js';
import { checkPolicy, policyStatus, type PolicyStatus } from './policystatus.js';

const TRUSTED = ['potoo-system'];
const now = new Date('2026-01-01T00:00:00Z');
const policy = (namespace: string, spec: unknown, generation = 2) => ({ apiVersion: 'potoo.io/v1alpha1', kind: 'NotificationPolicy', metadata: { name: 'team', namespace, uid: 'u1', generation }, spec });
const slack = (name: string, secret = 'slack-hook') => ({ name, type: 'slack', urlSecretRef: { name: secret } });
const conds = (s: PolicyStatus) => s.conditions.map((c) => [c.type, c.status, c.reason]);
const ok = { secrets: [], deliveries: 0 };

describe('checkPolicy and policyStatus', () => {
  it('a valid namespace policy: Accepted and Ready, with observedGeneration on the status and each condition', () => {
    const check = checkPolicy(policy('team-a', { channels: [slack('chat'), { name: 'hook', type: 'webhook', urlSecretRef: { name: 'h', key: 'u' }, signingSecretRef: { name: 'sig' } }] }), TRUSTED);
    expect(check.problems).toEqual([]);
    expect(check.channels.map((c) => [c.name, c.secrets.map((s) => `${s.namespace}/${s.name}#${s.key}`)])).toEqual([
      ['chat', ['team-a/slack-hook#url']],
      ['hook', ['team-a/h#u', 'team-a/sig#secret']],
    ]);
    const st = policyStatus(check, { secrets: [], deliveries: 3, lastDeliveryTime: '2025-12-31T23:59:00Z' }, undefined, now);
    expect(conds(st)).toEqual([
      ['Accepted', 'True', 'Accepted'],
      ['Ready', 'True', 'Ready'],
    ]);
    expect(st).toMatchObject({ observedGeneration: 2, deliveries: 3, lastDeliveryTime: '2025-12-31T23:59:00Z' });
    expect(st.conditions.every((c) => c.observedGeneration === 2 && c.lastTransitionTime === '2026-01-01T00:00:00Z')).toBe(true);
    expect(st.conditions[0]?.message).toBe('policy for namespace team-a, 2 chat/webhook channels');
  });

  it('channels the notify stage skips make the policy not Accepted, naming each field; the rest stays in force', () => {
    const check = checkPolicy(policy('team-a', { channels: [slack('chat'), { name: 'x', type: 'email', urlSecretRef: { name: 's' } }, { name: 'y', type: 'teams' }, slack('chat', 'other')] }), TRUSTED);
    expect(check.channels.map((c) => c.name)).toEqual(['chat']);
    expect(check.problems).toEqual([
      { severity: 'error', field: 'spec.channels[1]', message: 'type must be one of slack, teams, webhook: the channel is ignored' },
      { severity: 'error', field: 'spec.channels[2]', message: 'urlSecretRef.name is missing: the channel is ignored' },
      { severity: 'error', field: 'spec.channels[3].name', message: 'chat is also the name of spec.channels[0]; only that first channel is used' },
    ]);
    const st = policyStatus(check, ok, undefined, now);
    expect(conds(st)).toEqual([
      ['Accepted', 'False', 'InvalidSpec'],
      ['Ready', 'False', 'InvalidSpec'],
    ]);
    expect(st.conditions[0]?.message).toMatch(/^spec\.channels\[1\]: type must be one of .*; spec\.channels\[2\]: .*; spec\.channels\[3\]\.name: .*\. The rest of the policy is in force/);
    const noSpec = policyStatus(checkPolicy(policy('team-a', 'x'), TRUSTED), ok, undefined, now);
    expect(noSpec.conditions[0]).toMatchObject({ status: 'False', reason: 'InvalidSpec', message: 'spec: must be an object; the policy is not used.' });
  });

  it('the usable channels are exactly the ones resolvePolicy routes to', () => {
    const spec = { channels: [slack('a'), { name: 'b', type: 'pager', urlSecretRef: { name: 's' } }, slack('a', 'dup'), { type: 'slack', urlSecretRef: { name: 's' } }, { name: 'c', type: 'teams', urlSecretRef: { name: 't' } }] };
    const p = policy('team-a', spec) as unknown as NotificationPolicy;
    const routed = resolvePolicy([p], 'team-a', {}, TRUSTED).channels.map((c) => [c.name, c.urlSecretRef.namespace, c.urlSecretRef.name]);
    const usable = checkPolicy(policy('team-a', spec), TRUSTED).channels.map((c) => [c.name, c.secrets[0]?.namespace, c.secrets[0]?.name]);
    expect(usable).toEqual(routed);
  });

  it("fields without effect in a namespace's policy are named (still Accepted); a cluster policy may set them", () => {
    const spec = {
      namespaceSelector: { matchLabels: { team: 'a' } },
      rateLimitPerMinute: 10,
      audiences: { developer: { revealOtherNamespaces: true, maxDetail: 'summary', reveal: [{ kind: 'NetworkPolicy' }] }, 'namespace-admin': { revealClusterScoped: false } },
      channels: [{ ...slack('chat'), namespaces: ['team-*'], signingSecretRef: { name: 'sig' } }],
    };
    const local = checkPolicy(policy('team-a', spec), TRUSTED);
    expect(local.problems.map((p) => [p.severity, p.field])).toEqual([
      ['warning', 'spec.namespaceSelector'],
      ['warning', 'spec.rateLimitPerMinute'],
      ['warning', 'spec.audiences.developer.revealOtherNamespaces'],
      ['warning', 'spec.audiences.developer.reveal'],
      ['warning', 'spec.channels[0].namespaces'],
      ['warning', 'spec.channels[0].signingSecretRef'],
    ]);
    const st = policyStatus(local, ok, undefined, now);
    expect(conds(st)).toEqual([
      ['Accepted', 'True', 'FieldsIgnored'],
      ['Ready', 'True', 'Ready'],
    ]);
    expect(st.conditions[0]?.message).toContain('spec.rateLimitPerMinute: only cluster policies (in a trusted namespace: potoo-system) use it; ignored here');
    const cluster = checkPolicy(policy('potoo-system', spec), TRUSTED);
    expect(cluster.problems.map((p) => p.field)).toEqual(['spec.channels[0].signingSecretRef']);
    expect(policyStatus(cluster, ok, undefined, now).conditions[0]?.message).toMatch(/^cluster policy \(namespace potoo-system is trusted\) for the namespaces its namespaceSelector matches/);
  });

  it('a channel Secret that is missing makes it not Ready, naming channel, field and Secret; an unreadable one is Unknown', () => {
    const check = checkPolicy(policy('team-a', { channels: [slack('chat'), slack('ops', 'ops-hook')] }), TRUSTED);
    const missing = policyStatus(check, { deliveries: 0, secrets: [{ channel: 'ops', field: 'spec.channels[1].urlSecretRef', reason: 'SecretNotFound', message: 'Secret team-a/ops-hook: not found' }] }, undefined, now);
    expect(missing.conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'SecretNotFound',
      message: 'not delivered until fixed: channel ops (spec.channels[1].urlSecretRef): Secret team-a/ops-hook: not found',
    });
    expect(missing.conditions.find((c) => c.type === 'Accepted')?.status).toBe('True');
    const down = policyStatus(check, { deliveries: 0, secrets: [{ channel: 'ops', field: 'spec.channels[1].urlSecretRef', reason: 'SecretUnreadable', message: 'Secret team-a/ops-hook: connection refused' }] }, undefined, now);
    expect(down.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'SecretUnreadable' });
  });

  it('an unchanged status is equal (not rewritten); a condition that flips gets a new transition time, the others keep theirs', () => {
    const check = checkPolicy(policy('team-a', { channels: [slack('chat')] }), TRUSTED);
    const first = policyStatus(check, ok, undefined, now);
    const later = new Date('2026-01-02T00:00:00Z');
    expect(policyStatus(check, ok, first, later)).toEqual(first);
    const gone = policyStatus(check, { deliveries: 0, secrets: [{ channel: 'chat', field: 'spec.channels[0].urlSecretRef', reason: 'SecretNotFound', message: 'gone' }] }, first, later);
    expect(gone.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('2026-01-02T00:00:00Z');
    expect(gone.conditions.find((c) => c.type === 'Accepted')?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });
});

// The pipeline against a small fake apiserver: list/watch of NotificationPolicies, Secrets,
// the status subresource, and the Slack receiver the Secret points at.
interface Fake {
  url: string;
  patches: { path: string; body: unknown }[];
  policies: Record<string, unknown>[];
  secrets: Map<string, Record<string, string>>;
  received: number;
  close(): Promise<void>;
}

async function fakeApi(): Promise<Fake> {
  const open = new Set<http.ServerResponse>();
  const fake: Fake = {
    url: '',
    patches: [],
    policies: [],
    secrets: new Map(),
    received: 0,
    close: () =>
      new Promise((resolve) => {
        for (const r of open) r.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const json = (res: http.ServerResponse, status: number, body: unknown): void => void res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/hook') {
        fake.received++;
        return void res.writeHead(200).end('ok');
      }
      if (u.pathname === '/apis/potoo.io/v1alpha1/notificationpolicies') {
        if (u.searchParams.get('watch') === 'true') {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          open.add(res);
          return void res.on('close', () => open.delete(res));
        }
        return json(res, 200, { kind: 'NotificationPolicyList', apiVersion: 'potoo.io/v1alpha1', metadata: { resourceVersion: '10' }, items: fake.policies });
      }
      const secret = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(u.pathname);
      if (secret) {
        const data = fake.secrets.get(`${secret[1]}/${secret[2]}`);
        if (!data) return json(res, 404, { kind: 'Status', code: 404, reason: 'NotFound', message: `secrets "${secret[2]}" not found` });
        return json(res, 200, { kind: 'Secret', data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) });
      }
      if (req.method === 'PATCH' && u.pathname.endsWith('/status')) {
        fake.patches.push({ path: u.pathname, body: JSON.parse(body) as unknown });
        return json(res, 200, {});
      }
      json(res, 404, { kind: 'Status', code: 404, reason: 'NotFound', message: u.pathname });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}


describe('NotificationPipeline writes NotificationPolicy status (fake API)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('leader only: conditions via the status subresource, a missing Secret named, deliveries counted; unchanged status not rewritten', async () => {
    const fake = await fakeApi();
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: fake.url, skipTLSVerify: true }], users: [{ name: 'u', token: 't' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const client = await KubeClient.create(kc);
    fake.policies = [{ ...policy('team-a', { channels: [slack('chat'), slack('ops', 'ops-hook')] }), metadata: { name: 'team', namespace: 'team-a', uid: 'u1', generation: 2, resourceVersion: '5' } }];
    fake.secrets.set('team-a/slack-hook', { url: `${fake.url}/hook` });
    const pipeline = new NotificationPipeline({ client, facts: {} as StageFacts, identity: 'test', trustedNamespaces: TRUSTED, log: silentLogger(), onReportChange: () => undefined, statusDelayMs: 10 });
    cleanups.push(async () => {
      await pipeline.stop();
      client.close();
      await fake.close();
    });
    pipeline.start();
    await pipeline.settled();
    await pipeline.syncPolicyStatuses();
    expect(fake.patches).toEqual([]); // a standby writes nothing

    pipeline.setLeading(true);
    await until(() => fake.patches.length === 1);
    const patch = fake.patches[0]!;
    expect(patch.path).toBe('/apis/potoo.io/v1alpha1/namespaces/team-a/notificationpolicies/team/status');
    const [op] = patch.body as [{ op: string; path: string; value: PolicyStatus }];
    expect(op).toMatchObject({ op: 'add', path: '/status' });
    expect(op.value).toMatchObject({ observedGeneration: 2, deliveries: 0 });
    expect(conds(op.value)).toEqual([
      ['Accepted', 'True', 'Accepted'],
      ['Ready', 'False', 'SecretNotFound'],
    ]);
    expect(op.value.conditions[1]?.message).toBe('not delivered until fixed: channel ops (spec.channels[1].urlSecretRef): Secret team-a/ops-hook: not found');

    // A delivery through the policy's channel is counted in the next status.
    const target = { name: 'chat', type: 'slack', policy: 'team-a/team', urlSecretRef: { namespace: 'team-a', name: 'slack-hook' } };
    const n = pipeline.sinks.toNotification({
      channel: 'slack',
      rule: { pack: 'p', rule: 'r' },
      audience: 'developer',
      detail: 'summary',
      subject: { kind: 'attribution', id: 'a1', namespace: 'team-a' },
      text: 'quota q1 is full',
      data: { severity: 'Warning', target },
    });
    expect(pipeline.notifier.submit(n!)).toBe('queued');
    await pipeline.idle();
    expect(fake.received).toBe(1);
    fake.secrets.set('team-a/ops-hook', { url: `${fake.url}/hook` });
    await pipeline.syncPolicyStatuses();
    expect(fake.patches).toHaveLength(2);
    const second = (fake.patches[1]!.body as [{ value: PolicyStatus }])[0].value;
    expect(conds(second)).toEqual([
      ['Accepted', 'True', 'Accepted'],
      ['Ready', 'True', 'Ready'],
    ]);
    expect(second.deliveries).toBe(1);
    expect(second.lastDeliveryTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // The cache has not seen our writes (this fake sends no watch events): nothing is rewritten, and the
    // next delivery counts on top of what was written, not of the stale cache.
    await pipeline.syncPolicyStatuses();
    expect(fake.patches).toHaveLength(2);
    expect(pipeline.notifier.submit({ ...n!, id: 'second' })).toBe('queued');
    await pipeline.idle();
    await pipeline.syncPolicyStatuses();
    expect(fake.patches).toHaveLength(3);
    expect((fake.patches[2]!.body as [{ value: PolicyStatus }])[0].value.deliveries).toBe(2);
  });
});
