// The analysis report: what `potoo analyze` prints as a table, JSON or YAML.
import type { Analyzer, SkippedObject } from '../../engine/analyzer.js';
import type { Constraint, Problem, Severity } from '../../engine/model.js';

export interface ReportConstraint {
  id: string;
  type: string;
  effect: string;
  severity: Severity;
  source: string;
  summary: string;
  reasons: string[];
}

export interface ReportWorkload {
  kind: string;
  name: string;
  podLabels: Record<string, string>;
  constraints: ReportConstraint[];
}

export interface ReportNamespace {
  name: string;
  labels: Record<string, string>;
  workloads: ReportWorkload[];
}

export interface Report {
  summary: { objects: number; workloads: number; constraints: number; bySeverity: Record<Severity, number>; skipped: number; problems: number };
  namespaces: ReportNamespace[];
  /** Every constraint, when asked for (`--all-constraints`). */
  constraints?: ReportConstraint[];
  skipped: SkippedObject[];
  problems: Problem[];
}

export interface ReportFilter {
  namespaces: string[];
  /** `Kind/name` */
  workloads: string[];
  allConstraints: boolean;
}

const SEVERITY_ORDER: Record<Severity, number> = { Critical: 0, Warning: 1, Info: 2 };

/** `Kind namespace/name` (no namespace for cluster-scoped sources). */
export function sourceText(c: Pick<Constraint, 'source'>): string {
  return `${c.source.kind} ${c.source.namespace ? c.source.namespace + '/' : ''}${c.source.name}`;
}

function toReport(c: Constraint, reasons: string[]): ReportConstraint {
  return { id: c.id, type: c.type, effect: c.effect, severity: c.severity, source: sourceText(c), summary: c.summary, reasons };
}

export function buildReport(analyzer: Analyzer, filter: ReportFilter): Report {
  const all = analyzer.allConstraints();
  const bySeverity: Record<Severity, number> = { Critical: 0, Warning: 0, Info: 0 };
  for (const c of all) bySeverity[c.severity]++;
  const namespaces: ReportNamespace[] = [];
  const names = analyzer.store
    .namespaces()
    .map((n) => n.name)
    .filter((n) => n && (filter.namespaces.length === 0 || filter.namespaces.includes(n)))
    .sort();
  let workloadCount = 0;
  for (const ns of names) {
    const workloads: ReportWorkload[] = [];
    for (const w of analyzer.workloads.list(ns).sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`))) {
      if (filter.workloads.length && !filter.workloads.includes(`${w.kind}/${w.name}`)) continue;
      workloadCount++;
      const constraints = analyzer
        .applicableTo(w)
        .map((a) => toReport(a.constraint, a.verdict.reasons))
        .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.id.localeCompare(b.id));
      workloads.push({ kind: w.kind, name: w.name, podLabels: w.podLabels, constraints });
    }
    if (workloads.length || filter.namespaces.includes(ns)) {
      namespaces.push({ name: ns, labels: { ...(analyzer.store.namespaceLabels(ns) ?? {}) }, workloads });
    }
  }
  const problems = analyzer.problems();
  const report: Report = {
    summary: { objects: analyzer.store.count(), workloads: workloadCount, constraints: all.length, bySeverity, skipped: analyzer.skipped().length, problems: problems.length },
    namespaces,
    skipped: analyzer.skipped(),
    problems,
  };
  if (filter.allConstraints) report.constraints = all.sort((a, b) => a.id.localeCompare(b.id)).map((c) => toReport(c, []));
  return report;
}

function table(rows: string[][], indent: string): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((r) => indent + r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

function labelsText(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(',') : 'no labels';
}

export function renderReport(r: Report, opts: { why: boolean }): string {
  const out: string[] = [];
  for (const ns of r.namespaces) {
    out.push(`NAMESPACE ${ns.name}  (${labelsText(ns.labels)})`);
    if (ns.workloads.length === 0) out.push('  (no workloads)');
    for (const w of ns.workloads) {
      out.push(`  ${w.kind} ${w.name}  (pods: ${labelsText(w.podLabels)})`);
      if (w.constraints.length === 0) {
        out.push('    no constraints apply');
        continue;
      }
      const rows = [['SEVERITY', 'TYPE', 'EFFECT', 'SOURCE', 'SUMMARY']];
      for (const c of w.constraints) rows.push([c.severity, c.type, c.effect, c.source, c.summary]);
      out.push(table(rows, '    '));
      if (opts.why) {
        for (const c of w.constraints) out.push(`      why ${c.source} (${c.type}): ${c.reasons.join('; ')}`);
      }
    }
    out.push('');
  }
  if (r.constraints) {
    out.push('ALL CONSTRAINTS');
    const rows = [['SEVERITY', 'TYPE', 'EFFECT', 'SOURCE', 'SUMMARY']];
    for (const c of r.constraints) rows.push([c.severity, c.type, c.effect, c.source, c.summary]);
    out.push(table(rows, '  '), '');
  }
  for (const s of r.skipped) out.push(`not a constraint: ${s.object}: ${s.reason} (${s.pack}/${s.rule})`);
  const s = r.summary;
  out.push(
    `${s.objects} objects, ${s.workloads} workloads, ${s.constraints} constraints ` +
      `(${s.bySeverity.Critical} Critical, ${s.bySeverity.Warning} Warning, ${s.bySeverity.Info} Info), ` +
      `${s.skipped} skipped, ${s.problems} problem(s)`,
  );
  return out.join('\n') + '\n';
}
