// What the require, correlate and notify stages may look up while a rule runs: the
// fact store, the constraint index and the workload view, behind lookups that are cheap
// enough to call once per signal. CEL helpers (env.ts) reach them through an ambient
// context, set around each synchronous evaluation: CEL calls cannot be handed extra
// arguments, and evaluation never awaits, so one slot per process is enough.
import type { Constraint, Gvr, KubeObject, ScopeTarget, Workload } from '../model.js';
import type { ConstraintIndex } from '../store/constraints.js';
import type { FactStore, SelectingOptions } from '../store/store.js';
import { OWNER_RESOURCES, objectTarget, workloadFromObject, workloadTarget, type WorkloadIndex } from '../store/workloads.js';
import { parseApiVersion } from '../gvr.js';
import { podScopeTarget, type ScopeSubject } from '../scope.js';
import type { Signal } from '../signals.js';

/** The three indices every stage reads; an Analyzer is one. */
export interface StageFacts {
  readonly store: FactStore;
  readonly constraints: ConstraintIndex;
  readonly workloads: WorkloadIndex;
}

const NAMESPACES: Gvr = { group: '', version: 'v1', resource: 'namespaces' };

export interface WorkloadRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

/** A reference to the workload, in the shape Attribution/Finding carry. */
export function refOf(w: Workload): WorkloadRef {
  return { apiVersion: w.apiVersion, kind: w.kind, name: w.name, namespace: w.namespace };
}

/**
 * Lookups over the stage facts. Indices that the shared ConstraintIndex does not keep
 * (by source name) are built lazily and dropped when any constraint changes.
 */
export class FactView {
  private byName: Map<string, Constraint[]> | undefined;
  private readonly unsubscribe: () => void;

  constructor(readonly facts: StageFacts) {
    this.unsubscribe = facts.constraints.subscribe(() => {
      this.byName = undefined;
    });
  }

  dispose(): void {
    this.unsubscribe();
  }

  constraint(id: string): Constraint | undefined {
    return this.facts.constraints.get(id);
  }

  /** Constraints adapted from one object (any version of its API). */
  constraintsOf(group: string, resource: string, namespace: string, name: string): Constraint[] {
    const key = `${group === '' ? resource : `${resource}.${group}`}/${namespace ? `${namespace}/${name}` : name}`;
    return this.facts.constraints.bySource(key);
  }

  /** Constraints whose source object has this name, in a group (`*` any) and namespace (`*` any). */
  constraintsNamed(group: string, namespace: string, name: string): Constraint[] {
    if (!this.byName) {
      const m = new Map<string, Constraint[]>();
      for (const c of this.facts.constraints.all()) {
        const list = m.get(c.source.name);
        if (list) list.push(c);
        else m.set(c.source.name, [c]);
      }
      this.byName = m;
    }
    const hits = this.byName.get(name) ?? [];
    return hits.filter((c) => (group === '*' || c.source.group === group) && (namespace === '*' || (c.source.namespace ?? '') === namespace));
  }

  constraintsFrom(group: string, resource: string): Constraint[] {
    return this.facts.constraints.bySourceGvr({ group, version: 'v1', resource });
  }

  constraintsIn(namespace: string): Constraint[] {
    return this.facts.constraints.byNamespace(namespace);
  }

  constraintsOfType(type: string): Constraint[] {
    return this.facts.constraints.byType(type);
  }

  namespaceLabels(namespace: string): Readonly<Record<string, string>> {
    return this.facts.store.namespaceLabels(namespace) ?? (namespace ? { 'kubernetes.io/metadata.name': namespace } : {});
  }

  namespaceObject(namespace: string): KubeObject | undefined {
    return namespace ? this.facts.store.get(NAMESPACES, undefined, namespace) : undefined;
  }

  /** The stored GVRs serving a group/resource, whatever their version. */
  private gvrsFor(group: string, resource: string): Gvr[] {
    return this.facts.store.gvrs().filter((g) => g.group === group && g.resource === resource);
  }

  getObject(group: string, resource: string, namespace: string, name: string): KubeObject | undefined {
    for (const g of this.gvrsFor(group, resource)) {
      const o = this.facts.store.get(g, namespace || undefined, name);
      if (o) return o;
    }
    return undefined;
  }

  /** Objects of a group/resource; namespace '*' for all, '' for cluster-scoped ones. */
  objectsOf(group: string, resource: string, namespace: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const g of this.gvrsFor(group, resource)) out.push(...this.facts.store.list(g, namespace === '*' ? undefined : namespace));
    return out;
  }

  selecting(group: string, resource: string, selectorPath: string, target: ScopeTarget, opts: SelectingOptions = {}): KubeObject[] {
    const out: KubeObject[] = [];
    for (const g of this.gvrsFor(group, resource)) out.push(...this.facts.store.selecting(g, selectorPath, target, opts));
    return out;
  }

  /**
   * The workload a Pod, ReplicaSet, Job (or the workload itself) belongs to: owner
   * references when the object is stored, else the names controllers generate (a pod
   * that no longer exists still names its ReplicaSet, which names its Deployment).
   */
  workloadOf(namespace: string, kind: string, name: string, depth = 0): Workload | undefined {
    if (!name || depth > 4) return undefined;
    const direct = this.facts.workloads.find(kind, namespace, name);
    if (direct) return direct;
    const res = OWNER_RESOURCES[kind];
    if (!res) return undefined;
    const obj = this.getObject(res.group, res.resource, namespace, name);
    if (obj) {
      const owner = obj.metadata?.ownerReferences?.find((o) => o.controller === true);
      if (owner) return this.workloadOf(namespace, owner.kind, owner.name, depth + 1);
      const w = workloadFromObject({ group: res.group, version: 'v1', resource: res.resource }, obj);
      if (w) return w;
    }
    for (const guess of generatedOwners(kind, name)) {
      const w = this.workloadOf(namespace, guess.kind, guess.name, depth + 1);
      if (w) return w;
    }
    return undefined;
  }

  /** Constraints that apply to a workload, best first by id (the index's order). */
  applicableToWorkload(w: Workload, operation?: string): Constraint[] {
    return this.facts.constraints.applicableTo(this.facts.workloads.target(w, operation)).map((a) => a.constraint);
  }

  /** Constraints that apply to a pod with these labels (it may no longer exist). */
  applicableToPod(namespace: string, labels: Record<string, string>): Constraint[] {
    return this.facts.constraints.applicableTo(this.podTarget(namespace, labels)).map((a) => a.constraint);
  }

  applicableToTarget(target: ScopeSubject): Constraint[] {
    return this.facts.constraints.applicableTo(target).map((a) => a.constraint);
  }

  podTarget(namespace: string, labels: Record<string, string>, name = ''): ScopeSubject {
    return podScopeTarget({ namespace, labels, name, namespaceLabels: this.namespaceLabels(namespace) });
  }

  workloadTarget(w: Workload, operation?: string): ScopeSubject {
    return workloadTarget(w, this.facts.store.namespaceLabels(w.namespace), operation);
  }

  objectTarget(gvr: Gvr, obj: KubeObject, operation?: string): ScopeSubject {
    const ns = obj.metadata?.namespace;
    return objectTarget(gvr, obj, ns ? this.facts.store.namespaceLabels(ns) : undefined, operation);
  }
}

/**
 * Names a controller generates for what it creates, read backwards: Deployment `web`
 * makes ReplicaSet `web-<hash>`, which makes Pod `web-<hash>-<5>`; StatefulSet pods are
 * `<name>-<ordinal>`; CronJob `backup` makes Job `backup-<minutes>`.
 */
function generatedOwners(kind: string, name: string): { kind: string; name: string }[] {
  const out: { kind: string; name: string }[] = [];
  if (kind === 'Pod') {
    const rs = /^(.+)-[a-z0-9]{5}$/.exec(name);
    if (rs) {
      out.push({ kind: 'ReplicaSet', name: rs[1] as string });
      out.push({ kind: 'DaemonSet', name: rs[1] as string });
      out.push({ kind: 'Job', name: rs[1] as string });
    }
    const sts = /^(.+)-[0-9]+$/.exec(name);
    if (sts) out.push({ kind: 'StatefulSet', name: sts[1] as string });
  } else if (kind === 'ReplicaSet') {
    const d = /^(.+)-[a-z0-9]{6,10}$/.exec(name);
    if (d) out.push({ kind: 'Deployment', name: d[1] as string });
  } else if (kind === 'Job') {
    const c = /^(.+)-[0-9]{6,}$/.exec(name);
    if (c) out.push({ kind: 'CronJob', name: c[1] as string });
  }
  return out;
}

/** `apps/v1` -> `apps`; `v1` -> ''. */
export function groupOf(apiVersion: string): string {
  return parseApiVersion(apiVersion)?.group ?? '';
}

// ---------------------------------------------------------------------------------------
// The ambient context CEL helpers read

export interface StageContext {
  view: FactView;
  /** What requirement and admission helpers select against (a workload or admitted object). */
  subject?: ScopeSubject;
  /** The workload being evaluated, when there is one. */
  workload?: Workload;
  signal?: Signal;
}

let current: StageContext | undefined;

/** Run `fn` (synchronous) with `ctx` visible to the stage CEL helpers. Re-entrant. */
export function withContext<T>(ctx: StageContext, fn: () => T): T {
  const prev = current;
  current = ctx;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** The context of the evaluation in progress; helpers called outside a stage fail clearly. */
export function currentContext(fn: string): StageContext {
  if (!current) throw new Error(`${fn}() is only available in requirement, correlation and notification rules`);
  return current;
}
