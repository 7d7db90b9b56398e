// Issue #2 benchmark: load + adapt + index a synthetic cluster, then query workloads.
// Run: npm run build && node dist/bench/analyze.js [--scale 0.1] [--engine] [--interpret]
//   --engine     every adapter condition through json-rules-engine (the reference)
//   --interpret  every CEL expression through the cel-js interpreter (no compiled fast path)
import { Analyzer } from '../engine/analyzer.js';
import { conditionMode, setConditionMode } from '../engine/stages/runner.js';
import { celEvaluations, setCelFastPath } from '../engine/expr/cel.js';
import { FactStore } from '../engine/store/store.js';
import { loadAllPacks } from '../runtime/packs.js';
import { generateSnapshot, ISSUE2_SIZE, type SnapshotSize } from './generate.js';
import { mb, peakRss, percentile, printMachine, printTable, type BenchRow } from './table.js';

/** Re-adapting every object (what a pack hot reload does), timed this many times once warm. */
const STEADY_PASSES = 5;

async function main(): Promise<void> {
  const scaleArg = process.argv.indexOf('--scale');
  const scale = scaleArg >= 0 ? Number(process.argv[scaleArg + 1]) : 1;
  // --engine: every adapter condition through json-rules-engine (the reference mode).
  if (process.argv.includes('--engine')) setConditionMode('engine');
  if (process.argv.includes('--interpret')) setCelFastPath(false);
  const size: SnapshotSize = Object.fromEntries(Object.entries(ISSUE2_SIZE).map(([k, v]) => [k, Math.max(1, Math.round(v * scale))])) as unknown as SnapshotSize;
  const { packs, problems } = await loadAllPacks();
  if (problems.some((p) => p.severity === 'error')) throw new Error('built-in packs do not load: ' + JSON.stringify(problems));
  const objects = generateSnapshot(size);
  const policies = size.networkPolicies + size.resourceQuotas + size.limitRanges + size.webhookConfigurations;
  const rows: BenchRow[] = [];
  const sizeText = `${size.namespaces} ns / ${size.workloads} workloads / ${policies} policies`;
  global.gc?.();

  const t0 = performance.now();
  const store = new FactStore();
  for (const o of objects) {
    const r = store.upsertObject(o);
    if (!r.ok) throw new Error(r.error);
  }
  const t1 = performance.now();
  const analyzer = new Analyzer(store, packs);
  const t2 = performance.now();
  const cel0 = { ...celEvaluations };
  await analyzer.adaptAll();
  const t3 = performance.now();
  const stats = analyzer.stats();
  const cel = { compiled: celEvaluations.compiled - cel0.compiled, gaveUp: celEvaluations.gaveUp - cel0.gaveUp, interpreted: celEvaluations.interpreted - cel0.interpreted };
  const celTotal = cel.compiled + cel.gaveUp + cel.interpreted;
  rows.push({ operation: 'load into fact store', size: `${objects.length} objects`, time: `${(t1 - t0).toFixed(0)} ms`, memory: mb(peakRss()) });
  rows.push({ operation: 'workload index', size: `${analyzer.workloads.size} workloads`, time: `${(t2 - t1).toFixed(0)} ms`, memory: mb(peakRss()) });
  rows.push({
    operation: 'adapt + constraint index, first pass',
    size: `${policies} policies -> ${stats.constraints} constraints`,
    time: `${(t3 - t2).toFixed(0)} ms`,
    memory: mb(peakRss()),
    note: `${Math.round(policies / ((t3 - t2) / 1000))} policies/s, cold process (JIT warm-up, heap growth); conditions (${conditionMode() === 'engine' ? 'json-rules-engine' : 'compiled'}) ${((stats.engineMs / (t3 - t2)) * 100).toFixed(0)}% of adapt`,
  });
  rows.push({
    operation: 'adapt stage alone, first pass',
    size: `${stats.adapted} objects (${policies} policies + namespaces for Pod Security)`,
    time: `${stats.adaptMs.toFixed(0)} ms`,
    memory: '-',
    note: `${Math.round(policies / (stats.adaptMs / 1000))} policies/s: conditions and emission (AdaptStage) only, no indexing`,
  });
  rows.push({
    operation: 'CEL evaluations, first pass',
    size: `${celTotal} evaluations`,
    time: '-',
    memory: '-',
    note: `${pct(cel.compiled, celTotal)} compiled closures, ${pct(cel.gaveUp, celTotal)} handed back to the interpreter, ${pct(cel.interpreted, celTotal)} interpreted`,
  });
  rows.push({ operation: 'load + adapt + index (total)', size: sizeText, time: `${((t3 - t0) / 1000).toFixed(2)} s`, memory: `${mb(peakRss())} peak RSS`, note: 'target <= 5 s, <= 500 MB' });

  // Steady state: the same operation again in a warm process, every object re-adapted and
  // its constraints replaced in the index.
  const passes: number[] = [];
  for (let i = 0; i < STEADY_PASSES; i++) {
    const s = performance.now();
    await analyzer.adaptAll();
    passes.push(performance.now() - s);
  }
  passes.sort((a, b) => a - b);
  const median = passes[Math.floor(passes.length / 2)] as number;
  rows.push({
    operation: 'adapt + constraint index, steady state',
    size: `${policies} policies, ${STEADY_PASSES} passes`,
    time: `median ${median.toFixed(0)} ms (min ${(passes[0] as number).toFixed(0)}, max ${(passes.at(-1) as number).toFixed(0)})`,
    memory: mb(peakRss()),
    note: `${Math.round(policies / (median / 1000))} policies/s (median pass); target >= 20,000/s`,
  });

  // "Constraints applying to this workload": every workload once to warm, then timed.
  const workloads = analyzer.workloads.list();
  let applied = 0;
  for (const w of workloads) applied += analyzer.applicableTo(w).length;
  const samples: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (const w of workloads) {
      const s = performance.now();
      analyzer.applicableTo(w);
      samples.push((performance.now() - s) * 1000);
    }
  }
  samples.sort((a, b) => a - b);
  rows.push({
    operation: 'constraints applying to a workload',
    size: `${samples.length} queries, avg ${(applied / workloads.length).toFixed(1)} hits`,
    time: `p50 ${percentile(samples, 50).toFixed(1)} us, p99 ${percentile(samples, 99).toFixed(1)} us`,
    memory: mb(peakRss()),
    note: 'target p99 <= 50 us',
  });
  if (stats.problems) rows.push({ operation: 'problems', size: String(stats.problems), time: '-', memory: '-', note: JSON.stringify(analyzer.problems()[0]) });
  printMachine('bench/analyze');
  printTable(rows);
}

function pct(n: number, total: number): string {
  return `${total === 0 ? 0 : ((n / total) * 100).toFixed(1)}%`;
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exitCode = 1;
});
