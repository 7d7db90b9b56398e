// General helpers rule packs need beyond the Kubernetes CEL libraries: shaping maps and
// lists (CEL has no optional map entries, merge, sort or flatten here), mapping API
// resources and kind selectors to kinds (webhooks, admission policies and Kyverno all
// name what they match that way), and reading other objects of the fact store (an
// admission policy binding needs its policy).
import { kindForResource, KNOWN_KINDS, parseApiVersion } from '../gvr.js';
import type { KubeObject } from '../model.js';
import { isRecord } from '../json.js';
import { toCelValue, type CelExtension } from './cel.js';

type Json = unknown;

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

/** The kind served by `resource` in `group`: the table, else a singular guess (`guessed`). */
function kindOf(group: string, resource: string): { kind: string; guessed: boolean } {
  if (resource === '*') return { kind: '*', guessed: false };
  const known = kindForResource(group, resource);
  if (known) return { kind: known.kind, guessed: false };
  // Not in the table: any group (a `*` rule) may still name a well-known resource.
  const anyGroup = KNOWN_KINDS.find((k) => k.resource === resource);
  if (anyGroup) return { kind: anyGroup.kind, guessed: false };
  const singular = resource.endsWith('ies') ? resource.slice(0, -3) + 'y' : resource.replace(/(ches|shes|ses|xes|zes)$/, (m) => m.slice(0, -2)).replace(/s$/, '');
  return { kind: singular.charAt(0).toUpperCase() + singular.slice(1), guessed: true };
}

/**
 * groups x resources (an admission rule) -> [{group, kind}] for scope terms. A
 * subresource (`pods/exec`) reaches its parent's kind; `*` stays a wildcard. A kind
 * guessed from an unknown resource also carries `resource`, which scope evaluation
 * compares instead (the guess cannot know `flowschemas` is FlowSchema).
 */
export function kindsForResources(groups: Json, resources: Json): Json {
  const gs = Array.isArray(groups) && groups.length ? groups.map(String) : ['*'];
  const rs = Array.isArray(resources) && resources.length ? resources.map(String) : ['*'];
  const out: { group: string; kind: string; resource?: string }[] = [];
  const seen = new Set<string>();
  for (const g of gs) {
    for (const r of rs) {
      const parent = r.split('/')[0] ?? '*';
      const { kind, guessed } = kindOf(g === '*' ? '' : g, parent);
      const key = `${g}|${kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(guessed ? { group: g, kind, resource: parent } : { group: g, kind });
    }
  }
  return out;
}

/** Flatten nested lists `depth` levels deep (Kubernetes CEL's `flatten()`); other elements stay. */
export function flatten(v: Json, depth = 1): Json {
  if (!Array.isArray(v)) return v;
  let cur: Json[] = v;
  for (let d = 0; d < depth; d++) {
    if (!cur.some(Array.isArray)) break;
    cur = cur.flatMap((x) => (Array.isArray(x) ? (x as Json[]) : [x]));
  }
  return cur;
}

/** The list without repeated elements (first occurrence kept; maps and lists compared by value). */
export function distinct(v: Json): Json {
  if (!Array.isArray(v)) return v;
  const seen = new Set<string>();
  return v.filter((x) => {
    const k = typeof x === 'string' ? 's' + x : 'j' + JSON.stringify(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** `v1`, `v1beta1`, `v2alpha3` or `*`: the version position of a kind selector. */
const VERSION_RE = /^(v\d+((alpha|beta)\d+)?|\*)$/;

/**
 * Kind selectors as Kyverno writes them -> [{group, version?, kind}]. Forms: `Kind`,
 * `version/Kind`, `group/version/Kind`, `Kind/subresource` (`Kind.subresource`),
 * `version/Kind/subresource`, `group/version/Kind/subresource`, `*` and `*` in any
 * position. A bare kind matches that kind in every group (group `*`); a `*` version is
 * left out; a subresource reaches its parent kind. Malformed entries are dropped.
 */
export function kindRefs(selectors: Json): Json {
  const list = Array.isArray(selectors) ? selectors : typeof selectors === 'string' ? [selectors] : [];
  const out: { group: string; version?: string; kind: string }[] = [];
  const seen = new Set<string>();
  for (const raw of list) {
    if (typeof raw !== 'string' || raw.trim() === '') continue;
    const slash = raw.trim().split('/');
    const last = slash.pop() as string;
    const parts = [...slash, ...last.split('.')];
    let group = '*';
    let version = '*';
    let kind: string | undefined;
    switch (parts.length) {
      case 1:
        kind = parts[0];
        break;
      case 2: {
        const [a, b] = parts as [string, string];
        if (a === '*' && (b === '*' || b.toLowerCase() === b)) kind = '*';
        else if (VERSION_RE.test(a)) [version, kind] = [a, b];
        else kind = a;
        break;
      }
      case 3: {
        const [a, b, c] = parts as [string, string, string];
        if (VERSION_RE.test(a)) [version, kind] = [a, b];
        else [group, version, kind] = [a, b, c];
        break;
      }
      case 4:
        [group, version, kind] = parts as [string, string, string];
        break;
      default:
        continue;
    }
    if (!kind) continue;
    const ref: { group: string; version?: string; kind: string } = { group, kind };
    if (version !== '*') ref.version = version;
    const key = `${group}|${version}|${kind}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(ref);
  }
  return out;
}

/**
 * Where adapters read other objects of the fact store. `namespace` is '' for
 * cluster-scoped objects and '*' for every namespace; `version` '*' is any stored version.
 */
export interface FactSource {
  find(group: string, version: string, kind: string, namespace: string, name: string | undefined): KubeObject[];
}

/** The dependency key a lookup records: `group|kind|namespace|name` (`*` for lists). */
export function factKey(group: string, kind: string, namespace: string, name: string): string {
  return `${group}|${kind}|${namespace}|${name}`;
}

/**
 * The `facts` variable of the adapt stage: `facts.get(apiVersion, kind, namespace, name)`
 * returns one object or null, `facts.list(apiVersion, kind, namespace)` a list.
 * `apiVersion` is `group/version`, `v1` for core, or `group/*` for any version. Every
 * read is recorded, so the caller can re-adapt the object when what it read changes.
 */
export class FactLookup {
  readonly #source: FactSource;
  readonly #reads = new Set<string>();
  constructor(source: FactSource) {
    this.#source = source;
  }
  /** The {@link factKey}s read so far. */
  get reads(): readonly string[] {
    return [...this.#reads];
  }
  get(apiVersion: string, kind: string, namespace: string, name: string): KubeObject | null {
    const gv = parseApiVersion(apiVersion);
    if (!gv || !kind || !name) return null;
    this.#reads.add(factKey(gv.group, kind, namespace, name));
    return this.#source.find(gv.group, gv.version, kind, namespace, name)[0] ?? null;
  }
  list(apiVersion: string, kind: string, namespace: string): KubeObject[] {
    const gv = parseApiVersion(apiVersion);
    if (!gv || !kind) return [];
    this.#reads.add(factKey(gv.group, kind, namespace, '*'));
    return this.#source.find(gv.group, gv.version, kind, namespace, undefined);
  }
}

function factsGet(f: unknown, apiVersion: unknown, kind: unknown, namespace: unknown, name: unknown): unknown {
  if (!(f instanceof FactLookup)) throw new Error('facts.get: not a fact lookup');
  return toCelValue(f.get(String(apiVersion), String(kind), String(namespace), String(name)));
}

function factsList(f: unknown, apiVersion: unknown, kind: unknown, namespace: unknown): unknown {
  if (!(f instanceof FactLookup)) throw new Error('facts.list: not a fact lookup');
  return toCelValue(f.list(String(apiVersion), String(kind), String(namespace)));
}

export const POTOO_LIBRARY: CelExtension = {
  types: [{ name: 'FactLookup', ctor: FactLookup }],
  functions: [
    { signature: 'compact(map): map', handler: compact as (...a: never[]) => unknown, description: 'the map without its null entries' },
    { signature: 'compact(list): list', handler: compact as (...a: never[]) => unknown, description: 'the list without null elements' },
    { signature: 'merge(map, map): map', handler: merge as (...a: never[]) => unknown, description: 'keys of both maps; the second wins' },
    { signature: 'sorted(list): list', handler: sorted as (...a: never[]) => unknown, description: 'the list in ascending order' },
    { signature: 'kindsForResources(dyn, dyn): list', handler: kindsForResources as (...a: never[]) => unknown, description: 'API groups x resources -> [{group, kind}]' },
    { signature: 'kindRefs(dyn): list', handler: kindRefs as (...a: never[]) => unknown, description: 'kind selectors (Kind, group/version/Kind, */Kind, Kind/subresource) -> [{group, version?, kind}]' },
    { signature: 'list.distinct(): list', handler: distinct as (...a: never[]) => unknown, description: 'the list without repeated elements' },
    { signature: 'list.flatten(): list', handler: flatten as (...a: never[]) => unknown, description: 'nested lists one level flatter' },
    { signature: 'list.flatten(int): list', handler: flatten as (...a: never[]) => unknown, description: 'nested lists n levels flatter' },
    { signature: 'FactLookup.get(string, string, string, string): dyn', handler: factsGet as (...a: never[]) => unknown, raw: true, description: 'facts.get(apiVersion, kind, namespace, name): the stored object or null' },
    { signature: 'FactLookup.list(string, string, string): list', handler: factsList as (...a: never[]) => unknown, raw: true, description: "facts.list(apiVersion, kind, namespace): stored objects ('*' = every namespace)" },
  ],
};
