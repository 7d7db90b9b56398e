import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { affectedEndpoint, flowKey, normalizeFlow } from './normalize.js';
import { requestMatches } from './observer-server.js';
import { fromTimestamp, packageDefinition, toTimestamp, type WireFlow } from './proto.js';

describe('Hubble proto subset', () => {
  it('loads, with the public method path', () => {
    const def = packageDefinition();
    const svc = def['observer.Observer'] as unknown as { GetFlows: { path: string; responseStream: boolean } };
    expect(svc.GetFlows.path).toBe('/observer.Observer/GetFlows');
    expect(svc.GetFlows.responseStream).toBe(true);
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
    expect(f).toMatchObject({ verdict: 'DROPPED', direction: 'egress', dropReason: '181', dropReasonCode: 181 });
    expect(affectedEndpoint(f).namespace).toBe('a');
  });

  it('falls back to the numeric drop_reason when the description is absent', () => {
    expect(normalizeFlow({ verdict: 'DROPPED', drop_reason: 133 })).toMatchObject({ dropReason: '133', dropReasonCode: 133 });
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
