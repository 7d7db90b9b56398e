// Issue #5 benchmark: Warning Event -> notification Event latency, live, on the real
// kube-apiserver of test/cluster. The path measured is the controller's: an informer on
// Warning core Events, a correlation step (a stand-in here: the stage's rules cost
// microseconds next to the API round trips), the Notifier queue and the Event sink
// writing events.k8s.io/v1 Events. Latency runs from sending the Warning Event to
// seeing Potoo's Event arrive on a watch. Each Warning concerns a different Deployment,
// so every one yields a new Event (repeats would fold into a series instead).
//
// Run: npx tsx bench/webhook-event-sink.ts [--events 200] [--rate 20]
import { startCluster } from '../test/cluster/cluster.js';
import { KubeClient, loadKubeConfig } from '../runtime/kube/client.js';
import { Informer, type RawObject } from '../runtime/kube/informer.js';
import { silentLogger } from '../runtime/log.js';
import { EventSink, Notifier, type Notification } from '../runtime/sinks/index.js';
import { latencies, postQuotaWarnings, watchPotooEvents } from './cluster.js';
import { arg, latencyMs, printMachine, printTable } from './table.js';

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

    const events = await watchPotooEvents(client, '/apis/events.k8s.io/v1/namespaces/bench/events', count);
    const sent = await postQuotaWarnings(client, count, rate, (i) => ({ namespace: 'bench', name: `app-${i}` }));
    await events.waitDone(30_000);
    const lat = latencies(sent, events.seen);
    printMachine('bench/webhook-event-sink');
    printTable([
      {
        operation: `Warning Event -> Potoo Event (informer, notifier, Event sink), ${rate}/s`,
        size: `${lat.length}/${count} events`,
        time: latencyMs(lat),
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
