// The RulePack document as authors write it (after YAML parsing and schema validation).
import type { KubeObject } from '../model.js';

export const RULEPACK_API_VERSION = 'potoo.io/v1alpha1';
export const RULEPACK_KIND = 'RulePack';

/** A json-rules-engine condition leaf, plus Potoo's `cel` shorthand. */
export interface ConditionLeaf {
  fact: string;
  path?: string;
  operator: string;
  value?: unknown;
  params?: Record<string, unknown>;
  /** Optional label shown when a test or lint points at this condition. */
  name?: string;
}

/** `{cel: "expr"}`: true when the CEL expression is true over the stage's variables. */
export interface CelCondition {
  cel: string;
  name?: string;
}

export type Condition = ConditionLeaf | CelCondition | ConditionTree;

export type ConditionTree =
  | { all: Condition[]; name?: string }
  | { any: Condition[]; name?: string }
  | { not: Condition; name?: string };

/** Which objects an adapter rule is offered. */
export interface AdapterMatch {
  /** API group ("" for core); `*` for any. */
  group?: string;
  versions?: string[];
  resources?: string[];
  kinds?: string[];
  /** Only objects no other (non-fallback) adapter matches: the generic adapter. */
  fallback?: boolean;
  /** API groups never offered to this rule ("" is core). */
  excludeGroups?: string[];
}

/** Output values follow engine/expr/value.ts: literal, `{{ cel }}`, `$.jsonpath` or text template. */
export type ValueExpr = unknown;

export interface EmitConstraint {
  type: ValueExpr;
  effect: ValueExpr;
  severity: ValueExpr;
  summary: ValueExpr;
  scope: ValueExpr;
  details?: ValueExpr;
  remediation?: ValueExpr;
  tags?: ValueExpr;
}

export interface AdapterRule {
  name: string;
  description?: string;
  match: AdapterMatch;
  conditions?: ConditionTree;
  /** Named values computed once per object (or item), visible to later `let`s and `emit`. */
  let?: Record<string, ValueExpr>;
  /** A list expression: one constraint per element, bound to `item` (and `index`). */
  forEach?: ValueExpr;
  /** Stable key for each emitted constraint's id (default: item.name, else the index). */
  key?: ValueExpr;
  /** Either emit constraints, or say why this object is not a constraint. */
  emit?: EmitConstraint;
  skip?: ValueExpr;
}

export interface RequirementRule {
  name: string;
  description?: string;
  /** Workload kinds the requirement looks at (default: every pod controller and Pod). */
  on?: { kinds?: string[] };
  conditions: ConditionTree;
  let?: Record<string, ValueExpr>;
  /** Wait this long after a workload changes before reporting (GitOps ordering). */
  debounce?: string;
  /** Evaluated after `let`: findings are emitted only when true. */
  when?: ValueExpr;
  /** A list expression: one finding per element, bound to `item` (and `index`). */
  forEach?: ValueExpr;
  /** Stable key of each finding's id when forEach is used (default: item.name, else the index). */
  key?: ValueExpr;
  emit: {
    expects: ValueExpr;
    severity: ValueExpr;
    summary: ValueExpr;
    details?: ValueExpr;
    remediation?: ValueExpr;
  };
}

export type SignalKind = 'event' | 'flow' | 'admission' | 'message';

export interface CorrelationRule {
  name: string;
  description?: string;
  /** The signal kinds the rule reads (one, or several sharing `signal.*` conditions). */
  on: SignalKind | SignalKind[];
  conditions: ConditionTree;
  let?: Record<string, ValueExpr>;
  /** Evaluated after `let`: the rule attributes only when true (checks conditions cannot express). */
  when?: ValueExpr;
  /** Expression yielding the blamed constraints (ids or Constraint objects). */
  blame: ValueExpr;
  confidence?: ValueExpr;
  severity?: ValueExpr;
  explain: ValueExpr;
  details?: ValueExpr;
}

export interface NotificationRule {
  name: string;
  description?: string;
  on?: 'attribution' | 'finding' | 'constraint';
  conditions: ConditionTree;
  let?: Record<string, ValueExpr>;
  /** A list expression: one delivery per element (e.g. per configured channel), bound to `item`. */
  forEach?: ValueExpr;
  deliver: {
    channel: ValueExpr;
    audience: ValueExpr;
    detail: ValueExpr;
    text?: ValueExpr;
    data?: ValueExpr;
  };
  /** Later rules are not tried once this one delivers. */
  final?: boolean;
}

/** Partial expectations: every given field must equal; unmentioned fields are free. */
export type Expectation = Record<string, unknown>;

/** `potoo test` traffic case: endpoints as `--explain-traffic` reads them. */
export interface TrafficExpectation {
  name?: string;
  from: string;
  to: string;
  port: number | string;
  allowed: boolean;
  ingress?: Record<string, unknown>;
  egress?: Record<string, unknown>;
  /** Names of policies among the deciding rules (either direction). */
  decidedBy?: string[];
  l7?: string[];
}

export interface PackTest {
  name: string;
  given: KubeObject[];
  /** A signal for correlation tests, an attribution/finding for notification tests. */
  signal?: { kind: SignalKind } & Record<string, unknown>;
  input?: Record<string, unknown>;
  expect: {
    constraints?: Expectation[];
    /** When true (default false), exactly the listed constraints and no others. */
    exactly?: boolean;
    skipped?: Expectation[];
    problems?: Expectation[];
    findings?: Expectation[];
    attributions?: Expectation[];
    deliveries?: Expectation[];
    /** Traffic verdicts over `given` (engine/traffic.ts). */
    traffic?: TrafficExpectation[];
    /** Constraints that must apply / not apply to a workload given in `given`. */
    applies?: { workload: string; constraint: Expectation; applies: boolean }[];
  };
}

export interface RulePackSpec {
  description?: string;
  adapters?: AdapterRule[];
  requirements?: RequirementRule[];
  correlations?: CorrelationRule[];
  notifications?: NotificationRule[];
  tests?: PackTest[];
}

export interface RulePackDocument {
  apiVersion: typeof RULEPACK_API_VERSION;
  kind: typeof RULEPACK_KIND;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: RulePackSpec;
}

export const SECTIONS = ['adapters', 'requirements', 'correlations', 'notifications'] as const;
export type Section = (typeof SECTIONS)[number];
