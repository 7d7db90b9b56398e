// Scripted failure scenarios: Warning Events, Hubble drops, admission requests and
// pasted errors against one fixture cluster (test/scenarios/cluster/), each with the
// constraint a human would name. Prints the top-1 accuracy table.
//
// Threshold: 100%. Every scenario is deterministic (fixed cluster, fixed signal, fixed
// rule packs), so a miss is not noise but a regression in a rule, an adapter or the
// stage, and should fail CI like any other broken test. The accuracy line is printed
// so a change that trades one scenario for another is visible at a glance.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { analyzeObjects, type Analyzer } from '../../engine/analyzer.js';
import type { Attribution } from '../../engine/model.js';
import { loadPacks, type CompiledPack } from '../../engine/pack/loader.js';
import { objectsFromText, type SourcedObject } from '../../engine/source/manifests.js';
import type { SignalKind } from '../../engine/signals.js';
import { CorrelateStage, type CorrelateResult } from '../../engine/stages/correlate.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
/** Scenario files, one per signal kind. */
const FILES = ['events.yaml', 'messages.yaml', 'flows.yaml', 'admission.yaml'];
const THRESHOLD = 1.0;

interface SourceExpect {
  kind: string;
  name: string;
  namespace?: string;
}

interface Scenario {
  file: string;
  name: string;
  signal: { kind: SignalKind } & Record<string, unknown>;
  expect: {
    top: SourceExpect | 'none';
    rule?: string;
    workload?: string;
    count?: number;
    truncated?: boolean;
    /** details.rule of the top constraint (Kyverno rules). */
    constraintRule?: string;
  };
}

interface Outcome {
  scenario: Scenario;
  result: CorrelateResult | undefined;
  top: Attribution | undefined;
  got: string;
  correct: boolean;
  /** Mismatches beyond the top-1 constraint (rule, workload, count...). */
  extra: string[];
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));
}

function loadScenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const f of FILES) {
    const doc = parse(readFileSync(join(here, f), 'utf8')) as { scenarios: Omit<Scenario, 'file'>[] };
    for (const s of doc.scenarios) out.push({ ...s, file: f });
  }
  return out;
}

/** `message: {repeat, times}` builds the huge messages bad-input scenarios need. */
function expandSignal(s: Scenario['signal']): Record<string, unknown> {
  const { kind: _kind, ...raw } = s;
  const m = raw.message as { repeat?: string; times?: number } | undefined;
  if (m && typeof m === 'object' && typeof m.repeat === 'string') raw.message = m.repeat.repeat(m.times ?? 1);
  return raw;
}

function sourceText(s: SourceExpect | 'none'): string {
  return s === 'none' ? 'none' : `${s.kind} ${s.namespace ? s.namespace + '/' : ''}${s.name}`;
}

let analyzer: Analyzer;
let stage: CorrelateStage;
const scenarios = loadScenarios();
const outcomes = new Map<Scenario, Outcome>();

beforeAll(async () => {
  const packs: CompiledPack[] = [];
  const packFiles = [...yamlFiles(join(root, 'adapters')), ...['requirements', 'correlations', 'notifications'].flatMap((d) => yamlFiles(join(root, 'rules', d)))];
  for (const f of packFiles) {
    const r = loadPacks(readFileSync(f, 'utf8'), { file: f });
    const errors = r.problems.filter((p) => p.severity === 'error');
    if (errors.length) throw new Error(`${f}: ${errors.map((p) => p.message).join('; ')}`);
    packs.push(...r.packs);
  }
  const objects: SourcedObject[] = [];
  for (const f of yamlFiles(join(here, 'cluster'))) objects.push(...objectsFromText(readFileSync(f, 'utf8'), f).objects);
  analyzer = await analyzeObjects(objects, packs);
  stage = new CorrelateStage(packs, analyzer);

  for (const s of scenarios) {
    const r = await stage.correlateInput(s.signal.kind, expandSignal(s.signal));
    const result = r.signal ? r : undefined;
    const top = result?.attributions[0];
    const c = top?.constraintIds[0] ? analyzer.constraints.get(top.constraintIds[0]) : undefined;
    const got = c ? `${c.source.kind} ${c.source.namespace ? c.source.namespace + '/' : ''}${c.source.name}` : 'none';
    const want = s.expect.top;
    const correct = want === 'none' ? c === undefined : c !== undefined && c.source.kind === want.kind && c.source.name === want.name && (c.source.namespace ?? '') === (want.namespace ?? '');
    const extra: string[] = [];
    if (s.expect.rule && top?.rule.rule !== s.expect.rule) extra.push(`rule ${top?.rule.rule ?? '(none)'} != ${s.expect.rule}`);
    if (s.expect.workload) {
      const w = top?.workload ? `${top.workload.kind}/${top.workload.name}` : '(none)';
      if (w !== s.expect.workload) extra.push(`workload ${w} != ${s.expect.workload}`);
    }
    if (s.expect.count !== undefined && top?.count !== s.expect.count) extra.push(`count ${top?.count} != ${s.expect.count}`);
    if (s.expect.truncated !== undefined && result?.signal.truncated !== s.expect.truncated) extra.push(`truncated ${result?.signal.truncated} != ${s.expect.truncated}`);
    if (s.expect.constraintRule !== undefined && c?.details.rule !== s.expect.constraintRule) extra.push(`constraint rule ${String(c?.details.rule)} != ${s.expect.constraintRule}`);
    for (const p of result?.problems ?? []) if (p.severity === 'error') extra.push(`problem: ${p.rule}: ${p.message}`);
    outcomes.set(s, { scenario: s, result, top, got, correct, extra });
  }
});

describe('scripted failure scenarios', () => {
  it('has at least 30 scenarios across events, flows, admission requests and messages', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(30);
    const kinds = new Set(scenarios.map((s) => s.signal.kind));
    expect([...kinds].sort()).toEqual(['admission', 'event', 'flow', 'message']);
  });

  it.each(scenarios.map((s) => [`${s.file}: ${s.name}`, s] as const))('%s', (_label, s) => {
    const o = outcomes.get(s);
    expect(o, 'scenario ran').toBeDefined();
    if (!o) return;
    expect(o.got, `top-1 constraint (explanation: ${o.top?.explanation ?? '(no attribution)'})`).toBe(sourceText(s.expect.top));
    expect(o.extra).toEqual([]);
  });

  it(`top-1 accuracy is at least ${THRESHOLD * 100}%`, () => {
    const rows = scenarios.map((s) => outcomes.get(s) as Outcome);
    const correct = rows.filter((o) => o.correct).length;
    const width = Math.max(...rows.map((o) => o.scenario.name.length));
    const lines = rows.map((o) => `${o.correct ? 'ok  ' : 'MISS'} ${o.scenario.signal.kind.padEnd(9)} ${o.scenario.name.padEnd(width)}  ${o.got}${o.correct ? '' : `  (expected ${sourceText(o.scenario.expect.top)})`}`);
    const byKind = ['event', 'flow', 'admission', 'message'].map((k) => {
      const of = rows.filter((o) => o.scenario.signal.kind === k);
      return `${k} ${of.filter((o) => o.correct).length}/${of.length}`;
    });
    const accuracy = correct / rows.length;
    console.log(`\n${lines.join('\n')}\n\ntop-1 accuracy: ${correct}/${rows.length} = ${(accuracy * 100).toFixed(1)}% (${byKind.join(', ')})\n`);
    expect(accuracy).toBeGreaterThanOrEqual(THRESHOLD);
  });
});
