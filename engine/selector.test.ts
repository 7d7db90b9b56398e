import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { LabelSelector, LabelSelectorRequirement } from './model.js';
import { isEmptySelector, matchesRequirement, matchesSelector, selectorText, validateSelector } from './selector.js';

// Reference: apimachinery's LabelSelectorAsSelector, restated as set algebra over the
// label map (a requirement is the set of label maps it admits).
function refMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  const keys = new Set(Object.keys(labels));
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (!keys.has(k) || labels[k] !== v) return false;
  }
  for (const r of sel.matchExpressions ?? []) {
    const vals = new Set(r.values ?? []);
    const ok =
      r.operator === 'In'
        ? keys.has(r.key) && vals.has(labels[r.key]!)
        : r.operator === 'NotIn'
          ? !(keys.has(r.key) && vals.has(labels[r.key]!))
          : r.operator === 'Exists'
            ? keys.has(r.key)
            : !keys.has(r.key);
    if (!ok) return false;
  }
  return true;
}

const KEYS = ['app', 'tier', 'env', 'constructor', 'toString'];
const VALUES = ['api', 'web', 'prod', ''];

const labelsArb = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 4 });

const requirementArb: fc.Arbitrary<LabelSelectorRequirement> = fc.oneof(
  fc.record({
    key: fc.constantFrom(...KEYS),
    operator: fc.constantFrom('In' as const, 'NotIn' as const),
    values: fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
);

const selectorArb: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 }),
    matchExpressions: fc.array(requirementArb, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

describe('matchesSelector', () => {
  it('agrees with the reference', () => {
    fc.assert(
      fc.property(selectorArb, labelsArb, (sel, labels) => {
        expect(matchesSelector(sel, labels)).toBe(refMatches(sel, labels));
      }),
      { numRuns: 5000 },
    );
  });

  it('is the conjunction of its parts', () => {
    fc.assert(
      fc.property(selectorArb, labelsArb, (sel, labels) => {
        const parts = [
          ...Object.entries(sel.matchLabels ?? {}).map(([k, v]) => matchesSelector({ matchLabels: { [k]: v } }, labels)),
          ...(sel.matchExpressions ?? []).map((r) => matchesRequirement(r, labels)),
        ];
        expect(matchesSelector(sel, labels)).toBe(parts.every(Boolean));
      }),
    );
  });

  it('matchLabels k=v is the same as In [v]', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), labelsArb, (k, v, labels) => {
        expect(matchesSelector({ matchLabels: { [k]: v } }, labels)).toBe(
          matchesSelector({ matchExpressions: [{ key: k, operator: 'In', values: [v] }] }, labels),
        );
      }),
    );
  });

  it('NotIn is the complement of In, DoesNotExist of Exists', () => {
    fc.assert(
      fc.property(requirementArb, labelsArb, (r, labels) => {
        const flip: Record<LabelSelectorRequirement['operator'], LabelSelectorRequirement['operator']> = {
          In: 'NotIn',
          NotIn: 'In',
          Exists: 'DoesNotExist',
          DoesNotExist: 'Exists',
        };
        expect(matchesRequirement({ ...r, operator: flip[r.operator] }, labels)).toBe(!matchesRequirement(r, labels));
      }),
    );
  });

  it('empty selects everything; absent is decided by the caller', () => {
    fc.assert(
      fc.property(labelsArb, (labels) => {
        expect(matchesSelector({}, labels)).toBe(true);
        expect(matchesSelector({ matchLabels: {}, matchExpressions: [] }, labels)).toBe(true);
        expect(matchesSelector(undefined, labels)).toBe(false);
        expect(matchesSelector(null, labels)).toBe(false);
        expect(matchesSelector(undefined, labels, 'all')).toBe(true);
        expect(matchesSelector(null, labels, 'none')).toBe(false);
      }),
    );
  });

  it('does not see inherited properties as labels', () => {
    expect(matchesSelector({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, {})).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'toString', operator: 'DoesNotExist' }] }, {})).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'constructor', operator: 'NotIn', values: ['x'] }] }, {})).toBe(true);
  });

  it('treats missing labels as an empty map', () => {
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, undefined)).toBe(true);
    expect(matchesSelector({ matchLabels: { a: 'b' } }, undefined)).toBe(false);
  });

  it('an unknown operator selects nothing', () => {
    const bad = { key: 'a', operator: 'Gt', values: ['1'] } as unknown as LabelSelectorRequirement;
    expect(matchesSelector({ matchExpressions: [bad] }, { a: '2' })).toBe(false);
  });
});

describe('isEmptySelector', () => {
  it('is true only for a present selector with no requirements', () => {
    expect(isEmptySelector({})).toBe(true);
    expect(isEmptySelector({ matchLabels: {}, matchExpressions: [] })).toBe(true);
    expect(isEmptySelector(undefined)).toBe(false);
    expect(isEmptySelector(null)).toBe(false);
    expect(isEmptySelector({ matchLabels: { a: 'b' } })).toBe(false);
    fc.assert(
      fc.property(selectorArb, labelsArb, (sel, labels) => {
        if (isEmptySelector(sel)) expect(matchesSelector(sel, labels)).toBe(true);
      }),
    );
  });
});

describe('validateSelector', () => {
  it('accepts every well-formed selector', () => {
    fc.assert(
      fc.property(selectorArb, (sel) => {
        expect(validateSelector(sel)).toEqual([]);
      }),
    );
  });

  it('accepts absent selectors', () => {
    expect(validateSelector(undefined)).toEqual([]);
    expect(validateSelector(null)).toEqual([]);
  });

  it('reports shape errors with their path', () => {
    expect(validateSelector('app=api')).toEqual(['selector must be an object']);
    expect(validateSelector([])).toEqual(['selector must be an object']);
    expect(validateSelector({ matchLabels: [] })).toEqual(['matchLabels must be a map of strings']);
    expect(validateSelector({ matchLabels: { a: 1 } })).toEqual(['matchLabels.a must be a string']);
    expect(validateSelector({ matchExpressions: {} })).toEqual(['matchExpressions must be a list']);
    expect(validateSelector({ matchExpressions: [{ operator: 'Exists' }] })).toEqual(['matchExpressions[0].key must be a string']);
    expect(validateSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] })).toEqual([
      'matchExpressions[0].operator must be one of In, NotIn, Exists, DoesNotExist',
    ]);
    expect(validateSelector({ matchExpressions: [null] })).toEqual([
      'matchExpressions[0].key must be a string',
      'matchExpressions[0].operator must be one of In, NotIn, Exists, DoesNotExist',
    ]);
  });

  it('requires values for In/NotIn and forbids them for Exists/DoesNotExist', () => {
    expect(validateSelector({ matchExpressions: [{ key: 'a', operator: 'In' }] })).toEqual([
      'matchExpressions[0].values must be non-empty for In',
    ]);
    expect(validateSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] })).toEqual([
      'matchExpressions[0].values must be non-empty for NotIn',
    ]);
    expect(validateSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })).toEqual([
      'matchExpressions[0].values must be empty for Exists',
    ]);
    expect(validateSelector({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: [] }] })).toEqual([]);
  });

  it('reports every bad requirement, not just the first', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), (n) => {
        const exprs = Array.from({ length: n }, () => ({ key: 'a', operator: 'In' }));
        expect(validateSelector({ matchExpressions: exprs })).toHaveLength(n);
      }),
    );
  });
});

describe('selectorText', () => {
  it("renders kubectl's -l syntax", () => {
    expect(selectorText(undefined)).toBe('none');
    expect(selectorText({})).toBe('all');
    expect(
      selectorText({
        matchLabels: { app: 'api' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['a', 'b'] },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'x', operator: 'Exists' },
          { key: 'y', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=api,tier in (a,b),env notin (dev),x,!y');
  });
});
