// Hubble flow fields read once, for both ways a flow reaches the engine: the live stream
// (runtime/hubble/normalize.ts, from the gRPC wire flow) and engine/signals.ts flowSignal
// (from Hubble's JSON, or from the flow the live stream normalized). Both call these, so
// the two paths cannot drift apart. Meanings are those of Cilium's flow.proto:
//
// - `traffic_direction`: INGRESS (1) or EGRESS (2); anything else is unknown.
// - `node_name`: the node that observed the flow; GetFlowsResponse carries it as well.
// - `source.workloads` / `destination.workloads`: a list of the endpoint's owners; the
//   first entry with both a name and a kind is the endpoint's workload.
// - `ingress_denied_by` / `egress_denied_by`: two lists, the policies that denied the
//   flow at ingress and at egress. Cilium fills the list of the drop's direction, so the
//   direction decides which applies: a drop at ingress takes only `ingress_denied_by`, one
//   at egress only `egress_denied_by`. When the direction is unknown nothing decides, and
//   each list stays under its own direction.
import { isKubernetesSource, parseCiliumLabel } from './cilium.js';
import { rec } from './json.js';

/** Bounds on lists copied from flows (an endpoint's or a policy's labels, denied-by policies). */
export const MAX_LABELS = 256;
export const MAX_POLICIES = 32;
/** Names (workloads, policies, nodes) are cut here: Kubernetes names are at most 253 characters. */
export const MAX_NAME_CHARS = 253;

export type FlowDirection = 'ingress' | 'egress' | 'unknown';

export interface FlowWorkload {
  kind: string;
  name: string;
}

/** A policy Hubble names in ingress_denied_by / egress_denied_by. */
export interface FlowPolicy {
  name: string;
  /** '' for cluster-wide policies, or when Hubble does not say. */
  namespace: string;
  /** NetworkPolicy, CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, ... or ''. */
  kind: string;
  /** The policy's labels as Hubble reports them (string entries among the first MAX_LABELS). */
  labels: string[];
  /** The policy revision; '' when absent or 0. */
  revision: string;
}

export interface FlowDeniedBy {
  ingress: FlowPolicy[];
  egress: FlowPolicy[];
}

function name(v: unknown): string {
  return typeof v === 'string' ? v.slice(0, MAX_NAME_CHARS) : '';
}

/**
 * `traffic_direction` as the enum name (any case: a normalized flow's `ingress` too) or
 * its number. TRAFFIC_DIRECTION_UNKNOWN, missing and unknown values are 'unknown'.
 */
export function flowDirection(v: unknown): FlowDirection {
  const s = typeof v === 'number' || typeof v === 'bigint' ? String(v) : typeof v === 'string' ? v.toUpperCase() : '';
  switch (s) {
    case '1':
    case 'INGRESS':
      return 'ingress';
    case '2':
    case 'EGRESS':
      return 'egress';
    default:
      return 'unknown';
  }
}

/** An endpoint's workload: the first entry of Hubble's `workloads` list with both a name and a kind. */
export function flowWorkload(workloads: unknown): FlowWorkload | undefined {
  if (!Array.isArray(workloads)) return undefined;
  for (const x of workloads) {
    const w = rec(x);
    const n = name(w?.name);
    const k = name(w?.kind);
    if (n && k) return { kind: k, name: n };
  }
  return undefined;
}

/**
 * The node that observed the flow: the flow's `node_name` (`nodeName` in camelCase
 * JSON), else the one on the GetFlowsResponse that carried it (`response`); '' when neither says.
 */
export function flowNodeName(flow: unknown, response?: unknown): string {
  for (const r of [rec(flow), rec(response)]) {
    const n = name(r?.nodeName) || name(r?.node_name);
    if (n) return n;
  }
  return '';
}

/**
 * One denied-by entry. Older Hubble versions leave name, namespace or kind empty and
 * describe the policy in its labels (`io.cilium.k8s.policy.name`, `.namespace`,
 * `.derived-from`); a field the entry gives wins. Undefined when no name is found.
 */
export function flowPolicy(v: unknown): FlowPolicy | undefined {
  const r = rec(v);
  if (!r) return undefined;
  let policyName = name(r.name);
  let namespace = name(r.namespace);
  let kind = name(r.kind);
  const labels: string[] = [];
  if (Array.isArray(r.labels)) {
    for (const raw of r.labels.slice(0, MAX_LABELS)) {
      if (typeof raw !== 'string') continue;
      labels.push(raw);
      const l = parseCiliumLabel(raw);
      if (!isKubernetesSource(l.source)) continue;
      if (l.key === 'io.cilium.k8s.policy.derived-from' && !kind) kind = name(l.value);
      else if (l.key === 'io.cilium.k8s.policy.name' && !policyName) policyName = name(l.value);
      else if (l.key === 'io.cilium.k8s.policy.namespace' && !namespace) namespace = name(l.value);
    }
  }
  if (!policyName) return undefined;
  const rev = typeof r.revision === 'string' || typeof r.revision === 'number' || typeof r.revision === 'bigint' ? String(r.revision).slice(0, 32) : '';
  return { name: policyName, namespace, kind, labels, revision: rev === '0' ? '' : rev };
}

/** A denied-by list: its policies among the first MAX_POLICIES entries. */
export function flowPolicies(v: unknown): FlowPolicy[] {
  if (!Array.isArray(v)) return [];
  const out: FlowPolicy[] = [];
  for (const p of v.slice(0, MAX_POLICIES)) {
    const ref = flowPolicy(p);
    if (ref) out.push(ref);
  }
  return out;
}

/**
 * The policies that denied a flow, by direction (flow.proto's ingress_denied_by and
 * egress_denied_by): a drop at ingress keeps only the ingress list, one at egress only
 * the egress list; an unknown direction keeps both, each under its own direction.
 */
export function flowDeniedBy(direction: FlowDirection, ingress: unknown, egress: unknown): FlowDeniedBy {
  return {
    ingress: direction === 'egress' ? [] : flowPolicies(ingress),
    egress: direction === 'ingress' ? [] : flowPolicies(egress),
  };
}
