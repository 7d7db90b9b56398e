// The fact store: every Kubernetes object Potoo knows, by GVR, as normalized
// unstructured JSON. Manifest loaders (offline) and informers (live) feed it through
// the same four mutations, so every stage downstream is indifferent to the source.
import type { Gvr, KubeObject, LabelSelector, ScopeTarget } from '../model.js';
import { gvrKey, gvrOf, namespacedKey, objectKey, toGvr, type GvrLike } from '../gvr.js';
import { DEFAULT_LIMITS, jsonEqual, normalizeObject, valueAt, type NormalizeLimits } from './normalize.js';
import { matchesSelector } from '../selector.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  type: ChangeType;
  gvr: Gvr;
  /** {@link gvrKey} of `gvr`, so listeners can route without recomputing it. */
  gvrKey: string;
  /** {@link objectKey}: `namespace/name`, or `name` when cluster-scoped. */
  key: string;
  /** The new state; for DELETED, the last state the store held. */
  object: KubeObject;
  /** The previous state, for MODIFIED. */
  old?: KubeObject;
}

export type ChangeListener = (event: ChangeEvent) => void;

export type UpsertResult = { ok: true; change: ChangeEvent | null } | { ok: false; error: string };

export interface ReplaceResult {
  added: number;
  modified: number;
  deleted: number;
  unchanged: number;
  /** Objects of the new list that were refused (index into the list, and why). */
  errors: { index: number; error: string }[];
}

export interface NamespaceInfo {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** True when a Namespace object exists; false when only implied by objects in it. */
  declared: boolean;
}

export interface StoreStats {
  objects: number;
  gvrs: number;
  /** Objects refused by normalization since the store was created. */
  rejected: number;
  /** Listener calls that threw (the store carries on; see `onListenerError`). */
  listenerErrors: number;
  /** Monotonic count of emitted change events. */
  revision: number;
}

export interface FactStoreOptions {
  limits?: Partial<NormalizeLimits>;
  /** Called when a listener throws; the event still reaches the other listeners. */
  onListenerError?: (error: unknown, event: ChangeEvent) => void;
}

export interface SelectingOptions {
  /**
   * Which namespaces to search: the target's own (default), every namespace, or the
   * target's plus extra ones (a mesh root namespace, a monitoring namespace).
   */
  namespaces?: 'same' | 'all' | { also: string[] };
  /** What an object without a selector at the path selects: nothing (default) or all. */
  absent?: 'all' | 'none';
  /**
   * How to read the value at the path: a LabelSelector, a plain label map (Service
   * spec.selector, where an empty map selects nothing), or decide by shape (default).
   */
  selectorKind?: 'labelSelector' | 'map' | 'auto';
  /** Match against the pods' labels (default, falling back to own labels) or the target's own. */
  labels?: 'pod' | 'own';
}

interface Bucket {
  gvr: Gvr;
  key: string;
  objects: Map<string, KubeObject>;
  /** Namespace ('' for cluster-scoped) -> key -> object, so per-namespace lists stay cheap. */
  byNs: Map<string, Map<string, KubeObject>>;
}

const NAMESPACES_KEY = 'v1/namespaces';
/** Set by the apiserver on every Namespace since 1.21 and immutable; selectors rely on it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export class FactStore {
  private readonly buckets = new Map<string, Bucket>();
  private readonly listeners: ChangeListener[] = [];
  /** Namespace -> number of namespaced objects in it, across all GVRs. */
  private readonly implied = new Map<string, number>();
  private readonly nsLabelCache = new Map<string, Readonly<Record<string, string>>>();
  private readonly limits: NormalizeLimits;
  private readonly onListenerError: ((error: unknown, event: ChangeEvent) => void) | undefined;
  private rejected = 0;
  private listenerErrors = 0;
  private revision = 0;

  constructor(options: FactStoreOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.onListenerError = options.onListenerError;
  }

  /** Listen to every change; returns the unsubscribe function. Listeners run synchronously, in order. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Add or replace one object. Identical content (same resourceVersion) is a no-op. */
  upsert(gvr: GvrLike, obj: unknown): UpsertResult {
    const g = toGvr(gvr);
    if (!g) return this.reject(`malformed GVR ${JSON.stringify(gvr)}`);
    const n = normalizeObject(obj, this.limits);
    if (!n.ok) return this.reject(n.error);
    return { ok: true, change: this.put(this.bucket(g), n.object) };
  }

  /**
   * Add an object whose GVR is derived from its apiVersion and kind (the built-in
   * table, then the pluralizer): what an offline loader without discovery has.
   */
  upsertObject(obj: unknown): UpsertResult {
    const n = normalizeObject(obj, this.limits);
    if (!n.ok) return this.reject(n.error);
    const g = gvrOf(n.object);
    if (!g) return this.reject(`malformed apiVersion ${JSON.stringify(n.object.apiVersion)}`);
    return { ok: true, change: this.put(this.bucket(g), n.object) };
  }

  /** Remove one object; returns the DELETED event, or null when it was not there. */
  delete(gvr: GvrLike, namespace: string | undefined, name: string): ChangeEvent | null {
    const g = toGvr(gvr);
    if (!g) return null;
    const b = this.buckets.get(gvrKey(g));
    if (!b) return null;
    return this.remove(b, namespacedKey(namespace, name));
  }

  /**
   * Make the GVR hold exactly `objs` (an informer relist, or a re-read manifest set):
   * new keys are ADDED, changed ones MODIFIED, and keys no longer listed DELETED, so no
   * ghost survives a missed watch event. Refused objects are reported and, being
   * absent from the valid list, their previous state is deleted too.
   */
  replaceAll(gvr: GvrLike, objs: readonly unknown[]): ReplaceResult {
    const result: ReplaceResult = { added: 0, modified: 0, deleted: 0, unchanged: 0, errors: [] };
    const g = toGvr(gvr);
    if (!g) {
      this.rejected += objs.length;
      result.errors.push({ index: -1, error: `malformed GVR ${JSON.stringify(gvr)}` });
      return result;
    }
    const b = this.bucket(g);
    const seen = new Set<string>();
    objs.forEach((raw, index) => {
      const n = normalizeObject(raw, this.limits);
      if (!n.ok) {
        this.rejected++;
        result.errors.push({ index, error: n.error });
        return;
      }
      seen.add(objectKey(n.object));
      const ev = this.put(b, n.object);
      if (!ev) result.unchanged++;
      else if (ev.type === 'ADDED') result.added++;
      else result.modified++;
    });
    for (const key of [...b.objects.keys()]) {
      if (!seen.has(key) && this.remove(b, key)) result.deleted++;
    }
    return result;
  }

  /** Forget a GVR entirely (its informer was stopped): DELETED for each object, then gone from gvrs(). */
  dropGvr(gvr: GvrLike): number {
    const g = toGvr(gvr);
    if (!g) return 0;
    const b = this.buckets.get(gvrKey(g));
    if (!b) return 0;
    let n = 0;
    for (const key of [...b.objects.keys()]) if (this.remove(b, key)) n++;
    this.buckets.delete(b.key);
    return n;
  }

  get(gvr: GvrLike, namespace: string | undefined, name: string): KubeObject | undefined {
    const g = toGvr(gvr);
    if (!g) return undefined;
    return this.buckets.get(gvrKey(g))?.objects.get(namespacedKey(namespace, name));
  }

  /** Namespaces holding objects of a GVR ('' for cluster-scoped objects). */
  namespacesOf(gvr: GvrLike): string[] {
    const g = toGvr(gvr);
    const b = g ? this.buckets.get(gvrKey(g)) : undefined;
    return b ? [...b.byNs.keys()] : [];
  }

  /** Objects of a GVR, in one namespace when given ('' lists the cluster-scoped ones). */
  list(gvr: GvrLike, namespace?: string): KubeObject[] {
    const g = toGvr(gvr);
    if (!g) return [];
    const b = this.buckets.get(gvrKey(g));
    if (!b) return [];
    if (namespace === undefined) return [...b.objects.values()];
    const m = b.byNs.get(namespace);
    return m ? [...m.values()] : [];
  }

  /** GVRs that hold objects or were fed (an empty relist still registers the GVR). */
  gvrs(): Gvr[] {
    return [...this.buckets.values()].map((b) => b.gvr);
  }

  count(gvr?: GvrLike): number {
    if (gvr === undefined) {
      let n = 0;
      for (const b of this.buckets.values()) n += b.objects.size;
      return n;
    }
    const g = toGvr(gvr);
    return g ? (this.buckets.get(gvrKey(g))?.objects.size ?? 0) : 0;
  }

  /**
   * Every namespace the store knows: Namespace objects, plus namespaces only implied by
   * the objects in them (an offline dump rarely includes the Namespace itself). Sorted.
   */
  namespaces(): NamespaceInfo[] {
    const names = new Set<string>(this.implied.keys());
    const nsBucket = this.buckets.get(NAMESPACES_KEY);
    if (nsBucket) for (const k of nsBucket.objects.keys()) names.add(k);
    return [...names].sort().map((name) => ({
      name,
      labels: this.namespaceLabels(name) ?? {},
      declared: nsBucket?.objects.has(name) ?? false,
    }));
  }

  /**
   * Labels of a namespace, as selectors see them: the Namespace object's labels plus
   * `kubernetes.io/metadata.name`, which the apiserver always sets (so an offline
   * manifest without it still matches the selectors a live cluster would). An implied
   * namespace has only that label; an unknown one is undefined.
   */
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    const cached = this.nsLabelCache.get(namespace);
    if (cached) return cached;
    const obj = this.buckets.get(NAMESPACES_KEY)?.objects.get(namespace);
    if (!obj && !this.implied.has(namespace)) return undefined;
    const labels = Object.freeze({ ...(obj?.metadata?.labels ?? {}), [NAMESPACE_NAME_LABEL]: namespace });
    this.nsLabelCache.set(namespace, labels);
    return labels;
  }

  /**
   * Objects of `gvr` whose label selector at `selectorPath` (dot path, e.g.
   * `spec.selector`) selects the target: "is there a ServiceMonitor / PeerAuthentication /
   * PodDisruptionBudget for this workload". Namespace-scoped by default, as those
   * selectors are.
   */
  selecting(gvr: GvrLike, selectorPath: string, target: ScopeTarget, options: SelectingOptions = {}): KubeObject[] {
    const labels = options.labels === 'own' ? target.labels : (target.podLabels ?? target.labels);
    const where = options.namespaces ?? 'same';
    let candidates: KubeObject[];
    if (where === 'all') {
      candidates = this.list(gvr);
    } else {
      const nss = new Set<string>([target.namespace ?? '']);
      if (typeof where === 'object') for (const ns of where.also) nss.add(ns);
      candidates = [...nss].flatMap((ns) => this.list(gvr, ns));
    }
    const path = selectorPath.split('.').filter((p) => p !== '');
    return candidates.filter((obj) => objectSelects(obj, path, labels, options));
  }

  stats(): StoreStats {
    return {
      objects: this.count(),
      gvrs: this.buckets.size,
      rejected: this.rejected,
      listenerErrors: this.listenerErrors,
      revision: this.revision,
    };
  }

  private reject(error: string): UpsertResult {
    this.rejected++;
    return { ok: false, error };
  }

  private bucket(g: Gvr): Bucket {
    const key = gvrKey(g);
    let b = this.buckets.get(key);
    if (!b) {
      b = { gvr: { group: g.group, version: g.version, resource: g.resource }, key, objects: new Map(), byNs: new Map() };
      this.buckets.set(key, b);
    }
    return b;
  }

  private put(b: Bucket, obj: KubeObject): ChangeEvent | null {
    const key = objectKey(obj);
    const old = b.objects.get(key);
    if (old) {
      const rvOld = old.metadata?.resourceVersion;
      const rvNew = obj.metadata?.resourceVersion;
      // An equal resourceVersion is the apiserver's promise that nothing changed (a
      // relist re-delivering what the watch already gave); without one, compare content.
      if (rvOld !== undefined && rvOld === rvNew) return null;
      if ((rvOld === undefined || rvNew === undefined) && jsonEqual(old, obj)) return null;
    }
    b.objects.set(key, obj);
    const ns = obj.metadata?.namespace ?? '';
    let m = b.byNs.get(ns);
    if (!m) b.byNs.set(ns, (m = new Map()));
    m.set(key, obj);
    if (!old && ns !== '') this.implied.set(ns, (this.implied.get(ns) ?? 0) + 1);
    if (b.key === NAMESPACES_KEY) this.nsLabelCache.delete(key);
    const ev: ChangeEvent = old
      ? { type: 'MODIFIED', gvr: b.gvr, gvrKey: b.key, key, object: obj, old }
      : { type: 'ADDED', gvr: b.gvr, gvrKey: b.key, key, object: obj };
    this.emit(ev);
    return ev;
  }

  private remove(b: Bucket, key: string): ChangeEvent | null {
    const old = b.objects.get(key);
    if (!old) return null;
    b.objects.delete(key);
    const ns = old.metadata?.namespace ?? '';
    const m = b.byNs.get(ns);
    if (m) {
      m.delete(key);
      if (m.size === 0) b.byNs.delete(ns);
    }
    if (ns !== '') {
      const c = (this.implied.get(ns) ?? 1) - 1;
      if (c <= 0) {
        this.implied.delete(ns);
        this.nsLabelCache.delete(ns);
      } else {
        this.implied.set(ns, c);
      }
    }
    if (b.key === NAMESPACES_KEY) this.nsLabelCache.delete(key);
    const ev: ChangeEvent = { type: 'DELETED', gvr: b.gvr, gvrKey: b.key, key, object: old };
    this.emit(ev);
    return ev;
  }

  private emit(ev: ChangeEvent): void {
    this.revision++;
    // A copy: a listener may unsubscribe (or subscribe) while we deliver.
    for (const l of [...this.listeners]) {
      try {
        l(ev);
      } catch (err) {
        this.listenerErrors++;
        this.onListenerError?.(err, ev);
      }
    }
  }
}

function looksLikeLabelSelector(v: Record<string, unknown>): boolean {
  return 'matchLabels' in v || 'matchExpressions' in v || Object.keys(v).length === 0;
}

function objectSelects(
  obj: KubeObject,
  path: readonly string[],
  labels: Readonly<Record<string, string>>,
  options: SelectingOptions,
): boolean {
  const raw = valueAt(obj, path);
  if (raw === undefined || raw === null) return (options.absent ?? 'none') === 'all';
  if (typeof raw !== 'object' || Array.isArray(raw)) return false;
  const v = raw as Record<string, unknown>;
  const kind = options.selectorKind ?? 'auto';
  if (kind === 'map' || (kind === 'auto' && !looksLikeLabelSelector(v))) {
    // Service-style map: every pair must match, and an empty map selects nothing.
    const entries = Object.entries(v);
    if (entries.length === 0) return false;
    return entries.every(([k, x]) => typeof x === 'string' && Object.prototype.hasOwnProperty.call(labels, k) && labels[k] === x);
  }
  return matchesSelector(v as LabelSelector, labels, 'none');
}
