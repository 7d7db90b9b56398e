import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DedupeWindow } from './dedupe.js';
import { affectedEndpoint, flowHead, flowKey, normalizeFlow, wireFlowKey } from './normalize.js';
import { requestMatches } from './observer-server.js';
import { ciliumEndpointLabels } from '../../engine/cilium.js';
import { DROP_REASON_NAMES, VERDICT_NAMES } from '../../engine/hubble.js';
import { flowSignal, type FlowEndpoint as SignalEndpoint, type FlowSignal } from '../../engine/signals.js';
import { fromTimestamp, packageDefinition, toTimestamp, type WireEndpoint, type WireFlow, type WirePolicy } from './proto.js';

describe('Hubble proto subset', () => {
  it('loads, with the public method path', () => {
    const def = packageDefinition();
    const svc = def['observer.Observer'] as unknown as { GetFlows: { path: string; responseStream: boolean } };
    expect(svc.GetFlows.path).toBe('/observer.Observer/GetFlows');
    expect(svc.GetFlows.responseStream).toBe(true);
  });

  it("engine/hubble.ts names verdicts and drop reasons as flow.proto's enums do", () => {
    const def = packageDefinition() as unknown as Record<string, { type: { value: { name: string; number: number }[] } }>;
    const values = (e: string): Record<number, string> => Object.fromEntries(def[e]!.type.value.map((v) => [v.number, v.name]));
    expect({ ...VERDICT_NAMES }).toEqual(values('flow.Verdict'));
    expect({ 0: 'DROP_REASON_UNKNOWN', ...DROP_REASON_NAMES }).toEqual(values('flow.DropReason'));
  });

  it('round-trips timestamps', () => {
    const d = new Date('2026-11-25T20:00:01.234Z');
    expect(fromTimestamp(toTimestamp(d))?.toISOString()).toBe(d.toISOString());
    expect(fromTimestamp(undefined)).toBeUndefined();
  });
});

describe('flow normalization', () => {
  it('numeric enums from a newer or older server read like names', () => {
    const f = normalizeFlow({ verdict: 2, traffic_direction: 2, drop_reason_desc: 181, source: { namespace: 'a', labels: ['k8s:app=x'] } } as WireFlow)!;
    expect(f).toMatchObject({ verdict: 'DROPPED', direction: 'egress', dropReason: 'POLICY_DENY', dropReasonCode: 181 });
    expect(affectedEndpoint(f).namespace).toBe('a');
    // A number flow.proto does not name (a newer Cilium's) stays a number.
    expect(normalizeFlow({ verdict: 9, drop_reason_desc: 999 })).toMatchObject({ verdict: '9', dropReason: '999', dropReasonCode: 999 });
  });

  it('falls back to the numeric drop_reason when the description is absent or DROP_REASON_UNKNOWN', () => {
    expect(normalizeFlow({ verdict: 'DROPPED', drop_reason: 133 })).toMatchObject({ dropReason: 'POLICY_DENIED', dropReasonCode: 133 });
    expect(normalizeFlow({ verdict: 'DROPPED', drop_reason_desc: 'DROP_REASON_UNKNOWN', drop_reason: 181 })).toMatchObject({ dropReason: 'POLICY_DENY', dropReasonCode: 181 });
    expect(normalizeFlow({ verdict: 'DROPPED', drop_reason: 999 })).toMatchObject({ dropReason: '999', dropReasonCode: 999 });
  });

  it('drop_reason_desc wins over the deprecated drop_reason when they disagree', () => {
    expect(normalizeFlow({ verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', drop_reason: 181 })).toMatchObject({ dropReason: 'POLICY_DENIED', dropReasonCode: 133 });
    expect(normalizeFlow({ verdict: 'DROPPED', drop_reason_desc: 181, drop_reason: 133 })).toMatchObject({ dropReason: 'POLICY_DENY', dropReasonCode: 181 });
    // A name not listed here: drop_reason gives its number, unless that number names another reason.
    expect(normalizeFlow({ verdict: 'DROPPED', drop_reason_desc: 'NEW_REASON', drop_reason: 250 })).toMatchObject({ dropReason: 'NEW_REASON', dropReasonCode: 250 });
    const n = normalizeFlow({ verdict: 'DROPPED', drop_reason_desc: 'NEW_REASON', drop_reason: 181 })!;
    expect(n.dropReason).toBe('NEW_REASON');
    expect(n.dropReasonCode).toBeUndefined();
  });

  it('a flow without a time or a verdict: no time (never "now"), VERDICT_UNKNOWN', () => {
    const n = normalizeFlow({ source: { namespace: 'a' } })!;
    expect(n.time).toBeUndefined();
    expect('time' in n).toBe(false);
    expect(n.verdict).toBe('VERDICT_UNKNOWN');
    expect(flowHead({})).toEqual({ verdict: 'VERDICT_UNKNOWN' });
    // An unset Timestamp (no seconds), or one past year 9999, is no time either.
    expect(normalizeFlow({ time: { nanos: 5 } })!.time).toBeUndefined();
    expect(normalizeFlow({ time: { seconds: '1e300' } })!.time).toBeUndefined();
    expect(normalizeFlow({ time: { seconds: 1e15 } })!.time).toBeUndefined();
    expect(normalizeFlow({ time: { seconds: '1764064800', nanos: 123_456_789 } })!.time).toBe('2025-11-25T10:00:00.123Z');
  });

  it('never throws, whatever the decoder hands over', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        const f = normalizeFlow(v as WireFlow);
        if (f) expect(typeof flowKey(f)).toBe('string');
      }),
    );
  });

  it('whitelist filters: OR across filters, AND within one, namespace prefixes', () => {
    const flow: WireFlow = { verdict: 'DROPPED', source: { namespace: 'a', pod_name: 'p' }, destination: { namespace: 'b', pod_name: 'q' } };
    expect(requestMatches({ whitelist: [{ verdict: ['DROPPED'] }] }, flow)).toBe(true);
    expect(requestMatches({ whitelist: [{ verdict: ['FORWARDED'] }] }, flow)).toBe(false);
    expect(requestMatches({ whitelist: [{ verdict: ['DROPPED'], source_pod: ['b/'] }, { verdict: ['DROPPED'], destination_pod: ['b/'] }] }, flow)).toBe(true);
    expect(requestMatches({ whitelist: [{ verdict: ['DROPPED'], source_pod: ['c/'] }] }, flow)).toBe(false);
    expect(requestMatches({ blacklist: [{ source_pod: ['a/'] }] }, flow)).toBe(false);
  });
});

// Wire flows as the decoder hands them over, any field missing, drawn from small pools
// so that the interesting coincidences (same workload, other pod...) happen often.
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
const name = fc.constantFrom('', 'a', 'b', 'api', 'frontend');
const label = fc.oneof(
  fc.constantFrom('reserved:world', 'reserved:host', 'reserved:kube-apiserver', 'reserved:unmanaged=', 'reserved:x=y', 'reserved:=x', 'reserved:', 'reserved'),
  fc.constantFrom('k8s:app=api', 'k8s:io.cilium.k8s.policy.serviceaccount=sa', 'cidr:1.2.3.4/32', 'app=x', ':odd', ''),
  // The namespace from Cilium's pseudo-label, reserved short forms, sources a selector leaves open.
  fc.constantFrom('k8s:io.kubernetes.pod.namespace=a', 'any:io.kubernetes.pod.namespace=b', '$host', 'reserved.world', 'any:app=x', 'unspec:tier=y'),
  fc.string({ maxLength: 12 }),
);
const endpointArb: fc.Arbitrary<WireEndpoint> = fc.record(
  {
    namespace: name,
    pod_name: name,
    identity: fc.nat(5),
    labels: fc.array(label, { maxLength: 4 }),
    workloads: fc.array(fc.record({ name: maybe(name), kind: maybe(fc.constantFrom('', 'Deployment', 'StatefulSet')) }, { requiredKeys: [] }), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
// Older Hubble versions name a denying policy only in its labels; other sources never name it.
const policyLabel = fc.constantFrom(
  'k8s:io.cilium.k8s.policy.name=from-label',
  'io.cilium.k8s.policy.name=unspec-label',
  'k8s:io.cilium.k8s.policy.namespace=b',
  'k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy',
  'container:io.cilium.k8s.policy.name=not-a-name',
  'k8s:io.cilium.k8s.policy.name=',
);
const policyArb: fc.Arbitrary<WirePolicy> = fc.record({ name: maybe(name), namespace: maybe(name), kind: maybe(fc.constantFrom('CiliumNetworkPolicy', 'NetworkPolicy')), revision: maybe(fc.constantFrom('0', '3')), labels: maybe(fc.array(fc.oneof(fc.string({ maxLength: 4 }), policyLabel), { maxLength: 2 })) }, { requiredKeys: [] });
const ports = fc.record({ source_port: maybe(fc.nat(3)), destination_port: maybe(fc.nat(3)) }, { requiredKeys: [] });
const wireFlowArb: fc.Arbitrary<WireFlow> = fc.record(
  {
    uuid: fc.constantFrom('u1', 'u2', ''),
    time: fc.record({ seconds: fc.oneof(fc.nat(2_000_000_000), fc.constant('1700000000')), nanos: fc.nat(999_999_999) }, { requiredKeys: [] }),
    verdict: fc.constantFrom('DROPPED', 'FORWARDED', 'VERDICT_UNKNOWN', '', 0, 2, 9),
    drop_reason: fc.constantFrom(0, 133, 181, 250),
    drop_reason_desc: fc.constantFrom('POLICY_DENIED', 'POLICY_DENY', 'DROP_REASON_UNKNOWN', 'NEW_REASON', 0, 181, 999),
    traffic_direction: fc.constantFrom('INGRESS', 'EGRESS', 'TRAFFIC_DIRECTION_UNKNOWN', 0, 1, 2, 7),
    IP: fc.record({ source: maybe(fc.constantFrom('', '10.0.0.1', '10.0.0.2')), destination: maybe(fc.constantFrom('', '10.0.0.1', '10.0.0.2')) }, { requiredKeys: [] }),
    l4: fc.record({ TCP: ports, UDP: ports, SCTP: ports, ICMPv4: fc.record({ type: fc.nat(3), code: fc.nat(3) }), ICMPv6: fc.constant({}) }, { requiredKeys: [] }),
    source: endpointArb,
    destination: endpointArb,
    source_names: fc.array(fc.constantFrom('example.com', 'x.org'), { maxLength: 2 }),
    ingress_denied_by: fc.array(policyArb, { maxLength: 2 }),
    egress_denied_by: fc.array(policyArb, { maxLength: 2 }),
    node_name: name,
    Summary: fc.string({ maxLength: 5 }),
  },
  { requiredKeys: [] },
);

describe('dedupe key from the wire flow', () => {
  it('equals flowKey of the normalized flow, for plausible flows', () => {
    fc.assert(
      fc.property(wireFlowArb, (f) => {
        expect(wireFlowKey(f)).toBe(flowKey(normalizeFlow(f)!));
        expect(wireFlowKey(f, flowHead(f))).toBe(flowKey(normalizeFlow(f, 'n', flowHead(f))!));
      }),
      { numRuns: 2000 },
    );
  });

  it('equals flowKey of the normalized flow, whatever the decoder hands over', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        const f = normalizeFlow(v as WireFlow);
        if (f) expect(wireFlowKey(v as WireFlow)).toBe(flowKey(f));
      }),
    );
  });

  it('the head is what normalization reports', () => {
    fc.assert(
      fc.property(wireFlowArb, (f) => {
        const head = flowHead(f);
        const n = normalizeFlow(f, undefined, head)!;
        const { time, verdict, dropReason, dropReasonCode } = n;
        expect(JSON.parse(JSON.stringify({ time, verdict, dropReason, dropReasonCode }))).toStrictEqual(head);
        // Without a head it computes the same, a flow without a time included (no "now").
        expect(normalizeFlow(f)).toStrictEqual(n);
      }),
    );
  });
});

// The live stream hands runtime/controller a NormalizedFlow, which the correlate stage
// reads with engine/signals.ts flowSignal; `potoo explain --flow` hands flowSignal
// Hubble's JSON. Either way the endpoint must come out the same.
describe('an endpoint from the live stream is the endpoint flowSignal reads from Hubble JSON', () => {
  const signalOf = (f: unknown): { source: SignalEndpoint; destination: SignalEndpoint; namespace: string } => {
    const r = flowSignal(f);
    if (!r.ok) throw new Error(r.error);
    return { source: r.signal.source, destination: r.signal.destination, namespace: r.signal.namespace };
  };
  const bothWays = (f: WireFlow): ReturnType<typeof signalOf> => {
    const direct = signalOf(f);
    expect(signalOf(normalizeFlow(f))).toEqual(direct);
    return direct;
  };

  it('k8s, any and unspec labels, pseudo-labels, reserved identities in every spelling', () => {
    const source: WireEndpoint = {
      identity: 4242,
      pod_name: 'web-1',
      workloads: [{ kind: 'Deployment', name: 'web' }],
      labels: [
        'k8s:app=web',
        'any:tier=frontend',
        'unspec:track=stable',
        'k8s:reserved.example.com/team=payments',
        'k8s:io.kubernetes.pod.namespace=shop',
        'k8s:io.cilium.k8s.namespace.labels.team=a',
        'k8s:io.cilium.k8s.policy.serviceaccount=web-sa',
        'k8s:io.cilium.k8s.policy.cluster=default',
        'k8s:io.kubernetes.pod.name=web-1',
        'container:id=abc',
      ],
    };
    const destination: WireEndpoint = { identity: 2, labels: ['reserved:world', '$host', 'reserved.kube-apiserver', 'reserved:=remote-node', 'reserved:world', 'cidr:1.2.3.4/32'] };
    const f: WireFlow = { verdict: 'DROPPED', traffic_direction: 'EGRESS', IP: { source: '10.0.0.1', destination: '1.2.3.4' }, l4: { TCP: { destination_port: 443 } }, source, destination };
    const got = bothWays(f);
    expect(got.source).toEqual({
      namespace: 'shop',
      pod: 'web-1',
      labels: { app: 'web', tier: 'frontend', track: 'stable', 'reserved.example.com/team': 'payments' },
      namespaceLabels: { team: 'a' },
      reserved: [],
      serviceAccount: 'web-sa',
      ip: '10.0.0.1',
      identity: 4242,
      workload: { kind: 'Deployment', name: 'web' },
    });
    expect(got.destination).toMatchObject({ namespace: '', labels: {}, reserved: ['world', 'host', 'kube-apiserver', 'remote-node'], serviceAccount: '' });
    expect(got.namespace).toBe('shop');

    // The normalized flow itself says the same.
    const n = normalizeFlow(f)!;
    expect(n.source).toMatchObject({ namespace: 'shop', namespaceLabels: { team: 'a' }, serviceAccount: 'web-sa', reserved: [] });
    // A key that would read as naming a source keeps its `k8s:` (engine/cilium.ts ciliumLabelMap).
    expect(n.source.labels).toEqual({ app: 'web', tier: 'frontend', track: 'stable', 'k8s:reserved.example.com/team': 'payments' });
    expect(n.destination.reserved).toEqual(['world', 'host', 'kube-apiserver', 'remote-node']);
  });

  it('for any labels, with or without the endpoint namespace', () => {
    const anyLabel = fc.oneof(
      label,
      fc.constantFrom('k8s:reserved.x=1', 'any:$odd=2', 'k8s:a:b=c', 'k8s:__proto__=p', 'k8s:io.cilium.k8s.namespace.labels.team=t', 'any:io.cilium.k8s.namespace.labels.__proto__=q', 'any:io.cilium.k8s.policy.serviceaccount=other', 'reserved:=health'),
      fc.tuple(fc.constantFrom('k8s', 'any', 'unspec', 'reserved', 'container', '', '$'), fc.string({ maxLength: 6 }), fc.string({ maxLength: 4 })).map(([s, k, v]) => `${s}${s && s !== '$' ? ':' : ''}${k}=${v}`),
    );
    const ep: fc.Arbitrary<WireEndpoint> = fc.record({ namespace: fc.constantFrom('', 'shop'), pod_name: fc.constantFrom('', 'p'), labels: fc.array(anyLabel, { maxLength: 8 }) }, { requiredKeys: ['labels'] });
    fc.assert(
      fc.property(ep, ep, fc.constantFrom('INGRESS', 'EGRESS'), (source, destination, dir) => {
        const f: WireFlow = { verdict: 'DROPPED', traffic_direction: dir, source, destination };
        const got = bothWays(f);
        // And the normalized endpoint's fields are the ones Cilium's labels give.
        const n = normalizeFlow(f)!;
        for (const [wire, norm, sig] of [[source, n.source, got.source], [destination, n.destination, got.destination]] as const) {
          const c = ciliumEndpointLabels(wire.labels);
          expect(norm.reserved).toEqual(c.reserved);
          expect(norm.namespaceLabels).toEqual(c.namespaceLabels);
          expect(norm.serviceAccount ?? '').toBe(c.serviceAccount);
          expect(norm.namespace ?? '').toBe(wire.namespace || c.namespace);
          expect(ciliumEndpointLabels(norm.labels).labels).toEqual(c.labels);
          expect(sig.labels).toEqual(c.labels);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

// The same, for whole flows: the node that saw the flow, the endpoints' workloads and the
// policies Cilium names, read by engine/hubble.ts on both paths with flow.proto's meaning.
describe('a flow from the live stream is the flow flowSignal reads from Hubble JSON', () => {
  const ok = (r: ReturnType<typeof flowSignal>): FlowSignal => {
    if (!r.ok) throw new Error(r.error);
    return r.signal;
  };
  /**
   * The live path (the client normalizes the flow with the response's node_name) and the
   * JSON path (the GetFlowsResponse `hubble observe -o jsonpb` prints, or the bare flow),
   * which must give the same signal.
   */
  const bothWays = (f: WireFlow, responseNode?: string): FlowSignal => {
    const json = ok(flowSignal(responseNode === undefined ? f : { flow: f, node_name: responseNode }));
    expect(ok(flowSignal(normalizeFlow(f, responseNode)))).toEqual(json);
    return json;
  };
  const base = (over: Partial<WireFlow>): WireFlow => ({
    time: { seconds: '1764064800', nanos: 0 },
    verdict: 'DROPPED',
    drop_reason_desc: 'POLICY_DENY',
    drop_reason: 181,
    traffic_direction: 'EGRESS',
    IP: { source: '10.0.0.1', destination: '10.0.0.2' },
    l4: { TCP: { source_port: 40000, destination_port: 5432 } },
    source: { namespace: 'shop', pod_name: 'web-1', labels: ['k8s:app=web'] },
    destination: { namespace: 'data', pod_name: 'pg-0', labels: ['k8s:app=pg'] },
    ...over,
  });

  it("node: the flow's node_name, else the response's", () => {
    expect(bothWays(base({ node_name: 'node-1' })).node).toBe('node-1');
    expect(bothWays(base({ node_name: 'node-1' }), 'node-2').node).toBe('node-1');
    expect(bothWays(base({}), 'node-2').node).toBe('node-2');
    expect(bothWays(base({})).node).toBe('');
    expect(normalizeFlow(base({}), 'node-2')!.nodeName).toBe('node-2');
    expect(normalizeFlow(base({}))!.nodeName).toBeUndefined();
  });

  it('workload: the first entry with both a name and a kind', () => {
    const f = base({
      source: { namespace: 'shop', pod_name: 'web-1', workloads: [{ name: 'web-7d9f' }, { kind: 'ReplicaSet' }, { name: '', kind: 'Job' }, { name: 'web', kind: 'Deployment' }, { name: 'other', kind: 'StatefulSet' }] },
      destination: { namespace: 'data', pod_name: 'pg-0', workloads: [{ name: 'pg' }] },
    });
    const s = bothWays(f);
    expect(s.source.workload).toEqual({ kind: 'Deployment', name: 'web' });
    expect(s.destination.workload).toBeNull();
    expect(s.key).toBe('flow|egress|shop/Deployment/web|data/Pod/pg-0|TCP/5432');
    expect(normalizeFlow(f)!.source.workload).toEqual({ kind: 'Deployment', name: 'web' });
    expect(normalizeFlow(f)!.destination.workload).toBeUndefined();
  });

  it("denied-by: the drop's direction decides which list applies; an unknown direction keeps each under its own", () => {
    const ingress_denied_by: WirePolicy[] = [{ name: 'deny-in', namespace: 'data', kind: 'CiliumNetworkPolicy' }];
    const egress_denied_by: WirePolicy[] = [
      { name: 'deny-out', namespace: 'shop', kind: 'CiliumNetworkPolicy', revision: '4' },
      // Older Hubble: named by its labels only.
      { labels: ['k8s:io.cilium.k8s.policy.derived-from=NetworkPolicy', 'k8s:io.cilium.k8s.policy.name=old', 'k8s:io.cilium.k8s.policy.namespace=shop'] },
    ];
    const deny = (name: string, namespace: string, kind: string) => ({ name, namespace, kind });

    const egress = base({ traffic_direction: 'EGRESS', ingress_denied_by, egress_denied_by });
    expect(bothWays(egress)).toMatchObject({ ingressDeniedBy: [], egressDeniedBy: [deny('deny-out', 'shop', 'CiliumNetworkPolicy'), deny('old', 'shop', 'NetworkPolicy')] });
    const n = normalizeFlow(egress)!;
    expect(n.ingressDeniedBy).toEqual([]);
    expect(n.egressDeniedBy.map((p) => p.name)).toEqual(['deny-out', 'old']);
    expect(n.deniedBy).toEqual(n.egressDeniedBy);
    expect(n.deniedBy[0]).toMatchObject({ revision: '4' });
    expect(n.attributedByCilium).toBe(true);

    const ingress = base({ traffic_direction: 'INGRESS', ingress_denied_by, egress_denied_by });
    expect(bothWays(ingress)).toMatchObject({ ingressDeniedBy: [deny('deny-in', 'data', 'CiliumNetworkPolicy')], egressDeniedBy: [] });
    expect(normalizeFlow(ingress)!.deniedBy.map((p) => p.name)).toEqual(['deny-in']);

    // A drop at egress that Cilium only names ingress policies for: none applies.
    const wrong = base({ traffic_direction: 'EGRESS', ingress_denied_by });
    expect(bothWays(wrong)).toMatchObject({ ingressDeniedBy: [], egressDeniedBy: [] });
    expect(normalizeFlow(wrong)).toMatchObject({ deniedBy: [], attributedByCilium: false });

    const unknown = base({ traffic_direction: 'TRAFFIC_DIRECTION_UNKNOWN', ingress_denied_by, egress_denied_by });
    expect(bothWays(unknown)).toMatchObject({ ingressDeniedBy: [deny('deny-in', 'data', 'CiliumNetworkPolicy')], egressDeniedBy: [deny('deny-out', 'shop', 'CiliumNetworkPolicy'), deny('old', 'shop', 'NetworkPolicy')] });
    expect(normalizeFlow(unknown)!.deniedBy.map((p) => p.name)).toEqual(['deny-in', 'deny-out', 'old']);
  });

  // Plausible whole flows, any field missing as proto3 allows: no time (or an unset or
  // out-of-range Timestamp), no verdict, no endpoints, and a drop_reason_desc that the
  // deprecated drop_reason contradicts. Everything flowSignal reports is the same either way.
  const dropReasonDesc = fc.constantFrom<WireFlow['drop_reason_desc'] | undefined>(undefined, 'POLICY_DENIED', 'POLICY_DENY', 'AUTH_REQUIRED', 'DROP_REASON_UNKNOWN', 'NEW_REASON', 0, 133, 181, 999);
  const dropReasonCode = fc.constantFrom<number | undefined>(undefined, 0, 133, 181, 189, 250);
  const timeArb = fc.oneof(
    fc.record({ seconds: fc.oneof(fc.nat(2_000_000_000), fc.constant('1764064800')), nanos: fc.nat(999_999_999) }),
    fc.record({ seconds: fc.constantFrom(0, '1764064800', 1e15, '-62135596801', 'x') }),
    fc.record({ nanos: fc.nat(999_999_999) }),
    fc.constant({}),
  );
  const workloadArb = fc.record({ name: maybe(fc.constantFrom('', 'web', 'web-7d9f', 'pg')), kind: maybe(fc.constantFrom('', 'Deployment', 'ReplicaSet', 'StatefulSet')) }, { requiredKeys: [] });
  const flowEndpointArb: fc.Arbitrary<WireEndpoint> = fc.record(
    { namespace: name, pod_name: name, identity: fc.nat(5), labels: fc.array(label, { maxLength: 3 }), workloads: fc.array(workloadArb, { maxLength: 4 }) },
    { requiredKeys: [] },
  );
  const wholeFlowArb = fc
    .tuple(
      fc.record(
        {
          uuid: fc.constantFrom('u1', ''),
          verdict: fc.constantFrom<string | number>('DROPPED', 'FORWARDED', 'VERDICT_UNKNOWN', 0, 2, 9),
          traffic_direction: fc.constantFrom('INGRESS', 'EGRESS', 'TRAFFIC_DIRECTION_UNKNOWN', 0, 1, 2, 7),
          IP: fc.record({ source: maybe(fc.constantFrom('', '10.0.0.1')), destination: maybe(fc.constantFrom('', '10.0.0.2')) }, { requiredKeys: [] }),
          l4: fc.oneof(fc.record({ TCP: ports }), fc.record({ UDP: ports }), fc.record({ ICMPv4: fc.record({ type: fc.nat(3), code: fc.nat(3) }) }), fc.constant({})),
          source: flowEndpointArb,
          destination: flowEndpointArb,
          ingress_denied_by: fc.array(policyArb, { maxLength: 3 }),
          egress_denied_by: fc.array(policyArb, { maxLength: 3 }),
          node_name: name,
          is_reply: fc.record({ value: fc.boolean() }),
        },
        { requiredKeys: [] },
      ),
      maybe(timeArb),
      dropReasonDesc,
      dropReasonCode,
    )
    .map(([f, time, desc, code]): WireFlow => ({ ...f, ...(time !== undefined ? { time } : {}), ...(desc !== undefined ? { drop_reason_desc: desc } : {}), ...(code !== undefined ? { drop_reason: code } : {}) }));

  // What flow.proto says each field means, written out plainly.
  const modelDirection = (d: WireFlow['traffic_direction']): string => (d === 'INGRESS' || d === 1 ? 'ingress' : d === 'EGRESS' || d === 2 ? 'egress' : 'unknown');
  const modelWorkload = (e: WireEndpoint | undefined) => {
    const w = e?.workloads?.find((x) => x.name && x.kind);
    return w ? { kind: w.kind, name: w.name } : null;
  };
  const modelPolicyName = (p: WirePolicy): string => p.name || (p.labels ?? []).map((l) => /^(?:k8s:)?io\.cilium\.k8s\.policy\.name=(.+)$/.exec(l)?.[1]).find((x) => x !== undefined) || '';
  const modelNames = (list: WirePolicy[] | undefined): string[] => (list ?? []).map(modelPolicyName).filter((x) => x !== '');
  const modelVerdict = (v: WireFlow['verdict']): string => (v === undefined || v === 0 ? 'VERDICT_UNKNOWN' : v === 2 ? 'DROPPED' : typeof v === 'number' ? String(v) : v);
  const modelTime = (t: WireFlow['time']): string => {
    const s = Number(t?.seconds);
    // No seconds (an unset Timestamp), not a number, or outside years 0001-9999: no time.
    if (t?.seconds === undefined || !Number.isInteger(s) || s < -62135596800 || s > 253402300799) return '';
    return new Date(s * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
  };
  const reasonNames: Record<number, string> = { 133: 'POLICY_DENIED', 181: 'POLICY_DENY', 189: 'AUTH_REQUIRED' };
  const reasonNumbers: Record<string, number> = { POLICY_DENIED: 133, POLICY_DENY: 181, AUTH_REQUIRED: 189 };
  /** drop_reason_desc when it says anything (not DROP_REASON_UNKNOWN / 0), else the deprecated drop_reason. */
  const modelDrop = (f: WireFlow): { desc: string; code: number } => {
    const d = f.drop_reason_desc;
    if (typeof d === 'number' && d !== 0) return { desc: reasonNames[d] ?? String(d), code: d };
    if (typeof d === 'string' && d !== 'DROP_REASON_UNKNOWN') return { desc: d, code: reasonNumbers[d] ?? (f.drop_reason && !reasonNames[f.drop_reason] ? f.drop_reason : 0) };
    return f.drop_reason ? { desc: reasonNames[f.drop_reason] ?? String(f.drop_reason), code: f.drop_reason } : { desc: '', code: 0 };
  };

  it('for any plausible flow: the same signal, with flow.proto’s time, verdict, drop reason, node, workloads and denied-by', () => {
    fc.assert(
      fc.property(wholeFlowArb, maybe(name), (f, responseNode) => {
        const s = bothWays(f, responseNode);
        expect(s.firstSeen).toBe(modelTime(f.time));
        expect(s.lastSeen).toBe(s.firstSeen);
        expect(s.verdict).toBe(modelVerdict(f.verdict));
        const drop = modelDrop(f);
        expect({ desc: s.dropReasonDesc, code: s.dropReason, reason: s.reason }).toEqual({ ...drop, reason: drop.desc });
        expect(s.node).toBe(f.node_name || responseNode || '');
        expect(s.source.workload).toEqual(modelWorkload(f.source));
        expect(s.destination.workload).toEqual(modelWorkload(f.destination));
        const dir = modelDirection(f.traffic_direction);
        expect(s.direction).toBe(dir);
        expect(s.ingressDeniedBy.map((p) => p.name)).toEqual(dir === 'egress' ? [] : modelNames(f.ingress_denied_by));
        expect(s.egressDeniedBy.map((p) => p.name)).toEqual(dir === 'ingress' ? [] : modelNames(f.egress_denied_by));
        // The normalized flow says the same, and its one list is the two in order.
        const n = normalizeFlow(f, responseNode)!;
        expect(n.time ?? '').toBe(s.firstSeen);
        expect(n.verdict).toBe(s.verdict);
        expect([n.dropReason ?? '', n.dropReasonCode ?? 0]).toEqual([s.dropReasonDesc, s.dropReason]);
        expect(n.nodeName ?? '').toBe(s.node);
        expect(n.source.workload ?? null).toEqual(s.source.workload);
        expect(n.destination.workload ?? null).toEqual(s.destination.workload);
        expect(n.deniedBy).toEqual([...n.ingressDeniedBy, ...n.egressDeniedBy]);
        expect(n.deniedBy.map((p) => p.name)).toEqual([...s.ingressDeniedBy, ...s.egressDeniedBy].map((p) => p.name));
        expect(n.attributedByCilium).toBe(n.deniedBy.length > 0);
        // And the dedupe key, read off the wire, is the normalized flow's.
        expect(wireFlowKey(f)).toBe(flowKey(n));
      }),
      { numRuns: 1500 },
    );
  });
});

describe('DedupeWindow', () => {
  it('refuses a key until windowMs after its last admission; refusals do not extend the window', () => {
    const d = new DedupeWindow(1000, 100);
    expect(d.admit('k', 0)).toBe(true);
    expect(d.admit('k', 999)).toBe(false);
    expect(d.admit('other', 999)).toBe(true);
    expect(d.admit('k', 1000)).toBe(true);
    expect(d.admit('k', 1999)).toBe(false);
    expect(d.admit('k', 2000)).toBe(true);
  });

  it('forgets expired keys from the front as new ones arrive', () => {
    const d = new DedupeWindow(1000, 100);
    for (let i = 0; i < 50; i++) d.admit(`k${i}`, i * 10); // k0 at 0 ... k49 at 490
    expect(d.size).toBe(50);
    d.admit('late', 1200); // k0..k20 (at <= 200) have expired
    expect(d.size).toBe(50 - 21 + 1);
    expect(d.admit('k21', 1200)).toBe(false);
    expect(d.admit('k20', 1200)).toBe(true);
  });

  it('a re-admitted key moves to the back: it outlives keys admitted between', () => {
    const d = new DedupeWindow(1000, 100);
    d.admit('a', 0);
    d.admit('b', 500);
    d.admit('a', 1000); // expired, admitted again at 1000
    d.admit('c', 1600); // b (500) expires; a (1000) stays
    expect(d.size).toBe(2);
    expect(d.admit('a', 1600)).toBe(false);
    expect(d.admit('b', 1600)).toBe(true);
  });

  it('holds at most maxKeys, forgetting the oldest first', () => {
    const d = new DedupeWindow(60_000, 3);
    for (const k of ['a', 'b', 'c', 'd']) d.admit(k, 0);
    expect(d.size).toBe(3);
    expect(d.admit('b', 1)).toBe(false);
    expect(d.admit('a', 1)).toBe(true); // forgotten early: handed on again
    expect(d.size).toBe(3);
    expect(d.admit('b', 2)).toBe(true); // and pushed b out
  });

  it('a clock that steps back: a key seen "in the future" is refused, and out-of-order entries are still forgotten', () => {
    const d = new DedupeWindow(1000, 100);
    d.admit('a', 5000);
    expect(d.admit('a', 4000)).toBe(false);
    expect(d.admit('b', 4000)).toBe(true); // queued behind a, though older
    d.admit('c', 5500); // b has expired by now, but eviction stops at a (fresh)
    expect(d.size).toBe(3);
    d.admit('d', 6000); // a expires; b behind it too
    expect(d.size).toBe(2);
    expect(d.admit('b', 6000)).toBe(true);
    expect(d.admit('c', 6000)).toBe(false);
  });
});
