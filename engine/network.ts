// The normalized network model. Every network adapter (NetworkPolicy, Cilium,
// AdminNetworkPolicy, Istio, ...) writes its constraints' `details` in this shape, so that
// traffic evaluation (traffic.ts) never looks at the engine a constraint came from: only
// at tier, direction, priority, isolation and rules of peers and ports.
//
//   details:
//     direction: ingress | egress      whose traffic: into the selected pods, or out of them
//     tier: admin | namespace | baseline | transport | mesh
//                                      admin    evaluated first, by ascending priority; the
//                                               first matching rule decides (allow, deny, or
//                                               pass to the namespace tier)  [AdminNetworkPolicy]
//                                      namespace deny rules win; otherwise, once any isolating
//                                               constraint selects the pod, only what some allow
//                                               rule matches passes          [NetworkPolicy, Cilium]
//                                      baseline only when the namespace tier does not isolate;
//                                               first matching rule decides   [BaselineAdminNetworkPolicy]
//                                      transport after L3/L4, namespace-tier rules over who may
//                                               connect at all (mutual TLS)   [Istio PeerAuthentication]
//                                      mesh     then request authorization, namespace-tier rules
//                                                                              [Istio AuthorizationPolicy, Sidecar]
//     priority: number                 admin tier: lower is evaluated first
//     isolates: bool                   selecting a pod puts that direction in default deny
//     dryRun: bool                     reported, never enforced
//     rules: [NetworkRule]             in the source's order
//     notes: [string]                  what the adapter could not represent exactly
//
// A rule matches traffic when one of its peers matches the other end, its ports match
// (absent or empty = every port) and no exceptPorts match. `l7` lists request-level
// conditions (HTTP paths, DNS names, JWT claims...): an allow rule with l7 allows the
// connection for matching requests only; a deny rule with l7 denies only some requests,
// so it never decides a connection on its own.
import type { Constraint, LabelSelector, WorkloadPort } from './model.js';
import { isEmptySelector, matchesSelector, selectorText } from './selector.js';
import { globMatch } from './scope.js';
import { containsIP, parseCIDR, parseIP } from './expr/net.js';
import { rec } from './json.js';

export type NetworkDirection = 'ingress' | 'egress';
export type NetworkTier = 'admin' | 'namespace' | 'baseline' | 'transport' | 'mesh';
export type NetworkAction = 'allow' | 'deny' | 'pass' | 'audit';

export const NETWORK_TIERS: readonly NetworkTier[] = ['admin', 'namespace', 'baseline', 'transport', 'mesh'];
export const NETWORK_ACTIONS: readonly NetworkAction[] = ['allow', 'deny', 'pass', 'audit'];

/**
 * Cilium's entity vocabulary, which covers the special peers other engines name too
 * (NetworkPolicy's "any address" is `all`; ANP `nodes` peers are `host`/`remote-node`).
 */
export const CLUSTER_ENTITIES: readonly string[] = ['cluster', 'host', 'remote-node', 'kube-apiserver', 'health', 'init', 'ingress', 'unmanaged'];
export const WORLD_ENTITIES: readonly string[] = ['world', 'world-ipv4', 'world-ipv6'];

/** Pods, by any conjunction of these (absent = no restriction on that axis). */
export interface PodsPeer {
  kind: 'pods';
  /** Pod labels. */
  pods?: LabelSelector;
  /** Namespace labels (`kubernetes.io/metadata.name` names one). */
  namespaces?: LabelSelector;
  /** Namespace names, `*` globs. */
  namespaceNames?: string[];
  notNamespaceNames?: string[];
  /** Service accounts as `namespace/name` (or `name` in any namespace), `*` globs. */
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  /** Workload identities `<trust domain>/ns/<ns>/sa/<sa>`, `*` globs (trust domain cluster.local). */
  principals?: string[];
  notPrincipals?: string[];
  /** Conditions that cannot be checked offline (cluster of a clustermesh, cloud groups): assumed to hold. */
  unchecked?: string[];
}

export interface AnyPeer {
  kind: 'any';
}

export interface CidrPeer {
  kind: 'cidr';
  cidr: string;
  except?: string[];
}

export interface EntityPeer {
  kind: 'entity';
  /** all, world, world-ipv4, world-ipv6, cluster, host, remote-node, kube-apiserver, health, init, ingress, unmanaged */
  entity: string;
}

export interface FqdnPeer {
  kind: 'fqdn';
  /** Exact DNS name. */
  name?: string;
  /** `*` matches within one label, `**.` any number of leading labels; `*` alone matches every name. */
  pattern?: string;
}

export interface NodesPeer {
  kind: 'nodes';
  nodes: LabelSelector;
}

export interface ServicePeer {
  kind: 'service';
  name?: string;
  namespace?: string;
  /** Services by their labels. */
  selector?: LabelSelector;
}

export type NetworkPeer = PodsPeer | AnyPeer | CidrPeer | EntityPeer | FqdnPeer | NodesPeer | ServicePeer;

export interface NetworkPort {
  /** TCP, UDP, SCTP, ICMP, ICMPv6 or ANY; absent = any protocol. */
  protocol?: string;
  /** A number, or a named container port of the destination pod; absent or 0 = every port. */
  port?: number | string;
  endPort?: number;
}

export interface NetworkRule {
  action: NetworkAction;
  /** Any of these; an empty list matches nothing. */
  peers: NetworkPeer[];
  /** Any of these; absent or empty = every port and protocol. */
  ports?: NetworkPort[];
  exceptPorts?: NetworkPort[];
  /** Request-level conditions, as text. */
  l7?: string[];
  /** The rule's name or position in its source (`ingress[2]`, an ANP rule name). */
  name?: string;
}

export interface NetworkDetails {
  direction: NetworkDirection;
  tier: NetworkTier;
  priority?: number;
  isolates: boolean;
  dryRun?: boolean;
  rules: NetworkRule[];
  notes?: string[];
}

/** The network details of a constraint, or undefined when it has none (or a malformed shape). */
export function networkDetailsOf(c: Pick<Constraint, 'details'>): NetworkDetails | undefined {
  const d = rec(c.details);
  if (!d) return undefined;
  if (d.direction !== 'ingress' && d.direction !== 'egress') return undefined;
  if (!NETWORK_TIERS.includes(d.tier as NetworkTier)) return undefined;
  if (typeof d.isolates !== 'boolean' || !Array.isArray(d.rules)) return undefined;
  return d as unknown as NetworkDetails;
}

/** Shape problems of network details, for tests and lint: empty when well-formed. */
export function validateNetworkDetails(details: unknown): string[] {
  const errors: string[] = [];
  const d = rec(details);
  if (!d) return ['details must be a map'];
  if (d.direction !== 'ingress' && d.direction !== 'egress') errors.push('direction must be ingress or egress');
  if (!NETWORK_TIERS.includes(d.tier as NetworkTier)) errors.push(`tier must be one of ${NETWORK_TIERS.join(', ')}`);
  if (typeof d.isolates !== 'boolean') errors.push('isolates must be a boolean');
  if (d.priority !== undefined && typeof d.priority !== 'number') errors.push('priority must be a number');
  if (!Array.isArray(d.rules)) {
    errors.push('rules must be a list');
    return errors;
  }
  d.rules.forEach((r, i) => {
    const rule = rec(r);
    if (!rule) return errors.push(`rules[${i}] must be a map`);
    if (!NETWORK_ACTIONS.includes(rule.action as NetworkAction)) errors.push(`rules[${i}].action must be one of ${NETWORK_ACTIONS.join(', ')}`);
    if (!Array.isArray(rule.peers)) errors.push(`rules[${i}].peers must be a list`);
    else
      rule.peers.forEach((p, j) => {
        const peer = rec(p);
        const kinds = ['pods', 'any', 'cidr', 'entity', 'fqdn', 'nodes', 'service'];
        if (!peer || !kinds.includes(peer.kind as string)) errors.push(`rules[${i}].peers[${j}].kind must be one of ${kinds.join(', ')}`);
        else if (peer.kind === 'cidr' && !parseCIDR(String(peer.cidr)).ok) errors.push(`rules[${i}].peers[${j}].cidr ${String(peer.cidr)} is not a CIDR`);
        else if (peer.kind === 'entity' && typeof peer.entity !== 'string') errors.push(`rules[${i}].peers[${j}].entity must be a string`);
      });
    for (const k of ['ports', 'exceptPorts'] as const) {
      if (rule[k] === undefined) continue;
      if (!Array.isArray(rule[k])) errors.push(`rules[${i}].${k} must be a list`);
      else
        (rule[k] as unknown[]).forEach((p, j) => {
          const port = rec(p);
          if (!port) return errors.push(`rules[${i}].${k}[${j}] must be a map`);
          if (port.port !== undefined && typeof port.port !== 'number' && typeof port.port !== 'string') errors.push(`rules[${i}].${k}[${j}].port must be a number or a name`);
          if (port.endPort !== undefined && typeof port.endPort !== 'number') errors.push(`rules[${i}].${k}[${j}].endPort must be a number`);
        });
    }
  });
  return errors;
}

// ---------------------------------------------------------------------------------------
// The other end of a connection

/** A pod (or the pods of a workload), an address or name outside the cluster, or a special identity. */
export type TrafficEndpoint =
  | {
      kind: 'pod';
      namespace: string;
      /** Pod labels. */
      labels: Readonly<Record<string, string>>;
      /** Namespace labels; `kubernetes.io/metadata.name` is added when missing. */
      namespaceLabels?: Readonly<Record<string, string>>;
      /** Pod name, or the workload as `Kind/name`, for display. */
      name?: string;
      serviceAccount?: string;
      /** Container ports, to resolve named ports. */
      ports?: readonly WorkloadPort[];
    }
  | { kind: 'external'; ip?: string; fqdn?: string }
  | { kind: 'entity'; entity: string };

/** Does `svc` (namespace, name, labels) select the pod? Supplied by the caller when it knows Services. */
export type ServiceLookup = (namespace: string, name: string | undefined, selector: LabelSelector | undefined) => { selects(podNamespace: string, podLabels: Readonly<Record<string, string>>): boolean } | undefined;

function nsLabels(e: { namespace: string; namespaceLabels?: Readonly<Record<string, string>> }): Readonly<Record<string, string>> {
  const l = e.namespaceLabels ?? {};
  return l['kubernetes.io/metadata.name'] === e.namespace ? l : { ...l, 'kubernetes.io/metadata.name': e.namespace };
}

function anyGlob(patterns: readonly string[] | undefined, value: string): boolean {
  return (patterns ?? []).some((p) => globMatch(p, value));
}

function serviceAccountMatches(patterns: readonly string[], namespace: string, sa: string | undefined): boolean {
  const name = sa ?? 'default';
  return patterns.some((p) => (p.includes('/') ? globMatch(p, `${namespace}/${name}`) : globMatch(p, name)));
}

function principalOf(namespace: string, sa: string | undefined): string {
  return `cluster.local/ns/${namespace}/sa/${sa ?? 'default'}`;
}

/** `*` = one DNS label's characters, `**.` = any number of leading labels; case-insensitive. */
export function fqdnPatternMatches(pattern: string, name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (p === '*' || p === '**') return true;
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i] as string;
    if (p.startsWith('**.', i)) {
      re += '(?:[-a-z0-9_]+\\.)*';
      i += 2;
    } else if (ch === '*') re += '[-a-z0-9_]*';
    else re += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(n);
}

function ipIn(ip: string, cidr: string, except: readonly string[] | undefined): boolean {
  const a = parseIP(ip);
  const c = parseCIDR(cidr);
  if (!a.ok || !c.ok || !containsIP(c.value, a.value)) return false;
  for (const e of except ?? []) {
    const x = parseCIDR(e);
    if (x.ok && containsIP(x.value, a.value)) return false;
  }
  return true;
}

/** Does the peer describe this endpoint? */
export function peerMatches(peer: NetworkPeer, e: TrafficEndpoint, services?: ServiceLookup): boolean {
  switch (peer.kind) {
    case 'any':
      return true;
    case 'entity': {
      const ent = peer.entity;
      if (ent === 'all') return true;
      if (e.kind === 'pod') return ent === 'cluster';
      if (e.kind === 'external') {
        if (ent === 'world') return true;
        if (ent === 'world-ipv4') return !e.ip || !e.ip.includes(':');
        if (ent === 'world-ipv6') return !e.ip || e.ip.includes(':');
        return false;
      }
      if (ent === e.entity) return true;
      if (ent === 'cluster') return CLUSTER_ENTITIES.includes(e.entity);
      if (ent === 'world') return WORLD_ENTITIES.includes(e.entity);
      return false;
    }
    case 'cidr':
      return e.kind === 'external' && e.ip !== undefined && ipIn(e.ip, peer.cidr, peer.except);
    case 'fqdn':
      if (e.kind !== 'external' || !e.fqdn) return false;
      if (peer.name !== undefined) return peer.name.toLowerCase().replace(/\.$/, '') === e.fqdn.toLowerCase().replace(/\.$/, '');
      return peer.pattern !== undefined && fqdnPatternMatches(peer.pattern, e.fqdn);
    case 'nodes':
      return e.kind === 'entity' && (e.entity === 'host' || e.entity === 'remote-node') && isEmptySelector(peer.nodes);
    case 'service': {
      if (e.kind !== 'pod' || !services) return false;
      const svc = services(peer.namespace ?? e.namespace, peer.name, peer.selector);
      return svc !== undefined && svc.selects(e.namespace, e.labels);
    }
    case 'pods': {
      if (e.kind !== 'pod') return false;
      if (peer.pods && !matchesSelector(peer.pods, e.labels, 'all')) return false;
      if (peer.namespaces && !matchesSelector(peer.namespaces, nsLabels(e), 'all')) return false;
      if (peer.namespaceNames && !anyGlob(peer.namespaceNames, e.namespace)) return false;
      if (peer.notNamespaceNames && anyGlob(peer.notNamespaceNames, e.namespace)) return false;
      if (peer.serviceAccounts && !serviceAccountMatches(peer.serviceAccounts, e.namespace, e.serviceAccount)) return false;
      if (peer.notServiceAccounts && serviceAccountMatches(peer.notServiceAccounts, e.namespace, e.serviceAccount)) return false;
      if (peer.principals && !anyGlob(peer.principals, principalOf(e.namespace, e.serviceAccount))) return false;
      if (peer.notPrincipals && anyGlob(peer.notPrincipals, principalOf(e.namespace, e.serviceAccount))) return false;
      return true;
    }
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------
// Ports

/** The port a connection goes to, resolved as far as the destination allows. */
export interface ResolvedPort {
  protocol: string;
  /** Undefined when a named port could not be resolved on the destination. */
  port?: number;
  /** The name asked for, or the destination container port's name. */
  name?: string;
}

/** A port given as 80, "80", "80/TCP", "http" or "http/UDP". */
export function parsePortSpec(spec: string | number, protocol?: string): { port?: number; name?: string; protocol: string } {
  if (typeof spec === 'number') return { port: spec, protocol: (protocol ?? 'TCP').toUpperCase() };
  const [p, proto] = spec.split('/');
  const prot = (proto ?? protocol ?? 'TCP').toUpperCase();
  const s = (p ?? '').trim();
  if (/^[0-9]+$/.test(s)) return { port: Number(s), protocol: prot };
  return { name: s, protocol: prot };
}

/** Resolve a named port against the destination's container ports (name and protocol). */
export function resolvePort(spec: { port?: number; name?: string; protocol: string }, dst: TrafficEndpoint): ResolvedPort {
  if (spec.port !== undefined) {
    const out: ResolvedPort = { protocol: spec.protocol, port: spec.port };
    if (dst.kind === 'pod') {
      const named = dst.ports?.find((p) => p.containerPort === spec.port && p.protocol.toUpperCase() === spec.protocol && p.name);
      if (named?.name) out.name = named.name;
    }
    return out;
  }
  const out: ResolvedPort = { protocol: spec.protocol };
  if (spec.name) out.name = spec.name;
  if (dst.kind === 'pod' && spec.name) {
    const p = dst.ports?.find((x) => x.name === spec.name && x.protocol.toUpperCase() === spec.protocol);
    if (p) out.port = p.containerPort;
  }
  return out;
}

function protocolMatches(rule: string | undefined, proto: string): boolean {
  if (rule === undefined || rule === '' || rule.toUpperCase() === 'ANY') return true;
  return rule.toUpperCase() === proto.toUpperCase();
}

/** Does a rule port admit the connection's port? Named rule ports resolve on the destination pod. */
export function portMatches(rp: NetworkPort, port: ResolvedPort, dst: TrafficEndpoint): boolean {
  if (!protocolMatches(rp.protocol, port.protocol)) return false;
  const v = rp.port;
  if (v === undefined || v === null || v === 0 || v === '0' || v === '') return true;
  const n = typeof v === 'number' ? v : /^[0-9]+$/.test(v) ? Number(v) : undefined;
  if (n !== undefined) {
    if (port.port === undefined) return false;
    const end = typeof rp.endPort === 'number' && rp.endPort >= n ? rp.endPort : n;
    return port.port >= n && port.port <= end;
  }
  // A named port: the destination pod's container port of that name (and protocol).
  const name = v as string;
  if (port.name === name) return true;
  if (dst.kind !== 'pod' || port.port === undefined) return false;
  return (dst.ports ?? []).some((p) => p.name === name && p.containerPort === port.port && protocolMatches(p.protocol, port.protocol));
}

export type RuleMatch = 'none' | 'full' | 'l7';

/** Does the rule match a connection to/from `peer` on `port` (destination `dst`)? */
export function ruleMatches(rule: NetworkRule, peer: TrafficEndpoint, port: ResolvedPort, dst: TrafficEndpoint, services?: ServiceLookup): RuleMatch {
  if (!rule.peers.some((p) => peerMatches(p, peer, services))) return 'none';
  if (rule.ports && rule.ports.length > 0 && !rule.ports.some((p) => portMatches(p, port, dst))) return 'none';
  if (rule.exceptPorts && rule.exceptPorts.some((p) => portMatches(p, port, dst))) return 'none';
  return rule.l7 && rule.l7.length > 0 ? 'l7' : 'full';
}

// ---------------------------------------------------------------------------------------
// Text

const list = (xs: readonly string[]): string => xs.join(', ');

export function peerText(p: NetworkPeer): string {
  switch (p.kind) {
    case 'any':
      return 'any peer';
    case 'entity':
      return `entity ${p.entity}`;
    case 'cidr':
      return `${p.cidr}${p.except && p.except.length ? ` except ${list(p.except)}` : ''}`;
    case 'fqdn':
      return p.name !== undefined ? `DNS name ${p.name}` : `DNS names ${p.pattern ?? '?'}`;
    case 'nodes':
      return `nodes ${selectorText(p.nodes)}`;
    case 'service':
      return `service ${p.name ? (p.namespace ? p.namespace + '/' : '') + p.name : selectorText(p.selector ?? {})}`;
    case 'pods': {
      const parts: string[] = [];
      const anyPod = !p.pods || isEmptySelector(p.pods);
      parts.push(anyPod ? 'all pods' : `pods ${selectorText(p.pods as LabelSelector)}`);
      if (p.namespaceNames) parts.push(`in namespace${p.namespaceNames.length > 1 ? 's' : ''} ${list(p.namespaceNames)}`);
      if (p.namespaces) {
        const ml = p.namespaces.matchLabels ?? {};
        const named = Object.keys(ml).length === 1 && ml['kubernetes.io/metadata.name'] !== undefined && !(p.namespaces.matchExpressions ?? []).length;
        parts.push(named ? `in namespace ${ml['kubernetes.io/metadata.name']}` : `in namespaces ${selectorText(p.namespaces)}`);
      }
      if (!p.namespaceNames && !p.namespaces) parts.push('in any namespace');
      if (p.notNamespaceNames) parts.push(`not in namespaces ${list(p.notNamespaceNames)}`);
      if (p.serviceAccounts) parts.push(`with service account ${list(p.serviceAccounts)}`);
      if (p.notServiceAccounts) parts.push(`without service account ${list(p.notServiceAccounts)}`);
      if (p.principals) parts.push(`with identity ${list(p.principals)}`);
      if (p.notPrincipals) parts.push(`without identity ${list(p.notPrincipals)}`);
      if (p.unchecked) parts.push(`(${list(p.unchecked)})`);
      return parts.join(' ');
    }
    default:
      return 'unknown peer';
  }
}

export function portText(p: NetworkPort): string {
  const proto = p.protocol && p.protocol.toUpperCase() !== 'ANY' ? p.protocol.toUpperCase() : 'any protocol';
  const v = p.port;
  if (v === undefined || v === 0 || v === '0' || v === '') return proto === 'any protocol' ? 'any port' : `${proto} any port`;
  return `${proto === 'any protocol' ? 'ANY' : proto}/${v}${p.endPort !== undefined ? '-' + p.endPort : ''}`;
}

/** `allow from pods app=lb in namespace a on TCP/8080` */
export function ruleText(r: NetworkRule, direction?: NetworkDirection): string {
  const prep = direction === 'egress' ? 'to' : 'from';
  const peers = r.peers.length === 0 ? 'no peer' : r.peers.map(peerText).join(' or ');
  const ports = !r.ports || r.ports.length === 0 ? 'any port' : r.ports.map(portText).join(', ');
  const except = r.exceptPorts && r.exceptPorts.length ? ` except ${r.exceptPorts.map(portText).join(', ')}` : '';
  const l7 = r.l7 && r.l7.length ? ` (only ${r.l7.join('; ')})` : '';
  return `${r.action} ${prep} ${peers} on ${ports}${except}${l7}`;
}

/** CEL helpers over the normalized model, for adapter summaries. */
export function rulesTextValue(rules: unknown, direction: unknown): string {
  if (!Array.isArray(rules)) return '';
  const dir = direction === 'egress' ? 'egress' : 'ingress';
  return rules.map((r) => (rec(r) ? ruleText(r as unknown as NetworkRule, dir) : '?')).join('; ');
}

export function peerTextValue(peer: unknown): string {
  return rec(peer) ? peerText(peer as unknown as NetworkPeer) : '?';
}
