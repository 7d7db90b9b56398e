// From Hubble's wire Flow to the flow signal the correlate stage reads: plain JSON with
// Kubernetes-shaped labels, one protocol/port view, and the policies Cilium named.
// Tolerant by design: any field may be missing (proto3), enums may arrive as numbers a
// newer Cilium added, and a flow for a pod that no longer exists is still a flow.
import { ciliumEndpointLabels, ciliumLabelMap } from '../../engine/cilium.js';
import { MAX_LABELS, flowDeniedBy, flowDirection, flowDropReason, flowNodeName, flowTime, flowVerdict, flowWorkload, type FlowPolicy } from '../../engine/hubble.js';
import type { WireEndpoint, WireFlow, WirePorts } from './proto.js';

// An endpoint's Cilium labels are read by engine/cilium.ts (ciliumEndpointLabels), and
// the time, verdict, drop reason, direction, node, workloads and denied-by policies by
// engine/hubble.ts, as engine/signals.ts reads them when handed Hubble's JSON: the
// normalized flow, read there again, is the flow the raw one gives.
export interface FlowEndpoint {
  /** The endpoint's namespace, else Cilium's `io.kubernetes.pod.namespace` label. */
  namespace?: string;
  podName?: string;
  /**
   * Kubernetes labels of the pod (sources k8s, any and unspec, minus Cilium's
   * pseudo-labels), keyed as ciliumLabelMap writes them: a plain key, or `k8s:key` for a
   * key that would otherwise read as naming a source (`reserved.example.com/team`).
   */
  labels: Record<string, string>;
  /** Cilium's reserved identities when the peer is not a pod: world, host, kube-apiserver, remote-node... (each once). */
  reserved: string[];
  /** Labels of the pod's namespace, from Cilium's `io.cilium.k8s.namespace.labels.*`. */
  namespaceLabels: Record<string, string>;
  /** From Cilium's `io.cilium.k8s.policy.serviceaccount`. */
  serviceAccount?: string;
  /** The first of Hubble's `workloads` with both a name and a kind (engine/hubble.ts flowWorkload). */
  workload?: { kind: string; name: string };
  identity?: number;
  ip?: string;
  /** DNS names Cilium knows for the address (FQDN policies). */
  names: string[];
  service?: { name: string; namespace?: string };
}

export interface PolicyRef {
  /** From the entry, else from its `io.cilium.k8s.policy.name` label (older Hubble); likewise namespace and kind. */
  name: string;
  namespace?: string;
  /** CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy... when Cilium says. */
  kind?: string;
  labels: string[];
  revision?: string;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP' | 'ICMPv4' | 'ICMPv6' | 'unknown';

export interface NormalizedFlow {
  uuid?: string;
  /** ISO time the flow was observed; absent when the flow carries none (engine/hubble.ts flowTime: never "now"). */
  time?: string;
  /** Verdict name; VERDICT_UNKNOWN when the flow has none (proto3's default). */
  verdict: string;
  /**
   * DropReason name (POLICY_DENIED, POLICY_DENY, ...), or its number as text for ones
   * flow.proto does not name here: drop_reason_desc, else the deprecated drop_reason
   * (engine/hubble.ts flowDropReason).
   */
  dropReason?: string;
  /** Its number, when known. */
  dropReasonCode?: number;
  direction: 'ingress' | 'egress' | 'unknown';
  source: FlowEndpoint;
  destination: FlowEndpoint;
  protocol: Protocol;
  sourcePort?: number;
  destinationPort?: number;
  icmp?: { type: number; code: number };
  /** The node that observed the flow: Hubble's `node_name`, of the flow or of the response that carried it. */
  nodeName?: string;
  isReply?: boolean;
  /**
   * Policies Cilium reports as denying this flow at ingress / at egress (Hubble's
   * ingress_denied_by / egress_denied_by), for explicit deny rules. The drop's direction
   * decides which applies: an ingress drop has only ingressDeniedBy, an egress drop only
   * egressDeniedBy; a flow of unknown direction keeps both (engine/hubble.ts flowDeniedBy).
   */
  ingressDeniedBy: PolicyRef[];
  egressDeniedBy: PolicyRef[];
  /** ingressDeniedBy then egressDeniedBy: all the policies Cilium named; empty for default deny. */
  deniedBy: PolicyRef[];
  /** Set when Cilium named the policy; false means the correlator must compute it (default deny). */
  attributedByCilium: boolean;
  /** Cilium event type (1 = drop notification, 5 = policy verdict). */
  eventType?: number;
  summary?: string;
}

function endpoint(e: WireEndpoint | undefined, ip: string | undefined, names: string[] | undefined, service: { name?: string; namespace?: string } | undefined): FlowEndpoint {
  // At most MAX_LABELS labels, as engine/signals.ts reads the raw flow's.
  const c = ciliumEndpointLabels(e?.labels, MAX_LABELS);
  const out: FlowEndpoint = { labels: ciliumLabelMap(c.labels), reserved: c.reserved, namespaceLabels: c.namespaceLabels, names: names ? [...names] : [] };
  const namespace = e?.namespace || c.namespace;
  if (namespace) out.namespace = namespace;
  if (c.serviceAccount) out.serviceAccount = c.serviceAccount;
  if (e?.pod_name) out.podName = e.pod_name;
  if (e?.identity) out.identity = e.identity;
  if (ip) out.ip = ip;
  const w = flowWorkload(e?.workloads);
  if (w) out.workload = w;
  if (service?.name) out.service = { name: service.name, ...(service.namespace ? { namespace: service.namespace } : {}) };
  return out;
}

function policyRef(p: FlowPolicy): PolicyRef {
  const ref: PolicyRef = { name: p.name, labels: p.labels };
  if (p.namespace) ref.namespace = p.namespace;
  if (p.kind) ref.kind = p.kind;
  if (p.revision) ref.revision = p.revision;
  return ref;
}

/**
 * The few fields the client reads of every flow, repeats included (metrics, resume
 * point), before it decides whether the flow is worth normalizing. `normalizeFlow`
 * takes it back so nothing is computed twice.
 */
export interface FlowHead {
  /**
   * ISO time the flow was observed, in the server's clock; absent when the flow has none.
   * Only such times move the client's resume point (its own clock could be ahead of the
   * server's, and a resume from there would skip flows).
   */
  time?: string;
  verdict: string;
  dropReason?: string;
  dropReasonCode?: number;
}

export function flowHead(f: WireFlow): FlowHead {
  const head: FlowHead = { verdict: flowVerdict(f.verdict) };
  const time = flowTime(f.time);
  if (time) head.time = time;
  const drop = flowDropReason(f.drop_reason_desc, f.drop_reason);
  if (drop) {
    head.dropReason = drop.name;
    if (drop.code) head.dropReasonCode = drop.code;
  }
  return head;
}

function directionOf(f: WireFlow): NormalizedFlow['direction'] {
  return flowDirection(f.traffic_direction);
}

function l4Of(f: WireFlow): { protocol: Protocol; ports?: WirePorts } {
  const l4 = f.l4 ?? {};
  if (l4.TCP) return { protocol: 'TCP', ports: l4.TCP };
  if (l4.UDP) return { protocol: 'UDP', ports: l4.UDP };
  if (l4.SCTP) return { protocol: 'SCTP', ports: l4.SCTP };
  if (l4.ICMPv4) return { protocol: 'ICMPv4' };
  if (l4.ICMPv6) return { protocol: 'ICMPv6' };
  return { protocol: 'unknown' };
}

/** Normalize one flow; undefined only when the message is not a flow at all. `head`: flowHead(f), when already computed. */
export function normalizeFlow(f: WireFlow | undefined, nodeName?: string, head?: FlowHead): NormalizedFlow | undefined {
  if (!f || typeof f !== 'object') return undefined;
  const { time, verdict, dropReason, dropReasonCode } = head ?? flowHead(f);
  const direction = directionOf(f);
  const l4 = f.l4 ?? {};
  const { protocol, ports } = l4Of(f);
  const denied = flowDeniedBy(direction, f.ingress_denied_by, f.egress_denied_by);
  const ingressDeniedBy = denied.ingress.map(policyRef);
  const egressDeniedBy = denied.egress.map(policyRef);
  const deniedBy = [...ingressDeniedBy, ...egressDeniedBy];
  const out: NormalizedFlow = {
    verdict,
    direction,
    source: endpoint(f.source, f.IP?.source, f.source_names, f.source_service),
    destination: endpoint(f.destination, f.IP?.destination, f.destination_names, f.destination_service),
    protocol,
    ingressDeniedBy,
    egressDeniedBy,
    deniedBy,
    attributedByCilium: deniedBy.length > 0,
  };
  if (f.uuid) out.uuid = f.uuid;
  if (time) out.time = time;
  if (dropReason !== undefined) out.dropReason = dropReason;
  if (dropReasonCode) out.dropReasonCode = dropReasonCode;
  if (ports?.source_port) out.sourcePort = ports.source_port;
  if (ports?.destination_port) out.destinationPort = ports.destination_port;
  const icmp = l4.ICMPv4 ?? l4.ICMPv6;
  if (icmp) out.icmp = { type: icmp.type ?? 0, code: icmp.code ?? 0 };
  const node = flowNodeName(f, { node_name: nodeName });
  if (node) out.nodeName = node;
  if (f.is_reply && typeof f.is_reply.value === 'boolean') out.isReply = f.is_reply.value;
  if (f.event_type?.type !== undefined) out.eventType = f.event_type.type;
  if (f.Summary) out.summary = f.Summary;
  return out;
}

/** The workload side a drop is about: the destination for ingress drops, the source for egress. */
export function affectedEndpoint(f: NormalizedFlow): FlowEndpoint {
  return f.direction === 'egress' ? f.source : f.destination;
}

/** Identity of "the same drop" for deduplication (retransmitted SYNs repeat it many times). */
export function flowKey(f: NormalizedFlow): string {
  const ep = (e: FlowEndpoint): string => `${e.namespace ?? ''}/${e.workload?.name ?? e.podName ?? e.ip ?? e.reserved.join('+')}`;
  return [f.direction, ep(f.source), ep(f.destination), f.protocol, f.destinationPort ?? '', f.dropReason ?? '', f.deniedBy.map((p) => `${p.namespace ?? ''}/${p.name}`).join(',')].join('|');
}

/**
 * flowKey(normalizeFlow(f)), read straight off the wire flow: the client keys its
 * dedupe on this, so a repeat is dropped without building the flow (labels, names,
 * policies) first. Keep the two in step (a property test holds them equal).
 */
export function wireFlowKey(f: WireFlow, head: FlowHead = flowHead(f)): string {
  const direction = directionOf(f);
  const { protocol, ports } = l4Of(f);
  const denied = flowDeniedBy(direction, f.ingress_denied_by, f.egress_denied_by);
  const deniedBy = [...denied.ingress, ...denied.egress].map((p) => `${p.namespace}/${p.name}`).join(',');
  return `${direction}|${wireEndpointKey(f.source, f.IP?.source)}|${wireEndpointKey(f.destination, f.IP?.destination)}|${protocol}|${ports?.destination_port || ''}|${head.dropReason ?? ''}|${deniedBy}`;
}

/** flowKey's endpoint part: namespace/(workload, else pod, else IP, else reserved identities). */
function wireEndpointKey(e: WireEndpoint | undefined, ip: string | undefined): string {
  const name = flowWorkload(e?.workloads)?.name || e?.pod_name || ip;
  if (name && e?.namespace) return `${e.namespace}/${name}`;
  // The labels only when the key needs them (namespace, reserved identities), read as endpoint() reads them.
  const c = ciliumEndpointLabels(e?.labels, MAX_LABELS);
  return `${e?.namespace || c.namespace}/${name || c.reserved.join('+')}`;
}
