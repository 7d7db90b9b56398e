// Signals: what the correlate stage explains. A Kubernetes Event, a Hubble flow, an
// AdmissionReview or a free-text error message arrives in its own wire shape; each is
// normalized here into one bounded, plain-JSON fact so correlation rules can share
// conditions (`signal.reason`, `signal.message`) and never see an unbounded string.
//
// Normalizers never throw: malformed input is a `{ok: false}` with the reason, so the
// caller can count it (a metric) and move on.
import type { Gvk, Gvr, KubeObject } from './model.js';
import type { SignalKind } from './pack/types.js';
import { formatApiVersion, parseApiVersion } from './gvr.js';
import { rec } from './json.js';
import { ciliumEndpointLabels } from './cilium.js';
import { MAX_LABELS, MAX_NAME_CHARS, MAX_POLICIES, flowDeniedBy, flowDirection, flowDropReason, flowNodeName, flowTime, flowVerdict, flowWorkload, type FlowPolicy } from './hubble.js';

export type { SignalKind };
export const SIGNAL_KINDS: readonly SignalKind[] = ['event', 'flow', 'admission', 'message'];

/**
 * Messages are cut here before any regex sees them. Real denial messages are a few
 * hundred characters; Kyverno's multi-policy ones reach a few KiB.
 */
export const MAX_MESSAGE_CHARS = 8192;
/** Bounds on lists copied from flows (labels, denied-by policies): engine/hubble.ts. */
export { MAX_LABELS, MAX_POLICIES };

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  /** '' for cluster-scoped objects. */
  namespace: string;
  uid: string;
}

/** Fields every signal has, whatever its kind: shared rules read these through the `signal` fact. */
export interface SignalCommon {
  kind: SignalKind;
  /**
   * What the signal is about, stable across repeats: an aggregated Event keeps its key
   * when its count grows; a flow's key names endpoints by workload, not pod.
   */
  key: string;
  /** Namespace the signal happened in ('' when none). */
  namespace: string;
  /** Event reason, flow drop reason, admission operation; '' for messages. */
  reason: string;
  /** Bounded text ('' for flows). */
  message: string;
  /** The object the signal is about, when known. */
  involved: ObjectRef | null;
  /** How many times it was observed (Event count/series). */
  count: number;
  /** RFC 3339 or ''. */
  firstSeen: string;
  lastSeen: string;
  /** True when `message` was cut to {@link MAX_MESSAGE_CHARS}. */
  truncated: boolean;
}

export interface EventSignal extends SignalCommon {
  kind: 'event';
  /** Warning or Normal. */
  type: string;
  /** Reporting component/controller. */
  source: string;
  action: string;
  /** The Event object's own namespace/name. */
  eventName: string;
}

export interface FlowEndpoint {
  namespace: string;
  pod: string;
  /** The pod's Kubernetes labels, without Cilium's source prefix and pseudo-labels (engine/cilium.ts). */
  labels: Record<string, string>;
  /** Labels of the endpoint's namespace, when Cilium reports them. */
  namespaceLabels: Record<string, string>;
  /** Cilium reserved identities (`world`, `host`, `kube-apiserver`, ...). */
  reserved: string[];
  /** The pod's service account, from Cilium's `io.cilium.k8s.policy.serviceaccount`; '' when not reported. */
  serviceAccount: string;
  ip: string;
  identity: number;
  /** The owning workload Cilium reports (e.g. Deployment web): the first with a name and a kind, or null. */
  workload: { kind: string; name: string } | null;
}

/** A policy Hubble names in ingress_denied_by / egress_denied_by. */
export interface FlowPolicyRef {
  name: string;
  namespace: string;
  /** NetworkPolicy, CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, ... or ''. */
  kind: string;
}

export interface FlowSignal extends SignalCommon {
  kind: 'flow';
  /** DROPPED, FORWARDED, ...; VERDICT_UNKNOWN when the flow has none (proto3's default). */
  verdict: string;
  /** Numeric drop reason (133 POLICY_DENIED, 181 POLICY_DENY), 0 when unknown. */
  dropReason: number;
  /**
   * The DropReason name (its number as text for ones flow.proto does not name here), ''
   * for none: drop_reason_desc, which is authoritative, else the deprecated drop_reason
   * (engine/hubble.ts flowDropReason).
   */
  dropReasonDesc: string;
  direction: 'ingress' | 'egress' | 'unknown';
  protocol: string;
  sourcePort: number;
  destinationPort: number;
  source: FlowEndpoint;
  destination: FlowEndpoint;
  /**
   * Policies Hubble names as denying the flow, by direction (flow.proto's
   * ingress_denied_by / egress_denied_by): a drop at ingress has only the first, one at
   * egress only the second (engine/hubble.ts flowDeniedBy).
   */
  ingressDeniedBy: FlowPolicyRef[];
  egressDeniedBy: FlowPolicyRef[];
  isReply: boolean;
  /** The node that observed the flow (flow.proto's node_name); '' when not reported. */
  node: string;
}

export interface AdmissionSignal extends SignalCommon {
  kind: 'admission';
  uid: string;
  operation: string;
  resource: Gvr & { subResource: string };
  gvk: Gvk;
  name: string;
  object: KubeObject | null;
  oldObject: KubeObject | null;
  user: { username: string; groups: string[] };
  dryRun: boolean;
}

export interface MessageSignal extends SignalCommon {
  kind: 'message';
  /** The workload the user named (`--workload Deployment/web`), or null. */
  workload: { kind: string; name: string } | null;
}

export type Signal = EventSignal | FlowSignal | AdmissionSignal | MessageSignal;

export type SignalResult<S extends Signal> = { ok: true; signal: S } | { ok: false; error: string };

// ---------------------------------------------------------------------------------------
// Small readers over unknown JSON

function str(v: unknown, max = MAX_NAME_CHARS): string {
  if (typeof v === 'string') return v.length > max ? v.slice(0, max) : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return '';
}

function num(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return Number(v);
  if (typeof v === 'bigint') return Number(v);
  return 0;
}

/** First present field among camelCase / snake_case spellings. */
function pick(o: Record<string, unknown> | undefined, ...names: string[]): unknown {
  if (!o) return undefined;
  for (const n of names) if (o[n] !== undefined && o[n] !== null) return o[n];
  return undefined;
}

/** Timestamps arrive as RFC 3339 strings, Dates, or protobuf {seconds, nanos}. */
function time(v: unknown): string {
  if (typeof v === 'string') return v.slice(0, 64);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  const r = rec(v);
  if (r && (r.seconds !== undefined || r.nanos !== undefined)) {
    const ms = num(r.seconds) * 1000 + Math.floor(num(r.nanos) / 1e6);
    const d = new Date(ms);
    return Number.isNaN(d.getTime()) ? '' : d.toISOString();
  }
  return '';
}

/** Bound a message: cut to the limit and drop NULs; whitespace runs stay (multi-line Kyverno output). */
export function boundMessage(text: unknown): { message: string; truncated: boolean } {
  if (typeof text !== 'string') return { message: '', truncated: false };
  const truncated = text.length > MAX_MESSAGE_CHARS;
  const cut = truncated ? text.slice(0, MAX_MESSAGE_CHARS) : text;
  return { message: cut.includes('\u0000') ? cut.replaceAll('\u0000', '') : cut, truncated };
}

// The event recorder prefixes aggregated messages; the rest of the text is the real one.
const COMBINED_PREFIX = '(combined from similar events): ';

function objectRef(v: unknown): ObjectRef | null {
  const r = rec(v);
  if (!r) return null;
  const kind = str(r.kind);
  const name = str(r.name);
  if (!kind && !name) return null;
  return { apiVersion: str(r.apiVersion), kind, name, namespace: str(r.namespace), uid: str(r.uid) };
}

// ---------------------------------------------------------------------------------------
// Events

/**
 * A core/v1 or events.k8s.io/v1 Event -> EventSignal. ADDED and MODIFIED deliveries of
 * one aggregated Event give the same key; `count` carries the repeat count.
 */
export function eventSignal(input: unknown): SignalResult<EventSignal> {
  const e = rec(input);
  if (!e) return { ok: false, error: 'event is not an object' };
  const meta = rec(e.metadata) ?? {};
  const involved = objectRef(e.involvedObject ?? e.regarding);
  const rawMessage = typeof e.message === 'string' ? e.message : typeof e.note === 'string' ? e.note : '';
  const { message, truncated } = boundMessage(rawMessage.startsWith(COMBINED_PREFIX) ? rawMessage.slice(COMBINED_PREFIX.length) : rawMessage);
  const reason = str(e.reason, 128);
  if (!involved && !reason && !message) return { ok: false, error: 'event has no involved object, reason or message' };
  const series = rec(e.series);
  const count = Math.max(1, num(series?.count) || num(e.count) || num(e.deprecatedCount) || 1);
  const source = rec(e.source);
  const namespace = str(meta.namespace) || involved?.namespace || '';
  const eventName = `${namespace}/${str(meta.name)}`;
  const firstSeen = time(e.firstTimestamp ?? e.deprecatedFirstTimestamp ?? e.eventTime);
  const lastSeen = time(series?.lastObservedTime ?? e.lastTimestamp ?? e.deprecatedLastTimestamp ?? e.eventTime) || firstSeen;
  const subject = involved ? `${involved.kind}/${involved.namespace || namespace}/${involved.name}` : eventName;
  return {
    ok: true,
    signal: {
      kind: 'event',
      key: `event|${subject}|${reason}`,
      namespace,
      reason,
      message,
      involved: involved ? { ...involved, namespace: involved.namespace || namespace } : null,
      count,
      firstSeen,
      lastSeen,
      truncated,
      type: str(e.type, 32) || 'Normal',
      source: str(e.reportingController ?? e.reportingComponent ?? source?.component),
      action: str(e.action, 128),
      eventName,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Hubble flows

/** GetFlowsResponse's other kinds of response: what it holds instead of a flow. */
const NOT_FLOW_RESPONSES = ['lost_events', 'lostEvents', 'node_status', 'nodeStatus', 'agent_event', 'agentEvent', 'debug_event', 'debugEvent'];

function endpoint(v: unknown, ip: string): FlowEndpoint {
  const e = rec(v) ?? {};
  // Hubble's `source:key=value` list, or a map (a normalized flow replayed through here).
  const own = ciliumEndpointLabels(e.labels, MAX_LABELS);
  const { labels, reserved } = own;
  // runtime/hubble's NormalizedFlow keeps reserved identities, namespace labels and the
  // service account apart (older ones: Cilium's pseudo-labels in `meta`).
  if (Array.isArray(e.reserved)) for (const r of e.reserved.slice(0, MAX_LABELS)) if (typeof r === 'string' && !reserved.includes(r)) reserved.push(r);
  const meta = rec(e.meta) ? ciliumEndpointLabels(e.meta, MAX_LABELS) : undefined;
  const nsLabels = rec(e.namespaceLabels);
  const given = nsLabels ? stringMap(nsLabels, MAX_LABELS) : undefined;
  const namespaceLabels = meta || given ? { ...own.namespaceLabels, ...meta?.namespaceLabels, ...given } : own.namespaceLabels;
  const namespace = str(e.namespace) || str(own.namespace) || str(meta?.namespace);
  const serviceAccount = str(e.serviceAccount) || str(own.serviceAccount) || str(meta?.serviceAccount);
  // Hubble's `workloads` list, or the one workload a normalized flow kept.
  const w = flowWorkload(Array.isArray(e.workloads) ? e.workloads : [e.workload]);
  const podName = str(pick(e, 'podName', 'pod_name', 'pod'));
  return {
    namespace,
    pod: podName,
    labels,
    namespaceLabels,
    reserved,
    serviceAccount,
    ip: ip || str(e.ip),
    identity: num(e.identity),
    workload: w ? { kind: w.kind, name: w.name } : null,
  };
}

/** A map's string entries (at most `limit`), keys taken as they are (`__proto__` too). */
function stringMap(v: Record<string, unknown>, limit: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v).slice(0, limit)) {
    if (typeof x === 'string') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function policyRef(p: FlowPolicy): FlowPolicyRef {
  return { name: p.name, namespace: p.namespace, kind: p.kind };
}

function l4Of(v: unknown): { protocol: string; sourcePort: number; destinationPort: number } {
  const l4 = rec(v);
  if (!l4) return { protocol: '', sourcePort: 0, destinationPort: 0 };
  for (const proto of ['TCP', 'UDP', 'SCTP', 'ICMPv4', 'ICMPv6']) {
    const p = rec(l4[proto] ?? l4[proto.toLowerCase()]);
    if (p) {
      return {
        protocol: proto,
        sourcePort: num(pick(p, 'sourcePort', 'source_port')),
        destinationPort: num(pick(p, 'destinationPort', 'destination_port')),
      };
    }
  }
  return { protocol: '', sourcePort: 0, destinationPort: 0 };
}

function endpointName(e: FlowEndpoint): string {
  if (e.workload) return `${e.namespace}/${e.workload.kind}/${e.workload.name}`;
  if (e.pod) return `${e.namespace}/Pod/${e.pod}`;
  if (e.reserved.length) return `reserved:${e.reserved.join(',')}`;
  return e.ip || 'unknown';
}

/**
 * A Hubble Flow (or a GetFlowsResponse holding one), in protobuf-JSON camelCase or
 * proto-loader snake_case, or runtime/hubble's NormalizedFlow, -> FlowSignal. The
 * policy-relevant endpoint (the destination for ingress, the source for egress) gives
 * the signal's namespace and involved object.
 *
 * Every field of a flow is optional (proto3 leaves defaults off the wire): a flow with
 * no verdict is VERDICT_UNKNOWN, one with no endpoints has empty ones, as the live
 * stream's normalized flow has them. Only what is not a flow is rejected: a non-object,
 * or a GetFlowsResponse holding something else (lost events, a node status).
 */
export function flowSignal(input: unknown): SignalResult<FlowSignal> {
  const outer = rec(input);
  if (!outer) return { ok: false, error: 'flow is not an object' };
  const inner = rec(outer.flow);
  if (!inner) {
    const other = NOT_FLOW_RESPONSES.find((k) => outer[k] !== undefined && outer[k] !== null);
    if (other) return { ok: false, error: `not a flow: a GetFlowsResponse with ${other}` };
  }
  const f = inner ?? outer;
  const ipRec = rec(f.IP ?? f.ip);
  const source = endpoint(f.source, str(ipRec?.source));
  const destination = endpoint(f.destination, str(ipRec?.destination));
  const verdict = flowVerdict(f.verdict);
  // Hubble's JSON: drop_reason_desc (dropReasonDesc) and the deprecated numeric
  // drop_reason (dropReason in camelCase); runtime/hubble's NormalizedFlow: dropReason
  // is the name, dropReasonCode the number.
  const normalizedName = typeof f.dropReason === 'string' ? f.dropReason : undefined;
  const drop = flowDropReason(pick(f, 'dropReasonDesc', 'drop_reason_desc') ?? normalizedName, pick(f, 'dropReasonCode', 'drop_reason') ?? (normalizedName === undefined ? f.dropReason : undefined));
  const dropReasonDesc = drop?.name ?? '';
  const dropReason = drop?.code ?? 0;
  const direction = flowDirection(pick(f, 'trafficDirection', 'traffic_direction', 'direction'));
  let { protocol, sourcePort, destinationPort } = l4Of(f.l4);
  if (!protocol && typeof f.protocol === 'string' && f.protocol !== 'unknown') {
    protocol = f.protocol.slice(0, 16);
    sourcePort = num(f.sourcePort);
    destinationPort = num(f.destinationPort);
  }
  let ingressRaw = pick(f, 'ingressDeniedBy', 'ingress_denied_by');
  let egressRaw = pick(f, 'egressDeniedBy', 'egress_denied_by');
  // Only a single deniedBy list (a hand-written flow, or one normalized before
  // runtime/hubble kept the two lists): it belongs to the flow's direction.
  if (ingressRaw === undefined && egressRaw === undefined) {
    if (direction === 'egress') egressRaw = f.deniedBy;
    else ingressRaw = f.deniedBy;
  }
  const denied = flowDeniedBy(direction, ingressRaw, egressRaw);
  const ingressDeniedBy = denied.ingress.map(policyRef);
  const egressDeniedBy = denied.egress.map(policyRef);
  const reply = pick(f, 'isReply', 'is_reply');
  const isReply = typeof reply === 'boolean' ? reply : rec(reply)?.value === true;
  const subjectEp = direction === 'egress' ? source : destination;
  const involved: ObjectRef | null = subjectEp.pod
    ? { apiVersion: 'v1', kind: 'Pod', name: subjectEp.pod, namespace: subjectEp.namespace, uid: '' }
    : null;
  const t = flowTime(f.time);
  return {
    ok: true,
    signal: {
      kind: 'flow',
      key: `flow|${direction}|${endpointName(source)}|${endpointName(destination)}|${protocol}/${destinationPort}`,
      namespace: subjectEp.namespace,
      reason: dropReasonDesc,
      message: '',
      involved,
      count: 1,
      firstSeen: t,
      lastSeen: t,
      truncated: false,
      verdict,
      dropReason,
      dropReasonDesc,
      direction,
      protocol,
      sourcePort,
      destinationPort,
      source,
      destination,
      ingressDeniedBy,
      egressDeniedBy,
      isReply,
      // A GetFlowsResponse may carry the node beside the flow.
      node: flowNodeName(f, f === outer ? undefined : outer),
    },
  };
}

// ---------------------------------------------------------------------------------------
// Admission requests

/** An AdmissionReview (v1) or its `request` -> AdmissionSignal. */
export function admissionSignal(input: unknown): SignalResult<AdmissionSignal> {
  const outer = rec(input);
  if (!outer) return { ok: false, error: 'admission review is not an object' };
  const req = rec(outer.request) ?? (outer.operation !== undefined ? outer : undefined);
  if (!req) return { ok: false, error: 'admission review has no request' };
  const operation = str(req.operation, 16);
  if (!operation) return { ok: false, error: 'admission request has no operation' };
  const object = rec(req.object) as KubeObject | undefined;
  const oldObject = rec(req.oldObject) as KubeObject | undefined;
  const subject = object ?? oldObject;
  const kindRec = rec(req.kind) ?? {};
  const resRec = rec(req.resource) ?? {};
  const gv = typeof subject?.apiVersion === 'string' ? parseApiVersion(subject.apiVersion) : undefined;
  const gvk: Gvk = {
    group: str(kindRec.group) || gv?.group || '',
    version: str(kindRec.version) || gv?.version || '',
    kind: str(kindRec.kind) || str(subject?.kind),
  };
  const resource = { group: str(resRec.group), version: str(resRec.version), resource: str(resRec.resource), subResource: str(pick(req, 'subResource', 'subresource')) };
  const md = rec(subject?.metadata) ?? {};
  const name = str(req.name) || str(md.name) || str(md.generateName);
  const namespace = str(req.namespace) || str(md.namespace);
  const user = rec(req.userInfo) ?? {};
  const groups = Array.isArray(user.groups) ? user.groups.filter((g): g is string => typeof g === 'string').slice(0, 64) : [];
  const apiVersion = formatApiVersion(gvk.group, gvk.version);
  return {
    ok: true,
    signal: {
      kind: 'admission',
      key: `admission|${gvk.group}/${gvk.kind}|${namespace}/${name}|${operation}`,
      namespace,
      reason: operation,
      message: '',
      involved: { apiVersion, kind: gvk.kind, name, namespace, uid: str(md.uid) },
      count: 1,
      firstSeen: '',
      lastSeen: '',
      truncated: false,
      uid: str(req.uid),
      operation,
      resource,
      gvk,
      name,
      object: object ?? null,
      oldObject: oldObject ?? null,
      user: { username: str(user.username), groups },
      dryRun: req.dryRun === true,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Free-text messages (`potoo explain "<error>"`)

/** `Kind/name` (or `kind/name`, `deploy/name`) as kubectl users write it. */
export function parseWorkloadArg(s: string): { kind: string; name: string } | undefined {
  const m = /^([A-Za-z][A-Za-z0-9.]*)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(s.trim());
  if (!m) return undefined;
  const aliases: Record<string, string> = {
    deploy: 'Deployment',
    deployment: 'Deployment',
    deployments: 'Deployment',
    sts: 'StatefulSet',
    statefulset: 'StatefulSet',
    ds: 'DaemonSet',
    daemonset: 'DaemonSet',
    rs: 'ReplicaSet',
    replicaset: 'ReplicaSet',
    job: 'Job',
    cronjob: 'CronJob',
    cj: 'CronJob',
    po: 'Pod',
    pod: 'Pod',
    pods: 'Pod',
  };
  const raw = m[1] as string;
  return { kind: aliases[raw.toLowerCase()] ?? raw, name: m[2] as string };
}

export function messageSignal(text: string, opts: { namespace?: string; workload?: { kind: string; name: string } } = {}): MessageSignal {
  const { message, truncated } = boundMessage(typeof text === 'string' ? text.trim() : '');
  const namespace = opts.namespace ?? '';
  const workload = opts.workload ?? null;
  return {
    kind: 'message',
    key: `message|${namespace}|${workload ? `${workload.kind}/${workload.name}` : ''}|${fnv1a(message)}`,
    namespace,
    reason: '',
    message,
    involved: workload ? { apiVersion: '', kind: workload.kind, name: workload.name, namespace, uid: '' } : null,
    count: 1,
    firstSeen: '',
    lastSeen: '',
    truncated,
    workload,
  };
}

/** Normalize raw input of a known kind; messages take the text (and optional context). */
export function toSignal(kind: SignalKind, input: unknown): SignalResult<Signal> {
  switch (kind) {
    case 'event':
      return eventSignal(input);
    case 'flow':
      return flowSignal(input);
    case 'admission':
      return admissionSignal(input);
    case 'message': {
      if (typeof input === 'string') return { ok: true, signal: messageSignal(input) };
      const r = rec(input);
      if (!r || typeof r.message !== 'string') return { ok: false, error: 'message signal needs a message string' };
      const w = rec(r.workload);
      const opts: { namespace?: string; workload?: { kind: string; name: string } } = {};
      if (typeof r.namespace === 'string') opts.namespace = r.namespace;
      if (w && typeof w.kind === 'string' && typeof w.name === 'string') opts.workload = { kind: w.kind, name: w.name };
      else if (typeof r.workload === 'string') {
        const p = parseWorkloadArg(r.workload);
        if (p) opts.workload = p;
      }
      return { ok: true, signal: messageSignal(r.message, opts) };
    }
  }
}

/** 32-bit FNV-1a as 8 hex digits: short stable keys, not security. */
export function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
