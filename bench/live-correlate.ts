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
import { Controller } from '../runtime/controller/manager.js';
import { KubeClient } from '../runtime/kube/client.js';
import { silentLogger } from '../runtime/log.js';
import { Metrics } from '../runtime/metrics.js';
import { kubeConfigFromFile, startPotooCluster } from '../test/integration/helpers.js';
import { latencies, postQuotaWarnings, watchPotooEvents } from './cluster.js';
import { arg, latencyMs, mb, peakRss, printMachine, printTable } from './table.js';

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

    const events = await watchPotooEvents(admin, '/apis/events.k8s.io/v1/events', count, 'QuotaExceeded');
    const sent = await postQuotaWarnings(admin, count, rate, (i) => ({ namespace: `bench-${i % nss}`, name: `app-${Math.floor(i / nss)}` }));
    await events.waitDone(30_000);
    const lat = latencies(sent, events.seen);
    printMachine('bench/live-correlate');
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
        time: latencyMs(lat),
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
