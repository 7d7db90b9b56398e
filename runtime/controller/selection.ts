// Which API resources the controller watches, and why. Pure: discovery, CRDs, the packs'
// adapter claims and profiles in, a watch list with reasons out (capabilities show the
// reasons, so "why is Potoo (not) reading X" has an answer).
import type { Gvr } from '../../engine/model.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import { WORKLOAD_GVRS } from '../../engine/store/workloads.js';
import type { ApiResource } from '../kube/discovery.js';
import { POTOO_GROUP } from '../kube/paths.js';

export type SelectReason = 'subject' | 'known' | 'annotation' | 'heuristic' | 'profile' | 'companion';

export interface SelectedResource {
  gvr: Gvr;
  kind: string;
  namespaced: boolean;
  reasons: SelectReason[];
}

export interface ExcludedResource {
  group: string;
  resource: string;
  reason: string;
}

export interface CrdInfo {
  group: string;
  /** Plural resource name. */
  resource: string;
  kind: string;
  annotations: Record<string, string>;
}

export interface ProfileTarget {
  profile: string;
  group: string;
  resource: string;
  version?: string;
  enabled: boolean;
}

export interface SelectionInput {
  resources: readonly ApiResource[];
  preferredVersions: ReadonlyMap<string, string>;
  crds: readonly CrdInfo[];
  /** What the loaded packs' adapters claim (`knownPolicyResources`). */
  known: KnownPolicyResources;
  profiles: readonly ProfileTarget[];
  /** Resources requirement rules read (Services, ServiceMonitors, Issuers...): watched, never adapted as policies. */
  companions?: readonly { group: string; resource: string }[];
}

export interface Selection {
  selected: SelectedResource[];
  excluded: ExcludedResource[];
}

/** The annotation a CRD carries to opt in ("true") or out ("false"). */
export const IS_POLICY_ANNOTATION = 'potoo.io/is-policy';

/**
 * A group/resource an adapter rule claims: the rule packs, not this file, say which
 * resources are policies, so a platform team's pack (ConfigMap, ConstraintProfile) that
 * adapts a new resource also gets it watched. Absent resources or kinds: any.
 */
export interface PolicyClaim {
  group: string;
  resources?: readonly string[];
  kinds?: readonly string[];
}

/** Policy resources Potoo knows: the claims of the loaded packs' adapters, by group. */
export type KnownPolicyResources = ReadonlyMap<string, readonly PolicyClaim[]>;

/** The claims of every non-fallback adapter in `packs` (identical claims once). */
export function knownPolicyResources(packs: readonly CompiledPack[]): KnownPolicyResources {
  const out = new Map<string, PolicyClaim[]>();
  const seen = new Set<string>();
  // '*' in a list means the same as no list.
  const list = (xs: readonly string[] | undefined): readonly string[] | undefined => (xs && !xs.includes('*') ? xs : undefined);
  for (const p of packs) {
    for (const a of p.adapters) {
      const m = a.match;
      // The generic fallback only takes what nothing else does, and a match on any group
      // is too broad to subscribe to: both act on resources something else selects.
      if (m.fallback || m.group === undefined || m.group === '*') continue;
      const resources = list(m.resources);
      const kinds = list(m.kinds);
      const claim: PolicyClaim = { group: m.group, ...(resources ? { resources } : {}), ...(kinds ? { kinds } : {}) };
      const key = JSON.stringify([claim.group, claim.resources, claim.kinds]);
      if (seen.has(key)) continue;
      seen.add(key);
      const claims = out.get(m.group);
      if (claims) claims.push(claim);
      else out.set(m.group, [claim]);
    }
  }
  return out;
}

/** Subjects: what constraints apply to. Always watched (Namespaces for their labels). */
export const SUBJECT_RESOURCES: readonly Gvr[] = [{ group: '', version: 'v1', resource: 'namespaces' }, ...WORKLOAD_GVRS];

/** Names that suggest a policy: for CRDs nobody told Potoo about. */
const POLICY_NAME = /(polic(y|ies)|constraint|rules?$|quota|limit|budget|restriction|requirement|guardrail|authorization|admission)/i;

/**
 * Policy-sounding CRDs that are not policies: reports and results of policy engines
 * (reading them would be circular), alerting rules, background-processing queues.
 */
const NOT_POLICIES: readonly RegExp[] = [
  /reports?$/i,
  /results?$/i,
  /^updaterequests$/,
  /^prometheusrules$/,
  /^alertmanagerconfigs$/,
  /^policyreports$/,
];
const NOT_POLICY_GROUPS = new Set(['wgpolicyk8s.io', 'openreports.io', 'reports.kyverno.io', 'monitoring.coreos.com']);

const gr = (group: string, resource: string): string => `${group}|${resource}`;

// Kinds are compared with discovery's, so a claim by kind needs no plural spelled out.
function knownPolicy(known: KnownPolicyResources, r: ApiResource): boolean {
  return (known.get(r.group) ?? []).some((c) => (!c.resources || c.resources.includes(r.resource)) && (!c.kinds || c.kinds.includes(r.kind)));
}

function heuristicPolicy(r: ApiResource): boolean {
  if (NOT_POLICY_GROUPS.has(r.group)) return false;
  if (NOT_POLICIES.some((re) => re.test(r.resource))) return false;
  return POLICY_NAME.test(r.resource) || POLICY_NAME.test(r.kind) || /(^|\.)(polic(y|ies)|constraints?|guardrails?)(\.|$)/.test(r.group);
}

export function selectResources(input: SelectionInput): Selection {
  // One entry per group/resource: the version to read, chosen below.
  const byGr = new Map<string, ApiResource[]>();
  for (const r of input.resources) {
    if (!r.verbs.includes('list') || !r.verbs.includes('watch')) continue;
    const k = gr(r.group, r.resource);
    const list = byGr.get(k);
    if (list) list.push(r);
    else byGr.set(k, [r]);
  }
  const crds = new Map(input.crds.map((c) => [gr(c.group, c.resource), c]));
  const profiles = new Map<string, ProfileTarget>();
  for (const p of input.profiles) {
    const k = gr(p.group, p.resource);
    // A disabled profile wins over an enabled one for the same target: opting out is explicit.
    const prev = profiles.get(k);
    if (!prev || (prev.enabled && !p.enabled)) profiles.set(k, p);
  }
  const subjects = new Set(SUBJECT_RESOURCES.map((g) => gr(g.group, g.resource)));
  const companions = new Set((input.companions ?? []).map((c) => gr(c.group, c.resource)));

  const selected: SelectedResource[] = [];
  const excluded: ExcludedResource[] = [];
  for (const [k, versions] of byGr) {
    const first = versions[0] as ApiResource;
    const { group, resource } = first;
    const profile = profiles.get(k);
    const crd = crds.get(k);
    const reasons: SelectReason[] = [];
    if (group === POTOO_GROUP) {
      excluded.push({ group, resource, reason: "Potoo's own resource" });
      continue;
    }
    if (profile && !profile.enabled) {
      excluded.push({ group, resource, reason: `disabled by ConstraintProfile ${profile.profile}` });
      continue;
    }
    const annotation = crd?.annotations[IS_POLICY_ANNOTATION];
    if (annotation === 'false' && !profile) {
      excluded.push({ group, resource, reason: `CRD annotated ${IS_POLICY_ANNOTATION}: "false"` });
      continue;
    }
    if (subjects.has(k)) reasons.push('subject');
    if (versions.some((v) => knownPolicy(input.known, v))) reasons.push('known');
    if (annotation === 'true') reasons.push('annotation');
    if (profile) reasons.push('profile');
    if (companions.has(k)) reasons.push('companion');
    // Name heuristics only for CRDs: built-in resources are either known or not policies.
    if (reasons.length === 0 && crd && heuristicPolicy(first)) reasons.push('heuristic');
    if (reasons.length === 0) continue;
    const chosen = chooseVersion(versions, input.preferredVersions.get(group), profile?.version);
    selected.push({
      gvr: { group, version: chosen.version, resource },
      kind: chosen.kind,
      namespaced: chosen.namespaced,
      reasons,
    });
  }
  selected.sort((a, b) => (gr(a.gvr.group, a.gvr.resource) < gr(b.gvr.group, b.gvr.resource) ? -1 : 1));
  return { selected, excluded };
}

function chooseVersion(versions: readonly ApiResource[], preferred: string | undefined, wanted: string | undefined): ApiResource {
  if (wanted) {
    const w = versions.find((v) => v.version === wanted);
    if (w) return w;
  }
  return versions.find((v) => v.version === preferred) ?? versions.find((v) => v.preferred) ?? (versions[0] as ApiResource);
}

/** Is a group/resource served at all (for ConstraintProfile status)? Returns the version chosen. */
export function servedVersion(
  resources: readonly ApiResource[],
  preferred: ReadonlyMap<string, string>,
  target: { group: string; resource: string; version?: string },
): string | undefined {
  const vs = resources.filter((r) => r.group === target.group && r.resource === target.resource);
  if (vs.length === 0) return undefined;
  if (target.version) return vs.some((v) => v.version === target.version) ? target.version : undefined;
  return chooseVersion(vs, preferred.get(target.group), undefined).version;
}
