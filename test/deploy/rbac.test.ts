// The controller watches what the loaded packs' adapters claim (runtime/controller/
// selection.ts), so its least-privilege role must let it list and watch everything the
// built-in packs claim: a gap is a 403 on a resource Potoo ships an adapter for.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { knownPolicyResources, type PolicyClaim } from '../../runtime/controller/selection.js';
import { packageRoot } from '../../runtime/files.js';
import { loadAllPacks } from '../../runtime/packs.js';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}
interface Doc {
  kind?: string;
  metadata?: { name?: string };
  rules?: Rule[];
}

const root = packageRoot();
const docs = (text: string): Doc[] => parseAllDocuments(text).map((d) => d.toJSON() as Doc).filter((d) => d !== null);
const controllerRole = (list: Doc[]): Rule[] => list.find((d) => d.kind === 'ClusterRole' && d.metadata?.name === 'potoo-controller')?.rules ?? [];

/**
 * The chart's template with the Helm directives taken out: the ClusterRole's rules are
 * static YAML apart from the optional extraPolicyGroups rule (left out: it is off by default).
 */
function chartDocs(): Doc[] {
  const text = readFileSync(join(root, 'deploy/helm/potoo/templates/rbac.yaml'), 'utf8')
    .replace(/\{\{-? with \.Values\.rbac\.extraPolicyGroups \}\}[\s\S]*?\{\{-? end \}\}/, '')
    .split('\n')
    .filter((l) => !/^\s*\{\{.*\}\}\s*$/.test(l))
    .join('\n')
    .replace(/\{\{[^}]*\}\}/g, 'potoo-controller');
  return docs(text);
}

/** Resource names of a claim by kind, by the CRD convention (lowercase plural). */
function plural(kind: string): string {
  const k = kind.toLowerCase();
  if (/[^aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/.test(k)) return `${k}es`;
  return `${k}s`;
}

/** What a claim needs granted: resources of a group, '*' for the whole group. */
function needed(c: PolicyClaim): string[] {
  if (c.resources) return [...c.resources];
  if (c.kinds) return c.kinds.map(plural);
  return ['*'];
}

function grants(rules: readonly Rule[], group: string, resource: string): boolean {
  return rules.some(
    (r) =>
      (r.apiGroups ?? []).some((g) => g === group || g === '*') &&
      (r.resources ?? []).some((x) => x === resource || x === '*') &&
      ['list', 'watch'].every((v) => (r.verbs ?? []).includes(v) || (r.verbs ?? []).includes('*')),
  );
}

describe('RBAC covers what the built-in adapters claim', async () => {
  const { packs, problems } = await loadAllPacks();
  const claims = [...knownPolicyResources(packs).values()].flat();
  const missing = (rules: readonly Rule[]): string[] =>
    claims.flatMap((c) => needed(c).filter((r) => !grants(rules, c.group, r)).map((r) => `${c.group || 'core'}/${r}`));

  it('the built-in packs load and claim something', () => {
    expect(problems).toEqual([]);
    expect(claims.length).toBeGreaterThan(10);
  });

  it('deploy/rbac.yaml grants list and watch on every claimed resource', () => {
    const rules = controllerRole(docs(readFileSync(join(root, 'deploy/rbac.yaml'), 'utf8')));
    expect(rules.length).toBeGreaterThan(0);
    expect(missing(rules)).toEqual([]);
  });

  it("the Helm chart's ClusterRole does too, with the same rules as deploy/rbac.yaml", () => {
    const rules = controllerRole(chartDocs());
    expect(rules.length).toBeGreaterThan(0);
    expect(missing(rules)).toEqual([]);
    // test/integration/controller.int.test.ts compares the rendered chart as well (needs helm).
    expect(rules).toEqual(controllerRole(docs(readFileSync(join(root, 'deploy/rbac.yaml'), 'utf8'))));
  });

  it('a claim the role lacks is found (the check is not vacuous)', () => {
    const rules = controllerRole(docs(readFileSync(join(root, 'deploy/rbac.yaml'), 'utf8'))).filter((r) => !r.apiGroups?.includes('cilium.io'));
    expect(missing(rules)).toContain('cilium.io/ciliumnetworkpolicies');
  });
});
