// Who may see what of a constraint (DESIGN §6). Pure functions: the notify stage applies
// them to every delivery, the webhook can use them for warning lines.
//
// Three audiences (developer, namespace-admin, platform-admin) x three detail levels
// (summary, detailed, full), configured by NotificationPolicy objects. The invariant: a
// viewer never sees the name, namespace, ports, CIDRs, selectors or source of a
// constraint owned by another namespace or by the cluster unless a policy reveals it.
// Two layers keep it:
//   1. views: templates get a ConstraintView per constraint, and a hidden constraint's
//      view has no name, namespace, details or source at all, only its type and effect;
//   2. scrubbing: every rendered string is scrubbed of the hidden constraints'
//      identifying tokens, so a template that echoes an event message or a correlation
//      explanation (which name the policy) cannot leak them either.
import type { Audience, Constraint, DetailLevel, LabelSelector, RemediationStep, Severity } from './model.js';
import { AUDIENCES, DETAIL_LEVELS } from './model.js';
import { isCIDR, isIP } from './expr/net.js';
import { matchesSelector } from './selector.js';
import { globMatch } from './scope.js';

// ---------------------------------------------------------------------------------------
// NotificationPolicy (potoo.io/v1alpha1): the spec the controller reads from the CRD.

export const NOTIFICATION_POLICY_API_VERSION = 'potoo.io/v1alpha1';
export const NOTIFICATION_POLICY_KIND = 'NotificationPolicy';

/** Matches a constraint's source object; every field present must match (`*` globs allowed). */
export interface SourceMatch {
  group?: string;
  kind?: string;
  /** '' matches cluster-scoped sources. */
  namespace?: string;
  name?: string;
}

export interface AudiencePolicy {
  /** Highest detail level this audience gets, whatever a route asks for. */
  maxDetail?: DetailLevel;
  /** Reveal constraints owned by other namespaces (names, ports, CIDRs, selectors). */
  revealOtherNamespaces?: boolean;
  /** Reveal constraints owned by cluster-scoped objects. */
  revealClusterScoped?: boolean;
  /** Reveal these sources even when the flags above are off. */
  reveal?: SourceMatch[];
}

export type ChannelType = 'slack' | 'teams' | 'webhook';
export const CHANNEL_TYPES: readonly ChannelType[] = ['slack', 'teams', 'webhook'];

export interface SecretKeyRef {
  name: string;
  /** Default `url` for the webhook URL, `secret` for the signing key. */
  key?: string;
}

export interface ChannelSpec {
  /** Unique within the policy; deliveries carry it as data.target.name. */
  name: string;
  type: ChannelType;
  /** Who reads this channel (default developer). */
  audience?: Audience;
  /** Detail sent (default summary), capped by the audience's maxDetail. */
  detail?: DetailLevel;
  /** Least severity sent (default Warning). */
  minSeverity?: Severity;
  /** Only these constraint types (or MissingResource for findings); absent: all. */
  types?: string[];
  /** Cluster policies only: limit the channel to these namespaces (globs). */
  namespaces?: string[];
  /** Secret (in the policy's namespace) holding the incoming-webhook URL. */
  urlSecretRef: SecretKeyRef;
  /** Generic webhooks: Secret holding the HMAC-SHA256 signing key. */
  signingSecretRef?: SecretKeyRef;
}

export interface NotificationPolicySpec {
  /** Cluster policies only: which namespaces they govern (absent: all). */
  namespaceSelector?: LabelSelector;
  audiences?: Partial<Record<Audience, AudiencePolicy>>;
  channels?: ChannelSpec[];
  /** Per-namespace circuit breaker (default 100 notifications/minute). */
  rateLimitPerMinute?: number;
}

export interface NotificationPolicy {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string };
  spec: NotificationPolicySpec;
}

export interface ResolvedAudience {
  maxDetail: DetailLevel;
  revealOtherNamespaces: boolean;
  revealClusterScoped: boolean;
  reveal: SourceMatch[];
}

export interface ResolvedChannel extends Required<Pick<ChannelSpec, 'name' | 'type' | 'audience' | 'detail' | 'minSeverity'>> {
  types: string[];
  urlSecretRef: SecretKeyRef & { namespace: string };
  signingSecretRef?: SecretKeyRef & { namespace: string };
  /** `namespace/name` of the NotificationPolicy it came from. */
  policy: string;
}

export interface EffectivePolicy {
  audiences: Record<Audience, ResolvedAudience>;
  channels: ResolvedChannel[];
  rateLimitPerMinute: number;
}

export const DEFAULT_AUDIENCES: Readonly<Record<Audience, ResolvedAudience>> = Object.freeze({
  developer: { maxDetail: 'detailed', revealOtherNamespaces: false, revealClusterScoped: false, reveal: [] },
  'namespace-admin': { maxDetail: 'full', revealOtherNamespaces: false, revealClusterScoped: false, reveal: [] },
  'platform-admin': { maxDetail: 'full', revealOtherNamespaces: true, revealClusterScoped: true, reveal: [] },
});

const DETAIL_RANK: Record<DetailLevel, number> = { summary: 0, detailed: 1, full: 2 };
const AUDIENCE_RANK: Record<Audience, number> = { developer: 0, 'namespace-admin': 1, 'platform-admin': 2 };

export function minDetail(a: DetailLevel, b: DetailLevel): DetailLevel {
  return DETAIL_RANK[a] <= DETAIL_RANK[b] ? a : b;
}

/**
 * The policy in force for one namespace. Cluster policies (in a trusted namespace, e.g.
 * the controller's) set privacy and may route any namespace; a policy in the namespace
 * itself adds channels and may only make its audiences see less: what other namespaces
 * and the cluster own is not a namespace's to reveal. Several cluster policies combine
 * to the most restrictive detail and flags, and the union of their reveal lists.
 */
export function resolvePolicy(
  policies: readonly NotificationPolicy[],
  namespace: string,
  namespaceLabels: Readonly<Record<string, string>>,
  trustedNamespaces: readonly string[],
): EffectivePolicy {
  const audiences = Object.fromEntries(AUDIENCES.map((a) => [a, { ...DEFAULT_AUDIENCES[a], reveal: [] as SourceMatch[] }])) as Record<Audience, ResolvedAudience>;
  const channels: ResolvedChannel[] = [];
  let rate = 100;
  const cluster = policies.filter((p) => trustedNamespaces.includes(p.metadata.namespace ?? '') && governs(p.spec, namespace, namespaceLabels));
  const local = policies.filter((p) => (p.metadata.namespace ?? '') === namespace && !trustedNamespaces.includes(namespace));
  const seen = new Set<string>();
  const setByCluster = new Map<string, boolean>();
  for (const p of cluster) {
    for (const a of AUDIENCES) {
      const ap = p.spec.audiences?.[a];
      if (!ap) continue;
      const r = audiences[a];
      if (ap.maxDetail && DETAIL_LEVELS.includes(ap.maxDetail)) r.maxDetail = setByCluster.get(`${a}|detail`) ? minDetail(r.maxDetail, ap.maxDetail) : ap.maxDetail;
      setByCluster.set(`${a}|detail`, true);
      for (const flag of ['revealOtherNamespaces', 'revealClusterScoped'] as const) {
        if (typeof ap[flag] !== 'boolean') continue;
        r[flag] = setByCluster.get(`${a}|${flag}`) ? r[flag] && ap[flag] : ap[flag];
        setByCluster.set(`${a}|${flag}`, true);
      }
      r.reveal.push(...(ap.reveal ?? []));
    }
    if (typeof p.spec.rateLimitPerMinute === 'number' && p.spec.rateLimitPerMinute > 0) rate = Math.min(rate, p.spec.rateLimitPerMinute);
    for (const c of p.spec.channels ?? []) {
      if (c.namespaces && !c.namespaces.some((g) => globMatch(g, namespace))) continue;
      pushChannel(channels, seen, c, p);
    }
  }
  for (const p of local) {
    for (const a of AUDIENCES) {
      const ap = p.spec.audiences?.[a];
      const r = audiences[a];
      if (!ap) continue;
      if (ap.maxDetail && DETAIL_LEVELS.includes(ap.maxDetail)) r.maxDetail = minDetail(r.maxDetail, ap.maxDetail);
      if (ap.revealOtherNamespaces === false) r.revealOtherNamespaces = false;
      if (ap.revealClusterScoped === false) r.revealClusterScoped = false;
    }
    for (const c of p.spec.channels ?? []) pushChannel(channels, seen, c, p);
  }
  return { audiences, channels, rateLimitPerMinute: rate };
}

function governs(spec: NotificationPolicySpec, namespace: string, labels: Readonly<Record<string, string>>): boolean {
  return spec.namespaceSelector ? matchesSelector(spec.namespaceSelector, labels, 'all') : true;
}

function pushChannel(out: ResolvedChannel[], seen: Set<string>, c: ChannelSpec, p: NotificationPolicy): void {
  if (!c || typeof c.name !== 'string' || !CHANNEL_TYPES.includes(c.type) || !c.urlSecretRef?.name) return;
  const policyNs = p.metadata.namespace ?? '';
  const id = `${policyNs}/${p.metadata.name}/${c.name}`;
  if (seen.has(id)) return;
  seen.add(id);
  const r: ResolvedChannel = {
    name: c.name,
    type: c.type,
    audience: c.audience && AUDIENCES.includes(c.audience) ? c.audience : 'developer',
    detail: c.detail && DETAIL_LEVELS.includes(c.detail) ? c.detail : 'summary',
    minSeverity: c.minSeverity ?? 'Warning',
    types: c.types ?? [],
    urlSecretRef: { ...c.urlSecretRef, namespace: policyNs },
    policy: `${policyNs}/${p.metadata.name}`,
  };
  if (c.signingSecretRef?.name) r.signingSecretRef = { ...c.signingSecretRef, namespace: policyNs };
  out.push(r);
}

// ---------------------------------------------------------------------------------------
// Visibility and views

export type Ownership = 'same-namespace' | 'other-namespace' | 'cluster';

/** Who reads: an audience, in the namespace the notification is about, at a detail level. */
export interface Viewer {
  audience: Audience;
  /** The namespace the subject belongs to ('' for cluster-level subjects). */
  namespace: string;
  detail: DetailLevel;
  policy: ResolvedAudience;
}

export function ownership(c: Pick<Constraint, 'source'>, viewerNamespace: string): Ownership {
  const ns = c.source.namespace ?? '';
  if (ns === '') return 'cluster';
  return ns === viewerNamespace ? 'same-namespace' : 'other-namespace';
}

function matchesSource(m: SourceMatch, s: Constraint['source']): boolean {
  const glob = (p: string | undefined, v: string): boolean => p === undefined || globMatch(p, v);
  return glob(m.group, s.group) && glob(m.kind, s.kind) && glob(m.namespace, s.namespace ?? '') && glob(m.name, s.name);
}

export function isVisible(c: Pick<Constraint, 'source'>, viewer: Pick<Viewer, 'namespace' | 'policy'>): boolean {
  const o = ownership(c, viewer.namespace);
  if (o === 'same-namespace') return true;
  if (viewer.policy.reveal.some((m) => matchesSource(m, c.source))) return true;
  return o === 'other-namespace' ? viewer.policy.revealOtherNamespaces : viewer.policy.revealClusterScoped;
}

export interface ConstraintView {
  visible: boolean;
  owner: Ownership;
  type: string;
  effect: string;
  severity: Severity;
  /** Plain noun for the type: "network policy (ingress)", "resource quota", ... */
  noun: string;
  /** "ResourceQuota compute" when visible; "a network policy (egress) owned by the cluster" when not. */
  label: string;
  /** The constraint's summary when visible; a sentence with no identifying detail when not. */
  summary: string;
  /** Identity: '' when hidden. `id` only at full detail. */
  id: string;
  kind: string;
  name: string;
  namespace: string;
  /** Only when visible and at full detail. */
  details: Record<string, unknown>;
  /** Steps this audience may take; a hidden constraint gets one generic step. */
  remediation: RemediationStep[];
}

const NOUNS: Record<string, string> = {
  NetworkIngress: 'network policy (ingress)',
  NetworkEgress: 'network policy (egress)',
  Admission: 'admission policy',
  ResourceQuota: 'resource quota',
  ResourceLimit: 'resource limit',
  MeshPolicy: 'service-mesh policy',
  MissingResource: 'required resource',
  PodSecurity: 'Pod Security standard',
};

const EFFECT_VERBS: Record<string, string> = {
  deny: 'denies',
  restrict: 'restricts',
  limit: 'limits',
  warn: 'warns about',
  audit: 'audits',
  mutate: 'changes',
  require: 'requires',
  allow: 'allows',
};

function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? 'an' : 'a';
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function nounOf(type: string): string {
  return NOUNS[type] ?? 'policy';
}

export function constraintView(c: Constraint, viewer: Viewer): ConstraintView {
  const owner = ownership(c, viewer.namespace);
  const visible = isVisible(c, viewer);
  const noun = nounOf(c.type);
  const rank = AUDIENCE_RANK[viewer.audience];
  if (!visible) {
    const whose = owner === 'cluster' ? 'the cluster' : 'another namespace';
    return {
      visible,
      owner,
      type: c.type,
      effect: c.effect,
      severity: c.severity,
      noun,
      label: `${article(noun)} ${noun} owned by ${whose}`,
      summary: `${capitalize(article(noun))} ${noun} owned by ${whose} ${EFFECT_VERBS[c.effect] ?? 'applies to'} this workload`,
      id: '',
      kind: '',
      name: '',
      namespace: '',
      details: {},
      remediation: [{ action: `Ask your platform team about the ${noun} owned by ${whose} that ${EFFECT_VERBS[c.effect] ?? 'applies to'} this workload`, who: 'developer' }],
    };
  }
  return {
    visible,
    owner,
    type: c.type,
    effect: c.effect,
    severity: c.severity,
    noun,
    label: `${c.source.kind} ${c.source.namespace && c.source.namespace !== viewer.namespace ? c.source.namespace + '/' : ''}${c.source.name}`,
    summary: c.summary,
    id: viewer.detail === 'full' ? c.id : '',
    kind: c.source.kind,
    name: c.source.name,
    namespace: c.source.namespace ?? '',
    details: viewer.detail === 'full' ? c.details : {},
    remediation: c.remediation.filter((s) => AUDIENCE_RANK[s.who] <= rank),
  };
}

// ---------------------------------------------------------------------------------------
// Scrubbing

/** Tokens shorter than this are not scrubbed: they match everywhere and identify nothing. */
export const MIN_TOKEN_LENGTH = 3;
export const REDACTED = '[redacted]';

const IDENTITY_KEYS = new Set(['name', 'namespace', 'webhook', 'policy', 'binding', 'rule', 'service', 'host', 'hosts', 'url', 'serviceAccount', 'principal', 'principals', 'namespaces']);
const PORT_KEY = /port/i;
const SELECTOR_KEY = /selector$|^matchLabels$|^labels$/i;

function addLabels(out: Set<string>, sel: unknown): void {
  if (typeof sel !== 'object' || sel === null) return;
  const s = sel as Record<string, unknown>;
  // A requirement-like item ({key, operator?, values?}), e.g. inside a policy's parameters.
  if (typeof s.key === 'string' && !('matchLabels' in s)) {
    out.add(s.key);
    if (Array.isArray(s.values)) for (const v of s.values) if (typeof v === 'string') out.add(v);
    return;
  }
  const ml = (s.matchLabels ?? (Array.isArray(s.matchExpressions) ? undefined : s)) as unknown;
  if (ml && typeof ml === 'object' && !Array.isArray(ml)) {
    for (const [k, v] of Object.entries(ml as Record<string, unknown>)) {
      if (k === 'matchExpressions') continue;
      out.add(k);
      if (typeof v === 'string') out.add(v);
    }
  }
  if (Array.isArray(s.matchExpressions)) {
    for (const e of s.matchExpressions) {
      if (typeof e !== 'object' || e === null) continue;
      const r = e as Record<string, unknown>;
      if (typeof r.key === 'string') out.add(r.key);
      if (Array.isArray(r.values)) for (const v of r.values) if (typeof v === 'string') out.add(v);
    }
  }
}

function walk(v: unknown, key: string, strings: Set<string>, ports: Set<string>, depth: number): void {
  if (depth > 20) return;
  if (typeof v === 'number') {
    if (PORT_KEY.test(key) && Number.isInteger(v)) ports.add(String(v));
    return;
  }
  if (typeof v === 'string') {
    if (PORT_KEY.test(key)) {
      if (/^[0-9]+$/.test(v)) ports.add(v);
      else strings.add(v);
    } else if (IDENTITY_KEYS.has(key)) strings.add(v);
    if (isCIDR(v) || isIP(v)) {
      strings.add(v);
      strings.add(v.split('/')[0] as string);
    }
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) walk(x, key, strings, ports, depth + 1);
    return;
  }
  if (typeof v === 'object' && v !== null) {
    if (SELECTOR_KEY.test(key)) addLabels(strings, v);
    for (const [k, x] of Object.entries(v)) walk(x, k, strings, ports, depth + 1);
  }
}

export interface SensitiveTokens {
  /** Names, namespaces, label keys/values, CIDRs and IPs. */
  strings: string[];
  /** Port numbers, matched as whole numbers. */
  ports: string[];
}

/** What would identify a constraint: its source, names and namespaces in scope, selector labels, ports, CIDRs. */
export function sensitiveTokens(c: Constraint): SensitiveTokens {
  const strings = new Set<string>([c.source.name, c.id]);
  if (c.source.namespace) strings.add(c.source.namespace);
  if (c.source.uid) strings.add(c.source.uid);
  const ports = new Set<string>();
  walk(c.scope, 'scope', strings, ports, 0);
  walk(c.details, 'details', strings, ports, 0);
  const scopes = [c.scope, ...(c.scope.any ?? []), ...(c.scope.all ?? []), ...(c.scope.exclude ?? [])];
  for (const s of scopes) {
    for (const n of [...(s.namespaces ?? []), ...(s.excludedNamespaces ?? []), ...(s.names ?? [])]) if (!n.includes('*')) strings.add(n);
    addLabels(strings, s.selector);
    addLabels(strings, s.namespaceSelector);
  }
  return {
    strings: [...strings].filter((s) => s.length >= MIN_TOKEN_LENGTH),
    ports: [...ports],
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * A scrubber for the given hidden tokens. `allowed` tokens (the viewer's namespace, the
 * workload's own name) are left intact even where a hidden token occurs inside them:
 * the alternation lists longer tokens first, so `web-frontend` (allowed) wins over `web`.
 * One pass, so replacement text is never scanned again.
 */
export function scrubber(hidden: SensitiveTokens, allowed: readonly string[] = []): (text: string) => string {
  const allow = new Set(allowed.filter((a) => a.length > 0));
  const strings = hidden.strings.filter((s) => !allow.has(s));
  const ports = hidden.ports.filter((p) => !allow.has(p));
  if (strings.length === 0 && ports.length === 0) return (t) => t;
  const words = [...new Set([...strings, ...allow])].sort((a, b) => b.length - a.length);
  const alts = words.map(escapeRegExp);
  if (ports.length) alts.push(`(?<![0-9])(?:${ports.map(escapeRegExp).join('|')})(?![0-9])`);
  const re = new RegExp(alts.join('|'), 'g');
  return (text) => text.replace(re, (m) => (allow.has(m) ? m : REDACTED));
}

/** Scrub every string in a JSON value (keys included); numbers and structure stay. */
export function scrubJson(v: unknown, scrub: (s: string) => string, depth = 0): unknown {
  if (depth > 50) return null;
  if (typeof v === 'string') return scrub(v);
  if (Array.isArray(v)) return v.map((x) => scrubJson(x, scrub, depth + 1));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const key = scrub(k);
      if (key === '__proto__') continue;
      out[key] = scrubJson(x, scrub, depth + 1);
    }
    return out;
  }
  return v;
}

/** Union of the tokens of every constraint the viewer may not see. */
export function hiddenTokens(constraints: readonly Constraint[], viewer: Pick<Viewer, 'namespace' | 'policy'>): SensitiveTokens {
  const strings = new Set<string>();
  const ports = new Set<string>();
  for (const c of constraints) {
    if (isVisible(c, viewer)) continue;
    const t = sensitiveTokens(c);
    t.strings.forEach((s) => strings.add(s));
    t.ports.forEach((p) => ports.add(p));
  }
  return { strings: [...strings], ports: [...ports] };
}
