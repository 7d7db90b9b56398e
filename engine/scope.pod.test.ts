import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { KindRef, Scope, ScopeTarget } from './model.js';
import { evaluateScope, podScopeTarget, type ScopeSubject } from './scope.js';
import { FactView, type StageFacts } from './stages/context.js';
import { evaluateTraffic, type TrafficContext } from './traffic.js';
import { workloadTarget } from './store/workloads.js';

const labelsArb = fc.dictionary(fc.constantFrom('app', 'tier', 'team'), fc.constantFrom('web', 'db', 'a'), { maxKeys: 2 });
const kindArb: fc.Arbitrary<KindRef> = fc.constantFrom(
  { group: '', kind: 'Pod' },
  { group: '', version: 'v1', kind: 'Pod' },
  { group: '*', kind: '*' },
  { group: 'apps', kind: 'Deployment' },
  // A kind guessed from a resource Potoo has no table entry for (engine/expr/potoolib.ts).
  { group: 'example.com', kind: 'Widget', resource: 'widgets' },
);
const scopeArb: fc.Arbitrary<Scope> = fc.record(
  {
    kinds: fc.array(kindArb, { maxLength: 2 }),
    names: fc.array(fc.constantFrom('web', 'web-*', '*'), { maxLength: 1 }),
    namespaces: fc.array(fc.constantFrom('shop', 'data'), { maxLength: 1 }),
    selector: fc.record({ matchLabels: labelsArb }),
    namespaceSelector: fc.record({ matchLabels: labelsArb }),
    operations: fc.array(fc.constantFrom('CREATE', 'DELETE'), { maxLength: 1 }),
  },
  { requiredKeys: [] },
);
const podArb = fc.record({ name: fc.constantFrom('', 'web', 'web-x1'), namespace: fc.constantFrom('shop', 'data'), labels: labelsArb, namespaceLabels: labelsArb });

describe('podScopeTarget', () => {
  it('is a core/v1 Pod served as pods whose pods carry its labels', () => {
    const labels = { app: 'web' };
    const nsLabels = { team: 'a' };
    expect(podScopeTarget({ namespace: 'shop', labels, namespaceLabels: nsLabels })).toEqual({
      group: '',
      version: 'v1',
      kind: 'Pod',
      resource: 'pods',
      name: '',
      namespace: 'shop',
      labels,
      annotations: {},
      namespaceLabels: nsLabels,
      podLabels: labels,
    });
    const t = podScopeTarget({ namespace: 'shop', labels, namespaceLabels: nsLabels, name: 'p', annotations: { a: 'b' }, operation: 'CREATE' });
    expect(t).toMatchObject({ name: 'p', annotations: { a: 'b' }, operation: 'CREATE' });
    expect(t.labels).toBe(labels);
  });

  it('is the target a Pod workload is evaluated as', () => {
    const w = { apiVersion: 'v1', group: '', kind: 'Pod', name: 'p', namespace: 'shop', labels: { app: 'web' }, annotations: {}, podLabels: { app: 'web' }, podAnnotations: {} };
    const fromWorkload = workloadTarget(w as unknown as Parameters<typeof workloadTarget>[0], { team: 'a' });
    expect(podScopeTarget({ name: 'p', namespace: 'shop', labels: { app: 'web' }, namespaceLabels: { team: 'a' } })).toEqual({ ...fromWorkload, podAnnotations: undefined });
  });

  // The builders it replaced: FactView.podTarget set podLabels and no resource, traffic's
  // podTarget neither. Neither field changes a verdict: a Pod has no pods view (podLabels
  // only feed it and selectors, which fall back to labels), and a kind ref carries a
  // resource only when its kind is a guess, which Pod never is.
  it('gives the verdicts both old builders gave', () => {
    fc.assert(
      fc.property(scopeArb, podArb, (scope, p) => {
        const base: ScopeTarget = { group: '', version: 'v1', kind: 'Pod', name: p.name, namespace: p.namespace, labels: p.labels, annotations: {}, namespaceLabels: p.namespaceLabels };
        const oldStages = { ...base, podLabels: p.labels };
        const v = evaluateScope(scope, podScopeTarget(p));
        expect(v).toEqual(evaluateScope(scope, oldStages));
        expect(v).toEqual(evaluateScope(scope, base));
      }),
      { numRuns: 2000 },
    );
  });

  it('FactView.podTarget and traffic evaluation build their Pod targets with it', () => {
    const facts = {
      store: { namespaceLabels: (ns: string) => ({ 'kubernetes.io/metadata.name': ns, team: 'a' }) },
      constraints: { subscribe: () => () => undefined },
      workloads: {},
    } as unknown as StageFacts;
    const view = new FactView(facts);
    expect(view.podTarget('shop', { app: 'web' }, 'p')).toEqual(podScopeTarget({ name: 'p', namespace: 'shop', labels: { app: 'web' }, namespaceLabels: { 'kubernetes.io/metadata.name': 'shop', team: 'a' } }));
    view.dispose();

    const seen: ScopeSubject[] = [];
    const ctx: TrafficContext = {
      constraints: {
        applicableTo: (t) => {
          seen.push(t);
          return [];
        },
      },
      namespaceLabels: () => ({ team: 'a' }),
    };
    evaluateTraffic(ctx, { src: { kind: 'pod', namespace: 'shop', labels: { app: 'web' }, name: 'Deployment/web', namespaceLabels: { env: 'prod' } }, dst: { kind: 'external', ip: '1.2.3.4' }, port: 80 });
    expect(seen).toEqual([podScopeTarget({ name: 'web', namespace: 'shop', labels: { app: 'web' }, namespaceLabels: { team: 'a', env: 'prod', 'kubernetes.io/metadata.name': 'shop' } })]);
  });
});
