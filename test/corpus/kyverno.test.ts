// Issue #3 acceptance, Kyverno: scope fidelity on kyverno/policies' own CLI tests, and
// every corpus policy file adapted with no error.
//
// Fidelity: each `.kyverno-test/kyverno-test.yaml` result with `result: pass` or `fail`
// says Kyverno evaluated that rule (or CEL policy) on that resource, so Potoo must
// report the rule as applying to it. `skip` results say it did not apply (or was
// skipped by a precondition, which Potoo does not evaluate): how many of those Potoo
// also treats as not applying is printed as a precision signal, never failed on.
//
// Rules for data a test does not carry, as the Kyverno CLI decides them:
// - the request operation is the values file's `request.operation` for that resource
//   (per-resource values, else globalValues), else CREATE;
// - namespace labels come from the values file's `namespaceSelector` list, else from
//   Namespace objects among the test's resources, else only `kubernetes.io/metadata.name`
//   (the apiserver sets it on every namespace);
// - a namespaced resource without a namespace is in `default`;
// - autogen rule names (`autogen-<rule>`, `autogen-cronjob-<rule>`) are the base rule's
//   results on pod controllers: Potoo keeps one constraint per rule and reaches
//   controllers through their pods;
// - a result naming a rule its policy does not have (a stale test) is checked against
//   all of the policy's rules, and listed.
import { describe, expect, it } from 'vitest';
import type { Constraint, KubeObject } from '../../engine/model.js';
import { analyzeObjects } from '../../engine/analyzer.js';
import { evaluateScope } from '../../engine/scope.js';
import type { SourcedObject } from '../../engine/source/manifests.js';
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

describeCorpusRequiredInCI('Kyverno');

interface TestResult {
  policy: string;
  rule?: string;
  kind: string;
  resources?: string[];
  resource?: string;
  result: string;
}
interface KyvernoTest {
  kind?: string;
  policies?: string[];
  resources?: string[];
  variables?: string;
  values?: string;
  results?: TestResult[];
}
interface ValuesFile {
  globalValues?: Record<string, unknown>;
  policies?: { name: string; resources?: { name: string; values?: Record<string, unknown> }[] }[];
  namespaceSelector?: { name: string; labels?: Record<string, string> }[];
}

const POLICY_GROUPS = new Set(['kyverno.io', 'policies.kyverno.io']);

function baseRule(rule: string): string {
  if (rule.startsWith('autogen-cronjob-')) return rule.slice('autogen-cronjob-'.length);
  if (rule.startsWith('autogen-')) return rule.slice('autogen-'.length);
  return rule;
}

/**
 * The constraints a result is about: the policy's, narrowed to the named rule. A result
 * naming a rule the policy does not have (a stale test) is matched to all of the
 * policy's rules, and counted in `staleRules`.
 */
function constraintsFor(all: Constraint[], r: TestResult, staleRules: Set<string>): Constraint[] {
  const [pns, pname] = r.policy.includes('/') ? (r.policy.split('/') as [string, string]) : [undefined, r.policy];
  const policy = all.filter((c) => POLICY_GROUPS.has(c.source.group) && c.source.name === pname && (pns === undefined || c.source.namespace === pns));
  if (r.rule === undefined) return policy;
  const rule = r.rule;
  const named = policy.filter((c) => c.details.rule === rule || c.details.rule === baseRule(rule));
  if (named.length === 0 && policy.length > 0) {
    staleRules.add(`${r.policy}/${rule}`);
    return policy;
  }
  return named;
}

function ruleHasConditionalAnchor(policies: readonly SourcedObject[], r: TestResult): boolean {
  const rules = policies.flatMap((p) => (p.object.metadata?.name === r.policy ? (((p.object.spec as { rules?: { name?: string }[] } | undefined)?.rules ?? []) as { name?: string }[]) : []));
  const rule = rules.find((x) => x.name === (r.rule === undefined ? undefined : baseRule(r.rule)));
  return rule !== undefined && /"[<+]?\([^"]+\)"\s*:/.test(JSON.stringify(rule));
}

function findResources(objects: readonly SourcedObject[], kind: string, ref: string): KubeObject[] {
  const parts = ref.split('/');
  const name = parts[parts.length - 1];
  const ns = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  return objects
    .map((s) => s.object)
    .filter((o) => o.kind === kind && o.metadata?.name === name && (ns === undefined || (o.metadata?.namespace ?? 'default') === ns));
}

describe.skipIf(!present)("Kyverno policies: scope fidelity on their own CLI tests", () => {
  it('every pass/fail result is a rule Potoo reports as applying (recall 100%)', async () => {
    const packs = await builtinPacks();
    const tests = corpusIndex().filter((e) => e.source === 'kyverno' && e.role === 'test' && e.kinds.includes('cli.kyverno.io/v1alpha1/Test'));
    expect(tests.length).toBeGreaterThan(100);
    const recall: Recall = { source: 'kyverno', expected: 0, hit: 0, misses: [] };
    const cel: Recall = { source: 'kyverno (policies.kyverno.io CEL kinds)', expected: 0, hit: 0, misses: [] };
    const skips = { total: 0, agree: 0, conditional: 0, unexplained: [] as string[] };
    const missingResources: string[] = [];
    const staleRules = new Set<string>();
    for (const entry of tests) {
      const testFile = corpusPath('kyverno', entry.path);
      for (const t of yamlDocs(testFile) as KyvernoTest[]) {
        if (t.kind !== 'Test') continue;
        const policyObjects = (t.policies ?? []).flatMap((p) => objectsOf(relativeTo(testFile, p)));
        const resources = (t.resources ?? []).flatMap((p) => objectsOf(relativeTo(testFile, p)));
        const valuesRef = t.variables ?? t.values;
        const values = (valuesRef ? (yamlDocs(relativeTo(testFile, valuesRef)) as ValuesFile[]) : []).find((v) => v && typeof v === 'object') ?? {};
        const nsLabels = collectNamespaceLabels(resources, new Map());
        for (const n of values.namespaceSelector ?? []) nsLabels.set(n.name, { ...(nsLabels.get(n.name) ?? {}), ...(n.labels ?? {}) });
        const operationOf = (policy: string, resource: string): string => {
          const per = values.policies?.find((p) => p.name === policy)?.resources?.find((r) => r.name === resource)?.values?.['request.operation'];
          const global = values.globalValues?.['request.operation'];
          return String(per ?? global ?? 'CREATE');
        };
        const analyzer = await analyzeObjects(policyObjects, packs);
        const problems = analyzer.problems();
        expect(problems, `${entry.path}: ${JSON.stringify(problems)}`).toEqual([]);
        const all = analyzer.allConstraints();
        for (const r of t.results ?? []) {
          if (r.result !== 'pass' && r.result !== 'fail' && r.result !== 'skip') continue;
          const mine = constraintsFor(all, r, staleRules);
          const celKind = mine.some((c) => c.source.group === 'policies.kyverno.io');
          for (const ref of [...(r.resources ?? []), ...(r.resource ? [r.resource] : [])]) {
            const found = findResources(resources, r.kind, ref);
            if (found.length === 0) {
              missingResources.push(`${entry.path}: ${r.kind} ${ref}`);
              continue;
            }
            for (const obj of found) {
              const target = targetOf(obj, namespaceLabels(obj.metadata?.namespace, nsLabels), operationOf(r.policy, obj.metadata?.name ?? ''));
              const applies = mine.some((c) => evaluateScope(c.scope, target).applies);
              const what = `${entry.unit} ${r.policy}/${r.rule ?? '(policy)'} on ${r.kind} ${ref} [${r.result}]`;
              if (r.result === 'skip') {
                skips.total++;
                if (!applies) skips.agree++;
                // Kyverno skips a matched resource when a precondition or CEL match
                // condition is false; Potoo does not evaluate those (they read request data).
                else if (mine.some((c) => c.details.preconditions === true || (Array.isArray(c.details.matchConditions) && c.details.matchConditions.length > 0))) skips.conditional++;
                // ... or a conditional anchor, `(field)` / `<(field)`, in a pattern or patch.
                else if (ruleHasConditionalAnchor(policyObjects, r)) skips.conditional++;
                else skips.unexplained.push(what);
                continue;
              }
              for (const rec of celKind ? [recall, cel] : [recall]) {
                rec.expected++;
                if (applies) rec.hit++;
                else
                  rec.misses.push(
                    `${what}: ${mine.length === 0 ? 'no constraint for this policy/rule' : mine.map((c) => `${describeConstraint(c)} -> ${evaluateScope(c.scope, target).reasons.join('; ')}`).join(' | ')}`,
                  );
              }
            }
          }
        }
      }
    }
    console.log(formatRecall(recall));
    console.log(formatRecall(cel));
    console.log(
      `kyverno precision signal: of ${skips.total} skip results, Potoo also reports ${skips.agree} as not applying; ` +
        `${skips.conditional} are skipped by preconditions, CEL match conditions or conditional anchors, which Potoo does not evaluate; ` +
        `${skips.unexplained.length} unexplained${skips.unexplained.length ? ':\n  ' + skips.unexplained.join('\n  ') : ''}`,
    );
    if (staleRules.size) console.log(`kyverno: results naming a rule their policy does not have (matched to the policy's rules): ${[...staleRules].join(', ')}`);
    if (missingResources.length) console.log(`kyverno: ${missingResources.length} result resources not found in the test's resource files:\n  ${missingResources.join('\n  ')}`);
    expect(recall.expected).toBeGreaterThan(500);
    expect(recall.misses).toEqual([]);
    expect(recall.hit).toBe(recall.expected);
  });
});

describe.skipIf(!present)('Kyverno corpus files load', () => {
  it('every policy yields a constraint or a reported skip, with no adapter error', async () => {
    const files = corpusIndex().filter((e) => e.source === 'kyverno' && e.role === 'policy');
    expect(files.length).toBeGreaterThan(100);
    const { failures, objects } = await adaptFailures('kyverno', files, {
      skipOf: (skip, kind, name) => (skip.startsWith(`${kind} `) && skip.endsWith(`/${name}`)) || skip === `${kind} ${name}`,
      extra: (object, constraints) => {
        const rules = (object.spec as { rules?: unknown[] } | undefined)?.rules;
        if (object.apiVersion?.startsWith('kyverno.io/') && Array.isArray(rules) && constraints.length < rules.length) {
          return `${object.kind} ${object.metadata?.name} has ${rules.length} rules but ${constraints.length} constraints`;
        }
        return undefined;
      },
    });
    expect(objects).toBeGreaterThan(100);
    expect(failures).toEqual([]);
  });
});
