// The controller's delivery side: attributions and findings go through the notify stage
// (routes are rule packs, privacy is the NotificationPolicies in the cluster) and its
// Deliveries go to the sinks (Kubernetes Events on the workload, Slack, Teams, webhooks
// behind the rate-limited, retrying Notifier) or into the namespace's ConstraintReport.
//
// Every replica keeps this state warm (policies, report sections), so a new leader
// writes the same reports; only the leader hands anything to a sink, and only the leader
// writes the NotificationPolicies' status (policystatus.ts).
import type { Attribution, Delivery, Finding, Severity } from '../../engine/model.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import { jsonEqual } from '../../engine/store/normalize.js';
import { NOTIFICATION_POLICY_API_VERSION, NOTIFICATION_POLICY_KIND, NotifyStage, OWNER_RESOURCES, type NotificationPolicy, type NotifySubject, type StageFacts } from '../../engine/stages/index.js';
import { KubeApiError, type KubeClient } from '../kube/client.js';
import { Informer, type RawObject } from '../kube/informer.js';
import { GVR, objectPath } from '../kube/paths.js';
import { errorMessage, type Logger } from '../log.js';
import { DeliverySinks, EventSink, Notifier, SlidingWindowLimiter, sinkMetrics, type Notification } from '../sinks/index.js';
import { counter } from '../sinks/promutil.js';
import { keyOf, ObjectCache } from './cache.js';
import { checkPolicy, policyStatus, secretReason, type PolicyStatus, type SecretCheck } from './policystatus.js';
import type { ReportSections, ReportSignalEntry } from './report.js';
import { POTOO_CONTROLLER } from './signals.js';
import type { InformerTuning } from './watches.js';

export const notifyMetrics = {
  subjects: counter('potoo_notify_subjects_total', 'Attributions and findings handed to the notify stage, by kind.', ['kind']),
  deliveries: counter('potoo_notify_deliveries_total', 'Deliveries the notify stage produced, by channel and what became of them (submitted, report, suppressed, standby, refused, unroutable).', ['channel', 'result']),
  problems: counter('potoo_notify_problems_total', 'Notification rule problems (bad templates, failed conditions).'),
  policies: counter('potoo_notification_policies_loaded_total', 'NotificationPolicy sets loaded from the cluster (after each change).'),
};

export interface NotificationPipelineOptions {
  client: KubeClient;
  facts: StageFacts;
  identity: string;
  /** Namespaces whose NotificationPolicies are cluster policies (the controller's trusted ones). */
  trustedNamespaces: readonly string[];
  log: Logger;
  tuning?: InformerTuning;
  /** A namespace's report sections changed: the report writer should rebuild it. */
  onReportChange: (namespace: string) => void;
  /** Chat/webhook deliveries of one attribution are not repeated within this window (default 10 min). */
  chatRepeatMs?: number;
  /** Attributions stay in the report this long after they were last seen (default 1 h, the Event TTL). */
  attributionTtlMs?: number;
  /** Report entries per namespace and section (default 50, newest kept). */
  maxReportEntries?: number;
  /** Series count updates of Potoo's Events (default 10 s). */
  seriesFlushMs?: number;
  notifier?: { attemptTimeoutMs?: number; maxAttempts?: number };
  /** Policy status is written this long after a policy changes (default 200 ms). */
  statusDelayMs?: number;
}

interface Tracked {
  entry: ReportSignalEntry;
  /** ms since epoch, for expiry. */
  last: number;
}

const SEVERITY_RANK: Record<Severity, number> = { Critical: 0, Warning: 1, Info: 2 };

export class NotificationPipeline {
  private stage: NotifyStage | undefined;
  private readonly policiesInf: Informer;
  private readonly policiesCache: ObjectCache;
  readonly events: EventSink;
  readonly sinks: DeliverySinks;
  readonly notifier: Notifier;
  private leading = false;
  private readonly attributions = new Map<string, Map<string, Tracked>>();
  private readonly findings = new Map<string, Map<string, Tracked>>();
  /** `<subject id>|<channel>` -> last chat submit (ms). */
  private readonly chatSent = new Map<string, number>();
  private readonly pruneTimer: NodeJS.Timeout;
  /** Per namespace, at the NotificationPolicy's rateLimitPerMinute (default 100). */
  private readonly limiters = new Map<string, SlidingWindowLimiter>();
  private readonly limitLogged = new Map<string, number>();
  /** Specs last handed to the stage, and uid/generation of each policy: status writes come back as changes too. */
  private loadedPolicies: NotificationPolicy[] | undefined;
  private policyVersions = '';
  /** Per policy (`namespace/name`): deliveries not in its status yet. */
  private readonly delivered = new Map<string, { count: number; last: string }>();
  /** Per policy: what this replica last wrote, over which resourceVersion, for while the cache has not seen the write. */
  private readonly written = new Map<string, { uid: string; rv: string; status: PolicyStatus }>();
  private readonly announced = new Map<string, string>();
  private statusQ: Promise<void> = Promise.resolve();
  private statusQueued = false;
  private statusTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly opts: Required<Pick<NotificationPipelineOptions, 'chatRepeatMs' | 'attributionTtlMs' | 'maxReportEntries'>> & NotificationPipelineOptions;

  constructor(opts: NotificationPipelineOptions) {
    this.opts = { chatRepeatMs: 10 * 60_000, attributionTtlMs: 60 * 60_000, maxReportEntries: 50, ...opts };
    this.policiesCache = new ObjectCache(() => this.reloadPolicies());
    this.policiesInf = new Informer(opts.client, this.policiesCache, { gvr: GVR.notificationPolicies, log: opts.log, ...(opts.tuning ?? {}) });
    this.events = new EventSink({
      client: opts.client,
      reportingController: POTOO_CONTROLLER,
      reportingInstance: opts.identity,
      log: opts.log,
      ...(opts.seriesFlushMs !== undefined ? { seriesFlushMs: opts.seriesFlushMs } : {}),
    });
    this.sinks = new DeliverySinks({ client: opts.client, events: this.events });
    // The per-namespace limit is applied here, where each namespace's policy is known.
    this.notifier = new Notifier({ sinks: this.sinks.sinkFor, log: opts.log, perNamespacePerMinute: 0, onDelivered: (n) => this.countDelivery(n), ...(opts.notifier ?? {}) });
    this.pruneTimer = setInterval(() => this.prune(), 60_000);
    this.pruneTimer.unref();
  }

  start(): void {
    this.policiesInf.start();
  }

  async settled(): Promise<void> {
    await this.policiesInf.waitForSettled();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pruneTimer);
    if (this.statusTimer) clearTimeout(this.statusTimer);
    await this.policiesInf.stop();
    await this.statusQ;
    await this.notifier.stop(2000);
    await this.events.flush().catch(() => undefined);
    this.stage?.dispose();
  }

  setLeading(leading: boolean): void {
    const was = this.leading;
    this.leading = leading;
    if (leading && !was) this.scheduleStatus();
  }

  setPacks(packs: readonly CompiledPack[]): void {
    this.stage?.dispose();
    this.stage = new NotifyStage(packs, this.opts.facts, { policies: this.policies(), trustedNamespaces: this.opts.trustedNamespaces });
  }

  /** Resolves when every queued notification has been delivered or given up on (tests, benchmarks). */
  async idle(): Promise<void> {
    await this.notifier.idle();
  }

  /** An attribution from a Warning Event or a dropped flow. `observedAt`: when the signal was seen. */
  async attribution(a: Attribution, observedAt = new Date()): Promise<void> {
    await this.notify({ kind: 'attribution', attribution: a }, observedAt);
  }

  /** A finding whose debounce has passed (or a repeat of one already reported). */
  async finding(f: Finding): Promise<void> {
    await this.notify({ kind: 'finding', finding: f }, new Date());
  }

  /** A reported finding is satisfied now: its report entry goes, and the workload gets a Normal Event saying so. */
  cleared(f: Finding): void {
    const ns = f.workload.namespace;
    const m = this.findings.get(ns);
    if (m?.delete(f.id)) this.opts.onReportChange(ns);
    if (!this.leading || !f.workload.name) return;
    const n: Notification = {
      id: `cleared:${f.id}`,
      channel: 'kubernetes-event',
      namespace: ns,
      severity: 'Info',
      audience: 'developer',
      detail: 'summary',
      title: `${f.workload.kind} ${f.workload.name}`,
      text: `requirement satisfied: ${[f.expects.kind, f.expects.name].filter(Boolean).join(' ')} now present (${f.rule.rule})`,
      regarding: { ...f.workload, ...this.uidOf(f.workload) },
      reason: 'RequirementSatisfied',
      action: 'Require',
      createdAt: new Date().toISOString(),
    };
    this.submit(n, 'kubernetes-event');
  }

  /** What the namespace's ConstraintReport lists besides its constraints. */
  sections(namespace: string): ReportSections | undefined {
    const a = this.attributions.get(namespace);
    const f = this.findings.get(namespace);
    if (!a?.size && !f?.size) return undefined;
    const list = (m: Map<string, Tracked> | undefined): ReportSignalEntry[] =>
      [...(m?.values() ?? [])].map((t) => t.entry).sort((x, y) => SEVERITY_RANK[x.severity] - SEVERITY_RANK[y.severity] || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    return { attributions: list(a), findings: list(f) };
  }

  private async notify(subject: NotifySubject, observedAt: Date): Promise<void> {
    const stage = this.stage;
    if (!stage) return;
    notifyMetrics.subjects.inc({ kind: subject.kind });
    let result;
    try {
      result = await stage.notify({ subject });
    } catch (err) {
      // The stage reports problems as values; a throw is a bug, never a reason to stop.
      notifyMetrics.problems.inc();
      this.opts.log.error({ err: errorMessage(err), subject: subject.kind }, 'notify stage failed');
      return;
    }
    for (const p of result.problems) {
      notifyMetrics.problems.inc();
      this.opts.log.warn({ pack: p.pack, rule: p.rule, field: p.field, problem: p.message }, 'notification rule problem');
    }
    for (const d of result.deliveries) this.deliver(d, subject, observedAt);
  }

  private deliver(d: Delivery, subject: NotifySubject, observedAt: Date): void {
    if (d.channel === 'report') {
      this.toReport(d, subject, observedAt);
      notifyMetrics.deliveries.inc({ channel: 'report', result: 'report' });
      return;
    }
    const w = d.data.workload as { apiVersion?: string; kind?: string; name?: string; namespace?: string } | null | undefined;
    // `kubectl describe` finds Events by the object's uid: attach it (the workload is the audience's own).
    if (w && w.kind && w.name && w.namespace) {
      const uid = this.uidOf({ apiVersion: w.apiVersion ?? '', kind: w.kind, name: w.name, namespace: w.namespace });
      if (uid.uid) d.data.workload = { ...w, uid: uid.uid };
    }
    const n = this.sinks.toNotification(d, { createdAt: observedAt.toISOString() });
    if (!n) {
      notifyMetrics.deliveries.inc({ channel: d.channel, result: 'unroutable' });
      return;
    }
    if (!this.leading) {
      notifyMetrics.deliveries.inc({ channel: d.channel, result: 'standby' });
      return;
    }
    if (n.channel !== 'kubernetes-event') {
      // Chat readers want one message per failure, not one per repeat: the Event's series
      // and the report's count carry the repeats.
      const key = `${d.subject.id}|${n.channel}|${d.audience}`;
      const last = this.chatSent.get(key);
      const now = Date.now();
      if (last !== undefined && now - last < this.opts.chatRepeatMs) {
        notifyMetrics.deliveries.inc({ channel: d.channel, result: 'suppressed' });
        return;
      }
      this.chatSent.set(key, now);
      if (this.chatSent.size > 10_000) this.chatSent.delete(this.chatSent.keys().next().value as string);
    }
    this.submit(n, d.channel);
  }

  private submit(n: Notification, channel: string): void {
    if (!this.admit(n)) {
      notifyMetrics.deliveries.inc({ channel, result: 'rate-limited' });
      return;
    }
    const r = this.notifier.submit(n);
    notifyMetrics.deliveries.inc({ channel, result: r === 'queued' ? 'submitted' : 'refused' });
    if (r !== 'queued' && r !== 'rate-limited') this.opts.log.warn({ id: n.id, channel: n.channel, result: r }, 'notification not queued');
  }

  private admit(n: Notification): boolean {
    const ns = n.namespace || '_cluster';
    const limit = this.stage?.policyFor(n.namespace).rateLimitPerMinute ?? 100;
    let l = this.limiters.get(ns);
    if (!l || l.limit !== limit) this.limiters.set(ns, (l = new SlidingWindowLimiter(limit)));
    if (l.tryAcquire(ns)) return true;
    sinkMetrics.rateLimited.inc({ namespace: ns, channel: n.channel });
    const now = Date.now();
    if ((this.limitLogged.get(ns) ?? 0) < now - 60_000) {
      this.limitLogged.set(ns, now);
      this.opts.log.warn({ namespace: ns, limit }, 'notification rate limit reached for the namespace; further notifications this minute are dropped (potoo_notification_rate_limited_total)');
    }
    return false;
  }

  private uidOf(w: { apiVersion: string; kind: string; name: string; namespace: string }): { uid?: string } {
    const r = OWNER_RESOURCES[w.kind];
    if (!r) return {};
    const store = this.opts.facts.store;
    for (const g of store.gvrs()) {
      if (g.group !== r.group || g.resource !== r.resource) continue;
      const uid = store.get(g, w.namespace, w.name)?.metadata?.uid;
      if (typeof uid === 'string' && uid) return { uid };
    }
    return {};
  }

  private toReport(d: Delivery, subject: NotifySubject, observedAt: Date): void {
    const ns = d.subject.namespace ?? '';
    if (!ns) return;
    const constraints = Array.isArray(d.data.constraints)
      ? (d.data.constraints as { label?: unknown }[]).map((c) => c.label).filter((l): l is string => typeof l === 'string' && l !== '')
      : [];
    const severity = (d.data.severity as Severity | undefined) ?? 'Warning';
    let target: Map<string, Map<string, Tracked>>;
    let entry: ReportSignalEntry;
    if (subject.kind === 'attribution') {
      const a = subject.attribution;
      target = this.attributions;
      const prev = this.attributions.get(ns)?.get(a.id)?.entry;
      entry = {
        id: a.id,
        rule: `${a.rule.pack}/${a.rule.rule}`,
        severity,
        text: d.text,
        ...(a.workload ? { workload: `${a.workload.kind}/${a.workload.name}` } : {}),
        ...(constraints.length ? { constraints } : {}),
        count: Math.max(a.count ?? 1, prev?.count ?? 0),
        firstSeen: prev?.firstSeen ?? a.lastSeen ?? observedAt.toISOString(),
        lastSeen: a.lastSeen || observedAt.toISOString(),
      };
    } else if (subject.kind === 'finding') {
      const f = subject.finding;
      target = this.findings;
      const prev = this.findings.get(ns)?.get(f.id)?.entry;
      entry = {
        id: f.id,
        rule: `${f.rule.pack}/${f.rule.rule}`,
        severity,
        text: d.text,
        workload: `${f.workload.kind}/${f.workload.name}`,
        expects: f.expects,
        firstSeen: prev?.firstSeen ?? observedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      };
    } else return;
    let m = target.get(ns);
    if (!m) target.set(ns, (m = new Map()));
    const prev = m.get(entry.id);
    m.set(entry.id, { entry, last: Date.now() });
    if (m.size > this.opts.maxReportEntries) {
      // Keep the most recently seen.
      const oldest = [...m.entries()].sort((x, y) => x[1].last - y[1].last)[0];
      if (oldest) m.delete(oldest[0]);
    }
    if (!prev || !jsonEqual(prev.entry, entry)) this.opts.onReportChange(ns);
  }

  /** Findings of workloads that are gone. */
  forgetWorkload(namespace: string, kind: string, name: string): void {
    const m = this.findings.get(namespace);
    if (!m) return;
    let changed = false;
    for (const [id, t] of m) {
      if (t.entry.workload === `${kind}/${name}`) {
        m.delete(id);
        changed = true;
      }
    }
    if (changed) this.opts.onReportChange(namespace);
  }

  private prune(): void {
    const cutoff = Date.now() - this.opts.attributionTtlMs;
    for (const [ns, m] of this.attributions) {
      let changed = false;
      for (const [id, t] of m) {
        if (t.last < cutoff) {
          m.delete(id);
          changed = true;
        }
      }
      if (m.size === 0) this.attributions.delete(ns);
      if (changed) this.opts.onReportChange(ns);
    }
    for (const l of this.limiters.values()) l.prune();
    const chatCutoff = Date.now() - this.opts.chatRepeatMs;
    for (const [k, t] of this.chatSent) if (t < chatCutoff) this.chatSent.delete(k);
  }

  private policies(): NotificationPolicy[] {
    return this.policiesCache.list().flatMap((o) => {
      const md = (o.metadata ?? {}) as { name?: string; namespace?: string };
      const spec = o.spec;
      if (!md.name || typeof spec !== 'object' || spec === null) return [];
      return [{ apiVersion: NOTIFICATION_POLICY_API_VERSION, kind: NOTIFICATION_POLICY_KIND, metadata: { name: md.name, ...(md.namespace ? { namespace: md.namespace } : {}) }, spec: spec as NotificationPolicy['spec'] }];
    });
  }

  private reloadPolicies(): void {
    const versions = JSON.stringify(
      this.policiesCache.list().map((o) => {
        const md = (o.metadata ?? {}) as { uid?: string; generation?: number };
        return [keyOf(o), md.uid, md.generation];
      }),
    );
    if (versions !== this.policyVersions) {
      this.policyVersions = versions;
      this.scheduleStatus();
    }
    const list = this.policies();
    // A status write (ours) changes the object, not the policy: nothing to reload.
    if (this.loadedPolicies && jsonEqual(this.loadedPolicies, list)) return;
    this.loadedPolicies = list;
    this.stage?.setPolicies(list);
    notifyMetrics.policies.inc();
    this.opts.log.info({ policies: list.map((p) => `${p.metadata.namespace ?? ''}/${p.metadata.name}`) }, 'notification policies loaded');
  }

  // ---------------------------------------------------------------------------
  // NotificationPolicy status (leader only)

  /** Write every policy's status where it changed. Runs one at a time; one queued run covers every call made before it starts. */
  syncPolicyStatuses(): Promise<void> {
    if (this.statusQueued) return this.statusQ;
    this.statusQueued = true;
    this.statusQ = this.statusQ
      .then(async () => {
        this.statusQueued = false;
        if (!this.leading || this.stopped) return;
        const objs = this.policiesCache.list();
        const keys = new Set(objs.map(keyOf));
        for (const m of [this.delivered, this.written, this.announced]) for (const k of m.keys()) if (!keys.has(k)) m.delete(k);
        for (const obj of objs) {
          if (!this.leading || this.stopped) return;
          await this.writePolicyStatus(obj);
        }
      })
      .catch((err: unknown) => this.opts.log.error({ err: errorMessage(err) }, 'writing NotificationPolicy status failed'));
    return this.statusQ;
  }

  private scheduleStatus(): void {
    if (!this.leading || this.stopped || this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      void this.syncPolicyStatuses();
    }, this.opts.statusDelayMs ?? 200);
    this.statusTimer.unref();
  }

  private countDelivery(n: Notification): void {
    // Kubernetes Events and report entries belong to no policy; chat and webhook targets do.
    const policy = this.sinks.targetOf(n.channel)?.policy;
    if (!policy) return;
    const d = this.delivered.get(policy) ?? { count: 0, last: '' };
    d.count++;
    d.last = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.delivered.set(policy, d);
  }

  private async writePolicyStatus(obj: RawObject): Promise<void> {
    const check = checkPolicy(obj, this.opts.trustedNamespaces);
    const secrets: SecretCheck[] = [];
    for (const ch of check.channels) {
      for (const ref of ch.secrets) {
        const err = await this.sinks.checkSecret(ref);
        if (err) secrets.push({ channel: ch.name, field: ref.field, reason: secretReason(err.problem), message: err.message });
      }
    }
    const md = (obj.metadata ?? {}) as { uid?: string; resourceVersion?: string };
    const uid = md.uid ?? '';
    const rv = md.resourceVersion ?? '';
    const current = obj.status as PolicyStatus | undefined;
    // The count lives in the status, so it survives restarts and leader changes; our own
    // last write stands in for the cache until the cache has caught up with it.
    const mine = this.written.get(check.key);
    const own = mine && mine.uid === uid ? mine.status : undefined;
    const pending = this.delivered.get(check.key);
    const taken = pending?.count ?? 0;
    // ISO times in UTC compare as strings: the latest of ours and what is stored.
    const last = [pending?.last, own?.lastDeliveryTime, current?.lastDeliveryTime].filter((t): t is string => !!t).sort().pop();
    const deliveries = Math.max(current?.deliveries ?? 0, own?.deliveries ?? 0) + taken;
    const desired = policyStatus(check, { secrets, deliveries, ...(last ? { lastDeliveryTime: last } : {}) }, current, new Date());
    if (current && jsonEqual(current, desired)) return;
    // Same object version as when we wrote, same status: the apiserver has it, the cache is behind.
    if (mine && mine.uid === uid && mine.rv === rv && jsonEqual(mine.status, desired)) return;
    try {
      await this.opts.client.request({
        method: 'PATCH',
        path: objectPath(GVR.notificationPolicies, check.namespace, check.name, 'status'),
        body: [{ op: 'add', path: '/status', value: desired }],
        contentType: 'application/json-patch+json',
      });
    } catch (err) {
      if (!KubeApiError.is(err, 404)) this.opts.log.warn({ policy: check.key, err: errorMessage(err) }, 'could not write NotificationPolicy status');
      return;
    }
    this.written.set(check.key, { uid, rv, status: desired });
    if (pending) {
      pending.count -= taken;
      if (pending.count === 0) this.delivered.delete(check.key);
    }
    const notReady = desired.conditions.find((c) => c.type === 'Ready' && c.status !== 'True');
    const note = notReady ? `${notReady.reason}: ${notReady.message}` : '';
    if (note && this.announced.get(check.key) !== note) {
      this.opts.log.warn({ policy: check.key, reason: notReady!.reason, problem: notReady!.message }, 'NotificationPolicy is not ready');
    }
    this.announced.set(check.key, note);
  }
}
