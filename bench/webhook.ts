// Issue #5 benchmark: admission webhook latency under a steady request rate, with the
// issue-2 synthetic cluster loaded into the webhook's fact store.
//
// `potoo webhook` runs as its own process (as in a cluster), serving HTTPS from the
// snapshot written to a temporary file; this process plays the API server: an open-loop
// generator sends Deployment CREATE reviews at a fixed rate over keep-alive TLS
// connections and times each one from send to last response byte.
//
// Run: npm run build && node dist/bench/webhook.js [--scale 1] [--rate 50] [--seconds 30]
//   (or from source: npx tsx bench/webhook.ts ...)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { makeServingCert } from '../test/integration/webhook-certs.js';
import { startWebhookProcess } from '../test/integration/webhook-process.js';
import { generateSnapshot, ISSUE2_SIZE, rng, type SnapshotSize } from './generate.js';
import { arg, latencyMs, printMachine, printTable, type BenchRow } from './table.js';

function review(i: number, namespace: string, app: string): string {
  const labels = { app, tier: i % 2 ? 'backend' : 'frontend', instance: `bench-${i}` };
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `bench-${i}`,
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      requestKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      requestResource: { group: 'apps', version: 'v1', resource: 'deployments' },
      name: `${app}-bench-${i}`,
      namespace,
      operation: 'CREATE',
      userInfo: { username: 'dev@example.com', groups: ['developers', 'system:authenticated'] },
      object: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `${app}-bench-${i}`, namespace, labels: { app } },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: app, image: `registry.example.com/${app}:1.0`, ports: [{ name: 'http', containerPort: 8080 }], resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
          },
        },
      },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  });
}

interface RunResult {
  latencies: number[];
  errors: number;
  warnings: number;
  lateMs: number;
}

async function run(url: string, ca: string, bodies: string[], rate: number, seconds: number): Promise<RunResult> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 32, ca });
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let errors = 0;
  let warnings = 0;
  let lateMs = 0;
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else lateMs = Math.max(lateMs, -wait);
    const body = bodies[i % bodies.length]!;
    inflight.push(
      new Promise<void>((resolve) => {
        const start = performance.now();
        const req = https.request(`${url}/validate`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, timeout: 10_000 }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            latencies.push(performance.now() - start);
            try {
              const r = JSON.parse(text) as { response?: { allowed?: boolean; warnings?: string[] } };
              if (res.statusCode !== 200 || r.response?.allowed !== true) errors++;
              warnings += r.response?.warnings?.length ?? 0;
            } catch {
              errors++;
            }
            resolve();
          });
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => {
          errors++;
          resolve();
        });
        req.end(body);
      }),
    );
  }
  await Promise.all(inflight);
  agent.destroy();
  return { latencies: latencies.sort((a, b) => a - b), errors, warnings, lateMs };
}

async function main(): Promise<void> {
  const scale = arg('scale', 1);
  const rate = arg('rate', 50);
  const seconds = arg('seconds', 30);
  const size: SnapshotSize = Object.fromEntries(Object.entries(ISSUE2_SIZE).map(([k, v]) => [k, Math.max(1, Math.round(v * scale))])) as unknown as SnapshotSize;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'potoo-bench-webhook-'));
  try {
    const objects = generateSnapshot(size);
    const snapshot = path.join(dir, 'snapshot.json');
    await writeFile(snapshot, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    const cert = await makeServingCert(dir);
    const policies = size.networkPolicies + size.resourceQuotas + size.limitRanges + size.webhookConfigurations;
    const sizeText = `${size.namespaces} ns / ${size.workloads} workloads / ${policies} policies`;

    const t0 = performance.now();
    const child = await startWebhookProcess(['webhook', '--manifests', snapshot, '--tls-cert-file', cert.certFile, '--tls-private-key-file', cert.keyFile, '--port', '0', '--bind-address', '127.0.0.1'], {
      // Compiled from dist/ when this bench runs compiled, else from source through tsx.
      fromDist: import.meta.url.endsWith('.js'),
      logLevel: 'warn',
      startTimeoutMs: 600_000,
    });
    const startMs = performance.now() - t0;
    const rows: BenchRow[] = [{ operation: 'webhook start (load + adapt snapshot)', size: sizeText, time: `${(startMs / 1000).toFixed(1)} s`, memory: '' }];
    try {
      const r = rng(7);
      const apps = ['api', 'web', 'worker', 'db', 'cache', 'gateway', 'batch', 'metrics', 'auth', 'search'];
      const bodies = Array.from({ length: 500 }, (_, i) => review(i, `ns-${Math.floor(r() * size.namespaces)}`, apps[Math.floor(r() * apps.length)]!));
      // Warm-up: JIT, TLS sessions, caches.
      await run(child.url, cert.caPem, bodies, 50, 3);
      for (const [label, rps, secs] of [['steady', rate, seconds], ['headroom', rate * 4, Math.min(10, seconds)]] as const) {
        const res = await run(child.url, cert.caPem, bodies, rps, secs);
        const l = res.latencies;
        rows.push({
          operation: `admission review, ${label} ${rps} req/s`,
          size: `${l.length} requests (${sizeText})`,
          time: latencyMs(l, 2),
          memory: `webhook RSS ${child.rssMb().now.toFixed(0)} MB (peak ${child.rssMb().peak.toFixed(0)} MB, at load)`,
          note: `${res.errors} errors; ${(res.warnings / Math.max(1, l.length)).toFixed(1)} warnings/response; generator lag max ${res.lateMs.toFixed(1)} ms`,
        });
      }
    } finally {
      await child.stop();
    }
    printMachine('bench/webhook');
    printTable(rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
