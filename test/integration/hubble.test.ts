// The Hubble client against a local Observer gRPC server speaking the same proto subset:
// DROPPED flows with and without denied-by fields arrive normalized; a simple injected
// correlator attributes them; the client reconnects (and resumes) when the server
// restarts; lost-event notices and slow handlers are handled within bounds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from 'prom-client';
import type { Attribution } from '../../engine/model.js';
import { attributeFlows, HubbleClient, LocalObserver, type FlowCorrelator, type NormalizedFlow, type WireFlow } from '../../runtime/hubble/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await register.getSingleMetric(name)?.get()) as { values: { labels: Record<string, string | number>; value: number }[] } | undefined;
  return (m?.values ?? []).filter((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((s, x) => s + x.value, 0);
}

let seq = 0;
function drop(over: Partial<WireFlow> & { secs?: number }): WireFlow {
  const { secs, ...rest } = over;
  seq++;
  return {
    uuid: `uuid-${seq}`,
    time: { seconds: String(secs ?? Math.floor(Date.now() / 1000)), nanos: seq },
    verdict: 'DROPPED',
    IP: { source: '10.0.1.5', destination: '10.0.2.7', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 40000 + seq, destination_port: 8080 } },
    source: { ID: 11, identity: 1001, namespace: 'team-b', labels: ['k8s:app=frontend', 'k8s:io.kubernetes.pod.namespace=team-b', 'k8s:io.cilium.k8s.policy.serviceaccount=frontend'], pod_name: 'frontend-6c9f-abcde', workloads: [{ name: 'frontend', kind: 'Deployment' }] },
    destination: { ID: 22, identity: 2002, namespace: 'team-a', labels: ['k8s:app=api', 'k8s:tier=backend', 'k8s:io.kubernetes.pod.namespace=team-a'], pod_name: 'api-7d4b-fghij', workloads: [{ name: 'api', kind: 'Deployment' }] },
    Type: 'L3_L4',
    traffic_direction: 'INGRESS',
    drop_reason_desc: 'POLICY_DENIED',
    drop_reason: 133,
    event_type: { type: 1, sub_type: 133 },
    is_reply: { value: false },
    Summary: 'TCP Flags: SYN',
    ...rest,
  };
}

/**
 * A stand-in for the correlate stage: trust Cilium's denied-by when present; otherwise
 * find the NetworkPolicy that selects the affected pod and allows nothing for the peer.
 */
const NETPOLS = [
  { id: 'networkpolicies.networking.k8s.io/team-a/default-deny-ingress', namespace: 'team-a', selects: {} as Record<string, string>, direction: 'ingress' as const },
  { id: 'networkpolicies.networking.k8s.io/team-c/egress-lockdown', namespace: 'team-c', selects: { app: 'batch' }, direction: 'egress' as const },
];
const correlator: FlowCorrelator = async (f: NormalizedFlow) => {
  const make = (constraintIds: string[], confidence: number, explanation: string): Attribution => ({
    id: `flow:${f.uuid}`,
    rule: { pack: 'test', rule: f.attributedByCilium ? 'cilium-denied-by' : 'computed-default-deny' },
    signal: { kind: 'flow', ref: f.uuid ?? '', namespace: (f.direction === 'egress' ? f.source : f.destination).namespace },
    constraintIds,
    confidence,
    severity: 'Warning',
    explanation,
    details: {},
  });
  if (f.deniedBy.length) {
    const p = f.deniedBy[0]!;
    const group = p.kind === 'NetworkPolicy' ? 'networkpolicies.networking.k8s.io' : p.namespace ? 'ciliumnetworkpolicies.cilium.io' : 'ciliumclusterwidenetworkpolicies.cilium.io';
    return [make([`${group}/${p.namespace ?? ''}/${p.name}`.replace('//', '/'), ], 0.99, `Cilium reports ${p.name} denied it`)];
  }
  const ep = f.direction === 'egress' ? f.source : f.destination;
  const hit = NETPOLS.find((n) => n.direction === f.direction && n.namespace === ep.namespace && Object.entries(n.selects).every(([k, v]) => ep.labels[k] === v));
  return hit ? [make([hit.id], 0.8, `${hit.id} selects the pod and allows no ${f.direction} for this peer`)] : [];
};

describe('Hubble client against a local Observer', () => {
  const observer = new LocalObserver();
  const flows: NormalizedFlow[] = [];
  const attributions: { a: Attribution; flow: NormalizedFlow }[] = [];
  const lost: number[] = [];
  let client: HubbleClient;

  beforeAll(async () => {
    await observer.start(0);
    const attribute = attributeFlows({ correlate: correlator, onAttribution: (a, flow) => attributions.push({ a, flow }) });
    client = new HubbleClient({
      address: observer.address,
      onFlow: async (f) => {
        flows.push(f);
        await attribute(f);
      },
      onLost: (n) => lost.push(n),
      backoff: { baseMs: 200, maxMs: 1000 },
      dedupeWindowMs: 0,
    });
    client.start();
    await until('the client to follow', () => observer.followerCount() === 1);
  });

  afterAll(async () => {
    await client.stop();
    await observer.stop();
  });

  it('asks for DROPPED flows, following', () => {
    expect(observer.requests[0]).toMatchObject({ follow: true, whitelist: [{ verdict: ['DROPPED'] }] });
  });

  it('receives drops with and without denied-by, normalized; forwarded flows are filtered out', async () => {
    flows.length = 0;
    attributions.length = 0;
    observer.push(drop({ uuid: 'default-deny-1' }));
    observer.push(
      drop({
        uuid: 'explicit-deny-1',
        drop_reason_desc: 'POLICY_DENY',
        drop_reason: 181,
        event_type: { type: 5, sub_type: 0 },
        ingress_denied_by: [{ name: 'deny-from-frontend', namespace: 'team-a', kind: 'CiliumNetworkPolicy', labels: ['k8s:io.cilium.k8s.policy.name=deny-from-frontend', 'k8s:io.cilium.k8s.policy.namespace=team-a'], revision: '7' }],
      }),
    );
    observer.push(drop({ uuid: 'forwarded-1', verdict: 'FORWARDED', drop_reason_desc: 'DROP_REASON_UNKNOWN', drop_reason: 0 }));
    observer.push(
      drop({
        uuid: 'egress-ccnp-1',
        traffic_direction: 'EGRESS',
        drop_reason_desc: 'POLICY_DENY',
        l4: { UDP: { source_port: 5353, destination_port: 53 } },
        source: { namespace: 'team-c', pod_name: 'batch-1', labels: ['k8s:app=batch'] },
        destination: { labels: ['reserved:world'], identity: 2 },
        destination_names: ['example.com'],
        IP: { source: '10.0.3.3', destination: '93.184.216.34', ipVersion: 'IPv4' },
        egress_denied_by: [{ name: 'no-dns-to-world', kind: 'CiliumClusterwideNetworkPolicy', labels: [] }],
      }),
    );
    observer.push(drop({ uuid: 'egress-default-1', traffic_direction: 'EGRESS', l4: { TCP: { source_port: 1, destination_port: 5432 } }, source: { namespace: 'team-c', pod_name: 'batch-2', labels: ['k8s:app=batch'] }, destination: { namespace: 'db', pod_name: 'pg-0', labels: ['k8s:app=postgres'] } }));
    await until('four flows', () => (flows.length >= 4 ? true : undefined));
    await until('four attributions', () => (attributions.length >= 4 ? true : undefined));
    expect(flows.map((f) => f.uuid)).toEqual(['default-deny-1', 'explicit-deny-1', 'egress-ccnp-1', 'egress-default-1']);

    const [dd, ex, eg] = flows as [NormalizedFlow, NormalizedFlow, NormalizedFlow];
    expect(dd).toMatchObject({
      verdict: 'DROPPED',
      dropReason: 'POLICY_DENIED',
      dropReasonCode: 133,
      direction: 'ingress',
      protocol: 'TCP',
      destinationPort: 8080,
      nodeName: 'node-1',
      isReply: false,
      eventType: 1,
      deniedBy: [],
      attributedByCilium: false,
      source: { namespace: 'team-b', podName: 'frontend-6c9f-abcde', labels: { app: 'frontend' }, workload: { kind: 'Deployment', name: 'frontend' }, identity: 1001, ip: '10.0.1.5' },
      destination: { namespace: 'team-a', podName: 'api-7d4b-fghij', labels: { app: 'api', tier: 'backend' }, namespaceLabels: {}, reserved: [] },
    });
    expect(dd.source.serviceAccount).toBe('frontend');
    expect(dd.destination.serviceAccount).toBeUndefined();
    expect(dd.source.labels).toEqual({ app: 'frontend' });
    expect(Date.parse(dd.time ?? '')).toBeGreaterThan(0); // the observer stamps every flow it is given
    expect(ex).toMatchObject({ dropReason: 'POLICY_DENY', dropReasonCode: 181, attributedByCilium: true, deniedBy: [{ name: 'deny-from-frontend', namespace: 'team-a', kind: 'CiliumNetworkPolicy', revision: '7' }] });
    expect(eg).toMatchObject({ direction: 'egress', protocol: 'UDP', destinationPort: 53, destination: { reserved: ['world'], names: ['example.com'], ip: '93.184.216.34' }, deniedBy: [{ name: 'no-dns-to-world', kind: 'CiliumClusterwideNetworkPolicy' }] });

    const byFlow = new Map(attributions.map(({ a, flow }) => [flow.uuid, a]));
    expect(byFlow.get('default-deny-1')).toMatchObject({ constraintIds: ['networkpolicies.networking.k8s.io/team-a/default-deny-ingress'], rule: { rule: 'computed-default-deny' }, signal: { kind: 'flow', namespace: 'team-a' } });
    expect(byFlow.get('explicit-deny-1')).toMatchObject({ constraintIds: ['ciliumnetworkpolicies.cilium.io/team-a/deny-from-frontend'], rule: { rule: 'cilium-denied-by' }, confidence: 0.99 });
    expect(byFlow.get('egress-ccnp-1')).toMatchObject({ constraintIds: ['ciliumclusterwidenetworkpolicies.cilium.io/no-dns-to-world'] });
    expect(byFlow.get('egress-default-1')).toMatchObject({ constraintIds: ['networkpolicies.networking.k8s.io/team-c/egress-lockdown'], signal: { namespace: 'team-c' } });
    expect(await metric('potoo_hubble_flows_total', { verdict: 'DROPPED', reason: 'POLICY_DENY' })).toBeGreaterThanOrEqual(2);
  });

  it('reconnects when the server restarts, and resumes without losing or repeating drops', async () => {
    const before = flows.length;
    const requestsBefore = observer.requests.length;
    const reconnectsBefore = await metric('potoo_hubble_reconnects_total');
    await observer.stop();
    await until('the client to notice', () => client.status().state === 'backoff' || client.status().state === 'connecting');
    // Drops happen while the client is away; the restarted server still has them buffered.
    observer.push(drop({ uuid: 'during-outage-1' }));
    await observer.start(observer.port);
    observer.push(drop({ uuid: 'during-outage-2' }));
    await until('reconnect', () => observer.followerCount() === 1, 15_000);
    observer.push(drop({ uuid: 'after-restart-1' }));
    await until('three new flows', () => (flows.length >= before + 3 ? true : undefined));
    await sleep(100);
    const fresh = flows.slice(before).map((f) => f.uuid);
    expect(fresh).toEqual(['during-outage-1', 'during-outage-2', 'after-restart-1']);
    const resumed = observer.requests.slice(requestsBefore).at(-1)!;
    expect(resumed.since).toBeDefined();
    expect(resumed.follow).toBe(true);
    expect(await metric('potoo_hubble_reconnects_total')).toBeGreaterThan(reconnectsBefore);
    expect(client.status().state).toBe('streaming');
  }, 30_000);

  it('reports lost events with a metric and a callback', async () => {
    const before = await metric('potoo_hubble_lost_events_total', { source: 'OBSERVER_EVENTS_QUEUE' });
    observer.pushLost(42);
    await until('lost callback', () => (lost.includes(42) ? true : undefined));
    expect((await metric('potoo_hubble_lost_events_total', { source: 'OBSERVER_EVENTS_QUEUE' })) - before).toBe(42);
  });

  it('tolerates unknown enum values and sparse flows (a pod that no longer exists)', async () => {
    const before = flows.length;
    observer.push({ uuid: 'sparse-1', verdict: 'DROPPED', drop_reason_desc: 999 as unknown as string, traffic_direction: 'INGRESS', destination: { labels: ['reserved:unmanaged'] } });
    await until('sparse flow', () => (flows.length > before ? true : undefined));
    expect(flows.at(-1)).toMatchObject({ uuid: 'sparse-1', dropReason: '999', protocol: 'unknown', destination: { reserved: ['unmanaged'], labels: {} }, source: { labels: {} } });
  });
});

describe('Hubble client flow control and dedupe', () => {
  it('a slow handler pauses the stream instead of buffering without bound; nothing is lost', async () => {
    const observer = new LocalObserver(10_000);
    await observer.start(0);
    let handled = 0;
    let maxPending = 0;
    let inHandler = 0;
    const client = new HubbleClient({
      address: observer.address,
      maxBuffered: 50,
      dedupeWindowMs: 0,
      onFlow: async () => {
        inHandler++;
        maxPending = Math.max(maxPending, inHandler);
        if (handled % 10 === 0) await sleep(2);
        handled++;
        inHandler--;
      },
    });
    client.start();
    await until('follow', () => observer.followerCount() === 1);
    const pausesBefore = await metric('potoo_hubble_backpressure_pauses_total');
    for (let i = 0; i < 2000; i++) observer.push(drop({ uuid: `bulk-${i}` }));
    await until('all handled', () => (handled === 2000 ? true : undefined), 20_000);
    expect(maxPending).toBe(1);
    expect(await metric('potoo_hubble_backpressure_pauses_total')).toBeGreaterThan(pausesBefore);
    await client.stop();
    await observer.stop();
  }, 30_000);

  it('retransmits of one drop within the window are counted, not repeated', async () => {
    const observer = new LocalObserver();
    await observer.start(0);
    const got: NormalizedFlow[] = [];
    const client = new HubbleClient({ address: observer.address, onFlow: (f) => void got.push(f), dedupeWindowMs: 60_000 });
    client.start();
    await until('follow', () => observer.followerCount() === 1);
    const base = drop({});
    for (let i = 0; i < 5; i++) observer.push({ ...base, uuid: `retx-${i}`, l4: { TCP: { source_port: 40001, destination_port: 8080 } } });
    observer.push(drop({ uuid: 'other-port', l4: { TCP: { source_port: 1, destination_port: 9090 } } }));
    await until('two distinct', () => (got.length >= 2 ? true : undefined));
    await sleep(100);
    expect(got.map((f) => f.uuid)).toEqual(['retx-0', 'other-port']);
    await client.stop();
    await observer.stop();
  });
});
