// `potoo test`: run the `tests` of a rule pack (given objects -> expected outputs).
import type { KubeObject, Problem } from '../model.js';
import type { CompiledPack } from '../pack/loader.js';
import type { PackTest } from '../pack/types.js';
import { analyzeObjects, type Analyzer } from '../analyzer.js';
import { matchAll, partialDiff, renderDiff } from './match.js';
import { runTrafficExpectations } from './traffictests.js';

export interface TestCaseResult {
  pack: string;
  test: string;
  file: string;
  line: number | undefined;
  ok: boolean;
  /** Human-readable failure blocks, each with a diff. */
  failures: string[];
}

/** Extra expectation kinds that later stages register (findings, attributions, deliveries). */
export type ExpectationRunner = (
  test: PackTest,
  ctx: { pack: CompiledPack; packs: readonly CompiledPack[]; analyzer: Analyzer },
) => Promise<string[]>;

const runners = new Map<string, ExpectationRunner>();

export function registerExpectation(key: string, run: ExpectationRunner): void {
  runners.set(key, run);
}

const BUILT_IN_KEYS = new Set(['constraints', 'exactly', 'skipped', 'problems', 'applies', 'traffic']);

/**
 * Run one pack's tests. `context` packs (usually the built-ins) take part in the analysis
 * so a requirement pack can rely on the stock adapters; expectations about constraints,
 * skips and problems look only at what the pack under test produced.
 */
export async function runPackTests(pack: CompiledPack, context: readonly CompiledPack[] = []): Promise<TestCaseResult[]> {
  const packs = [pack, ...context.filter((p) => p.name !== pack.name)];
  const results: TestCaseResult[] = [];
  for (const { test, line } of pack.tests) {
    const failures: string[] = [];
    try {
      failures.push(...(await runOne(pack, packs, test)));
    } catch (err) {
      failures.push(`  test crashed: ${(err as Error).message}`);
    }
    results.push({ pack: pack.name, test: test.name, file: pack.origin.file, line, ok: failures.length === 0, failures });
  }
  return results;
}

async function runOne(pack: CompiledPack, packs: readonly CompiledPack[], test: PackTest): Promise<string[]> {
  const objects = (test.given ?? []).map((object: KubeObject, i) => ({ object, file: `${pack.origin.file} (test "${test.name}" given[${i}])`, line: 0 }));
  const analyzer = await analyzeObjects(objects, packs);
  const failures: string[] = [];
  const exp = test.expect;
  const mine = analyzer.allConstraints().filter((c) => c.rule.pack === pack.name).sort((a, b) => a.id.localeCompare(b.id));

  if (exp.constraints) failures.push(...compareList('constraint', exp.constraints, mine, exp.exactly ?? false));
  if (exp.skipped) failures.push(...compareList('skip', exp.skipped, analyzer.skipped().filter((s) => s.pack === pack.name), exp.exactly ?? false));
  const problems = analyzer.problems().filter((p) => p.pack === undefined || p.pack === pack.name);
  if (exp.problems) {
    failures.push(...compareList('problem', exp.problems, problems, exp.exactly ?? false, new Set(['message'])));
  } else {
    // Unexpected errors fail a test: an adapter that errors on its own fixture is broken.
    failures.push(...unexpectedProblems(problems));
  }
  for (const a of exp.applies ?? []) {
    const [ns, kind, name] = a.workload.split('/');
    const w = ns && kind && name ? analyzer.workloads.find(kind, ns, name) : undefined;
    if (!w) {
      failures.push(`  applies: no workload ${a.workload} in given (write namespace/Kind/name)`);
      continue;
    }
    const applying = analyzer.applicableTo(w).map((x) => x.constraint).filter((c) => c.rule.pack === pack.name);
    const hit = applying.some((c) => partialDiff(a.constraint, c).length === 0);
    if (hit !== a.applies) {
      failures.push(
        `  applies: expected a constraint matching ${JSON.stringify(a.constraint)} ${a.applies ? 'to apply' : 'not to apply'} to ${a.workload}; ` +
          `applying: ${applying.map((c) => c.id).join(', ') || '(none)'}`,
      );
    }
  }
  if (exp.traffic) failures.push(...runTrafficExpectations(test, analyzer));
  for (const key of Object.keys(exp)) {
    if (BUILT_IN_KEYS.has(key)) continue;
    const run = runners.get(key);
    if (!run) {
      failures.push(`  expect.${key}: no stage in this build evaluates ${key}`);
      continue;
    }
    failures.push(...(await run(test, { pack, packs, analyzer })));
  }
  return failures;
}

/** A failure block listing `problems`, or nothing when there are none. */
export function unexpectedProblems(problems: readonly Problem[]): string[] {
  if (problems.length === 0) return [];
  return [`  unexpected problems:\n${problems.map((p) => `    ${p.rule ? p.rule + ': ' : ''}${p.field ? p.field + ': ' : ''}${p.message}`).join('\n')}`];
}

/** Compare expectations with actual outputs; every failure explains itself with a diff. */
export function compareList<T>(what: string, expected: readonly Record<string, unknown>[], actual: readonly T[], exactly: boolean, substringKeys?: ReadonlySet<string>): string[] {
  const failures: string[] = [];
  const outcome = matchAll(expected, actual, substringKeys);
  for (const miss of outcome.closest) {
    const exp = expected[miss.index];
    if (miss.actual === undefined) {
      failures.push(`  expected ${what} #${miss.index + 1} ${JSON.stringify(exp)}, but there were none`);
    } else {
      const id = (miss.actual as { id?: string }).id;
      failures.push(`  expected ${what} #${miss.index + 1} not found; closest${id ? ` (${id})` : ''} differs:\n${renderDiff(miss.diffs)}`);
    }
  }
  if (exactly) {
    const used = new Set(outcome.assignment.filter((i) => i >= 0));
    const extra = actual.filter((_, i) => !used.has(i));
    if (extra.length && outcome.closest.length === 0) {
      failures.push(`  ${extra.length} unexpected ${what}(s) (exactly: true):\n${extra.map((e) => '    + ' + summarize(e)).join('\n')}`);
    }
  }
  return failures;
}

function summarize(v: unknown): string {
  const o = v as { id?: string; type?: string; effect?: string; message?: string; reason?: string };
  if (o.id) return `${o.id} (${o.type ?? ''} ${o.effect ?? ''})`;
  return o.message ?? o.reason ?? JSON.stringify(v);
}

/** The report `potoo test` prints: one line per test, failures with their diffs. */
export function formatTestResults(results: readonly TestCaseResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const where = `${r.file}${r.line ? ':' + r.line : ''}`;
    lines.push(`${r.ok ? 'PASS' : 'FAIL'} ${r.pack} > ${r.test}${r.ok ? '' : `  (${where})`}`);
    for (const f of r.failures) lines.push(f);
  }
  const failed = results.filter((r) => !r.ok).length;
  lines.push('', `${results.length - failed} passed, ${failed} failed`);
  return lines.join('\n');
}
