import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ensureBinaries, kubeconfigFor, startCluster, type TestCluster } from './cluster.js';

const exec = promisify(execFile);

async function kubectl(kubeconfig: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000 });
  return stdout;
}

describe('test cluster (real kube-apiserver + etcd)', () => {
  let cluster: TestCluster | undefined;

  beforeAll(async () => {
    // First run builds kube-apiserver and etcd from source: several minutes.
    await ensureBinaries();
    cluster = await startCluster();
  }, 20 * 60_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('creates a namespace that survives an apiserver restart', async () => {
    const c = cluster!;
    await kubectl(c.kubeconfigPath, 'create', 'namespace', 'x');
    const ns = JSON.parse(await kubectl(c.kubeconfigPath, 'get', 'ns', 'x', '-o', 'json')) as {
      metadata: { name: string; uid: string };
    };
    expect(ns.metadata.name).toBe('x');

    await c.stopApiserver();
    await expect(kubectl(c.kubeconfigPath, 'get', 'ns', 'x', '--request-timeout=2s')).rejects.toThrow();
    await c.startApiserver();

    const again = JSON.parse(await kubectl(c.kubeconfigPath, 'get', 'ns', 'x', '-o', 'json')) as {
      metadata: { name: string; uid: string };
    };
    expect(again.metadata.name).toBe('x');
    expect(again.metadata.uid).toBe(ns.metadata.uid);
  }, 180_000);

  it('authenticates extra users and enforces RBAC for them', async () => {
    const c = cluster!;
    expect(Object.keys(c.tokens)).toEqual(expect.arrayContaining(['admin', 'potoo-controller', 'developer']));
    const dev = kubeconfigFor(c, { name: 'developer', token: c.tokens['developer']! });
    expect((await kubectl(dev, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}')).trim()).toBe('developer');
    // `kubectl auth can-i` prints yes/no and exits 1 on "no".
    const canI = async (): Promise<string> =>
      (await kubectl(dev, 'auth', 'can-i', 'list', 'pods', '-n', 'x').catch((e: { stdout?: string }) => e.stdout ?? '')).trim();
    expect(await canI()).toBe('no');
    // Not --clusterrole=view: aggregated ClusterRoles (view/edit/admin) stay empty without
    // kube-controller-manager's aggregation controller.
    await kubectl(c.kubeconfigPath, 'create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods', '-n', 'x');
    await kubectl(c.kubeconfigPath, 'create', 'rolebinding', 'dev-pods', '--role=pod-reader', '--user=developer', '-n', 'x');
    // The RBAC authorizer reads bindings from an informer: allow it a moment to catch up.
    let answer = '';
    for (let i = 0; i < 50 && answer !== 'yes'; i++) {
      answer = await canI();
      if (answer !== 'yes') await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer).toBe('yes');
  }, 60_000);
});
