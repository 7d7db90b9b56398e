// Issue #2 benchmark: load + adapt + index a synthetic cluster, then query workloads.
// Run: npm run build && node dist/bench/analyze.js [--scale 0.1]
import { Analyzer } from '../engine/analyzer.js';
import { conditionMode, setConditionMode } from '../engine/stages/runner.js';
import { FactStore } from '../engine/store/store.js';
import { loadAllPacks } from '../runtime/packs.js';
import { generateSnapshot, ISSUE2_SIZE, type SnapshotSize } from './generate.js';
import { mb, peakRss, percentile, printTable, type BenchRow } from './table.js';

async function main(): Promise<void> {
  const scaleArg = process.argv.indexOf('--scale');
  const scale = scaleArg >= 0 ? Number(process.argv[scaleArg + 1]) : 1;
  // --engine: every adapter condition through json-rules-engine (the reference mode).
  if (process.argv.includes('--engine')) setConditionMode('engine');
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
  await analyzer.adaptAll();
  const t3 = performance.now();
  const stats = analyzer.stats();
  rows.push({ operation: 'load into fact store', size: `${objects.length} objects`, time: `${(t1 - t0).toFixed(0)} ms`, memory: mb(peakRss()) });
  rows.push({ operation: 'workload index', size: `${analyzer.workloads.size} workloads`, time: `${(t2 - t1).toFixed(0)} ms`, memory: mb(peakRss()) });
  rows.push({
    operation: 'adapt + constraint index',
    size: `${policies} policies -> ${stats.constraints} constraints`,
    time: `${(t3 - t2).toFixed(0)} ms`,
    memory: mb(peakRss()),
    note: `${Math.round(policies / ((t3 - t2) / 1000))} policies/s; conditions (${conditionMode() === 'engine' ? 'json-rules-engine' : 'compiled'}) ${((stats.engineMs / (t3 - t2)) * 100).toFixed(0)}% of adapt`,
  });
  rows.push({ operation: 'load + adapt + index (total)', size: sizeText, time: `${((t3 - t0) / 1000).toFixed(2)} s`, memory: `${mb(peakRss())} peak RSS`, note: 'target <= 5 s, <= 500 MB' });

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
  printTable(rows);
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exitCode = 1;
});
