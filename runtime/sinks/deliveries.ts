// Wiring the notify stage's Deliveries to the sinks, so the controller's loop is
// `notifier.submit(notificationFromDelivery(d))`:
//   channel "event"                -> a Kubernetes Event on data.workload (EventSink)
//   channel "slack"/"teams"/"webhook" with data.target (a NotificationPolicy channel)
//                                   -> a sink built once per target, its URL and signing
//                                      key read from the Secret the policy names
//   channel "report"               -> not a sink: ConstraintReports are the controller's.
// The text and data arrive rendered and scrubbed for the delivery's audience; nothing
// here adds identifying detail, except Secret-held URLs the receiver already owns.
import { rec } from '../../engine/json.js';
import type { Delivery, Severity } from '../../engine/model.js';
import { SEVERITIES } from '../../engine/model.js';
import type { KubeClient } from '../kube/client.js';
import type { EventSink } from './events.js';
import { SecretError, SecretResolver } from './secrets.js';
import { SlackSink } from './slack.js';
import { TeamsSink } from './teams.js';
import type { Notification, ObjectRef, Sink } from './types.js';
import { WebhookSink } from './webhook.js';

/** The channel the notify stage copies from a NotificationPolicy into `data.target`. */
export interface DeliveryTarget {
  name: string;
  type: 'slack' | 'teams' | 'webhook';
  /** `namespace/name` of the NotificationPolicy. */
  policy: string;
  urlSecretRef: { namespace: string; name: string; key?: string };
  signingSecretRef?: { namespace: string; name: string; key?: string };
}

export const EVENT_CHANNEL = 'kubernetes-event';
const TARGET_TYPES = new Set(['slack', 'teams', 'webhook']);

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function secretRef(v: unknown): { namespace: string; name: string; key?: string } | undefined {
  const r = rec(v);
  const namespace = str(r?.namespace);
  const name = str(r?.name);
  if (!namespace || !name) return undefined;
  const key = str(r?.key);
  return key ? { namespace, name, key } : { namespace, name };
}

export function deliveryTarget(d: Delivery): DeliveryTarget | undefined {
  const t = rec(d.data.target);
  const type = str(t?.type);
  const name = str(t?.name);
  const url = secretRef(t?.urlSecretRef);
  if (!t || !type || !TARGET_TYPES.has(type) || !name || !url) return undefined;
  const target: DeliveryTarget = { name, type: type as DeliveryTarget['type'], policy: str(t.policy) ?? '', urlSecretRef: url };
  const signing = secretRef(t.signingSecretRef);
  if (signing) target.signingSecretRef = signing;
  return target;
}

/** The Notifier channel name for a target: unique per policy and channel, readable in metrics. */
export function targetChannel(t: DeliveryTarget): string {
  return `${t.type}:${t.policy}/${t.name}`;
}

export interface DeliveryContext {
  /** When the triggering signal was seen (ISO); default now. */
  createdAt?: string;
  /** Link for a "Details" button (a dashboard, a runbook). */
  url?: string;
}

/**
 * A notify-stage Delivery as a Notification for the Notifier, or undefined when it is not
 * for a sink (ConstraintReport entries, or a chat delivery without a usable target).
 */
export function notificationFromDelivery(d: Delivery, ctx: DeliveryContext = {}): Notification | undefined {
  let channel: string;
  let target: DeliveryTarget | undefined;
  if (d.channel === 'event' || d.channel === EVENT_CHANNEL) channel = EVENT_CHANNEL;
  else if (TARGET_TYPES.has(d.channel)) {
    target = deliveryTarget(d);
    if (!target) return undefined;
    channel = targetChannel(target);
  } else return undefined;

  const data = d.data;
  const severity: Severity = SEVERITIES.includes(data.severity as Severity) ? (data.severity as Severity) : 'Warning';
  const w = rec(data.workload);
  const regarding: ObjectRef | undefined =
    w && str(w.kind) && str(w.name)
      ? { apiVersion: str(w.apiVersion) ?? 'v1', kind: str(w.kind)!, name: str(w.name)!, ...(str(w.namespace) ? { namespace: str(w.namespace)! } : {}), ...(str(w.uid) ? { uid: str(w.uid)! } : {}) }
      : undefined;
  if (channel === EVENT_CHANNEL && !regarding) return undefined;
  const namespace = d.subject.namespace ?? regarding?.namespace ?? '';
  const labels = Array.isArray(data.constraints) ? data.constraints.map((c) => str(rec(c)?.label)).filter((x): x is string => !!x) : [];
  const where = regarding ? `${regarding.kind} ${regarding.namespace ? `${regarding.namespace}/` : ''}${regarding.name}` : namespace ? `namespace ${namespace}` : 'the cluster';
  const title =
    str(data.title) ??
    (d.subject.kind === 'finding'
      ? `${where} is missing a required resource`
      : d.subject.kind === 'constraint'
        ? `${labels[0] ?? 'A constraint'} applies in ${where}`
        : `${where} blocked${labels[0] ? ` by ${labels[0]}${labels.length > 1 ? ` (+${labels.length - 1} more)` : ''}` : ''}`);
  const n: Notification = {
    id: `${d.subject.kind}:${d.subject.id}:${channel}:${d.audience}:${d.detail}`,
    channel,
    namespace,
    severity,
    audience: d.audience,
    detail: d.detail,
    title,
    text: d.text,
    subject: d.subject,
    rule: d.rule,
    createdAt: ctx.createdAt ?? new Date().toISOString(),
    data,
    reason: str(data.reason) ?? (d.subject.kind === 'finding' ? 'MissingResource' : d.subject.kind === 'constraint' ? 'ConstraintApplies' : 'BlockedByConstraint'),
    action: 'Explain',
  };
  if (regarding) n.regarding = regarding;
  if (ctx.url) n.url = ctx.url;
  return n;
}

export interface DeliverySinksOptions {
  client: Pick<KubeClient, 'request'>;
  events?: EventSink;
  secretTtlMs?: number;
  timeoutMs?: number;
}

/**
 * The Notifier's channel -> sink lookup for deliveries: sinks are built on first use
 * per target and kept (their secrets are re-read after the TTL). Secrets are read from
 * the namespace the NotificationPolicy lives in, which the notify stage put into the
 * target; a policy cannot name another namespace's Secret.
 */
export class DeliverySinks {
  private readonly sinks = new Map<string, Sink>();
  private readonly targets = new Map<string, DeliveryTarget>();
  private readonly secrets: SecretResolver;

  constructor(private readonly opts: DeliverySinksOptions) {
    this.secrets = new SecretResolver(opts.client, { namespace: '', allowedNamespaces: 'any', ...(opts.secretTtlMs !== undefined ? { ttlMs: opts.secretTtlMs } : {}) });
  }

  /** The Notification for a delivery (see notificationFromDelivery), its target remembered for `sinkFor`. */
  toNotification(d: Delivery, ctx: DeliveryContext = {}): Notification | undefined {
    const t = deliveryTarget(d);
    if (t) this.targets.set(targetChannel(t), t);
    return notificationFromDelivery(d, ctx);
  }

  /** For `new Notifier({ sinks: deliverySinks.sinkFor })`. */
  readonly sinkFor = (channel: string): Sink | undefined => {
    if (channel === EVENT_CHANNEL) return this.opts.events;
    const cached = this.sinks.get(channel);
    if (cached) return cached;
    const t = this.targets.get(channel);
    if (!t) return undefined;
    const url = { secretRef: { namespace: t.urlSecretRef.namespace, name: t.urlSecretRef.name, key: t.urlSecretRef.key ?? 'url' } };
    const common = { name: channel, ...(this.opts.timeoutMs ? { timeoutMs: this.opts.timeoutMs } : {}) };
    let sink: Sink;
    if (t.type === 'slack') sink = new SlackSink(url, this.secrets, common);
    else if (t.type === 'teams') sink = new TeamsSink(url, this.secrets, common);
    else {
      const s = t.signingSecretRef;
      sink = new WebhookSink(url, this.secrets, { ...common, ...(s ? { hmacKey: { secretRef: { namespace: s.namespace, name: s.name, key: s.key ?? 'secret' } } } : {}) });
    }
    this.sinks.set(channel, sink);
    return sink;
  };

  /** The target a channel name stands for (its NotificationPolicy counts what it delivers). */
  targetOf(channel: string): DeliveryTarget | undefined {
    return this.targets.get(channel);
  }

  /**
   * Whether a Secret a channel names can be read now, through the same resolver and
   * cache the sinks use: undefined when it can, else why not (for the policy's status).
   */
  async checkSecret(ref: { namespace: string; name: string; key: string }): Promise<SecretError | undefined> {
    try {
      await this.secrets.resolve({ secretRef: ref });
      return undefined;
    } catch (err) {
      return err instanceof SecretError ? err : new SecretError(`Secret ${ref.namespace}/${ref.name}: ${(err as Error)?.message ?? String(err)}`, true, 'unavailable');
    }
  }

  /** A Secret changed (a watch saw it): drop cached values. */
  invalidate(namespace?: string, name?: string): void {
    this.secrets.invalidate(namespace, name);
  }
}
