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
// - `time`: a google.protobuf.Timestamp (`{seconds, nanos}`, as the decoder hands it
//   over) or RFC 3339 text (Hubble's JSON); a flow without one has no time. Nothing here
//   makes one up: a consumer that needs a time (the live client's dedupe window, a
//   notification's first-seen) uses its own clock, and the resume point is only ever
//   moved by times the server gave.
// - `verdict`: the Verdict enum, by name or number; absent is VERDICT_UNKNOWN (0, which
//   proto3 leaves off the wire).
// - `drop_reason_desc` (the DropReason enum) is authoritative; the numeric `drop_reason`
//   is deprecated and only read when `drop_reason_desc` is absent or DROP_REASON_UNKNOWN.
import { isKubernetesSource, parseCiliumLabel } from './cilium.js';
import { rec } from './json.js';

/** Bounds on lists copied from flows (an endpoint's or a policy's labels, denied-by policies). */
export const MAX_LABELS = 256;
export const MAX_POLICIES = 32;
/** Names (workloads, policies, nodes) are cut here: Kubernetes names are at most 253 characters. */
export const MAX_NAME_CHARS = 253;

export type FlowDirection = 'ingress' | 'egress' | 'unknown';

/** flow.proto's Verdict enum, by number. */
export const VERDICT_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: 'VERDICT_UNKNOWN',
  1: 'FORWARDED',
  2: 'DROPPED',
  3: 'ERROR',
  4: 'AUDIT',
  5: 'REDIRECTED',
  6: 'TRACED',
  7: 'TRANSLATED',
});

/**
 * flow.proto's DropReason enum, by number (those of runtime/hubble/proto/flow/flow.proto,
 * which a test holds equal). Which of them are policy drops is the rules' call.
 */
export const DROP_REASON_NAMES: Readonly<Record<number, string>> = Object.freeze({
  130: 'INVALID_SOURCE_MAC',
  131: 'INVALID_DESTINATION_MAC',
  132: 'INVALID_SOURCE_IP',
  133: 'POLICY_DENIED',
  134: 'INVALID_PACKET_DROPPED',
  135: 'CT_TRUNCATED_OR_INVALID_HEADER',
  136: 'CT_MISSING_TCP_ACK_FLAG',
  137: 'CT_UNKNOWN_L4_PROTOCOL',
  139: 'UNSUPPORTED_L3_PROTOCOL',
  140: 'MISSED_TAIL_CALL',
  142: 'UNKNOWN_L4_PROTOCOL',
  151: 'STALE_OR_UNROUTABLE_IP',
  152: 'NO_MATCHING_LOCAL_CONTAINER_FOUND',
  158: 'SERVICE_BACKEND_NOT_FOUND',
  163: 'UNKNOWN_CONNECTION_TRACKING_STATE',
  165: 'NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION',
  169: 'FIB_LOOKUP_FAILED',
  171: 'INVALID_IDENTITY',
  172: 'UNKNOWN_SENDER',
  177: 'DENIED_BY_LB_SRC_RANGE_CHECK',
  181: 'POLICY_DENY',
  189: 'AUTH_REQUIRED',
  194: 'NO_EGRESS_GATEWAY',
  196: 'TTL_EXCEEDED',
});

const DROP_REASON_NUMBERS: ReadonlyMap<string, number> = new Map(Object.entries(DROP_REASON_NAMES).map(([n, s]) => [s, Number(n)]));

/** Enum names (verdicts, drop reasons) are cut here. */
const MAX_ENUM_CHARS = 64;

/** A drop reason: its DropReason name (or, for a number flow.proto does not name here, the number as text) and number. */
export interface FlowDropReason {
  name: string;
  /** The DropReason number; 0 when only a name is known and no number can be trusted for it. */
  code: number;
}

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

/** A non-negative integer from a number, a decimal string or a bigint; undefined otherwise. */
function enumNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^[0-9]{1,15}$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** RFC 3339 date-time (any fraction of a second, `Z` or an offset): what Hubble's JSON writes. */
const RFC3339 = /^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$/;

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z. */
const MIN_TIME_MS = -62_135_596_800_000;
const MAX_TIME_MS = 253_402_300_799_999;

/**
 * When the flow was observed, as ISO 8601 text (millisecond precision): from a
 * protobuf Timestamp (`{seconds, nanos}`, seconds as a number, decimal string or
 * bigint), RFC 3339 text or a Date. '' when there is none: absent, a Timestamp without
 * seconds (the decoder leaves an unset one so), or outside a Timestamp's years
 * 0001-9999. Never "now": the engine has no clock, and a made-up time would move the
 * live client's resume point.
 */
export function flowTime(v: unknown): string {
  let ms: number;
  if (typeof v === 'string') ms = v.length <= MAX_ENUM_CHARS && RFC3339.test(v) ? Date.parse(v) : NaN;
  else if (v instanceof Date) ms = v.getTime();
  else {
    const r = rec(v);
    const s = r?.seconds;
    const seconds = typeof s === 'number' ? s : typeof s === 'bigint' ? Number(s) : typeof s === 'string' && /^-?[0-9]{1,15}$/.test(s) ? Number(s) : NaN;
    if (!Number.isSafeInteger(seconds)) return '';
    const nanos = typeof r?.nanos === 'number' && Number.isInteger(r.nanos) && r.nanos >= 0 && r.nanos < 1e9 ? r.nanos : 0;
    ms = seconds * 1000 + Math.floor(nanos / 1e6);
  }
  // A Timestamp's range, and RFC 3339's: years 0001 to 9999.
  return Number.isFinite(ms) && ms >= MIN_TIME_MS && ms <= MAX_TIME_MS ? new Date(ms).toISOString() : '';
}

/**
 * `verdict` as the enum name: a name as given (cut to 64 characters), a number (or
 * decimal text) as its name, or as text when flow.proto has none for it. Absent, empty
 * or anything else is VERDICT_UNKNOWN, the proto3 default.
 */
export function flowVerdict(v: unknown): string {
  const n = enumNumber(v);
  if (n !== undefined) return VERDICT_NAMES[n] ?? String(n);
  if (typeof v === 'string' && v) return v.slice(0, MAX_ENUM_CHARS);
  return 'VERDICT_UNKNOWN';
}

/**
 * The drop reason from `drop_reason_desc` (`desc`: the DropReason enum by name or
 * number) and the deprecated numeric `drop_reason` (`code`). The description is
 * authoritative: when it says anything but DROP_REASON_UNKNOWN it gives the reason, and
 * `drop_reason` is read only for the number of a name not listed here (and only when
 * that number does not name another reason). Without a description, `drop_reason` gives
 * the reason. Undefined when neither gives one (no drop, or DROP_REASON_UNKNOWN / 0).
 */
export function flowDropReason(desc: unknown, code: unknown): FlowDropReason | undefined {
  const deprecated = enumNumber(code) || undefined;
  const byNumber = (n: number): FlowDropReason => ({ name: DROP_REASON_NAMES[n] ?? String(n), code: n });
  const d = enumNumber(desc);
  if (d !== undefined) return d === 0 ? (deprecated ? byNumber(deprecated) : undefined) : byNumber(d);
  if (typeof desc === 'string' && desc && desc !== 'DROP_REASON_UNKNOWN') {
    const name = desc.slice(0, MAX_ENUM_CHARS);
    const known = DROP_REASON_NUMBERS.get(name);
    if (known !== undefined) return { name, code: known };
    return { name, code: deprecated !== undefined && DROP_REASON_NAMES[deprecated] === undefined ? deprecated : 0 };
  }
  return deprecated ? byNumber(deprecated) : undefined;
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
