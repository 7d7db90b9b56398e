// Issue #3 acceptance, Gatekeeper: scope fidelity on the gatekeeper-library's own suites,
// and every corpus policy file adapted with no error.
//
// Fidelity: for every suite case (a constraint plus an example object, allowed or
// disallowed), Potoo must report that the constraint applies to the example: gator
// evaluates the constraint on it, so it is in scope. Rules for data the suite does not
// carry:
// - an AdmissionReview example is its request.object (oldObject for DELETE), with the
//   request's operation and namespace;
// - namespace labels come from Namespace objects in the case's inventory, else only
//   `kubernetes.io/metadata.name` (the apiserver sets it on every namespace);
// - a namespaced example without a namespace is in `default`, as kubectl would put it.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../engine/model.js';
import { analyzeObjects } from '../../engine/analyzer.js';
import { evaluateScope } from '../../engine/scope.js';
import { objectsFromText } from '../../engine/source/manifests.js';
import {
  adaptFailures,
  builtinPacks,
  collectNamespaceLabels,
  corpusIndex,
  corpusPath,
  describeConstraint,
  formatRecall,
  namespaceLabels,
  objectsOf,
  present,
  relativeTo,
  describeCorpusRequiredInCI,
  targetOf,
  yamlDocs,
  type Recall,
} from './corpus.js';

describeCorpusRequiredInCI('Gatekeeper');

interface SuiteCase {
  name: string;
  object: string;
  inventory?: string[];
  assertions?: { violations?: unknown }[];
}
interface SuiteTest {
  name: string;
  template: string;
  constraint: string;
  cases?: SuiteCase[];
}

/** The example as gator sees it: an object, or the object inside an AdmissionReview. */
function exampleOf(file: string): { object: KubeObject; operation?: string }[] {
  const out: { object: KubeObject; operation?: string }[] = [];
  for (const d of yamlDocs(file) as KubeObject[]) {
    if (d.kind === 'AdmissionReview') {
      const req = (d as { request?: { operation?: string; object?: KubeObject; oldObject?: KubeObject; namespace?: string } }).request ?? {};
      const obj = req.operation === 'DELETE' ? req.oldObject : (req.object ?? req.oldObject);
      if (!obj) continue;
      const md = { ...(obj.metadata ?? {}) };
      if (req.namespace && !md.namespace) md.namespace = req.namespace;
      if (!md.name) md.name = 'unnamed';
      const withNs = objectsFromText(JSON.stringify({ ...obj, metadata: md }), file).objects[0]?.object;
      if (withNs) out.push({ object: withNs, operation: req.operation });
    } else {
      const o = objectsFromText(JSON.stringify(d), file).objects[0]?.object;
      if (o) out.push({ object: o });
    }
  }
  return out;
}

describe.skipIf(!present)('Gatekeeper library: scope fidelity on its own suites', () => {
  it('every sample constraint applies to each of its example objects (recall 100%)', async () => {
    const packs = await builtinPacks();
    const suites = corpusIndex().filter((e) => e.source === 'gatekeeper' && e.role === 'test');
    expect(suites.length).toBeGreaterThan(10);
    const recall: Recall = { source: 'gatekeeper', expected: 0, hit: 0, misses: [] };
    const disallowed: Recall = { source: 'gatekeeper (disallowed examples only)', expected: 0, hit: 0, misses: [] };
    for (const s of suites) {
      const suiteFile = corpusPath('gatekeeper', s.path);
      for (const suite of yamlDocs(suiteFile) as { tests?: SuiteTest[] }[]) {
        for (const t of suite.tests ?? []) {
          const constraintFile = relativeTo(suiteFile, t.constraint);
          const policyObjects = [...objectsOf(relativeTo(suiteFile, t.template)), ...objectsOf(constraintFile)];
          const analyzer = await analyzeObjects(policyObjects, packs);
          const problems = analyzer.problems();
          expect(problems, `${t.constraint}: ${JSON.stringify(problems)}`).toEqual([]);
          const constraintObj = objectsOf(constraintFile)[0]?.object;
          const mine = analyzer.allConstraints().filter((c) => c.source.group === 'constraints.gatekeeper.sh' && c.source.name === constraintObj?.metadata?.name);
          for (const c of t.cases ?? []) {
            const nsLabels = new Map<string, Record<string, string>>();
            for (const inv of c.inventory ?? []) collectNamespaceLabels(objectsOf(relativeTo(suiteFile, inv)), nsLabels);
            const violating = (c.assertions ?? []).some((a) => a.violations === true || a.violations === 'yes' || (typeof a.violations === 'number' && a.violations > 0));
            for (const ex of exampleOf(relativeTo(suiteFile, c.object))) {
              const target = targetOf(ex.object, namespaceLabels(ex.object.metadata?.namespace, nsLabels), ex.operation);
              const applies = mine.some((k) => evaluateScope(k.scope, target).applies);
              const what = `${s.unit} ${t.name}/${c.name}: ${ex.object.kind} ${ex.object.metadata?.namespace ?? ''}/${ex.object.metadata?.name}`;
              for (const r of violating ? [recall, disallowed] : [recall]) {
                r.expected++;
                if (applies) r.hit++;
                else
                  r.misses.push(
                    `${what}: ${mine.length === 0 ? 'no constraint' : mine.map((k) => `${describeConstraint(k)} -> ${evaluateScope(k.scope, target).reasons.join('; ')}`).join(' | ')}`,
                  );
              }
            }
          }
        }
      }
    }
    console.log(formatRecall(recall));
    console.log(formatRecall(disallowed));
    expect(recall.expected).toBeGreaterThan(100);
    expect(recall.misses).toEqual([]);
    expect(recall.hit).toBe(recall.expected);
  });
});

describe.skipIf(!present)('Gatekeeper corpus files load', () => {
  it('every constraint and template yields a constraint or a reported skip, with no adapter error', async () => {
    const files = corpusIndex().filter((e) => e.source === 'gatekeeper' && (e.role === 'policy' || e.role === 'template'));
    expect(files.length).toBeGreaterThan(50);
    const { failures, objects } = await adaptFailures('gatekeeper', files, {
      skipOf: (skip, kind, name) => skip.endsWith(` ${name}`) && skip.startsWith(`${kind} `),
    });
    expect(objects).toBeGreaterThan(60);
    expect(failures).toEqual([]);
  });
});
