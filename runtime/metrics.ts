// Prometheus metrics for the controller. One registry per controller instance, so two
// controllers in one process (tests, benchmarks) never share counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  // Informers
  readonly informerRestarts: Counter<'gvr' | 'reason'>;
  readonly informerRelists: Counter<'gvr' | 'reason'>;
  readonly informerErrors: Counter<'gvr' | 'code'>;
  readonly informerSynced: Gauge<'gvr'>;
  readonly watchEvents: Counter<'gvr' | 'type'>;
  readonly watchDecodeErrors: Counter<'gvr'>;
  readonly informersRunning: Gauge;

  // Fact store and constraints (set at scrape time from the live objects)
  readonly storeObjects: Gauge<'gvr'>;
  readonly storeRejected: Gauge;
  readonly constraints: Gauge<'type' | 'severity'>;
  readonly adaptDuration: Histogram<'gvr'>;
  readonly adaptProblems: Gauge;

  // Discovery
  readonly discoveryScans: Counter<'result'>;
  readonly discoveryDuration: Histogram;
  readonly discoveryLastScan: Gauge;
  readonly watchedGvrs: Gauge<'reason'>;

  // Rule packs and profiles
  readonly rulePackLoadErrors: Counter<'source'>;
  readonly rulePacksLoaded: Gauge<'source'>;
  readonly rulePackReloads: Counter<'result'>;
  readonly profiles: Gauge<'state'>;

  // Reports
  readonly reportWrites: Counter<'result'>;
  readonly reportLatency: Histogram;
  readonly reports: Gauge;

  // Leadership, API traffic, readiness
  readonly leader: Gauge;
  readonly leaderTransitions: Counter;
  readonly kubeRequests: Counter<'verb' | 'code'>;
  readonly kubeRequestDuration: Histogram<'verb'>;
  readonly eventsEmitted: Counter<'reason' | 'result'>;
  readonly ready: Gauge;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const r = [this.registry];
    this.informerRestarts = new Counter({ name: 'potoo_informer_restarts_total', help: 'Watch restarts by reason (error, expired, idle, closed)', labelNames: ['gvr', 'reason'], registers: r });
    this.informerRelists = new Counter({ name: 'potoo_informer_relists_total', help: 'Full lists by reason (initial, expired, resync, error)', labelNames: ['gvr', 'reason'], registers: r });
    this.informerErrors = new Counter({ name: 'potoo_informer_errors_total', help: 'List/watch errors by HTTP status (0 = network)', labelNames: ['gvr', 'code'], registers: r });
    this.informerSynced = new Gauge({ name: 'potoo_informer_synced', help: '1 when the informer has completed a list and is watching', labelNames: ['gvr'], registers: r });
    this.watchEvents = new Counter({ name: 'potoo_watch_events_total', help: 'Watch events received', labelNames: ['gvr', 'type'], registers: r });
    this.watchDecodeErrors = new Counter({ name: 'potoo_watch_decode_errors_total', help: 'Watch lines that were not valid JSON (stream cut mid-object)', labelNames: ['gvr'], registers: r });
    this.informersRunning = new Gauge({ name: 'potoo_informers', help: 'Informers running', registers: r });
    this.storeObjects = new Gauge({ name: 'potoo_store_objects', help: 'Objects in the fact store per GVR', labelNames: ['gvr'], registers: r });
    this.storeRejected = new Gauge({ name: 'potoo_store_rejected_objects', help: 'Objects the fact store refused (malformed, oversized)', registers: r });
    this.constraints = new Gauge({ name: 'potoo_constraints', help: 'Constraints indexed, by type and severity', labelNames: ['type', 'severity'], registers: r });
    this.adaptDuration = new Histogram({
      name: 'potoo_adapt_duration_seconds',
      help: 'Time to adapt one object into constraints',
      labelNames: ['gvr'],
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers: r,
    });
    this.adaptProblems = new Gauge({ name: 'potoo_adapt_problems', help: 'Current adapter problems (objects a rule failed on)', registers: r });
    this.discoveryScans = new Counter({ name: 'potoo_discovery_scans_total', help: 'API discovery scans', labelNames: ['result'], registers: r });
    this.discoveryDuration = new Histogram({ name: 'potoo_discovery_duration_seconds', help: 'Duration of a discovery scan', buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10], registers: r });
    this.discoveryLastScan = new Gauge({ name: 'potoo_discovery_last_scan_timestamp_seconds', help: 'Unix time of the last successful discovery scan', registers: r });
    this.watchedGvrs = new Gauge({ name: 'potoo_watched_gvrs', help: 'Policy GVRs watched, by why they were selected', labelNames: ['reason'], registers: r });
    this.rulePackLoadErrors = new Counter({ name: 'potoo_rulepack_load_errors_total', help: 'Rule packs rejected at load (invalid YAML, schema or expressions)', labelNames: ['source'], registers: r });
    this.rulePacksLoaded = new Gauge({ name: 'potoo_rulepacks_loaded', help: 'Rule packs active, by source', labelNames: ['source'], registers: r });
    this.rulePackReloads = new Counter({ name: 'potoo_rulepack_reloads_total', help: 'Hot reloads of the active rule packs', labelNames: ['result'], registers: r });
    this.profiles = new Gauge({ name: 'potoo_constraint_profiles', help: 'ConstraintProfiles by state', labelNames: ['state'], registers: r });
    this.reportWrites = new Counter({ name: 'potoo_report_writes_total', help: 'ConstraintReport writes (created, updated, deleted, unchanged, error)', labelNames: ['result'], registers: r });
    this.reportLatency = new Histogram({ name: 'potoo_report_latency_seconds', help: 'From the first change to a namespace to its report being written', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers: r });
    this.reports = new Gauge({ name: 'potoo_constraint_reports', help: 'ConstraintReports this controller keeps', registers: r });
    this.leader = new Gauge({ name: 'potoo_leader', help: '1 when this replica holds the leader Lease', registers: r });
    this.leaderTransitions = new Counter({ name: 'potoo_leader_transitions_total', help: 'Times this replica gained or lost leadership', registers: r });
    this.kubeRequests = new Counter({ name: 'potoo_kube_requests_total', help: 'Requests to the Kubernetes API by verb and status (0 = network error)', labelNames: ['verb', 'code'], registers: r });
    this.kubeRequestDuration = new Histogram({ name: 'potoo_kube_request_duration_seconds', help: 'Kubernetes API request duration (excluding watch streams)', labelNames: ['verb'], buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: r });
    this.eventsEmitted = new Counter({ name: 'potoo_events_emitted_total', help: 'Kubernetes Events written', labelNames: ['reason', 'result'], registers: r });
    this.ready = new Gauge({ name: 'potoo_ready', help: '1 once every informer has synced and the first adaptation is done', registers: r });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'potoo_' });
  }
}
