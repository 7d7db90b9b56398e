// Synthetic cluster snapshots for benchmarks: deterministic (seeded), realistic shapes.
import type { KubeObject } from '../engine/model.js';

export interface SnapshotSize {
  namespaces: number;
  workloads: number;
  networkPolicies: number;
  resourceQuotas: number;
  limitRanges: number;
  webhookConfigurations: number;
}

export const ISSUE2_SIZE: SnapshotSize = {
  namespaces: 2000,
  workloads: 20000,
  networkPolicies: 6000,
  resourceQuotas: 2000,
  limitRanges: 2000,
  webhookConfigurations: 50,
};

/** mulberry32: small, fast, and the same sequence on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const APPS = ['api', 'web', 'worker', 'db', 'cache', 'gateway', 'batch', 'metrics', 'auth', 'search'];
const TEAMS = ['payments', 'web', 'data', 'platform', 'ml', 'growth'];
const KINDS = ['Deployment', 'Deployment', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'];

export function generateSnapshot(size: SnapshotSize, seed = 42): KubeObject[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: KubeObject[] = [];
  const ns = (i: number): string => `ns-${i}`;
  for (let i = 0; i < size.namespaces; i++) {
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns(i), labels: { team: pick(TEAMS), 'kubernetes.io/metadata.name': ns(i), env: r() < 0.5 ? 'prod' : 'dev' } } });
  }
  for (let i = 0; i < size.workloads; i++) {
    const kind = pick(KINDS);
    const app = pick(APPS);
    const labels = { app, tier: r() < 0.5 ? 'backend' : 'frontend', instance: `i${i}` };
    const podSpec = {
      serviceAccountName: app,
      containers: [
        {
          name: app,
          image: `registry.example.com/${app}:1.${i % 20}`,
          ports: [{ name: 'http', containerPort: 8080 }, ...(r() < 0.3 ? [{ name: 'metrics', containerPort: 9090 }] : [])],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
        },
      ],
    };
    const template = { metadata: { labels }, spec: podSpec };
    const spec: Record<string, unknown> =
      kind === 'CronJob'
        ? { schedule: '*/5 * * * *', jobTemplate: { spec: { template } } }
        : kind === 'Job'
          ? { template }
          : { replicas: 2, selector: { matchLabels: { app, instance: `i${i}` } }, template };
    out.push({ apiVersion: kind === 'Job' || kind === 'CronJob' ? 'batch/v1' : 'apps/v1', kind, metadata: { name: `${app}-${i}`, namespace: ns(i % size.namespaces), labels: { app } }, spec });
  }
  for (let i = 0; i < size.networkPolicies; i++) {
    const n = ns(i % size.namespaces);
    const shape = i % 3;
    const spec =
      shape === 0
        ? { podSelector: {}, policyTypes: ['Ingress'] }
        : shape === 1
          ? {
              podSelector: { matchLabels: { app: pick(APPS) } },
              policyTypes: ['Ingress'],
              ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: pick(TEAMS) } } }, { podSelector: { matchLabels: { app: pick(APPS) } } }], ports: [{ port: 'http' }, { port: 8443, protocol: 'TCP' }] }],
            }
          : {
              podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }] },
              policyTypes: ['Egress'],
              egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 5432, endPort: 5440 }] }, { to: [{ namespaceSelector: {} }], ports: [{ port: 53, protocol: 'UDP' }] }],
            };
    out.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `np-${i}`, namespace: n }, spec });
  }
  for (let i = 0; i < size.resourceQuotas; i++) {
    const used = Math.floor(r() * 20);
    out.push({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: `quota-${i}`, namespace: ns(i % size.namespaces) },
      spec: { hard: { pods: '20', 'requests.cpu': '10', 'requests.memory': '20Gi' } },
      status: { hard: { pods: '20', 'requests.cpu': '10', 'requests.memory': '20Gi' }, used: { pods: String(used), 'requests.cpu': `${used * 400}m`, 'requests.memory': `${used}Gi` } },
    });
  }
  for (let i = 0; i < size.limitRanges; i++) {
    out.push({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: `limits-${i}`, namespace: ns(i % size.namespaces) },
      spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '512Mi' }, defaultRequest: { cpu: '100m' }, max: { cpu: '2' } }] },
    });
  }
  for (let i = 0; i < size.webhookConfigurations; i++) {
    const validating = i % 2 === 0;
    out.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: validating ? 'ValidatingWebhookConfiguration' : 'MutatingWebhookConfiguration',
      metadata: { name: `hooks-${i}` },
      webhooks: [
        {
          name: `check-${i}.example.com`,
          failurePolicy: i % 3 === 0 ? 'Ignore' : 'Fail',
          namespaceSelector: { matchLabels: { team: pick(TEAMS) } },
          rules: [{ apiGroups: ['', 'apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods', 'deployments'] }],
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          clientConfig: { service: { namespace: 'webhooks', name: `svc-${i}` } },
        },
      ],
    });
  }
  return out;
}
