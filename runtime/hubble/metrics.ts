// Hubble client metrics, on prom-client's default registry.
import { counter, gauge } from '../sinks/promutil.js';

export const hubbleMetrics = {
  flows: counter('potoo_hubble_flows_total', 'Flows received from Hubble, by verdict and drop reason.', ['verdict', 'reason']),
  suppressed: counter('potoo_hubble_flows_suppressed_total', 'Repeats of a drop within the dedupe window (retransmits), not handed on.'),
  lost: counter('potoo_hubble_lost_events_total', 'Events Hubble reported as lost before they reached Potoo, by where they were lost.', ['source']),
  connected: gauge('potoo_hubble_connected', '1 while a GetFlows stream is open.'),
  reconnects: counter('potoo_hubble_reconnects_total', 'GetFlows streams re-opened, by the gRPC status that ended the previous one.', ['code']),
  malformed: counter('potoo_hubble_malformed_flows_total', 'Stream messages that could not be read as flows.'),
  handlerErrors: counter('potoo_hubble_handler_errors_total', 'Flow callbacks that threw.'),
  backpressure: counter('potoo_hubble_backpressure_pauses_total', 'Times the stream was paused because flow handling fell behind.'),
};
