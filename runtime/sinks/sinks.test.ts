import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KubeApiError, type RequestOptions } from '../kube/client.js';
import { backoffDelay } from './backoff.js';
import { EventSink, eventFromNotification, eventReason, microTime } from './events.js';
import { parseRetryAfter } from './http.js';
import { SlidingWindowLimiter } from './ratelimit.js';
import { SecretResolver } from './secrets.js';
import { escapeMrkdwn, slackMessage } from './slack.js';
import { DeliverySinks, notificationFromDelivery } from './deliveries.js';
import { retryableStatus, type Notification } from './types.js';
import { sign, verifySignature } from './webhook.js';

describe('sliding-window limiter', () => {
  it('property: never admits more than the limit within any window', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 400 }), fc.integer({ min: 1, max: 20 }), (gaps, limit) => {
        let t = 0;
        const lim = new SlidingWindowLimiter(limit, 1000, () => t);
        const admitted: number[] = [];
        for (const g of gaps) {
          t += g;
          if (lim.tryAcquire('ns')) admitted.push(t);
        }
        for (let i = 0; i + limit < admitted.length; i++) expect(admitted[i + limit]! - admitted[i]!).toBeGreaterThan(1000 - 1);
      }),
    );
  });

  it('keys are independent and free up after the window', () => {
    let t = 0;
    const lim = new SlidingWindowLimiter(2, 60_000, () => t);
    expect([lim.tryAcquire('a'), lim.tryAcquire('a'), lim.tryAcquire('a'), lim.tryAcquire('b')]).toEqual([true, true, false, true]);
    t = 60_001;
    expect(lim.tryAcquire('a')).toBe(true);
    lim.prune();
    // Idle keys go; a key with an admission inside the window keeps it (one slot left of two).
    expect([...(lim as unknown as { windows: Map<string, number[]> }).windows.keys()]).toEqual(['a']);
    expect([lim.tryAcquire('a'), lim.tryAcquire('a')]).toEqual([true, false]);
  });
});

describe('backoff and retry classification', () => {
  it('grows exponentially, is capped, and jitters within [d/2, d]', () => {
    const p = { baseMs: 100, maxMs: 1000, jitter: 0.5 };
    expect(backoffDelay(0, p, () => 1)).toBe(100);
    expect(backoffDelay(3, p, () => 1)).toBe(800);
    expect(backoffDelay(10, p, () => 1)).toBe(1000);
    expect(backoffDelay(3, p, () => 0)).toBe(400);
    fc.assert(fc.property(fc.nat(40), fc.double({ min: 0, max: 1, noNaN: true }), (a, r) => {
      const d = backoffDelay(a, p, () => r);
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(1000);
    }));
  });

  it('retries 5xx, 429 and 408; not other 4xx', () => {
    expect([500, 502, 503, 429, 408].every(retryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 410, 422].some(retryableStatus)).toBe(false);
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('99999')).toBe(300_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT'))).toBe(60_000);
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('payloads', () => {
  const n: Notification = {
    id: 'x',
    channel: 'slack',
    namespace: 'a',
    severity: 'Warning',
    audience: 'developer',
    detail: 'summary',
    title: 't'.repeat(300),
    text: 'x'.repeat(5000),
    facts: Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, value: 'v' })),
    createdAt: '2026-01-01T00:00:00Z',
  };

  it('Slack: within Block Kit limits, mrkdwn escaped', () => {
    const m = slackMessage(n);
    const header = m.blocks[0] as unknown as { text: { text: string } };
    expect([...header.text.text].length).toBeLessThanOrEqual(150);
    const section = m.blocks[1] as unknown as { text: { text: string } };
    expect([...section.text.text].length).toBeLessThanOrEqual(3000);
    expect((m.blocks[2] as unknown as { fields: unknown[] }).fields.length).toBeLessThanOrEqual(10);
    expect(escapeMrkdwn('<@U123> & <!channel>')).toBe('&lt;@U123&gt; &amp; &lt;!channel&gt;');
  });

  it('HMAC: signs timestamp and body; rejects stale timestamps', () => {
    const s = sign('k', '1700000000', '{"a":1}');
    expect(verifySignature('k', '1700000000', '{"a":1}', s, 300, 1700000100)).toBe(true);
    expect(verifySignature('k', '1700000000', '{"a":1}', s, 300, 1700001000)).toBe(false);
    expect(verifySignature('k', 'nope', '{"a":1}', s)).toBe(false);
  });

  it('notify-stage Deliveries become Notifications: events on the workload, chat via the policy target, reports skipped', () => {
    const base = {
      rule: { pack: 'notify-default', rule: 'r' },
      audience: 'developer' as const,
      detail: 'summary' as const,
      subject: { kind: 'attribution' as const, id: 'a1', namespace: 'team-a' },
      text: 'The namespace quota compute has no room',
    };
    const data = {
      severity: 'Critical',
      workload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'team-a' },
      constraints: [{ label: 'ResourceQuota compute' }, { label: 'a network policy (ingress) owned by the cluster' }],
    };
    const ev = notificationFromDelivery({ ...base, channel: 'event', data });
    expect(ev).toMatchObject({ channel: 'kubernetes-event', severity: 'Critical', namespace: 'team-a', regarding: { kind: 'Deployment', name: 'web', namespace: 'team-a' }, reason: 'BlockedByConstraint', title: 'Deployment team-a/web blocked by ResourceQuota compute (+1 more)' });
    expect(ev!.id).toBe('attribution:a1:kubernetes-event:developer:summary');
    const target = { name: 'team-slack', type: 'slack', policy: 'team-a/notify', urlSecretRef: { namespace: 'team-a', name: 'slack-hook' } };
    const sinks = new DeliverySinks({ client: { request: async () => ({}) as never } });
    const chat = sinks.toNotification({ ...base, channel: 'slack', data: { ...data, target } });
    expect(chat?.channel).toBe('slack:team-a/notify/team-slack');
    expect(sinks.sinkFor(chat!.channel)?.type).toBe('slack');
    expect(sinks.sinkFor('slack:unknown/x')).toBeUndefined();
    expect(notificationFromDelivery({ ...base, channel: 'report', data })).toBeUndefined();
    expect(notificationFromDelivery({ ...base, channel: 'slack', data })).toBeUndefined();
  });
});

describe('Kubernetes Event sink (fake API)', () => {
  function fakeApi() {
    const calls: RequestOptions[] = [];
    let failCreates = 0;
    return {
      calls,
      failNextCreates(n: number) {
        failCreates = n;
      },
      async request<T>(o: RequestOptions): Promise<T> {
        calls.push(o);
        if (o.method === 'POST' && failCreates > 0) {
          failCreates--;
          throw new KubeApiError(503, 'ServiceUnavailable', 'down');
        }
        return {} as T;
      },
    };
  }
  const spec = {
    regarding: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'a', uid: 'u' },
    type: 'Warning' as const,
    reason: 'BlockedByConstraint',
    action: 'Explain',
    note: 'quota q1 is full',
  };

  it('creates once, then folds repeats into one series patch', async () => {
    const api = fakeApi();
    const sink = new EventSink({ client: api, reportingController: 'potoo.io/controller', reportingInstance: 'potoo-0', seriesFlushMs: 20 });
    expect(await sink.emit(spec)).toBe('created');
    for (let i = 0; i < 50; i++) expect(await sink.emit(spec)).toBe('series');
    await new Promise((r) => setTimeout(r, 60));
    await sink.flush();
    const creates = api.calls.filter((c) => c.method === 'POST');
    const patches = api.calls.filter((c) => c.method === 'PATCH');
    expect(creates).toHaveLength(1);
    expect(creates[0]!.body).toMatchObject({ apiVersion: 'events.k8s.io/v1', kind: 'Event', reportingController: 'potoo.io/controller', reportingInstance: 'potoo-0', action: 'Explain', reason: 'BlockedByConstraint', type: 'Warning', regarding: spec.regarding });
    expect(patches.length).toBeGreaterThanOrEqual(1);
    expect(patches.length).toBeLessThanOrEqual(2);
    expect((patches.at(-1)!.body as { series: { count: number } }).series.count).toBe(51);
    sink.stop();
  });

  it('a failed create surfaces as a retryable SinkError and is not remembered', async () => {
    const api = fakeApi();
    api.failNextCreates(1);
    const sink = new EventSink({ client: api, reportingController: 'c', reportingInstance: 'i' });
    await expect(sink.emit(spec)).rejects.toMatchObject({ name: 'SinkError', retryable: true, status: 503 });
    expect(await sink.emit(spec)).toBe('created');
    sink.stop();
  });

  it('distinct notes are distinct Events; notes are bounded; reasons are UpperCamelCase', async () => {
    const api = fakeApi();
    const sink = new EventSink({ client: api, reportingController: 'c', reportingInstance: 'i' });
    await sink.emit(spec);
    await sink.emit({ ...spec, note: 'n'.repeat(5000) });
    expect(api.calls.filter((c) => c.method === 'POST')).toHaveLength(2);
    expect(Buffer.byteLength((api.calls[1]!.body as { note: string }).note)).toBeLessThanOrEqual(1024);
    expect(eventReason('quota exceeded')).toBe('QuotaExceeded');
    expect(microTime(new Date('2026-01-01T00:00:00.123Z'))).toBe('2026-01-01T00:00:00.123000Z');
    expect(() => eventFromNotification({ id: 'x', channel: 'e', namespace: 'a', severity: 'Info', audience: 'developer', detail: 'summary', title: 't', text: 'x', createdAt: '' })).toThrow(/no object/);
    sink.stop();
  });
});

describe('Secret resolver (fake API)', () => {
  it('reads a key, caches it, refuses other namespaces, and serves stale values while the API is down', async () => {
    let calls = 0;
    let down = false;
    const client = {
      async request<T>(o: RequestOptions): Promise<T> {
        calls++;
        if (down) throw new KubeApiError(0, 'NetworkError', 'connection refused');
        if (o.path.endsWith('/missing')) throw new KubeApiError(404, 'NotFound', 'not found');
        return { data: { url: Buffer.from('https://hooks.slack.com/services/x\n').toString('base64') } } as T;
      },
    };
    const r = new SecretResolver(client, { namespace: 'potoo-system', ttlMs: 0 });
    expect(await r.resolve({ secretRef: { name: 'slack', key: 'url' } })).toBe('https://hooks.slack.com/services/x');
    down = true;
    expect(await r.resolve({ secretRef: { name: 'slack', key: 'url' } })).toBe('https://hooks.slack.com/services/x');
    down = false;
    await expect(r.resolve({ secretRef: { name: 'slack', key: 'nokey' } })).rejects.toThrow(/has no key nokey/);
    await expect(r.resolve({ secretRef: { name: 'missing', key: 'url' } })).rejects.toMatchObject({ retryable: false });
    await expect(r.resolve({ secretRef: { namespace: 'team-b', name: 'theirs', key: 'url' } })).rejects.toThrow(/may not read Secrets in namespace team-b/);
    expect(calls).toBeGreaterThan(0);
    const cached = new SecretResolver(client, { namespace: 'potoo-system' });
    await cached.resolve({ secretRef: { name: 'slack', key: 'url' } });
    const before = calls;
    await cached.resolve({ secretRef: { name: 'slack', key: 'url' } });
    expect(calls).toBe(before);
  });
});
