// A one-shot read of the cluster for CLI commands that explain live (`potoo explain`
// without -f): discover the API, pick the resources the controller would watch (policy
// GVRs the packs' adapters claim, workloads, namespaces), list each once and hand the
// objects over as if they came from a dump. No informers, no writes.
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../../engine/model.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import type { SourcedObject } from '../../engine/source/manifests.js';
import { KubeApiError, KubeClient } from '../kube/client.js';
import { discover } from '../kube/discovery.js';
import { collectionPath } from '../kube/paths.js';
import { knownPolicyResources, selectResources } from '../controller/selection.js';

export interface LiveReadOptions {
  /** Limit namespaced resources to this namespace (cluster-scoped ones are always read). */
  namespace?: string;
  /** Per-request deadline (default 15 s). */
  timeoutMs?: number;
  /** Objects per list page (default 500). */
  pageSize?: number;
}

export interface LiveReadResult {
  objects: SourcedObject[];
  /** Resources that could not be listed (forbidden, gone), with why: reported, not fatal. */
  skipped: string[];
  server: string;
  resources: number;
}

export async function readClusterObjects(kc: KubeConfig, packs: readonly CompiledPack[], opts: LiveReadOptions = {}): Promise<LiveReadResult> {
  const client = await KubeClient.create(kc, { userAgent: 'potoo-cli' });
  try {
    const d = await discover(client);
    const { selected } = selectResources({ resources: d.resources, preferredVersions: d.preferredVersions, crds: [], known: knownPolicyResources(packs), profiles: [] });
    const skipped = [...d.errors];
    const objects: SourcedObject[] = [];
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const limit = opts.pageSize ?? 500;
    // A few lists at a time: fast on a big cluster, gentle on the apiserver.
    const queue = [...selected];
    const worker = async (): Promise<void> => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        const ns = r.namespaced ? opts.namespace || undefined : undefined;
        const kind = r.kind;
        const apiVersion = r.gvr.group ? `${r.gvr.group}/${r.gvr.version}` : r.gvr.version;
        const where = `${apiVersion}/${r.gvr.resource}`;
        let cont: string | undefined;
        try {
          do {
            const page = await client.request<{ items?: KubeObject[]; metadata?: { continue?: string } }>({
              path: collectionPath(r.gvr, ns),
              query: { limit: String(limit), ...(cont ? { continue: cont } : {}) },
              timeoutMs,
              verb: 'list',
            });
            for (const item of page.items ?? []) objects.push({ object: { ...item, apiVersion, kind }, file: `cluster:${where}`, line: 0 });
            cont = page.metadata?.continue || undefined;
          } while (cont);
        } catch (err) {
          const status = err instanceof KubeApiError ? ` (${err.status})` : '';
          skipped.push(`${where}${status}: ${(err as Error).message.split('\n')[0]}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, () => worker()));
    return { objects, skipped, server: client.server.origin, resources: selected.length };
  } finally {
    client.close();
  }
}
