// Scope evaluation: does a constraint's Scope reach a target object, and why.
//
// Semantics follow the engines the scopes come from:
// - Gatekeeper's match (pkg/mutation/match/match.go, also the constraint framework's
//   target matcher) for namespaces / excludedNamespaces / namespaceSelector / scope;
// - Kubernetes admission (webhooks, ValidatingAdmissionPolicy bindings) agrees on the
//   namespaceSelector rules below;
// - Kyverno for match/exclude with any/all, kind wildcards and autogen.
//
// Empty lists mean "no restriction", as in Gatekeeper (`len(match.Namespaces) == 0`)
// and Kyverno; a field that is present and non-empty must hold.
import type { KindRef, LabelSelector, Scope, ScopeTarget, ScopeTerm, ScopeVerdict } from './model.js';
import { matchesSelector, selectorText } from './selector.js';

/**
 * A target that may also say which annotations its pods carry; a plain ScopeTarget
 * works everywhere (pod annotations are then taken as empty).
 */
export interface ScopeSubject extends ScopeTarget {
  podAnnotations?: Record<string, string>;
}

/** Kyverno's default autogen controllers (when `pod-policies.kyverno.io/autogen-controllers` is unset). */
export const DEFAULT_AUTOGEN_KINDS: readonly string[] = Object.freeze([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'ReplicaSet',
  'ReplicationController',
]);

/**
 * Glob match with `*` (any run, possibly empty) and `?` (one character), the wildcard
 * set Kyverno uses; Gatekeeper's prefix/suffix globs (`kube-*`, `*-system`) are a subset.
 */
export function globMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  const star = pattern.indexOf('*');
  if (star < 0 && pattern.indexOf('?') < 0) return pattern === value;
  // Fast paths for the Gatekeeper shapes, which dominate real scopes.
  if (star === pattern.length - 1 && pattern.indexOf('?') < 0) {
    return value.startsWith(pattern.slice(0, -1));
  }
  if (star === 0 && pattern.indexOf('*', 1) < 0 && pattern.indexOf('?') < 0) {
    return value.endsWith(pattern.slice(1));
  }
  // Greedy match with single-star backtracking: linear in practice, O(n*m) worst case.
  let p = 0;
  let v = 0;
  let starP = -1;
  let starV = 0;
  while (v < value.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starV = v;
    } else if (pc !== undefined && (pc === '?' || pc === value[v])) {
      p++;
      v++;
    } else if (starP >= 0) {
      p = starP + 1;
      v = ++starV;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Can some string that starts with `prefix` and continues with at least one more
 * character match `pattern`? Pods of a controller are named `<controller>-<generated>`,
 * so this is how a `names` pattern is checked against pods that do not exist yet.
 */
export function globCanMatchPrefixed(pattern: string, prefix: string): boolean {
  // NFA simulation over pattern positions; a live position short of the end means the
  // rest of the pattern can still produce a non-empty suffix.
  let states = closure(new Set([0]), pattern);
  for (const ch of prefix) {
    const next = new Set<number>();
    for (const i of states) {
      const pc = pattern[i];
      if (pc === '*') next.add(i);
      else if (pc !== undefined && (pc === '?' || pc === ch)) next.add(i + 1);
    }
    states = closure(next, pattern);
    if (states.size === 0) return false;
  }
  for (const i of states) if (i < pattern.length) return true;
  return false;
}

function closure(states: Set<number>, pattern: string): Set<number> {
  for (const i of states) {
    // Iterating a Set visits entries added during iteration, so this walks star chains.
    if (pattern[i] === '*') states.add(i + 1);
  }
  return states;
}

const isPodKind = (group: string, kind: string): boolean => group === '' && kind === 'Pod';
const isNamespaceKind = (group: string, kind: string): boolean => group === '' && kind === 'Namespace';

/**
 * What a scope is evaluated against: the target itself, or the pods a pod controller
 * creates (which share its namespace, carry the template's labels and annotations, and
 * are named `<controller>-<generated suffix>`).
 */
interface View {
  group: string;
  version: string;
  kind: string;
  resource: string | undefined;
  name: string;
  /** Pods of a controller: `name` is only the prefix of their (generated) names. */
  generatedName: boolean;
  namespace: string | undefined;
  isNamespace: boolean;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  namespaceLabels: Readonly<Record<string, string>>;
  operation: string | undefined;
  /** "labels" or "pod labels", for reasons. */
  noun: string;
}

function directView(t: ScopeTarget): View {
  const ns = t.namespace ? t.namespace : undefined;
  return {
    group: t.group,
    version: t.version,
    kind: t.kind,
    resource: t.resource,
    name: t.name,
    generatedName: false,
    namespace: ns,
    isNamespace: isNamespaceKind(t.group, t.kind),
    labels: t.labels ?? EMPTY,
    annotations: t.annotations ?? EMPTY,
    namespaceLabels: t.namespaceLabels ?? EMPTY,
    operation: t.operation,
    noun: isPodKind(t.group, t.kind) ? 'pod labels' : 'labels',
  };
}

/** What a Pod target is built from: a Pod, a pod a controller creates, or a pod seen in a flow. */
export interface PodTargetInit {
  namespace: string;
  labels: Record<string, string>;
  /** The namespace's labels, as the caller knows them (taken as given). */
  namespaceLabels: Record<string, string>;
  /** '' (the default) when unknown. */
  name?: string;
  /** Default none. */
  annotations?: Record<string, string>;
  operation?: string;
}

/**
 * The scope target a Pod is evaluated as: core/v1 Pod served as `pods`, whose pods'
 * labels are its own. The one place a Pod target is built (the stage helpers, traffic
 * evaluation, a controller's pods and the namespace report's new-Pod probe all use it).
 */
export function podScopeTarget(p: PodTargetInit): ScopeSubject {
  const t: ScopeSubject = {
    group: '',
    version: 'v1',
    kind: 'Pod',
    resource: 'pods',
    name: p.name ?? '',
    namespace: p.namespace,
    labels: p.labels,
    annotations: p.annotations ?? {},
    namespaceLabels: p.namespaceLabels,
    podLabels: p.labels,
  };
  if (p.operation !== undefined) t.operation = p.operation;
  return t;
}

/** Undefined when the target creates no pods (no podLabels) or is itself a Pod. */
function podsView(t: ScopeSubject): View | undefined {
  if (t.podLabels === undefined || isPodKind(t.group, t.kind)) return undefined;
  const init: PodTargetInit = {
    // Pods of a controller are named `<controller>-<generated>`: `name` is their prefix.
    name: t.name + '-',
    namespace: t.namespace ?? '',
    labels: t.podLabels,
    namespaceLabels: t.namespaceLabels ?? EMPTY,
    annotations: t.podAnnotations ?? EMPTY,
  };
  // Creating or updating a controller is what makes it create pods; other operations
  // (DELETE, CONNECT) reach its pods as themselves.
  const op = podOperation(t.operation);
  if (op !== undefined) init.operation = op;
  const v = directView(podScopeTarget(init));
  v.generatedName = true;
  return v;
}

function podOperation(op: string | undefined): string | undefined {
  if (op === undefined) return undefined;
  const u = op.toUpperCase();
  return u === 'UPDATE' ? 'CREATE' : u;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

/** Reasons sink: null when only the boolean matters (the hot path builds no strings). */
type Out = string[] | null;

const nonEmpty = <T>(xs: readonly T[] | undefined): readonly T[] | undefined => (xs && xs.length > 0 ? xs : undefined);

export function formatKindRef(k: KindRef): string {
  return `${k.group === '' ? 'core' : k.group}/${k.version ?? '*'}/${k.kind}`;
}

function formatGvk(v: { group: string; version: string; kind: string }): string {
  return `${v.group === '' ? '' : v.group + '/'}${v.version} ${v.kind}`;
}

const list = (xs: readonly string[]): string => `[${xs.join(', ')}]`;

function kindRefMatches(k: KindRef, group: string, version: string, kind: string, resource?: string): boolean {
  if (!globMatch(k.group, group) || (k.version !== undefined && !globMatch(k.version, version))) return false;
  // A kind guessed from a resource name may be cased wrong (flowschemas -> Flowschema):
  // the resource decides when both sides know it.
  if (k.resource !== undefined && resource !== undefined) return globMatch(k.resource, resource);
  return globMatch(k.kind, kind);
}

/** The labels a selector talks about, as `k=v`, so reasons stay short on heavily labelled objects. */
function relevantLabels(selector: LabelSelector, labels: Readonly<Record<string, string>>): string {
  const keys = new Set<string>([
    ...Object.keys(selector.matchLabels ?? {}),
    ...(selector.matchExpressions ?? []).map((e) => e.key),
  ]);
  const parts: string[] = [];
  for (const k of keys) if (Object.prototype.hasOwnProperty.call(labels, k)) parts.push(`${k}=${labels[k]}`);
  return parts.length ? parts.join(',') : `(no ${[...keys].join(', ')})`;
}

function annotationsMatch(want: Record<string, string>, have: Readonly<Record<string, string>>): string | undefined {
  for (const [kp, vp] of Object.entries(want)) {
    if (kp.includes('*') || kp.includes('?')) {
      let found = false;
      for (const [k, v] of Object.entries(have)) {
        if (globMatch(kp, k) && globMatch(vp, v)) {
          found = true;
          break;
        }
      }
      if (!found) return `${kp}: ${vp}`;
    } else {
      const v = Object.prototype.hasOwnProperty.call(have, kp) ? have[kp] : undefined;
      if (v === undefined || !globMatch(vp, v)) return `${kp}: ${vp}`;
    }
  }
  return undefined;
}

/**
 * One conjunctive term against one view. Order of checks follows Gatekeeper's
 * topLevelMatchers so the first failure reported is the one its users expect.
 */
function evalTerm(term: ScopeTerm, v: View, out: Out, pre: string): boolean {
  // Reason fragments are only built when someone reads them.
  const what = out ? `${v.kind} ${v.namespace ? v.namespace + '/' : ''}${v.name}${v.generatedName ? '*' : ''}` : '';

  const kinds = nonEmpty(term.kinds);
  if (kinds) {
    const hit = kinds.find((k) => kindRefMatches(k, v.group, v.version, v.kind, v.resource));
    if (!hit) {
      out?.push(`${pre}kind ${formatGvk(v)} is not in kinds ${list(kinds.map(formatKindRef))}`);
      return false;
    }
    out?.push(`${pre}kind ${formatGvk(v)} matches kinds ${list(kinds.map(formatKindRef))}`);
  }

  if (term.scope === 'Cluster' || term.scope === 'Namespaced') {
    // Gatekeeper's scopeMatch: a Namespace object counts as cluster-scoped.
    const cluster = v.isNamespace || v.namespace === undefined;
    const ok = term.scope === 'Cluster' ? cluster : !cluster;
    const word = cluster ? 'cluster-scoped' : 'namespaced';
    if (!ok) {
      out?.push(`${pre}${what} is ${word}, scope is ${term.scope}`);
      return false;
    }
    out?.push(`${pre}${what} is ${word}, matching scope ${term.scope}`);
  }

  // Gatekeeper (namespacesMatch / excludedNamespacesMatch / namespaceSelectorMatch):
  // a Namespace is judged by its own name and labels; any other cluster-scoped object
  // is never disqualified by namespace criteria ("if we don't have a namespace, we
  // can't disqualify the match"). Kubernetes admission webhooks and VAP bindings treat
  // namespaceSelector the same way for cluster-scoped objects.
  const nsName = v.isNamespace ? v.name : v.namespace;
  const nsWord = !out ? '' : v.isNamespace ? `Namespace ${v.name}` : `namespace ${v.namespace}`;

  const namespaces = nonEmpty(term.namespaces);
  if (namespaces) {
    if (nsName === undefined) {
      out?.push(`${pre}cluster-scoped ${v.kind} ${v.name} is not restricted by namespaces ${list(namespaces)}`);
    } else if (namespaces.some((p) => globMatch(p, nsName))) {
      out?.push(`${pre}${nsWord} matches namespaces ${list(namespaces)}`);
    } else {
      out?.push(`${pre}${nsWord} is not in namespaces ${list(namespaces)}`);
      return false;
    }
  }

  const excluded = nonEmpty(term.excludedNamespaces);
  if (excluded) {
    if (nsName === undefined) {
      out?.push(`${pre}cluster-scoped ${v.kind} ${v.name} is not restricted by excludedNamespaces ${list(excluded)}`);
    } else if (excluded.some((p) => globMatch(p, nsName))) {
      out?.push(`${pre}excluded: ${nsWord} is in excludedNamespaces ${list(excluded)}`);
      return false;
    } else {
      out?.push(`${pre}${nsWord} is not in excludedNamespaces ${list(excluded)}`);
    }
  }

  if (term.selector !== undefined && term.selector !== null) {
    if (!matchesSelector(term.selector, v.labels, 'all')) {
      out?.push(`${pre}${v.noun} ${relevantLabels(term.selector, v.labels)} do not match selector ${selectorText(term.selector)}`);
      return false;
    }
    out?.push(`${pre}${v.noun} ${relevantLabels(term.selector, v.labels)} match selector ${selectorText(term.selector)}`);
  }

  if (term.namespaceSelector !== undefined && term.namespaceSelector !== null) {
    const sel = term.namespaceSelector;
    if (nsName === undefined) {
      out?.push(`${pre}cluster-scoped ${v.kind} ${v.name} is not restricted by namespaceSelector ${selectorText(sel)}`);
    } else {
      const nsLabels = v.isNamespace ? v.labels : v.namespaceLabels;
      if (!matchesSelector(sel, nsLabels, 'all')) {
        out?.push(`${pre}${nsWord} does not match namespaceSelector ${selectorText(sel)}`);
        return false;
      }
      out?.push(`${pre}${nsWord} matches namespaceSelector ${selectorText(sel)}`);
    }
  }

  const names = nonEmpty(term.names);
  if (names) {
    if (v.generatedName) {
      if (!names.some((p) => globCanMatchPrefixed(p, v.name))) {
        out?.push(`${pre}pod names ${v.name}* cannot match names ${list(names)}`);
        return false;
      }
      out?.push(`${pre}pod names ${v.name}* can match names ${list(names)}`);
    } else if (!names.some((p) => globMatch(p, v.name))) {
      out?.push(`${pre}name ${v.name} is not in names ${list(names)}`);
      return false;
    } else {
      out?.push(`${pre}name ${v.name} matches names ${list(names)}`);
    }
  }

  if (term.annotations && Object.keys(term.annotations).length > 0) {
    const miss = annotationsMatch(term.annotations, v.annotations);
    const noun = v.generatedName ? 'pod annotations' : 'annotations';
    if (miss !== undefined) {
      out?.push(`${pre}${noun} do not match ${miss}`);
      return false;
    }
    out?.push(`${pre}${noun} match ${Object.entries(term.annotations).map(([k, x]) => `${k}: ${x}`).join(', ')}`);
  }

  const ops = nonEmpty(term.operations);
  if (ops) {
    if (v.operation === undefined) {
      out?.push(`${pre}any operation: operations ${list(ops)} not checked`);
    } else {
      const op = v.operation.toUpperCase();
      if (!ops.some((o) => o === '*' || o.toUpperCase() === op)) {
        out?.push(`${pre}operation ${op} is not in operations ${list(ops)}`);
        return false;
      }
      out?.push(`${pre}operation ${op} matches operations ${list(ops)}`);
    }
  }
  return true;
}

/** An any[]/all[] entry that carries its own any/all/exclude is a nested scope. */
function isNestedScope(t: ScopeTerm): t is Scope {
  const s = t as Scope;
  return s.any !== undefined || s.all !== undefined || s.exclude !== undefined;
}

/**
 * Entries of any[] and all[] are usually plain terms; an entry may also be a whole
 * scope (its own any/all/exclude), so an intersection of two disjunctions, e.g. an
 * admission policy's rules AND its binding's rules, is written `all: [scopeA, scopeB]`.
 */
function evalEntry(t: ScopeTerm, v: View, out: Out, pre: string): boolean {
  return isNestedScope(t) ? evalScopeOnView(t, v, out, pre) : evalTerm(t, v, out, pre);
}

function evalScopeOnView(scope: Scope, v: View, out: Out, pre: string): boolean {
  const mark = out ? out.length : 0;
  if (!evalTerm(scope, v, out, pre)) return false;

  const any = nonEmpty(scope.any);
  if (any) {
    const failed: string[] = [];
    let hit = -1;
    for (let i = 0; i < any.length; i++) {
      const local: Out = out ? [] : null;
      if (evalEntry(any[i] as ScopeTerm, v, local, `${pre}any[${i}]: `)) {
        hit = i;
        if (out && local) out.push(...local);
        break;
      }
      if (local) failed.push(...local.slice(-1));
    }
    if (hit < 0) {
      out?.push(`${pre}no any[] term matches`, ...failed);
      return false;
    }
  }

  const all = nonEmpty(scope.all);
  if (all) {
    for (let i = 0; i < all.length; i++) {
      if (!evalEntry(all[i] as ScopeTerm, v, out, `${pre}all[${i}]: `)) return false;
    }
  }

  const exclude = nonEmpty(scope.exclude);
  if (exclude) {
    for (let i = 0; i < exclude.length; i++) {
      const local: Out = out ? [] : null;
      if (evalScopeOnView(exclude[i] as Scope, v, local, '')) {
        out?.push(`${pre}excluded by exclude[${i}]: ${(local ?? []).join('; ')}`);
        return false;
      }
    }
  }

  if (out && out.length === mark) out.push(`${pre}scope has no restrictions: matches every object`);
  return true;
}

function autogenNote(scope: Scope, t: ScopeTarget): string {
  const kinds = scope.autogen ?? DEFAULT_AUTOGEN_KINDS;
  return kinds.includes(t.kind)
    ? `autogen includes ${t.kind}: the ${t.kind} itself is checked too`
    : `autogen does not include ${t.kind}: only the pods it creates are checked`;
}

/** Does any term of the scope (top, any, all) explicitly target Pods? Only then does autogen apply. */
function targetsPodsExplicitly(scope: Scope): boolean {
  const own = (term: ScopeTerm): boolean => (term.kinds ?? []).some((k) => kindRefMatches(k, '', 'v1', 'Pod', 'pods'));
  const entry = (term: ScopeTerm): boolean => (isNestedScope(term) ? targetsPodsExplicitly(term) : own(term));
  return own(scope) || (scope.any ?? []).some(entry) || (scope.all ?? []).some(entry);
}

/**
 * Does `scope` reach `target`, and why. A target that creates pods (it has podLabels)
 * is reached either directly, as itself, or through its pods: a constraint on Pods
 * affects a Deployment because it affects every pod the Deployment creates. `autogen`
 * only says whether the controller object itself is also matched directly (Kyverno
 * autogen); it is recorded in the reasons and does not change the verdict.
 */
export function evaluateScope(scope: Scope, target: ScopeSubject): ScopeVerdict {
  const direct: string[] = [];
  if (evalScopeOnView(scope, directView(target), direct, '')) return { applies: true, reasons: direct };
  const pv = podsView(target);
  if (pv) {
    const viaPods: string[] = [];
    if (evalScopeOnView(scope, pv, viaPods, '')) {
      const reasons = [`applies to the pods it creates (Pod ${pv.namespace ? pv.namespace + '/' : ''}${pv.name}*)`];
      if (targetsPodsExplicitly(scope)) reasons.push(autogenNote(scope, target));
      return { applies: true, reasons: reasons.concat(viaPods) };
    }
    return { applies: false, reasons: direct.concat(viaPods.map((r) => `its pods: ${r}`)) };
  }
  return { applies: false, reasons: direct };
}

/** The verdict without reasons: same semantics as {@link evaluateScope}, no strings built. */
export function scopeApplies(scope: Scope, target: ScopeSubject): boolean {
  return scopeAppliesPrepared(scope, prepareTarget(target));
}

/** A target's views, built once to check it against many scopes. */
export interface PreparedTarget {
  readonly direct: unknown;
  readonly pods: unknown;
}

interface Prepared extends PreparedTarget {
  readonly direct: View;
  readonly pods: View | undefined;
}

export function prepareTarget(target: ScopeSubject): PreparedTarget {
  const p: Prepared = { direct: directView(target), pods: podsView(target) };
  return p;
}

/** {@link scopeApplies} for a target prepared once with {@link prepareTarget}. */
export function scopeAppliesPrepared(scope: Scope, prepared: PreparedTarget): boolean {
  const p = prepared as Prepared;
  if (evalScopeOnView(scope, p.direct, null, '')) return true;
  return p.pods !== undefined && evalScopeOnView(scope, p.pods, null, '');
}

/**
 * Can the scope reach anything in `namespace` other than the Namespace object itself?
 * Only the top-level term's namespace criteria are checked: that term is ANDed with
 * everything else, so when it rejects the namespace no object in it can match. The
 * constraint index uses this to decide once per namespace, not once per workload.
 */
export function namespaceGate(scope: Scope, namespace: string, namespaceLabels: Readonly<Record<string, string>>): boolean {
  const namespaces = nonEmpty(scope.namespaces);
  if (namespaces && !namespaces.some((p) => globMatch(p, namespace))) return false;
  const excluded = nonEmpty(scope.excludedNamespaces);
  if (excluded && excluded.some((p) => globMatch(p, namespace))) return false;
  const sel = scope.namespaceSelector;
  if (sel !== undefined && sel !== null && !matchesSelector(sel, namespaceLabels, 'all')) return false;
  return true;
}

/**
 * The namespaces a scope can possibly reach for namespaced targets, or 'all' when it
 * is not limited to a literal list. Sound over-approximation for indexing: if the scope
 * applies to a namespaced target in namespace N, then N is in the result (or 'all').
 * Only literal `namespaces` narrow it: wildcards, excludedNamespaces and
 * namespaceSelector are left to exact evaluation.
 */
export function candidateNamespaces(scope: Scope): ReadonlySet<string> | 'all' {
  const termSet = (term: ScopeTerm, top = false): Set<string> | 'all' => {
    if (!top && isNestedScope(term)) {
      const nested = candidateNamespaces(term);
      return nested === 'all' ? 'all' : new Set(nested);
    }
    const ns = nonEmpty(term.namespaces);
    if (!ns || ns.some((p) => p.includes('*') || p.includes('?'))) return 'all';
    return new Set(ns);
  };
  const intersect = (a: Set<string> | 'all', b: Set<string> | 'all'): Set<string> | 'all' => {
    if (a === 'all') return b;
    if (b === 'all') return a;
    return new Set([...a].filter((x) => b.has(x)));
  };
  let acc = termSet(scope, true);
  const any = nonEmpty(scope.any);
  if (any) {
    let union: Set<string> | 'all' = new Set();
    for (const t of any) {
      const s = termSet(t);
      if (s === 'all') {
        union = 'all';
        break;
      }
      for (const x of s) union.add(x);
    }
    acc = intersect(acc, union);
  }
  for (const t of nonEmpty(scope.all) ?? []) acc = intersect(acc, termSet(t));
  return acc;
}
