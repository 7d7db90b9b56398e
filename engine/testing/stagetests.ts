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
import type { Attribution, Constraint, Finding, Problem } from '../model.js';
import type { CompiledPack } from '../pack/loader.js';
import type { PackTest } from '../pack/types.js';
import type { Analyzer } from '../analyzer.js';
import type { SignalKind } from '../signals.js';
import { CorrelateStage } from '../stages/correlate.js';
import { RequireStage } from '../stages/require.js';
import { NotifyStage, type NotifyInput } from '../stages/notify.js';
import type { NotificationPolicy } from '../privacy.js';
import { isRecord } from '../json.js';
import { compareList, registerExpectation, unexpectedProblems } from './packtest.js';

const SUBSTRING_KEYS = new Set(['explanation', 'text', 'summary', 'message']);

export interface RankedAttribution extends Attribution {
  rank: number;
  constraints: Constraint[];
}

function problemLines(problems: readonly Problem[], pack: string): string[] {
  return unexpectedProblems(problems.filter((p) => p.severity === 'error' && (p.pack === undefined || p.pack === pack)));
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

/**
 * deliveries: the subject is the top attribution of `signal` (what the controller
 * notifies), or `input.attribution` / `input.finding` / `input.constraint` (a constraint
 * id or object), or every finding of the given objects (`input.findings: true`).
 * `input.policy` is a NotificationPolicy or a list of them; `input.trustedNamespaces`
 * defaults to potoo-system.
 */
registerExpectation('deliveries', async (test, { pack, packs, analyzer }) => {
  const input = test.input ?? {};
  const rawPolicies = input.policy === undefined ? [] : Array.isArray(input.policy) ? input.policy : [input.policy];
  const policies = rawPolicies.filter(isRecord) as unknown as NotificationPolicy[];
  const trusted = Array.isArray(input.trustedNamespaces) ? (input.trustedNamespaces as string[]) : ['potoo-system'];
  const notifyPacks = pack.notifications.length > 0 ? [pack] : packs.filter((p) => p.notifications.length > 0);
  const stage = new NotifyStage(notifyPacks, analyzer, { policies, trustedNamespaces: trusted });
  const problems: Problem[] = [];
  const subjects: NotifyInput['subject'][] = [];
  try {
    if (test.signal) {
      const r = await correlateTestSignal(test, packs, analyzer);
      if (r.error) return [`  expect.deliveries: ${r.error}`];
      problems.push(...r.problems);
      const top = r.attributions[0];
      if (top) {
        const { rank: _rank, constraints: _c, ...a } = top;
        subjects.push({ kind: 'attribution', attribution: a });
      }
    }
    if (isRecord(input.attribution)) subjects.push({ kind: 'attribution', attribution: input.attribution as unknown as Attribution });
    if (isRecord(input.finding)) subjects.push({ kind: 'finding', finding: input.finding as unknown as Finding });
    if (typeof input.constraint === 'string' || isRecord(input.constraint)) {
      const c = typeof input.constraint === 'string' ? analyzer.constraints.get(input.constraint) : (input.constraint as unknown as Constraint);
      if (!c) return [`  expect.deliveries: no constraint ${JSON.stringify(input.constraint)} in the test's analysis`];
      subjects.push({ kind: 'constraint', constraint: c });
    }
    if (input.findings === true) {
      const req = new RequireStage(packs, analyzer);
      try {
        for (const r of await req.evaluateAll()) {
          problems.push(...r.problems);
          for (const f of r.findings) subjects.push({ kind: 'finding', finding: f });
        }
      } finally {
        req.dispose();
      }
    }
    const deliveries = [];
    for (const subject of subjects) {
      const r = await stage.notify({ subject });
      problems.push(...r.problems);
      deliveries.push(...r.deliveries);
    }
    return [
      ...compareList('delivery', test.expect.deliveries ?? [], deliveries, test.expect.exactly ?? false, SUBSTRING_KEYS),
      ...problemLines(problems, pack.name),
    ];
  } finally {
    stage.dispose();
  }
});
