// Issue 5 end to end inside `potoo controller`, on a real kube-apiserver, under the
// least-privilege RBAC from deploy/: a ResourceQuota rejects a Pod (the apiserver's own
// message), the matching Warning Event (played by the test: there is no controller-manager
// here) becomes Potoo's Event on the Deployment within 2 s, a Slack receiver configured
// by a NotificationPolicy + Secret gets the message (and the policy's status counts it),
// the ConstraintReport lists the attribution; a requirement finding appears after its debounce and clears when the
// ServiceMonitor arrives; `potoo explain` reads the live cluster; /metrics has it all.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../runtime/controller/manager.js';
import { startHttpServer, type HttpServer } from '../../runtime/http/server.js';
import { LocalObserver, type WireFlow } from '../../runtime/hubble/index.js';
import { KubeClient } from '../../runtime/kube/client.js';
import { Metrics } from '../../runtime/metrics.js';
import { crd, kubeConfigFromFile, kubectlWith, memoryLogger, repoRoot, startPotooCluster, waitFor, type PotooCluster } from './helpers.js';

const NS = 'team-q';
interface Received {
  at: number;
  path: string;
  body: { text?: string; blocks?: unknown[] };
}

interface EventsV1 {
  items: {
    metadata: { name: string; resourceVersion: string };
    reason: string;
    note: string;
    type: string;
    action: string;
    reportingController: string;
    regarding: { kind: string; name: string; uid?: string };
    series?: { count: number };
  }[];
}

let pc: PotooCluster;
let ctl: Controller;
let api: HttpServer;
let admin: KubeClient;
let slack: http.Server;
let hang: http.Server;
let observer: LocalObserver;
const received: Received[] = [];
let logs: Record<string, unknown>[];
let quotaMessage = '';
let deployUid = '';

async function potooEvents(regardingName: string): Promise<EventsV1['items']> {
  const list = await admin.request<EventsV1>({ path: `/apis/events.k8s.io/v1/namespaces/${NS}/events` });
  return list.items.filter((e) => e.reportingController === 'potoo.io/controller' && e.regarding.name === regardingName);
}

async function coreEvent(name: string, fields: { reason: string; message: string; involved: Record<string, unknown>; count?: number }): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await admin.request({
    method: 'POST',
    path: `/api/v1/namespaces/${NS}/events`,
    body: {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: NS },
      involvedObject: { namespace: NS, ...fields.involved },
      reason: fields.reason,
      message: fields.message,
      type: 'Warning',
      count: fields.count ?? 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: 'replicaset-controller' },
      reportingComponent: 'replicaset-controller',
    },
  });
}

function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const script = `const m = await import(${JSON.stringify(path.join(repoRoot, 'runtime/cli/main.ts'))}); process.exitCode = await m.main(process.argv.slice(1));`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], { cwd: repoRoot, timeout: 60_000 }, (err, out, errOut) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: errOut });
    });
  });
}

async function metricsText(): Promise<string> {
  return (await fetch(`${api.url}/metrics`)).text();
}

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('Warning Events, requirements and notifications inside potoo controller', () => {
  beforeAll(async () => {
    slack = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ at: Date.now(), path: req.url ?? '', body: JSON.parse(body || '{}') as Received['body'] });
        res.writeHead(200).end('ok');
      });
    });
    // A receiver that accepts the connection and never answers.
    hang = http.createServer(() => undefined);
    await new Promise<void>((r) => slack.listen(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    const slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T000/B000/XXX`;
    const hangUrl = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/hook`;

    observer = new LocalObserver();
    const observerPort = await observer.start(0);
    pc = await startPotooCluster();
    admin = await KubeClient.create(kubeConfigFromFile(pc.admin), { userAgent: 'potoo-test-admin' });
    await pc.apply(crd('monitoring.coreos.com', 'ServiceMonitor', 'servicemonitors'));
    await pc.kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd/servicemonitors.monitoring.coreos.com');
    await pc.apply(`
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q1, namespace: ${NS}}
spec: {hard: {pods: "1"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-ingress-lockdown, namespace: ${NS}}
spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}
---
apiVersion: v1
kind: Secret
metadata: {name: team-slack, namespace: ${NS}}
stringData: {url: "${slackUrl}"}
---
apiVersion: v1
kind: Secret
metadata: {name: stuck-hook, namespace: ${NS}}
stringData: {url: "${hangUrl}"}
---
apiVersion: potoo.io/v1alpha1
kind: NotificationPolicy
metadata: {name: team, namespace: ${NS}}
spec:
  channels:
    - {name: team-slack, type: slack, audience: developer, detail: summary, minSeverity: Warning, urlSecretRef: {name: team-slack}}
    - {name: stuck, type: webhook, audience: developer, urlSecretRef: {name: stuck-hook}}
`);
    deployUid = (await pc.kubectl('-n', NS, 'get', 'deployment', 'web', '-o', 'jsonpath={.metadata.uid}')).trim();
    // What the ReplicaSet controller would have made: web's ReplicaSet, owned by it.
    await pc.apply(`
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d8f9c7b6
  namespace: ${NS}
  labels: {app: web, pod-template-hash: 5d8f9c7b6}
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: ${deployUid}, controller: true, blockOwnerDeletion: true}]
spec:
  replicas: 2
  selector: {matchLabels: {app: web, pod-template-hash: 5d8f9c7b6}}
  template:
    metadata: {labels: {app: web, pod-template-hash: 5d8f9c7b6}}
    spec: {containers: [{name: web, image: nginx}]}
`);
    // No quota controller here: publish the quota's usage as it would (one pod running).
    await pc.kubectl('-n', NS, 'patch', 'resourcequota', 'q1', '--subresource=status', '--type=merge', '-p', '{"status":{"hard":{"pods":"1"},"used":{"pods":"1"}}}');

    const m = memoryLogger();
    logs = m.lines;
    ctl = new Controller({
      kubeConfig: kubeConfigFromFile(pc.controller),
      namespace: 'potoo-system',
      identity: 'signals-it',
      leaderElection: false,
      reports: { debounceMs: 100, maxDelayMs: 500 },
      informer: { idleTimeoutMs: 60_000 },
      signals: { seriesFlushMs: 300, hubble: { address: `127.0.0.1:${observerPort}` } },
      requirements: { debounceMs: 1000 },
      log: m.log,
      metrics: new Metrics(),
    });
    api = await startHttpServer(ctl, { host: '127.0.0.1', port: 0, log: m.log });
    await ctl.start();
  }, 240_000);

  afterAll(async () => {
    await ctl?.stop();
    await api?.close();
    admin?.close();
    slack?.closeAllConnections();
    hang?.closeAllConnections();
    slack?.close();
    hang?.close();
    await observer?.stop();
    await pc?.stop();
  }, 60_000);

  it('the apiserver rejects a Pod over the quota with its own message', async () => {
    const err = await kubectlWith(pc.admin, ['-n', NS, 'run', 'extra', '--image=nginx', '--restart=Never']).then(
      () => '',
      (e: Error) => e.message,
    );
    const m = /(pods "extra" is forbidden: exceeded quota: q1[^\n]*)/.exec(err);
    expect(m, err).not.toBeNull();
    quotaMessage = m![1]!.trim();
    expect(quotaMessage).toMatch(/requested: pods=1, used: pods=1, limited: pods=1/);
  });

  it('a FailedCreate Warning Event becomes an Event on the Deployment naming the quota within 2 s; kubectl shows it', async () => {
    expect(quotaMessage).not.toBe('');
    const t0 = performance.now();
    await coreEvent('web-5d8f9c7b6.quota1', {
      reason: 'FailedCreate',
      message: `Error creating: ${quotaMessage.replace('"extra"', '"web-5d8f9c7b6-x7k2p"')}`,
      involved: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f9c7b6' },
    });
    const ev = await waitFor(async () => (await potooEvents('web')).find((e) => e.note.includes('q1')), 5000, "Potoo's Event on deployment/web", 20);
    const ms = performance.now() - t0;
    console.log(`Warning Event -> Potoo Event on the Deployment: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThanOrEqual(2000);
    expect(ev.regarding).toMatchObject({ kind: 'Deployment', name: 'web', uid: deployUid });
    expect(ev.type).toBe('Warning');
    expect(ev.reason).toBe('QuotaExceeded');
    expect(ev.action).toBe('Explain');
    expect(ev.note).toContain('ResourceQuota q1');

    const events = await kubectlWith(pc.admin, ['events', '-n', NS]);
    console.log(`kubectl events -n ${NS}:\n${events}`);
    expect(events).toMatch(/QuotaExceeded\s+deployment\/web\s+.*ResourceQuota q1/i);
    const describe = await kubectlWith(pc.admin, ['describe', 'deployment/web', '-n', NS]);
    expect(describe).toMatch(/Warning\s+QuotaExceeded\s+.*potoo\.io\/controller.*ResourceQuota q1/s);
  });

  it('the Slack receiver from the NotificationPolicy + Secret gets the notification, once', async () => {
    const got = await waitFor(() => received.find((r) => JSON.stringify(r.body).includes('q1')), 10_000, 'the Slack message');
    console.log(`Slack received: ${JSON.stringify(got.body.text)}`);
    expect(got.path).toBe('/services/T000/B000/XXX');
    expect(got.body.text).toContain('web');
    expect(Array.isArray(got.body.blocks)).toBe(true);
  });

  it('NotificationPolicy status is written through the status subresource: Accepted/Ready, the Slack delivery counted, a missing Secret and a broken channel named', async () => {
    type Npol = { metadata: { generation: number }; status?: { observedGeneration?: number; deliveries?: number; lastDeliveryTime?: string; conditions?: { type: string; status: string; reason: string; message: string; observedGeneration?: number }[] } };
    const npol = async (ns: string, name: string): Promise<Npol> => JSON.parse(await pc.kubectl('-n', ns, 'get', 'notificationpolicy', name, '-o', 'json')) as Npol;
    const cond = (p: Npol, type: string) => p.status?.conditions?.find((c) => c.type === type);
    // Deliveries reach the status on the next housekeeping pass (every 10 s).
    const team = await waitFor(async () => {
      const p = await npol(NS, 'team');
      return cond(p, 'Ready')?.status === 'True' && (p.status?.deliveries ?? 0) >= 1 ? p : undefined;
    }, 25_000, 'the team policy status with its Slack delivery');
    expect(team.status?.observedGeneration).toBe(team.metadata.generation);
    expect(cond(team, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted', observedGeneration: team.metadata.generation, message: `policy for namespace ${NS}, 2 chat/webhook channels` });
    expect(team.status?.lastDeliveryTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // kubectl prints the first channel only; Ready is the column after Rate.
    expect(await pc.kubectl('-n', NS, 'get', 'npol', 'team')).toMatch(/READY[\s\S]*\nteam\s+team-slack\s+True\s/);

    // A namespace without workloads, so nothing is ever routed to these channels.
    await pc.apply(`
apiVersion: v1
kind: Namespace
metadata: {name: team-s}
---
apiVersion: potoo.io/v1alpha1
kind: NotificationPolicy
metadata: {name: no-secret, namespace: team-s}
spec:
  channels:
    - {name: ops, type: slack, urlSecretRef: {name: ops-hook}}
---
apiVersion: potoo.io/v1alpha1
kind: NotificationPolicy
metadata: {name: dup, namespace: team-s}
spec:
  channels:
    - {name: ops, type: slack, urlSecretRef: {name: ops-hook}}
    - {name: ops, type: teams, urlSecretRef: {name: teams-hook}}
`);
    const unready = await waitFor(async () => {
      const p = await npol('team-s', 'no-secret');
      return cond(p, 'Ready')?.status === 'False' ? p : undefined;
    }, 10_000, 'no-secret to be not Ready');
    expect(cond(unready, 'Ready')).toMatchObject({ reason: 'SecretNotFound', message: 'not delivered until fixed: channel ops (spec.channels[0].urlSecretRef): Secret team-s/ops-hook: not found' });
    expect(cond(unready, 'Accepted')?.status).toBe('True');
    const dup = await waitFor(async () => {
      const p = await npol('team-s', 'dup');
      return cond(p, 'Accepted')?.status === 'False' ? p : undefined;
    }, 10_000, 'dup to be not Accepted');
    expect(cond(dup, 'Accepted')).toMatchObject({ reason: 'InvalidSpec' });
    expect(cond(dup, 'Accepted')?.message).toContain('spec.channels[1].name: ops is also the name of spec.channels[0]; only that first channel is used');
    expect(cond(dup, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });

    // The Secret appears: no policy changed, the periodic pass notices.
    await pc.apply(`
apiVersion: v1
kind: Secret
metadata: {name: ops-hook, namespace: team-s}
stringData: {url: "http://127.0.0.1:9/unused"}
`);
    await waitFor(async () => cond(await npol('team-s', 'no-secret'), 'Ready')?.status === 'True', 25_000, 'no-secret to become Ready');
  });

  it('repeats (MODIFIED, count bumped) fold into one series and one report entry, not duplicates', async () => {
    const before = received.filter((r) => JSON.stringify(r.body).includes('q1')).length;
    await admin.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${NS}/events/web-5d8f9c7b6.quota1`,
      body: { count: 4, lastTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
      contentType: 'application/merge-patch+json',
    });
    const ev = await waitFor(async () => (await potooEvents('web')).find((e) => (e.series?.count ?? 1) >= 2), 5000, 'the series count');
    expect((await potooEvents('web')).filter((e) => e.reason === 'QuotaExceeded')).toHaveLength(1);
    expect(ev.series?.count).toBeGreaterThanOrEqual(2);
    const report = await waitFor(async () => {
      const r = JSON.parse(await pc.kubectl('-n', NS, 'get', 'constraintreport', 'potoo', '-o', 'json')) as { status?: { attributions?: { text: string; count?: number; workload?: string }[] } };
      const a = r.status?.attributions?.find((x) => x.text.includes('q1'));
      return a && (a.count ?? 0) >= 4 ? r.status!.attributions! : undefined;
    }, 5000, 'the report attribution with count 4');
    expect(report).toHaveLength(1);
    expect(report[0]).toMatchObject({ workload: 'Deployment/web' });
    await new Promise((r) => setTimeout(r, 500));
    expect(received.filter((r) => JSON.stringify(r.body).includes('q1')).length).toBe(before);
  });

  it("Potoo's own Events are never correlated (no loops)", async () => {
    const m = await metricsText();
    expect(metricValue(m, 'potoo_correlation_ignored_events_total', { reason: 'own' })).toBeGreaterThan(0);
    // One Event, one series: nothing fed back.
    expect((await potooEvents('web')).length).toBe(1);
  });

  it('bad input: empty, huge and unknown events, events for objects that are gone, a hanging receiver: logged, counted, nothing stops', async () => {
    const m0 = await metricsText();
    await coreEvent('bad.empty', { reason: 'FailedCreate', message: '', involved: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f9c7b6' } });
    await coreEvent('bad.huge', { reason: 'FailedCreate', message: 'exceeded quota: q1, '.padEnd(200_000, 'x'), involved: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f9c7b6' } });
    await coreEvent('bad.unknown', { reason: 'SomethingOdd', message: 'the flux capacitor is misaligned', involved: { apiVersion: 'v1', kind: 'Pod', name: 'nope' } });
    await coreEvent('bad.gone', { reason: 'FailedCreate', message: `Error creating: ${quotaMessage}`, involved: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'deleted-rs-123' } });
    // Still live: a fresh quota event on another workload is handled promptly.
    await pc.apply(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: busybox}]}
`);
    await waitFor(async () => ctl.analyzer.workloads.find('Deployment', NS, 'api'), 5000, 'deployment/api in the store');
    const t0 = performance.now();
    await coreEvent('api.quota', { reason: 'FailedCreate', message: `Error creating: ${quotaMessage}`, involved: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' } });
    await waitFor(async () => (await potooEvents('api')).find((e) => e.note.includes('q1')), 2000, 'Event on deployment/api', 20);
    console.log(`after bad input, Warning Event -> Potoo Event: ${(performance.now() - t0).toFixed(0)} ms`);
    const m1 = await metricsText();
    const outcomes = (o: string, t: string): number => metricValue(t, 'potoo_correlation_outcomes_total', { outcome: o });
    expect(outcomes('unmatched', m1) + outcomes('unknown_reason', m1)).toBeGreaterThan(outcomes('unmatched', m0) + outcomes('unknown_reason', m0));
    expect(outcomes('truncated', m1)).toBeGreaterThan(outcomes('truncated', m0));
    // The hanging webhook is bounded by the notifier's attempt deadline; it never blocks Slack or Events.
    expect(metricValue(m1, 'potoo_notification_attempts_total', { outcome: 'ok' })).toBeGreaterThan(0);
    expect(ctl.isReady).toBe(true);
  });

  it('a requirement finding appears after its debounce and clears when the ServiceMonitor is created', async () => {
    const t0 = Date.now();
    await pc.apply(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec: {containers: [{name: shop, image: shop:1, ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: ${NS}, labels: {app: shop}}
spec: {selector: {app: shop}, ports: [{name: metrics, port: 9090}]}
`);
    type Rep = { status?: { findings?: { id: string; workload?: string; text: string; expects?: { kind: string } }[] } };
    const getReport = async (): Promise<Rep> => JSON.parse(await pc.kubectl('-n', NS, 'get', 'constraintreport', 'potoo', '-o', 'json')) as Rep;
    const finding = await waitFor(async () => (await getReport()).status?.findings?.find((f) => f.workload === 'Deployment/shop'), 10_000, 'the finding in the report', 100);
    const after = Date.now() - t0;
    console.log(`finding reported ${after} ms after the Deployment was applied (debounce 1000 ms)`);
    expect(after).toBeGreaterThanOrEqual(1000);
    expect(finding.expects?.kind).toBe('ServiceMonitor');
    expect(finding.text).toContain('shop');
    const ev = await waitFor(async () => (await potooEvents('shop')).find((e) => e.reason === 'MissingResource'), 5000, 'the MissingResource Event');
    expect(ev.note).toMatch(/ServiceMonitor/);

    await pc.apply(`
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: shop, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: shop}}
  endpoints: [{port: metrics}]
`);
    await waitFor(async () => !(await getReport()).status?.findings?.some((f) => f.workload === 'Deployment/shop'), 10_000, 'the finding to clear');
    const cleared = await waitFor(async () => (await potooEvents('shop')).find((e) => e.reason === 'RequirementSatisfied'), 5000, 'the RequirementSatisfied Event');
    expect(cleared.type).toBe('Normal');
  });

  it('a cluster NotificationPolicy caps a noisy namespace at its rateLimitPerMinute, counted in potoo_notification_rate_limited_total', async () => {
    await pc.apply(`
apiVersion: v1
kind: Namespace
metadata: {name: team-r}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q2, namespace: team-r}
spec: {hard: {pods: "1"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: noisy, namespace: team-r}
spec:
  selector: {matchLabels: {app: noisy}}
  template:
    metadata: {labels: {app: noisy}}
    spec: {containers: [{name: noisy, image: busybox}]}
---
apiVersion: potoo.io/v1alpha1
kind: NotificationPolicy
metadata: {name: noisy-cap, namespace: potoo-system}
spec:
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: team-r}}
  rateLimitPerMinute: 5
`);
    await waitFor(async () => ctl.analyzer.workloads.find('Deployment', 'team-r', 'noisy') && ctl.analyzer.constraints.all().some((c) => c.source.name === 'q2'), 5000, 'team-r in the store');
    await new Promise((r) => setTimeout(r, 300));
    const before = metricValue(await metricsText(), 'potoo_notification_rate_limited_total', { namespace: 'team-r' });
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (let i = 0; i < 20; i++) {
      await admin.request({
        method: 'POST',
        path: '/api/v1/namespaces/team-r/events',
        body: {
          apiVersion: 'v1', kind: 'Event', metadata: { name: `noisy.${i}`, namespace: 'team-r' },
          involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'noisy', namespace: 'team-r' },
          reason: 'FailedCreate', type: 'Warning', count: 1, firstTimestamp: now, lastTimestamp: now,
          message: `Error creating: pods "noisy-${i}" is forbidden: exceeded quota: q2, requested: pods=1, used: pods=1, limited: pods=1`,
          source: { component: 'replicaset-controller' },
        },
      });
    }
    const limited = await waitFor(async () => {
      const v = metricValue(await metricsText(), 'potoo_notification_rate_limited_total', { namespace: 'team-r' }) - before;
      return v >= 15 ? v : undefined;
    }, 5000, '15 rate-limited notifications');
    expect(limited).toBe(15);
    expect(logs.some((l) => String(l.msg).startsWith('notification rate limit reached') && l.namespace === 'team-r')).toBe(true);
  });

  it('--hubble-address: a dropped flow from the Observer stream is attributed and notified on the workload', async () => {
    await waitFor(() => observer.followerCount() > 0 || undefined, 10_000, 'the controller to follow GetFlows');
    const flow: WireFlow = {
      uuid: 'flow-1',
      time: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 1 },
      verdict: 'DROPPED',
      IP: { source: '10.0.1.5', destination: '10.0.2.7', ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 40001, destination_port: 80 } },
      source: { ID: 11, identity: 1001, namespace: 'other', labels: ['k8s:app=client', 'k8s:io.kubernetes.pod.namespace=other'], pod_name: 'client-6c9f-abcde', workloads: [{ name: 'client', kind: 'Deployment' }] },
      destination: { ID: 22, identity: 2002, namespace: NS, labels: ['k8s:app=web', `k8s:io.kubernetes.pod.namespace=${NS}`], pod_name: 'web-5d8f9c7b6-x7k2p', workloads: [{ name: 'web', kind: 'Deployment' }] },
      Type: 'L3_L4',
      traffic_direction: 'INGRESS',
      drop_reason_desc: 'POLICY_DENIED',
      drop_reason: 133,
      event_type: { type: 1, sub_type: 133 },
      is_reply: { value: false },
      ingress_denied_by: [{ name: 'web-ingress-lockdown', namespace: NS, kind: 'NetworkPolicy', labels: [] }],
    } as WireFlow;
    const t0 = performance.now();
    observer.push(flow);
    const ev = await waitFor(async () => (await potooEvents('web')).find((e) => e.note.includes('web-ingress-lockdown')), 5000, 'the drop Event on deployment/web', 20);
    console.log(`Hubble drop -> Potoo Event: ${(performance.now() - t0).toFixed(0)} ms: ${ev.reason}: ${ev.note}`);
    expect(ev.reason).toBe('NetworkPolicyDrop');
    const m = await metricsText();
    expect(metricValue(m, 'potoo_correlation_signals_total', { kind: 'flow' })).toBeGreaterThan(0);
    expect(m).toContain('potoo_hubble_flows_total');
  });

  it('potoo explain "<the quota message>" -n ns reads the live cluster and names the quota', async () => {
    const r = await runCli(['explain', quotaMessage, '-n', NS, '--kubeconfig', pc.admin]);
    console.log(`potoo explain (live):\n${r.out}`);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^1\. ResourceQuota team-q\/q1/m);
    expect(r.out).toContain('ResourceQuota q1');
  });

  it('/metrics serves the controller, notification and correlation metrics together', async () => {
    const m = await metricsText();
    expect(m).toContain('potoo_informer_synced');
    expect(m).toContain('potoo_notifications_total');
    expect(m).toMatch(/potoo_notification_event_writes_total\{op="create",result="ok"\} [1-9]/);
    expect(metricValue(m, 'potoo_correlation_outcomes_total', { outcome: 'attributed' })).toBeGreaterThan(0);
    expect(metricValue(m, 'potoo_correlation_signals_total', { kind: 'event' })).toBeGreaterThan(0);
    expect(m).toContain('potoo_requirement_findings_total');
    expect(m).toContain('potoo_correlation_duration_seconds_bucket');
    // Merged, not duplicated: every metric family is declared once.
    const types = m.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
    expect(logs.filter((l) => l.level === 60 || l.msg === 'controller task failed; it is retried on the next trigger')).toEqual([]);
  });
});
