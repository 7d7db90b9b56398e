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

export type TrafficExplainer = (q: TrafficQuestion, view: FactView) => Denial[];

// The full evaluator (engine/traffic.ts over normalized network details) by default.
let explainer: TrafficExplainer = (q, view) => trafficDenials(q, view);

/** Replace the built-in explainer (a fuller traffic evaluator registers itself here). */
export function setTrafficExplainer(fn: TrafficExplainer | undefined): void {
  explainer = fn ?? ((q, view) => trafficDenials(q, view));
}

export function explainTraffic(q: TrafficQuestion, view: FactView): Denial[] {
  return explainer(q, view);
}

function endpointOf(e: FlowSignal['source'], view: FactView): TrafficEndpoint {
  const isPod = e.reserved.length === 0 && (e.pod !== '' || Object.keys(e.labels).length > 0);
  return {
    namespace: e.namespace,
    pod: e.pod,
    labels: e.labels,
    namespaceLabels: { ...view.namespaceLabels(e.namespace), ...e.namespaceLabels },
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

type Tri = true | false | 'unknown';

function and(a: Tri, b: Tri): Tri {
  if (a === false || b === false) return false;
  if (a === true && b === true) return true;
  return 'unknown';
}

function or(list: Tri[]): Tri {
  if (list.some((x) => x === true)) return true;
  if (list.some((x) => x === 'unknown')) return 'unknown';
  return false;
}

function rec(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function peerAllowed(peer: Record<string, unknown>, q: TrafficQuestion, policyNamespace: string): Tri {
  const ipBlock = rec(peer.ipBlock);
  if (ipBlock) {
    if (!q.peer.ip) return q.peer.isPod ? false : 'unknown';
    const ip = parseIP(q.peer.ip);
    const cidr = typeof ipBlock.cidr === 'string' ? parseCIDR(ipBlock.cidr) : undefined;
    if (!ip.ok || !cidr?.ok) return 'unknown';
    if (!containsIP(cidr.value, ip.value)) return false;
    const except = Array.isArray(ipBlock.except) ? ipBlock.except : [];
    for (const e of except) {
      const c = typeof e === 'string' ? parseCIDR(e) : undefined;
      if (c?.ok && containsIP(c.value, ip.value)) return false;
    }
    return true;
  }
  if (!q.peer.isPod) return false;
  const nsSel = rec(peer.namespaceSelector) as LabelSelector | undefined;
  const podSel = rec(peer.podSelector) as LabelSelector | undefined;
  if (!nsSel && !podSel) return 'unknown';
  let nsOk: Tri;
  if (nsSel) nsOk = q.peer.namespace ? matchesSelector(nsSel, q.peer.namespaceLabels, 'none') : 'unknown';
  else nsOk = q.peer.namespace ? q.peer.namespace === policyNamespace : 'unknown';
  const podOk: Tri = podSel ? matchesSelector(podSel, q.peer.labels, 'none') : true;
  return and(nsOk, podOk);
}

function namedPort(name: string, ep: TrafficEndpoint, view: FactView): number | undefined {
  if (!ep.pod) return undefined;
  const pod = view.getObject('', 'pods', ep.namespace, ep.pod);
  const w = pod ? undefined : view.workloadOf(ep.namespace, 'Pod', ep.pod);
  if (w) return w.ports.find((p) => p.name === name)?.containerPort;
  const containers = rec(pod?.spec)?.containers;
  if (!Array.isArray(containers)) return undefined;
  for (const c of containers) {
    const ports = rec(c)?.ports;
    if (!Array.isArray(ports)) continue;
    for (const p of ports) {
      const r = rec(p);
      if (r?.name === name && typeof r.containerPort === 'number') return r.containerPort;
    }
  }
  return undefined;
}

function portAllowed(ports: unknown, q: TrafficQuestion, view: FactView): Tri {
  if (!Array.isArray(ports) || ports.length === 0) return true;
  const out: Tri[] = [];
  for (const raw of ports) {
    const p = rec(raw) ?? {};
    const proto = typeof p.protocol === 'string' ? p.protocol : 'TCP';
    if (proto.toUpperCase() !== q.protocol.toUpperCase()) {
      out.push(false);
      continue;
    }
    const port = p.port;
    if (port === undefined || port === null) {
      out.push(true);
      continue;
    }
    if (typeof port === 'number') {
      const end = typeof p.endPort === 'number' ? p.endPort : port;
      out.push(q.port >= port && q.port <= end);
      continue;
    }
    if (typeof port === 'string') {
      // Named ports resolve on the pod that receives the traffic.
      const target = q.direction === 'ingress' ? q.subject : q.peer;
      const n = /^[0-9]+$/.test(port) ? Number(port) : namedPort(port, target, view);
      out.push(n === undefined ? 'unknown' : n === q.port);
      continue;
    }
    out.push('unknown');
  }
  return or(out);
}

function describePeer(q: TrafficQuestion): string {
  const p = q.peer;
  if (p.isPod) return `${p.namespace ? p.namespace + '/' : ''}${p.pod || 'pod'}`;
  return p.ip || 'an address outside the cluster';
}

/**
 * Network constraints of the flow's direction that select the subject pod and allow
 * nothing matching this peer and port. Kubernetes allows traffic when any selecting
 * policy allows it, so every one that does not is part of the cause; the ones that
 * isolate with no rule at all come first.
 */
export function networkPolicyDenials(q: TrafficQuestion, view: FactView): Denial[] {
  const type = q.direction === 'ingress' ? 'NetworkIngress' : 'NetworkEgress';
  const candidates = view.applicableToPod(q.subject.namespace, q.subject.labels).filter((c) => c.type === type);
  const out: Denial[] = [];
  const what = `${q.direction} ${q.direction === 'ingress' ? 'from' : 'to'} ${describePeer(q)} on ${q.port}/${q.protocol}`;
  for (const c of candidates) {
    const rules = c.details.rules;
    if (c.effect === 'deny' || (Array.isArray(rules) && rules.length === 0)) {
      out.push({ constraint: c, tier: 'deny', reason: `selects the pod and allows no ${q.direction} traffic at all, so ${what} is dropped` });
      continue;
    }
    if (c.effect === 'allow') continue;
    if (!Array.isArray(rules)) {
      out.push({ constraint: c, tier: 'unknown', reason: `selects the pod; its rules could not be checked against ${what}` });
      continue;
    }
    const allowed = or(
      rules.map((r) => {
        const rule = rec(r) ?? {};
        const peers = Array.isArray(rule.peers) ? rule.peers : [];
        const peerOk: Tri = peers.length === 0 ? true : or(peers.map((p) => peerAllowed(rec(p) ?? {}, q, c.source.namespace ?? q.subject.namespace)));
        return and(peerOk, portAllowed(rule.ports, q, view));
      }),
    );
    if (allowed === true) continue;
    out.push({
      constraint: c,
      tier: allowed === false ? 'restrict' : 'unknown',
      reason: allowed === false ? `selects the pod and none of its rules allows ${what}` : `selects the pod; whether it allows ${what} depends on named ports or peers not in the store`,
    });
  }
  const rank = { deny: 0, restrict: 1, unknown: 2 } as const;
  out.sort((a, b) => rank[a.tier] - rank[b.tier] || (a.constraint.id < b.constraint.id ? -1 : 1));
  return out;
}
