import { beforeAll, describe, expect, it } from 'vitest';
import { Analyzer } from '../../engine/analyzer.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import { FactStore } from '../../engine/store/store.js';
import { loadAllPacks } from '../packs.js';
import { buildReport, REPORT_SCHEMA } from './report.js';

let packs: CompiledPack[];
beforeAll(async () => {
  packs = (await loadAllPacks()).packs;
});

const deploy = (ns: string, name: string, labels: Record<string, string>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
});

async function analyzer(objects: unknown[]): Promise<Analyzer> {
  const a = new Analyzer(new FactStore(), packs);
  for (const o of objects) a.store.upsertObject(o);
  await a.adaptAll();
  return a;
}

describe('buildReport', () => {
  it('lists each constraint with the workloads it reaches and why, most severe first, with counts and a machine section', async () => {
    const a = await analyzer([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      deploy('shop', 'web', { app: 'web' }),
      deploy('shop', 'db', { app: 'db' }),
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web-only', namespace: 'shop' }, spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] } },
      { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'shop' }, spec: { hard: { pods: '10' } }, status: { hard: { pods: '10' }, used: { pods: '10' } } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'elsewhere', namespace: 'other' }, spec: { podSelector: {} } },
    ]);
    const r = buildReport(a, 'shop');
    expect(r).toBeDefined();
    expect(r!.summary).toMatchObject({ total: 2, critical: 1, warning: 1, info: 0, workloads: 2, affectedWorkloads: 2 });
    expect(r!.entries.map((e) => [e.source.kind, e.severity])).toEqual([
      ['ResourceQuota', 'Critical'],
      ['NetworkPolicy', 'Warning'],
    ]);
    const np = r!.entries[1]!;
    expect(np.workloads).toEqual([{ kind: 'Deployment', name: 'web' }]);
    // One workload: every reason is shared, and they say why it applies.
    expect(np.reasons.some((x) => x.includes('app=web'))).toBe(true);
    expect(np.appliesTo).toBe('1 of 2 workloads');
    // A quota reaches every workload of its namespace; what differs per workload stays on it.
    const quota = r!.entries[0]!;
    expect(quota.appliesTo).toBe('all 2 workloads');
    // Naming every workload would repeat appliesTo: only those with reasons of their own are listed.
    expect(quota.workloads).toEqual([]);
    expect(r!.machine.schema).toBe(REPORT_SCHEMA);
    expect(r!.machine.constraints.find((c) => c.id === np.id)?.workloads).toEqual(['Deployment/web']);
    expect(r!.machine.constraints.find((c) => c.id === quota.id)?.workloads).toEqual(['Deployment/db', 'Deployment/web']);
    // Deterministic: building twice gives the same content.
    expect(buildReport(a, 'shop')).toEqual(r);
  });

  it('says nothing for a namespace with no workloads and no constraints', async () => {
    const a = await analyzer([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'empty' } }]);
    expect(buildReport(a, 'empty')).toBeUndefined();
  });

  it('a cluster-wide constraint reaches a namespace with no workloads when it would apply to a plain new Pod there', async () => {
    const a = await analyzer([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a' } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'data', labels: { team: 'b' } } },
      {
        apiVersion: 'kyverno.io/v1',
        kind: 'ClusterPolicy',
        metadata: { name: 'team-a-labels' },
        spec: { validationFailureAction: 'Enforce', rules: [{ name: 'r', match: { any: [{ resources: { kinds: ['Pod'], namespaceSelector: { matchLabels: { team: 'a' } } } }] }, validate: { message: 'm', pattern: { metadata: { labels: { app: '?*' } } } } }] },
      },
      { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name: 'shop-ingress' }, spec: { endpointSelector: { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'shop' } }, ingress: [{}] } },
    ]);
    const r = buildReport(a, 'shop');
    const got = r!.entries.map((e) => [e.source.kind, e.source.name, e.appliesTo]).sort((x, y) => (x[1]! < y[1]! ? -1 : 1));
    expect(got).toEqual([
      ['CiliumClusterwideNetworkPolicy', 'shop-ingress', 'the namespace (no workloads yet)'],
      ['ClusterPolicy', 'team-a-labels', 'the namespace (no workloads yet)'],
    ]);
    expect(buildReport(a, 'data')).toBeUndefined();
  });

  it('cuts detail, then the least severe entries, to stay under the size limit', async () => {
    const objs: unknown[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'big' } }, deploy('big', 'w', { app: 'w' })];
    for (let i = 0; i < 200; i++) {
      objs.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `np-${i}`, namespace: 'big' }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: `10.0.${i}.0/24` } }] }] } });
    }
    const a = await analyzer(objs);
    const r = buildReport(a, 'big', { maxBytes: 40_000 });
    expect(r!.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThanOrEqual(40_000);
    expect(r!.summary.total).toBe(200);
    expect(r!.entries.length).toBeLessThan(200);
    expect(r!.machine.omitted?.entries).toBe(200 - r!.entries.length);
  });
});
