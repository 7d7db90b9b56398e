// Issue #5 benchmark: Warning Event -> notification Event latency, live, on the real
// kube-apiserver of test/cluster. The path measured is the controller's: an informer on
// Warning core Events, a correlation step (a stand-in here: the stage's rules cost
// microseconds next to the API round trips), the Notifier queue and the Event sink
// writing events.k8s.io/v1 Events. Latency runs from sending the Warning Event to
// seeing Potoo's Event arrive on a watch. Each Warning concerns a different Deployment,
// so every one yields a new Event (repeats would fold into a series instead).
//
// Run: npx tsx bench/webhook-event-sink.ts [--events 200] [--rate 20]
import os from 'node:os';
import { startCluster } from '../test/cluster/cluster.js';
import { KubeClient, loadKubeConfig, type WatchEvent } from '../runtime/kube/client.js';
import { Informer, type RawObject } from '../runtime/kube/informer.js';
import { silentLogger } from '../runtime/log.js';
import { EventSink, Notifier, type Notification } from '../runtime/sinks/index.js';
import { percentile, printTable } from './table.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

async function main(): Promise<void> {
  const count = arg('events', 200);
  const rate = arg('rate', 20);
  const cluster = await startCluster();
  const client = await KubeClient.create(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }), { userAgent: 'potoo-bench' });
  try {
    await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const log = silentLogger();
    const sink = new EventSink({ client, reportingController: 'potoo.io/controller', reportingInstance: 'bench-0', log });
    const notifier = new Notifier({ sinks: new Map([['events', sink]]), log, perNamespacePerMinute: 0 });
    const informer = new Informer(
      client,
      {
        replace: () => undefined,
        delete: () => undefined,
        upsert: (o: RawObject) => {
          const ev = o as { metadata: { name: string }; message?: string; involvedObject: { name: string; namespace: string; kind: string; apiVersion?: string } };
          const m = /exceeded quota: ([a-z0-9-]+)/.exec(ev.message ?? '');
          if (!m) return;
          const n: Notification = {
            id: `event:${ev.metadata.name}`,
            channel: 'events',
            namespace: ev.involvedObject.namespace,
            severity: 'Warning',
            audience: 'developer',
            detail: 'summary',
            title: `Blocked by ResourceQuota ${m[1]}`,
            text: 'The namespace quota has no room for this request',
            regarding: { apiVersion: ev.involvedObject.apiVersion ?? 'apps/v1', kind: ev.involvedObject.kind, name: ev.involvedObject.name, namespace: ev.involvedObject.namespace },
            reason: 'QuotaExceeded',
            createdAt: new Date().toISOString(),
          };
          notifier.submit(n);
        },
      },
      { gvr: { group: '', version: 'v1', resource: 'events' }, namespace: 'bench', fieldSelector: 'type=Warning', log },
    );
    informer.start();
    await informer.waitForSync();

    const sent = new Map<string, number>();
    const seen = new Map<string, number>();
    let allSeen: () => void = () => undefined;
    const done = new Promise<void>((r) => (allSeen = r));
    const watch = client.watch(
      '/apis/events.k8s.io/v1/namespaces/bench/events',
      {},
      {
        onEvent: (ev: WatchEvent) => {
          const o = ev.object as { reportingController?: string; regarding?: { name?: string } };
          if (ev.type !== 'ADDED' || o.reportingController !== 'potoo.io/controller' || !o.regarding?.name) return;
          if (!seen.has(o.regarding.name)) seen.set(o.regarding.name, performance.now());
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
      const name = `app-${i}`;
      sent.set(name, performance.now());
      posts.push(
        client.create('/api/v1/namespaces/bench/events', {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: `${name}.quota`, namespace: 'bench' },
          involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: 'bench' },
          type: 'Warning',
          reason: 'FailedCreate',
          message: `Error creating: pods "${name}-x" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=4, limited: requests.cpu=4`,
          source: { component: 'replicaset-controller' },
          firstTimestamp: new Date().toISOString(),
          lastTimestamp: new Date().toISOString(),
          count: 1,
        }),
      );
    }
    await Promise.all(posts);
    await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
    watch.abort();
    const lat = [...sent].filter(([n]) => seen.has(n)).map(([n, t]) => seen.get(n)! - t).sort((a, b) => a - b);
    process.stdout.write(`\nbench/webhook-event-sink: node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${new Date().toISOString()}\n\n`);
    printTable([
      {
        operation: `Warning Event -> Potoo Event (informer, notifier, Event sink), ${rate}/s`,
        size: `${lat.length}/${count} events`,
        time: `p50 ${percentile(lat, 50).toFixed(0)} ms, p90 ${percentile(lat, 90).toFixed(0)} ms, p99 ${percentile(lat, 99).toFixed(0)} ms, max ${(lat.at(-1) ?? 0).toFixed(0)} ms`,
        memory: '',
        note: 'real kube-apiserver + etcd on loopback; watch-to-watch',
      },
    ]);
    await informer.stop();
    await notifier.stop();
    sink.stop();
  } finally {
    client.close();
    await cluster.stop();
  }
}

await main();
