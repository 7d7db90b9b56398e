// Hostile and broken input: each bad object is a counted, located problem; the rest of the
// analysis completes.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { analyzeObjects } from './analyzer.js';
import { loadPacks, type CompiledPack } from './pack/loader.js';
import { objectsFromText } from './source/manifests.js';
import type { KubeObject } from './model.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

function builtinPacks(): CompiledPack[] {
  const dir = join(__dirname, '..', 'adapters');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => loadPacks(readFileSync(join(dir, f), 'utf8'), { file: f }).packs);
}

const good: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'fine', namespace: 'a' },
  spec: { podSelector: {}, policyTypes: ['Ingress'] },
};

function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < depth; i++) v = { n: v };
  return v;
}

describe('bad input never stops the analysis', () => {
  const packs = builtinPacks();

  it('wrongly typed fields give a per-object problem naming the rule and field', async () => {
    const bad: KubeObject[] = [
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'sel-string', namespace: 'a' }, spec: { podSelector: 'app=web', policyTypes: ['Ingress'] } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'ingress-number', namespace: 'a' }, spec: { podSelector: {}, ingress: 5 } },
      { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'limits-map', namespace: 'a' }, spec: { limits: { type: 'Container' } } },
    ];
    const an = await analyzeObjects([...bad, good].map((object) => ({ object, file: 'x.yaml', line: 1 })), packs);
    // Each bad object is reported: a located problem, or an adapter's explicit skip that
    // says why (the NetworkPolicy pack recognises shapes the apiserver would reject).
    const problems = an.problems();
    const skipped = an.skipped();
    const reported = [...new Set([...problems.map((p) => p.object), ...skipped.map((s) => s.object)])].sort();
    expect(reported).toEqual(['LimitRange a/limits-map', 'NetworkPolicy a/ingress-number', 'NetworkPolicy a/sel-string']);
    for (const p of problems) {
      expect(p.severity).toBe('error');
      expect(p.rule).toBeTruthy();
      expect(p.field).toBeTruthy();
      expect(p.message.length).toBeGreaterThan(5);
    }
    expect(skipped.find((s) => s.object === 'NetworkPolicy a/sel-string')?.reason).toMatch(/podSelector/);
    expect(skipped.find((s) => s.object === 'NetworkPolicy a/ingress-number')?.reason).toMatch(/ingress/);
    expect(an.allConstraints().map((c) => c.source.name)).toEqual(['fine']);
  });

  it('a 10 MB object is refused with its size, the rest is analyzed', async () => {
    const huge: KubeObject = { ...good, metadata: { name: 'huge', namespace: 'a', annotations: { blob: 'x'.repeat(10 * 1024 * 1024) } } };
    const an = await analyzeObjects([huge, good].map((object, i) => ({ object, file: 'big.yaml', line: i + 1 })), packs);
    const [p] = an.problems();
    expect(an.problems()).toHaveLength(1);
    expect(p!.file).toBe('big.yaml');
    expect(p!.object).toBe('NetworkPolicy a/huge');
    expect(p!.message).toMatch(/bytes|size|large/i);
    expect(an.allConstraints().map((c) => c.source.name)).toEqual(['fine']);
  });

  it('1,000-level nesting is refused, from YAML text and as an object', async () => {
    const deepDoc = { ...good, metadata: { name: 'deep', namespace: 'a' }, spec: { podSelector: {}, extra: nested(1000) } };
    // JSON is YAML; a YAML serializer recurses and cannot even write this document.
    const text = [JSON.stringify(deepDoc), stringify(good)].join('\n---\n');
    const parsed = objectsFromText(text, 'deep.yaml');
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]!.message).toMatch(/nests deeper than/);
    expect(parsed.objects.map((o) => o.object.metadata?.name)).toEqual(['fine']);
    const an = await analyzeObjects([{ object: deepDoc, file: 'mem', line: 1 }, { object: good, file: 'mem', line: 2 }], packs);
    expect(an.problems()).toHaveLength(1);
    expect(an.problems()[0]!.message).toMatch(/deep|nest|depth/i);
    expect(an.allConstraints()).toHaveLength(1);
  });

  it('a catastrophic regex in a rule runs in linear time', async () => {
    const { packs: hostile, problems } = loadPacks(
      `apiVersion: potoo.io/v1alpha1
kind: RulePack
metadata: {name: hostile}
spec:
  adapters:
    - name: redos
      match: {group: "", resources: [configmaps]}
      conditions: {all: [{fact: object, path: $.data.v, operator: matches, value: "^(a+)+$"}]}
      emit: {type: X, effect: warn, severity: Info, summary: matched, scope: {}}
`,
      { file: 'hostile.yaml' },
    );
    expect(problems).toEqual([]);
    const evil: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'evil', namespace: 'a' }, data: { v: 'a'.repeat(50_000) + '!' } };
    const ok: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ok', namespace: 'a' }, data: { v: 'aaaa' } };
    const t0 = performance.now();
    const an = await analyzeObjects([evil, ok].map((object) => ({ object, file: 'cm.yaml', line: 1 })), hostile);
    // A backtracking engine takes astronomically long here; RE2 is linear.
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(an.allConstraints().map((c) => c.source.name)).toEqual(['ok']);
  });

  it('documents that are not Kubernetes objects are located problems', () => {
    const r = objectsFromText('hello: world\n---\n42\n---\n' + stringify(good), 'mixed.yaml');
    expect(r.problems.map((p) => [p.line, p.message])).toEqual([
      [1, 'not a Kubernetes object: missing apiVersion, kind, metadata.name'],
      [3, 'not a Kubernetes object (a number)'],
    ]);
    expect(r.objects).toHaveLength(1);
  });
});
