// The constraint index: every Constraint adapters emitted, with the lookups the stages
// need. The hot query is "which constraints apply to this workload", asked for every
// workload on every relevant change; namespace buckets keep it to the handful of
// constraints that can possibly reach the workload's namespace plus the cluster-wide
// ones, and exact scope evaluation decides among those.
import type { Constraint, ConstraintType, Scope, ScopeTarget, ScopeVerdict, SourceRef } from '../model.js';
import { namespacedKey, toGvr, type GvrLike } from '../gvr.js';
import { candidateNamespaces, evaluateScope, namespaceGate, prepareTarget, scopeAppliesPrepared, type ScopeSubject } from '../scope.js';

/**
 * `<resource>[.<group>]/<namespace>/<name>` (or `/<name>` when cluster-scoped), e.g.
 * `networkpolicies.networking.k8s.io/payments/deny-all` or `resourcequotas/team-a/q1`:
 * kubectl's resource.group notation, version left out because one object served at two
 * versions is still one source.
 */
export function sourceKey(source: Pick<SourceRef, 'group' | 'resource' | 'namespace' | 'name'>): string {
  return `${groupResource(source.group, source.resource)}/${namespacedKey(source.namespace, source.name)}`;
}

export interface Applicable {
  constraint: Constraint;
  /**
   * `reasons` is a getter computed on first read: read it (or JSON.stringify the
   * verdict) rather than spreading it, since a spread copies only `applies`.
   */
  verdict: ScopeVerdict;
}

export interface ApplicableOptions {
  /** Also return the candidates that do not apply, with the reason (for "why not"). */
  includeNotApplying?: boolean;
}

export interface ReplaceSourceResult {
  added: string[];
  updated: string[];
  removed: string[];
}

export type ConstraintChange =
  | { type: 'ADDED'; constraint: Constraint }
  | { type: 'MODIFIED'; constraint: Constraint; old: Constraint }
  | { type: 'DELETED'; constraint: Constraint };

export type ConstraintListener = (change: ConstraintChange) => void;

interface Entry {
  constraint: Constraint;
  sourceKey: string;
  sourceGvr: string;
  /** Namespace buckets it sits in, or null for the cluster-wide bucket. */
  namespaces: readonly string[] | null;
}

function addTo<K, V>(m: Map<K, Map<string, V>>, k: K, id: string, v: V): void {
  let inner = m.get(k);
  if (!inner) m.set(k, (inner = new Map()));
  inner.set(id, v);
}

function removeFrom<K, V>(m: Map<K, Map<string, V>>, k: K, id: string): void {
  const inner = m.get(k);
  if (!inner) return;
  inner.delete(id);
  if (inner.size === 0) m.delete(k);
}

const byId = (a: Applicable, b: Applicable): number => (a.constraint.id < b.constraint.id ? -1 : a.constraint.id > b.constraint.id ? 1 : 0);

export class ConstraintIndex {
  private readonly entries = new Map<string, Entry>();
  private readonly nsIdx = new Map<string, Map<string, Constraint>>();
  /** Constraints whose scope is not limited to a literal namespace list. */
  private readonly clusterWide = new Map<string, Constraint>();
  /** Bumped whenever the cluster-wide set changes, to invalidate `gated`. */
  private clusterWideVersion = 0;
  /**
   * Per namespace: the cluster-wide constraints whose namespace criteria admit it. Keyed
   * on the namespace's labels object, which the fact store keeps until the Namespace
   * changes, so a relabelled namespace is recomputed.
   */
  private readonly gated = new Map<string, { labels: Readonly<Record<string, string>>; version: number; list: Constraint[] }>();
  private readonly byTypeIdx = new Map<string, Map<string, Constraint>>();
  private readonly byGvrIdx = new Map<string, Map<string, Constraint>>();
  private readonly bySourceIdx = new Map<string, Map<string, Constraint>>();
  private readonly listeners: ConstraintListener[] = [];

  subscribe(listener: ConstraintListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): Constraint | undefined {
    return this.entries.get(id)?.constraint;
  }

  all(): Constraint[] {
    return [...this.entries.values()].map((e) => e.constraint);
  }

  /** Add or replace one constraint by id. */
  upsert(c: Constraint): void {
    const old = this.entries.get(c.id);
    if (old) this.unindex(old);
    this.index(c);
    this.emit(old ? { type: 'MODIFIED', constraint: c, old: old.constraint } : { type: 'ADDED', constraint: c });
  }

  remove(id: string): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    this.unindex(e);
    this.emit({ type: 'DELETED', constraint: e.constraint });
    return true;
  }

  /**
   * Make `constraints` exactly what the source object contributes: re-adapting an
   * object replaces its constraints, dropping the ones it no longer yields. Constraints
   * whose own source differs from `key` are still filed under `key`, since that is the
   * object whose adaptation produced them.
   */
  replaceForSource(key: string, constraints: readonly Constraint[]): ReplaceSourceResult {
    const result: ReplaceSourceResult = { added: [], updated: [], removed: [] };
    // Later duplicates of an id win, as in a Map built from the list.
    const next = constraints.length > 1 ? [...new Map(constraints.map((c) => [c.id, c])).values()] : constraints;
    const current = this.bySourceIdx.get(key);
    if (current) {
      const ids = new Set(next.map((c) => c.id));
      for (const id of [...current.keys()]) {
        if (!ids.has(id) && this.remove(id)) result.removed.push(id);
      }
    }
    for (const c of next) {
      const old = this.entries.get(c.id);
      if (old) this.unindex(old);
      this.index(c, key);
      if (old) {
        result.updated.push(c.id);
        this.emit({ type: 'MODIFIED', constraint: c, old: old.constraint });
      } else {
        result.added.push(c.id);
        this.emit({ type: 'ADDED', constraint: c });
      }
    }
    return result;
  }

  /** The keys constraints are filed under (see {@link replaceForSource}). */
  sourceKeys(): string[] {
    return [...this.bySourceIdx.keys()];
  }

  removeSource(key: string): string[] {
    return this.replaceForSource(key, []).removed;
  }

  byType(type: ConstraintType): Constraint[] {
    return [...(this.byTypeIdx.get(type)?.values() ?? [])];
  }

  /** Constraints adapted from objects of this GVR (any version: versions serve the same objects). */
  bySourceGvr(gvr: GvrLike): Constraint[] {
    const g = toGvr(gvr);
    if (!g) return [];
    return [...(this.byGvrIdx.get(groupResource(g.group, g.resource))?.values() ?? [])];
  }

  bySource(key: string): Constraint[] {
    return [...(this.bySourceIdx.get(key)?.values() ?? [])];
  }

  /** Constraints whose scope names this namespace literally (not the cluster-wide ones). */
  byNamespace(namespace: string): Constraint[] {
    return [...(this.nsIdx.get(namespace)?.values() ?? [])];
  }

  /** Constraints that must be checked against every namespace. */
  clusterWideConstraints(): Constraint[] {
    return [...this.clusterWide.values()];
  }

  /**
   * The constraints whose scope reaches `target`, each with the reasons, sorted by id.
   * Reasons are built on first read (from `target` as passed: do not mutate it while
   * holding the result); building them costs ~10x the verdict and most callers read
   * them for a few results only.
   * Namespaced targets look only at their namespace's bucket and the cluster-wide one;
   * cluster-scoped targets (Namespaces, ClusterRoles...) scan everything, because
   * namespace criteria do not exclude them (see engine/scope.ts).
   */
  applicableTo(target: ScopeSubject, options: ApplicableOptions = {}): Applicable[] {
    const out: Applicable[] = [];
    const all = options.includeNotApplying === true;
    const prepared = prepareTarget(target);
    const visit = (c: Constraint): void => {
      const applies = scopeAppliesPrepared(c.scope, prepared);
      if (applies || all) out.push({ constraint: c, verdict: new LazyVerdict(applies, c.scope, target) });
    };
    if (target.namespace) {
      const bucket = this.nsIdx.get(target.namespace);
      if (bucket) for (const c of bucket.values()) visit(c);
      const cluster = options.includeNotApplying ? this.clusterWide.values() : this.gatedFor(target.namespace, target.namespaceLabels);
      for (const c of cluster) visit(c);
    } else {
      for (const e of this.entries.values()) visit(e.constraint);
    }
    if (out.length > 1) out.sort(byId);
    return out;
  }

  private gatedFor(namespace: string, labels: Readonly<Record<string, string>>): Constraint[] {
    const hit = this.gated.get(namespace);
    if (hit && hit.labels === labels && hit.version === this.clusterWideVersion) return hit.list;
    const list: Constraint[] = [];
    for (const c of this.clusterWide.values()) if (namespaceGate(c.scope, namespace, labels)) list.push(c);
    this.gated.set(namespace, { labels, version: this.clusterWideVersion, list });
    return list;
  }

  /** Why one constraint does or does not apply to a target. */
  explain(id: string, target: ScopeTarget): ScopeVerdict | undefined {
    const c = this.get(id);
    return c ? evaluateScope(c.scope, target) : undefined;
  }

  private index(c: Constraint, source?: string): void {
    const src = source ?? sourceKey(c.source);
    const gvr = groupResource(c.source.group, c.source.resource);
    const cand = candidateNamespaces(c.scope);
    const namespaces = cand === 'all' ? null : [...cand];
    const e: Entry = { constraint: c, sourceKey: src, sourceGvr: gvr, namespaces };
    this.entries.set(c.id, e);
    if (namespaces === null) {
      this.clusterWide.set(c.id, c);
      this.clusterWideVersion++;
    }
    else for (const ns of namespaces) addTo(this.nsIdx, ns, c.id, c);
    addTo(this.byTypeIdx, c.type, c.id, c);
    addTo(this.byGvrIdx, gvr, c.id, c);
    addTo(this.bySourceIdx, src, c.id, c);
  }

  private unindex(e: Entry): void {
    const id = e.constraint.id;
    this.entries.delete(id);
    if (e.namespaces === null) {
      this.clusterWide.delete(id);
      this.clusterWideVersion++;
    }
    else for (const ns of e.namespaces) removeFrom(this.nsIdx, ns, id);
    removeFrom(this.byTypeIdx, e.constraint.type, id);
    removeFrom(this.byGvrIdx, e.sourceGvr, id);
    removeFrom(this.bySourceIdx, e.sourceKey, id);
  }

  private emit(ch: ConstraintChange): void {
    if (this.listeners.length === 0) return;
    for (const l of [...this.listeners]) l(ch);
  }
}

/**
 * A verdict whose reasons are computed on first read. A class, not an object literal
 * with accessors: V8 builds those in a slow dictionary mode, which showed up in the
 * hot query's profile.
 */
class LazyVerdict implements ScopeVerdict {
  readonly applies: boolean;
  // Native private fields: invisible to Object.keys, spreads and test equality.
  #cached: string[] | undefined;
  readonly #scope: Scope;
  readonly #target: ScopeSubject;
  constructor(applies: boolean, scope: Scope, target: ScopeSubject) {
    this.applies = applies;
    this.#scope = scope;
    this.#target = target;
  }
  get reasons(): string[] {
    return (this.#cached ??= evaluateScope(this.#scope, this.#target).reasons);
  }
  set reasons(r: string[]) {
    this.#cached = r;
  }
  toJSON(): ScopeVerdict {
    return { applies: this.applies, reasons: this.reasons };
  }
}

function groupResource(group: string, resource: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}
