// Delivery metrics, on prom-client's default registry (served by the controller's /metrics).
import { counter, gauge, histogram } from './promutil.js';

export const sinkMetrics = {
  notifications: counter('potoo_notifications_total', 'Notifications by channel and final result (delivered, failed, dropped).', ['channel', 'result']),
  rateLimited: counter('potoo_notification_rate_limited_total', 'Notifications refused by the per-namespace rate limit.', ['namespace', 'channel']),
  attempts: counter('potoo_notification_attempts_total', 'Delivery attempts by channel and outcome (ok, retry, error).', ['channel', 'outcome']),
  queueDepth: gauge('potoo_notification_queue_depth', 'Notifications waiting for delivery (including retries in backoff).'),
  latency: histogram('potoo_notification_delivery_seconds', 'From submit to successful delivery.', [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], ['channel']),
  circuitOpen: gauge('potoo_notification_circuit_open', '1 while a channel circuit breaker is open (deliveries paused after repeated failures).', ['channel']),
  eventWrites: counter('potoo_notification_event_writes_total', 'Kubernetes Event API writes by the Event sink (create, series).', ['op', 'result']),
  eventSeries: counter('potoo_notification_event_series_total', 'Repeats folded into an existing Event series instead of a new Event.'),
};
