// NotificationPolicy status: what the controller makes of a policy, where its owner looks
// (`kubectl get npol` shows Ready). The notify stage (engine/privacy.ts resolvePolicy)
// quietly skips what it cannot use: a broken channel, a second channel of the same
// name, a namespace's policy trying to reveal more. checkPolicy() says which, with field
// paths; the pipeline adds whether each channel's Secret can be read and what was
// delivered, and policyStatus() turns that into conditions. Pure; the pipeline writes.
import { isRecord } from '../../engine/json.js';
import { AUDIENCES } from '../../engine/model.js';
import { CHANNEL_TYPES, type ChannelType } from '../../engine/stages/index.js';
import type { RawObject } from '../kube/informer.js';
import type { SecretProblem } from '../sinks/secrets.js';
import { stampConditions, type Condition, type ConditionInput } from './conditions.js';

export interface PolicyProblem {
  /** error: part of the policy is not used; warning: a field has no effect where the policy is. */
  severity: 'error' | 'warning';
  field: string;
  message: string;
}

/** A channel the notify stage will route to, and the Secrets it needs. */
export interface UsableChannel {
  name: string;
  type: ChannelType;
  /** `spec.channels[i]`, for messages. */
  field: string;
  secrets: { field: string; namespace: string; name: string; key: string }[];
}

export interface PolicyCheck {
  /** `namespace/name`, as deliveries name their policy. */
  key: string;
  namespace: string;
  name: string;
  generation: number;
  /** In a trusted namespace: privacy and routing for the namespaces it governs. */
  cluster: boolean;
  hasNamespaceSelector: boolean;
  channels: UsableChannel[];
  problems: PolicyProblem[];
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** Mirrors resolvePolicy/pushChannel: a channel counts only if the notify stage would route to it. */
export function checkPolicy(obj: RawObject, trustedNamespaces: readonly string[]): PolicyCheck {
  const md = (isRecord(obj.metadata) ? obj.metadata : {}) as { name?: string; namespace?: string; generation?: number };
  const namespace = md.namespace ?? '';
  const name = md.name ?? '';
  const cluster = trustedNamespaces.includes(namespace);
  const out: PolicyCheck = { key: `${namespace}/${name}`, namespace, name, generation: md.generation ?? 0, cluster, hasNamespaceSelector: false, channels: [], problems: [] };
  const error = (field: string, message: string): void => void out.problems.push({ severity: 'error', field, message });
  const ignored = (field: string, message: string): void => void out.problems.push({ severity: 'warning', field, message });
  if (!isRecord(obj.spec)) {
    error('spec', 'must be an object; the policy is not used');
    return out;
  }
  const spec = obj.spec;
  out.hasNamespaceSelector = spec.namespaceSelector !== undefined;
  const onlyCluster = `only cluster policies (in a trusted namespace: ${trustedNamespaces.join(', ') || 'none'}) use it; ignored here`;
  if (!cluster) {
    if (spec.namespaceSelector !== undefined) ignored('spec.namespaceSelector', onlyCluster);
    if (spec.rateLimitPerMinute !== undefined) ignored('spec.rateLimitPerMinute', onlyCluster);
    const audiences = isRecord(spec.audiences) ? spec.audiences : {};
    for (const a of AUDIENCES) {
      const ap = audiences[a];
      if (!isRecord(ap)) continue;
      // A namespace may make its audiences see less, never more (engine/privacy.ts).
      for (const flag of ['revealOtherNamespaces', 'revealClusterScoped'] as const) {
        if (ap[flag] === true) ignored(`spec.audiences.${a}.${flag}`, "a namespace's policy can only make its audiences see less; only a cluster policy can reveal; ignored");
      }
      if (Array.isArray(ap.reveal) && ap.reveal.length > 0) ignored(`spec.audiences.${a}.reveal`, "a namespace's policy can only make its audiences see less; only a cluster policy can reveal; ignored");
    }
  }
  if (spec.channels !== undefined && !Array.isArray(spec.channels)) {
    error('spec.channels', 'must be a list; no channel is used');
    return out;
  }
  const first = new Map<string, number>();
  ((spec.channels as unknown[] | undefined) ?? []).forEach((c, i) => {
    const field = `spec.channels[${i}]`;
    if (!isRecord(c)) return error(field, 'is not an object; the channel is ignored');
    const reasons: string[] = [];
    if (!nonEmpty(c.name)) reasons.push('name is missing');
    if (!CHANNEL_TYPES.includes(c.type as ChannelType)) reasons.push(`type must be one of ${CHANNEL_TYPES.join(', ')}`);
    const url = isRecord(c.urlSecretRef) ? c.urlSecretRef : undefined;
    if (!nonEmpty(url?.name)) reasons.push('urlSecretRef.name is missing');
    if (!cluster && c.namespaces !== undefined) ignored(`${field}.namespaces`, onlyCluster);
    const signing = isRecord(c.signingSecretRef) ? c.signingSecretRef : undefined;
    if (signing && c.type !== 'webhook') ignored(`${field}.signingSecretRef`, 'only webhook channels are signed; ignored');
    if (reasons.length) return error(field, `${reasons.join('; ')}: the channel is ignored`);
    const chName = c.name as string;
    const earlier = first.get(chName);
    if (earlier !== undefined) return error(`${field}.name`, `${chName} is also the name of spec.channels[${earlier}]; only that first channel is used`);
    first.set(chName, i);
    const ch: UsableChannel = { name: chName, type: c.type as ChannelType, field, secrets: [] };
    // Secrets are read from the policy's own namespace, whatever the ref says (deliveries.ts).
    ch.secrets.push({ field: `${field}.urlSecretRef`, namespace, name: url!.name as string, key: nonEmpty(url!.key) ? url!.key : 'url' });
    if (c.type === 'webhook' && nonEmpty(signing?.name)) {
      ch.secrets.push({ field: `${field}.signingSecretRef`, namespace, name: signing.name, key: nonEmpty(signing.key) ? signing.key : 'secret' });
    }
    out.channels.push(ch);
  });
  return out;
}

/** A channel Secret that could not be read, and why (from the Secret resolver). */
export interface SecretCheck {
  channel: string;
  field: string;
  reason: 'SecretNotFound' | 'SecretKeyNotFound' | 'SecretForbidden' | 'SecretUnreadable';
  message: string;
}

const SECRET_REASONS: Record<SecretProblem, SecretCheck['reason']> = {
  'not-found': 'SecretNotFound',
  'no-namespace': 'SecretNotFound',
  'no-key': 'SecretKeyNotFound',
  forbidden: 'SecretForbidden',
  'not-allowed': 'SecretForbidden',
  unavailable: 'SecretUnreadable',
};

export function secretReason(problem: SecretProblem): SecretCheck['reason'] {
  return SECRET_REASONS[problem];
}

export interface PolicyStatus {
  observedGeneration?: number;
  conditions: Condition[];
  /** Notifications delivered to the policy's channels, counted by the leader. */
  deliveries?: number;
  lastDeliveryTime?: string;
}

export interface PolicyFacts {
  /** Only the Secrets that failed; an empty list means every channel's Secrets were read. */
  secrets: readonly SecretCheck[];
  deliveries: number;
  lastDeliveryTime?: string;
}

const MAX_MESSAGE = 32_000;
const list = (ps: readonly { field: string; message: string }[]): string => ps.map((p) => `${p.field}: ${p.message}`).join('; ');

/** The status a policy should have; unchanged inputs give an equal status (no write). */
export function policyStatus(check: PolicyCheck, facts: PolicyFacts, previous: PolicyStatus | undefined, now: Date): PolicyStatus {
  const errors = check.problems.filter((p) => p.severity === 'error');
  const warnings = check.problems.filter((p) => p.severity === 'warning');
  const n = check.channels.length;
  const scope = check.cluster
    ? `cluster policy (namespace ${check.namespace} is trusted) for ${check.hasNamespaceSelector ? 'the namespaces its namespaceSelector matches' : 'every namespace'}`
    : `policy for namespace ${check.namespace}`;
  const channels = `${n} chat/webhook channel${n === 1 ? '' : 's'}`;
  const conds: ConditionInput[] = [];
  if (errors.length) {
    // The apiserver's schema makes spec an object; should one slip through, nothing of it is used.
    const rest = errors.some((e) => e.field === 'spec') ? '' : ` The rest of the policy is in force (${scope}, ${channels}).`;
    conds.push({ type: 'Accepted', status: 'False', reason: 'InvalidSpec', message: `${list(errors)}.${rest}`.slice(0, MAX_MESSAGE) });
  } else if (warnings.length) {
    conds.push({ type: 'Accepted', status: 'True', reason: 'FieldsIgnored', message: `${scope}, ${channels}; without effect here: ${list(warnings)}`.slice(0, MAX_MESSAGE) });
  } else {
    conds.push({ type: 'Accepted', status: 'True', reason: 'Accepted', message: `${scope}, ${channels}` });
  }
  const blocking = facts.secrets.filter((s) => s.reason !== 'SecretUnreadable');
  const secretsMsg = (ss: readonly SecretCheck[]): string => ss.map((s) => `channel ${s.channel} (${s.field}): ${s.message}`).join('; ');
  if (errors.length) {
    const more = facts.secrets.length ? `; ${secretsMsg(facts.secrets)}` : '';
    conds.push({ type: 'Ready', status: 'False', reason: 'InvalidSpec', message: `the spec has problems (see the Accepted condition)${more}`.slice(0, MAX_MESSAGE) });
  } else if (blocking.length) {
    conds.push({ type: 'Ready', status: 'False', reason: blocking[0]!.reason, message: `not delivered until fixed: ${secretsMsg(facts.secrets)}`.slice(0, MAX_MESSAGE) });
  } else if (facts.secrets.length) {
    conds.push({ type: 'Ready', status: 'Unknown', reason: 'SecretUnreadable', message: `could not check (retried): ${secretsMsg(facts.secrets)}`.slice(0, MAX_MESSAGE) });
  } else {
    conds.push({
      type: 'Ready',
      status: 'True',
      reason: 'Ready',
      message: n ? `every channel's Secret is readable (${check.channels.map((c) => c.name).join(', ')})` : 'no chat/webhook channels: Kubernetes Events and ConstraintReport entries need none',
    });
  }
  const status: PolicyStatus = {
    observedGeneration: check.generation,
    conditions: stampConditions(conds, check.generation, previous?.conditions, now),
    deliveries: facts.deliveries,
  };
  if (facts.lastDeliveryTime) status.lastDeliveryTime = facts.lastDeliveryTime;
  return status;
}
