// From one AdmissionReview body to the response: parse, build the scope target from the
// admitted object, ask the constraint index what applies, render privacy-scoped warning
// lines. Every path answers `allowed: true`; a failure anywhere costs the warnings, never
// the request.
import type { Logger } from 'pino';
import type { Audience, DetailLevel, Gvr, KubeObject, ScopeTarget, Severity } from '../../engine/model.js';
import { objectTarget, workloadFromObject, workloadTarget } from '../../engine/store/workloads.js';
import { allowedReview, parseAdmissionReview, type AdmissionRequest, type AdmissionReviewOut, type AdmissionVersion } from './admission.js';
import { webhookMetrics } from './metrics.js';
import { renderWarnings, type ApplicableConstraint, type AudienceResolver, type ConstraintRenderer, type WarningContext } from './warnings.js';

/** What the handler needs from a fact store + constraint index (an Analyzer satisfies it via {@link analyzerLookup}). */
export interface ConstraintLookup {
  applicableTo(target: ScopeTarget): ApplicableConstraint[];
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
}

export interface HandlerOptions {
  lookup: ConstraintLookup;
  log?: Logger;
  render?: ConstraintRenderer;
  audience?: AudienceResolver;
  detail?: DetailLevel;
  maxLines?: number;
  /** Severities worth a warning line (default Critical and Warning). */
  severities?: readonly Severity[];
  /**
   * Skip the lookup when the request already waited this long (event-loop lag under
   * load): an answer without warnings in time beats a complete one after the API
   * server gave up. Default 500 ms.
   */
  budgetMs?: number;
  /** Pod-template owners already answer for their pods (default true: no warnings for controller-made pods/ReplicaSets). */
  skipOwned?: boolean;
}

export type Outcome = 'warned' | 'clean' | 'skipped' | 'malformed' | 'error' | 'late';

export interface HandlerResult {
  /** HTTP status: 200 with a review, or 400 when the body did not identify a request. */
  status: 200 | 400;
  body: AdmissionReviewOut | { error: string };
  outcome: Outcome;
  warnings: string[];
}

const defaultAudience: AudienceResolver = () => 'developer';

export class AdmissionHandler {
  private readonly lookup: ConstraintLookup;
  private readonly log: Logger | undefined;
  private readonly budgetMs: number;

  constructor(private readonly opts: HandlerOptions) {
    this.lookup = opts.lookup;
    this.log = opts.log;
    this.budgetMs = opts.budgetMs ?? 500;
  }

  /** Answer one body. `receivedAt` is performance.now() when the request arrived. */
  handle(body: string | Buffer, receivedAt: number = performance.now()): HandlerResult {
    const parsed = parseAdmissionReview(body);
    if (!parsed.ok) {
      webhookMetrics.malformed.inc({ reason: parsed.reason });
      webhookMetrics.requests.inc({ outcome: 'malformed' });
      this.log?.warn({ reason: parsed.reason, uid: parsed.uid }, `malformed AdmissionReview: ${parsed.message}`);
      if (parsed.uid) return { status: 200, body: allowedReview(parsed.uid, [], parsed.apiVersion), outcome: 'malformed', warnings: [] };
      return { status: 400, body: { error: parsed.message }, outcome: 'malformed', warnings: [] };
    }
    const { request, apiVersion } = parsed;
    let outcome: Outcome;
    let warnings: string[] = [];
    if (performance.now() - receivedAt > this.budgetMs) {
      outcome = 'late';
      this.log?.warn({ uid: request.uid, waitedMs: Math.round(performance.now() - receivedAt) }, 'admission request waited past its budget; answering without warnings');
    } else {
      try {
        const r = this.warningsFor(request);
        outcome = r.outcome;
        warnings = r.warnings;
      } catch (err) {
        outcome = 'error';
        this.log?.error({ err, uid: request.uid, kind: request.kind.kind, namespace: request.namespace }, 'computing admission warnings failed; allowing without warnings');
      }
    }
    webhookMetrics.requests.inc({ outcome });
    if (warnings.length) webhookMetrics.warnings.inc(warnings.length);
    return { status: 200, body: allowedReview(request.uid, warnings, apiVersion as AdmissionVersion), outcome, warnings };
  }

  private warningsFor(request: AdmissionRequest): { outcome: Outcome; warnings: string[] } {
    if ((request.operation !== 'CREATE' && request.operation !== 'UPDATE') || request.subResource || !request.object) return { outcome: 'skipped', warnings: [] };
    const namespace = request.namespace ?? '';
    // On CREATE the object may carry neither namespace nor name (generateName): the request has them.
    const meta = { ...(request.object.metadata ?? {}) };
    if (namespace && !meta.namespace) meta.namespace = namespace;
    if (!meta.name && request.name) meta.name = request.name;
    const object: KubeObject = { ...request.object, metadata: meta };
    const gvr: Gvr = request.resource;
    const target = this.targetFor(gvr, object, namespace, request.operation);
    if (!target) return { outcome: 'skipped', warnings: [] };

    const applicable = this.lookup.applicableTo(target);
    const ctx: WarningContext = {
      namespace,
      audience: this.audienceFor(request, namespace),
      detail: this.opts.detail ?? 'summary',
      user: request.userInfo,
      kind: request.kind.kind,
      name: meta.name ?? '',
    };
    const warnings = renderWarnings(applicable, ctx, {
      ...(this.opts.render ? { render: this.opts.render } : {}),
      ...(this.opts.maxLines !== undefined ? { maxLines: this.opts.maxLines } : {}),
      ...(this.opts.severities ? { severities: this.opts.severities } : {}),
    });
    return { outcome: warnings.length ? 'warned' : 'clean', warnings };
  }

  private audienceFor(request: AdmissionRequest, namespace: string): Audience {
    try {
      return (this.opts.audience ?? defaultAudience)(request.userInfo, namespace);
    } catch {
      return 'developer';
    }
  }

  private targetFor(gvr: Gvr, object: KubeObject, namespace: string, operation: string): ScopeTarget | undefined {
    const labels = namespace ? this.lookup.namespaceLabels(namespace) : undefined;
    const w = workloadFromObject(gvr, object);
    if (w) return workloadTarget(w, labels, operation);
    // workloadFromObject declines pods and ReplicaSets its controller already answers
    // for: the controller's own admission carried the warnings to a human.
    if (this.opts.skipOwned !== false && object.metadata?.ownerReferences?.some((o) => o.controller === true)) return undefined;
    return objectTarget(gvr, object, labels, operation);
  }
}

/** Adapt an Analyzer (engine/analyzer.ts) to the handler's lookup. */
export function analyzerLookup(analyzer: {
  constraints: { applicableTo(t: ScopeTarget): ApplicableConstraint[] };
  store: { namespaceLabels(ns: string): Readonly<Record<string, string>> | undefined };
}): ConstraintLookup {
  return {
    applicableTo: (t) => analyzer.constraints.applicableTo(t),
    namespaceLabels: (ns) => analyzer.store.namespaceLabels(ns),
  };
}
