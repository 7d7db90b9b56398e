import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../engine/model.js';
import { packsFromConfigMap } from './rulepacks.js';

const PACK = `apiVersion: potoo.io/v1alpha1
kind: RulePack
metadata: {name: extras}
spec:
  adapters:
    - name: audit
      match: {group: networking.k8s.io, resources: [networkpolicies]}
      emit:
        type: NetworkAudit
        effect: audit
        severity: Info
        scope: {namespaces: ["{{ object.metadata.namespace }}"]}
        summary: "Audited {{ object.metadata.name }}"
`;

const cm = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rules', namespace: 'potoo-system' }, data });

describe('packsFromConfigMap', () => {
  it('loads every data key with the pack loader', () => {
    const r = packsFromConfigMap(cm({ 'a.yaml': PACK }));
    expect(r.problems).toEqual([]);
    expect(r.packs.map((p) => p.name)).toEqual(['extras']);
    expect(r.packs[0]?.origin.file).toBe('configmap potoo-system/rules (a.yaml)');
  });

  it('reports broken rules with pack, rule, field and line', () => {
    const r = packsFromConfigMap(cm({ 'a.yaml': PACK.replace('effect: audit', 'effect: "{{ object.spec. }}"') }));
    expect(r.packs).toEqual([]);
    const p = r.problems.find((x) => x.severity === 'error');
    expect(p).toMatchObject({ pack: 'extras', rule: 'audit', field: 'spec.adapters[0].emit.effect', line: 10 });
    expect(formatProblem(p!)).toMatch(/^error: configmap potoo-system\/rules \(a\.yaml\):10:\d+, pack extras, rule audit, field spec\.adapters\[0\]\.emit\.effect: /);
  });

  it('refuses a 5 MB pack before parsing it', () => {
    const t0 = performance.now();
    const r = packsFromConfigMap(cm({ 'big.yaml': PACK + '# ' + 'x'.repeat(5 * 1024 * 1024) }));
    expect(performance.now() - t0).toBeLessThan(200);
    expect(r.packs).toEqual([]);
    expect(r.problems[0]?.message).toMatch(/over the 1048576-byte limit/);
  });

  it('an empty ConfigMap says what it expects', () => {
    expect(packsFromConfigMap(cm({})).problems[0]?.message).toMatch(/no data keys/);
  });
});
