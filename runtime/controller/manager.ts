// `potoo controller`: wires discovery, informers, rule packs (files, ConfigMaps,
// ConstraintProfiles), the analyzer, leader election, ConstraintReports, Events and the
// HTTP endpoints into one process. Every replica keeps warm caches and answers reads;
// only the leader writes (reports, profile and NotificationPolicy status, Events).
import os from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { formatProblem, type Gvr } from '../../engine/model.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import { FactStore } from '../../engine/store/store.js';
import { gvrKey } from '../../engine/gvr.js';
import { jsonEqual } from '../../engine/store/normalize.js';
import { KubeApiError, KubeClient } from '../kube/client.js';
import { discover, type DiscoveryResult } from '../kube/discovery.js';
import { EventRecorder, type EventSpec } from './events.js';
import { Informer, type InformerStatus, type RawObject } from '../kube/informer.js';
import { LeaderElector } from '../kube/leader.js';
import { GVR, objectPath } from '../kube/paths.js';
import { createLogger, errorMessage, type Logger } from '../log.js';
import { Metrics } from '../metrics.js';
import { loadAllPacks, type PackSet } from '../packs.js';
import { TimedAnalyzer } from './analyzer.js';
import { ObjectCache } from './cache.js';
import { compileProfile, profileStatus, type CompiledProfile, type ProfileStatus } from './profiles.js';
import { ConfigMapPacks, type RulePackStatus } from './rulepacks.js';
import { ReportWriter, type ReportWriterOptions } from './reports.js';
import { knownPolicyResources, selectResources, servedVersion, type CrdInfo, type Selection } from './selection.js';
import { StoreFeed } from './storefeed.js';
import { WatchSet, type InformerTuning, type WatchedResource } from './watches.js';
import { NotificationPipeline } from './notifications.js';
import { companionResources, RequirementTracker } from './requirements.js';
import { POTOO_CONTROLLER, SignalPipeline, type SignalPipelineOptions } from './signals.js';

export interface LeaderElectionSettings {
  leaseName?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /** The controller's own namespace (Lease, default trusted namespace). */
  namespace: string;
  /** Namespaces whose labelled ConfigMaps are loaded as rule packs (default: [namespace]). */
  trustedNamespaces?: string[];
  /** This replica's name in the Lease and in reports (default: POD_NAME or host_pid). */
  identity?: string;
  /** Full discovery re-scan period (default 5 min). */
  rescanIntervalMs?: number;
  /** Re-scan this long after a CRD changes (0 = wait for the periodic scan). */
  crdRescanDelayMs?: number;
  /** false: this replica always leads (single replica, tests). */
  leaderElection?: false | LeaderElectionSettings;
  reports?: Omit<ReportWriterOptions, 'identity' | 'log' | 'metrics' | 'tuning'>;
  informer?: InformerTuning;
  packs?: { builtins?: boolean; paths?: string[] };
  maxConfigMapPackBytes?: number;
  /** How long startup waits for informers before declaring ready anyway (default 120 s). */
  syncTimeoutMs?: number;
  /** Housekeeping period: profile and NotificationPolicy status, unadapted-resource warnings (default 10 s). */
  housekeepingMs?: number;
  /** Warning Events -> correlate -> notify -> sinks and reports (default on). */
  signals?: false | { startupWindowMs?: number; hubble?: SignalPipelineOptions['hubble']; chatRepeatMs?: number; seriesFlushMs?: number };
  /** Requirements: override every rule's debounce (default: the rule's, else 90 s); false disables them. */
  requirements?: false | { debounceMs?: number };
  log?: Logger;
  metrics?: Metrics;
}

export interface ScanInfo {
  time?: string;
  durationMs?: number;
  resources?: number;
  errors: string[];
  scans: number;
}

type CachedInformer = { informer: Informer; cache: ObjectCache };

export class Controller {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly identity: string;
  readonly store: FactStore;
  readonly analyzer: TimedAnalyzer;
  private client!: KubeClient;
  private feed!: StoreFeed;
  private watches!: WatchSet;
  private crds!: CachedInformer;
  private profilesInf!: CachedInformer;
  private cmPacks!: ConfigMapPacks;
  private reports!: ReportWriter;
  private events!: EventRecorder;
  private notifications: NotificationPipeline | undefined;
  private signals: SignalPipeline | undefined;
  private requirements: RequirementTracker | undefined;
  private elector: LeaderElector | undefined;
  private builtins: PackSet = { packs: [], problems: [] };
  private profiles = new Map<string, CompiledProfile>();
  private appliedPacks: readonly CompiledPack[] = [];
  private discovery: DiscoveryResult | undefined;
  private selection: Selection = { selected: [], excluded: [] };
  private readonly scan: ScanInfo = { errors: [], scans: 0 };
  private serialQ: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private crdTimer: NodeJS.Timeout | undefined;
  private profileTimer: NodeJS.Timeout | undefined;
  private ready = false;
  private started = false;
  private stopped = false;
  private leading = false;
  private readonly warnedUnadapted = new Set<string>();
  private readonly loggedProblems = new Set<string>();
  private readonly invalidProfilesAnnounced = new Map<string, string>();
  private readonly trusted: string[];

  constructor(private readonly opts: ControllerOptions) {
    this.identity = opts.identity ?? defaultIdentity();
    this.log = opts.log ?? createLogger({ base: { identity: this.identity } });
    this.metrics = opts.metrics ?? new Metrics({ defaultMetrics: true });
    this.trusted = opts.trustedNamespaces?.length ? [...new Set(opts.trustedNamespaces)] : [opts.namespace];
    this.store = new FactStore({
      onListenerError: (err, ev) => this.log.error({ err: errorMessage(err), gvr: ev.gvrKey, key: ev.key }, 'fact store listener failed'),
    });
    this.analyzer = new TimedAnalyzer(this.store, [], this.metrics);
  }

  get isReady(): boolean {
    return this.ready;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get leaderIdentity(): string | undefined {
    return this.opts.leaderElection === false ? this.identity : this.elector?.leader;
  }

  /** Start everything; resolves once the initial sync is done (the replica is ready). */
  async start(): Promise<void> {
    if (this.started) throw new Error('controller already started');
    this.started = true;
    const t0 = performance.now();
    this.client = await KubeClient.create(this.opts.kubeConfig, { metrics: this.metrics });
    this.log.info({ server: this.client.server.origin, namespace: this.opts.namespace, trusted: this.trusted }, 'potoo controller starting');
    this.feed = new StoreFeed(this.store, this.log);
    this.watches = new WatchSet(this.client, this.feed, { log: this.log, metrics: this.metrics, ...(this.opts.informer ? { tuning: this.opts.informer } : {}) });
    this.events = new EventRecorder(this.client, { controller: POTOO_CONTROLLER, instance: this.identity, log: this.log, metrics: this.metrics });
    this.analyzer.follow((err) => this.log.error({ err: errorMessage(err) }, 'adapting a changed object failed'));

    this.builtins = await loadAllPacks(this.opts.packs?.paths ?? [], { builtins: this.opts.packs?.builtins !== false });
    for (const p of this.builtins.problems) this.log.error({ problem: formatProblem(p) }, 'built-in rule pack problem');
    this.metrics.rulePacksLoaded.set({ source: 'builtin' }, this.builtins.packs.length);

    const tuning = this.opts.informer ?? {};
    this.crds = this.cachedInformer(GVR.crds, () => this.onCrdChange(), tuning);
    this.profilesInf = this.cachedInformer(GVR.constraintProfiles, () => this.scheduleProfiles(), tuning);
    this.cmPacks = new ConfigMapPacks(this.client, {
      namespaces: this.trusted,
      log: this.log,
      metrics: this.metrics,
      ...(this.opts.maxConfigMapPackBytes !== undefined ? { maxBytes: this.opts.maxConfigMapPackBytes } : {}),
      tuning,
      onChange: () => void this.serial('rule packs changed', () => this.recompute()),
      emitEvent: (ev) => this.emitEvent(ev),
    });
    // Attributions and findings reach the reports through the writer's own build, so its
    // no-write-when-unchanged comparison covers them too.
    const reportOpts = this.opts.reports ?? {};
    this.reports = new ReportWriter(this.client, this.analyzer, {
      identity: this.identity,
      log: this.log,
      metrics: this.metrics,
      tuning,
      ...reportOpts,
      report: { ...(reportOpts.report ?? {}), sections: (ns) => this.notifications?.sections(ns) },
    });
    this.startLivePipelines(tuning);

    // Leadership is decided while caches warm up; writes wait for readiness either way.
    this.startLeaderElection();
    this.crds.informer.start();
    this.profilesInf.informer.start();
    this.cmPacks.start();
    this.reports.start();
    const syncTimeout = this.opts.syncTimeoutMs ?? 120_000;
    await withTimeout(
      Promise.all([this.crds.informer.waitForSettled(), this.profilesInf.informer.waitForSettled(), this.cmPacks.settled(), this.reports.waitForReportsListed()]),
      syncTimeout,
    );
    await this.serial('initial configuration', () => this.recompute(false));
    await this.serial('initial discovery', () => this.rescan());
    await this.watches.settled(syncTimeout);
    const unsynced = this.watches.list().filter((w) => !w.informer.synced);
    if (unsynced.length) {
      // Ready anyway: what did sync is served and reported; the rest keeps retrying.
      this.log.warn(
        { unsynced: unsynced.map((w) => ({ gvr: gvrKey(w.gvr), state: w.informer.state, error: w.informer.lastError?.message })) },
        'some informers have not synced; starting without them',
      );
    }
    await this.feedIdle();
    await this.analyzer.idle();
    // Signals start on a warm store: the first list of Warning Events is correlated against every constraint.
    this.signals?.start();
    await withTimeout(Promise.all([this.notifications?.settled(), this.signals?.settled()]), syncTimeout);
    this.requirements?.start();
    this.ready = true;
    this.metrics.ready.set(1);
    this.log.info(
      { ms: Math.round(performance.now() - t0), objects: this.store.count(), constraints: this.analyzer.constraints.size, watched: this.watches.list().length },
      'initial sync done; ready',
    );
    if (this.leading) this.onLeading();
    const every = (ms: number, what: string, fn: () => Promise<void>): void => {
      const t = setInterval(() => void this.serial(what, fn), ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.rescanIntervalMs ?? 300_000, 'periodic discovery', () => this.rescan());
    every(this.opts.housekeepingMs ?? 10_000, 'housekeeping', () => this.housekeeping());
    void this.serial('housekeeping', () => this.housekeeping());
  }

  async stop(): Promise<void> {
    if (this.stopped || !this.started) return;
    this.stopped = true;
    this.ready = false;
    this.metrics.ready.set(0);
    for (const t of this.timers) clearInterval(t);
    if (this.crdTimer) clearTimeout(this.crdTimer);
    if (this.profileTimer) clearTimeout(this.profileTimer);
    await this.elector?.stop();
    this.notifications?.setLeading(false);
    await this.signals?.stop();
    await this.requirements?.stop();
    await this.notifications?.stop();
    await this.reports.stop();
    await this.events.flush().catch(() => undefined);
    this.events.stop();
    await Promise.all([this.crds.informer.stop(), this.profilesInf.informer.stop(), this.cmPacks.stop(), this.watches.stopAll()]);
    await this.serialQ;
    this.analyzer.stop();
    this.client.close();
    this.log.info('potoo controller stopped');
  }

  // ---------------------------------------------------------------------------
  // Leadership

  private startLeaderElection(): void {
    const le = this.opts.leaderElection;
    if (le === false) {
      this.leading = true;
      this.metrics.leader.set(1);
      this.notifications?.setLeading(true);
      return;
    }
    this.elector = new LeaderElector(this.client, {
      namespace: this.opts.namespace,
      name: le?.leaseName ?? 'potoo-controller',
      identity: this.identity,
      ...(le?.leaseDurationMs !== undefined ? { leaseDurationMs: le.leaseDurationMs } : {}),
      ...(le?.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
      ...(le?.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
      log: this.log,
      metrics: this.metrics,
      onStartedLeading: () => {
        this.leading = true;
        if (this.ready) this.onLeading();
      },
      onStoppedLeading: () => {
        this.leading = false;
        this.notifications?.setLeading(false);
        this.reports.disable();
      },
      onNewLeader: (id) => this.log.info({ leader: id ?? null }, 'leader changed'),
    });
    this.elector.start();
  }

  private onLeading(): void {
    this.notifications?.setLeading(true);
    this.reports.enable();
    this.cmPacks.reannounce();
    this.invalidProfilesAnnounced.clear();
    void this.serial('profile status', () => this.syncProfileStatuses());
  }

  private emitEvent(ev: EventSpec): void {
    // Only the leader writes; a standby's view is the same, so nothing is lost.
    if (!this.leading || this.stopped) return;
    void this.events.emit(ev);
  }

  // ---------------------------------------------------------------------------
  // Serial control loop: discovery, pack swaps and watch reconciliation never overlap.

  private serial(what: string, fn: () => Promise<void>): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.stopped) return;
      try {
        await fn();
      } catch (err) {
        this.log.error({ err: errorMessage(err), task: what }, 'controller task failed; it is retried on the next trigger');
      }
    };
    this.serialQ = this.serialQ.then(run);
    return this.serialQ;
  }

  private cachedInformer(gvr: Gvr, onChange: () => void, tuning: InformerTuning): CachedInformer {
    const cache = new ObjectCache(() => onChange());
    const informer = new Informer(this.client, cache, { gvr, log: this.log, metrics: this.metrics, ...tuning });
    return { informer, cache };
  }

  private onCrdChange(): void {
    const delay = this.opts.crdRescanDelayMs ?? 2000;
    // Before the first scan the initial discovery sees the CRD anyway.
    if (this.scan.scans === 0 || delay <= 0 || this.crdTimer) return;
    this.crdTimer = setTimeout(() => {
      this.crdTimer = undefined;
      void this.serial('discovery after CRD change', () => this.rescan());
    }, delay);
  }

  private scheduleProfiles(): void {
    if (this.profileTimer) return;
    this.profileTimer = setTimeout(() => {
      this.profileTimer = undefined;
      void this.serial('profiles changed', () => this.recompute());
    }, 200);
  }

  private async feedIdle(): Promise<void> {
    while (this.feed.queued > 0) await new Promise((r) => setTimeout(r, 10));
  }

  /** Recompile profiles against the current packs, swap the analyzer's packs if they changed, re-select. */
  private async recompute(reconcile = true): Promise<void> {
    const cmPacks = this.cmPacks.packs();
    const overridden = new Set(cmPacks.map((p) => p.name));
    const base = [...this.builtins.packs.filter((p) => !overridden.has(p.name)), ...cmPacks];
    const next = new Map<string, CompiledProfile>();
    for (const obj of this.profilesInf.cache.list()) {
      const p = compileProfile(obj, base);
      const prev = this.profiles.get(p.name);
      // An unchanged profile keeps its compiled pack object, so the pack list compares equal.
      next.set(p.name, prev && prev.generation === p.generation && prev.uid === p.uid && samePackInputs(prev, p) ? prev : p);
      if (p.problems.length && (!prev || prev.generation !== p.generation)) {
        this.log.warn({ profile: p.name, problems: p.problems.map(formatProblem) }, 'ConstraintProfile is invalid');
      }
    }
    this.profiles = next;
    this.metrics.profiles.reset();
    for (const p of next.values()) this.metrics.profiles.inc({ state: p.reason });
    const packs = [...base, ...[...next.values()].flatMap((p) => (p.pack ? [p.pack] : []))];
    if (!samePacks(packs, this.appliedPacks)) {
      const t0 = performance.now();
      await this.feed.exclusive(async () => {
        await this.analyzer.idle();
        await this.analyzer.setPacks(packs);
      });
      this.appliedPacks = packs;
      this.setLivePacks(packs);
      this.metrics.rulePackReloads.inc({ result: 'ok' });
      this.metrics.rulePacksLoaded.set({ source: 'profile' }, packs.length - base.length);
      this.log.info({ packs: packs.map((p) => p.name), ms: Math.round(performance.now() - t0) }, 'rule packs applied');
    }
    if (reconcile && this.discovery) await this.reconcileWatches();
    if (this.ready) await this.syncProfileStatuses();
  }

  private crdInfos(): CrdInfo[] {
    return this.crds.cache.list().map((obj) => {
      const spec = (obj.spec ?? {}) as { group?: string; names?: { plural?: string; kind?: string } };
      const md = (obj.metadata ?? {}) as { annotations?: Record<string, string> };
      return { group: spec.group ?? '', resource: spec.names?.plural ?? '', kind: spec.names?.kind ?? '', annotations: md.annotations ?? {} };
    });
  }

  private async rescan(): Promise<void> {
    const end = this.metrics.discoveryDuration.startTimer();
    try {
      const d = await discover(this.client);
      this.discovery = d;
      this.scan.time = new Date().toISOString();
      this.scan.durationMs = Math.round(d.durationMs);
      this.scan.resources = d.resources.length;
      this.scan.errors = d.errors;
      this.scan.scans++;
      this.metrics.discoveryScans.inc({ result: d.errors.length ? 'partial' : 'ok' });
      this.metrics.discoveryLastScan.set(Date.now() / 1000);
      for (const e of d.errors) this.log.warn({ err: e }, 'discovery: group version unavailable');
    } catch (err) {
      this.metrics.discoveryScans.inc({ result: 'error' });
      this.scan.errors = [errorMessage(err)];
      this.log.warn({ err: errorMessage(err) }, 'discovery failed; keeping the previous view');
      if (!this.discovery) {
        // No view at all yet: watch the subjects and known policies at their usual versions.
        this.discovery = fallbackDiscovery();
      }
    } finally {
      end();
    }
    await this.reconcileWatches();
    if (this.ready) await this.syncProfileStatuses();
  }

  private async reconcileWatches(): Promise<void> {
    const d = this.discovery;
    if (!d) return;
    // The packs in force now decide what is a policy: after a pack reload this call (and
    // every rescan) watches what the new packs claim and stops what they no longer do.
    const known = knownPolicyResources(this.appliedPacks);
    const profiles = [...this.profiles.values()].flatMap((p) => (p.target ? [p.target] : []));
    const companions = this.opts.requirements === false ? [] : companionResources(this.appliedPacks);
    this.selection = selectResources({ resources: d.resources, preferredVersions: d.preferredVersions, crds: this.crdInfos(), known, profiles, companions });
    const r = await this.watches.reconcile(this.selection.selected);
    if (r.started.length || r.stopped.length) this.log.info({ started: r.started, stopped: r.stopped }, 'watched resources changed');
  }

  // ---------------------------------------------------------------------------
  // ConstraintProfile status (leader only)

  private async syncProfileStatuses(): Promise<void> {
    if (!this.leading || !this.discovery) return;
    const d = this.discovery;
    for (const p of this.profiles.values()) {
      const obj = this.profilesInf.cache.get(p.name);
      if (!obj || !p.target) {
        if (obj) await this.writeProfileStatus(obj, p, undefined);
        continue;
      }
      const served = servedVersion(d.resources, d.preferredVersions, p.target);
      const gvr: Gvr | undefined = served ? { group: p.target.group, version: served, resource: p.target.resource } : undefined;
      await this.writeProfileStatus(obj, p, {
        servedVersion: served,
        objects: gvr && this.watches.has(gvr) ? this.store.count(gvr) : 0,
        constraints: gvr ? this.analyzer.constraints.bySourceGvr(gvr).length : 0,
      });
    }
  }

  private async writeProfileStatus(obj: RawObject, p: CompiledProfile, facts: Parameters<typeof profileStatus>[1] | undefined): Promise<void> {
    const current = obj.status as ProfileStatus | undefined;
    const desired = JSON.parse(JSON.stringify(profileStatus(p, facts ?? { servedVersion: undefined, objects: 0, constraints: 0 }, current, new Date()))) as ProfileStatus;
    if (current && jsonEqual(current, desired)) return;
    try {
      await this.client.request({
        method: 'PATCH',
        path: objectPath(GVR.constraintProfiles, undefined, p.name, 'status'),
        body: [{ op: 'add', path: '/status', value: desired }],
        contentType: 'application/json-patch+json',
      });
    } catch (err) {
      if (!KubeApiError.is(err, 404)) this.log.warn({ profile: p.name, err: errorMessage(err) }, 'could not write ConstraintProfile status');
      return;
    }
    const invalid = desired.conditions.find((c) => c.type === 'Invalid' && c.status === 'True');
    const notServed = desired.conditions.find((c) => c.type === 'Served' && c.status === 'False');
    const note = invalid?.message ?? notServed?.message;
    const key = `${p.generation}|${note ?? ''}`;
    if (note && this.invalidProfilesAnnounced.get(p.name) !== key) {
      this.invalidProfilesAnnounced.set(p.name, key);
      const md = (obj.metadata ?? {}) as { uid?: string };
      this.emitEvent({
        regarding: { apiVersion: 'potoo.io/v1alpha1', kind: 'ConstraintProfile', name: p.name, ...(md.uid ? { uid: md.uid } : {}) },
        type: 'Warning',
        reason: invalid ? 'ProfileInvalid' : 'TargetNotServed',
        action: 'Load',
        note,
      });
    }
  }

  // ---------------------------------------------------------------------------
  // Housekeeping: things that say what is wrong without stopping anything.

  private async housekeeping(): Promise<void> {
    await this.syncProfileStatuses();
    // Not awaited: it reads channel Secrets, and the serial loop must not wait on those.
    // Periodic because a Secret appearing or going away is no policy change.
    void this.notifications?.syncPolicyStatuses();
    for (const w of this.watches.list()) {
      const k = gvrKey(w.gvr);
      if (w.reasons.includes('subject')) continue;
      // Companions (Services, ServiceMonitors) are read by requirement rules, not adapted.
      if (w.reasons.every((r) => r === 'companion')) continue;
      const objects = this.store.count(w.gvr);
      const constraints = this.analyzer.constraints.bySourceGvr(w.gvr).length;
      if (objects > 0 && constraints === 0) {
        if (!this.warnedUnadapted.has(k)) {
          this.warnedUnadapted.add(k);
          const skipped = this.analyzer.skipped().filter((s) => s.object.startsWith(`${w.kind} `)).length;
          this.log.warn(
            { gvr: k, objects, skipped, reasons: w.reasons },
            skipped > 0
              ? 'objects of a watched policy resource were skipped by its adapters (see /api/v1/capabilities)'
              : 'objects of a watched policy resource yield no constraints: no adapter matches their shape; add a ConstraintProfile with adapter rules',
          );
        }
      } else {
        this.warnedUnadapted.delete(k);
      }
    }
    let logged = 0;
    const problems = this.analyzer.problems();
    for (const p of problems) {
      const s = formatProblem(p);
      if (this.loggedProblems.has(s)) continue;
      if (this.loggedProblems.size > 10_000) this.loggedProblems.clear();
      this.loggedProblems.add(s);
      if (logged++ < 50) this.log.warn({ problem: s }, 'adapter problem');
    }
    this.metrics.adaptProblems.set(problems.length);
  }

  /** Refresh gauges that are read from live state (called before /metrics renders). */
  collectMetrics(): void {
    const m = this.metrics;
    m.storeObjects.reset();
    for (const g of this.store.gvrs()) m.storeObjects.set({ gvr: gvrKey(g) }, this.store.count(g));
    m.storeRejected.set(this.store.stats().rejected);
    m.constraints.reset();
    const counts = new Map<string, number>();
    for (const c of this.analyzer.constraints.all()) {
      const k = `${c.type}\u0000${c.severity}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const [k, n] of counts) {
      const [type, severity] = k.split('\u0000') as [string, string];
      m.constraints.set({ type, severity }, n);
    }
  }

  // ---------------------------------------------------------------------------
  // Read-side views (served by every replica)

  // The views below are asked for by the HTTP server, which starts before start() does.
  watched(): WatchedResource[] {
    return this.started ? this.watches.list() : [];
  }

  currentSelection(): Selection {
    return this.selection;
  }

  scanInfo(): ScanInfo {
    return { ...this.scan };
  }

  activePacks(): readonly CompiledPack[] {
    return this.appliedPacks;
  }

  rulePackStatus(): RulePackStatus[] {
    return this.started ? this.cmPacks.status() : [];
  }

  profileViews(): { name: string; adapter: string; reason: string; target?: unknown; problems: string[] }[] {
    return [...this.profiles.values()].map((p) => ({
      name: p.name,
      adapter: p.adapter,
      reason: p.reason,
      ...(p.target ? { target: p.target } : {}),
      problems: p.problems.map(formatProblem),
    }));
  }

  controlInformers(): InformerStatus[] {
    if (!this.started) return [];
    return [this.crds.informer.status(), this.profilesInf.informer.status(), ...this.cmPacks.informerStatus()];
  }

  reportStats(): ReturnType<ReportWriter['stats']> | undefined {
    return this.started ? this.reports.stats() : undefined;
  }

  builtinProblems(): string[] {
    return this.builtins.problems.map(formatProblem);
  }

  /** Resolves when every pending change has reached the reports (tests and benchmarks). */
  async settle(): Promise<void> {
    await this.serialQ;
    await this.feedIdle();
    await this.analyzer.idle();
    await this.signals?.idle();
    await this.requirements?.idle();
    await this.notifications?.idle();
    await this.reports.idle();
  }

  // ---------------------------------------------------------------------------
  // Signals, requirements and notifications (runtime/controller/{signals,requirements,notifications}.ts)

  private startLivePipelines(tuning: InformerTuning): void {
    const sig = this.opts.signals;
    if (sig === false && this.opts.requirements === false) return;
    this.notifications = new NotificationPipeline({
      client: this.client,
      facts: this.analyzer,
      identity: this.identity,
      trustedNamespaces: this.trusted,
      log: this.log,
      tuning,
      onReportChange: (ns) => this.reports.mark(ns),
      ...(sig && sig.chatRepeatMs !== undefined ? { chatRepeatMs: sig.chatRepeatMs } : {}),
      ...(sig && sig.seriesFlushMs !== undefined ? { seriesFlushMs: sig.seriesFlushMs } : {}),
    });
    if (sig !== false) {
      this.signals = new SignalPipeline({
        client: this.client,
        facts: this.analyzer,
        notifications: this.notifications,
        log: this.log,
        tuning,
        ...(sig?.startupWindowMs !== undefined ? { startupWindowMs: sig.startupWindowMs } : {}),
        ...(sig?.hubble ? { hubble: sig.hubble } : {}),
      });
    }
    const req = this.opts.requirements;
    if (req !== false) {
      this.requirements = new RequirementTracker({
        facts: this.analyzer,
        notifications: this.notifications,
        log: this.log,
        ...(req?.debounceMs !== undefined ? { debounceMs: req.debounceMs } : {}),
      });
    }
    this.setLivePacks(this.appliedPacks);
    this.notifications.start();
  }

  private setLivePacks(packs: readonly CompiledPack[]): void {
    this.notifications?.setPacks(packs);
    this.signals?.setPacks(packs);
    this.requirements?.setPacks(packs);
  }
}

/** The Lease holder name: the pod's name in a cluster, host and pid elsewhere. */
export function defaultIdentity(): string {
  return process.env['POD_NAME'] ?? `${os.hostname()}_${process.pid}`;
}

function samePacks(a: readonly CompiledPack[], b: readonly CompiledPack[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

/** Same named adapter resolved to the same pack (a ConfigMap edit of the named pack must recompile). */
function samePackInputs(prev: CompiledProfile, next: CompiledProfile): boolean {
  if (prev.adapter !== next.adapter || prev.problems.length !== next.problems.length) return false;
  if (!prev.pack || !next.pack) return prev.pack === next.pack;
  return jsonEqual(prev.pack.document, next.pack.document);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<undefined>((resolve) => (t = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(t));
}

/** When discovery itself fails at startup: the built-in resources, at their GA versions. */
function fallbackDiscovery(): DiscoveryResult {
  const mk = (group: string, version: string, resource: string, kind: string, namespaced: boolean) => ({
    group,
    version,
    resource,
    kind,
    namespaced,
    verbs: ['get', 'list', 'watch'],
    shortNames: [],
    preferred: true,
  });
  const resources = [
    mk('', 'v1', 'namespaces', 'Namespace', false),
    mk('', 'v1', 'pods', 'Pod', true),
    mk('', 'v1', 'replicationcontrollers', 'ReplicationController', true),
    mk('', 'v1', 'resourcequotas', 'ResourceQuota', true),
    mk('', 'v1', 'limitranges', 'LimitRange', true),
    mk('apps', 'v1', 'deployments', 'Deployment', true),
    mk('apps', 'v1', 'statefulsets', 'StatefulSet', true),
    mk('apps', 'v1', 'daemonsets', 'DaemonSet', true),
    mk('apps', 'v1', 'replicasets', 'ReplicaSet', true),
    mk('batch', 'v1', 'jobs', 'Job', true),
    mk('batch', 'v1', 'cronjobs', 'CronJob', true),
    mk('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true),
  ];
  return { resources, preferredVersions: new Map([['', 'v1'], ['apps', 'v1'], ['batch', 'v1'], ['networking.k8s.io', 'v1']]), errors: ['discovery failed; using built-in defaults'], durationMs: 0 };
}
