// `potoo test` with every expectation kind registered: import this, not packtest.ts, so
// attributions / findings / deliveries expectations are always evaluated.
import './stagetests.js';

export { runPackTests, formatTestResults, compareList, type TestCaseResult } from './packtest.js';
