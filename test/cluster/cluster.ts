/**
 * Test cluster harness: a REAL kube-apiserver backed by a REAL etcd, both built from
 * the Go module proxy by ./build.sh and run on loopback. No controller-manager, no
 * scheduler, no kubelet: only the API server (core API, CRDs, RBAC, admission...).
 *
 * Usage:
 *   const cluster = await startCluster();
 *   // cluster.kubeconfigPath (admin), cluster.server, cluster.tokens['developer'] ...
 *   await cluster.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TestCluster {
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of `admin` (group system:masters). */
  token: string;
  /** Bearer tokens of every static user, by user name (includes `admin`). */
  tokens: Record<string, string>;
  /** PEM file with the apiserver's self-signed CA. */
  caFile: string;
  /** Base64 of the CA PEM (what kubeconfig's certificate-authority-data holds). */
  caData: string;
  /** Admin kubeconfig (JSON, which kubectl and client-node read as YAML). */
  kubeconfigPath: string;
  /** Holds etcd data, certs, keys, kubeconfigs and the logs etcd.log / kube-apiserver.log. */
  dataDir: string;
  /** http://127.0.0.1:<port> */
  etcdUrl: string;
  /** Stops kube-apiserver only (etcd keeps its data). */
  stopApiserver(): Promise<void>;
  /** Starts kube-apiserver again on the same etcd, port, certs and tokens; waits for /readyz. */
  startApiserver(): Promise<void>;
  /** Stops both processes; removes dataDir unless keepDataDir / POTOO_CLUSTER_KEEP=1. */
  stop(): Promise<void>;
}

export interface TestUser {
  name: string;
  groups?: string[];
}

export interface StartClusterOptions {
  /** Appended after the harness's flags (later flags win). */
  extraApiserverArgs?: string[];
  /** Appended after the harness's etcd flags. */
  extraEtcdArgs?: string[];
  /** Progress messages (default: silent). */
  log?: (s: string) => void;
  /** Extra static-token users besides admin, potoo-controller and developer. */
  users?: TestUser[];
  /** Where to put data (default: a fresh directory under os.tmpdir()). */
  dataDir?: string;
  /** Keep dataDir after stop() (default: true if dataDir was given, else env POTOO_CLUSTER_KEEP=1). */
  keepDataDir?: boolean;
  /** Per-process readiness timeout (default 90 s). */
  startTimeoutMs?: number;
}

/** Users every cluster gets besides `admin` (system:masters). No RBAC bindings are created for them. */
export const DEFAULT_USERS: readonly TestUser[] = [
  { name: 'potoo-controller', groups: ['potoo'] },
  { name: 'developer', groups: ['developers'] },
];

const here = path.dirname(fileURLToPath(import.meta.url));
const buildScript = path.join(here, 'build.sh');

// ---------------------------------------------------------------------------
// Child-process bookkeeping: kill everything we started when this process exits.

const children = new Set<ChildProcess>();
let exitHandlersInstalled = false;
const forwardedSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function killAllSync(): void {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles the signal (e.g. start.ts stops the cluster gracefully); the
  // 'exit' handler still kills whatever is left when the process goes away.
  if (process.listeners(signal).some((l) => l !== onSignal)) return;
  killAllSync();
  for (const s of forwardedSignals) process.removeListener(s, onSignal);
  exitHandlersInstalled = false;
  // Re-raise so the default action (terminate with this signal) happens.
  process.kill(process.pid, signal);
}

function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  process.removeListener('exit', killAllSync);
  process.on('exit', killAllSync);
  for (const s of forwardedSignals) process.on(s, onSignal);
}

let pdeathsigWrapper: string | null | undefined;
/** util-linux setpriv --pdeathsig kills the child even if this process is SIGKILLed. */
function deathSigWrapper(): string | null {
  if (pdeathsigWrapper === undefined) {
    pdeathsigWrapper = null;
    if (process.platform === 'linux') {
      for (const p of ['/usr/bin/setpriv', '/bin/setpriv']) {
        if (existsSync(p)) {
          pdeathsigWrapper = p;
          break;
        }
      }
    }
  }
  return pdeathsigWrapper;
}

interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null;
}

function startProcess(name: string, bin: string, args: string[], logFile: string): Proc {
  installExitHandlers();
  const fd = openSync(logFile, 'a');
  const wrapper = deathSigWrapper();
  const [cmd, argv] = wrapper ? [wrapper, ['--pdeathsig', 'SIGKILL', '--', bin, ...args]] : [bin, args];
  let child: ChildProcess;
  try {
    child = spawn(cmd, argv, { stdio: ['ignore', fd, fd], detached: false, env: { ...process.env, GOMAXPROCS: process.env['GOMAXPROCS'] ?? '2' } });
  } finally {
    closeSync(fd);
  }
  children.add(child);
  const proc: Proc = {
    name,
    child,
    logFile,
    exitInfo: null,
    exited: new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        proc.exitInfo = { code, signal };
        children.delete(child);
        resolve();
      });
      child.once('error', (err) => {
        proc.exitInfo = { code: null, signal: null };
        children.delete(child);
        appendNote(logFile, `spawn error: ${err.message}`);
        resolve();
      });
    }),
  };
  return proc;
}

function appendNote(file: string, msg: string): void {
  try {
    const fd = openSync(file, 'a');
    try {
      const b = Buffer.from(`\n[cluster.ts] ${msg}\n`);
      writeSync(fd, b);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}

async function stopProcess(proc: Proc | null, timeoutMs = 15_000): Promise<void> {
  if (!proc || proc.exitInfo) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  try {
    await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Last `maxBytes` of a log file, for error messages. */
export function tailFile(file: string, maxBytes = 4000): string {
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const len = Math.min(size, maxBytes);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - len);
      const text = buf.toString('utf8');
      return size > len ? '...' + text.slice(text.indexOf('\n') + 1) : text;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return `(no log: ${(e as Error).message})`;
  }
}

function procError(proc: Proc, what: string): Error {
  const exit = proc.exitInfo ? ` (exited: code=${proc.exitInfo.code} signal=${proc.exitInfo.signal})` : '';
  return new Error(`${proc.name}: ${what}${exit}\n--- tail of ${proc.logFile} ---\n${tailFile(proc.logFile)}`);
}

// ---------------------------------------------------------------------------
// Binaries

let binariesPromise: Promise<{ apiserver: string; etcd: string }> | null = null;

/**
 * Builds (first time: several minutes) or finds kube-apiserver and etcd via build.sh.
 * POTOO_KUBE_APISERVER and POTOO_ETCD, when both set, point at prebuilt binaries instead.
 */
export async function ensureBinaries(opts?: { log?: (s: string) => void }): Promise<{ apiserver: string; etcd: string }> {
  const envApi = process.env['POTOO_KUBE_APISERVER'];
  const envEtcd = process.env['POTOO_ETCD'];
  if (envApi && envEtcd) return { apiserver: envApi, etcd: envEtcd };
  binariesPromise ??= runBuild(opts?.log).catch((e: unknown) => {
    binariesPromise = null;
    throw e;
  });
  return binariesPromise;
}

function runBuild(log?: (s: string) => void): Promise<{ apiserver: string; etcd: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [buildScript], { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
    children.add(child);
    installExitHandlers();
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
      if (log) for (const line of d.split('\n')) if (line.startsWith('build.sh:')) log(line);
    });
    child.once('error', (err) => {
      children.delete(child);
      reject(new Error(`cannot run ${buildScript}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      children.delete(child);
      const dir = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !dir) {
        reject(new Error(`${buildScript} failed (code=${code} signal=${signal})\n${stderr.slice(-4000)}`));
        return;
      }
      const apiserver = path.join(dir, 'kube-apiserver');
      const etcd = path.join(dir, 'etcd');
      if (!existsSync(apiserver) || !existsSync(etcd)) {
        reject(new Error(`${buildScript} printed ${dir} but the binaries are not there`));
        return;
      }
      resolve({ apiserver, etcd });
    });
  });
}

// ---------------------------------------------------------------------------
// Helpers

async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve());
      });
      const addr = srv.address();
      if (!addr || typeof addr === 'string') throw new Error('unexpected server address');
      ports.push(addr.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface HttpResult {
  status: number;
  body: string;
}

function httpGet(url: string, opts: { ca?: string; token?: string } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string> = {};
    if (opts.token) headers['Authorization'] = `Bearer ${opts.token}`;
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.get(u, { headers, timeout: 5000, ...(opts.ca ? { ca: opts.ca } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function waitFor(proc: Proc, timeoutMs: number, what: string, probe: () => Promise<string | true>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not probed yet';
  while (Date.now() < deadline) {
    if (proc.exitInfo) throw procError(proc, `exited before ${what}`);
    try {
      const r = await probe();
      if (r === true) return;
      last = r;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(250);
  }
  throw procError(proc, `not ${what} after ${timeoutMs} ms (last probe: ${last.slice(0, 2000)})`);
}

function token(): string {
  return randomBytes(24).toString('base64url');
}

function csvField(s: string): string {
  if (/[",\n]/.test(s)) throw new Error(`invalid character in token-file field: ${s}`);
  return s;
}

/** Picks the CA certificate out of the apiserver's self-signed bundle (leaf + CA). */
function extractCa(bundle: string): string {
  const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  for (const b of blocks) {
    try {
      if (new X509Certificate(b).ca) return b.endsWith('\n') ? b : b + '\n';
    } catch {
      // skip unparsable block
    }
  }
  return bundle;
}

interface KubeconfigTarget {
  server: string;
  caData: string;
  dataDir: string;
}

function writeKubeconfigSync(target: KubeconfigTarget, user: { name: string; token: string }, file: string): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'potoo-test', cluster: { server: target.server, 'certificate-authority-data': target.caData } }],
    users: [{ name: user.name, user: { token: user.token } }],
    contexts: [{ name: `${user.name}@potoo-test`, context: { cluster: 'potoo-test', user: user.name, namespace: 'default' } }],
    'current-context': `${user.name}@potoo-test`,
    preferences: {},
  };
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return file;
}

/** Writes a kubeconfig for another user's bearer token into the cluster's dataDir and returns its path. */
export function kubeconfigFor(cluster: KubeconfigTarget, user: { name: string; token: string }): string {
  const safe = user.name.replace(/[^A-Za-z0-9._-]/g, '_');
  return writeKubeconfigSync(cluster, user, path.join(cluster.dataDir, `kubeconfig-${safe}`));
}

// ---------------------------------------------------------------------------
// The cluster

/**
 * Starts etcd and kube-apiserver on free loopback ports and waits until /readyz is 200.
 * Retries with new ports if a port was taken between picking and binding.
 */
export async function startCluster(opts: StartClusterOptions = {}): Promise<TestCluster> {
  const log = opts.log ?? (() => {});
  const bins = await ensureBinaries({ log });
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(opts, bins, log);
    } catch (e) {
      const retry = attempt < 3 && opts.dataDir === undefined && /address already in use/i.test((e as Error).message);
      if (!retry) throw e;
      log(`port clash, retrying (${(e as Error).message.split('\n')[0]})`);
    }
  }
}

async function startClusterOnce(
  opts: StartClusterOptions,
  bins: { apiserver: string; etcd: string },
  log: (s: string) => void,
): Promise<TestCluster> {
  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  // A caller-chosen dataDir is kept by default; a temporary one is removed.
  const keep = opts.keepDataDir ?? (opts.dataDir !== undefined || process.env['POTOO_CLUSTER_KEEP'] === '1');

  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'potoo-cluster-')));
  const certDir = path.join(dataDir, 'certs');
  const etcdDir = path.join(dataDir, 'etcd');
  await mkdir(certDir, { recursive: true, mode: 0o700 });

  // Static token users.
  const adminToken = token();
  const tokens: Record<string, string> = { admin: adminToken };
  const lines = [`${adminToken},admin,admin,system:masters`];
  for (const u of [...DEFAULT_USERS, ...(opts.users ?? [])]) {
    if (u.name in tokens) continue;
    const t = token();
    tokens[u.name] = t;
    const groups = u.groups?.length ? `,"${u.groups.map(csvField).join(',')}"` : '';
    lines.push(`${t},${csvField(u.name)},${csvField(u.name)}${groups}`);
  }
  const tokenFile = path.join(dataDir, 'tokens.csv');
  await writeFile(tokenFile, lines.join('\n') + '\n', { mode: 0o600 });

  // Service-account signing key (one private key serves both flags).
  const saKeyFile = path.join(dataDir, 'sa.key');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(saKeyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });

  const [etcdPort, peerPort, apiPort] = (await freePorts(3)) as [number, number, number];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const server = `https://127.0.0.1:${apiPort}`;

  let etcd: Proc | null = null;
  let apiserver: Proc | null = null;
  let stopped = false;

  const cleanup = async (): Promise<void> => {
    await stopProcess(apiserver);
    await stopProcess(etcd);
    if (!keep) rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    log(`etcd: starting on ${etcdUrl} (data ${etcdDir})`);
    etcd = startProcess(
      'etcd',
      bins.etcd,
      [
        '--name=default',
        `--data-dir=${etcdDir}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        '--initial-cluster-state=new',
        '--unsafe-no-fsync',
        ...(opts.extraEtcdArgs ?? []),
      ],
      path.join(dataDir, 'etcd.log'),
    );
    const etcdProc = etcd;
    await waitFor(etcdProc, timeoutMs, 'healthy', async () => {
      const r = await httpGet(`${etcdUrl}/health`);
      return r.status === 200 && /"health":\s*"true"/.test(r.body) ? true : `${r.status} ${r.body}`;
    });
    log('etcd: healthy');
  } catch (e) {
    await cleanup();
    throw e;
  }

  const apiserverArgs = [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${certDir}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${saKeyFile}`,
    `--service-account-signing-key-file=${saKeyFile}`,
    `--token-auth-file=${tokenFile}`,
    '--authorization-mode=RBAC',
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
    '--endpoint-reconciler-type=none',
    ...(opts.extraApiserverArgs ?? []),
  ];
  const apiserverLog = path.join(dataDir, 'kube-apiserver.log');
  const certBundleFile = path.join(certDir, 'apiserver.crt');

  const startApiserverProc = async (): Promise<void> => {
    if (stopped) throw new Error('cluster is stopped');
    if (apiserver && !apiserver.exitInfo) return;
    log(`kube-apiserver: starting on ${server}`);
    const started = Date.now();
    apiserver = startProcess('kube-apiserver', bins.apiserver, apiserverArgs, apiserverLog);
    const proc = apiserver;
    await waitFor(proc, timeoutMs, 'ready', async () => {
      if (!existsSync(certBundleFile)) return `${certBundleFile} not written yet`;
      const ca = await readFile(certBundleFile, 'utf8');
      const r = await httpGet(`${server}/readyz`, { ca, token: adminToken });
      return r.status === 200 ? true : `${r.status} ${r.body}`;
    });
    log(`kube-apiserver: ready in ${Date.now() - started} ms`);
  };

  try {
    await startApiserverProc();
  } catch (e) {
    await cleanup();
    throw e;
  }

  const caPem = extractCa(await readFile(certBundleFile, 'utf8'));
  const caFile = path.join(dataDir, 'ca.crt');
  await writeFile(caFile, caPem);
  const caData = Buffer.from(caPem).toString('base64');
  const kubeconfigPath = writeKubeconfigSync({ server, caData, dataDir }, { name: 'admin', token: adminToken }, path.join(dataDir, 'kubeconfig'));

  const cluster: TestCluster = {
    server,
    token: adminToken,
    tokens,
    caFile,
    caData,
    kubeconfigPath,
    dataDir,
    etcdUrl,
    async stopApiserver() {
      log('kube-apiserver: stopping');
      await stopProcess(apiserver);
    },
    async startApiserver() {
      await startApiserverProc();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      log('cluster: stopping');
      await cleanup();
    },
  };
  return cluster;
}
