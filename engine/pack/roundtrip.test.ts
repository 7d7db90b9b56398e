// Rule-pack load -> serialize -> load is a fixed point: what an author writes survives
// tooling that reads and rewrites packs (editors, generators, `potoo` itself).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadPacks } from './loader.js';
import type { RulePackDocument } from './types.js';

const ident = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
const text = fc.string({ maxLength: 30 }).filter((s) => !s.includes('{{') && !s.startsWith('$.') && !s.startsWith('$['));
const label = fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.stringMatching(/^[a-z0-9]{0,6}$/), { maxKeys: 3 });
const leaf = fc.oneof(
  fc.record({ fact: fc.constant('object'), path: fc.constantFrom('$.spec.policyTypes', '$.metadata.name', '$.spec.x'), operator: fc.constantFrom('contains', 'equal', 'exists', 'absent'), value: fc.oneof(fc.string({ maxLength: 8 }), fc.boolean()) }),
  fc.record({ cel: fc.constantFrom('object.metadata.name != ""', 'has(object.spec)', 'size(object.?spec.?rules.orValue([])) > 0') }),
);
const tree = fc.oneof(fc.record({ all: fc.array(leaf, { maxLength: 3 }) }), fc.record({ any: fc.array(leaf, { maxLength: 3 }) }), fc.record({ not: leaf }));
const value = fc.oneof(text, fc.integer(), fc.boolean(), fc.constantFrom('{{ object.metadata.name }}', '$.spec.podSelector', 'Denies {{ object.kind }} in {{ object.metadata.namespace }}'));

const adapter = fc.record(
  {
    name: ident,
    description: text,
    match: fc.record({ group: fc.constantFrom('', 'apps', 'example.com'), resources: fc.array(ident, { minLength: 1, maxLength: 2 }) }, { requiredKeys: ['group'] }),
    conditions: tree,
    let: fc.dictionary(fc.stringMatching(/^[a-z][a-zA-Z]{0,6}$/), value, { maxKeys: 3 }),
    emit: fc.record({
      type: fc.constantFrom('NetworkIngress', 'Admission', 'Custom'),
      effect: fc.constantFrom('deny', 'warn', '{{ "audit" }}'),
      severity: fc.constantFrom('Critical', 'Warning', 'Info'),
      summary: value,
      scope: fc.record({ namespaces: fc.array(ident, { maxLength: 2 }), selector: fc.record({ matchLabels: label }) }, { requiredKeys: [] }),
      details: fc.dictionary(ident, value, { maxKeys: 3 }),
    }, { requiredKeys: ['type', 'effect', 'severity', 'summary', 'scope'] }),
  },
  { requiredKeys: ['name', 'match', 'emit'] },
);

const pack: fc.Arbitrary<RulePackDocument> = fc
  .record({
    name: ident,
    description: text,
    adapters: fc.uniqueArray(adapter, { maxLength: 4, selector: (a) => a.name }),
  })
  .map(({ name, description, adapters }) => ({
    apiVersion: 'potoo.io/v1alpha1' as const,
    kind: 'RulePack' as const,
    metadata: { name },
    spec: { description, adapters },
  }));

describe('rule-pack round trip', () => {
  it('load -> serialize -> load yields the same document and the same rules', () => {
    fc.assert(
      fc.property(pack, (doc) => {
        const first = loadPacks(stringify(doc), { file: 'gen.yaml' });
        expect(first.problems).toEqual([]);
        expect(first.packs).toHaveLength(1);
        const p1 = first.packs[0]!;
        expect(p1.document).toEqual(doc);
        const second = loadPacks(stringify(p1.document), { file: 'again.yaml' });
        expect(second.problems).toEqual([]);
        const p2 = second.packs[0]!;
        expect(p2.document).toEqual(p1.document);
        expect(p2.adapters.map((a) => [a.name, a.lets.map(([k]) => k), Object.keys(a.emit ?? {})])).toEqual(
          p1.adapters.map((a) => [a.name, a.lets.map(([k]) => k), Object.keys(a.emit ?? {})]),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('JSON is accepted as well as YAML, with the same result', () => {
    fc.assert(
      fc.property(pack, (doc) => {
        const y = loadPacks(stringify(doc), { file: 'a.yaml' });
        const j = loadPacks(JSON.stringify(doc), { file: 'a.json' });
        expect(j.problems).toEqual([]);
        expect(j.packs[0]!.document).toEqual(y.packs[0]!.document);
      }),
      { numRuns: 50 },
    );
  });
});
