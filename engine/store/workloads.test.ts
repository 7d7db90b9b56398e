import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { KubeObject } from '../model.js';
import { FactStore } from './store.js';
import { WorkloadIndex, objectTarget, workloadFromObject, workloadKey, type WorkloadEvent } from './workloads.js';

const podSpec = {
  serviceAccountName: 'api-sa',
  initContainers: [
    { name: 'migrate', image: 'migrate:1' },
    { name: 'proxy', image: 'envoy:1', restartPolicy: 'Always', ports: [{ name: 'admin', containerPort: 9901 }] },
  ],
  containers: [
    {
      name: 'api',
      image: 'api:2',
      resources: { requests: { cpu: 0.5, memory: '128Mi' }, limits: { cpu: 1 } },
      ports: [
        { name: 'http', containerPort: 8080 },
        { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
        { containerPort: 5353, protocol: 'UDP' },
      ],
    },
  ],
};
const template = { metadata: { labels: { app: 'api' }, annotations: { 'prometheus.io/scrape': 'true' } }, spec: podSpec };

const obj = (apiVersion: string, kind: string, name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, namespace: 'payments', labels: { owner: 'team' }, ...meta },
  spec,
});

const owner = (apiVersion: string, kind: string, name: string, controller = true) => ({
  ownerReferences: [{ apiVersion, kind, name, uid: 'u', controller }],
});

describe('workloadFromObject', () => {
  it('describes a Deployment by the pods it creates', () => {
    const w = workloadFromObject(
      { group: 'apps', version: 'v1', resource: 'deployments' },
      obj('apps/v1', 'Deployment', 'api', { replicas: 3, template }, { uid: 'd-1' }),
    );
    expect(w).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      group: 'apps',
      name: 'api',
      namespace: 'payments',
      uid: 'd-1',
      labels: { owner: 'team' },
      annotations: {},
      podLabels: { app: 'api' },
      podAnnotations: { 'prometheus.io/scrape': 'true' },
      serviceAccountName: 'api-sa',
      replicas: 3,
      containers: [
        { name: 'migrate', image: 'migrate:1', init: true },
        { name: 'proxy', image: 'envoy:1', init: true },
        { name: 'api', image: 'api:2', init: false, resources: { requests: { cpu: '0.5', memory: '128Mi' }, limits: { cpu: '1' } } },
      ],
      ports: [
        { container: 'proxy', name: 'admin', containerPort: 9901, protocol: 'TCP' },
        { container: 'api', name: 'http', containerPort: 8080, protocol: 'TCP' },
        { container: 'api', name: 'metrics', containerPort: 9090, protocol: 'TCP' },
        { container: 'api', containerPort: 5353, protocol: 'UDP' },
      ],
    });
  });

  it('reads every pod controller kind, with the right template path and replica default', () => {
    const cases: [string, string, string, string, Record<string, unknown>, number | undefined][] = [
      ['apps', 'statefulsets', 'apps/v1', 'StatefulSet', { template }, 1],
      ['apps', 'daemonsets', 'apps/v1', 'DaemonSet', { template }, undefined],
      ['apps', 'replicasets', 'apps/v1', 'ReplicaSet', { replicas: 2, template }, 2],
      ['batch', 'jobs', 'batch/v1', 'Job', { parallelism: 4, template }, 4],
      ['batch', 'cronjobs', 'batch/v1', 'CronJob', { schedule: '* * * * *', jobTemplate: { spec: { template } } }, 1],
      ['', 'replicationcontrollers', 'v1', 'ReplicationController', { template }, 1],
    ];
    for (const [group, resource, apiVersion, kind, spec, replicas] of cases) {
      const w = workloadFromObject({ group, version: 'v1', resource }, obj(apiVersion, kind, 'x', spec));
      expect(w?.kind, kind).toBe(kind);
      expect(w?.podLabels, kind).toEqual({ app: 'api' });
      expect(w?.containers.map((c) => c.name), kind).toEqual(['migrate', 'proxy', 'api']);
      expect(w?.replicas, kind).toBe(replicas);
    }
  });

  it('reads a bare Pod from itself', () => {
    const p: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a', labels: { app: 'x' } }, spec: podSpec };
    const w = workloadFromObject({ group: '', version: 'v1', resource: 'pods' }, p);
    expect(w).toMatchObject({ kind: 'Pod', labels: { app: 'x' }, podLabels: { app: 'x' }, replicas: 1, serviceAccountName: 'api-sa' });
  });

  it('skips what a controller already represents', () => {
    const rs = obj('apps/v1', 'ReplicaSet', 'api-5d4f', { template }, owner('apps/v1', 'Deployment', 'api'));
    expect(workloadFromObject({ group: 'apps', version: 'v1', resource: 'replicasets' }, rs)).toBeUndefined();
    const job = obj('batch/v1', 'Job', 'nightly-123', { template }, owner('batch/v1', 'CronJob', 'nightly'));
    expect(workloadFromObject({ group: 'batch', version: 'v1', resource: 'jobs' }, job)).toBeUndefined();
    const p = (o: ReturnType<typeof owner>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a', ...o }, spec: podSpec });
    const PODS = { group: '', version: 'v1', resource: 'pods' };
    expect(workloadFromObject(PODS, p(owner('apps/v1', 'ReplicaSet', 'api-5d4f')))).toBeUndefined();
    expect(workloadFromObject(PODS, p(owner('apps/v1', 'StatefulSet', 'db')))).toBeUndefined();
    expect(workloadFromObject(PODS, p(owner('batch/v1', 'Job', 'j')))).toBeUndefined();
  });

  it('keeps what no built-in controller represents', () => {
    const PODS = { group: '', version: 'v1', resource: 'pods' };
    const p = (o: ReturnType<typeof owner>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a', ...o }, spec: podSpec });
    // A custom operator's pods and static mirror pods have no other representative.
    expect(workloadFromObject(PODS, p(owner('example.com/v1', 'Runner', 'r')))).toBeDefined();
    expect(workloadFromObject(PODS, p(owner('v1', 'Node', 'node-1')))).toBeDefined();
    // A non-controller owner does not make it managed.
    expect(workloadFromObject(PODS, p(owner('apps/v1', 'ReplicaSet', 'x', false)))).toBeDefined();
    // Argo Rollouts' ReplicaSets are not a Deployment's.
    const rs = obj('apps/v1', 'ReplicaSet', 'r-1', { template }, owner('argoproj.io/v1alpha1', 'Rollout', 'r'));
    expect(workloadFromObject({ group: 'apps', version: 'v1', resource: 'replicasets' }, rs)).toBeDefined();
  });

  it('ignores kinds that are not workloads and tolerates missing templates', () => {
    expect(workloadFromObject({ group: '', version: 'v1', resource: 'services' }, obj('v1', 'Service', 's', {}))).toBeUndefined();
    const w = workloadFromObject({ group: 'apps', version: 'v1', resource: 'deployments' }, obj('apps/v1', 'Deployment', 'd', {}));
    expect(w).toMatchObject({ podLabels: {}, containers: [], ports: [], replicas: 1 });
  });

  it('never throws on arbitrary specs', () => {
    fc.assert(
      fc.property(fc.constantFrom('deployments', 'cronjobs', 'pods', 'daemonsets'), fc.jsonValue(), (resource, spec) => {
        const o = { apiVersion: 'apps/v1', kind: 'X', metadata: { name: 'n', namespace: 'a' }, spec } as KubeObject;
        const w = workloadFromObject({ group: resource === 'pods' ? '' : resource === 'cronjobs' ? 'batch' : 'apps', version: 'v1', resource }, o);
        expect(w?.name).toBe('n');
      }),
    );
  });
});

describe('WorkloadIndex', () => {
  const DEPLOYS = 'apps/v1/deployments';
  const RS = 'apps/v1/replicasets';
  const dep = (name: string, extra: Record<string, unknown> = {}, rv = '1'): KubeObject => ({
    ...obj('apps/v1', 'Deployment', name, { template }, { resourceVersion: rv }),
    ...extra,
  });

  it('seeds from the store, then follows its changes', () => {
    const s = new FactStore();
    s.upsert(DEPLOYS, dep('api'));
    const idx = new WorkloadIndex(s);
    const ev: WorkloadEvent[] = [];
    idx.subscribe((e) => ev.push(e));
    expect(idx.list().map(workloadKey)).toEqual(['Deployment/payments/api']);
    s.upsert(DEPLOYS, dep('web'));
    s.delete(DEPLOYS, 'payments', 'api');
    expect(ev.map((e) => `${e.type} ${e.key}`)).toEqual(['ADDED Deployment/payments/web', 'DELETED Deployment/payments/api']);
    expect(idx.find('Deployment', 'payments', 'web')?.podLabels).toEqual({ app: 'api' });
    expect(idx.list('payments')).toHaveLength(1);
    expect(idx.list('elsewhere')).toEqual([]);
    idx.dispose();
    s.upsert(DEPLOYS, dep('later'));
    expect(idx.size).toBe(1);
  });

  it('does not re-emit when only status changes', () => {
    const s = new FactStore();
    const idx = new WorkloadIndex(s);
    const ev: WorkloadEvent[] = [];
    idx.subscribe((e) => ev.push(e));
    s.upsert(DEPLOYS, dep('api', {}, '1'));
    s.upsert(DEPLOYS, dep('api', { status: { readyReplicas: 2 } }, '2'));
    expect(ev.map((e) => e.type)).toEqual(['ADDED']);
    s.upsert(DEPLOYS, dep('api', { spec: { replicas: 5, template } }, '3'));
    expect(ev.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED']);
    expect(ev[1]?.old?.replicas).toBe(1);
    expect(ev[1]?.workload.replicas).toBe(5);
  });

  it('drops a ReplicaSet once a Deployment adopts it, and brings it back when orphaned', () => {
    const s = new FactStore();
    const idx = new WorkloadIndex(s);
    const ev: WorkloadEvent[] = [];
    idx.subscribe((e) => ev.push(e));
    const rs = (rv: string, meta: Record<string, unknown> = {}): KubeObject =>
      obj('apps/v1', 'ReplicaSet', 'api-1', { template }, { resourceVersion: rv, ...meta });
    s.upsert(RS, rs('1'));
    s.upsert(RS, rs('2', owner('apps/v1', 'Deployment', 'api')));
    s.upsert(RS, rs('3'));
    expect(ev.map((e) => `${e.type} ${e.key}`)).toEqual([
      'ADDED ReplicaSet/payments/api-1',
      'DELETED ReplicaSet/payments/api-1',
      'ADDED ReplicaSet/payments/api-1',
    ]);
  });

  it('builds scope targets with current namespace labels', () => {
    const s = new FactStore();
    s.upsert('v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments', labels: { team: 'pay' } } });
    s.upsert(DEPLOYS, dep('api'));
    const idx = new WorkloadIndex(s);
    const t = idx.target(idx.list()[0]!, 'CREATE');
    expect(t).toMatchObject({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      name: 'api',
      namespace: 'payments',
      namespaceLabels: { team: 'pay', 'kubernetes.io/metadata.name': 'payments' },
      podLabels: { app: 'api' },
      podAnnotations: { 'prometheus.io/scrape': 'true' },
      operation: 'CREATE',
    });
  });
});

describe('objectTarget', () => {
  it('adds pod labels only for workload kinds', () => {
    const d = obj('apps/v1', 'Deployment', 'api', { template });
    expect(objectTarget({ group: 'apps', version: 'v1', resource: 'deployments' }, d, {}).podLabels).toEqual({ app: 'api' });
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'a' } };
    const t = objectTarget({ group: '', version: 'v1', resource: 'configmaps' }, cm, { x: 'y' });
    expect(t).toEqual({ group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', name: 'c', namespace: 'a', labels: {}, annotations: {}, namespaceLabels: { x: 'y' } });
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } };
    expect(objectTarget({ group: '', version: 'v1', resource: 'namespaces' }, ns, undefined).namespace).toBeUndefined();
  });
});
