// The one output format every benchmark prints: operation, size, time, memory.
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
