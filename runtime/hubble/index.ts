// Hubble: the Observer client (dropped flows, normalized), and a local Observer server.
export * from './client.js';
export * from './normalize.js';
export { LocalObserver, requestMatches } from './observer-server.js';
export { hubbleMetrics } from './metrics.js';
export type { WireFlow, WirePolicy, WireEndpoint, GetFlowsRequest, GetFlowsResponse } from './proto.js';
export * from './attribute.js';
