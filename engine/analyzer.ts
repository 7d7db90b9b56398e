// The analyzer keeps constraints current for a fact store: it adapts every stored object
// with the loaded packs, re-adapts exactly the objects that change, and answers "which
// constraints apply to this workload". The same class serves `potoo analyze` (a store
// fed from files) and the controller (a store fed by informers).
//
// Adapters may read other objects through `facts.get` / `facts.list` (an admission
// policy binding reads its policy). Each read is recorded, so when a read object is
// added, changed or deleted, the objects that read it are adapted again.
import type { Constraint, Gvr, KubeObject, Problem, Workload } from './model.js';
import type { CompiledPack } from './pack/loader.js';
import { AdaptStage, adaptedSourceKey, objectRef, type AdaptOutput, type Skip } from './stages/adapt.js';
import { ConstraintIndex, type Applicable } from './store/constraints.js';
import { FactStore, type ChangeEvent } from './store/store.js';
import { WorkloadIndex, isWorkloadGvr } from './store/workloads.js';
import type { SourcedObject } from './source/manifests.js';
import { FactLookup, factKey, type FactSource } from './expr/potoolib.js';

const NAMESPACES: Gvr = { group: '', version: 'v1', resource: 'namespaces' };

export interface SkippedObject extends Skip {
  object: string;
}

export interface AnalyzerStats {
  objects: number;
  adapted: number;
  constraints: number;
  problems: number;
  adaptMs: number;
  engineMs: number;
}

export class Analyzer {
  readonly constraints = new ConstraintIndex();
  readonly workloads: WorkloadIndex;
  private adapt: AdaptStage;
  /** Problems and skips per source object, so re-adapting an object replaces its own. */
  private readonly problemsBySource = new Map<string, Problem[]>();
  private readonly skipsBySource = new Map<string, SkippedObject[]>();
  /** Problems not tied to one adapted object (unreadable input, rejected objects). */
  readonly inputProblems: Problem[] = [];
  private queue: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private adapted = 0;
  /** What each adapted object read through `facts` ({@link factKey}s), and the reverse. */
  private readonly readsBySource = new Map<string, readonly string[]>();
  private readonly readers = new Map<string, Map<string, { gvr: Gvr; namespace: string | undefined; name: string }>>();
  private readonly facts: FactSource;

  constructor(
    readonly store: FactStore,
    packs: readonly CompiledPack[],
  ) {
    this.adapt = new AdaptStage(packs);
    this.workloads = new WorkloadIndex(store);
    this.facts = storeFacts(store);
  }

  /** Swap the rule packs (hot reload) and re-adapt every object. */
  async setPacks(packs: readonly CompiledPack[]): Promise<void> {
    this.adapt = new AdaptStage(packs);
    await this.adaptAll();
  }

  /** Adapt every object in the store, dropping constraints of objects that are gone. */
  async adaptAll(): Promise<void> {
    const seen = new Set<string>();
    for (const gvr of this.store.gvrs()) {
      for (const obj of this.store.list(gvr)) {
        // Objects no adapter is offered (workloads, namespaces) have nothing to adapt; any
        // state left from earlier packs is swept below, since they are not `seen`.
        if (!this.adapt.offers(gvr, obj.kind) || (isWorkloadGvr(gvr) && !this.adapt.handles(gvr, obj.kind))) continue;
        const key = this.keyOf(gvr, obj);
        seen.add(key);
        // Awaiting only when an object needs json-rules-engine: 30k awaits cost more than
        // adapting the 10k policies among them.
        const pending = this.adaptObjectNow(gvr, obj, key);
        if (pending) await pending;
      }
    }
    for (const key of [...this.problemsBySource.keys(), ...this.skipsBySource.keys()]) {
      if (!seen.has(key)) this.forget(key);
    }
    for (const key of [...this.readsBySource.keys()]) if (!seen.has(key)) this.setReads(key, undefined, []);
    for (const key of this.constraints.sourceKeys()) if (!seen.has(key)) this.constraints.removeSource(key);
  }

  /** Re-adapt on every store change, in order, until `stop()`. */
  follow(onError: (err: unknown) => void = () => undefined): void {
    this.unsubscribe?.();
    this.unsubscribe = this.store.subscribe((ev) => {
      this.queue = this.queue.then(() => this.onChange(ev)).catch(onError);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Resolves when every change seen so far has been adapted. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async onChange(ev: ChangeEvent): Promise<void> {
    const key = this.keyOf(ev.gvr, ev.object);
    if (ev.type === 'DELETED') {
      this.constraints.removeSource(key);
      this.forget(key);
      this.setReads(key, undefined, []);
    } else {
      await this.adaptObject(ev.gvr, ev.object);
    }
    // Objects whose adapters read this one (a binding reads its policy) follow it.
    for (const dep of this.readersOf(ev.gvr, ev.object)) {
      if (dep.key === key) continue;
      const current = this.store.get(dep.gvr, dep.namespace, dep.name);
      if (current) await this.adaptObject(dep.gvr, current);
    }
  }

  /** Sources that read `obj` through `facts.get` or `facts.list`. */
  private readersOf(gvr: Gvr, obj: KubeObject): { key: string; gvr: Gvr; namespace: string | undefined; name: string }[] {
    const md = obj.metadata ?? {};
    const kind = obj.kind ?? '';
    const ns = md.namespace ?? '';
    const keys = [factKey(gvr.group, kind, ns, md.name ?? ''), factKey(gvr.group, kind, ns, '*'), factKey(gvr.group, kind, '*', '*')];
    const out = new Map<string, { key: string; gvr: Gvr; namespace: string | undefined; name: string }>();
    for (const k of keys) for (const [src, ref] of this.readers.get(k) ?? []) out.set(src, { key: src, ...ref });
    return [...out.values()];
  }

  private setReads(key: string, ref: { gvr: Gvr; namespace: string | undefined; name: string } | undefined, reads: readonly string[]): void {
    for (const k of this.readsBySource.get(key) ?? []) {
      const m = this.readers.get(k);
      m?.delete(key);
      if (m && m.size === 0) this.readers.delete(k);
    }
    if (!ref || reads.length === 0) {
      this.readsBySource.delete(key);
      return;
    }
    this.readsBySource.set(key, reads);
    for (const k of reads) {
      let m = this.readers.get(k);
      if (!m) this.readers.set(k, (m = new Map()));
      m.set(key, ref);
    }
  }

  /** Adapt one object and make its constraints, skips and problems exactly the new ones. */
  async adaptObject(gvr: Gvr, obj: KubeObject): Promise<void> {
    await this.adaptObjectNow(gvr, obj, this.keyOf(gvr, obj));
  }

  /** {@link adaptObject}, done synchronously when it can be; otherwise the promise of it. */
  private adaptObjectNow(gvr: Gvr, obj: KubeObject, key: string): Promise<void> | undefined {
    if (isWorkloadGvr(gvr) && !this.adapt.handles(gvr, obj.kind)) {
      // Workloads are subjects, not policies: nothing to adapt unless a pack says so.
      return undefined;
    }
    const ns = obj.metadata?.namespace;
    const namespace = ns ? this.store.get(NAMESPACES, undefined, ns) : undefined;
    const facts = new FactLookup(this.facts);
    const input = namespace ? { gvr, object: obj, namespace, facts } : { gvr, object: obj, facts };
    const failed = (err: unknown): AdaptOutput => ({
      constraints: [],
      skipped: [],
      offered: 1,
      // A rule that throws is a bug in a pack or an operator; the object is reported, the rest go on.
      problems: [{ severity: 'error', object: objectRef(obj), message: `adapter failed: ${(err as Error).message}` }],
    });
    let out: AdaptOutput | undefined;
    try {
      out = this.adapt.adaptSync(input);
    } catch (err) {
      out = failed(err);
    }
    const apply = (o: AdaptOutput): void => {
      if (o.offered > 0) this.adapted++;
      const reads = facts.reads;
      if (reads.length > 0 || this.readsBySource.has(key)) this.setReads(key, { gvr, namespace: ns, name: obj.metadata?.name ?? '' }, reads);
      this.constraints.replaceForSource(key, o.constraints);
      this.setList(this.problemsBySource, key, o.problems);
      this.setList(this.skipsBySource, key, o.skipped.length ? o.skipped.map((s) => ({ ...s, object: objectRef(obj) })) : []);
    };
    if (out) {
      apply(out);
      return undefined;
    }
    return this.adapt.adaptWithEngine(input).catch(failed).then(apply);
  }

  /** Add objects read from files: rejected ones become located problems. */
  load(objects: readonly SourcedObject[]): void {
    for (const s of objects) {
      const r = this.store.upsertObject(s.object);
      if (!r.ok) this.inputProblems.push({ severity: 'error', file: s.file, line: s.line, column: 1, object: objectRef(s.object), message: r.error });
    }
  }

  applicableTo(w: Workload): Applicable[] {
    return this.constraints.applicableTo(this.workloads.target(w));
  }

  problems(): Problem[] {
    return [...this.inputProblems, ...[...this.problemsBySource.values()].flat()];
  }

  skipped(): SkippedObject[] {
    return [...this.skipsBySource.values()].flat();
  }

  allConstraints(): Constraint[] {
    return this.constraints.all();
  }

  stats(): AnalyzerStats {
    return {
      objects: this.store.count(),
      adapted: this.adapted,
      constraints: this.constraints.size,
      problems: this.problems().length,
      adaptMs: this.adapt.stats.engineMs + this.adapt.stats.emitMs,
      engineMs: this.adapt.stats.engineMs,
    };
  }

  private keyOf(gvr: Gvr, obj: KubeObject): string {
    return adaptedSourceKey({ gvr, object: obj });
  }

  private forget(key: string): void {
    this.problemsBySource.delete(key);
    this.skipsBySource.delete(key);
  }

  private setList<T>(m: Map<string, T[]>, key: string, list: T[]): void {
    if (list.length) m.set(key, list);
    else m.delete(key);
  }
}

/**
 * The fact store as adapters see it through `facts`: objects by group and kind (any
 * stored version for `*`); namespace '' is cluster-scoped, '*' every namespace.
 */
function storeFacts(store: FactStore): FactSource {
  return {
    find(group, version, kind, namespace, name) {
      const out: KubeObject[] = [];
      for (const gvr of store.gvrs()) {
        if (gvr.group !== group || (version !== '*' && gvr.version !== version)) continue;
        if (name !== undefined) {
          // By name in every namespace: one lookup per namespace that has such objects.
          const nsList = namespace === '*' ? store.namespacesOf(gvr) : [namespace];
          for (const ns of nsList) {
            const o = store.get(gvr, ns || undefined, name);
            if (o && o.kind === kind) out.push(o);
          }
        } else {
          for (const o of namespace === '*' ? store.list(gvr) : store.list(gvr, namespace)) if (o.kind === kind) out.push(o);
        }
      }
      return out;
    },
  };
}

/** Offline: a store from manifest objects, every object adapted. */
export async function analyzeObjects(objects: readonly SourcedObject[], packs: readonly CompiledPack[]): Promise<Analyzer> {
  const analyzer = new Analyzer(new FactStore(), packs);
  analyzer.load(objects);
  await analyzer.adaptAll();
  return analyzer;
}
