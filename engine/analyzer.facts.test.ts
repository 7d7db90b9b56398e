// Adapters that read other objects through `facts` are re-adapted when those change.
import { describe, expect, it } from 'vitest';
import { Analyzer } from './analyzer.js';
import { loadPacks } from './pack/loader.js';
import { FactStore } from './store/store.js';

const PACK = `
apiVersion: potoo.io/v1alpha1
kind: RulePack
metadata: {name: pairs}
spec:
  adapters:
    - name: binding
      match: {group: example.com, resources: [bindings]}
      let:
        target: "{{ facts.get('example.com/*', 'Target', '', object.spec.target) }}"
      emit:
        type: Paired
        effect: "{{ target == null ? 'none' : target.spec.effect }}"
        severity: Info
        summary: "binding {{ object.metadata.name }}"
        scope: {namespaces: ["{{ object.metadata.namespace }}"]}
    - name: target
      match: {group: example.com, resources: [targets]}
      conditions:
        all:
          - {cel: "facts.list('example.com/v1', 'Binding', '*').filter(b, b.spec.target == object.metadata.name).size() == 0"}
      skip: "{{ 'no binding for ' + object.metadata.name }}"
`;

describe('facts dependencies', () => {
  it('re-adapts readers when what they read appears, changes or goes', async () => {
    const { packs, problems } = loadPacks(PACK, { file: 'pairs.yaml' });
    expect(problems).toEqual([]);
    const store = new FactStore();
    const an = new Analyzer(store, packs);
    an.follow((e) => {
      throw e;
    });
    const effects = () => an.allConstraints().map((c) => c.effect);
    store.upsertObject({ apiVersion: 'example.com/v1', kind: 'Binding', metadata: { name: 'b', namespace: 'n' }, spec: { target: 't' } });
    await an.idle();
    expect(effects()).toEqual(['none']);
    store.upsertObject({ apiVersion: 'example.com/v1', kind: 'Target', metadata: { name: 't' }, spec: { effect: 'deny' } });
    await an.idle();
    expect(effects()).toEqual(['deny']);
    expect(an.skipped()).toEqual([]);
    store.upsertObject({ apiVersion: 'example.com/v1', kind: 'Target', metadata: { name: 't' }, spec: { effect: 'warn' } });
    await an.idle();
    expect(effects()).toEqual(['warn']);
    store.delete({ group: 'example.com', version: 'v1', resource: 'bindings' }, 'n', 'b');
    await an.idle();
    expect(effects()).toEqual([]);
    expect(an.skipped().map((s) => s.reason)).toEqual(['no binding for t']);
    store.delete({ group: 'example.com', version: 'v1', resource: 'targets' }, undefined, 't');
    await an.idle();
    expect(an.skipped()).toEqual([]);
    an.stop();
  });
});
