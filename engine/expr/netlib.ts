// CEL helpers for network adapters: label-selector algebra (engines hide namespace,
// service-account and identity conditions inside label selectors under special keys)
// and text for the normalized network model of engine/network.ts.
import type { LabelSelector, LabelSelectorRequirement } from '../model.js';
import { peerTextValue, rulesTextValue } from '../network.js';
import { rec } from '../json.js';
import type { CelExtension } from './cel.js';

type Json = unknown;

const OPERATORS: Record<string, LabelSelectorRequirement['operator']> = {
  in: 'In',
  notin: 'NotIn',
  exists: 'Exists',
  doesnotexist: 'DoesNotExist',
};

/** `in`, `IN`, `notin`... -> the apimachinery spelling; unknown operators are kept. */
function normalizeOperator(op: Json): string {
  const s = typeof op === 'string' ? op : '';
  return OPERATORS[s.toLowerCase()] ?? s;
}

/**
 * A selector as one requirement list: matchLabels become `In [value]`, operators get their
 * apimachinery spelling. A null/absent selector or a non-map gives [].
 */
export function selectorRequirements(sel: Json): LabelSelectorRequirement[] {
  const s = rec(sel);
  if (!s) return [];
  const out: LabelSelectorRequirement[] = [];
  const ml = rec(s.matchLabels);
  if (ml) for (const [key, v] of Object.entries(ml)) out.push({ key, operator: 'In', values: [v === null || v === undefined ? '' : String(v)] });
  if (Array.isArray(s.matchExpressions)) {
    for (const e of s.matchExpressions) {
      const r = rec(e);
      if (!r || typeof r.key !== 'string') continue;
      const req: LabelSelectorRequirement = { key: r.key, operator: normalizeOperator(r.operator) as LabelSelectorRequirement['operator'] };
      if (Array.isArray(r.values)) req.values = r.values.map((v) => String(v));
      out.push(req);
    }
  }
  return out;
}

/** Requirements back into a selector: single-valued `In` on a key used once become matchLabels. */
export function selectorFromRequirements(reqs: readonly LabelSelectorRequirement[]): LabelSelector {
  const count = new Map<string, number>();
  for (const r of reqs) count.set(r.key, (count.get(r.key) ?? 0) + 1);
  const matchLabels: Record<string, string> = {};
  const matchExpressions: LabelSelectorRequirement[] = [];
  for (const r of reqs) {
    if (r.operator === 'In' && r.values?.length === 1 && count.get(r.key) === 1) {
      Object.defineProperty(matchLabels, r.key, { value: r.values[0] as string, enumerable: true, writable: true, configurable: true });
    } else matchExpressions.push(r);
  }
  const out: LabelSelector = {};
  if (Object.keys(matchLabels).length) out.matchLabels = matchLabels;
  if (matchExpressions.length) out.matchExpressions = matchExpressions;
  return out;
}

interface KeyRule {
  pattern: string;
  bucket: string;
  key: string | undefined;
}

function keyRules(rules: Json): KeyRule[] {
  if (!Array.isArray(rules)) return [];
  const out: KeyRule[] = [];
  for (const r of rules) {
    if (Array.isArray(r) && typeof r[0] === 'string' && typeof r[1] === 'string') {
      out.push({ pattern: r[0], bucket: r[1], key: typeof r[2] === 'string' ? r[2] : undefined });
    } else {
      const m = rec(r);
      if (m && typeof m.pattern === 'string' && typeof m.bucket === 'string') out.push({ pattern: m.pattern, bucket: m.bucket, key: typeof m.key === 'string' ? m.key : undefined });
    }
  }
  return out;
}

/**
 * Split a label selector by key: `rules` is an ordered list of `[pattern, bucket, newKey?]`.
 * A pattern is an exact key or `prefix*`; the first rule whose pattern matches a
 * requirement's key sends the requirement to `bucket`, re-keyed to `newKey` (where `*`
 * stands for what the prefix pattern's `*` matched; absent: the matched rest for a prefix
 * pattern, the key itself for an exact one). Unmatched keys go to bucket `other`.
 * Returns `{bucket: selector}` for the buckets that received something.
 *   splitSelector(sel, [['k8s:*', 'pod'], ['io.kubernetes.pod.namespace', 'ns', 'kubernetes.io/metadata.name']])
 */
export function splitSelector(sel: Json, rules: Json): Record<string, LabelSelector> {
  const rs = keyRules(rules);
  const buckets = new Map<string, LabelSelectorRequirement[]>();
  for (const req of selectorRequirements(sel)) {
    let bucket = 'other';
    let key = req.key;
    for (const r of rs) {
      if (r.pattern.endsWith('*')) {
        const prefix = r.pattern.slice(0, -1);
        if (!req.key.startsWith(prefix)) continue;
        const rest = req.key.slice(prefix.length);
        bucket = r.bucket;
        key = r.key === undefined ? rest : r.key.replace('*', rest);
        break;
      }
      if (r.pattern === req.key) {
        bucket = r.bucket;
        key = r.key ?? req.key;
        break;
      }
    }
    const list = buckets.get(bucket) ?? [];
    list.push({ ...req, key });
    buckets.set(bucket, list);
  }
  const out: Record<string, LabelSelector> = {};
  for (const [b, reqs] of buckets) Object.defineProperty(out, b, { value: selectorFromRequirements(reqs), enumerable: true, writable: true, configurable: true });
  return out;
}

/** The values a selector allows for one key: `In` values and matchLabels; [] when it does not pin the key. */
export function selectorValues(sel: Json, key: Json): string[] {
  const k = String(key);
  const out: string[] = [];
  for (const r of selectorRequirements(sel)) if (r.key === k && r.operator === 'In') out.push(...(r.values ?? []));
  return [...new Set(out)];
}

/** `[{index, value}]` for each element: CEL's map() has no index variable. */
export function enumerate(v: Json): { index: number; value: Json }[] {
  return Array.isArray(v) ? v.map((value, index) => ({ index, value })) : [];
}

/** The value when it is a list, else [] (null, absent or malformed list fields). */
export function listOf(v: Json): Json[] {
  return Array.isArray(v) ? v : [];
}

export const NETWORK_LIBRARY: CelExtension = {
  functions: [
    { signature: 'selectorRequirements(dyn): list', handler: selectorRequirements as (...a: never[]) => unknown, description: 'a selector as [{key, operator, values}]' },
    { signature: 'selectorFromRequirements(list): map', handler: selectorFromRequirements as unknown as (...a: never[]) => unknown, description: 'requirements back into a label selector' },
    { signature: 'splitSelector(dyn, list): map', handler: splitSelector as (...a: never[]) => unknown, description: 'split a selector into buckets by key pattern, re-keying as told' },
    { signature: 'selectorValues(dyn, string): list', handler: selectorValues as (...a: never[]) => unknown, description: 'the values a selector pins a key to' },
    { signature: 'listOf(dyn): list', handler: listOf as (...a: never[]) => unknown, description: 'the value if it is a list, else []' },
    { signature: 'enumerate(list): list', handler: enumerate as (...a: never[]) => unknown, description: 'the list as [{index, value}]' },
    { signature: 'networkRulesText(dyn, string): string', handler: rulesTextValue as (...a: never[]) => unknown, description: 'normalized network rules as text' },
    { signature: 'networkPeerText(dyn): string', handler: peerTextValue as (...a: never[]) => unknown, description: 'a normalized network peer as text' },
  ],
};
