// Which network constraints explain a dropped flow that names no policy. Hubble fills
// ingress_denied_by / egress_denied_by only for explicit deny rules; a default-deny drop
// (POLICY_DENIED) leaves them empty, so the question "which policy selects this pod and
// has no allow rule for this peer and port" is answered here from the constraints the
// adapters emitted (NetworkIngress / NetworkEgress with `details.rules` of peers and
// ports, as adapters/networkpolicy.yaml writes them).
//
// A full traffic evaluator (engine/traffic.ts, issue #3) can take over through
// setTrafficExplainer(); correlation rules only call the `networkDenials()` CEL helper.
import type { Constraint, LabelSelector } from '../model.js';
import { matchesSelector } from '../selector.js';
import { containsIP, parseCIDR, parseIP } from '../expr/net.js';
import type { FlowSignal } from '../signals.js';
import type { FactView } from './context.js';
import { trafficDenials } from './nettraffic.js';

export type Direction = 'ingress' | 'egress';

export interface TrafficEndpoint {
  namespace: string;
  pod: string;
  labels: Record<string, string>;
  namespaceLabels: Record<string, string>;
  /** The pod's service account as the flow reports it; '' or absent when it does not. */
  serviceAccount?: string;
  ip: string;
  /** False for IPs outside the cluster and Cilium reserved identities (world, host). */
  isPod: boolean;
}

export interface TrafficQuestion {
  direction: Direction;
  /** Whose policies decide: the destination for ingress, the source for egress. */
  subject: TrafficEndpoint;
  peer: TrafficEndpoint;
  port: number;
  protocol: string;
}

export interface Denial {
  constraint: Constraint;
  /** deny: isolates with no rule at all; restrict: has rules, none allows this; unknown: cannot tell. */
  tier: 'deny' | 'restrict' | 'unknown';
  reason: string;
}

/** Which network constraints deny this flow, from the traffic evaluator (engine/traffic.ts). */
export function explainTraffic(q: TrafficQuestion, view: FactView): Denial[] {
  return trafficDenials(q, view);
}

function endpointOf(e: FlowSignal['source'], view: FactView): TrafficEndpoint {
  const isPod = e.reserved.length === 0 && (e.pod !== '' || Object.keys(e.labels).length > 0);
  return {
    namespace: e.namespace,
    pod: e.pod,
    labels: e.labels,
    namespaceLabels: { ...view.namespaceLabels(e.namespace), ...e.namespaceLabels },
    serviceAccount: e.serviceAccount,
    ip: e.ip,
    isPod,
  };
}

/** The questions a flow asks: one per direction it may have been dropped in. */
export function questionsFor(flow: FlowSignal, view: FactView): TrafficQuestion[] {
  const src = endpointOf(flow.source, view);
  const dst = endpointOf(flow.destination, view);
  const base = { port: flow.destinationPort, protocol: flow.protocol || 'TCP' };
  const ingress: TrafficQuestion = { direction: 'ingress', subject: dst, peer: src, ...base };
  const egress: TrafficQuestion = { direction: 'egress', subject: src, peer: dst, ...base };
  if (flow.direction === 'ingress') return dst.isPod ? [ingress] : [];
  if (flow.direction === 'egress') return src.isPod ? [egress] : [];
  return [egress, ingress].filter((q) => q.subject.isPod);
}

