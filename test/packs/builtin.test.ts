// The built-in packs are tested with `potoo test`, exactly as a user's pack would be.
import { describe, expect, it } from 'vitest';
import { loadAllPacks } from '../../runtime/packs.js';
import { formatTestResults, runPackTests } from '../../engine/testing/index.js';
import { loadPacks } from '../../engine/pack/loader.js';

describe('built-in rule packs', async () => {
  const { packs, problems } = await loadAllPacks();

  it('all load without problems', () => {
    expect(problems.map((p) => `${p.file}:${p.line} ${p.rule ?? ''} ${p.field ?? ''} ${p.message}`)).toEqual([]);
    expect(packs.length).toBeGreaterThanOrEqual(5);
  });

  for (const pack of packs) {
    it(`${pack.name}: every test case passes (${pack.origin.file})`, async () => {
      expect(pack.tests.length, 'each built-in pack ships tests').toBeGreaterThan(0);
      const results = await runPackTests(pack, packs);
      const failed = results.filter((r) => !r.ok);
      expect(failed.length, formatTestResults(failed)).toBe(0);
    });
  }
});

describe('a wrong expectation', () => {
  it('fails with a readable diff naming the field, the expected and the actual value', async () => {
    const text = `
apiVersion: potoo.io/v1alpha1
kind: RulePack
metadata: {name: wrong}
spec:
  adapters:
    - name: quota
      match: {group: "", resources: [resourcequotas]}
      emit:
        type: ResourceQuota
        effect: limit
        severity: Info
        summary: "quota {{ object.metadata.name }}"
        scope: {namespaces: ["{{ object.metadata.namespace }}"]}
  tests:
    - name: expects the wrong effect
      given:
        - {apiVersion: v1, kind: ResourceQuota, metadata: {name: q, namespace: a}, spec: {hard: {pods: "1"}}}
      expect:
        constraints: [{type: ResourceQuota, effect: deny, summary: quota q}]
`;
    const { packs, problems } = loadPacks(text, { file: 'wrong.yaml' });
    expect(problems).toEqual([]);
    const results = await runPackTests(packs[0]!);
    expect(results).toHaveLength(1);
    expect(results[0]!.ok).toBe(false);
    const out = formatTestResults(results);
    expect(out).toContain('FAIL wrong > expects the wrong effect  (wrong.yaml:');
    expect(out).toContain('- effect: "deny"');
    expect(out).toContain('+ effect: "limit"');
    // Matching fields are not part of the diff.
    expect(out).not.toContain('- summary');
    expect(out).toMatch(/0 passed, 1 failed\s*$/);
  });

  it('reports constraints the test did not expect when exactly: true', async () => {
    const text = `
apiVersion: potoo.io/v1alpha1
kind: RulePack
metadata: {name: extra}
spec:
  adapters:
    - name: each-limit
      match: {group: "", resources: [limitranges]}
      forEach: "{{ object.spec.limits }}"
      key: "{{ item.type }}"
      emit: {type: ResourceLimit, effect: limit, severity: Info, summary: "{{ item.type }}", scope: {}}
  tests:
    - name: only one expected
      given:
        - {apiVersion: v1, kind: LimitRange, metadata: {name: l, namespace: a}, spec: {limits: [{type: Container}, {type: Pod}]}}
      expect:
        exactly: true
        constraints: [{summary: Container}]
`;
    const { packs } = loadPacks(text, { file: 'extra.yaml' });
    const [r] = await runPackTests(packs[0]!);
    expect(r!.ok).toBe(false);
    expect(r!.failures.join('\n')).toContain('1 unexpected constraint(s) (exactly: true)');
    expect(r!.failures.join('\n')).toContain('#extra/each-limit/Pod');
  });
});
