// The one output format every benchmark prints: operation, size, time, memory.
import os from 'node:os';
export interface BenchRow {
  operation: string;
  size: string;
  time: string;
  memory: string;
  note?: string;
}

export function printTable(rows: readonly BenchRow[]): void {
  const header: BenchRow = { operation: 'operation', size: 'size', time: 'time', memory: 'memory', note: 'note' };
  const all = [header, ...rows];
  const keys = ['operation', 'size', 'time', 'memory', 'note'] as const;
  const widths = keys.map((k) => Math.max(...all.map((r) => (r[k] ?? '').length)));
  const line = (r: BenchRow): string => '| ' + keys.map((k, i) => (r[k] ?? '').padEnd(widths[i] ?? 0)).join(' | ') + ' |';
  process.stdout.write(line(header) + '\n');
  process.stdout.write('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|\n');
  for (const r of rows) process.stdout.write(line(r) + '\n');
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

/** Peak resident set size of this process so far. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] as number;
}

/** A numeric `--name value` command-line option, else `fallback`. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** The line every benchmark prints before its table: which benchmark, on what machine, when. */
export function printMachine(bench: string): void {
  const cpus = os.cpus();
  process.stdout.write(
    `\n${bench}: node ${process.version}, ${cpus.length} x ${cpus[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${new Date().toISOString()}\n\n`,
  );
}

/** p50, p90, p99 and max of sorted latencies in milliseconds. */
export function latencyMs(sorted: readonly number[], digits = 0): string {
  return `p50 ${percentile(sorted, 50).toFixed(digits)} ms, p90 ${percentile(sorted, 90).toFixed(digits)} ms, p99 ${percentile(sorted, 99).toFixed(digits)} ms, max ${(sorted.at(-1) ?? 0).toFixed(digits)} ms`;
}
