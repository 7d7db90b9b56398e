// The read API's answers, as plain data: which constraints apply (to a namespace, to a
// workload, of a type) and what the controller can see (capabilities). Any replica
// answers from its own warm caches; the HTTP layer only routes and serializes.
import type { Constraint, ScopeVerdict, Workload } from '../../engine/model.js';
import { gvrKey } from '../../engine/gvr.js';
import { matchesGvr } from '../../engine/stages/adapt.js';
import type { Controller } from './manager.js';
import { buildReport, namespaceConstraints, type ReportContent } from './report.js';

export interface ConstraintView {
  id: string;
  type: string;
  effect: string;
  severity: string;
  source: Constraint['source'];
  rule: string;
  summary: string;
  scope: Constraint['scope'];
  details: Record<string, unknown>;
  remediation: Constraint['remediation'];
  tags: string[];
  /** With ?workload=: why it applies. With ?namespace=: the workloads it reaches. */
  reasons?: string[];
  workloads?: string[];
}

export interface ConstraintQuery {
  namespace?: string;
  /** `Kind/name` or a bare name (any workload kind). */
  workload?: string;
  type?: string;
  severity?: string;
  limit?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function view(c: Constraint): ConstraintView {
  return {
    id: c.id,
    type: c.type,
    effect: c.effect,
    severity: c.severity,
    source: c.source,
    rule: `${c.rule.pack}/${c.rule.rule}`,
    summary: c.summary,
    scope: c.scope,
    details: c.details,
    remediation: c.remediation,
    tags: c.tags,
  };
}

export function findWorkload(ctl: Controller, namespace: string, ref: string): Workload | undefined {
  const slash = ref.indexOf('/');
  const list = ctl.analyzer.workloads.list(namespace);
  if (slash < 0) return list.find((w) => w.name === ref);
  const kind = ref.slice(0, slash).toLowerCase();
  const name = ref.slice(slash + 1);
  return list.find((w) => w.name === name && (w.kind.toLowerCase() === kind || `${w.kind.toLowerCase()}s` === kind));
}

export function queryConstraints(ctl: Controller, q: ConstraintQuery): { items: ConstraintView[]; total: number } {
  let items: ConstraintView[];
  if (q.workload !== undefined) {
    if (!q.namespace) throw new ApiError(400, 'workload needs namespace');
    const w = findWorkload(ctl, q.namespace, q.workload);
    if (!w) throw new ApiError(404, `no workload ${q.workload} in namespace ${q.namespace}`);
    items = ctl.analyzer.applicableTo(w).map((a) => ({ ...view(a.constraint), reasons: (a.verdict as ScopeVerdict).reasons }));
  } else if (q.namespace !== undefined) {
    items = namespaceConstraints(ctl.analyzer, q.namespace).map((nc) => ({ ...view(nc.constraint), workloads: nc.workloads.map((w) => `${w.kind}/${w.name}`) }));
  } else {
    items = ctl.analyzer.constraints
      .all()
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(view);
  }
  if (q.type) items = items.filter((c) => c.type === q.type);
  if (q.severity) items = items.filter((c) => c.severity === q.severity);
  const total = items.length;
  if (q.limit !== undefined) items = items.slice(0, q.limit);
  return { items, total };
}

export function namespaceReport(ctl: Controller, namespace: string): ReportContent {
  const r = buildReport(ctl.analyzer, namespace);
  if (!r) throw new ApiError(404, `nothing to report for namespace ${namespace}`);
  return r;
}

export function capabilities(ctl: Controller): Record<string, unknown> {
  const watched = ctl.watched();
  const packs = ctl.activePacks();
  const stats = ctl.analyzer.stats();
  return {
    identity: ctl.identity,
    ready: ctl.isReady,
    leader: { isLeader: ctl.isLeader, holder: ctl.leaderIdentity ?? null },
    lastScan: ctl.scanInfo(),
    counts: {
      objects: ctl.store.count(),
      constraints: ctl.analyzer.constraints.size,
      workloads: ctl.analyzer.workloads.size,
      namespaces: ctl.store.namespaces().length,
      adaptProblems: stats.problems,
      rejectedObjects: ctl.store.stats().rejected,
    },
    gvrs: watched.map((w) => ({
      gvr: gvrKey(w.gvr),
      group: w.gvr.group,
      version: w.gvr.version,
      resource: w.gvr.resource,
      kind: w.kind,
      namespaced: w.namespaced,
      reasons: w.reasons,
      since: w.since,
      objects: ctl.store.count(w.gvr),
      constraints: ctl.analyzer.constraints.bySourceGvr(w.gvr).length,
      adapters: packs.flatMap((p) => p.adapters.filter((a) => !a.match.fallback && matchesGvr(a, w.gvr, w.kind)).map((a) => `${a.pack}/${a.name}`)),
      informer: w.informer,
    })),
    excluded: ctl.currentSelection().excluded,
    adapters: packs
      .filter((p) => p.adapters.length > 0)
      .map((p) => ({
        pack: p.name,
        origin: p.origin.file,
        rules: p.adapters.map((a) => ({ name: a.name, match: a.match })),
      })),
    rulePacks: {
      active: packs.map((p) => ({ name: p.name, origin: p.origin.file })),
      configMaps: ctl.rulePackStatus(),
      builtinProblems: ctl.builtinProblems(),
    },
    profiles: ctl.profileViews(),
    reports: ctl.reportStats(),
    controlInformers: ctl.controlInformers(),
    skipped: ctl.analyzer.skipped().slice(0, 100),
  };
}
