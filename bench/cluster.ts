// Shared by the live Event benchmarks (webhook-event-sink, live-correlate): post core
// Warning Events at a fixed rate and time Potoo's events.k8s.io Events arriving on a watch.
import type { KubeClient, WatchEvent } from '../runtime/kube/client.js';

interface PotooEvent {
  reportingController?: string;
  reason?: string;
  regarding?: { name?: string; namespace?: string };
}

/**
 * Watches `path` for Potoo's Events (optionally only those with `reason`) and records when
 * each regarded object (`namespace/name`) was first seen. `done` resolves once `count`
 * were seen, or after `timeoutMs` from `waitDone()`'s call.
 */
export async function watchPotooEvents(
  client: KubeClient,
  path: string,
  count: number,
  reason?: string,
): Promise<{ seen: Map<string, number>; waitDone: (timeoutMs: number) => Promise<void> }> {
  const seen = new Map<string, number>();
  let allSeen: () => void = () => undefined;
  const done = new Promise<void>((r) => (allSeen = r));
  const watch = client.watch(
    path,
    {},
    {
      onEvent: (ev: WatchEvent) => {
        const o = ev.object as PotooEvent;
        if (ev.type !== 'ADDED' || o.reportingController !== 'potoo.io/controller' || (reason !== undefined && o.reason !== reason) || !o.regarding?.name) return;
        const k = `${o.regarding.namespace}/${o.regarding.name}`;
        if (!seen.has(k)) seen.set(k, performance.now());
        if (seen.size >= count) allSeen();
      },
      onDecodeError: () => undefined,
      onClose: () => undefined,
    },
    { idleTimeoutMs: 120_000 },
  );
  await new Promise((r) => setTimeout(r, 500));
  return {
    seen,
    waitDone: async (timeoutMs) => {
      await Promise.race([done, new Promise((r) => setTimeout(r, timeoutMs))]);
      watch.abort();
    },
  };
}

/**
 * Posts `count` ReplicaSet-controller FailedCreate Warnings (a quota refusal) on the
 * Deployments `target(i)` names, `rate` per second, and returns when each was sent, by
 * `namespace/name`.
 */
export async function postQuotaWarnings(client: KubeClient, count: number, rate: number, target: (i: number) => { namespace: string; name: string }): Promise<Map<string, number>> {
  const sent = new Map<string, number>();
  const t0 = performance.now();
  const posts: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const { namespace: ns, name } = target(i);
    sent.set(`${ns}/${name}`, performance.now());
    const now = new Date().toISOString();
    posts.push(
      client.create(`/api/v1/namespaces/${ns}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${name}.quota`, namespace: ns },
        involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: ns },
        type: 'Warning',
        reason: 'FailedCreate',
        message: `Error creating: pods "${name}-x" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=4, limited: requests.cpu=4`,
        source: { component: 'replicaset-controller' },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      }),
    );
  }
  await Promise.all(posts);
  return sent;
}

/** Sorted latencies (ms) from send to first sight, for the keys that were seen. */
export function latencies(sent: ReadonlyMap<string, number>, seen: ReadonlyMap<string, number>): number[] {
  return [...sent].filter(([k]) => seen.has(k)).map(([k, t]) => seen.get(k)! - t).sort((a, b) => a - b);
}
