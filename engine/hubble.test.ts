import { describe, expect, it } from 'vitest';
import { MAX_NAME_CHARS, MAX_POLICIES, flowDeniedBy, flowDirection, flowDropReason, flowNodeName, flowPolicy, flowTime, flowVerdict, flowWorkload } from './hubble.js';

describe('Hubble flow fields (engine/hubble.ts)', () => {
  it('direction: flow.proto enum names in any case, or their numbers', () => {
    for (const v of ['INGRESS', 'ingress', 1, '1', 1n]) expect(flowDirection(v)).toBe('ingress');
    for (const v of ['EGRESS', 'egress', 2, '2']) expect(flowDirection(v)).toBe('egress');
    for (const v of ['TRAFFIC_DIRECTION_UNKNOWN', 0, 7, '', undefined, null, {}, 'constructor']) expect(flowDirection(v)).toBe('unknown');
  });

  it('workload: the first entry with both a name and a kind', () => {
    expect(flowWorkload([{ name: 'web-7d9f' }, { kind: 'ReplicaSet', name: '' }, null, { kind: 'Deployment', name: 'web' }, { kind: 'Job', name: 'x' }])).toEqual({ kind: 'Deployment', name: 'web' });
    expect(flowWorkload([{ name: 'web' }])).toBeUndefined();
    expect(flowWorkload([{ kind: 1, name: 'web' }])).toBeUndefined();
    expect(flowWorkload('web')).toBeUndefined();
    expect(flowWorkload([{ kind: 'Deployment', name: 'x'.repeat(300) }])?.name).toHaveLength(MAX_NAME_CHARS);
  });

  it("node: the flow's node_name (or nodeName), else the response's", () => {
    expect(flowNodeName({ node_name: 'a' }, { node_name: 'b' })).toBe('a');
    expect(flowNodeName({ nodeName: 'a' })).toBe('a');
    expect(flowNodeName({ node_name: '' }, { node_name: 'b' })).toBe('b');
    expect(flowNodeName({}, { nodeName: 'b' })).toBe('b');
    expect(flowNodeName({ node: 'a', node_name: 3 })).toBe('');
  });

  it('policy: fields the entry gives win over its labels; no name, no policy', () => {
    const labels = ['k8s:io.cilium.k8s.policy.derived-from=NetworkPolicy', 'k8s:io.cilium.k8s.policy.name=old', 'k8s:io.cilium.k8s.policy.namespace=shop', 7];
    expect(flowPolicy({ labels })).toEqual({ name: 'old', namespace: 'shop', kind: 'NetworkPolicy', labels: labels.slice(0, 3), revision: '' });
    expect(flowPolicy({ name: 'new', kind: 'CiliumNetworkPolicy', labels, revision: '3' })).toMatchObject({ name: 'new', namespace: 'shop', kind: 'CiliumNetworkPolicy', revision: '3' });
    expect(flowPolicy({ name: 'p', revision: '0' })?.revision).toBe('');
    expect(flowPolicy({ labels: ['container:io.cilium.k8s.policy.name=x'] })).toBeUndefined();
    expect(flowPolicy('p')).toBeUndefined();
  });

  it("denied-by: the drop's direction picks its list; unknown keeps both apart", () => {
    const i = [{ name: 'in' }];
    const e = [{ name: 'out' }];
    const names = (d: ReturnType<typeof flowDeniedBy>) => ({ ingress: d.ingress.map((p) => p.name), egress: d.egress.map((p) => p.name) });
    expect(names(flowDeniedBy('ingress', i, e))).toEqual({ ingress: ['in'], egress: [] });
    expect(names(flowDeniedBy('egress', i, e))).toEqual({ ingress: [], egress: ['out'] });
    expect(names(flowDeniedBy('unknown', i, e))).toEqual({ ingress: ['in'], egress: ['out'] });
    expect(flowDeniedBy('ingress', Array.from({ length: 40 }, (_, n) => ({ name: `p${n}` })), undefined).ingress).toHaveLength(MAX_POLICIES);
  });

  it('time: a Timestamp, RFC 3339 text or a Date as ISO text; none is "" (never now)', () => {
    expect(flowTime({ seconds: '1764064800', nanos: 123_456_789 })).toBe('2025-11-25T10:00:00.123Z');
    expect(flowTime({ seconds: 1764064800 })).toBe('2025-11-25T10:00:00.000Z');
    expect(flowTime({ seconds: 1764064800n, nanos: 2e9 })).toBe('2025-11-25T10:00:00.000Z'); // out-of-range nanos ignored
    expect(flowTime({ seconds: -1, nanos: 500_000_000 })).toBe('1969-12-31T23:59:59.500Z');
    expect(flowTime('2025-11-25T10:00:00.123456789Z')).toBe('2025-11-25T10:00:00.123Z');
    expect(flowTime('2025-11-25T12:00:00+02:00')).toBe('2025-11-25T10:00:00.000Z');
    expect(flowTime(new Date('2025-11-25T10:00:00Z'))).toBe('2025-11-25T10:00:00.000Z');
    // Round trip: the text it gives reads back the same.
    expect(flowTime(flowTime({ seconds: '-62135596800' }))).toBe('0001-01-01T00:00:00.000Z');
    for (const v of [undefined, null, {}, { nanos: 5 }, { seconds: 'x' }, { seconds: '1e3' }, { seconds: 1.5 }, { seconds: 1e15 }, { seconds: '-62135596801' }, '', '1', 'yesterday', new Date(NaN), 7]) expect(flowTime(v)).toBe('');
  });

  it('verdict: enum names as given, numbers as names; absent or empty is VERDICT_UNKNOWN', () => {
    expect(flowVerdict('DROPPED')).toBe('DROPPED');
    expect(flowVerdict(2)).toBe('DROPPED');
    expect(flowVerdict('2')).toBe('DROPPED');
    expect(flowVerdict(9)).toBe('9');
    expect(flowVerdict('x'.repeat(100))).toHaveLength(64);
    for (const v of [undefined, null, '', 0, -1, 1.5, {}]) expect(flowVerdict(v)).toBe('VERDICT_UNKNOWN');
  });

  it('drop reason: drop_reason_desc is authoritative; the deprecated drop_reason only fills in', () => {
    expect(flowDropReason('POLICY_DENIED', 181)).toEqual({ name: 'POLICY_DENIED', code: 133 });
    expect(flowDropReason(181, 133)).toEqual({ name: 'POLICY_DENY', code: 181 });
    expect(flowDropReason('181', undefined)).toEqual({ name: 'POLICY_DENY', code: 181 });
    expect(flowDropReason(999, 133)).toEqual({ name: '999', code: 999 });
    // No description (absent, DROP_REASON_UNKNOWN, 0): drop_reason.
    for (const d of [undefined, null, '', 'DROP_REASON_UNKNOWN', 0, '0', 1.5]) expect(flowDropReason(d, 133)).toEqual({ name: 'POLICY_DENIED', code: 133 });
    expect(flowDropReason(undefined, '250')).toEqual({ name: '250', code: 250 });
    // A name not listed here takes drop_reason's number, unless that number names another reason.
    expect(flowDropReason('NEW_REASON', 250)).toEqual({ name: 'NEW_REASON', code: 250 });
    expect(flowDropReason('NEW_REASON', 181)).toEqual({ name: 'NEW_REASON', code: 0 });
    expect(flowDropReason('NEW_REASON', undefined)).toEqual({ name: 'NEW_REASON', code: 0 });
    for (const [d, c] of [[undefined, undefined], ['DROP_REASON_UNKNOWN', 0], [0, 0], [undefined, -3], [{}, 'x']] as const) expect(flowDropReason(d, c)).toBeUndefined();
  });
});
