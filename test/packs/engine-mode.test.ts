// Every built-in pack test again, with each condition run by json-rules-engine itself:
// the compiled closures must never change an outcome.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conditionMode, setConditionMode } from '../../engine/stages/runner.js';
import { loadAllPacks } from '../../runtime/packs.js';
import { formatTestResults, runPackTests } from '../../engine/testing/index.js';

describe('built-in packs with POTOO_CONDITIONS=engine', () => {
  const before = conditionMode();
  beforeAll(() => setConditionMode('engine'));
  afterAll(() => setConditionMode(before));

  it('every pack test passes when json-rules-engine evaluates every condition', async () => {
    const { packs, problems } = await loadAllPacks();
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    const results = (await Promise.all(packs.map((p) => runPackTests(p, packs)))).flat();
    expect(results.length).toBeGreaterThan(50);
    const failed = results.filter((r) => !r.ok);
    expect(failed.length, formatTestResults(failed)).toBe(0);
  });
});
