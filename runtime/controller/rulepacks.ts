// Rule packs from ConfigMaps labelled potoo.io/rule-pack: "true" in trusted namespaces.
// Each ConfigMap is one unit: every data key is loaded with the same loader the CLI
// uses; if anything in it is invalid, the whole new version is rejected (a Warning
// Event on the ConfigMap carries the loader's located messages) and the ConfigMap's
// previous good version keeps running.
import { formatProblem, type Problem } from '../../engine/model.js';
import { loadPacks, type CompiledPack } from '../../engine/pack/loader.js';
import type { KubeClient } from '../kube/client.js';
import type { EventSpec } from './events.js';
import { Informer, type InformerStatus, type RawObject } from '../kube/informer.js';
import { GVR } from '../kube/paths.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { ObjectCache, keyOf, type CacheChange } from './cache.js';
import type { InformerTuning } from './watches.js';

export const RULE_PACK_LABEL = 'potoo.io/rule-pack';

/**
 * The apiserver caps a ConfigMap at 1 MiB, so a bigger one never arrives from a real
 * cluster; the check guards against a misbehaving proxy or a raised server limit, so a
 * pathological pack cannot stall the controller.
 */
export const DEFAULT_MAX_CONFIGMAP_PACK_BYTES = 1024 * 1024;

export interface ConfigMapPackResult {
  packs: CompiledPack[];
  problems: Problem[];
  bytes: number;
}

interface ConfigMapLike {
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, unknown>;
  binaryData?: Record<string, unknown>;
}

/** Load every pack of one ConfigMap; errors (severity error) mean the ConfigMap is rejected. */
export function packsFromConfigMap(obj: RawObject, opts: { maxBytes?: number } = {}): ConfigMapPackResult {
  const cm = obj as ConfigMapLike;
  const ref = `configmap ${cm.metadata?.namespace ?? ''}/${cm.metadata?.name ?? ''}`;
  const max = opts.maxBytes ?? DEFAULT_MAX_CONFIGMAP_PACK_BYTES;
  const data = cm.data ?? {};
  const keys = Object.keys(data).sort();
  let bytes = 0;
  for (const k of keys) {
    const v = data[k];
    if (typeof v === 'string') bytes += Buffer.byteLength(v);
  }
  const out: ConfigMapPackResult = { packs: [], problems: [], bytes };
  if (bytes > max) {
    out.problems.push({ severity: 'error', file: ref, message: `rule packs total ${bytes} bytes, over the ${max}-byte limit; split them into several ConfigMaps` });
    return out;
  }
  if (keys.length === 0) {
    out.problems.push({ severity: 'error', file: ref, message: 'no data keys: put each RulePack YAML document under a key such as pack.yaml' });
    return out;
  }
  if (cm.binaryData && Object.keys(cm.binaryData).length > 0) {
    out.problems.push({ severity: 'warning', file: ref, message: 'binaryData is ignored; rule packs are read from data' });
  }
  for (const k of keys) {
    const v = data[k];
    if (typeof v !== 'string') continue;
    const r = loadPacks(v, { file: `${ref} (${k})` });
    out.packs.push(...r.packs);
    out.problems.push(...r.problems);
  }
  return out;
}

export interface RulePackStatus {
  configMap: string;
  resourceVersion?: string;
  state: 'active' | 'rejected' | 'rejected-previous-active';
  packs: string[];
  message?: string;
  bytes: number;
}

interface Good {
  rv: string | undefined;
  packs: CompiledPack[];
}

interface Rejected {
  rv: string | undefined;
  problems: Problem[];
  regarding: RawObject;
}

export interface ConfigMapPacksOptions {
  namespaces: readonly string[];
  log: Logger;
  metrics?: Metrics;
  maxBytes?: number;
  debounceMs?: number;
  tuning?: InformerTuning;
  /** Called when the active packs changed. */
  onChange: () => void;
  emitEvent: (ev: EventSpec) => void;
}

/** Events show this many problems; the rest are counted (the note is capped at 1 kB). */
const EVENT_PROBLEMS = 5;

export class ConfigMapPacks {
  private readonly informers: Informer[] = [];
  private readonly caches: ObjectCache[] = [];
  private readonly good = new Map<string, Good>();
  private readonly rejected = new Map<string, Rejected>();
  private readonly bytes = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private dirty = new Set<string>();

  constructor(
    client: KubeClient,
    private readonly opts: ConfigMapPacksOptions,
  ) {
    for (const ns of opts.namespaces) {
      const cache = new ObjectCache((changes) => this.onChanges(changes));
      this.caches.push(cache);
      this.informers.push(
        new Informer(client, cache, {
          gvr: GVR.configmaps,
          namespace: ns,
          labelSelector: `${RULE_PACK_LABEL}=true`,
          log: opts.log,
          ...(opts.metrics ? { metrics: opts.metrics } : {}),
          ...(opts.tuning ?? {}),
        }),
      );
    }
  }

  start(): void {
    for (const i of this.informers) i.start();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** Every ConfigMap informer listed once (or cannot: then there are no ConfigMap packs). */
  async settled(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    // Apply what the first lists brought now, not after the debounce.
    this.flush();
  }

  informerStatus(): InformerStatus[] {
    return this.informers.map((i) => i.status());
  }

  /** The active packs: each ConfigMap's last good version, in ConfigMap order. */
  packs(): CompiledPack[] {
    return [...this.good.keys()].sort().flatMap((k) => (this.good.get(k) as Good).packs);
  }

  status(): RulePackStatus[] {
    const keys = new Set([...this.good.keys(), ...this.rejected.keys()]);
    return [...keys].sort().map((k) => {
      const g = this.good.get(k);
      const r = this.rejected.get(k);
      const s: RulePackStatus = {
        configMap: k,
        state: r ? (g ? 'rejected-previous-active' : 'rejected') : 'active',
        packs: (g?.packs ?? []).map((p) => p.name),
        bytes: this.bytes.get(k) ?? 0,
      };
      const rv = r?.rv ?? g?.rv;
      if (rv) s.resourceVersion = rv;
      if (r) s.message = r.problems.filter((p) => p.severity === 'error').map(formatProblem).join('\n');
      return s;
    });
  }

  /** Re-announce current rejections (a new leader writes the Events a standby held back). */
  reannounce(): void {
    for (const [k, r] of this.rejected) this.announceRejection(k, r);
  }

  private onChanges(changes: CacheChange[]): void {
    for (const c of changes) this.dirty.add(c.key);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.opts.debounceMs ?? 200);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dirty.size === 0) return;
    const keys = [...this.dirty].sort();
    this.dirty.clear();
    let changed = false;
    for (const k of keys) {
      const obj = this.caches.map((c) => c.get(k)).find((o) => o !== undefined);
      if (!obj) {
        changed = this.good.delete(k) || changed;
        this.rejected.delete(k);
        this.bytes.delete(k);
        this.opts.log.info({ configMap: k }, 'rule-pack ConfigMap removed; its packs are unloaded');
        continue;
      }
      changed = this.evaluate(k, obj) || changed;
    }
    this.opts.metrics?.rulePacksLoaded.set({ source: 'configmap' }, this.packs().length);
    if (changed) this.opts.onChange();
  }

  /** Returns true when the active packs changed. */
  private evaluate(key: string, obj: RawObject): boolean {
    const rv = (obj.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
    const prevGood = this.good.get(key);
    if (prevGood && prevGood.rv === rv && !this.rejected.has(key)) return false;
    // Already judged (a relist redelivers it): judging again would only repeat the Event.
    if (this.rejected.get(key)?.rv === rv) return false;
    const r = packsFromConfigMap(obj, this.opts.maxBytes === undefined ? {} : { maxBytes: this.opts.maxBytes });
    this.bytes.set(key, r.bytes);
    // A pack name another ConfigMap already provides would silently shadow it.
    for (const p of r.packs) {
      for (const [other, g] of this.good) {
        if (other !== key && g.packs.some((q) => q.name === p.name)) {
          r.problems.push({ severity: 'error', file: `configmap ${key}`, pack: p.name, message: `pack ${p.name} is already provided by ConfigMap ${other}` });
        }
      }
    }
    const errors = r.problems.filter((p) => p.severity === 'error');
    for (const w of r.problems.filter((p) => p.severity === 'warning')) this.opts.log.warn({ configMap: key }, formatProblem(w));
    if (errors.length > 0) {
      const rej: Rejected = { rv, problems: errors, regarding: obj };
      this.rejected.set(key, rej);
      this.opts.metrics?.rulePackLoadErrors.inc({ source: 'configmap' });
      this.opts.log.warn(
        { configMap: key, resourceVersion: rv, problems: errors.map(formatProblem), keptPrevious: prevGood !== undefined },
        'rule-pack ConfigMap rejected',
      );
      this.announceRejection(key, rej);
      return false;
    }
    this.rejected.delete(key);
    this.good.set(key, { rv, packs: r.packs });
    this.opts.log.info({ configMap: key, resourceVersion: rv, packs: r.packs.map((p) => p.name) }, 'rule-pack ConfigMap loaded');
    this.opts.emitEvent({
      regarding: ref(obj),
      type: 'Normal',
      reason: 'RulePackLoaded',
      action: 'Load',
      note: `Loaded rule packs: ${r.packs.map((p) => p.name).join(', ') || '(none)'}`,
    });
    return true;
  }

  private announceRejection(key: string, r: Rejected): void {
    const shown = r.problems.slice(0, EVENT_PROBLEMS).map(formatProblem);
    const more = r.problems.length > EVENT_PROBLEMS ? ` (+${r.problems.length - EVENT_PROBLEMS} more)` : '';
    const kept = this.good.has(key) ? 'The previous version stays active. ' : '';
    this.opts.emitEvent({
      regarding: ref(r.regarding),
      type: 'Warning',
      reason: 'RulePackInvalid',
      action: 'Load',
      note: `${kept}${shown.join('; ')}${more}`,
    });
  }
}

function ref(obj: RawObject): EventSpec['regarding'] {
  const md = (obj.metadata ?? {}) as { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  const r: EventSpec['regarding'] = { apiVersion: 'v1', kind: 'ConfigMap', name: md.name ?? '' };
  if (md.namespace) r.namespace = md.namespace;
  if (md.uid) r.uid = md.uid;
  if (md.resourceVersion) r.resourceVersion = md.resourceVersion;
  return r;
}

export { keyOf };
