// Delivery: sinks (Kubernetes Events, Slack, Teams, generic webhook), secrets, and the
// rate-limited retrying queue in front of them.
export * from './types.js';
export * from './channels.js';
export * from './deliveries.js';
export * from './events.js';
export * from './notifier.js';
export * from './secrets.js';
export * from './slack.js';
export * from './teams.js';
export * from './webhook.js';
export { resolveUrl, UrlSink, type UrlSinkOptions } from './http.js';
export { sinkMetrics } from './metrics.js';
export { SlidingWindowLimiter } from './ratelimit.js';
export { backoffDelay, sleep, type BackoffPolicy } from './backoff.js';
