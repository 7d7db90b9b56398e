import { describe, expect, it } from 'vitest';
import { MAX_NAME_CHARS, MAX_POLICIES, flowDeniedBy, flowDirection, flowNodeName, flowPolicy, flowWorkload } from './hubble.js';

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
});
