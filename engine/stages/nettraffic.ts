// The correlation stage's traffic explainer (netdeny.ts) backed by the full traffic
// evaluator (engine/traffic.ts): for a drop that names no policy, the constraints that
// decided the denial, in every engine's normalized network details (NetworkPolicy,
// Cilium deny rules and default deny, AdminNetworkPolicy, Istio...).
import type { FactView } from './context.js';
import type { Denial, TrafficEndpoint as FlowEndpoint, TrafficQuestion } from './netdeny.js';
import { evaluateDirection, trafficContext } from '../traffic.js';
import { networkDetailsOf, resolvePort, type TrafficEndpoint } from '../network.js';

function endpointOf(e: FlowEndpoint, view: FactView): TrafficEndpoint {
  if (!e.isPod) return e.ip ? { kind: 'external', ip: e.ip } : { kind: 'entity', entity: 'world' };
  const w = e.pod ? view.workloadOf(e.namespace, 'Pod', e.pod) : undefined;
  const out: TrafficEndpoint = { kind: 'pod', namespace: e.namespace, labels: e.labels, namespaceLabels: e.namespaceLabels };
  if (e.pod) out.name = e.pod;
  if (w) out.ports = w.ports;
  // The service account Cilium reported for the flow (what it enforced with), else the workload's.
  const sa = e.serviceAccount || w?.serviceAccountName;
  if (sa) out.serviceAccount = sa;
  return out;
}

export function trafficDenials(q: TrafficQuestion, view: FactView): Denial[] {
  const subject = endpointOf(q.subject, view);
  const peer = endpointOf(q.peer, view);
  const dst = q.direction === 'ingress' ? subject : peer;
  const port = resolvePort({ port: q.port, protocol: (q.protocol || 'TCP').toUpperCase() }, dst);
  const v = evaluateDirection(trafficContext(view.facts), q.direction, subject, peer, port, dst);
  if (v.allowed || !v.evaluated) return [];
  const out: Denial[] = [];
  v.decidedBy.forEach((d) => {
    if (d.action !== 'deny' && d.action !== 'isolate') return;
    const c = view.constraint(d.constraintId);
    if (!c) return;
    if (d.action === 'deny') {
      out.push({ constraint: c, tier: 'deny', reason: `denies ${q.direction} ${d.ruleText ? `by rule ${d.rule} (${d.ruleText})` : ''}`.trim() });
      return;
    }
    const allowRules = networkDetailsOf(c)?.rules.filter((r) => r.action === 'allow').length ?? 0;
    out.push({
      constraint: c,
      tier: allowRules === 0 ? 'deny' : 'restrict',
      reason: allowRules === 0 ? `selects the pod and allows no ${q.direction} traffic at all` : `selects the pod and none of its ${q.direction} rules allows ${q.direction === 'ingress' ? 'from' : 'to'} ${q.peer.isPod ? `${q.peer.namespace}/${q.peer.pod || 'pod'}` : q.peer.ip || 'that address'} on ${q.port}/${q.protocol}`,
    });
  });
  const rank = { deny: 0, restrict: 1, unknown: 2 } as const;
  out.sort((a, b) => rank[a.tier] - rank[b.tier] || (a.constraint.id < b.constraint.id ? -1 : 1));
  return out;
}
