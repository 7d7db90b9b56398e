// The CEL fast path (engine/expr/celcompile.ts) over real data: every built-in pack
// adapts its own test inputs and the ../shared/corpus objects twice, with the compiled
// closures on and with setCelFastPath(false) (the cel-js interpreter alone). The
// constraints, skips and problems must be identical: the fast path may only change speed.
import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { analyzeObjects } from '../../engine/analyzer.js';
import { celEvaluations, setCelFastPath } from '../../engine/expr/cel.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import type { SourcedObject } from '../../engine/source/manifests.js';
import { builtinPacks, corpusIndex, corpusPath, describeCorpusRequiredInCI, objectsOf, present } from '../corpus/corpus.js';

interface Outcome {
  constraints: unknown[];
  skipped: unknown[];
  problems: unknown[];
}

/** CEL evaluations per path, summed over every adaptation of one mode. */
interface Tally {
  compiled: number;
  gaveUp: number;
  interpreted: number;
}

function tally(): Tally {
  return { compiled: 0, gaveUp: 0, interpreted: 0 };
}

/**
 * Adapts `objects` with `packs`, the fast path on or off. Each run gets its own copy of
 * the objects, so nothing cached per object (converted CEL values) is shared by the runs.
 */
async function adaptWith(fast: boolean, objects: readonly SourcedObject[], packs: readonly CompiledPack[], into: Tally): Promise<Outcome> {
  const before = { ...celEvaluations };
  setCelFastPath(fast);
  try {
    const a = await analyzeObjects(structuredClone(objects) as SourcedObject[], packs);
    return { constraints: a.allConstraints(), skipped: a.skipped(), problems: a.problems() };
  } finally {
    setCelFastPath(true);
    into.compiled += celEvaluations.compiled - before.compiled;
    into.gaveUp += celEvaluations.gaveUp - before.gaveUp;
    into.interpreted += celEvaluations.interpreted - before.interpreted;
  }
}

/** The first place two JSON-ish values differ, for a readable failure. */
function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && Array.isArray(a) === Array.isArray(b)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
      const d = firstDifference(ra[k], rb[k], `${path}${Array.isArray(a) ? `[${k}]` : `.${k}`}`);
      if (d) return d;
    }
  }
  const show = (v: unknown) => (v === undefined ? 'undefined' : JSON.stringify(v).slice(0, 400));
  return `${path || '(root)'}: fast path ${show(a)} / interpreter ${show(b)}`;
}

/** Adapts with both paths; a mismatch is reported as `what: where they differ`. */
async function compare(what: string, objects: readonly SourcedObject[], packs: readonly CompiledPack[], fastTally: Tally, slowTally: Tally): Promise<string | undefined> {
  const fast = await adaptWith(true, objects, packs, fastTally);
  const slow = await adaptWith(false, objects, packs, slowTally);
  const d = firstDifference(fast, slow);
  return d && `${what}: ${d}`;
}

/** Both paths really ran: closures answered in one mode, none ran in the other. */
function expectBothPathsRan(fast: Tally, slow: Tally): void {
  expect(fast.compiled, `fast-path run: ${JSON.stringify(fast)}`).toBeGreaterThan(0);
  expect(slow.compiled + slow.gaveUp, `interpreter run: ${JSON.stringify(slow)}`).toBe(0);
  expect(slow.interpreted, `interpreter run: ${JSON.stringify(slow)}`).toBeGreaterThan(0);
}

afterEach(() => setCelFastPath(true));

describe('CEL fast path == interpreter on the built-in packs', () => {
  it("every pack's own test inputs adapt to the same constraints, skips and problems", async () => {
    const packs = await builtinPacks();
    const fast = tally();
    const slow = tally();
    const mismatches: string[] = [];
    let tests = 0;
    let objects = 0;
    for (const pack of packs) {
      // As `potoo test` runs them: the pack under test first, the other built-ins as context.
      const withContext = [pack, ...packs.filter((p) => p !== pack)];
      for (const { test } of pack.tests) {
        const given = (test.given ?? []).map((object, i) => ({ object, file: `${pack.origin.file} (test "${test.name}" given[${i}])`, line: 0 }));
        if (given.length === 0) continue;
        tests++;
        objects += given.length;
        const m = await compare(`${pack.name} / ${test.name}`, given, withContext, fast, slow);
        if (m) mismatches.push(m);
      }
    }
    const summary = `${tests} pack tests, ${objects} objects compared; CEL evaluations fast run ${JSON.stringify(fast)}, interpreter run ${JSON.stringify(slow)}`;
    console.log(summary);
    expect(objects, summary).toBeGreaterThan(0);
    expectBothPathsRan(fast, slow);
    expect(mismatches, summary).toEqual([]);
  });
});

describeCorpusRequiredInCI('CEL fast path');

describe.skipIf(!present)('CEL fast path == interpreter on ../shared/corpus', () => {
  const SOURCES = ['kyverno', 'gatekeeper', 'cilium', 'istio', 'netpol-recipes'] as const;

  for (const source of SOURCES) {
    it(`${source}: every policy and resource adapts to the same constraints, skips and problems`, async () => {
      const packs = await builtinPacks();
      // Policies, templates and the resources next to them (`test` entries are test
      // definitions, not cluster objects), one analysis per unit so that adapters reading
      // other objects through `facts` (a binding reads its policy) find them.
      const units = new Map<string, string[]>();
      for (const e of corpusIndex()) {
        if (e.source !== source || e.role === 'test') continue;
        const unit = e.unit ?? e.path;
        units.set(unit, [...(units.get(unit) ?? []), e.path]);
      }
      const fast = tally();
      const slow = tally();
      const mismatches: string[] = [];
      let objects = 0;
      for (const [unit, paths] of units) {
        const loaded = paths.flatMap((p) => objectsOf(corpusPath(source, p)));
        if (loaded.length === 0) continue;
        objects += loaded.length;
        const m = await compare(`${source}/${unit}`, loaded, packs, fast, slow);
        if (m) mismatches.push(m);
      }
      const summary = `${source}: ${units.size} units, ${objects} objects compared; CEL evaluations fast run ${JSON.stringify(fast)}, interpreter run ${JSON.stringify(slow)}`;
      console.log(summary);
      expect(objects, summary).toBeGreaterThan(0);
      expectBothPathsRan(fast, slow);
      expect(mismatches, summary).toEqual([]);
    });
  }
});
