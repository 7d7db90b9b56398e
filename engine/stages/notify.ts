// Notify stage: an attribution, finding or constraint -> Deliveries (channel, audience,
// detail, rendered text, structured data). Routing is notification rules; what each
// audience may read is privacy.ts, applied here to every delivery:
//
//   conditions -> let -> forEach (e.g. one per configured channel) -> deliver.channel,
//   audience, detail -> detail capped by the NotificationPolicy -> constraint views and
//   a safe explanation -> deliver.text / deliver.data rendered -> scrubbed of the tokens
//   of every constraint the audience may not see.
//
// `deliver.text` may be one template or a map by detail level ({summary, detailed,
// full}); the effective level picks the entry (falling back to the next lower one).
import type { Attribution, Audience, Constraint, Delivery, DetailLevel, Finding, Problem, RemediationStep, Severity } from '../model.js';
import { AUDIENCES, DETAIL_LEVELS } from '../model.js';
import type { CompiledNotification, CompiledPack } from '../pack/loader.js';
import {
  constraintView,
  hiddenTokens,
  isVisible,
  minDetail,
  resolvePolicy,
  scrubber,
  scrubJson,
  type ConstraintView,
  type EffectivePolicy,
  type NotificationPolicy,
  type ResolvedChannel,
  type Viewer,
} from '../privacy.js';
import { FactView, withContext, type StageContext, type StageFacts } from './context.js';
import { bindLets, evalField, evalForEach, type Vars } from './evaluate.js';
import { RuleRunner } from './runner.js';

export type NotifySubject =
  | { kind: 'attribution'; attribution: Attribution }
  | { kind: 'finding'; finding: Finding }
  | { kind: 'constraint'; constraint: Constraint; namespace?: string };

export interface NotifyInput {
  subject: NotifySubject;
  /** The policy in force; default: resolved from the stage's policies for the subject's namespace. */
  policy?: EffectivePolicy;
  /** Constraints the subject names, when the caller has no fact store (tests, webhook). */
  constraints?: readonly Constraint[];
}

export interface NotifyResult {
  deliveries: Delivery[];
  problems: Problem[];
}

export interface NotifyOptions {
  policies?: readonly NotificationPolicy[];
  /** Namespaces whose NotificationPolicies are cluster policies (the controller's own). */
  trustedNamespaces?: readonly string[];
  /** Rendered text is cut here (Slack and Events both have limits). */
  maxTextChars?: number;
}

/** The normalized view of any subject, the `subject` fact. */
export interface SubjectFact {
  kind: NotifySubject['kind'];
  id: string;
  severity: Severity;
  namespace: string;
  /** Types of the constraints involved (MissingResource for findings). */
  types: string[];
  constraintIds: string[];
  /** True when the subject names at least one known constraint (or is a finding/constraint). */
  resolved: boolean;
  confidence: number;
  workload: { apiVersion: string; kind: string; name: string; namespace: string } | null;
  rule: { pack: string; rule: string } | null;
}

export interface NotifyCounters {
  subjects: number;
  deliveries: number;
  /** Deliveries in which at least one constraint was hidden from the audience. */
  redacted: number;
  ruleErrors: number;
}

const SEVERITY_RANK: Record<Severity, number> = { Info: 1, Warning: 2, Critical: 3 };

export class NotifyStage {
  private readonly view: FactView | undefined;
  private readonly rules: CompiledNotification[];
  private readonly runner: RuleRunner<CompiledNotification>;
  private policies: readonly NotificationPolicy[];
  private readonly trusted: readonly string[];
  private readonly maxText: number;
  readonly counters: NotifyCounters = { subjects: 0, deliveries: 0, redacted: 0, ruleErrors: 0 };

  constructor(packs: readonly CompiledPack[], facts?: StageFacts, opts: NotifyOptions = {}) {
    this.view = facts ? new FactView(facts) : undefined;
    this.rules = packs.flatMap((p) => p.notifications);
    this.runner = new RuleRunner(this.rules);
    this.policies = opts.policies ?? [];
    this.trusted = opts.trustedNamespaces ?? ['potoo-system'];
    this.maxText = opts.maxTextChars ?? 3000;
  }

  dispose(): void {
    this.view?.dispose();
  }

  setPolicies(policies: readonly NotificationPolicy[]): void {
    this.policies = policies;
  }

  /** The policy in force for a namespace (cluster policies + the namespace's own). */
  policyFor(namespace: string): EffectivePolicy {
    const labels = this.view?.namespaceLabels(namespace) ?? (namespace ? { 'kubernetes.io/metadata.name': namespace } : {});
    return resolvePolicy(this.policies, namespace, labels, this.trusted);
  }

  async notify(input: NotifyInput): Promise<NotifyResult> {
    this.counters.subjects++;
    const result: NotifyResult = { deliveries: [], problems: [] };
    const constraints = this.constraintsOf(input);
    const subject = subjectFact(input.subject, constraints);
    const policy = input.policy ?? this.policyFor(subject.namespace);
    const ns = subject.namespace && this.view ? this.view.namespaceObject(subject.namespace) : undefined;
    const vars: Vars = {
      [input.subject.kind]: subjectObject(input.subject),
      subject,
      namespace: ns ?? {},
      namespaceObject: ns ?? {},
      channels: policy.channels,
      match: {},
    };
    const rules = this.rules.filter((r) => r.on === input.subject.kind);
    const ctx: StageContext | undefined = this.view ? { view: this.view } : undefined;
    const run = (ctx ? withContext(ctx, () => this.runner.runSync(vars, rules)) : this.runner.runSync(vars, rules)) ?? (await this.runner.run(vars, rules));
    for (const e of run.errors) {
      this.counters.ruleErrors++;
      result.problems.push({ severity: 'error', pack: e.rule.pack, rule: e.rule.name, message: `conditions failed on ${subject.id}: ${e.message}` });
    }
    const seen = new Set<string>();
    const render = (): void => {
      for (const f of run.fired) {
        const before = result.deliveries.length;
        this.deliver(f.rule, { ...vars, match: f.captures }, input, subject, constraints, policy, result, seen);
        if (f.rule.final && result.deliveries.length > before) break;
      }
    };
    if (ctx) withContext(ctx, render);
    else render();
    this.counters.deliveries += result.deliveries.length;
    return result;
  }

  private constraintsOf(input: NotifyInput): Constraint[] {
    const given = new Map((input.constraints ?? []).map((c) => [c.id, c]));
    const ids = input.subject.kind === 'attribution' ? input.subject.attribution.constraintIds : input.subject.kind === 'constraint' ? [input.subject.constraint.id] : [];
    const out: Constraint[] = [];
    for (const id of ids) {
      const c = given.get(id) ?? (input.subject.kind === 'constraint' ? input.subject.constraint : undefined) ?? this.view?.constraint(id);
      if (c) out.push(c);
    }
    return out;
  }

  private deliver(
    rule: CompiledNotification,
    base: Vars,
    input: NotifyInput,
    subject: SubjectFact,
    constraints: readonly Constraint[],
    policy: EffectivePolicy,
    result: NotifyResult,
    seen: Set<string>,
  ): void {
    const problem = (field: string, message: string): void => {
      this.counters.ruleErrors++;
      result.problems.push({ severity: 'error', pack: rule.pack, rule: rule.name, field, message: `${message} (subject ${subject.id})` });
    };
    const vars = bindLets(rule.lets, base, problem);
    if (!vars) return;
    let items: unknown[] | undefined;
    if (rule.forEach) {
      items = evalForEach(rule.forEach, vars, problem);
      if (items === undefined) return;
    }
    for (const item of items ?? [undefined]) {
      const v: Vars = items ? { ...vars, item } : vars;
      const channel = evalField(rule.deliver.channel as NonNullable<typeof rule.deliver.channel>, v, 'deliver.channel', problem);
      const audience = evalField(rule.deliver.audience as NonNullable<typeof rule.deliver.audience>, v, 'deliver.audience', problem);
      const detail = evalField(rule.deliver.detail as NonNullable<typeof rule.deliver.detail>, v, 'deliver.detail', problem);
      if (typeof channel !== 'string' || channel === '') {
        if (channel !== undefined) problem('deliver.channel', `must be a non-empty string, got ${JSON.stringify(channel)}`);
        continue;
      }
      if (!AUDIENCES.includes(audience as Audience)) {
        if (audience !== undefined) problem('deliver.audience', `must be one of ${AUDIENCES.join(', ')}, got ${JSON.stringify(audience)}`);
        continue;
      }
      if (!DETAIL_LEVELS.includes(detail as DetailLevel)) {
        if (detail !== undefined) problem('deliver.detail', `must be one of ${DETAIL_LEVELS.join(', ')}, got ${JSON.stringify(detail)}`);
        continue;
      }
      const aud = audience as Audience;
      const viewer: Viewer = { audience: aud, namespace: subject.namespace, detail: minDetail(detail as DetailLevel, policy.audiences[aud].maxDetail), policy: policy.audiences[aud] };
      const target = isChannel(item) ? item : undefined;
      const dedupe = `${channel}|${target?.policy ?? ''}|${target?.name ?? ''}|${aud}`;
      if (seen.has(dedupe)) continue;
      const d = this.render(rule, v, input, subject, constraints, viewer, channel, target, problem);
      if (!d) continue;
      seen.add(dedupe);
      result.deliveries.push(d);
    }
  }

  private render(
    rule: CompiledNotification,
    vars: Vars,
    input: NotifyInput,
    subject: SubjectFact,
    constraints: readonly Constraint[],
    viewer: Viewer,
    channel: string,
    target: ResolvedChannel | undefined,
    problem: (field: string, message: string) => void,
  ): Delivery | undefined {
    const views: ConstraintView[] = constraints.map((c) => constraintView(c, viewer));
    const allVisible = constraints.every((c) => isVisible(c, viewer));
    const rawExplanation =
      input.subject.kind === 'attribution' ? input.subject.attribution.explanation : input.subject.kind === 'finding' ? input.subject.finding.summary : input.subject.constraint.summary;
    // A correlation explanation names the policy it blames: only for audiences that may see it.
    const explanation = allVisible ? rawExplanation : '';
    const remediation: RemediationStep[] =
      input.subject.kind === 'finding' ? input.subject.finding.remediation.filter((s) => audienceRank(s.who) <= audienceRank(viewer.audience)) : dedupeSteps(views.flatMap((x) => x.remediation));
    const renderVars: Vars = {
      ...vars,
      audience: viewer.audience,
      detail: viewer.detail,
      constraints: views,
      explanation,
      remediation,
      workload: subject.workload,
      target: target ?? null,
    };
    let text = '';
    if (rule.deliver.text) {
      const t = evalField(rule.deliver.text, renderVars, 'deliver.text', problem);
      if (t === undefined) return undefined;
      const picked = pickDetail(t, viewer.detail);
      if (picked === undefined) {
        problem('deliver.text', 'must be a string or a map of summary/detailed/full strings');
        return undefined;
      }
      text = picked;
    } else {
      text = explanation || views.map((x) => x.summary).join('; ');
    }
    let extra: Record<string, unknown> = {};
    if (rule.deliver.data) {
      const d = evalField(rule.deliver.data, renderVars, 'deliver.data', problem);
      if (d === undefined) return undefined;
      if (d !== null && (typeof d !== 'object' || Array.isArray(d))) {
        problem('deliver.data', 'must be a map');
        return undefined;
      }
      extra = (d ?? {}) as Record<string, unknown>;
    }
    const data: Record<string, unknown> = {
      severity: subject.severity,
      workload: subject.workload,
      constraints: views.map((x) => ({ label: x.label, summary: x.summary, type: x.type, effect: x.effect, visible: x.visible, kind: x.kind, name: x.name, namespace: x.namespace, id: x.id })),
      remediation,
      ...extra,
    };
    if (target) {
      data.target = { name: target.name, type: target.type, policy: target.policy, urlSecretRef: target.urlSecretRef, ...(target.signingSecretRef ? { signingSecretRef: target.signingSecretRef } : {}) };
    }
    if (viewer.detail === 'full' && allVisible && input.subject.kind === 'attribution') data.details = input.subject.attribution.details;
    const hidden = hiddenTokens(constraints, viewer);
    const allowed = [viewer.namespace, subject.workload?.name ?? '', subject.workload?.kind ?? '', ...views.filter((x) => x.visible).flatMap((x) => [x.name, x.namespace])];
    const scrub = scrubber(hidden, allowed);
    if (hidden.strings.length || hidden.ports.length) this.counters.redacted++;
    let safeText = scrub(text);
    if (safeText.length > this.maxText) safeText = safeText.slice(0, this.maxText - 3) + '...';
    const delivery: Delivery = {
      rule: { pack: rule.pack, rule: rule.name },
      channel,
      audience: viewer.audience,
      detail: viewer.detail,
      subject: { kind: subject.kind, id: subject.id },
      text: safeText,
      data: scrubJson(data, scrub) as Record<string, unknown>,
    };
    if (subject.namespace) delivery.subject.namespace = subject.namespace;
    return delivery;
  }
}

function isChannel(v: unknown): v is ResolvedChannel {
  return typeof v === 'object' && v !== null && typeof (v as ResolvedChannel).name === 'string' && typeof (v as ResolvedChannel).policy === 'string' && typeof (v as ResolvedChannel).type === 'string';
}

function audienceRank(a: Audience): number {
  return AUDIENCES.indexOf(a);
}

function dedupeSteps(steps: RemediationStep[]): RemediationStep[] {
  const seen = new Set<string>();
  return steps.filter((s) => {
    const k = `${s.who}|${s.action}|${s.command ?? ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A string, or the entry of a {summary, detailed, full} map for this level (or the nearest lower one). */
function pickDetail(t: unknown, detail: DetailLevel): string | undefined {
  if (typeof t === 'string') return t;
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return undefined;
  const m = t as Record<string, unknown>;
  for (let i = DETAIL_LEVELS.indexOf(detail); i >= 0; i--) {
    const v = m[DETAIL_LEVELS[i] as DetailLevel];
    if (typeof v === 'string') return v;
  }
  return undefined;
}

/** The attribution, finding or constraint a subject carries. */
function subjectObject(s: NotifySubject): Attribution | Finding | Constraint {
  return s.kind === 'attribution' ? s.attribution : s.kind === 'finding' ? s.finding : s.constraint;
}

export function subjectFact(s: NotifySubject, constraints: readonly Constraint[]): SubjectFact {
  const o = subjectObject(s);
  const base = { kind: s.kind, id: o.id, severity: o.severity, rule: o.rule };
  switch (s.kind) {
    case 'attribution': {
      const a = s.attribution;
      const workload = a.workload ?? null;
      const namespace = a.workload?.namespace ?? a.signal.namespace ?? '';
      return { ...base, namespace, types: [...new Set(constraints.map((c) => c.type))], constraintIds: a.constraintIds, resolved: a.constraintIds.length > 0, confidence: a.confidence, workload };
    }
    case 'finding':
      return { ...base, namespace: s.finding.workload.namespace, types: ['MissingResource'], constraintIds: [], resolved: true, confidence: 1, workload: s.finding.workload };
    case 'constraint': {
      const c = s.constraint;
      return { ...base, namespace: s.namespace ?? c.source.namespace ?? '', types: [c.type], constraintIds: [c.id], resolved: true, confidence: 1, workload: null };
    }
  }
}

/** Severity at least `min` (for routes and channel filters written in TypeScript callers). */
export function severityAtLeast(s: Severity, min: Severity): boolean {
  return SEVERITY_RANK[s] >= SEVERITY_RANK[min];
}
