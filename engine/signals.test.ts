import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_MESSAGE_CHARS, admissionSignal, eventSignal, flowSignal, messageSignal, parseWorkloadArg, toSignal, SIGNAL_KINDS } from './signals.js';

describe('event signals', () => {
  const added = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web-6b7d.17a', namespace: 'shop' },
    involvedObject: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-6b7d', namespace: 'shop', uid: 'u1' },
    reason: 'FailedCreate',
    type: 'Warning',
    count: 1,
    source: { component: 'replicaset-controller' },
    firstTimestamp: '2026-11-25T10:00:00Z',
    lastTimestamp: '2026-11-25T10:00:00Z',
    message: 'Error creating: pods "web-6b7d-x" is forbidden: exceeded quota: q',
  };

  it('normalizes a core/v1 Event; a MODIFIED repeat keeps the key and bumps the count', () => {
    const a = eventSignal(added);
    const b = eventSignal({ ...added, count: 7, lastTimestamp: '2026-11-25T10:05:00Z', message: '(combined from similar events): Error creating: pods "web-6b7d-y" is forbidden: exceeded quota: q' });
    if (!a.ok || !b.ok) throw new Error('rejected');
    expect(a.signal).toMatchObject({ kind: 'event', namespace: 'shop', reason: 'FailedCreate', type: 'Warning', source: 'replicaset-controller', count: 1, involved: { kind: 'ReplicaSet', name: 'web-6b7d' } });
    expect(b.signal.key).toBe(a.signal.key);
    expect(b.signal.count).toBe(7);
    expect(b.signal.lastSeen).toBe('2026-11-25T10:05:00Z');
    expect(b.signal.message.startsWith('Error creating:')).toBe(true);
  });

  it('reads events.k8s.io/v1 Events (regarding, note, series, reportingController)', () => {
    const r = eventSignal({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'e', namespace: 'shop' },
      regarding: { kind: 'Pod', name: 'p', namespace: 'shop' },
      reason: 'FailedScheduling',
      note: '0/3 nodes are available',
      type: 'Warning',
      reportingController: 'default-scheduler',
      series: { count: 4, lastObservedTime: '2026-11-25T10:00:00.000000Z' },
      eventTime: '2026-11-25T09:00:00.000000Z',
    });
    if (!r.ok) throw new Error(r.error);
    expect(r.signal).toMatchObject({ reason: 'FailedScheduling', message: '0/3 nodes are available', count: 4, source: 'default-scheduler', involved: { kind: 'Pod', name: 'p' } });
  });

  it('cuts huge messages and drops NULs', () => {
    const r = eventSignal({ ...added, message: 'x\u0000'.repeat(MAX_MESSAGE_CHARS) });
    if (!r.ok) throw new Error(r.error);
    expect(r.signal.truncated).toBe(true);
    expect(r.signal.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(r.signal.message.includes('\u0000')).toBe(false);
  });

  it('rejects what is not an event', () => {
    expect(eventSignal(null).ok).toBe(false);
    expect(eventSignal({}).ok).toBe(false);
    expect(eventSignal('FailedCreate').ok).toBe(false);
  });
});

describe('flow signals', () => {
  it('reads proto-loader snake_case with numeric enums inside a GetFlowsResponse', () => {
    const r = flowSignal({
      flow: {
        verdict: 2,
        drop_reason_desc: 133,
        traffic_direction: 1,
        IP: { source: '10.0.0.1', destination: '10.0.0.2' },
        l4: { TCP: { source_port: 40000, destination_port: 5432 } },
        source: { namespace: 'web', pod_name: 'api-1', labels: ['k8s:app=api', 'k8s:io.cilium.k8s.namespace.labels.team=web', 'k8s:io.cilium.k8s.policy.serviceaccount=api'] },
        destination: { namespace: 'data', pod_name: 'db-0', labels: ['k8s:app=db'], workloads: [{ name: 'db', kind: 'StatefulSet' }] },
      },
    });
    if (!r.ok) throw new Error(r.error);
    expect(r.signal).toMatchObject({
      verdict: 'DROPPED',
      dropReason: 133,
      dropReasonDesc: 'POLICY_DENIED',
      direction: 'ingress',
      protocol: 'TCP',
      destinationPort: 5432,
      namespace: 'data',
      source: { labels: { app: 'api' }, namespaceLabels: { team: 'web' }, ip: '10.0.0.1' },
      destination: { workload: { kind: 'StatefulSet', name: 'db' } },
      involved: { kind: 'Pod', name: 'db-0', namespace: 'data' },
    });
  });

  it('names policies from Hubble labels when kind/name fields are empty', () => {
    const r = flowSignal({
      verdict: 'DROPPED',
      traffic_direction: 'EGRESS',
      source: { namespace: 'a', pod_name: 'p' },
      egress_denied_by: [{ labels: ['k8s:io.cilium.k8s.policy.derived-from=NetworkPolicy', 'k8s:io.cilium.k8s.policy.name=deny', 'k8s:io.cilium.k8s.policy.namespace=a'] }],
    });
    if (!r.ok) throw new Error(r.error);
    expect(r.signal.egressDeniedBy).toEqual([{ name: 'deny', namespace: 'a', kind: 'NetworkPolicy' }]);
    expect(r.signal.namespace).toBe('a');
  });

  it("reads runtime/hubble's normalized flow", () => {
    const r = flowSignal({
      verdict: 'DROPPED',
      dropReason: 'POLICY_DENY',
      dropReasonCode: 181,
      direction: 'egress',
      protocol: 'UDP',
      destinationPort: 53,
      source: { namespace: 'a', podName: 'p', labels: { app: 'x' }, reserved: [], meta: { 'io.cilium.k8s.namespace.labels.team': 't' }, names: [] },
      destination: { labels: {}, reserved: ['world'], meta: {}, names: [], ip: '1.1.1.1' },
      deniedBy: [{ name: 'no-dns', namespace: 'a', kind: 'CiliumNetworkPolicy', labels: [] }],
    });
    if (!r.ok) throw new Error(r.error);
    expect(r.signal).toMatchObject({
      dropReason: 181,
      dropReasonDesc: 'POLICY_DENY',
      direction: 'egress',
      protocol: 'UDP',
      destinationPort: 53,
      egressDeniedBy: [{ name: 'no-dns', kind: 'CiliumNetworkPolicy' }],
      ingressDeniedBy: [],
      source: { labels: { app: 'x' }, namespaceLabels: { team: 't' } },
      destination: { reserved: ['world'], ip: '1.1.1.1' },
    });
  });

  it('a flow without a verdict, endpoints or time is still a flow (proto3 defaults); what is not a flow is rejected', () => {
    for (const input of [{}, { flow: {} }, { drop_reason_desc: 'POLICY_DENIED' }]) {
      const r = flowSignal(input);
      if (!r.ok) throw new Error(r.error);
      expect(r.signal).toMatchObject({ verdict: 'VERDICT_UNKNOWN', firstSeen: '', lastSeen: '', source: { namespace: '', pod: '' }, destination: { namespace: '', pod: '' } });
    }
    expect(flowSignal({ lost_events: { num_events_lost: '3' }, node_name: 'n' })).toEqual({ ok: false, error: 'not a flow: a GetFlowsResponse with lost_events' });
    expect(flowSignal({ nodeStatus: {} }).ok).toBe(false);
    expect(flowSignal(null).ok).toBe(false);
    expect(flowSignal([]).ok).toBe(false);
  });

  it('time: the Timestamp or RFC 3339 text as ISO text, the same instant either way', () => {
    const at = (time: unknown): string => {
      const r = flowSignal({ verdict: 'DROPPED', time });
      if (!r.ok) throw new Error(r.error);
      expect(r.signal.lastSeen).toBe(r.signal.firstSeen);
      return r.signal.firstSeen;
    };
    expect(at({ seconds: '1764064800', nanos: 5_000_000 })).toBe('2025-11-25T10:00:00.005Z');
    expect(at('2025-11-25T10:00:00.005000000Z')).toBe('2025-11-25T10:00:00.005Z');
    expect(at('2025-11-25T11:00:00.005+01:00')).toBe('2025-11-25T10:00:00.005Z');
    expect(at('not a time')).toBe('');
    expect(at({ nanos: 5 })).toBe('');
  });

  it('drop_reason_desc wins over the deprecated drop_reason, in either spelling', () => {
    const reason = (f: Record<string, unknown>): [string, number] => {
      const r = flowSignal({ verdict: 'DROPPED', ...f });
      if (!r.ok) throw new Error(r.error);
      expect(r.signal.reason).toBe(r.signal.dropReasonDesc);
      return [r.signal.dropReasonDesc, r.signal.dropReason];
    };
    expect(reason({ drop_reason_desc: 'POLICY_DENIED', drop_reason: 181 })).toEqual(['POLICY_DENIED', 133]);
    expect(reason({ dropReasonDesc: 'POLICY_DENIED', dropReason: 181 })).toEqual(['POLICY_DENIED', 133]);
    expect(reason({ drop_reason_desc: 181, drop_reason: 133 })).toEqual(['POLICY_DENY', 181]);
    expect(reason({ drop_reason_desc: 'DROP_REASON_UNKNOWN', drop_reason: 181 })).toEqual(['POLICY_DENY', 181]);
    expect(reason({ dropReason: 999 })).toEqual(['999', 999]);
    expect(reason({})).toEqual(['', 0]);
  });

  it('keys repeats of one connection the same, whatever the pod', () => {
    const f = (pod: string) => flowSignal({ verdict: 'DROPPED', traffic_direction: 'INGRESS', l4: { TCP: { destination_port: 80 } }, source: { namespace: 'a', pod_name: 'x' }, destination: { namespace: 'b', pod_name: pod, workloads: [{ kind: 'Deployment', name: 'web' }] } });
    const a = f('web-1');
    const b = f('web-2');
    if (!a.ok || !b.ok) throw new Error('rejected');
    expect(a.signal.key).toBe(b.signal.key);
  });
});

describe('admission and message signals', () => {
  it('reads an AdmissionReview', () => {
    const r = admissionSignal({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u',
        kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        resource: { group: 'apps', version: 'v1', resource: 'deployments' },
        namespace: 'shop',
        operation: 'CREATE',
        userInfo: { username: 'dev', groups: ['g', 3] },
        object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { generateName: 'web-' } },
        dryRun: true,
      },
    });
    if (!r.ok) throw new Error(r.error);
    expect(r.signal).toMatchObject({ operation: 'CREATE', name: 'web-', namespace: 'shop', gvk: { kind: 'Deployment' }, user: { username: 'dev', groups: ['g'] }, dryRun: true });
    expect(admissionSignal({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }).ok).toBe(false);
  });

  it('parses --workload the way kubectl users write it', () => {
    expect(parseWorkloadArg('deploy/web')).toEqual({ kind: 'Deployment', name: 'web' });
    expect(parseWorkloadArg('StatefulSet/db-0')).toEqual({ kind: 'StatefulSet', name: 'db-0' });
    expect(parseWorkloadArg('web')).toBeUndefined();
    const m = messageSignal('  boom  ', { namespace: 'a', workload: { kind: 'Deployment', name: 'web' } });
    expect(m).toMatchObject({ message: 'boom', namespace: 'a', involved: { kind: 'Deployment', name: 'web', namespace: 'a' } });
  });

  it('never throws on arbitrary input, and bounds what it accepts', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SIGNAL_KINDS), fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, maxDepth: 4 }), (kind, input) => {
        const r = toSignal(kind, input);
        if (r.ok) expect(r.signal.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
        else expect(typeof r.error).toBe('string');
      }),
      { numRuns: 1000 },
    );
  });
});
