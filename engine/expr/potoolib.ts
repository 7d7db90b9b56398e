// General helpers rule packs need beyond the Kubernetes CEL libraries: shaping maps and
// lists (CEL has no optional map entries, merge or sort here) and mapping API resources
// to kinds (webhooks, admission policies and Kyverno CEL policies all speak resources).
import { kindForResource, KNOWN_KINDS } from '../gvr.js';
import type { CelExtension } from './cel.js';

type Json = unknown;

function isRecord(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Drop null entries of a map (or null elements of a list), so "absent" stays absent. */
export function compact(v: Json): Json {
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined);
  if (!isRecord(v)) return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = x;
  return out;
}

export function merge(a: Json, b: Json): Json {
  return { ...(isRecord(a) ? a : {}), ...(isRecord(b) ? b : {}) };
}

export function sorted(v: Json): Json {
  if (!Array.isArray(v)) return v;
  return [...v].sort((x, y) => {
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    const a = typeof x === 'string' ? x : JSON.stringify(x);
    const b = typeof y === 'string' ? y : JSON.stringify(y);
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/** The kind served by `resource` in `group`: the table, else a singular guess. */
function kindOf(group: string, resource: string): string {
  if (resource === '*') return '*';
  const known = kindForResource(group, resource);
  if (known) return known.kind;
  // Not in the table: any group (a `*` rule) may still name a well-known resource.
  const anyGroup = KNOWN_KINDS.find((k) => k.resource === resource);
  if (anyGroup) return anyGroup.kind;
  const singular = resource.endsWith('ies') ? resource.slice(0, -3) + 'y' : resource.replace(/(ches|shes|ses|xes|zes)$/, (m) => m.slice(0, -2)).replace(/s$/, '');
  return singular.charAt(0).toUpperCase() + singular.slice(1);
}

/**
 * groups x resources (an admission rule) -> [{group, kind}] for scope terms. A
 * subresource (`pods/exec`) reaches its parent's kind; `*` stays a wildcard.
 */
export function kindsForResources(groups: Json, resources: Json): Json {
  const gs = Array.isArray(groups) && groups.length ? groups.map(String) : ['*'];
  const rs = Array.isArray(resources) && resources.length ? resources.map(String) : ['*'];
  const out: { group: string; kind: string }[] = [];
  const seen = new Set<string>();
  for (const g of gs) {
    for (const r of rs) {
      const parent = r.split('/')[0] ?? '*';
      const kind = kindOf(g === '*' ? '' : g, parent);
      const key = `${g}|${kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ group: g, kind });
    }
  }
  return out;
}

export const POTOO_LIBRARY: CelExtension = {
  functions: [
    { signature: 'compact(map): map', handler: compact as (...a: never[]) => unknown, description: 'the map without its null entries' },
    { signature: 'compact(list): list', handler: compact as (...a: never[]) => unknown, description: 'the list without null elements' },
    { signature: 'merge(map, map): map', handler: merge as (...a: never[]) => unknown, description: 'keys of both maps; the second wins' },
    { signature: 'sorted(list): list', handler: sorted as (...a: never[]) => unknown, description: 'the list in ascending order' },
    { signature: 'kindsForResources(dyn, dyn): list', handler: kindsForResources as (...a: never[]) => unknown, description: 'API groups x resources -> [{group, kind}]' },
  ],
};
