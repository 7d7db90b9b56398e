// Requirements, live: the require stage re-runs for a workload when it changes, and for
// the workloads of a namespace when a companion resource there changes (a Service, a
// ServiceMonitor, an Issuer). A missing companion becomes a reported finding only after
// its debounce (the rule's `debounce`, default 90 s, or the controller's override), so a
// GitOps sync that applies the Deployment before its ServiceMonitor raises no alarm; a
// reported finding that the stage no longer returns is cleared.
import type { ChangeEvent, FactStore } from '../../engine/store/store.js';
import type { Finding, Gvr, KubeObject } from '../../engine/model.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import { gvrOf } from '../../engine/gvr.js';
import { jsonEqual } from '../../engine/store/normalize.js';
import { isWorkloadGvr } from '../../engine/store/workloads.js';
import { RequireStage, clearedFindings, type RequireResult, type StageFacts } from '../../engine/stages/index.js';
import { GVR } from '../kube/paths.js';
import { errorMessage, type Logger } from '../log.js';
import { counter, gauge } from '../sinks/promutil.js';
import type { NotificationPipeline } from './notifications.js';

export const requirementMetrics = {
  evaluations: counter('potoo_requirement_evaluations_total', 'Require-stage runs, by result (ok, error).', ['result']),
  findings: counter('potoo_requirement_findings_total', 'Findings by transition: pending (first seen, debouncing), reported (debounce passed), cleared (satisfied after being reported), resolved (satisfied within the debounce).', ['transition']),
  pending: gauge('potoo_requirement_findings_pending', 'Findings waiting out their debounce.'),
  reported: gauge('potoo_requirement_findings_reported', 'Findings reported and not yet satisfied.'),
};

export const DEFAULT_REQUIREMENT_DEBOUNCE_MS = 90_000;

export interface RequirementTrackerOptions {
  facts: StageFacts;
  notifications: NotificationPipeline;
  log: Logger;
  /** Overrides every rule's debounce (tests use ~1 s); default: the rule's, else 90 s. */
  debounceMs?: number;
  /** Changes are coalesced for this long before the stage runs (default 100 ms). */
  batchMs?: number;
}

interface Tracked {
  finding: Finding;
  subject: string;
  firstSeen: number;
  reported: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface SubjectRefKey {
  gvr: Gvr;
  namespace: string | undefined;
  name: string;
}

export class RequirementTracker {
  private stage: RequireStage | undefined;
  private readonly tracked = new Map<string, Tracked>();
  /** Subject key -> ids of its tracked findings. */
  private readonly bySubject = new Map<string, Set<string>>();
  private readonly queue = new Map<string, SubjectRefKey>();
  private readonly namespacesQueued = new Set<string>();
  private allQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private started = false;

  constructor(private readonly opts: RequirementTrackerOptions) {}

  private get store(): FactStore {
    return this.opts.facts.store;
  }

  /** Start following the store; the first full evaluation runs once packs are set. */
  start(): void {
    this.started = true;
    this.unsubscribe = this.store.subscribe((ev) => this.onChange(ev));
    this.allQueued = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.tracked.values()) if (t.timer) clearTimeout(t.timer);
    await this.running;
    this.stage?.dispose();
  }

  setPacks(packs: readonly CompiledPack[]): void {
    this.stage?.dispose();
    this.stage = new RequireStage(packs, this.opts.facts);
    // Rules changed: every subject is re-checked (and findings of removed rules cleared).
    this.allQueued = true;
    if (this.started) this.schedule();
  }

  /** Resolves once queued changes have been evaluated (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.timer || this.queue.size || this.namespacesQueued.size || this.allQueued) {
      await new Promise((r) => setTimeout(r, 20));
      await this.running;
    }
    await this.running;
  }

  private onChange(ev: ChangeEvent): void {
    const obj = ev.object;
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name ?? '';
    if (isWorkloadGvr(ev.gvr) || (obj.kind && this.stage?.interestedIn(obj.kind))) {
      const key = `${ev.gvrKey}|${ev.key}`;
      if (ev.type === 'DELETED') {
        this.forgetSubject(key);
        if (obj.kind && ns) this.opts.notifications.forgetWorkload(ns, obj.kind, name);
        this.queue.delete(key);
      } else {
        // A workload's own spec change never needs its namespace re-checked.
        if (ev.type === 'MODIFIED' && sameSpec(ev.old, obj)) return;
        this.queue.set(key, { gvr: ev.gvr, namespace: ns, name });
      }
      if (obj.kind !== 'Namespace') {
        this.schedule();
        return;
      }
    }
    // Anything else may be a companion of the workloads around it.
    if (ev.type === 'MODIFIED' && sameSpec(ev.old, obj)) return;
    if (ns) this.namespacesQueued.add(ns);
    else if (obj.kind === 'Namespace') this.namespacesQueued.add(name);
    else this.allQueued = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.flush());
    }, this.opts.batchMs ?? 100);
  }

  private async flush(): Promise<void> {
    const stage = this.stage;
    if (!stage || this.stopped) return;
    const subjects = new Map(this.queue);
    this.queue.clear();
    const all = this.allQueued;
    this.allQueued = false;
    const namespaces = new Set(this.namespacesQueued);
    this.namespacesQueued.clear();
    try {
      if (all) {
        const results = await stage.evaluateAll();
        const seen = new Set<string>();
        for (const r of results) if (r.subject) seen.add(this.subjectKeyOf(r));
        for (const r of results) this.process(r);
        // Subjects that no longer exist (or no longer have rules) lose their findings.
        for (const k of [...this.bySubject.keys()]) if (!seen.has(k)) this.forgetSubject(k);
        return;
      }
      for (const ns of namespaces) {
        for (const w of this.opts.facts.workloads.list(ns)) this.process(await stage.evaluateWorkload(w));
        const nsObj = stage.interestedIn('Namespace') ? this.store.get(GVR.namespaces, undefined, ns) : undefined;
        if (nsObj) this.process(await stage.evaluate({ gvr: GVR.namespaces, object: nsObj }));
      }
      for (const s of subjects.values()) {
        if (s.namespace && namespaces.has(s.namespace) && isWorkloadGvr(s.gvr)) continue;
        const obj = this.store.get(s.gvr, s.namespace, s.name);
        if (!obj) continue;
        this.process(await stage.evaluate({ gvr: gvrOf(obj) ?? s.gvr, object: obj }));
      }
    } catch (err) {
      requirementMetrics.evaluations.inc({ result: 'error' });
      this.opts.log.error({ err: errorMessage(err) }, 'requirement evaluation failed; retried on the next change');
    } finally {
      this.gauges();
    }
  }

  /** The subject key a result's findings are filed under (the same form onChange uses for DELETED). */
  private subjectKeyOf(r: RequireResult): string {
    const s = r.subject;
    return s ? `${s.apiVersion}|${s.kind}|${s.namespace}/${s.name}` : '';
  }

  private process(r: RequireResult): void {
    requirementMetrics.evaluations.inc({ result: r.problems.some((p) => p.severity === 'error') ? 'error' : 'ok' });
    for (const p of r.problems) this.opts.log.warn({ pack: p.pack, rule: p.rule, object: p.object, problem: p.message }, 'requirement rule problem');
    if (!r.subject) return;
    const subject = this.subjectKeyOf(r);
    const ids = this.bySubject.get(subject) ?? new Set<string>();
    const previous = [...ids].map((id) => this.tracked.get(id)?.finding).filter((f): f is Finding => f !== undefined);
    for (const f of clearedFindings(previous, r)) {
      const t = this.tracked.get(f.id);
      if (!t) continue;
      this.untrack(f.id, subject);
      if (t.reported) {
        requirementMetrics.findings.inc({ transition: 'cleared' });
        this.opts.notifications.cleared(f);
        this.opts.log.info({ finding: f.id }, 'requirement satisfied; finding cleared');
      } else requirementMetrics.findings.inc({ transition: 'resolved' });
    }
    const now = Date.now();
    for (const f of r.findings) {
      const t = this.tracked.get(f.id);
      if (t) {
        const changed = JSON.stringify(t.finding) !== JSON.stringify(f);
        t.finding = f;
        if (t.reported && changed) void this.opts.notifications.finding(f);
        continue;
      }
      const debounce = this.opts.debounceMs ?? f.debounceMs ?? DEFAULT_REQUIREMENT_DEBOUNCE_MS;
      const nt: Tracked = { finding: f, subject, firstSeen: now, reported: false, timer: undefined };
      this.tracked.set(f.id, nt);
      ids.add(f.id);
      requirementMetrics.findings.inc({ transition: 'pending' });
      nt.timer = setTimeout(() => this.due(f.id), Math.max(0, debounce));
      nt.timer.unref();
    }
    if (ids.size) this.bySubject.set(subject, ids);
    else this.bySubject.delete(subject);
  }

  private due(id: string): void {
    const t = this.tracked.get(id);
    if (!t || t.reported || this.stopped) return;
    t.timer = undefined;
    t.reported = true;
    requirementMetrics.findings.inc({ transition: 'reported' });
    this.gauges();
    this.opts.log.info({ finding: id, afterMs: Date.now() - t.firstSeen }, 'requirement unmet after its debounce; reporting');
    void this.opts.notifications.finding(t.finding);
  }

  private untrack(id: string, subject: string): void {
    const t = this.tracked.get(id);
    if (t?.timer) clearTimeout(t.timer);
    this.tracked.delete(id);
    const ids = this.bySubject.get(subject);
    ids?.delete(id);
    if (ids && ids.size === 0) this.bySubject.delete(subject);
  }

  /** A subject was deleted (DELETED from the store, keyed `gvrKey|ns/name`) or vanished from a full evaluation. */
  private forgetSubject(key: string): void {
    // Keys from the store and from results differ in form; match either by suffix.
    for (const [subject, ids] of [...this.bySubject]) {
      if (subject !== key && !sameObject(subject, key)) continue;
      for (const id of [...ids]) this.untrack(id, subject);
    }
  }

  private gauges(): void {
    let pending = 0;
    let reported = 0;
    for (const t of this.tracked.values()) {
      if (t.reported) reported++;
      else pending++;
    }
    requirementMetrics.pending.set(pending);
    requirementMetrics.reported.set(reported);
  }
}

/** `apps/v1|Deployment|ns/name` and `apps/v1/deployments|ns/name` name the same object when kind and resource agree. */
function sameObject(resultKey: string, storeKey: string): boolean {
  const [apiVersion, kind, nsName] = resultKey.split('|');
  const [gvrKeyPart, storeNsName] = storeKey.split('|');
  if (!apiVersion || !kind || !nsName || !gvrKeyPart || nsName !== storeNsName) return false;
  const resource = gvrKeyPart.split('/').pop() ?? '';
  return resource === `${kind.toLowerCase()}s` || (kind === 'Namespace' && resource === 'namespaces');
}

function sameSpec(old: KubeObject | undefined, obj: KubeObject): boolean {
  if (!old) return false;
  const strip = (o: KubeObject): unknown => {
    const { status: _s, metadata, ...rest } = o as KubeObject & { status?: unknown };
    const md = metadata ?? {};
    return { ...rest, labels: md.labels, annotations: md.annotations, deletionTimestamp: (md as { deletionTimestamp?: unknown }).deletionTimestamp };
  };
  return jsonEqual(strip(old), strip(obj));
}

/** Kinds requirement rules name as subjects besides pod controllers, and where they live. */
const SUBJECT_KIND_RESOURCES: Record<string, { group: string; resource: string }> = {
  Certificate: { group: 'cert-manager.io', resource: 'certificates' },
  Ingress: { group: 'networking.k8s.io', resource: 'ingresses' },
  Gateway: { group: 'gateway.networking.k8s.io', resource: 'gateways' },
  HTTPRoute: { group: 'gateway.networking.k8s.io', resource: 'httproutes' },
};

/**
 * The resources requirement rules read, from the rules themselves: the (apiVersion,
 * resource) pairs their expressions pass to objectsOf / selecting / selectingLabels /
 * getObject, the `resource` params of their facts, and the kinds they evaluate. The
 * controller watches these so the rules see them; `potoo.io/requires` names arbitrary
 * kinds, which are watched only when something else selects them.
 */
export function companionResources(packs: readonly CompiledPack[]): { group: string; resource: string }[] {
  const out = new Map<string, { group: string; resource: string }>();
  const add = (apiVersion: string, resource: string): void => {
    const slash = apiVersion.lastIndexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    if (!/^[a-z0-9.-]*$/.test(group) || !/^[a-z0-9]+$/.test(resource)) return;
    out.set(`${group}|${resource}`, { group, resource });
  };
  const call = /\b(?:objectsOf|selecting|selectingLabels|getObject|objects)\(\s*['"]([a-z0-9.-]*\/?v[0-9a-z]+)['"]\s*,\s*['"]([a-z0-9]+)['"]/g;
  const param = /"resource"\s*:\s*"([a-z0-9.-]*\/?v[0-9a-z]+)\/([a-z0-9]+)"/g;
  for (const p of packs) {
    if (p.requirements.length === 0) continue;
    const text = JSON.stringify(p.document);
    for (const m of text.matchAll(call)) add(m[1] ?? '', m[2] ?? '');
    for (const m of text.matchAll(param)) add(m[1] ?? '', m[2] ?? '');
    for (const r of p.requirements) for (const k of r.kinds ?? []) if (SUBJECT_KIND_RESOURCES[k]) out.set(k, SUBJECT_KIND_RESOURCES[k]);
  }
  return [...out.values()];
}
