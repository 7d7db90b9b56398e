// API discovery: which resources the apiserver serves, at which versions, with which
// kinds and scopes. Aggregated discovery (apidiscovery.k8s.io/v2, GA since 1.30) answers
// in two requests; older servers get the per-group-version walk.
import type { KubeClient } from './client.js';

export interface ApiResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  /** True when `version` is the group's preferred version. */
  preferred: boolean;
}

export interface DiscoveryResult {
  resources: ApiResource[];
  /** Group -> preferred version. */
  preferredVersions: Map<string, string>;
  /** Group-versions that could not be read (stale aggregated APIs, errors): partial, not fatal. */
  errors: string[];
  durationMs: number;
}

const AGGREGATED_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

interface AggregatedList {
  kind?: string;
  items?: {
    metadata?: { name?: string };
    versions?: {
      version: string;
      freshness?: string;
      resources?: {
        resource: string;
        responseKind?: { group?: string; version?: string; kind?: string };
        scope?: string;
        verbs?: string[];
        shortNames?: string[];
      }[];
    }[];
  }[];
}

interface ResourceList {
  groupVersion?: string;
  resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[]; shortNames?: string[] }[];
}

interface GroupList {
  groups?: { name: string; versions: { groupVersion: string; version: string }[]; preferredVersion?: { version: string } }[];
}

export async function discover(client: KubeClient): Promise<DiscoveryResult> {
  const t0 = performance.now();
  const out: DiscoveryResult = { resources: [], preferredVersions: new Map(), errors: [], durationMs: 0 };
  const core = await client.request<AggregatedList>({ path: '/api', accept: AGGREGATED_ACCEPT });
  if (core?.kind === 'APIGroupDiscoveryList') {
    const apis = await client.request<AggregatedList>({ path: '/apis', accept: AGGREGATED_ACCEPT });
    addAggregated(out, core);
    addAggregated(out, apis);
  } else {
    await legacy(client, out);
  }
  out.durationMs = performance.now() - t0;
  return out;
}

function addAggregated(out: DiscoveryResult, list: AggregatedList): void {
  for (const g of list.items ?? []) {
    const group = g.metadata?.name ?? '';
    (g.versions ?? []).forEach((v, i) => {
      // Versions are listed in preference order.
      if (i === 0) out.preferredVersions.set(group, v.version);
      if (v.freshness === 'Stale') out.errors.push(`${group || 'core'}/${v.version}: discovery document is stale (aggregated API unavailable)`);
      for (const r of v.resources ?? []) {
        if (r.resource.includes('/')) continue;
        out.resources.push({
          group,
          version: v.version,
          resource: r.resource,
          kind: r.responseKind?.kind ?? '',
          namespaced: r.scope === 'Namespaced',
          verbs: r.verbs ?? [],
          shortNames: r.shortNames ?? [],
          preferred: i === 0,
        });
      }
    });
  }
}

async function legacy(client: KubeClient, out: DiscoveryResult): Promise<void> {
  const targets: { group: string; version: string; preferred: boolean }[] = [];
  const core = await client.request<{ versions?: string[] }>({ path: '/api' });
  (core?.versions ?? []).forEach((v, i) => targets.push({ group: '', version: v, preferred: i === 0 }));
  if (core?.versions?.[0]) out.preferredVersions.set('', core.versions[0]);
  const groups = await client.request<GroupList>({ path: '/apis' });
  for (const g of groups?.groups ?? []) {
    const pref = g.preferredVersion?.version ?? g.versions[0]?.version;
    if (pref) out.preferredVersions.set(g.name, pref);
    for (const v of g.versions) targets.push({ group: g.name, version: v.version, preferred: v.version === pref });
  }
  await Promise.all(
    targets.map(async (t) => {
      const path = t.group === '' ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
      try {
        const list = await client.request<ResourceList>({ path });
        for (const r of list?.resources ?? []) {
          if (r.name.includes('/')) continue;
          out.resources.push({
            group: t.group,
            version: t.version,
            resource: r.name,
            kind: r.kind,
            namespaced: r.namespaced,
            verbs: r.verbs ?? [],
            shortNames: r.shortNames ?? [],
            preferred: t.preferred,
          });
        }
      } catch (err) {
        out.errors.push(`${t.group || 'core'}/${t.version}: ${(err as Error).message}`);
      }
    }),
  );
}
