// The admission webhook against a real kube-apiserver: the API server calls `potoo
// webhook` over HTTPS on a Deployment create and kubectl prints Potoo's warning lines;
// with the webhook stopped, creates still succeed (failurePolicy: Ignore).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigFor, startCluster, type TestCluster } from '../cluster/cluster.js';
import { makeServingCert, type ServingCert } from './webhook-certs.js';
import { startWebhookProcess, type WebhookProcess } from './webhook-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function kubectl(kubeconfig: string, args: string[], stdin?: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

async function mustKubectl(kubeconfig: string, args: string[], stdin?: string): Promise<KubectlResult> {
  const r = await kubectl(kubeconfig, args, stdin);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r;
}

function httpsRequest(url: string, ca: string, method: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, headers: body ? { 'Content-Type': 'application/json' } : {}, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function deploymentYaml(name: string, ns: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, tier: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    },
  });
}

function webhookConfig(name: string, url: string, caBundle: string, failurePolicy: 'Ignore' | 'Fail'): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name },
    webhooks: [
      {
        name: `${name}.potoo.io`,
        clientConfig: { url, caBundle },
        rules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'], scope: 'Namespaced' }],
        failurePolicy,
        sideEffects: 'None',
        timeoutSeconds: 5,
        admissionReviewVersions: ['v1'],
        namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] },
      },
    ],
  });
}

/** Create Deployments until kubectl's stderr satisfies `done` (the API server picks up new webhook configurations asynchronously). */
async function createUntil(kubeconfig: string, ns: string, prefix: string, done: (stderr: string) => boolean, timeoutMs = 30_000): Promise<KubectlResult> {
  const deadline = Date.now() + timeoutMs;
  let last: KubectlResult = { code: -1, stdout: '', stderr: '' };
  for (let i = 0; Date.now() < deadline; i++) {
    last = await kubectl(kubeconfig, ['create', '-f', '-'], deploymentYaml(`${prefix}-${i}`, ns));
    if (last.code !== 0) throw new Error(`create failed: ${last.stderr}`);
    if (done(last.stderr)) return last;
    await sleep(300);
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last stderr:\n${last.stderr}`);
}

describe('potoo webhook on a real kube-apiserver', () => {
  let cluster: TestCluster;
  let dir: string;
  let cert: ServingCert;
  let potoo: WebhookProcess | undefined;
  let devConfig: string;

  beforeAll(async () => {
    cluster = await startCluster({ users: [{ name: 'potoo-webhook', groups: ['potoo'] }] });
    dir = await mkdtemp(path.join(os.tmpdir(), 'potoo-webhook-it-'));
    cert = await makeServingCert(dir);
    const admin = cluster.kubeconfigPath;

    // The webhook runs as its own user with the ClusterRole shipped in deploy/webhook.
    await mustKubectl(admin, ['create', 'namespace', 'potoo-system']);
    await mustKubectl(admin, ['apply', '-f', path.join(ROOT, 'deploy/webhook/rbac.yaml')]);
    await mustKubectl(admin, ['create', 'clusterrolebinding', 'potoo-webhook-test-user', '--clusterrole=potoo-webhook', '--user=potoo-webhook']);

    // team-a: a default-deny NetworkPolicy the team owns; team-b: one it does not.
    await mustKubectl(admin, ['create', 'namespace', 'team-a']);
    await mustKubectl(admin, ['create', 'namespace', 'team-b']);
    await mustKubectl(admin, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny-ingress', namespace: 'team-a' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'team-b-secret-policy', namespace: 'team-b' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
      ],
    }));
    // A developer who may create Deployments in team-a (and nothing else).
    await mustKubectl(admin, ['create', 'role', 'deployer', '--verb=create,get,list', '--resource=deployments.apps', '-n', 'team-a']);
    await mustKubectl(admin, ['create', 'rolebinding', 'dev-deployer', '--role=deployer', '--user=developer', '-n', 'team-a']);
    devConfig = kubeconfigFor(cluster, { name: 'developer', token: cluster.tokens['developer']! });

    const webhookKubeconfig = kubeconfigFor(cluster, { name: 'potoo-webhook', token: cluster.tokens['potoo-webhook']! });
    potoo = await startWebhookProcess(['webhook', '--kubeconfig', webhookKubeconfig, '--tls-cert-file', cert.certFile, '--tls-private-key-file', cert.keyFile, '--port', '0', '--bind-address', '127.0.0.1']);
    // Ready = every watched resource listed.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await httpsRequest(`${potoo.url}/readyz`, cert.caPem, 'GET').catch(() => ({ status: 0, body: '' }));
      if (r.status === 200) break;
      if (Date.now() > deadline) throw new Error(`webhook never became ready:\n${potoo.output()}`);
      await sleep(200);
    }
    // Potoo's own registration (Ignore), and a cluster-owned policy webhook (Fail) that
    // also points at Potoo so it admits: Potoo must mention it without naming it.
    await mustKubectl(admin, ['apply', '-f', '-'], webhookConfig('potoo-webhook', `${potoo.url}/validate`, cert.caBundle, 'Ignore'));
    await mustKubectl(admin, ['apply', '-f', '-'], webhookConfig('acme-image-policy', `${potoo.url}/validate`, cert.caBundle, 'Fail'));
  }, 20 * 60_000);

  afterAll(async () => {
    await potoo?.stop();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('kubectl prints Potoo warning lines on a Deployment create, privacy-scoped for a developer', async () => {
    const r = await createUntil(devConfig, 'team-a', 'web', (e) => e.includes('NetworkPolicy team-a/default-deny-ingress') && e.includes('an admission policy owned by the cluster (deny)'));
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('Warning: potoo:'));
    // What the developer saw, for the record.
    process.stdout.write(`kubectl create (developer) stderr:\n${r.stderr}\n`);
    expect(warnings).toContain('Warning: potoo: NetworkPolicy team-a/default-deny-ingress: Denies all ingress to pods matching all in namespace team-a');
    expect(warnings.some((w) => /^Warning: potoo: (\d+ × )?an admission policy owned by the cluster \(deny\) appl/.test(w))).toBe(true);
    expect(r.stderr).not.toContain('acme-image-policy');
    expect(r.stderr).not.toContain('team-b-secret-policy');
    expect(r.stdout).toMatch(/deployment.apps\/web-\d+ created/);
  }, 60_000);

  it('follows policy changes live through its own watch', async () => {
    await mustKubectl(cluster.kubeconfigPath, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'web-egress-lockdown', namespace: 'team-a' },
      spec: { podSelector: { matchLabels: { tier: 'web' } }, policyTypes: ['Egress'] },
    }));
    const r = await createUntil(devConfig, 'team-a', 'late', (e) => e.includes('web-egress-lockdown'), 20_000);
    expect(r.stderr).toContain('Warning: potoo: NetworkPolicy team-a/web-egress-lockdown: Denies all egress from pods matching tier=web in namespace team-a');
  }, 60_000);

  it('answers malformed AdmissionReviews with 400 or allowed, with a log line and a metric', async () => {
    const url = potoo!.url;
    const garbage = await httpsRequest(`${url}/validate`, cert.caPem, 'POST', '{not json');
    expect(garbage.status).toBe(400);
    const noObject = await httpsRequest(`${url}/validate`, cert.caPem, 'POST', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u-x', operation: 'CREATE' } }));
    expect(noObject.status).toBe(200);
    expect(JSON.parse(noObject.body)).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u-x', allowed: true } });
    const metrics = await httpsRequest(`${url}/metrics`, cert.caPem, 'GET');
    expect(metrics.body).toMatch(/potoo_webhook_malformed_total\{reason="json"\} [1-9]/);
    expect(metrics.body).toMatch(/potoo_webhook_requests_total\{outcome="warned"\} [1-9]/);
    expect(metrics.body).toMatch(/potoo_webhook_request_duration_seconds_count [1-9]/);
    await sleep(200);
    expect(potoo!.output()).toMatch(/malformed AdmissionReview: body is not JSON/);
  }, 30_000);

  it('the shipped manifests are accepted by the API server (server-side dry run)', async () => {
    for (const f of ['deployment.yaml', 'validatingwebhookconfiguration.yaml']) {
      const r = await kubectl(cluster.kubeconfigPath, ['apply', '--dry-run=server', '-f', path.join(ROOT, 'deploy/webhook', f)]);
      // Potoo's own warnings may appear (it is admitting its own Deployment); errors may not.
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/(created|configured) \(server dry run\)/);
    }
  }, 30_000);

  it('with the webhook stopped, creates still succeed (failurePolicy: Ignore)', async () => {
    // The Fail-policy stand-in would block once its backend is gone: remove it first.
    await mustKubectl(cluster.kubeconfigPath, ['delete', 'validatingwebhookconfiguration', 'acme-image-policy']);
    await potoo!.stop();
    const t0 = Date.now();
    const r = await mustKubectl(devConfig, ['create', '-f', '-'], deploymentYaml('after-stop', 'team-a'));
    expect(r.stdout).toContain('deployment.apps/after-stop created');
    expect(r.stderr).not.toContain('potoo:');
    expect(Date.now() - t0).toBeLessThan(10_000);
    await writeFile(path.join(dir, 'potoo-webhook.log'), potoo!.output());
  }, 60_000);
});
