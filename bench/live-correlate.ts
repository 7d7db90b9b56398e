// Issue #5 benchmark: Warning Event -> notification Event latency through the real
// `potoo controller` (its Warning Event informer, the correlate stage with the built-in
// packs over the controller's analyzer, the notify stage, the Notifier and the Event
// sink), on the real kube-apiserver of test/cluster, under the deploy/ RBAC. Latency
// runs from POSTing a core Warning Event (a ReplicaSet controller's FailedCreate for a
// quota) to Potoo's Event on the Deployment arriving on a watch. Each Warning concerns a
// different Deployment, spread over namespaces so the 100/min/namespace limit is not
// what is measured.
//
// Run: npx tsx bench/live-correlate.ts [--events 200] [--rate 20] [--namespaces 10]
import os from 'node:os';
import { Controller } from '../runtime/controller/manager.js';
import { KubeClient, type WatchEvent } from '../runtime/kube/client.js';
import { silentLogger } from '../runtime/log.js';
import { Metrics } from '../runtime/metrics.js';
import { kubeConfigFromFile, startPotooCluster } from '../test/integration/helpers.js';
import { peakRss, mb, percentile, printTable } from './table.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

async function main(): Promise<void> {
  const count = arg('events', 200);
  const rate = arg('rate', 20);
  const nss = arg('namespaces', 10);
  const perNs = Math.ceil(count / nss);
  const pc = await startPotooCluster();
  const admin = await KubeClient.create(kubeConfigFromFile(pc.admin), { userAgent: 'potoo-bench' });
  let ctl: Controller | undefined;
  try {
    const docs: string[] = [];
    for (let n = 0; n < nss; n++) {
      const ns = `bench-${n}`;
      docs.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}`);
      docs.push(`apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: compute, namespace: ${ns}}\nspec: {hard: {requests.cpu: "4"}}`);
      for (let i = 0; i < perNs; i++) {
        docs.push(
          `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app-${i}, namespace: ${ns}}\nspec:\n  selector: {matchLabels: {app: app-${i}}}\n  template:\n    metadata: {labels: {app: app-${i}}}\n    spec: {containers: [{name: c, image: nginx}]}`,
        );
      }
    }
    await pc.apply(docs.join('\n---\n'));

    ctl = new Controller({
      kubeConfig: kubeConfigFromFile(pc.controller),
      namespace: 'potoo-system',
      identity: 'bench-0',
      leaderElection: false,
      requirements: false,
      log: silentLogger(),
      metrics: new Metrics(),
    });
    const tReady = performance.now();
    await ctl.start();
    const readyMs = performance.now() - tReady;

    const sent = new Map<string, number>();
    const seen = new Map<string, number>();
    let allSeen: () => void = () => undefined;
    const done = new Promise<void>((r) => (allSeen = r));
    const watch = admin.watch(
      '/apis/events.k8s.io/v1/events',
      {},
      {
        onEvent: (ev: WatchEvent) => {
          const o = ev.object as { reportingController?: string; regarding?: { name?: string; namespace?: string }; reason?: string };
          if (ev.type !== 'ADDED' || o.reportingController !== 'potoo.io/controller' || o.reason !== 'QuotaExceeded' || !o.regarding?.name) return;
          const k = `${o.regarding.namespace}/${o.regarding.name}`;
          if (!seen.has(k)) seen.set(k, performance.now());
          if (seen.size >= count) allSeen();
        },
        onDecodeError: () => undefined,
        onClose: () => undefined,
      },
      { idleTimeoutMs: 120_000 },
    );
    await new Promise((r) => setTimeout(r, 500));

    const t0 = performance.now();
    const posts: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const ns = `bench-${i % nss}`;
      const name = `app-${Math.floor(i / nss)}`;
      sent.set(`${ns}/${name}`, performance.now());
      const now = new Date().toISOString();
      posts.push(
        admin.create(`/api/v1/namespaces/${ns}/events`, {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: `${name}.quota`, namespace: ns },
          involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: ns },
          type: 'Warning',
          reason: 'FailedCreate',
          message: `Error creating: pods "${name}-x" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=4, limited: requests.cpu=4`,
          source: { component: 'replicaset-controller' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        }),
      );
    }
    await Promise.all(posts);
    await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
    watch.abort();
    const lat = [...sent].filter(([k]) => seen.has(k)).map(([k, t]) => seen.get(k)! - t).sort((a, b) => a - b);
    process.stdout.write(
      `\nbench/live-correlate: node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${new Date().toISOString()}\n\n`,
    );
    printTable([
      {
        operation: 'controller ready (built-in packs, small cluster)',
        size: `${nss} namespaces, ${nss * perNs} Deployments`,
        time: `${(readyMs / 1000).toFixed(1)} s`,
        memory: mb(peakRss()),
        note: '',
      },
      {
        operation: `Warning Event -> Potoo Event via potoo controller (correlate + notify stages, Notifier, Event sink), ${rate}/s`,
        size: `${lat.length}/${count} events`,
        time: `p50 ${percentile(lat, 50).toFixed(0)} ms, p90 ${percentile(lat, 90).toFixed(0)} ms, p99 ${percentile(lat, 99).toFixed(0)} ms, max ${(lat.at(-1) ?? 0).toFixed(0)} ms`,
        memory: mb(peakRss()),
        note: 'real kube-apiserver + etcd on loopback, deploy/ RBAC; watch-to-watch',
      },
    ]);
  } finally {
    await ctl?.stop();
    admin.close();
    await pc.stop();
  }
}

await main();
