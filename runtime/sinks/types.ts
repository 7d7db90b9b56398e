// What the delivery side speaks: a Notification (one rendered message for one channel),
// the Sink contract every channel implements, and the error that tells the dispatcher
// whether another attempt could succeed.
import type { Audience, Delivery, DetailLevel, RuleRef, Severity } from '../../engine/model.js';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  /** Which version of the object an Event is about (e.g. the rejected ConfigMap's). */
  resourceVersion?: string;
}

export interface Fact {
  name: string;
  value: string;
}

/**
 * One message to deliver. Everything in it has already been rendered for its audience
 * and detail level by the notify stage: sinks format, they never decide what to reveal.
 */
export interface Notification {
  /** Stable per message: receivers dedupe on it (X-Potoo-Delivery), retries reuse it. */
  id: string;
  /** Name of a configured channel. */
  channel: string;
  /** Rate-limit key and the namespace the message is about ('' = cluster scope). */
  namespace: string;
  severity: Severity;
  audience: Audience;
  detail: DetailLevel;
  title: string;
  text: string;
  facts?: Fact[];
  /** The workload the message is about: where a Kubernetes Event is attached. */
  regarding?: ObjectRef;
  /** A second object for Events' `related` (only when the audience may see it). */
  related?: ObjectRef;
  /** Kubernetes Event reason, UpperCamelCase (default ConstraintViolation). */
  reason?: string;
  /** Kubernetes Event action (default Explain). */
  action?: string;
  subject?: Delivery['subject'];
  rule?: RuleRef;
  /** ISO time the triggering signal was observed. */
  createdAt: string;
  /** Link for "details" buttons (a dashboard, a runbook). */
  url?: string;
  data?: Record<string, unknown>;
}

export type ChannelType = 'slack' | 'teams' | 'webhook' | 'kubernetes-event';

export interface Sink {
  readonly type: ChannelType;
  /** Deliver once. Resolve on success; throw SinkError (or anything: treated as retryable). */
  send(n: Notification, signal: AbortSignal): Promise<void>;
}

export class SinkError extends Error {
  constructor(
    message: string,
    /** Could the same request succeed later (5xx, 429, timeouts, network)? */
    readonly retryable: boolean,
    readonly status?: number,
    /** Server-requested wait (Retry-After), ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SinkError';
  }
}

/** HTTP statuses worth another attempt: timeouts, throttling, server-side failures. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}
