// The require, correlate and notify stages and what callers need with them: the signal
// normalizers (engine/signals.ts) and the privacy model (engine/privacy.ts).
export { CorrelateStage, type CorrelateOptions, type CorrelateResult, type CorrelateCounters } from './correlate.js';
export { RequireStage, clearedFindings, type RequireInput, type RequireResult, type RequireCounters, type SubjectRef } from './require.js';
export { NotifyStage, subjectFact, severityAtLeast, type NotifyInput, type NotifyResult, type NotifyOptions, type NotifySubject, type NotifyCounters, type SubjectFact } from './notify.js';
export { FactView, type StageFacts, type WorkloadRef } from './context.js';
export { OWNER_RESOURCES } from '../store/workloads.js';
export { type TrafficQuestion, type Denial } from './netdeny.js';
export * from '../signals.js';
export * from '../privacy.js';
