// The fact store and its indices (DESIGN §3).
export * from './normalize.js';
export * from './store.js';
export * from './workloads.js';
export * from './constraints.js';
