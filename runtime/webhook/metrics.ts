// Admission webhook metrics, on prom-client's default registry.
import { counter, gauge, histogram } from '../sinks/promutil.js';

export const webhookMetrics = {
  requests: counter('potoo_webhook_requests_total', 'AdmissionReview requests answered, by outcome (warned, clean, skipped, malformed, error, late).', ['outcome']),
  warnings: counter('potoo_webhook_warnings_total', 'Warning lines returned to the API server.'),
  duration: histogram(
    'potoo_webhook_request_duration_seconds',
    'Time from receiving an AdmissionReview body to sending the response.',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
  ),
  malformed: counter('potoo_webhook_malformed_total', 'AdmissionReviews that could not be read, by reason.', ['reason']),
  storeSynced: gauge('potoo_webhook_store_synced', '1 when every watched resource of the webhook fact store has completed its initial list.'),
  feedErrors: counter('potoo_webhook_feed_errors_total', 'List/watch failures of the webhook fact store, by resource.', ['resource']),
  feedRelists: counter('potoo_webhook_feed_relists_total', 'Full relists of the webhook fact store, by resource.', ['resource']),
};
