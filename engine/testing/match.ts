// Partial matching and readable diffs for rule-pack test expectations.
import { isRecord } from '../json.js';

export interface LeafDiff {
  path: string;
  expected: unknown;
  actual: unknown;
}

/**
 * Does `actual` contain `expected`? Maps match when every expected key matches; lists
 * match element-wise with equal length; scalars must be equal. `substringKeys` names keys
 * whose string values match as substrings (error messages).
 */
export function partialDiff(expected: unknown, actual: unknown, path = '', substringKeys: ReadonlySet<string> = new Set()): LeafDiff[] {
  if (isRecord(expected)) {
    if (!isRecord(actual)) return [{ path: path || '.', expected, actual }];
    const out: LeafDiff[] = [];
    for (const [k, v] of Object.entries(expected)) {
      const p = path ? `${path}.${k}` : k;
      if (substringKeys.has(k) && typeof v === 'string') {
        if (typeof actual[k] !== 'string' || !(actual[k] as string).includes(v)) out.push({ path: p, expected: v, actual: actual[k] });
        continue;
      }
      out.push(...partialDiff(v, actual[k], p, substringKeys));
    }
    return out;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [{ path: path || '.', expected, actual }];
    return expected.flatMap((e, i) => partialDiff(e, actual[i], `${path}[${i}]`, substringKeys));
  }
  // Numbers compare by value: 443 from YAML equals a CEL double 443.0 (one JS number).
  return expected === actual ? [] : [{ path: path || '.', expected, actual }];
}

export interface MatchOutcome<T> {
  /** For each expectation, the index of the actual it matched, or -1. */
  assignment: number[];
  /** For unmatched expectations: the closest actual and how it differs. */
  closest: { index: number; actual: T | undefined; diffs: LeafDiff[] }[];
}

/** Match each expectation to a distinct actual (greedy, in order); report the nearest miss. */
export function matchAll<T>(expected: readonly Record<string, unknown>[], actual: readonly T[], substringKeys?: ReadonlySet<string>): MatchOutcome<T> {
  const used = new Set<number>();
  const assignment: number[] = [];
  const closest: MatchOutcome<T>['closest'] = [];
  expected.forEach((exp, ei) => {
    let found = -1;
    let best: { index: number; diffs: LeafDiff[] } | undefined;
    actual.forEach((act, ai) => {
      if (found >= 0 || used.has(ai)) return;
      const d = partialDiff(exp, act, '', substringKeys);
      if (d.length === 0) found = ai;
      else if (!best || d.length < best.diffs.length) best = { index: ai, diffs: d };
    });
    assignment.push(found);
    if (found >= 0) used.add(found);
    else closest.push({ index: ei, actual: best ? actual[best.index] : undefined, diffs: best?.diffs ?? [] });
  });
  return { assignment, closest };
}

/** `- path: expected` / `+ path: actual` lines, like a unified diff of the differing leaves. */
export function renderDiff(diffs: readonly LeafDiff[], indent = '    '): string {
  const lines: string[] = [];
  for (const d of diffs) {
    lines.push(`${indent}- ${d.path}: ${show(d.expected)}`);
    lines.push(`${indent}+ ${d.path}: ${d.actual === undefined ? '(absent)' : show(d.actual)}`);
  }
  return lines.join('\n');
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 200 ? s.slice(0, 197) + '...' : s;
}
