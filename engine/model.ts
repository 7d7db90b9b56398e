// The normalized model every stage speaks. Pure data: no behaviour lives here.

/** Any Kubernetes object as unstructured JSON (what the fact store holds). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  [key: string]: unknown;
}

/** Group/Version/Resource plus the Kind it serves; `group` is "" for the core API. */
export interface Gvr {
  group: string;
  version: string;
  resource: string;
}

export interface Gvk {
  group: string;
  version: string;
  kind: string;
}

export type Severity = 'Critical' | 'Warning' | 'Info';
export const SEVERITIES: readonly Severity[] = ['Critical', 'Warning', 'Info'];

/** Open vocabulary: adapters may emit new types; these are the built-in ones. */
export type ConstraintType =
  | 'NetworkIngress'
  | 'NetworkEgress'
  | 'Admission'
  | 'ResourceQuota'
  | 'ResourceLimit'
  | 'MeshPolicy'
  | 'MissingResource'
  | (string & {});

export type Effect =
  | 'deny'
  | 'restrict'
  | 'allow'
  | 'warn'
  | 'audit'
  | 'limit'
  | 'require'
  | 'mutate'
  | 'generate'
  | 'inform'
  | (string & {});

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/**
 * Kubernetes label selector. An empty selector `{}` selects everything; an absent
 * selector (undefined / null) is interpreted by the field that holds it.
 */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** A kind a scope term targets. `*` is a wildcard in any position. */
export interface KindRef {
  group: string;
  version?: string;
  kind: string;
  /**
   * The resource (plural) a rule named, when the kind is only a guess from it (an
   * admission rule on a CRD Potoo has no table entry for). A target that knows its own
   * resource is compared by resource instead of kind.
   */
  resource?: string;
}

/**
 * One conjunctive scope term: every field that is present must hold.
 * Namespace patterns accept Gatekeeper-style `*` prefix/suffix wildcards.
 */
export interface ScopeTerm {
  /** Object kinds this term applies to; absent = any kind. */
  kinds?: KindRef[];
  /** Object names (with `*` wildcards); absent = any name. */
  names?: string[];
  namespaces?: string[];
  excludedNamespaces?: string[];
  namespaceSelector?: LabelSelector;
  /**
   * Selector over the target's labels. When the term reaches a pod controller through
   * the `Pod` kind, it is matched against the pod-template labels.
   */
  selector?: LabelSelector;
  annotations?: Record<string, string>;
  operations?: string[];
  /** Cluster: only cluster-scoped objects; Namespaced: only namespaced; absent/`*`: both. */
  scope?: 'Cluster' | 'Namespaced' | '*';
}

/**
 * Where a constraint applies: the top-level term AND (any of `any`) AND (all of `all`),
 * minus anything an `exclude` scope matches. An entry of `any` or `all` may itself be a
 * scope (with its own any/all/exclude): `all: [a, b]` intersects two disjunctions.
 */
export interface Scope extends ScopeTerm {
  any?: (ScopeTerm | Scope)[];
  all?: (ScopeTerm | Scope)[];
  exclude?: Scope[];
  /**
   * Kinds a Pod-targeted term also reaches directly (Kyverno autogen). Absent means the
   * standard pod controllers; an empty list disables autogen.
   */
  autogen?: string[];
}

export type Audience = 'developer' | 'namespace-admin' | 'platform-admin';
export const AUDIENCES: readonly Audience[] = ['developer', 'namespace-admin', 'platform-admin'];
export type DetailLevel = 'summary' | 'detailed' | 'full';
export const DETAIL_LEVELS: readonly DetailLevel[] = ['summary', 'detailed', 'full'];

export interface RemediationStep {
  action: string;
  /** Who may perform it. */
  who: Audience;
  command?: string;
}

/** Where a constraint came from. */
export interface SourceRef {
  apiVersion: string;
  kind: string;
  group: string;
  resource: string;
  name: string;
  namespace?: string;
  uid?: string;
}

/** Which rule produced an output. */
export interface RuleRef {
  pack: string;
  rule: string;
}

export interface Constraint {
  /** Stable per emitted constraint: source identity + rule + item key, never just a UID. */
  id: string;
  type: ConstraintType;
  effect: Effect;
  severity: Severity;
  source: SourceRef;
  rule: RuleRef;
  scope: Scope;
  summary: string;
  details: Record<string, unknown>;
  remediation: RemediationStep[];
  tags: string[];
}

/** A pod-controller view of a workload (Deployment, StatefulSet, ..., bare Pod). */
export interface Workload {
  apiVersion: string;
  kind: string;
  group: string;
  name: string;
  namespace: string;
  uid?: string;
  /** The object's own labels. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Labels its pods carry (pod template labels; a bare Pod's own labels). */
  podLabels: Record<string, string>;
  podAnnotations: Record<string, string>;
  serviceAccountName?: string;
  containers: WorkloadContainer[];
  ports: WorkloadPort[];
  replicas?: number;
}

export interface WorkloadContainer {
  name: string;
  image: string;
  init: boolean;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface WorkloadPort {
  container: string;
  name?: string;
  containerPort: number;
  protocol: string;
}

/** What scope evaluation is asked about: an object (workload or any resource). */
export interface ScopeTarget {
  group: string;
  version: string;
  kind: string;
  name: string;
  /** The resource (plural) the object is served as, when known (see KindRef.resource). */
  resource?: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  namespaceLabels: Record<string, string>;
  /** Set for pod controllers and Pods: the labels their pods carry. */
  podLabels?: Record<string, string>;
  operation?: string;
}

/** Why a constraint applies (or does not) to a target: human-readable, one line each. */
export interface ScopeVerdict {
  applies: boolean;
  reasons: string[];
}

export interface Finding {
  /** Stable per workload, rule and item: a finding that is satisfied is cleared by this id. */
  id: string;
  rule: RuleRef;
  workload: { apiVersion: string; kind: string; name: string; namespace: string };
  expects: { apiVersion: string; kind: string; name?: string };
  severity: Severity;
  summary: string;
  remediation: RemediationStep[];
  details: Record<string, unknown>;
  /** How long the condition must persist before it is reported (the rule's `debounce`). */
  debounceMs?: number;
}

export interface Attribution {
  /** Stable for one failure: repeats of the same signal on the same workload keep the id. */
  id: string;
  rule: RuleRef;
  signal: { kind: 'event' | 'flow' | 'admission' | 'message'; ref: string; namespace?: string };
  /** Best first; empty when the rule matched but the named constraint is not known. */
  constraintIds: string[];
  confidence: number;
  severity: Severity;
  explanation: string;
  details: Record<string, unknown>;
  /** The workload the signal is about (a Pod or ReplicaSet resolved to its Deployment), when known. */
  workload?: { apiVersion: string; kind: string; name: string; namespace: string };
  /** Times the signal was seen (an aggregated Event's count). */
  count?: number;
  lastSeen?: string;
}

export interface Delivery {
  rule: RuleRef;
  channel: string;
  audience: Audience;
  detail: DetailLevel;
  subject: { kind: 'attribution' | 'finding' | 'constraint'; id: string; namespace?: string };
  text: string;
  data: Record<string, unknown>;
}

/** A located problem; every stage reports errors as values, never throws to callers. */
export interface Problem {
  severity: 'error' | 'warning';
  message: string;
  /** File or ConfigMap the input came from. */
  file?: string;
  pack?: string;
  rule?: string;
  /** JSON-pointer-like path inside the document, e.g. spec.adapters[2].emit.effect */
  field?: string;
  line?: number;
  column?: number;
  /** The object the problem is about (kind/namespace/name). */
  object?: string;
}

export function formatProblem(p: Problem): string {
  const where: string[] = [];
  if (p.file) where.push(p.line ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file);
  if (p.pack) where.push(`pack ${p.pack}`);
  if (p.rule) where.push(`rule ${p.rule}`);
  if (p.field) where.push(`field ${p.field}`);
  if (p.object) where.push(`object ${p.object}`);
  return `${p.severity}: ${where.length ? where.join(', ') + ': ' : ''}${p.message}`;
}
