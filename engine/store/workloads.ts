// The pod-controller view: one Workload per thing a developer deploys, whatever kind it
// is, described by the pods it creates. Constraints mostly bite on pods, so this is the
// unit Potoo explains things for.
import type { Gvr, KubeObject, ScopeTarget, Workload, WorkloadContainer, WorkloadPort } from '../model.js';
import { parseApiVersion } from '../gvr.js';
import type { ScopeSubject } from '../scope.js';
import { rec } from '../json.js';
import { jsonEqual, setOwn, valueAt } from './normalize.js';
import type { ChangeEvent, ChangeType, FactStore } from './store.js';

interface WorkloadKind {
  group: string;
  resource: string;
  kind: string;
  /** Path from the object to its pod template (empty for a bare Pod). */
  template: readonly string[];
}

const WORKLOAD_KINDS: readonly WorkloadKind[] = [
  { group: 'apps', resource: 'deployments', kind: 'Deployment', template: ['spec', 'template'] },
  { group: 'apps', resource: 'statefulsets', kind: 'StatefulSet', template: ['spec', 'template'] },
  { group: 'apps', resource: 'daemonsets', kind: 'DaemonSet', template: ['spec', 'template'] },
  { group: 'apps', resource: 'replicasets', kind: 'ReplicaSet', template: ['spec', 'template'] },
  { group: 'batch', resource: 'jobs', kind: 'Job', template: ['spec', 'template'] },
  { group: 'batch', resource: 'cronjobs', kind: 'CronJob', template: ['spec', 'jobTemplate', 'spec', 'template'] },
  { group: '', resource: 'replicationcontrollers', kind: 'ReplicationController', template: ['spec', 'template'] },
  { group: '', resource: 'pods', kind: 'Pod', template: [] },
];

/** GVRs (at their current versions) the workload view reads. Any served version is accepted. */
export const WORKLOAD_GVRS: readonly Gvr[] = WORKLOAD_KINDS.map((k) => ({
  group: k.group,
  version: 'v1',
  resource: k.resource,
}));

/**
 * Group and resource of each workload kind, keyed by kind: the pod-controller owners
 * followed from a Pod, ReplicaSet or Job to the workload a developer deployed.
 */
export const OWNER_RESOURCES: Readonly<Record<string, { readonly group: string; readonly resource: string }>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, { group: string; resource: string }>, Object.fromEntries(WORKLOAD_KINDS.map((k) => [k.kind, { group: k.group, resource: k.resource }]))),
);

const BY_RESOURCE = new Map(WORKLOAD_KINDS.map((k) => [`${k.group}|${k.resource}`, k]));

/** Is this GVR one the workload view reads (any version)? */
export function isWorkloadGvr(gvr: Gvr): boolean {
  return BY_RESOURCE.has(`${gvr.group}|${gvr.resource}`);
}

/**
 * Built-in controllers whose pods (or child ReplicaSets/Jobs) are already represented by
 * the controller's own workload. A Pod controlled by anything else (an operator's
 * custom resource, a Node for static mirror pods) stays visible as a bare Pod, since
 * nothing else in the view would show it.
 */
const POD_OWNERS = new Set(['apps|ReplicaSet', 'apps|StatefulSet', 'apps|DaemonSet', 'batch|Job', '|ReplicationController']);

type OwnerRef = NonNullable<NonNullable<KubeObject['metadata']>['ownerReferences']>[number];

function controllerOf(obj: KubeObject): OwnerRef | undefined {
  return obj.metadata?.ownerReferences?.find((o) => o.controller === true);
}

function ownerIs(ref: OwnerRef | undefined, group: string, kind: string): boolean {
  if (!ref || ref.kind !== kind) return false;
  return (parseApiVersion(ref.apiVersion)?.group ?? '') === group;
}

function stringMap(v: unknown): Record<string, string> {
  const r = rec(v);
  if (!r) return {};
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(r)) if (typeof x === 'string') setOwn(out, k, x);
  return out;
}

/** Resource quantities may be YAML numbers (`cpu: 1`); the model keeps them as strings. */
function quantityMap(v: unknown): Record<string, string> | undefined {
  const r = rec(v);
  if (!r) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(r)) {
    if (typeof x === 'string') setOwn(out, k, x);
    else if (typeof x === 'number') setOwn(out, k, String(x));
  }
  return out;
}

function containersOf(podSpec: Record<string, unknown> | undefined): { containers: WorkloadContainer[]; ports: WorkloadPort[] } {
  const containers: WorkloadContainer[] = [];
  const ports: WorkloadPort[] = [];
  // Init containers first, as the kubelet runs them; native sidecars (restartPolicy
  // Always) are init containers that can serve ports, so their ports count too.
  for (const [field, init] of [
    ['initContainers', true],
    ['containers', false],
  ] as const) {
    const list = podSpec?.[field];
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      const c = rec(raw);
      if (!c) continue;
      const name = typeof c.name === 'string' ? c.name : '';
      const container: WorkloadContainer = { name, image: typeof c.image === 'string' ? c.image : '', init };
      const res = rec(c.resources);
      if (res) {
        const requests = quantityMap(res.requests);
        const limits = quantityMap(res.limits);
        container.resources = {};
        if (requests) container.resources.requests = requests;
        if (limits) container.resources.limits = limits;
      }
      containers.push(container);
      if (Array.isArray(c.ports)) {
        for (const pr of c.ports) {
          const p = rec(pr);
          if (!p || typeof p.containerPort !== 'number') continue;
          const port: WorkloadPort = {
            container: name,
            containerPort: p.containerPort,
            protocol: typeof p.protocol === 'string' && p.protocol !== '' ? p.protocol : 'TCP',
          };
          if (typeof p.name === 'string' && p.name !== '') port.name = p.name;
          ports.push(port);
        }
      }
    }
  }
  return { containers, ports };
}

/** apps/v1 defaults replicas to 1 when unset; Jobs run `parallelism` pods (default 1). */
function replicasOf(kind: string, obj: KubeObject): number | undefined {
  const spec = rec(obj.spec);
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  switch (kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'ReplicaSet':
    case 'ReplicationController':
      return num(spec?.replicas) ?? 1;
    case 'Job':
      return num(spec?.parallelism) ?? 1;
    case 'CronJob':
      return num(valueAt(spec, ['jobTemplate', 'spec', 'parallelism'])) ?? 1;
    case 'Pod':
      return 1;
    default:
      // DaemonSet: one pod per eligible node, not a number the object states.
      return undefined;
  }
}

/** The pod template of a workload object (the object itself for a bare Pod). */
function podTemplate(wk: WorkloadKind, obj: KubeObject): Record<string, unknown> | undefined {
  return wk.template.length ? rec(valueAt(obj, wk.template)) : (obj as Record<string, unknown>);
}

/**
 * The workload an object represents, or undefined when it is not a workload kind or
 * is already represented by its controller (a Deployment's ReplicaSet, a CronJob's
 * Job, a controller's Pod).
 */
export function workloadFromObject(gvr: Gvr, obj: KubeObject): Workload | undefined {
  const wk = BY_RESOURCE.get(`${gvr.group}|${gvr.resource}`);
  if (!wk) return undefined;
  const ctrl = controllerOf(obj);
  if (wk.kind === 'ReplicaSet' && ownerIs(ctrl, 'apps', 'Deployment')) return undefined;
  if (wk.kind === 'Job' && ownerIs(ctrl, 'batch', 'CronJob')) return undefined;
  if (wk.kind === 'Pod' && ctrl) {
    const g = parseApiVersion(ctrl.apiVersion)?.group ?? '';
    if (POD_OWNERS.has(`${g}|${ctrl.kind}`)) return undefined;
  }
  const meta = obj.metadata ?? {};
  const template = podTemplate(wk, obj);
  const podMeta = rec(template?.metadata);
  const podSpec = rec(template?.spec);
  const { containers, ports } = containersOf(podSpec);
  const w: Workload = {
    apiVersion: typeof obj.apiVersion === 'string' ? obj.apiVersion : '',
    kind: wk.kind,
    group: wk.group,
    name: meta.name ?? '',
    // kubectl's default for an object that names none; loaders normally set it already.
    namespace: meta.namespace || 'default',
    labels: stringMap(meta.labels),
    annotations: stringMap(meta.annotations),
    podLabels: stringMap(podMeta?.labels),
    podAnnotations: stringMap(podMeta?.annotations),
    containers,
    ports,
  };
  if (meta.uid) w.uid = meta.uid;
  // serviceAccount is the deprecated alias the apiserver still honours.
  const sa = podSpec?.serviceAccountName ?? podSpec?.serviceAccount;
  if (typeof sa === 'string' && sa !== '') w.serviceAccountName = sa;
  const replicas = replicasOf(wk.kind, obj);
  if (replicas !== undefined) w.replicas = replicas;
  return w;
}

/** `Kind/namespace/name`, e.g. `Deployment/payments/api`: workload kinds are unique across groups. */
export function workloadKey(w: Pick<Workload, 'kind' | 'namespace' | 'name'>): string {
  return `${w.kind}/${w.namespace}/${w.name}`;
}

/** What scope evaluation needs to know about a workload. */
export function workloadTarget(
  w: Workload,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
  operation?: string,
): ScopeSubject {
  const gv = parseApiVersion(w.apiVersion);
  const t: ScopeSubject = {
    group: w.group,
    version: gv?.version ?? 'v1',
    kind: w.kind,
    name: w.name,
    namespace: w.namespace,
    labels: w.labels,
    annotations: w.annotations,
    namespaceLabels: namespaceLabels ?? {},
    podLabels: w.podLabels,
    podAnnotations: w.podAnnotations,
  };
  const wk = WORKLOAD_KINDS.find((k) => k.group === w.group && k.kind === w.kind);
  if (wk) t.resource = wk.resource;
  if (operation !== undefined) t.operation = operation;
  return t;
}

/** A scope target for any stored object (pod labels only for workload kinds). */
export function objectTarget(
  gvr: Gvr,
  obj: KubeObject,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
  operation?: string,
): ScopeTarget {
  const gv = typeof obj.apiVersion === 'string' ? parseApiVersion(obj.apiVersion) : undefined;
  const meta = obj.metadata ?? {};
  const t: ScopeSubject = {
    group: gv?.group ?? gvr.group,
    version: gv?.version ?? gvr.version,
    kind: typeof obj.kind === 'string' ? obj.kind : '',
    resource: gvr.resource,
    name: meta.name ?? '',
    labels: stringMap(meta.labels),
    annotations: stringMap(meta.annotations),
    namespaceLabels: namespaceLabels ?? {},
  };
  if (meta.namespace) t.namespace = meta.namespace;
  if (operation !== undefined) t.operation = operation;
  const wk = BY_RESOURCE.get(`${gvr.group}|${gvr.resource}`);
  if (wk) {
    const template = podTemplate(wk, obj);
    const podMeta = rec(template?.metadata);
    t.podLabels = stringMap(podMeta?.labels);
    t.podAnnotations = stringMap(podMeta?.annotations);
  }
  return t;
}

export interface WorkloadEvent {
  type: ChangeType;
  key: string;
  workload: Workload;
  old?: Workload;
}

export type WorkloadListener = (event: WorkloadEvent) => void;

/**
 * Workloads kept current from store change events. Only changes to the projection
 * are re-emitted: a Deployment's status churn (replica counts, conditions) changes the
 * object but not the workload, so rules keyed on workloads do not re-run for it.
 */
export class WorkloadIndex {
  private readonly byKey = new Map<string, Workload>();
  private readonly byNs = new Map<string, Map<string, Workload>>();
  /** Store key of the source object -> workload key, for deletes and kind flips. */
  private readonly fromSource = new Map<string, string>();
  private readonly listeners: WorkloadListener[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly store: FactStore) {
    for (const gvr of store.gvrs()) {
      if (!isWorkloadGvr(gvr)) continue;
      for (const obj of store.list(gvr)) this.apply(gvr, sourceKey(gvr, obj), obj);
    }
    this.unsubscribe = store.subscribe((ev) => this.onChange(ev));
  }

  subscribe(listener: WorkloadListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Stop following the store. */
  dispose(): void {
    this.unsubscribe();
  }

  get(key: string): Workload | undefined {
    return this.byKey.get(key);
  }

  find(kind: string, namespace: string, name: string): Workload | undefined {
    return this.byKey.get(workloadKey({ kind, namespace, name }));
  }

  list(namespace?: string): Workload[] {
    if (namespace === undefined) return [...this.byKey.values()];
    const m = this.byNs.get(namespace);
    return m ? [...m.values()] : [];
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The scope target for a workload, with its namespace's current labels. */
  target(w: Workload, operation?: string): ScopeSubject {
    return workloadTarget(w, this.store.namespaceLabels(w.namespace), operation);
  }

  private onChange(ev: ChangeEvent): void {
    if (!isWorkloadGvr(ev.gvr)) return;
    const src = `${ev.gvr.group}|${ev.gvr.resource}|${ev.key}`;
    this.apply(ev.gvr, src, ev.type === 'DELETED' ? undefined : ev.object);
  }

  private apply(gvr: Gvr, src: string, obj: KubeObject | undefined): void {
    const prevKey = this.fromSource.get(src);
    const prev = prevKey !== undefined ? this.byKey.get(prevKey) : undefined;
    const next = obj ? workloadFromObject(gvr, obj) : undefined;
    if (!next) {
      if (prev && prevKey !== undefined) {
        this.drop(prevKey, prev);
        this.fromSource.delete(src);
        this.emit({ type: 'DELETED', key: prevKey, workload: prev });
      }
      return;
    }
    const key = workloadKey(next);
    if (prev && jsonEqual(prev, next)) return;
    if (prev && prevKey !== undefined) this.drop(prevKey, prev);
    this.byKey.set(key, next);
    let m = this.byNs.get(next.namespace);
    if (!m) this.byNs.set(next.namespace, (m = new Map()));
    m.set(key, next);
    this.fromSource.set(src, key);
    this.emit(prev ? { type: 'MODIFIED', key, workload: next, old: prev } : { type: 'ADDED', key, workload: next });
  }

  private drop(key: string, w: Workload): void {
    this.byKey.delete(key);
    const m = this.byNs.get(w.namespace);
    if (m) {
      m.delete(key);
      if (m.size === 0) this.byNs.delete(w.namespace);
    }
  }

  private emit(ev: WorkloadEvent): void {
    for (const l of [...this.listeners]) l(ev);
  }
}

function sourceKey(gvr: Gvr, obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return `${gvr.group}|${gvr.resource}|${ns ? `${ns}/${name}` : name}`;
}
