// Issue #2 acceptance: `potoo analyze` over the NetworkPolicy recipes corpus yields
// constraints for every NetworkPolicy and no error. The corpus lives beside the repo
// (../shared/corpus); a user's clone has none, CI always has it.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const RECIPES = join(ROOT, '..', 'shared', 'corpus', 'netpol-recipes');
const present = existsSync(RECIPES);

describe('corpus available in CI', () => {
  // Outside CI a missing corpus is allowed (a user's clone has none); in CI it is a failure.
  it.runIf(process.env.CI === 'true')('CI has ../shared/corpus', () => {
    expect(present, `${RECIPES} missing in CI`).toBe(true);
  });
});

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(f) ? [p] : [];
  });
}

describe.skipIf(!present)('potoo analyze over the NetworkPolicy recipes', () => {
  it('every NetworkPolicy yields at least one constraint, with no problem reported', () => {
    const expected = new Set<string>();
    for (const f of yamlFiles(RECIPES)) {
      for (const d of parseAllDocuments(readFileSync(f, 'utf8'))) {
        const o = d.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
        if (o?.kind === 'NetworkPolicy') expected.add(`${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`);
      }
    }
    expect(expected.size).toBeGreaterThan(5);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'potoo.js'), 'analyze', RECIPES, '--all-constraints', '-o', 'json'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as { problems: unknown[]; constraints: { source: string }[] };
    expect(report.problems).toEqual([]);
    const got = new Set(report.constraints.filter((c) => c.source.startsWith('NetworkPolicy ')).map((c) => c.source.slice('NetworkPolicy '.length)));
    // Recipes without a namespace land in `default`, as `kubectl apply` would put them.
    const missing = [...expected].filter((k) => !got.has(k));
    expect(missing).toEqual([]);
  });
});
