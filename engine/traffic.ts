// Traffic evaluation: is a connection from A to B on port P allowed, and which rules
// decide. Pure: it reads the constraints adapters emitted (their normalized network
// details, engine/network.ts) and never the engine they came from.
//
// Each direction is decided at the pod whose policies apply: egress at the source,
// ingress at the destination. In a direction, tiers are evaluated in order:
//   admin      by ascending priority, each constraint's rules in order; the first matching
//              rule decides: allow and deny are final, pass skips to the namespace tier;
//   namespace  any matching deny rule denies (deny wins over allow); otherwise, if some
//              isolating constraint selects the pod, the union of allow rules decides and
//              everything else is denied by default;
//   baseline   only when the namespace tier does not isolate the pod: the first matching
//              rule decides; nothing matching = allowed (the system default);
//   transport  after L3/L4 allows: namespace-tier semantics over connection requirements
//              (mutual TLS: Istio PeerAuthentication STRICT);
//   mesh       then mesh authorization, with the same semantics (Istio AuthorizationPolicy,
//              Sidecar egress).
// Named ports resolve against the destination pod's container ports. A connection is
// allowed when both directions allow it.
import type { Applicable } from './store/constraints.js';
import type { Constraint, KubeObject, LabelSelector, SourceRef, Workload, WorkloadPort } from './model.js';
import { podScopeTarget, type ScopeSubject } from './scope.js';
import {
  type NetworkAction,
  type NetworkDetails,
  type NetworkDirection,
  type NetworkRule,
  type NetworkTier,
  type ResolvedPort,
  type ServiceLookup,
  type TrafficEndpoint,
  networkDetailsOf,
  parsePortSpec,
  resolvePort,
  ruleMatches,
  ruleText,
  WORLD_ENTITIES,
  CLUSTER_ENTITIES,
} from './network.js';
import { matchesSelector } from './selector.js';
import { ciliumEndpointLabels } from './cilium.js';
import { parseIP } from './expr/net.js';

export type { TrafficEndpoint } from './network.js';

/** What traffic evaluation reads: constraints by subject, and optionally namespaces and Services. */
export interface TrafficContext {
  constraints: { applicableTo(target: ScopeSubject): Applicable[] };
  namespaceLabels?(namespace: string): Readonly<Record<string, string>> | undefined;
  services?: ServiceLookup;
}

/** The parts of an Analyzer traffic evaluation uses (an Analyzer is one). */
export interface AnalyzerLike {
  constraints: { applicableTo(target: ScopeSubject): Applicable[] };
  store: {
    namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
    get(gvr: { group: string; version: string; resource: string }, namespace: string | undefined, name: string): KubeObject | undefined;
    list(gvr: { group: string; version: string; resource: string }, namespace?: string): KubeObject[];
  };
  workloads: { find(kind: string, namespace: string, name: string): Workload | undefined; list(namespace?: string): Workload[] };
}

export interface TrafficQuery {
  src: TrafficEndpoint;
  dst: TrafficEndpoint;
  /** 80, "80", "80/TCP", "http" (a named port of the destination pod). */
  port: number | string;
  /** Default TCP (or the one in `port`). */
  protocol?: string;
}

/** One rule (or one isolating policy) that decided a direction. */
export interface TrafficDecision {
  constraintId: string;
  source: SourceRef;
  /** `NetworkPolicy 'default/web-deny-all'` */
  policy: string;
  tier: NetworkTier;
  /** `isolate`: the policy selects the pod and none of its rules allows the connection. */
  action: NetworkAction | 'isolate';
  /** Rule name or position (`ingress[0]`, an AdminNetworkPolicy rule name). */
  rule?: string;
  ruleText?: string;
  l7?: string[];
}

export type DirectionReason =
  | 'not-a-pod'
  | 'no-policy'
  | 'allowed-by-rule'
  | 'denied-by-rule'
  | 'default-deny'
  | 'baseline-allow'
  | 'baseline-deny';

export interface DirectionVerdict {
  direction: NetworkDirection;
  /** False when the pod whose policies apply is not in the cluster (an address, an entity). */
  evaluated: boolean;
  allowed: boolean;
  reason: DirectionReason;
  /** The tier that decided (absent for the system default). */
  tier?: NetworkTier;
  decidedBy: TrafficDecision[];
  /** Request-level conditions on an allowed connection (HTTP, DNS, Kafka, JWT...). */
  l7: string[];
  /** What else is worth knowing: partial (L7) denies, dry-run policies that would deny. */
  caveats: string[];
  /** np-guard style lines, one per deciding rule or policy. */
  explanation: string[];
}

export interface TrafficVerdict {
  allowed: boolean;
  src: string;
  dst: string;
  port: ResolvedPort;
  egress: DirectionVerdict;
  ingress: DirectionVerdict;
  l7: string[];
  notes: string[];
}

// ---------------------------------------------------------------------------------------

function isAnalyzer(x: TrafficContext | AnalyzerLike): x is AnalyzerLike {
  return 'store' in x && typeof (x as AnalyzerLike).store?.get === 'function';
}

const SERVICES = { group: '', version: 'v1', resource: 'services' };

/** A TrafficContext over an analyzer (its constraint index, namespaces and Services). */
export function trafficContext(a: AnalyzerLike): TrafficContext {
  const services: ServiceLookup = (namespace, name, selector) => {
    const objs = name ? [a.store.get(SERVICES, namespace, name)].filter((x): x is KubeObject => !!x) : a.store.list(SERVICES, namespace).filter((s) => matchesSelector(selector ?? {}, (s.metadata?.labels ?? {}) as Record<string, string>, 'all'));
    if (objs.length === 0) return undefined;
    return {
      selects(podNamespace, podLabels) {
        return objs.some((s) => {
          const sel = (s.spec as { selector?: Record<string, string> } | undefined)?.selector;
          return s.metadata?.namespace === podNamespace && !!sel && Object.keys(sel).length > 0 && matchesSelector({ matchLabels: sel }, podLabels, 'none');
        });
      },
    };
  };
  return { constraints: a.constraints, namespaceLabels: (ns) => a.store.namespaceLabels(ns), services };
}

function ctxOf(x: TrafficContext | AnalyzerLike): TrafficContext {
  return isAnalyzer(x) ? trafficContext(x) : x;
}

export function endpointText(e: TrafficEndpoint): string {
  if (e.kind === 'entity') return `entity ${e.entity}`;
  if (e.kind === 'external') return e.fqdn && e.ip ? `${e.fqdn} (${e.ip})` : (e.fqdn ?? e.ip ?? 'an external address');
  if (e.name) {
    const [kind, name] = e.name.includes('/') ? (e.name.split('/', 2) as [string, string]) : ['Pod', e.name];
    return `${e.namespace}/${name}[${kind}]`;
  }
  const labels = Object.entries(e.labels).map(([k, v]) => `${k}=${v}`).join(',');
  return `${e.namespace}/[${labels || 'any pod'}]`;
}

function portLabel(p: ResolvedPort): string {
  if (p.port !== undefined) return `${p.protocol}:${p.port}${p.name ? ` (${p.name})` : ''}`;
  return `${p.protocol}:${p.name ?? '?'}`;
}

function podTarget(e: Extract<TrafficEndpoint, { kind: 'pod' }>, ctx: TrafficContext): ScopeSubject {
  const ns = { ...(ctx.namespaceLabels?.(e.namespace) ?? {}), ...(e.namespaceLabels ?? {}), 'kubernetes.io/metadata.name': e.namespace };
  const name = e.name?.includes('/') ? (e.name.split('/')[1] ?? '') : (e.name ?? '');
  return podScopeTarget({ name, namespace: e.namespace, labels: { ...e.labels }, namespaceLabels: ns });
}

interface Candidate {
  c: Constraint;
  d: NetworkDetails;
}

function policyName(s: SourceRef): string {
  return `${s.kind} '${s.namespace ? s.namespace + '/' : ''}${s.name}'`;
}

const DIR = { ingress: 'Ingress', egress: 'Egress' } as const;

/** Tiers checked after L3/L4, in order, each on its own. */
const LAYERED_TIERS: readonly NetworkTier[] = ['transport', 'mesh'];

function ruleLabel(r: NetworkRule, i: number): string {
  return r.name ?? `#${i + 1}`;
}

function decision(cand: Candidate, rule: NetworkRule | undefined, i: number, action: TrafficDecision['action']): TrafficDecision {
  const d: TrafficDecision = { constraintId: cand.c.id, source: cand.c.source, policy: policyName(cand.c.source), tier: cand.d.tier, action };
  if (rule) {
    d.rule = ruleLabel(rule, i);
    d.ruleText = ruleText(rule, cand.d.direction);
    if (rule.l7?.length) d.l7 = [...rule.l7];
  }
  return d;
}

function verbOf(a: NetworkAction): string {
  return a === 'allow' ? 'allows' : a === 'deny' ? 'denies' : a === 'pass' ? 'passes' : 'audits';
}

function ruleLine(dec: TrafficDecision, dir: NetworkDirection): string {
  const l7 = dec.l7?.length ? `; only requests matching ${dec.l7.join('; ')}` : '';
  return `${dec.policy} ${verbOf(dec.action as NetworkAction)} connections by ${DIR[dir]} rule ${dec.rule ?? ''} (${dec.ruleText ?? ''})${l7}`;
}

const byPriority = (a: Candidate, b: Candidate): number =>
  (a.d.priority ?? 0) - (b.d.priority ?? 0) || (a.c.source.name < b.c.source.name ? -1 : a.c.source.name > b.c.source.name ? 1 : 0) || (a.c.id < b.c.id ? -1 : 1);

interface Ctx {
  dir: NetworkDirection;
  subject: Extract<TrafficEndpoint, { kind: 'pod' }>;
  peer: TrafficEndpoint;
  dst: TrafficEndpoint;
  port: ResolvedPort;
  services: ServiceLookup | undefined;
}

interface TierResult {
  decided: boolean;
  allowed: boolean;
  reason?: DirectionReason;
  decidedBy: TrafficDecision[];
  l7: string[];
  explanation: string[];
}

/** Namespace-tier semantics (also used for the mesh): deny wins, isolation, union of allows. */
function isolationTier(cands: Candidate[], x: Ctx, caveats: string[]): TierResult {
  const denies: TrafficDecision[] = [];
  const allows: TrafficDecision[] = [];
  let fullAllow = false;
  for (const cand of cands) {
    cand.d.rules.forEach((r, i) => {
      if (r.action !== 'allow' && r.action !== 'deny') return;
      const m = ruleMatches(r, x.peer, x.port, x.dst, x.services);
      if (m === 'none') return;
      if (r.action === 'deny') {
        if (m === 'full') denies.push(decision(cand, r, i, 'deny'));
        else caveats.push(`${policyName(cand.c.source)} denies some requests by ${DIR[x.dir]} rule ${ruleLabel(r, i)}: ${(r.l7 ?? []).join('; ')}`);
        return;
      }
      allows.push(decision(cand, r, i, 'allow'));
      if (m === 'full') fullAllow = true;
    });
  }
  if (denies.length) {
    return { decided: true, allowed: false, reason: 'denied-by-rule', decidedBy: denies, l7: [], explanation: denies.map((d) => ruleLine(d, x.dir)) };
  }
  const isolating = cands.filter((c) => c.d.isolates);
  if (isolating.length === 0) return { decided: false, allowed: true, decidedBy: [], l7: [], explanation: [] };
  if (allows.length) {
    const l7 = fullAllow ? [] : [...new Set(allows.flatMap((a) => a.l7 ?? []))];
    return { decided: true, allowed: true, reason: 'allowed-by-rule', decidedBy: allows, l7, explanation: allows.map((d) => ruleLine(d, x.dir)) };
  }
  const who = endpointText(x.peer);
  const decidedBy = isolating.map((c) => decision(c, undefined, 0, 'isolate'));
  const explanation = isolating.map((c) => {
    const n = c.d.rules.filter((r) => r.action === 'allow').length;
    const rules = n === 0 ? 'no rules defined' : `${n} rule${n > 1 ? 's' : ''}: ${c.d.rules.filter((r) => r.action === 'allow').map((r) => ruleText(r, x.dir)).join('; ')}`;
    return `${policyName(c.c.source)} selects ${endpointText(x.subject)}, but ${who} on ${portLabel(x.port)} is not allowed by any ${DIR[x.dir]} rule (${rules})`;
  });
  return { decided: true, allowed: false, reason: 'default-deny', decidedBy, l7: [], explanation };
}

/** First matching rule decides (admin and baseline tiers). */
function firstMatch(cands: Candidate[], x: Ctx): { cand: Candidate; rule: NetworkRule; index: number } | undefined {
  for (const cand of [...cands].sort(byPriority)) {
    for (let i = 0; i < cand.d.rules.length; i++) {
      const r = cand.d.rules[i] as NetworkRule;
      if (r.action === 'audit') continue;
      if (ruleMatches(r, x.peer, x.port, x.dst, x.services) !== 'none') return { cand, rule: r, index: i };
    }
  }
  return undefined;
}

function l34(cands: Candidate[], x: Ctx, caveats: string[], explanation: string[]): TierResult {
  const admin = cands.filter((c) => c.d.tier === 'admin');
  const hit = firstMatch(admin, x);
  const passed: TrafficDecision[] = [];
  if (hit) {
    const dec = decision(hit.cand, hit.rule, hit.index, hit.rule.action);
    if (hit.rule.action === 'allow' || hit.rule.action === 'deny') {
      const allowed = hit.rule.action === 'allow';
      return { decided: true, allowed, reason: allowed ? 'allowed-by-rule' : 'denied-by-rule', decidedBy: [dec], l7: dec.l7 ?? [], explanation: [ruleLine(dec, x.dir)] };
    }
    passed.push(dec);
    explanation.push(`${ruleLine(dec, x.dir)} to namespace policies`);
  }
  const ns = isolationTier(
    cands.filter((c) => c.d.tier === 'namespace'),
    x,
    caveats,
  );
  if (ns.decided) return { ...ns, decidedBy: [...passed, ...ns.decidedBy] };
  const baseline = cands.filter((c) => c.d.tier === 'baseline');
  const b = firstMatch(baseline, x);
  if (b) {
    const dec = decision(b.cand, b.rule, b.index, b.rule.action);
    const allowed = b.rule.action !== 'deny';
    return { decided: true, allowed, reason: allowed ? 'baseline-allow' : 'baseline-deny', decidedBy: [...passed, dec], l7: dec.l7 ?? [], explanation: [ruleLine(dec, x.dir)] };
  }
  return { decided: false, allowed: true, reason: 'no-policy', decidedBy: passed, l7: [], explanation: [] };
}

function candidatesFor(ctx: TrafficContext, subject: Extract<TrafficEndpoint, { kind: 'pod' }>, dir: NetworkDirection): Candidate[] {
  const out: Candidate[] = [];
  for (const a of ctx.constraints.applicableTo(podTarget(subject, ctx))) {
    const d = networkDetailsOf(a.constraint);
    if (d && d.direction === dir) out.push({ c: a.constraint, d });
  }
  return out;
}

/** One direction of a connection, decided at `subject` (the destination for ingress, the source for egress). */
export function evaluateDirection(
  source: TrafficContext | AnalyzerLike,
  dir: NetworkDirection,
  subject: TrafficEndpoint,
  peer: TrafficEndpoint,
  port: ResolvedPort,
  dst: TrafficEndpoint,
): DirectionVerdict {
  const ctx = ctxOf(source);
  if (subject.kind !== 'pod') {
    return {
      direction: dir,
      evaluated: false,
      allowed: true,
      reason: 'not-a-pod',
      decidedBy: [],
      l7: [],
      caveats: [],
      explanation: [`${endpointText(subject)} is not a pod in the cluster: no ${DIR[dir]} policy of this cluster applies to it`],
    };
  }
  const x: Ctx = { dir, subject, peer, dst, port, services: ctx.services };
  const all = candidatesFor(ctx, subject, dir);
  const active = all.filter((c) => !c.d.dryRun);
  const caveats: string[] = [];
  const explanation: string[] = [];
  const net = l34(
    active.filter((c) => !LAYERED_TIERS.includes(c.d.tier)),
    x,
    caveats,
    explanation,
  );
  let out: DirectionVerdict = {
    direction: dir,
    evaluated: true,
    allowed: net.allowed,
    reason: net.reason ?? (net.allowed ? 'no-policy' : 'default-deny'),
    decidedBy: net.decidedBy,
    l7: net.l7,
    caveats,
    explanation: [...explanation, ...net.explanation],
  };
  const tierOf = net.decidedBy.filter((d) => d.action !== 'pass').at(-1)?.tier;
  if (tierOf) out.tier = tierOf;
  if (!net.decided) out.explanation.push(`the system default (Allow all): no ${DIR[dir]} network policy isolates ${endpointText(subject)}`);
  // Transport (mTLS) and mesh authorization only see connections L3/L4 let through;
  // each layer must allow on its own (they are checks in sequence, not a union).
  let decided = net.decided;
  for (const layer of LAYERED_TIERS) {
    if (!out.allowed) break;
    const r = isolationTier(
      active.filter((c) => c.d.tier === layer),
      x,
      caveats,
    );
    if (!r.decided) continue;
    if (!r.allowed) {
      out = { ...out, allowed: false, reason: r.reason ?? 'default-deny', tier: layer, decidedBy: r.decidedBy, l7: [], explanation: [...out.explanation, ...r.explanation] };
    } else {
      out = { ...out, decidedBy: [...out.decidedBy, ...r.decidedBy], l7: [...new Set([...out.l7, ...r.l7])], explanation: [...out.explanation, ...r.explanation] };
      if (!decided) {
        out.reason = 'allowed-by-rule';
        out.tier = layer;
      }
    }
    decided = true;
  }
  // Dry-run policies never decide; say what they would do.
  const dry = all.filter((c) => c.d.dryRun);
  if (dry.length) {
    const sink: string[] = [];
    const wouldDeny = isolationTier(dry, x, sink);
    if (wouldDeny.decided && !wouldDeny.allowed) {
      for (const d of wouldDeny.decidedBy) caveats.push(`dry-run ${d.policy} would deny this connection (not enforced)`);
    }
  }
  return out;
}

/** Is traffic from `src` to `dst` on `port` allowed, and which rules decide, per direction. */
export function evaluateTraffic(source: TrafficContext | AnalyzerLike, q: TrafficQuery): TrafficVerdict {
  const ctx = ctxOf(source);
  const spec = parsePortSpec(q.port, q.protocol);
  const port = resolvePort(spec, q.dst);
  const notes: string[] = [];
  if (port.port === undefined && port.name) {
    notes.push(q.dst.kind === 'pod' ? `${endpointText(q.dst)} has no ${port.protocol} container port named ${port.name}: numbered rules cannot match` : `named port ${port.name} cannot be resolved on ${endpointText(q.dst)}`);
  }
  const egress = evaluateDirection(ctx, 'egress', q.src, q.dst, port, q.dst);
  const ingress = evaluateDirection(ctx, 'ingress', q.dst, q.src, port, q.dst);
  const allowed = egress.allowed && ingress.allowed;
  return {
    allowed,
    src: endpointText(q.src),
    dst: endpointText(q.dst),
    port,
    egress,
    ingress,
    l7: allowed ? [...new Set([...egress.l7, ...ingress.l7])] : [],
    notes,
  };
}

// ---------------------------------------------------------------------------------------
// Endpoints from command-line text

export type EndpointResult = { ok: true; endpoint: TrafficEndpoint } | { ok: false; error: string };

const ENTITY_NAMES = new Set(['all', ...WORLD_ENTITIES, ...CLUSTER_ENTITIES]);

function podEndpointOf(w: Workload, namespaceLabels: Readonly<Record<string, string>> | undefined): TrafficEndpoint {
  const e: TrafficEndpoint = { kind: 'pod', namespace: w.namespace, labels: w.podLabels, name: `${w.kind}/${w.name}`, ports: w.ports };
  if (namespaceLabels) e.namespaceLabels = namespaceLabels;
  if (w.serviceAccountName) e.serviceAccount = w.serviceAccountName;
  return e;
}

function parseLabels(s: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (s.trim() === '') return out;
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    Object.defineProperty(out, part.slice(0, eq).trim(), { value: part.slice(eq + 1).trim(), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * An endpoint from text: `namespace/Kind/name` (a workload), `namespace/name` (a Pod or
 * any workload of that name), `namespace/k=v,k2=v2` (pods with those labels), an IP
 * address, a Cilium entity (`world`, `host`, `kube-apiserver`...), or a DNS name.
 */
export function resolveEndpoint(a: AnalyzerLike, text: string): EndpointResult {
  const s = text.trim();
  if (s === '') return { ok: false, error: 'empty endpoint' };
  if (parseIP(s).ok) return { ok: true, endpoint: { kind: 'external', ip: s } };
  if (ENTITY_NAMES.has(s)) return { ok: true, endpoint: { kind: 'entity', entity: s } };
  const slash = s.indexOf('/');
  // Labels may contain '/' themselves (app.kubernetes.io/name=x): everything after the
  // namespace is a label list as soon as it has an '='.
  const parts = slash > 0 && s.slice(slash + 1).includes('=') ? [s.slice(0, slash), s.slice(slash + 1)] : s.split('/');
  if (parts.length === 1) {
    if (s.includes('.')) return { ok: true, endpoint: { kind: 'external', fqdn: s } };
    return { ok: false, error: `cannot read endpoint ${s}: write namespace/Kind/name, namespace/label=value,..., an IP address, an entity or a DNS name` };
  }
  const ns = parts[0] as string;
  const nsLabels = a.store.namespaceLabels(ns);
  if (parts.length === 3) {
    const [, kind, name] = parts as [string, string, string];
    const w = a.workloads.find(kind, ns, name) ?? a.workloads.list(ns).find((x) => x.kind.toLowerCase() === kind.toLowerCase() && x.name === name);
    if (!w) return { ok: false, error: `no workload ${kind}/${name} in namespace ${ns}` };
    return { ok: true, endpoint: podEndpointOf(w, nsLabels) };
  }
  if (parts.length !== 2) return { ok: false, error: `cannot read endpoint ${s}` };
  const rest = parts[1] as string;
  if (rest.includes('=') || rest === '') {
    const labels = parseLabels(rest);
    if (!labels) return { ok: false, error: `cannot read labels ${rest}: write key=value,key2=value2` };
    const ports: WorkloadPort[] = [];
    for (const w of a.workloads.list(ns)) if (matchesSelector({ matchLabels: labels }, w.podLabels, 'none')) ports.push(...w.ports);
    const e: TrafficEndpoint = { kind: 'pod', namespace: ns, labels, ports };
    if (nsLabels) e.namespaceLabels = nsLabels;
    return { ok: true, endpoint: e };
  }
  const matches = a.workloads.list(ns).filter((x) => x.name === rest);
  const w = matches.find((x) => x.kind === 'Pod') ?? matches[0];
  if (!w) return { ok: false, error: `no workload named ${rest} in namespace ${ns}` };
  return { ok: true, endpoint: podEndpointOf(w, nsLabels) };
}

/**
 * A pod endpoint from a namespace and labels as Hubble reports them (`k8s:app=web` or a
 * map), read by engine/cilium.ts: Cilium's namespace-label and service-account
 * pseudo-labels fill those fields, and the namespace when none is given.
 */
export function podEndpoint(namespace: string, labels: readonly string[] | Readonly<Record<string, string>>, name?: string): TrafficEndpoint {
  const c = ciliumEndpointLabels(labels);
  const e: TrafficEndpoint = { kind: 'pod', namespace: namespace || c.namespace, labels: c.labels };
  if (Object.keys(c.namespaceLabels).length > 0) e.namespaceLabels = c.namespaceLabels;
  if (c.serviceAccount) e.serviceAccount = c.serviceAccount;
  if (name) e.name = name;
  return e;
}

// ---------------------------------------------------------------------------------------
// Text output, after np-guard's `list --explain`

function directionBlock(v: DirectionVerdict): string[] {
  const head = `\t${DIR[v.direction]} (${v.allowed ? 'Allowed' : 'Denied'})`;
  const lines = v.explanation.map((l) => `\t\t${l}`);
  for (const c of v.caveats) lines.push(`\t\tnote: ${c}`);
  return [head, ...lines];
}

export function renderTrafficVerdict(v: TrafficVerdict): string {
  const out: string[] = [];
  out.push(`Connections between ${v.src} => ${v.dst}:`, '');
  const p = portLabel(v.port);
  if (v.allowed) out.push(`Allowed ${p} the connection is allowed because:`);
  else out.push(`Denied ${p} due to the following policies and rules:`);
  // Egress first: a packet leaves the source before it reaches the destination.
  out.push(...directionBlock(v.egress), ...directionBlock(v.ingress));
  if (v.l7.length) out.push(`\tonly requests matching: ${v.l7.join('; ')}`);
  for (const n of v.notes) out.push(`\tnote: ${n}`);
  return out.join('\n') + '\n';
}

export type { NetworkDetails, NetworkRule, NetworkTier, NetworkDirection, ResolvedPort } from './network.js';
export type { LabelSelector };
