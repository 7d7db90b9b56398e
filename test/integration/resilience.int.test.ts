// The controller survives what real clusters do to watches: kube-apiserver going away
// and coming back on the same etcd, and connections cut mid-stream. Afterwards its fact
// store must equal a fresh list of every watched resource: nothing lost, no ghosts.
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gvr } from '../../engine/model.js';
import { Controller } from '../../runtime/controller/manager.js';
import { KubeClient } from '../../runtime/kube/client.js';
import { LeaderElector } from '../../runtime/kube/leader.js';
import { Metrics } from '../../runtime/metrics.js';
import { getReport, kubeConfigFromFile, kubectlWith, memoryLogger, startPotooCluster, waitFor, type PotooCluster } from './helpers.js';

const NS = 'shop';

let pc: PotooCluster;
const controllers: Controller[] = [];

function newController(kubeconfig: string, identity: string): { ctl: Controller; logs: Record<string, unknown>[]; metrics: Metrics } {
  const m = memoryLogger();
  const metrics = new Metrics();
  const ctl = new Controller({
    kubeConfig: kubeConfigFromFile(kubeconfig),
    namespace: 'potoo-system',
    identity,
    rescanIntervalMs: 5000,
    leaderElection: false,
    reports: { debounceMs: 150, maxDelayMs: 800 },
    // Short backoff cap so recovery is quick once the apiserver is back.
    informer: { idleTimeoutMs: 30_000, backoff: { initialMs: 200, maxMs: 2000 } },
    log: m.log,
    metrics,
  });
  controllers.push(ctl);
  return { ctl, logs: m.lines, metrics };
}

interface Listed {
  items: { metadata: { name: string; namespace?: string; resourceVersion: string } }[];
}

/** Differences between the controller's store and a fresh list, per watched resource. */
async function storeVersusFreshList(ctl: Controller): Promise<string[]> {
  const diffs: string[] = [];
  // With nothing watched there would be nothing to compare: the test's own objects must be.
  for (const r of ['networkpolicies', 'deployments']) if (!ctl.watched().some((w) => w.gvr.resource === r)) diffs.push(`${r}: not watched`);
  for (const w of ctl.watched()) {
    const gvr: Gvr = w.gvr;
    const res = gvr.group ? `${gvr.resource}.${gvr.group}` : gvr.resource;
    const fresh = JSON.parse(await kubectlWith(pc.admin, ['get', res, '-A', '-o', 'json'])) as Listed;
    const want = new Map(fresh.items.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion]));
    const have = new Map(ctl.store.list(gvr).map((o) => [`${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`, o.metadata?.resourceVersion ?? '']));
    for (const [k, rv] of want) {
      if (!have.has(k)) diffs.push(`${res} ${k}: lost`);
      else if (have.get(k) !== rv) diffs.push(`${res} ${k}: stale (${have.get(k)} != ${rv})`);
    }
    for (const k of have.keys()) if (!want.has(k)) diffs.push(`${res} ${k}: ghost`);
  }
  return diffs;
}

const netpol = (name: string): string => `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"${name}","namespace":"${NS}"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}`;
const deployment = (name: string): string =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: 'busybox' }] } } },
  });

describe('controller resilience on a real kube-apiserver', () => {
  beforeAll(async () => {
    pc = await startPotooCluster();
    await pc.kubectl('create', 'namespace', NS);
    await pc.apply([netpol('np-1'), netpol('np-2'), deployment('cart'), deployment('checkout')].join('\n'));
  }, 240_000);

  afterAll(async () => {
    for (const c of controllers) await c.stop();
    await pc?.stop();
  }, 60_000);

  it('recovers from a kube-apiserver restart on the same etcd without a restart of its own; its store then equals a fresh list', async () => {
    const { ctl, logs } = newController(pc.controller, 'restart-test');
    await ctl.start();
    expect(await storeVersusFreshList(ctl)).toEqual([]);
    const objectsBefore = ctl.store.count();

    await pc.cluster.stopApiserver();
    await new Promise((r) => setTimeout(r, 3000));
    // While the apiserver is away the replica still answers from its cache.
    expect(ctl.analyzer.constraints.size).toBeGreaterThan(0);
    expect(ctl.store.count()).toBe(objectsBefore);
    await pc.cluster.startApiserver();

    // Changes right after the restart, while the controller is still backing off.
    await pc.kubectl('-n', NS, 'delete', 'networkpolicy', 'np-1');
    await pc.apply([netpol('np-3'), deployment('search')].join('\n'));
    await pc.kubectl('-n', NS, 'label', 'networkpolicy', 'np-2', 'after=restart');

    await waitFor(async () => ((await storeVersusFreshList(ctl)).length === 0 ? true : undefined), 30_000, 'store to equal a fresh list');
    expect(logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('informer') && l.msg.includes('failed'))).toBe(true);
    // Reports follow, too.
    await waitFor(async () => {
      const r = await getReport(pc.admin, NS);
      const names = (r?.status?.entries ?? []).filter((e) => e.source.kind === 'NetworkPolicy').map((e) => e.source.name).sort();
      return names.join() === 'np-2,np-3' && r?.status?.summary.workloads === 3 ? true : undefined;
    }, 10_000, 'report after restart');
    await ctl.stop();
  }, 120_000);

  it('survives connections cut mid-stream (a proxy that drops every connection, repeatedly) and ends with no lost or ghost objects', async () => {
    // A TCP proxy in front of the apiserver: TLS passes through untouched; every cut lands
    // wherever the byte stream happens to be, usually in the middle of an object.
    const target = new URL(pc.cluster.server);
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      sockets.add(client);
      sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
    const port = (proxy.address() as net.AddressInfo).port;
    const kc = JSON.parse(readFileSync(pc.controller, 'utf8')) as { clusters: { cluster: { server: string } }[] };
    for (const c of kc.clusters) c.cluster.server = `https://127.0.0.1:${port}`;
    const proxied = `${pc.controller}-proxied`;
    writeFileSync(proxied, JSON.stringify(kc));

    const { ctl, metrics } = newController(proxied, 'cut-test');
    await ctl.start();
    expect(await storeVersusFreshList(ctl)).toEqual([]);

    let n = 0;
    for (let round = 0; round < 5; round++) {
      // Writes through the direct connection while the controller's connections are cut.
      await pc.apply([netpol(`cut-${round}`), deployment(`svc-${round}`)].join('\n'));
      if (round > 0) await pc.kubectl('-n', NS, 'delete', 'networkpolicy', `cut-${round - 1}`);
      await new Promise((r) => setTimeout(r, 300));
      for (const s of [...sockets]) {
        s.destroy();
        n++;
      }
      await new Promise((r) => setTimeout(r, 700));
    }
    expect(n).toBeGreaterThan(0);
    await waitFor(async () => ((await storeVersusFreshList(ctl)).length === 0 ? true : undefined), 30_000, 'store to equal a fresh list after cuts');
    const restarts = (await metrics.informerRestarts.get()).values.reduce((a, v) => a + v.value, 0);
    expect(restarts).toBeGreaterThan(0);
    await ctl.stop();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  }, 120_000);

  it('a leader that cannot renew steps down within the renew deadline, and leads again once the apiserver is back', async () => {
    const client = await KubeClient.create(kubeConfigFromFile(pc.controller));
    const { log } = memoryLogger();
    const transitions: { leading: boolean; at: number }[] = [];
    const elector = new LeaderElector(client, {
      namespace: 'potoo-system',
      name: 'potoo-controller',
      identity: 'step-down-test',
      leaseDurationMs: 6000,
      renewDeadlineMs: 4000,
      retryPeriodMs: 500,
      log,
      onStartedLeading: () => transitions.push({ leading: true, at: Date.now() }),
      onStoppedLeading: () => transitions.push({ leading: false, at: Date.now() }),
    });
    try {
      elector.start();
      await waitFor(() => elector.isLeader || undefined, 15_000, 'leadership');
      const lease = JSON.parse(await pc.kubectl('-n', 'potoo-system', 'get', 'lease', 'potoo-controller', '-o', 'json')) as { spec: { holderIdentity: string } };
      expect(lease.spec.holderIdentity).toBe('step-down-test');
      await pc.cluster.stopApiserver();
      // No renewal can succeed after this point.
      const gone = Date.now();
      await waitFor(() => (!elector.isLeader ? true : undefined), 10_000, 'step down');
      // Within renew deadline + one retry of the last renewal: before the 6 s lease could
      // expire for anyone else, it has stopped writing.
      const stepDown = transitions.find((t) => !t.leading);
      expect(stepDown).toBeDefined();
      expect((stepDown?.at ?? 0) - gone).toBeLessThan(4000 + 600);
      await pc.cluster.startApiserver();
      await waitFor(() => elector.isLeader || undefined, 30_000, 'leading again');
      expect(transitions.map((t) => t.leading)).toEqual([true, false, true]);
    } finally {
      await elector.stop();
      client.close();
    }
  }, 120_000);
});
