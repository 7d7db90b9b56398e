// Issue #4 benchmarks, on a real kube-apiserver + etcd (test/cluster):
//  1. ready time and peak RSS of `potoo controller` (a child process, least-privilege
//     ServiceAccount) with ~20,000 objects preloaded: initial sync done, then every
//     namespace's ConstraintReport written;
//  2. change-to-report latency over 200 NetworkPolicy changes, measured from the moment
//     the change is sent to the moment the report that reflects it arrives on a watch;
//  3. rule-pack hot reload: a rule-pack ConfigMap overriding the built-in ResourceQuota
//     adapter's summary, timed to the controller's reload (potoo_rulepack_reloads_total)
//     and to every affected namespace's report reflecting it.
// Run: npm run build && node dist/bench/controller-ready.js [--objects 20000] [--changes 200]
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KubeApiError, KubeClient, type WatchHandle } from '../runtime/kube/client.js';
import { collectionPath, objectPath } from '../runtime/kube/paths.js';
import type { KubeObject } from '../engine/model.js';
import { resolveKind } from '../engine/gvr.js';
import { freePort, getJson, kubeConfigFromFile, repoRoot, startPotooCluster, waitFor } from '../test/integration/helpers.js';
import { generateSnapshot, type SnapshotSize } from './generate.js';
import { arg, mb, percentile, printTable, type BenchRow } from './table.js';

/** The heap cap the Helm chart and plain manifests ship (controller.heapLimitMb). */
const NODE_ARGS = (process.env['BENCH_NODE_ARGS'] ?? '--max-old-space-size=288').split(' ').filter(Boolean);

/** The issue #2 snapshot's mix, scaled to about `total` objects (webhook configurations are added last). */
function sizeFor(total: number): SnapshotSize {
  const k = total / 20_000;
  return {
    namespaces: Math.round(500 * k),
    workloads: Math.round(14_480 * k),
    networkPolicies: Math.round(4000 * k),
    resourceQuotas: Math.round(500 * k),
    limitRanges: Math.round(500 * k),
    webhookConfigurations: 20,
  };
}

function statusOf(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(/(\d+) kB/.exec(text.split('\n').find((l) => l.startsWith(k)) ?? '')?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS:'), hwm: kb('VmHWM:') };
}

/** What the apiserver insists on that the offline generator leaves out. */
function admissible(o: KubeObject): KubeObject {
  if (o.kind !== 'Job' && o.kind !== 'CronJob') return o;
  const c = structuredClone(o) as KubeObject & { spec: { template?: { spec: Record<string, unknown> }; jobTemplate?: { spec: { template: { spec: Record<string, unknown> } } } } };
  const podSpec = o.kind === 'Job' ? c.spec.template?.spec : c.spec.jobTemplate?.spec.template.spec;
  if (podSpec) podSpec.restartPolicy = 'Never';
  return c;
}

async function preload(client: KubeClient, objects: KubeObject[], concurrency: number): Promise<void> {
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < objects.length) {
      const o = objects[next++] as KubeObject;
      const [group, version] = (o.apiVersion ?? '').includes('/') ? (o.apiVersion as string).split('/') : ['', o.apiVersion ?? 'v1'];
      const gvr = resolveKind({ group: group as string, version: version as string, kind: o.kind ?? '' }).gvr;
      for (let attempt = 0; ; attempt++) {
        try {
          await client.create(collectionPath(gvr, o.metadata?.namespace), o);
          break;
        } catch (err) {
          if (attempt >= 3 || (err instanceof KubeApiError && err.status >= 400 && err.status < 500 && err.status !== 429)) {
            failed++;
            if (failed < 5) process.stderr.write(`preload: ${(err as Error).message}\n`);
            break;
          }
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failed) throw new Error(`${failed} objects failed to preload`);
}

/** Value of potoo_rulepack_reloads_total{result="ok"} on the controller's /metrics. */
async function reloadsOk(url: (p: string) => string): Promise<number> {
  const text = await (await fetch(url('/metrics'))).text();
  const m = /^potoo_rulepack_reloads_total\{result="ok"\} (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

async function measurePackReload(admin: KubeClient, url: (p: string) => string, pid: number, objects: KubeObject[]): Promise<BenchRow> {
  const marker = `bench-reload-${Date.now()}`;
  const doc = YAML.parseDocument(readFileSync(path.join(repoRoot, 'adapters/resourcequota.yaml'), 'utf8'));
  doc.deleteIn(['spec', 'tests']);
  const adapters = doc.getIn(['spec', 'adapters']) as YAML.YAMLSeq;
  const summaryPath = ['spec', 'adapters', 0, 'emit', 'summary'];
  if (adapters.items.length !== 1 || typeof doc.getIn(summaryPath) !== 'string') throw new Error('adapters/resourcequota.yaml changed shape');
  doc.setIn(summaryPath, `${marker}: ${String(doc.getIn(summaryPath))}`);
  const pack = doc.toString();
  const affected = new Set(objects.filter((o) => o.kind === 'ResourceQuota').map((o) => o.metadata?.namespace as string));

  const reportsPath = collectionPath({ group: 'potoo.io', version: 'v1alpha1', resource: 'constraintreports' });
  const list = await admin.request<{ metadata: { resourceVersion: string } }>({ path: reportsPath, query: { limit: 1 } });
  const seen = new Map<string, number>();
  let start = Number.POSITIVE_INFINITY;
  const watch: WatchHandle = admin.watch(
    reportsPath,
    { resourceVersion: list.metadata.resourceVersion },
    {
      onEvent: (ev) => {
        const ns = (ev.object.metadata as { namespace?: string } | undefined)?.namespace;
        if (!ns || seen.has(ns) || !affected.has(ns)) return;
        const at = performance.now();
        if (at >= start && JSON.stringify(ev.object.status ?? {}).includes(marker)) seen.set(ns, at);
      },
      onDecodeError: () => undefined,
      onClose: () => undefined,
    },
    { idleTimeoutMs: 600_000 },
  );
  let peakRss = 0;
  const sampler = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, statusOf(pid).rss);
    } catch {
      /* process gone */
    }
  }, 20);
  try {
    const before = await reloadsOk(url);
    start = performance.now();
    await admin.create(collectionPath({ group: '', version: 'v1', resource: 'configmaps' }, 'potoo-system'), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'bench-rule-pack', namespace: 'potoo-system', labels: { 'potoo.io/rule-pack': 'true' } },
      data: { 'resourcequota.yaml': pack },
    });
    await waitFor(async () => ((await reloadsOk(url)) > before ? true : undefined), 120_000, 'rule-pack reload', 5);
    const tReload = performance.now() - start;
    await waitFor(() => (seen.size >= affected.size ? true : undefined), 300_000, `every report with the reloaded pack (${affected.size} namespaces)`, 10);
    const tAll = Math.max(...seen.values()) - start;
    const tFirst = Math.min(...seen.values()) - start;
    const hwm = statusOf(pid).hwm;
    return {
      operation: 'rule-pack hot reload (ConfigMap, resourcequota override)',
      size: `${affected.size} reports`,
      time: `re-adapted ${(tReload / 1000).toFixed(2)} s, all reports ${(tAll / 1000).toFixed(2)} s`,
      memory: mb(hwm),
      note: `from ConfigMap create; re-adapted = potoo_rulepack_reloads_total moved; first report ${(tFirst / 1000).toFixed(2)} s; peak RSS during reload ${mb(peakRss)}`,
    };
  } finally {
    clearInterval(sampler);
    watch.abort();
  }
}

async function main(): Promise<void> {
  const total = arg('objects', 20_000);
  const changes = arg('changes', 200);
  const rows: BenchRow[] = [];
  if (!process.env['POTOO_KUBE_APISERVER'] || !process.env['POTOO_ETCD']) {
    // Compiled into dist/, the harness cannot find its build script: ask it from the sources.
    const dir = execFileSync('bash', [path.join(repoRoot, 'test/cluster/build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop() as string;
    process.env['POTOO_KUBE_APISERVER'] = path.join(dir, 'kube-apiserver');
    process.env['POTOO_ETCD'] = path.join(dir, 'etcd');
  }
  process.stderr.write('starting cluster...\n');
  const pc = await startPotooCluster();
  const admin = await KubeClient.create(kubeConfigFromFile(pc.admin), { timeoutMs: 60_000 });
  try {
    const size = sizeFor(total);
    const all = generateSnapshot(size).map(admissible);
    const webhooks = all.filter((o) => o.kind?.endsWith('WebhookConfiguration'));
    // Namespaces first, webhooks last (a webhook nobody serves would slow every later create).
    const namespaces = all.filter((o) => o.kind === 'Namespace');
    const rest = all.filter((o) => o.kind !== 'Namespace' && !o.kind?.endsWith('WebhookConfiguration'));
    process.stderr.write(`preloading ${all.length} objects...\n`);
    const tp = performance.now();
    await preload(admin, namespaces, 16);
    await preload(admin, rest, 48);
    await preload(admin, webhooks, 4);
    const preloadMs = performance.now() - tp;
    rows.push({ operation: 'preload into kube-apiserver', size: `${all.length} objects`, time: `${(preloadMs / 1000).toFixed(1)} s`, memory: '-', note: `${Math.round(all.length / (preloadMs / 1000))} creates/s (bench client)` });

    // --- Ready: spawn the controller, wait for /readyz, then for every report.
    const port = await freePort();
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [...NODE_ARGS, path.join(repoRoot, 'dist/runtime/controller/main.js'), '--kubeconfig', pc.controller, '--namespace', 'potoo-system', '--identity', 'bench', '--no-leader-elect', '--api-auth', 'none', '--http-host', '127.0.0.1', '--http-port', String(port), '--log-level', process.env['BENCH_LOG'] ?? 'warn', ...(process.env['BENCH_CTL_ARGS']?.split(' ').filter(Boolean) ?? [])],
      { stdio: ['ignore', process.env['BENCH_LOG'] ? 'inherit' : 'ignore', 'inherit'] },
    );
    const url = (p: string): string => `http://127.0.0.1:${port}${p}`;
    try {
      await waitFor(async () => ((await fetch(url('/readyz'))).status === 200 ? true : undefined), 300_000, 'controller ready', 50);
      const tReady = performance.now() - t0;
      const readyMem = statusOf(child.pid as number);
      type Caps = { counts: { objects: number; constraints: number; namespaces: number }; reports: { written: number; unchanged: number; dirty: number } };
      let caps: Caps | undefined;
      await waitFor(
        async () => {
          caps = (await getJson<Caps>(url('/api/v1/capabilities'), 30_000)).body;
          return caps.reports.dirty === 0 && caps.reports.written + caps.reports.unchanged >= size.namespaces ? true : undefined;
        },
        300_000,
        'all reports written',
        100,
      );
      const tReports = performance.now() - t0;
      const mem = statusOf(child.pid as number);
      rows.push({ operation: 'controller ready (initial sync, /readyz)', size: `${caps?.counts.objects} objects`, time: `${(tReady / 1000).toFixed(1)} s`, memory: mb(readyMem.hwm), note: `${caps?.counts.constraints} constraints; target <= 30 s, <= 400 MB` });
      rows.push({ operation: 'ready + every ConstraintReport written', size: `${caps?.reports.written} reports`, time: `${(tReports / 1000).toFixed(1)} s`, memory: mb(mem.hwm), note: `peak RSS of the controller process (VmHWM); node ${NODE_ARGS.join(' ')}` });

      // --- Latency: sequential NetworkPolicy changes, each timed until its report arrives.
      const netpols = rest.filter((o) => o.kind === 'NetworkPolicy');
      const arrivals: { ns: string; text: string; at: number }[] = [];
      const list = await admin.request<{ metadata: { resourceVersion: string } }>({ path: collectionPath({ group: 'potoo.io', version: 'v1alpha1', resource: 'constraintreports' }), query: { limit: 1 } });
      const watch: WatchHandle = admin.watch(
        collectionPath({ group: 'potoo.io', version: 'v1alpha1', resource: 'constraintreports' }),
        { resourceVersion: list.metadata.resourceVersion },
        {
          onEvent: (ev) => {
            const md = ev.object.metadata as { namespace?: string } | undefined;
            if (md?.namespace) arrivals.push({ ns: md.namespace, text: JSON.stringify(ev.object.status ?? {}), at: performance.now() });
          },
          onDecodeError: () => undefined,
          onClose: () => undefined,
        },
        { idleTimeoutMs: 600_000 },
      );
      const latencies: number[] = [];
      for (let i = 0; i < changes; i++) {
        const np = netpols[(i * 7919) % netpols.length] as KubeObject;
        const ns = np.metadata?.namespace as string;
        const marker = 20_000 + i;
        const start = performance.now();
        await admin.mergePatch(objectPath({ group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies' }, ns, np.metadata?.name as string), {
          spec: { policyTypes: ['Ingress'], ingress: [{ ports: [{ port: marker, protocol: 'TCP' }] }] },
        });
        const seen = await waitFor(() => arrivals.find((a) => a.ns === ns && a.at >= start && a.text.includes(`"port":${marker}`)), 30_000, `report for change ${i}`, 5);
        latencies.push(seen.at - start);
        arrivals.length = 0;
      }
      watch.abort();
      latencies.sort((a, b) => a - b);
      const after = statusOf(child.pid as number);
      rows.push({
        operation: 'change-to-report latency (NetworkPolicy)',
        size: `${changes} changes`,
        time: `p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`,
        memory: mb(after.hwm),
        note: `max ${latencies[latencies.length - 1]?.toFixed(0)} ms; debounce 250 ms; target p99 <= 2 s`,
      });

      // --- Rule-pack hot reload: a ConfigMap pack that overrides the built-in `resourcequota`
      // pack (same name, so it replaces it) with a marked summary. Every namespace holds a
      // quota, so every report must change. Timed from the ConfigMap create to (a) the
      // controller's reload counter moving (packs swapped, objects re-adapted) and (b) the
      // last affected namespace's report carrying the marker on a ConstraintReport watch.
      rows.push(await measurePackReload(admin, url, child.pid as number, rest));
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  } finally {
    admin.close();
    await pc.stop();
  }
  printTable(rows);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
