// Kubernetes label-selector semantics (apimachinery's LabelSelectorAsSelector).
import type { LabelSelector, LabelSelectorRequirement } from './model.js';

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/**
 * Does `selector` select an object with `labels`?
 * An empty selector selects everything. An absent (null/undefined) selector means
 * different things to different fields, so the caller says: `absent: 'all' | 'none'`.
 */
export function matchesSelector(
  selector: LabelSelector | null | undefined,
  labels: Readonly<Record<string, string>> | undefined,
  absent: 'all' | 'none' = 'none',
): boolean {
  if (selector === null || selector === undefined) return absent === 'all';
  const l = labels ?? {};
  const ml = selector.matchLabels;
  if (ml) {
    for (const k in ml) {
      if (l[k] !== ml[k]) return false;
    }
  }
  const me = selector.matchExpressions;
  if (me) {
    for (const req of me) {
      if (!matchesRequirement(req, l)) return false;
    }
  }
  return true;
}

export function matchesRequirement(req: LabelSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  switch (req.operator) {
    case 'In':
      return has && (req.values ?? []).includes(labels[req.key] as string);
    case 'NotIn':
      return !has || !(req.values ?? []).includes(labels[req.key] as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      // An unknown operator selects nothing, as the apiserver would reject it.
      return false;
  }
}

/** True when the selector selects every object (`{}` or only empty parts). */
export function isEmptySelector(selector: LabelSelector | null | undefined): boolean {
  if (!selector) return false;
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/** Problems with a selector's shape, as the apiserver's validation would report them. */
export function validateSelector(selector: unknown): string[] {
  if (selector === null || selector === undefined) return [];
  if (typeof selector !== 'object' || Array.isArray(selector)) return ['selector must be an object'];
  const s = selector as Record<string, unknown>;
  const errors: string[] = [];
  // The apiserver accepts explicit nulls (`matchLabels:` with nothing after it) as empty.
  if (s.matchLabels !== undefined && s.matchLabels !== null) {
    if (typeof s.matchLabels !== 'object' || s.matchLabels === null || Array.isArray(s.matchLabels)) {
      errors.push('matchLabels must be a map of strings');
    } else {
      for (const [k, v] of Object.entries(s.matchLabels)) {
        if (typeof v !== 'string') errors.push(`matchLabels.${k} must be a string`);
      }
    }
  }
  if (s.matchExpressions !== undefined && s.matchExpressions !== null) {
    if (!Array.isArray(s.matchExpressions)) {
      errors.push('matchExpressions must be a list');
    } else {
      s.matchExpressions.forEach((e: unknown, i: number) => {
        const r = (e ?? {}) as Record<string, unknown>;
        if (typeof r.key !== 'string') errors.push(`matchExpressions[${i}].key must be a string`);
        if (typeof r.operator !== 'string' || !OPERATORS.has(r.operator)) {
          errors.push(`matchExpressions[${i}].operator must be one of In, NotIn, Exists, DoesNotExist`);
        } else if ((r.operator === 'In' || r.operator === 'NotIn') && (!Array.isArray(r.values) || r.values.length === 0)) {
          errors.push(`matchExpressions[${i}].values must be non-empty for ${r.operator}`);
        } else if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && Array.isArray(r.values) && r.values.length > 0) {
          errors.push(`matchExpressions[${i}].values must be empty for ${r.operator}`);
        }
      });
    }
  }
  return errors;
}

/** Human text for a selector, in kubectl's `-l` syntax; `all` for an empty one. */
export function selectorText(selector: LabelSelector | null | undefined): string {
  if (selector === null || selector === undefined) return 'none';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const r of selector.matchExpressions ?? []) {
    const vals = (r.values ?? []).join(',');
    switch (r.operator) {
      case 'In':
        parts.push(`${r.key} in (${vals})`);
        break;
      case 'NotIn':
        parts.push(`${r.key} notin (${vals})`);
        break;
      case 'Exists':
        parts.push(r.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${r.key}`);
        break;
    }
  }
  return parts.length ? parts.join(',') : 'all';
}
