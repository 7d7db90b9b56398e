// Shared setup for the controller's integration tests: a real cluster with Potoo's CRDs
// and the least-privilege RBAC from deploy/ applied verbatim, and a kubeconfig for the
// controller's ServiceAccount (a real token from the TokenRequest API), so the
// controller under test has exactly the permissions a deployment gets.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '../wait.js';

export { waitFor };
import { kubeconfigFor, startCluster, type TestCluster } from '../cluster/cluster.js';
import { createLogger, type Logger } from '../../runtime/log.js';

const exec = promisify(execFile);
/** The repository root, from the sources or from dist/ (benchmarks run compiled). */
export const repoRoot = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'deploy'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the repository root (package.json next to deploy/)');
})();

export interface PotooCluster {
  cluster: TestCluster;
  /** Admin (system:masters) kubeconfig: what the test itself uses. */
  admin: string;
  /** The controller ServiceAccount's kubeconfig (bound by deploy/rbac.yaml only). */
  controller: string;
  namespace: string;
  kubectl(...args: string[]): Promise<string>;
  apply(yaml: string): Promise<string>;
  stop(): Promise<void>;
}

export async function kubectlWith(kubeconfig: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) {
    const { stdout } = await exec('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  }
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')} failed (${code}): ${err}`))));
    child.stdin.end(input);
  });
}

/** A cluster with the CRDs and RBAC from deploy/, and a token for the controller's ServiceAccount. */
export async function startPotooCluster(opts: { log?: (s: string) => void } = {}): Promise<PotooCluster> {
  const cluster = await startCluster(opts.log ? { log: opts.log } : {});
  const admin = cluster.kubeconfigPath;
  const kubectl = (...args: string[]): Promise<string> => kubectlWith(admin, args);
  const apply = (yaml: string): Promise<string> => kubectlWith(admin, ['apply', '-f', '-'], yaml);
  try {
    await kubectl('create', 'namespace', 'potoo-system');
    await kubectl('apply', '-f', path.join(repoRoot, 'deploy/crds'));
    await kubectl('apply', '-f', path.join(repoRoot, 'deploy/rbac.yaml'));
    await kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd/constraintprofiles.potoo.io', 'crd/constraintreports.potoo.io', 'crd/notificationpolicies.potoo.io');
    const token = (await kubectl('-n', 'potoo-system', 'create', 'token', 'potoo-controller', '--duration=4h')).trim();
    const controller = kubeconfigFor(cluster, { name: 'potoo-controller-sa', token });
    // The RBAC authorizer learns new bindings through an informer: wait until it has.
    await waitFor(async () => (await kubectlWith(controller, ['auth', 'can-i', 'list', 'networkpolicies', '-A']).catch(() => 'no')).trim() === 'yes', 30_000, 'RBAC for the controller');
    return { cluster, admin, controller, namespace: 'potoo-system', kubectl, apply, stop: () => cluster.stop() };
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

export function kubeConfigFromFile(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}


/** A logger that keeps every line in memory (and drops nothing), for asserting on logs. */
export function memoryLogger(level: 'info' | 'debug' = 'info'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) {
        if (!l) continue;
        try {
          lines.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          // not JSON: ignore
        }
      }
      cb();
    },
  });
  return { log: createLogger({ level, destination: dest }), lines };
}

export interface ReportObject {
  metadata: { name: string; namespace: string; resourceVersion: string };
  status?: {
    summary: { total: number; critical: number; warning: number; info: number; workloads: number; affectedWorkloads: number };
    entries: { id: string; type: string; effect: string; severity: string; summary: string; appliesTo: string; reasons: string[]; source: { kind: string; name: string; namespace?: string }; workloads: { kind: string; name: string; reasons?: string[] }[] }[];
    machine: { schema: string; constraints: { id: string; type: string }[] };
    generatedBy: string;
    lastUpdateTime: string;
  };
}

export async function getReport(kubeconfig: string, namespace: string): Promise<ReportObject | undefined> {
  try {
    return JSON.parse(await kubectlWith(kubeconfig, ['-n', namespace, 'get', 'constraintreport', 'potoo', '-o', 'json'])) as ReportObject;
  } catch {
    return undefined;
  }
}

export interface ChildController {
  child: ChildProcess;
  port: number;
  identity: string;
  output(): string;
  url(path: string): string;
}

 /**
 * Run `potoo controller` as a real process over the sources (no build step needed). One
 * process, not the tsx launcher plus a child: a SIGKILL must kill the controller itself.
 */
export function spawnController(args: { kubeconfig: string; identity: string; port: number; extra?: string[] }): ChildController {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'runtime/controller/main.ts'), '--kubeconfig', args.kubeconfig, '--namespace', 'potoo-system', '--identity', args.identity, '--http-host', '127.0.0.1', '--http-port', String(args.port), ...(args.extra ?? [])],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POTOO_LOG_LEVEL: 'info' } },
  );
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, port: args.port, identity: args.identity, output: () => out, url: (p) => `http://127.0.0.1:${args.port}${p}` };
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export async function getJson<T = unknown>(url: string, timeoutMs = 3000, token?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export function writeTemp(dir: string, name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** A CustomResourceDefinition (JSON, one document) whose objects keep any fields: enough for informers and adapters. */
export function crd(group: string, kind: string, plural: string, opts: { annotations?: Record<string, string>; scope?: 'Namespaced' | 'Cluster'; version?: string } = {}): string {
  return JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}`, annotations: opts.annotations ?? {} },
    spec: {
      group,
      scope: opts.scope ?? 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: opts.version ?? 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  });
}
