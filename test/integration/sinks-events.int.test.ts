// The Kubernetes Event sink and the Secret reader against a real kube-apiserver: a
// Warning Event on a Deployment goes through a (stand-in) correlator, the notifier and
// the Event sink, and `kubectl events` / `kubectl describe` show Potoo's Event on the
// workload, with repeats folded into one series; a webhook channel's URL and HMAC key
// come from a Secret.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigFor, startCluster, type TestCluster } from '../cluster/cluster.js';
import { KubeClient, loadKubeConfig } from '../../runtime/kube/client.js';
import { Informer, type RawObject } from '../../runtime/kube/informer.js';
import { silentLogger } from '../../runtime/log.js';
import { buildSinks, EventSink, Notifier, SecretResolver, verifySignature, type Notification } from '../../runtime/sinks/index.js';
import { kubectlWith } from './helpers.js';

const kubectl = kubectlWith;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface CoreEvent {
  metadata: { name: string; namespace: string };
  type: string;
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string; namespace: string; uid?: string; apiVersion?: string };
  count?: number;
}

/** A stand-in for the correlate + notify stages (the stage engineer's): quota messages blame the named quota. */
function correlate(ev: CoreEvent): Notification | undefined {
  const m = /exceeded quota: ([a-z0-9-]+)/.exec(ev.message);
  if (ev.type !== 'Warning' || !m) return undefined;
  return {
    id: `event:${ev.metadata.namespace}/${ev.metadata.name}`,
    channel: 'events',
    namespace: ev.involvedObject.namespace,
    severity: 'Warning',
    audience: 'developer',
    detail: 'summary',
    title: `Blocked by ResourceQuota ${m[1]}`,
    text: `The namespace quota ${m[1]} has no room for this request; ask for more or lower the requests`,
    regarding: { apiVersion: ev.involvedObject.apiVersion ?? 'apps/v1', kind: ev.involvedObject.kind, name: ev.involvedObject.name, namespace: ev.involvedObject.namespace, ...(ev.involvedObject.uid ? { uid: ev.involvedObject.uid } : {}) },
    reason: 'QuotaExceeded',
    action: 'Explain',
    createdAt: new Date().toISOString(),
  };
}

describe('Event sink and Secrets on a real kube-apiserver', () => {
  let cluster: TestCluster;
  let client: KubeClient;
  let adminClient: KubeClient;
  let deployUid = '';

  beforeAll(async () => {
    cluster = await startCluster();
    const admin = cluster.kubeconfigPath;
    await kubectl(admin, ['create', 'namespace', 'team-a']);
    await kubectl(admin, ['create', 'namespace', 'potoo-system']);
    await kubectl(admin, ['create', 'deployment', 'web', '--image=nginx', '-n', 'team-a']);
    deployUid = (await kubectl(admin, ['get', 'deployment', 'web', '-n', 'team-a', '-o', 'jsonpath={.metadata.uid}'])).trim();
    // Potoo's identity: may create/patch Events anywhere and read Secrets only in potoo-system.
    await kubectl(admin, ['create', 'clusterrole', 'potoo-events', '--verb=create,patch', '--resource=events.events.k8s.io']);
    await kubectl(admin, ['create', 'clusterrolebinding', 'potoo-events', '--clusterrole=potoo-events', '--user=potoo-controller']);
    await kubectl(admin, ['create', 'role', 'potoo-channel-secrets', '--verb=get', '--resource=secrets', '-n', 'potoo-system']);
    await kubectl(admin, ['create', 'rolebinding', 'potoo-channel-secrets', '--role=potoo-channel-secrets', '--user=potoo-controller', '-n', 'potoo-system']);
    const kc = loadKubeConfig({ kubeconfig: kubeconfigFor(cluster, { name: 'potoo-controller', token: cluster.tokens['potoo-controller']! }) });
    client = await KubeClient.create(kc, { userAgent: 'potoo-test' });
    adminClient = await KubeClient.create(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }), { userAgent: 'potoo-test-admin' });
    // RBAC bindings reach the authorizer through an informer: wait until they apply.
    await until('RBAC for potoo-controller', async () => {
      const out = await kubectl(admin, ['auth', 'can-i', 'create', 'events.events.k8s.io', '-n', 'team-a', '--as=potoo-controller']).catch(() => 'no');
      return out.trim() === 'yes' ? true : undefined;
    });
  }, 20 * 60_000);

  afterAll(async () => {
    client?.close();
    adminClient?.close();
    await cluster?.stop();
  }, 60_000);

  it('a Warning Event becomes a Potoo Event on the workload; repeats form one series that kubectl shows', async () => {
    const events = new EventSink({ client, reportingController: 'potoo.io/controller', reportingInstance: 'potoo-controller-0', seriesFlushMs: 200, log: silentLogger() });
    const notifier = new Notifier({ sinks: new Map([['events', events]]), log: silentLogger() });
    const seen: number[] = [];
    // The controller's path: an informer on Warning Events feeds correlation, which feeds the notifier.
    const informer = new Informer(
      client,
      {
        replace: () => undefined,
        upsert: (obj: RawObject) => {
          const n = correlate(obj as unknown as CoreEvent);
          if (n) {
            seen.push(Date.now());
            notifier.submit(n);
          }
        },
        delete: () => undefined,
      },
      { gvr: { group: '', version: 'v1', resource: 'events' }, namespace: 'team-a', fieldSelector: 'type=Warning', log: silentLogger() },
    );
    // The informer needs list/watch on core Events: grant it.
    await kubectl(cluster.kubeconfigPath, ['create', 'role', 'event-reader', '--verb=list,watch', '--resource=events', '-n', 'team-a']);
    await kubectl(cluster.kubeconfigPath, ['create', 'rolebinding', 'event-reader', '--role=event-reader', '--user=potoo-controller', '-n', 'team-a']);
    await until('RBAC for event-reader', async () => ((await kubectl(cluster.kubeconfigPath, ['auth', 'can-i', 'watch', 'events', '-n', 'team-a', '--as=potoo-controller']).catch(() => 'no')).trim() === 'yes' ? true : undefined));
    informer.start();
    await informer.waitForSync();

    const warning = (i: number): string =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `web-rs.quota-${i}`, namespace: 'team-a' },
        involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'team-a', uid: deployUid },
        type: 'Warning',
        reason: 'FailedCreate',
        message: 'Error creating: pods "web-5d8c7-x" is forbidden: exceeded quota: compute-quota, requested: requests.cpu=2, used: requests.cpu=4, limited: requests.cpu=4',
        source: { component: 'replicaset-controller' },
        firstTimestamp: new Date().toISOString(),
        lastTimestamp: new Date().toISOString(),
        count: 1,
      });
    const t0 = Date.now();
    await kubectl(cluster.kubeconfigPath, ['create', '-f', '-'], warning(0));
    type EvList = { items: { metadata: { name: string }; reason: string; note: string; reportingController: string; reportingInstance: string; action: string; type: string; regarding: { kind: string; name: string; uid?: string }; series?: { count: number } }[] };
    const mine = async (): Promise<EvList['items']> => {
      const list = await adminClient.request<EvList>({ path: '/apis/events.k8s.io/v1/namespaces/team-a/events' });
      return list.items.filter((e) => e.reportingController === 'potoo.io/controller');
    };
    const first = await until('the Potoo Event', async () => ((await mine()).length ? (await mine())[0] : undefined));
    const latencyMs = Date.now() - t0;
    process.stdout.write(`Warning Event -> Potoo Event on the Deployment: ${latencyMs} ms (includes kubectl process start)\n`);
    expect(latencyMs).toBeLessThan(5000);
    expect(first).toMatchObject({
      type: 'Warning',
      reason: 'QuotaExceeded',
      action: 'Explain',
      reportingController: 'potoo.io/controller',
      reportingInstance: 'potoo-controller-0',
      regarding: { kind: 'Deployment', name: 'web', uid: deployUid },
    });
    expect(first.note).toContain('Blocked by ResourceQuota compute-quota');

    // Four more occurrences: one Event with a series, not five Events.
    for (let i = 1; i <= 4; i++) await kubectl(cluster.kubeconfigPath, ['create', '-f', '-'], warning(i));
    await until('five correlated events', async () => (seen.length >= 5 ? true : undefined));
    await notifier.idle();
    await events.flush();
    const after = await mine();
    expect(after).toHaveLength(1);
    expect(after[0]!.series?.count).toBe(5);

    // What a developer sees.
    const table = await kubectl(cluster.kubeconfigPath, ['events', '-n', 'team-a', '--for', 'deployment/web']);
    process.stdout.write(`kubectl events -n team-a --for deployment/web:\n${table}\n`);
    const potooRows = table.split('\n').filter((l) => l.includes('QuotaExceeded'));
    expect(potooRows).toHaveLength(1);
    expect(potooRows[0]).toMatch(/\(x5 over .*\)/);
    expect(potooRows[0]).toContain('Blocked by ResourceQuota compute-quota');
    const describe = await kubectl(cluster.kubeconfigPath, ['describe', 'deployment', 'web', '-n', 'team-a']);
    expect(describe).toMatch(/Warning\s+QuotaExceeded\s+.*potoo\.io\/controller/);

    await informer.stop();
    await notifier.stop();
    events.stop();
  }, 120_000);

  it('a webhook channel reads its URL and HMAC key from a Secret; no access to other namespaces', async () => {
    const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const srv = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`;
    await kubectl(cluster.kubeconfigPath, ['create', 'secret', 'generic', 'team-a-hook', '-n', 'potoo-system', `--from-literal=url=${url}`, '--from-literal=hmac=s3cr3t']);
    await kubectl(cluster.kubeconfigPath, ['create', 'secret', 'generic', 'elsewhere', '-n', 'team-a', '--from-literal=url=http://evil.example/']);

    const secrets = new SecretResolver(client, { namespace: 'potoo-system' });
    const { sinks } = buildSinks(
      [
        { name: 'hook', type: 'webhook', url: { secretRef: { name: 'team-a-hook', key: 'url' } }, hmacKey: { secretRef: { name: 'team-a-hook', key: 'hmac' } } },
        { name: 'stolen', type: 'webhook', url: { secretRef: { namespace: 'team-a', name: 'elsewhere', key: 'url' } } },
      ],
      { secrets },
    );
    const notifier = new Notifier({ sinks, log: silentLogger(), backoff: { baseMs: 10, maxMs: 20 } });
    const n: Notification = { id: 'n1', channel: 'hook', namespace: 'team-a', severity: 'Warning', audience: 'developer', detail: 'summary', title: 'T', text: 'x', createdAt: new Date().toISOString() };
    notifier.submit(n);
    notifier.submit({ ...n, id: 'n2', channel: 'stolen' });
    await notifier.idle();
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(verifySignature('s3cr3t', r.headers['x-potoo-timestamp'] as string, r.body, r.headers['x-potoo-signature'] as string)).toBe(true);
    expect(notifier.deadLetters().map((d) => d.error)).toEqual([expect.stringMatching(/may not read Secrets in namespace team-a/)]);
    await notifier.stop();
    srv.closeAllConnections();
    srv.close();
  }, 60_000);
});
