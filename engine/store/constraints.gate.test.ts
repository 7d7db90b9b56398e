// The per-namespace cache of cluster-wide constraints must follow namespace relabels
// and constraint changes.
import { describe, expect, it } from 'vitest';
import { FactStore } from './store.js';
import { WorkloadIndex } from './workloads.js';
import { ConstraintIndex } from './constraints.js';
import type { Constraint } from '../model.js';

const NS = { group: '', version: 'v1', resource: 'namespaces' };
const DEPLOY = { group: 'apps', version: 'v1', resource: 'deployments' };

function constraint(id: string, team: string): Constraint {
  return {
    id,
    type: 'Admission',
    effect: 'deny',
    severity: 'Warning',
    source: { apiVersion: 'v1', kind: 'X', group: 'x', resource: 'xs', name: id },
    rule: { pack: 'p', rule: 'r' },
    scope: { namespaceSelector: { matchLabels: { team } } },
    summary: '',
    details: {},
    remediation: [],
    tags: [],
  };
}

describe('cluster-wide constraints per namespace', () => {
  it('follows namespace label changes and constraint changes', () => {
    const store = new FactStore();
    store.upsert(NS, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { team: 'pay' } } });
    store.upsert(DEPLOY, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'w', namespace: 'a' }, spec: { template: { metadata: { labels: { app: 'w' } }, spec: { containers: [] } } } });
    const workloads = new WorkloadIndex(store);
    const index = new ConstraintIndex();
    index.upsert(constraint('pay', 'pay'));
    index.upsert(constraint('web', 'web'));
    const w = workloads.find('Deployment', 'a', 'w')!;
    const ids = () => index.applicableTo(workloads.target(w)).map((x) => x.constraint.id);
    expect(ids()).toEqual(['pay']);
    store.upsert(NS, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { team: 'web' } } });
    expect(ids()).toEqual(['web']);
    index.upsert(constraint('web2', 'web'));
    expect(ids()).toEqual(['web', 'web2']);
    index.remove('web');
    expect(ids()).toEqual(['web2']);
  });
});
