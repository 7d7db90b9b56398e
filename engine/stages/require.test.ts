import { describe, expect, it } from 'vitest';
import { Analyzer } from '../analyzer.js';
import type { KubeObject } from '../model.js';
import { loadPacks, type CompiledPack } from '../pack/loader.js';
import { FactStore } from '../store/store.js';
import { RequireStage, clearedFindings } from './require.js';

function pack(yaml: string): CompiledPack[] {
  const r = loadPacks(yaml, { file: 'test.yaml' });
  if (r.problems.some((p) => p.severity === 'error')) throw new Error(r.problems.map((p) => p.message).join('; '));
  return r.packs;
}

const PACK = pack(`
apiVersion: potoo.io/v1alpha1
kind: RulePack
metadata: {name: t}
spec:
  requirements:
    - name: pdb
      conditions:
        all:
          - {fact: selecting, params: {resource: policy/v1/poddisruptionbudgets, selectorPath: spec.selector}, operator: equal, value: 0}
          - {fact: workload, path: $.replicas, operator: greaterThan, value: 1}
      debounce: 2m
      emit:
        expects: {apiVersion: policy/v1, kind: PodDisruptionBudget}
        severity: Info
        summary: "{{ workload.name }} has no PDB"
    - name: configmaps
      forEach: "{{ workload.annotations[?'needs'].orValue('').split(',').filter(s, s != '' && getObject('v1', 'configmaps', workload.namespace, s) == null) }}"
      conditions:
        all:
          - {fact: workload, path: "$.annotations.needs", operator: exists}
      emit:
        expects: {apiVersion: v1, kind: ConfigMap, name: "{{ item }}"}
        severity: Warning
        summary: "missing {{ item }}"
    - name: broken
      conditions:
        all:
          - {fact: workload, path: "$.annotations.broken", operator: exists}
      emit:
        expects: {apiVersion: v1, kind: Secret}
        severity: Warning
        summary: "{{ workload.nope.deeper }}"
`);

const deployment = (annotations: Record<string, string> = {}, replicas = 3): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'a', annotations },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
});

async function setup(objects: KubeObject[]) {
  const store = new FactStore();
  for (const o of objects) store.upsertObject(o);
  const analyzer = new Analyzer(store, []);
  await analyzer.adaptAll();
  return { store, stage: new RequireStage(PACK, analyzer) };
}

describe('require stage', () => {
  it('emits stable ids and debounce, and clears exactly the findings that are satisfied', async () => {
    const { store, stage } = await setup([deployment({ needs: 'app-config,feature-flags' })]);
    const [first] = await stage.evaluateAll();
    expect(first?.findings.map((f) => f.id).sort()).toEqual([
      'Deployment/a/web#t/configmaps/app-config',
      'Deployment/a/web#t/configmaps/feature-flags',
      'Deployment/a/web#t/pdb',
    ]);
    expect(first?.findings.find((f) => f.rule.rule === 'pdb')).toMatchObject({ debounceMs: 120_000, workload: { kind: 'Deployment', name: 'web', namespace: 'a' }, expects: { kind: 'PodDisruptionBudget' } });
    expect(first?.checked.sort()).toEqual(['Deployment/a/web#t/broken', 'Deployment/a/web#t/configmaps', 'Deployment/a/web#t/pdb']);

    store.upsertObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: 'a' } });
    store.upsertObject({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'a' }, spec: { selector: { matchLabels: { app: 'web' } } } });
    const [second] = await stage.evaluateAll();
    expect(second?.findings.map((f) => f.id)).toEqual(['Deployment/a/web#t/configmaps/feature-flags']);
    expect(clearedFindings(first?.findings ?? [], second as NonNullable<typeof second>).map((f) => f.id).sort()).toEqual(['Deployment/a/web#t/configmaps/app-config', 'Deployment/a/web#t/pdb']);
  });

  it('a rule that fails keeps its earlier findings (it did not check)', async () => {
    const { stage } = await setup([deployment({ broken: 'yes' }, 1)]);
    const [r] = await stage.evaluateAll();
    expect(r?.problems).toContainEqual(expect.objectContaining({ rule: 'broken', field: 'emit.summary' }));
    expect(r?.checked).not.toContain('Deployment/a/web#t/broken');
    const earlier = [{ ...(r?.findings[0] ?? {}), id: 'Deployment/a/web#t/broken' }] as never;
    expect(clearedFindings(earlier, r as NonNullable<typeof r>)).toEqual([]);
  });

  it('skips objects a controller represents, and says which kinds matter', async () => {
    const rs: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-1', namespace: 'a', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u', controller: true }] },
      spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } } },
    };
    const { stage } = await setup([rs]);
    const r = await stage.evaluate({ gvr: { group: 'apps', version: 'v1', resource: 'replicasets' }, object: rs });
    expect(r.subject).toBeUndefined();
    expect(stage.interestedIn('Deployment')).toBe(true);
    expect(stage.interestedIn('ConfigMap')).toBe(false);
  });
});
