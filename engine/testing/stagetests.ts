// Pack-test expectations for the require, correlate and notify stages. Importing this
// module registers them with packtest.ts (`potoo test` and the vitest suites do), so a
// pack's `expect.attributions` / `findings` / `deliveries` run the real stages over the
// test's `given` objects.
//
//   attributions: needs `signal: {kind: event|flow|admission|message, ...raw}`. Every
//     correlation pack loaded takes part (ranks are global, as in production); the list
//     compared is the pack's own attributions unless the pack has none. Each actual
//     attribution also carries `rank` (1 = top) and `constraints` (the blamed
//     constraints resolved), so tests can say `constraints: [{source: {name: q1}}]`.
//   findings: every workload (and object the pack's rules name by kind) in `given`
//     is evaluated with the pack's requirement rules.
//   deliveries: `input: {attribution | finding | constraint, policy?}` or a `signal`
//     (correlated first); the pack's notification rules render them.
import type { Attribution, Constraint, Problem } from '../model.js';
import type { CompiledPack } from '../pack/loader.js';
import type { PackTest } from '../pack/types.js';
import type { Analyzer } from '../analyzer.js';
import type { SignalKind } from '../signals.js';
import { CorrelateStage } from '../stages/correlate.js';
import { RequireStage } from '../stages/require.js';
import { compareList, registerExpectation } from './packtest.js';

const SUBSTRING_KEYS = new Set(['explanation', 'text', 'summary', 'message']);

export interface RankedAttribution extends Attribution {
  rank: number;
  constraints: Constraint[];
}

function problemLines(problems: readonly Problem[], pack: string): string[] {
  const errs = problems.filter((p) => p.severity === 'error' && (p.pack === undefined || p.pack === pack));
  if (errs.length === 0) return [];
  return [`  unexpected problems:\n${errs.map((p) => `    ${p.rule ? p.rule + ': ' : ''}${p.field ? p.field + ': ' : ''}${p.message}`).join('\n')}`];
}

/** Correlate a test's signal with every loaded correlation pack; attributions ranked and resolved. */
export async function correlateTestSignal(
  test: PackTest,
  packs: readonly CompiledPack[],
  analyzer: Analyzer,
): Promise<{ attributions: RankedAttribution[]; problems: Problem[]; error?: string }> {
  if (!test.signal) return { attributions: [], problems: [], error: 'needs a `signal` ({kind: event|flow|admission|message, ...})' };
  const { kind, ...raw } = test.signal;
  const stage = new CorrelateStage(packs, analyzer);
  try {
    const r = await stage.correlateInput(kind as SignalKind, raw);
    if (!r.signal) return { attributions: [], problems: r.problems, error: r.problems.map((p) => p.message).join('; ') };
    const attributions = r.attributions.map((a, i) => ({
      ...a,
      rank: i + 1,
      constraints: a.constraintIds.map((id) => analyzer.constraints.get(id)).filter((c): c is Constraint => c !== undefined),
    }));
    return { attributions, problems: r.problems };
  } finally {
    stage.dispose();
  }
}

registerExpectation('attributions', async (test, { pack, packs, analyzer }) => {
  const r = await correlateTestSignal(test, packs, analyzer);
  if (r.error) return [`  expect.attributions: ${r.error}`];
  const own = pack.correlations.length > 0 ? r.attributions.filter((a) => a.rule.pack === pack.name) : r.attributions;
  return [
    ...compareList('attribution', test.expect.attributions ?? [], own, test.expect.exactly ?? false, SUBSTRING_KEYS),
    ...problemLines(r.problems, pack.name),
  ];
});

registerExpectation('findings', async (test, { pack, analyzer }) => {
  const stage = new RequireStage(pack.requirements.length > 0 ? [pack] : [], analyzer);
  try {
    const results = await stage.evaluateAll();
    const findings = results.flatMap((r) => r.findings);
    return [
      ...compareList('finding', test.expect.findings ?? [], findings, test.expect.exactly ?? false, SUBSTRING_KEYS),
      ...problemLines(results.flatMap((r) => r.problems), pack.name),
    ];
  } finally {
    stage.dispose();
  }
});
