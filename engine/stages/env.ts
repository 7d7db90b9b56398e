// The CEL environment of requirement, correlation and notification rules: the shared
// library plus helpers that look things up in the fact store and constraint index of
// the evaluation in progress (context.ts). Rule packs are compiled against it at load,
// so a misspelt helper is a load error with a location, not a runtime surprise.
import { defaultCelEnv, fromCelValue, toCelValue, type CelEnv, type CelFunctionDef } from '../expr/cel.js';
import { RegexCache } from '../expr/regex.js';
import type { Gvr } from '../model.js';
import { parseApiVersion, resolveKind } from '../gvr.js';
import { rec } from '../json.js';
import type { SelectingOptions } from '../store/store.js';
import { currentContext, groupOf } from './context.js';
import { explainTraffic, questionsFor } from './netdeny.js';

const regexes = new RegexCache(256);

function labelsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const r = rec(v);
  if (r) for (const [k, x] of Object.entries(r)) if (typeof x === 'string') out[k] = x;
  return out;
}

/**
 * Lookups return stored objects (constraints, Kubernetes objects) that CEL reads many
 * times: converting each one through the per-object cache (toCelValue) instead of the
 * list as a whole makes repeated lookups of the same objects nearly free. Handlers that
 * do this are `raw`, so their plain-JSON arguments are read with `fromCelValue`.
 */
function celList(xs: readonly object[]): unknown[] {
  return xs.map((x) => toCelValue(x));
}

function celObject(x: object | undefined | null): unknown {
  return x ? toCelValue(x) : null;
}

function selectingOptions(v: unknown): SelectingOptions {
  const r = rec(v) ?? {};
  const o: SelectingOptions = {};
  if (r.namespaces === 'all' || r.namespaces === 'same') o.namespaces = r.namespaces;
  else if (Array.isArray(r.namespaces)) o.namespaces = { also: r.namespaces.filter((x): x is string => typeof x === 'string') };
  if (r.absent === 'all' || r.absent === 'none') o.absent = r.absent;
  if (r.selectorKind === 'labelSelector' || r.selectorKind === 'map' || r.selectorKind === 'auto') o.selectorKind = r.selectorKind;
  if (r.labels === 'pod' || r.labels === 'own') o.labels = r.labels;
  return o;
}

const SEVERITY_RANK: Record<string, number> = { Info: 1, Warning: 2, Critical: 3 };
const DETAIL_RANK: Record<string, number> = { summary: 1, detailed: 2, full: 3 };

function subjectTarget(fn: string) {
  const ctx = currentContext(fn);
  if (!ctx.subject) throw new Error(`${fn}() needs a subject: it works in requirement rules and on admission signals`);
  return { ctx, subject: ctx.subject };
}

/** The helpers, documented for rule authors in rules/README.md. */
export const STAGE_FUNCTIONS: readonly CelFunctionDef[] = [
  {
    signature: 'constraint(string): dyn',
    description: 'The constraint with this id, or null',
    raw: true,
    handler: (id: string): unknown => celObject(currentContext('constraint').view.constraint(id)),
  },
  {
    signature: 'constraintsOf(string, string, string, string): list<dyn>',
    description: 'constraintsOf(apiVersion, resource, namespace, name): constraints adapted from that object',
    raw: true,
    handler: (apiVersion: string, resource: string, namespace: string, name: string): unknown[] =>
      celList(currentContext('constraintsOf').view.constraintsOf(groupOf(apiVersion), resource, namespace, name)),
  },
  {
    signature: 'constraintsNamed(string, string, string): list<dyn>',
    description: "constraintsNamed(group, namespace, name): constraints from objects with this name in a group ('*' any) and namespace ('*' any)",
    raw: true,
    handler: (group: string, namespace: string, name: string): unknown[] => celList(currentContext('constraintsNamed').view.constraintsNamed(group, namespace, name)),
  },
  {
    signature: 'constraintsFrom(string, string): list<dyn>',
    description: 'constraintsFrom(group, resource): every constraint adapted from that resource',
    raw: true,
    handler: (group: string, resource: string): unknown[] => celList(currentContext('constraintsFrom').view.constraintsFrom(group, resource)),
  },
  {
    signature: 'constraintsIn(string): list<dyn>',
    description: 'constraintsIn(namespace): constraints whose scope names this namespace (quotas, limit ranges, namespaced policies), not the cluster-wide ones',
    raw: true,
    handler: (namespace: string): unknown[] => celList(currentContext('constraintsIn').view.constraintsIn(namespace)),
  },
  {
    signature: 'constraintsOfType(string): list<dyn>',
    raw: true,
    handler: (type: string): unknown[] => celList(currentContext('constraintsOfType').view.constraintsOfType(type)),
  },
  {
    signature: 'applicableTo(string, string, string): list<dyn>',
    description: 'applicableTo(namespace, kind, name): constraints applying to the workload that object belongs to (a Pod or ReplicaSet resolves to its Deployment)',
    raw: true,
    handler: (namespace: string, kind: string, name: string): unknown[] => {
      const view = currentContext('applicableTo').view;
      const w = view.workloadOf(namespace, kind, name);
      return w ? celList(view.applicableToWorkload(w)) : [];
    },
  },
  {
    signature: 'applicableToPod(string, dyn): list<dyn>',
    description: 'applicableToPod(namespace, labels): constraints applying to a pod with these labels',
    raw: true,
    handler: (namespace: string, labels: unknown): unknown[] => celList(currentContext('applicableToPod').view.applicableToPod(namespace, labelsOf(fromCelValue(labels)))),
  },
  {
    signature: 'applicableToSubject(): list<dyn>',
    description: 'Constraints applying to the subject: the admitted object, or the workload a requirement looks at',
    raw: true,
    handler: (): unknown[] => {
      const { ctx, subject } = subjectTarget('applicableToSubject');
      return celList(ctx.view.applicableToTarget(subject));
    },
  },
  {
    signature: 'workloadOf(string, string, string): dyn',
    description: 'workloadOf(namespace, kind, name): the workload (Deployment, StatefulSet, ...) an object belongs to, or null',
    raw: true,
    handler: (namespace: string, kind: string, name: string): unknown => celObject(currentContext('workloadOf').view.workloadOf(namespace, kind, name)),
  },
  {
    signature: 'getObject(string, string, string, string): dyn',
    description: "getObject(apiVersion, resource, namespace, name): a stored object (any served version), or null; namespace '' for cluster-scoped",
    raw: true,
    handler: (apiVersion: string, resource: string, namespace: string, name: string): unknown =>
      celObject(currentContext('getObject').view.getObject(groupOf(apiVersion), resource, namespace, name)),
  },
  {
    signature: 'objectsOf(string, string, string): list<dyn>',
    description: "objectsOf(apiVersion, resource, namespace): stored objects; namespace '*' for all, '' for cluster-scoped",
    raw: true,
    handler: (apiVersion: string, resource: string, namespace: string): unknown[] => celList(currentContext('objectsOf').view.objectsOf(groupOf(apiVersion), resource, namespace)),
  },
  {
    signature: 'selecting(string, string, string): list<dyn>',
    description: 'selecting(apiVersion, resource, selectorPath): objects in the subject namespace whose selector selects the subject pods',
    raw: true,
    handler: (apiVersion: string, resource: string, path: string): unknown[] => {
      const { ctx, subject } = subjectTarget('selecting');
      return celList(ctx.view.selecting(groupOf(apiVersion), resource, path, subject));
    },
  },
  {
    signature: 'selecting(string, string, string, dyn): list<dyn>',
    description: "selecting(apiVersion, resource, selectorPath, {'namespaces': 'all' | [extra], 'absent': 'all', 'selectorKind': 'map', 'labels': 'own'})",
    raw: true,
    handler: (apiVersion: string, resource: string, path: string, options: unknown): unknown[] => {
      const { ctx, subject } = subjectTarget('selecting');
      return celList(ctx.view.selecting(groupOf(apiVersion), resource, path, subject, selectingOptions(fromCelValue(options))));
    },
  },
  {
    signature: 'selectingLabels(string, string, string, string, dyn): list<dyn>',
    description: "selectingLabels(apiVersion, resource, selectorPath, namespace, labels): objects in a namespace ('*' all) whose selector selects these labels",
    raw: true,
    handler: (apiVersion: string, resource: string, path: string, namespace: string, labels: unknown): unknown[] => {
      const view = currentContext('selectingLabels').view;
      const l = labelsOf(fromCelValue(labels));
      const target = view.podTarget(namespace === '*' ? '' : namespace, l);
      const opts: SelectingOptions = namespace === '*' ? { namespaces: 'all', labels: 'own' } : { labels: 'own' };
      return celList(view.selecting(groupOf(apiVersion), resource, path, target, opts));
    },
  },
  {
    signature: 'namespaceLabels(string): dyn',
    handler: (namespace: string): Record<string, string> => ({ ...currentContext('namespaceLabels').view.namespaceLabels(namespace) }),
  },
  {
    signature: 'networkDenials(): list<dyn>',
    description: "For a flow signal: [{'constraint', 'tier' (deny|restrict|unknown), 'reason', 'direction'}] for policies that select the endpoint and allow nothing matching the peer and port",
    raw: true,
    handler: (): unknown[] => {
      const ctx = currentContext('networkDenials');
      if (ctx.signal?.kind !== 'flow') throw new Error('networkDenials() works on flow signals only');
      const out: unknown[] = [];
      for (const q of questionsFor(ctx.signal, ctx.view)) {
        for (const d of explainTraffic(q, ctx.view)) out.push({ constraint: toCelValue(d.constraint), tier: d.tier, reason: d.reason, direction: q.direction });
      }
      return out;
    },
  },
  {
    signature: 'resourceOf(string, string): string',
    description: 'resourceOf(apiVersion, kind): the resource plural (known table, then conventions)',
    handler: (apiVersion: string, kind: string): string => {
      const gv = parseApiVersion(apiVersion);
      const gvr: Gvr = resolveKind({ group: gv?.group ?? '', version: gv?.version ?? 'v1', kind }).gvr;
      return gvr.resource;
    },
  },
  {
    signature: 'regexGroups(string, string): map<string, string>',
    description: "regexGroups(text, re2Pattern): the named groups of the first match ('' for groups that did not take part), or {} when nothing matches",
    handler: (text: string, pattern: string): Record<string, string> => {
      const r = regexes.get(pattern);
      if (!r.ok) throw new Error(r.error.message);
      return r.value.exec(text)?.groups ?? {};
    },
  },
  {
    signature: 'regexAll(string, string): list<map<string, string>>',
    description: 'regexAll(text, re2Pattern): the named groups of every match, in order (at most 100)',
    handler: (text: string, pattern: string): Record<string, string>[] => {
      const r = regexes.get(pattern);
      if (!r.ok) throw new Error(r.error.message);
      return r.value.findAll(text, 100).map((m) => m.groups);
    },
  },
  {
    signature: 'dedupe(list): list',
    description: 'the list without repeated elements (first occurrence kept)',
    handler: (list: unknown[]): unknown[] => {
      const seen = new Set<string>();
      return list.filter((x) => {
        const k = JSON.stringify(x);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    },
  },
  {
    signature: 'severityRank(string): int',
    description: 'Info 1, Warning 2, Critical 3, anything else 0',
    handler: (s: string): number => SEVERITY_RANK[s] ?? 0,
  },
  {
    signature: 'detailRank(string): int',
    description: 'summary 1, detailed 2, full 3, anything else 0',
    handler: (s: string): number => DETAIL_RANK[s] ?? 0,
  },
];

let env: CelEnv | undefined;

/** The environment stage rules compile against (created once). */
export function stageCelEnv(): CelEnv {
  if (!env) {
    const r = defaultCelEnv().extend({ functions: STAGE_FUNCTIONS });
    // Fixed code: a failure here is a bug in the helper signatures, not an input error.
    if (!r.ok) throw new Error(r.error.message);
    env = r.value;
  }
  return env;
}
