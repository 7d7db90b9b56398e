// What a namespace's ConstraintReport says: the constraints that reach the namespace,
// which of its workloads each applies to and why, severity counts, and a machine-readable
// copy. Pure over the analyzer's indices; the writer decides when to persist it, and the
// read API serves the same content from any replica.
import type { Constraint, RemediationStep, Severity } from '../../engine/model.js';
import type { Analyzer } from '../../engine/analyzer.js';
import { podScopeTarget, scopeApplies } from '../../engine/scope.js';
import { workloadKey } from '../../engine/store/workloads.js';

export const REPORT_SCHEMA = 'potoo.io/constraint-report/v1';

export interface ReportWorkloadRef {
  kind: string;
  name: string;
  /** Reasons particular to this workload, beyond the entry's shared ones. */
  reasons?: string[];
}

export interface ReportEntry {
  id: string;
  type: string;
  effect: string;
  severity: Severity;
  source: { apiVersion: string; kind: string; name: string; namespace?: string };
  rule: string;
  summary: string;
  appliesTo: string;
  /** Why it applies: the reasons most listed workloads share. */
  reasons: string[];
  workloads: ReportWorkloadRef[];
  remediation: RemediationStep[];
}

export interface ReportSummary {
  total: number;
  critical: number;
  warning: number;
  info: number;
  workloads: number;
  affectedWorkloads: number;
  byType: Record<string, number>;
}

export interface MachineSection {
  schema: string;
  namespace: string;
  constraints: {
    id: string;
    type: string;
    effect: string;
    severity: Severity;
    source: Constraint['source'];
    rule: Constraint['rule'];
    scope: Constraint['scope'] | { omitted: true };
    details: Record<string, unknown>;
    tags: string[];
    workloads: string[];
  }[];
  omitted?: { entries: number; details: boolean };
}

/** The report's status, minus the bookkeeping fields (lastUpdateTime, generatedBy). */
export interface ReportContent {
  summary: ReportSummary;
  entries: ReportEntry[];
  machine: MachineSection;
  truncated: boolean;
  /** Recent failures Potoo attributed to constraints here (notify stage `report` deliveries). */
  attributions?: ReportSignalEntry[];
  /** Missing companion resources, after their debounce (cleared when satisfied). */
  findings?: ReportSignalEntry[];
}

/** An attribution or finding as the notify stage rendered it for the report's audience. */
export interface ReportSignalEntry {
  id: string;
  rule: string;
  severity: Severity;
  /** Kind/name of the workload it is about, when known. */
  workload?: string;
  text: string;
  /** Constraint labels as the audience may see them. */
  constraints?: string[];
  expects?: { apiVersion: string; kind: string; name?: string };
  count?: number;
  firstSeen?: string;
  lastSeen?: string;
}

/** Live sections other parts of the controller keep per namespace (see ReportOptions.sections). */
export interface ReportSections {
  attributions: ReportSignalEntry[];
  findings: ReportSignalEntry[];
}

export interface ReportOptions {
  /** Largest serialized size of the content (etcd's request limit is 1.5 MiB). */
  maxBytes?: number;
  /** Workloads listed per entry (the machine section always has all of them). */
  maxWorkloadsPerEntry?: number;
  /** Reasons listed per workload (and twice as many shared ones per entry). */
  maxReasons?: number;
  /**
   * Attributions and findings for a namespace, kept by the signal and requirement
   * pipelines; they are part of the content, so a change in them (and only that) writes.
   */
  sections?: (namespace: string) => ReportSections | undefined;
}

export interface NamespaceConstraint {
  constraint: Constraint;
  workloads: { kind: string; name: string; reasons: () => string[] }[];
  /** Reaches the namespace itself (defined for it, or would apply to a new pod there). */
  namespaceWide: boolean;
}

const SEVERITY_RANK: Record<Severity, number> = { Critical: 0, Warning: 1, Info: 2 };

/**
 * The constraints that reach a namespace: those whose scope names it, plus cluster-wide
 * ones that apply to one of its workloads or to a plain new Pod there.
 */
export function namespaceConstraints(analyzer: Analyzer, namespace: string): NamespaceConstraint[] {
  const byId = new Map<string, NamespaceConstraint>();
  const get = (c: Constraint): NamespaceConstraint => {
    let e = byId.get(c.id);
    if (!e) byId.set(c.id, (e = { constraint: c, workloads: [], namespaceWide: false }));
    return e;
  };
  for (const w of analyzer.workloads.list(namespace)) {
    for (const a of analyzer.applicableTo(w)) {
      const verdict = a.verdict;
      get(a.constraint).workloads.push({ kind: w.kind, name: w.name, reasons: () => verdict.reasons });
    }
  }
  for (const c of analyzer.constraints.byNamespace(namespace)) get(c).namespaceWide = true;
  // A plain new Pod there: no name, labels or annotations.
  const probe = podScopeTarget({ namespace, labels: {}, namespaceLabels: analyzer.store.namespaceLabels(namespace) ?? {} });
  for (const c of analyzer.constraints.clusterWideConstraints()) {
    if (byId.has(c.id)) continue;
    if (scopeApplies(c.scope, probe)) get(c).namespaceWide = true;
  }
  return [...byId.values()].sort(
    (a, b) => SEVERITY_RANK[a.constraint.severity] - SEVERITY_RANK[b.constraint.severity] || (a.constraint.id < b.constraint.id ? -1 : a.constraint.id > b.constraint.id ? 1 : 0),
  );
}

const wlSort = (a: { kind: string; name: string }, b: { kind: string; name: string }): number =>
  a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** Build the report content for a namespace; undefined when there is nothing to say (no workloads, no constraints). */
export function buildReport(analyzer: Analyzer, namespace: string, opts: ReportOptions = {}): ReportContent | undefined {
  const maxWl = opts.maxWorkloadsPerEntry ?? 50;
  const maxReasons = opts.maxReasons ?? 6;
  const maxBytes = opts.maxBytes ?? 900 * 1024;
  const workloads = analyzer.workloads.list(namespace);
  const items = namespaceConstraints(analyzer, namespace);
  const sections = opts.sections?.(namespace);
  const live = sections && (sections.attributions.length > 0 || sections.findings.length > 0) ? sections : undefined;
  if (items.length === 0 && workloads.length === 0 && !live) return undefined;

  const summary: ReportSummary = { total: items.length, critical: 0, warning: 0, info: 0, workloads: workloads.length, affectedWorkloads: 0, byType: {} };
  const affected = new Set<string>();
  const entries: ReportEntry[] = [];
  const machine: MachineSection = { schema: REPORT_SCHEMA, namespace, constraints: [] };
  for (const it of items) {
    const c = it.constraint;
    if (c.severity === 'Critical') summary.critical++;
    else if (c.severity === 'Warning') summary.warning++;
    else summary.info++;
    summary.byType[c.type] = (summary.byType[c.type] ?? 0) + 1;
    const wls = [...it.workloads].sort(wlSort);
    for (const w of wls) affected.add(workloadKey({ kind: w.kind, namespace, name: w.name }));
    // A reason that names the workload itself ("the pods it creates (Pod ns/web-*)") adds
    // nothing next to its name; without them most workloads share one set of reasons,
    // which the entry states once.
    const listed = wls.slice(0, maxWl).map((w) => ({ kind: w.kind, name: w.name, reasons: w.reasons().filter((r) => !r.includes(`${namespace}/${w.name}`)) }));
    const shared = typicalReasons(listed.map((w) => w.reasons));
    const source: ReportEntry['source'] = { apiVersion: c.source.apiVersion, kind: c.source.kind, name: c.source.name };
    if (c.source.namespace) source.namespace = c.source.namespace;
    entries.push({
      id: c.id,
      type: c.type,
      effect: c.effect,
      severity: c.severity,
      source,
      rule: `${c.rule.pack}/${c.rule.rule}`,
      summary: c.summary,
      appliesTo: reach(wls.length, workloads.length, it.namespaceWide),
      reasons: shared.slice(0, maxReasons * 2),
      // When it applies to every workload, naming them all says nothing `appliesTo` does
      // not: only the ones with reasons of their own are listed (the machine section has all).
      workloads: listed.flatMap((w) => {
        const own = w.reasons.filter((r) => !shared.includes(r)).slice(0, maxReasons);
        if (own.length) return [{ kind: w.kind, name: w.name, reasons: own }];
        return wls.length === workloads.length && workloads.length > 1 ? [] : [{ kind: w.kind, name: w.name }];
      }),
      remediation: c.remediation,
    });
    machine.constraints.push({
      id: c.id,
      type: c.type,
      effect: c.effect,
      severity: c.severity,
      source: c.source,
      rule: c.rule,
      scope: c.scope,
      details: c.details,
      tags: c.tags,
      workloads: wls.map((w) => `${w.kind}/${w.name}`),
    });
  }
  summary.affectedWorkloads = affected.size;
  const content: ReportContent = { summary, entries, machine, truncated: false };
  if (live?.attributions.length) content.attributions = live.attributions;
  if (live?.findings.length) content.findings = live.findings;
  return fit(content, maxBytes);
}

/** The most common list of reasons (the first of the most common on a tie). */
function typicalReasons(lists: readonly string[][]): string[] {
  const counts = new Map<string, { n: number; list: string[] }>();
  for (const l of lists) {
    const k = JSON.stringify(l);
    const c = counts.get(k);
    if (c) c.n++;
    else counts.set(k, { n: 1, list: l });
  }
  let best: { n: number; list: string[] } | undefined;
  for (const c of counts.values()) if (!best || c.n > best.n) best = c;
  return best?.list ?? [];
}

function reach(n: number, total: number, namespaceWide: boolean): string {
  if (total === 0) return namespaceWide ? 'the namespace (no workloads yet)' : 'no workload';
  if (n === 0) return namespaceWide ? `the namespace (none of its ${total} workloads match)` : 'no workload';
  if (n === total) return `all ${total} workload${total === 1 ? '' : 's'}`;
  return `${n} of ${total} workloads`;
}

/** Drop detail until the report fits: machine details and scopes first, then entries from the least severe. */
function fit(content: ReportContent, maxBytes: number): ReportContent {
  const size = (): number => Buffer.byteLength(JSON.stringify(content));
  if (size() <= maxBytes) return content;
  content.truncated = true;
  for (const c of content.machine.constraints) {
    c.details = { omitted: true };
    c.scope = { omitted: true };
  }
  content.machine.omitted = { entries: 0, details: true };
  if (size() <= maxBytes) return content;
  for (const e of content.entries) {
    e.workloads = e.workloads.slice(0, 5).map((w) => ({ kind: w.kind, name: w.name }));
  }
  let dropped = 0;
  // Entries are sorted most severe first; cut from the end in halves until it fits.
  while (size() > maxBytes && content.entries.length > 0) {
    const keep = Math.floor(content.entries.length / 2);
    dropped += content.entries.length - keep;
    const kept = new Set(content.entries.slice(0, keep).map((e) => e.id));
    content.entries = content.entries.slice(0, keep);
    content.machine.constraints = content.machine.constraints.filter((c) => kept.has(c.id));
  }
  content.machine.omitted = { entries: dropped, details: true };
  return content;
}

