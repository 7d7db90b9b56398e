// The Hubble client's per-flow path without a server: messages are handed to it as the
// stream would, with Date.now pinned where the dedupe window matters.
import { register } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HubbleClient } from './client.js';
import { normalizeFlow, type NormalizedFlow } from './normalize.js';
import { toTimestamp, type GetFlowsRequest, type GetFlowsResponse, type WireFlow } from './proto.js';

vi.mock('./normalize.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./normalize.js')>();
  return { ...real, normalizeFlow: vi.fn(real.normalizeFlow) };
});

const normalizeCalls = (): number => vi.mocked(normalizeFlow).mock.calls.length;

async function metric(name: string): Promise<number> {
  const m = (await register.getSingleMetric(name)?.get()) as { values: { value: number }[] } | undefined;
  return (m?.values ?? []).reduce((s, x) => s + x.value, 0);
}

let seq = 0;
/** One TCP SYN dropped by default deny; repeats differ only in uuid, source port and time. */
function drop(over: Partial<WireFlow> = {}, at = new Date()): WireFlow {
  seq++;
  return {
    uuid: `uuid-${seq}`,
    time: toTimestamp(at),
    verdict: 'DROPPED',
    IP: { source: '10.0.1.5', destination: '10.0.2.7', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 40000 + (seq % 20000), destination_port: 8080 } },
    source: { identity: 1001, namespace: 'team-b', labels: ['k8s:app=frontend'], pod_name: 'frontend-abcde', workloads: [{ name: 'frontend', kind: 'Deployment' }] },
    destination: { identity: 2002, namespace: 'team-a', labels: ['k8s:app=api'], pod_name: 'api-fghij', workloads: [{ name: 'api', kind: 'Deployment' }] },
    traffic_direction: 'INGRESS',
    drop_reason_desc: 'POLICY_DENIED',
    drop_reason: 133,
    ...over,
  };
}

function harness(opts: { dedupeWindowMs?: number; dedupeMaxKeys?: number } = {}): { client: HubbleClient; got: NormalizedFlow[]; push: (f: WireFlow) => void; settle: () => Promise<void> } {
  const got: NormalizedFlow[] = [];
  const client = new HubbleClient({ address: 'unused:0', onFlow: (f) => void got.push(f), ...opts });
  const onMessage = (client as unknown as { onMessage(m: GetFlowsResponse): void }).onMessage.bind(client);
  return {
    client,
    got,
    push: (flow) => onMessage({ flow, node_name: 'node-1' }),
    settle: async () => {
      for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
    },
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Hubble client dedupe', () => {
  it('repeats inside the window are counted and dropped before they are normalized', async () => {
    const { client, got, push, settle } = harness({ dedupeWindowMs: 60_000 });
    const flowsBefore = await metric('potoo_hubble_flows_total');
    const suppressedBefore = await metric('potoo_hubble_flows_suppressed_total');
    const normalizedBefore = normalizeCalls();
    const t0 = Date.parse('2026-11-25T20:00:00.000Z');
    for (let i = 0; i < 1000; i++) push(drop({}, new Date(t0 + i)));
    await settle();
    expect(got.length).toBe(1);
    expect(got[0]).toMatchObject({ verdict: 'DROPPED', dropReason: 'POLICY_DENIED', direction: 'ingress', destinationPort: 8080, nodeName: 'node-1', time: new Date(t0).toISOString() });
    expect(normalizeCalls() - normalizedBefore).toBe(1);
    // Still counted, and still moving the resume point.
    expect((await metric('potoo_hubble_flows_total')) - flowsBefore).toBe(1000);
    expect((await metric('potoo_hubble_flows_suppressed_total')) - suppressedBefore).toBe(999);
    expect(client.status().lastSeen).toBe(new Date(t0 + 999).toISOString());
  });

  it('the window: refused until exactly windowMs after the last admission; refusals do not extend it', async () => {
    const now = vi.spyOn(Date, 'now');
    const { got, push, settle } = harness({ dedupeWindowMs: 1000 });
    const t0 = 1_700_000_000_000;
    const at = (ms: number, over: Partial<WireFlow> = {}): void => {
      now.mockReturnValue(t0 + ms);
      push(drop({ ...over, Summary: String(ms) }));
    };
    at(0);
    at(500);
    at(999);
    at(1000); // admitted again: now - prev === window
    at(1999);
    at(2000);
    at(2000, { l4: { TCP: { source_port: 1, destination_port: 9090 } } }); // another port: another drop
    await settle();
    expect(got.map((f) => f.summary)).toEqual(['0', '1000', '2000', '2000']);
    expect(got.at(-1)?.destinationPort).toBe(9090);
  });

  it('what counts as the same drop: peers by workload (else pod, IP, reserved identity), direction, protocol, destination port, reason, denying policies', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    const { got, push, settle } = harness({ dedupeWindowMs: 60_000 });
    const base = drop();
    const variants: [string, Partial<WireFlow>, boolean][] = [
      ['base', {}, true],
      ['other source port, pod, IP, labels, identity, summary, node', { l4: { TCP: { source_port: 1, destination_port: 8080 } }, source: { ...base.source, pod_name: 'frontend-zzzzz', labels: [], identity: 9 }, IP: { source: '10.9.9.9', destination: '10.0.2.7' }, Summary: 'x', node_name: 'n2' }, false],
      ['other destination port', { l4: { TCP: { source_port: 1, destination_port: 8081 } } }, true],
      ['UDP', { l4: { UDP: { source_port: 1, destination_port: 8080 } } }, true],
      ['egress', { traffic_direction: 'EGRESS' }, true],
      ['numeric INGRESS is ingress', { traffic_direction: 1 }, false],
      ['other reason', { drop_reason_desc: 'POLICY_DENY' }, true],
      ['denied by a policy', { drop_reason_desc: 'POLICY_DENY', ingress_denied_by: [{ name: 'deny', namespace: 'team-a' }] }, true],
      ['same policy, other revision', { drop_reason_desc: 'POLICY_DENY', ingress_denied_by: [{ name: 'deny', namespace: 'team-a', revision: '9' }] }, false],
      ['other workload, same pod', { source: { ...base.source, workloads: [{ name: 'other', kind: 'Deployment' }] } }, true],
      ['no workload: by pod', { source: { namespace: 'team-b', pod_name: 'frontend-abcde' } }, true],
      ['no workload or pod: by IP', { source: { namespace: 'team-b' } }, true],
      ['no IP either: by reserved identity', { source: { labels: ['reserved:world'] }, IP: { destination: '10.0.2.7' } }, true],
      ['same reserved identity, other labels', { source: { labels: ['reserved:world', 'cidr:1.2.3.4/32'] }, IP: { destination: '10.0.2.7' } }, false],
    ];
    for (const [name, over] of variants) push({ ...base, uuid: name, ...over });
    await settle();
    expect(got.map((f) => f.uuid)).toEqual(variants.filter(([, , fresh]) => fresh).map(([name]) => name));
  });

  it('a flow without a time: deduped on our own clock, handed on without one, and the resume point stays where the server put it', async () => {
    const now = vi.spyOn(Date, 'now');
    const { client, got, push, settle } = harness({ dedupeWindowMs: 1000 });
    const request = (): GetFlowsRequest => (client as unknown as { request(): GetFlowsRequest }).request();
    const serverTime = new Date('2026-11-25T20:00:00.000Z');
    // Our clock is an hour ahead of the server's: a resume from it would skip an hour of flows.
    const ours = serverTime.getTime() + 3_600_000;
    const timeless = (uuid: string): WireFlow => {
      const { time: _time, ...f } = drop({ uuid });
      return f;
    };
    now.mockReturnValue(ours);
    push(timeless('t1'));
    expect(client.status().lastSeen).toBeUndefined();
    expect(request().since).toBeUndefined();
    push(drop({ uuid: 'timed', l4: { TCP: { source_port: 1, destination_port: 9090 } } }, serverTime));
    push(timeless('t2')); // a repeat of t1 inside the window
    now.mockReturnValue(ours + 1000);
    push(timeless('t3')); // the window has passed
    await settle();
    expect(got.map((f) => [f.uuid, f.time])).toEqual([
      ['t1', undefined],
      ['timed', serverTime.toISOString()],
      ['t3', undefined],
    ]);
    expect(client.status().lastSeen).toBe(serverTime.toISOString());
    expect(request().since).toEqual(toTimestamp(serverTime));
  });

  it('a uuid seen before (resume overlap) is skipped without counting as a suppressed repeat', async () => {
    const { got, push, settle } = harness({ dedupeWindowMs: 0 });
    const suppressedBefore = await metric('potoo_hubble_flows_suppressed_total');
    const f = drop();
    push(f);
    push(f);
    push({ ...f, uuid: 'fresh' });
    await settle();
    expect(got.map((x) => x.uuid)).toEqual([f.uuid, 'fresh']);
    expect((await metric('potoo_hubble_flows_suppressed_total')) - suppressedBefore).toBe(0);
  });

  it('window 0 turns dedupe off', async () => {
    const { got, push, settle } = harness({ dedupeWindowMs: 0 });
    for (let i = 0; i < 5; i++) push(drop());
    await settle();
    expect(got.length).toBe(5);
  });

  it('admitting a drop costs O(1) however many distinct drops the window holds (no scan of the key map)', async () => {
    const { got, push, settle } = harness({ dedupeWindowMs: 60_000 });
    const n = 20_000;
    const flows = Array.from({ length: n }, (_, i) => drop({ destination: { namespace: 'team-a', pod_name: `api-${i}` } }));
    // Count every step of every Map iterator while the flows go in: a scan of the key map
    // per admission (past 10k keys) is hundreds of millions of steps; give up well before.
    const mapIterator = Object.getPrototypeOf(new Map().entries()) as { next: (this: unknown) => unknown };
    const realNext = mapIterator.next;
    let steps = 0;
    const budget = 4 * n;
    mapIterator.next = function (this: unknown) {
      if (++steps > budget) throw new Error(`more than ${budget} Map iterator steps for ${n} flows`);
      return realNext.call(this);
    };
    try {
      for (const f of flows) push(f);
    } finally {
      mapIterator.next = realNext;
    }
    await settle();
    expect(got.length).toBe(n);
    expect(steps).toBeLessThanOrEqual(budget);
  });

  it('dedupeMaxKeys bounds the memory: the oldest drops are forgotten first', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    const { got, push, settle } = harness({ dedupeWindowMs: 60_000, dedupeMaxKeys: 2 });
    const to = (port: number, uuid: string): WireFlow => drop({ uuid, l4: { TCP: { source_port: 1, destination_port: port } } });
    push(to(1, 'a'));
    push(to(2, 'b'));
    push(to(2, 'b-repeat'));
    push(to(3, 'c')); // over the cap: port 1 is forgotten
    push(to(1, 'a-again'));
    push(to(3, 'c-repeat'));
    await settle();
    expect(got.map((f) => f.uuid)).toEqual(['a', 'b', 'c', 'a-again']);
  });
});
