// Sinks over real HTTP to local receivers (node:http on 127.0.0.1): payload shapes for
// Slack, Teams and the generic webhook (with its HMAC signature), retries on 500,
// the per-namespace limit, and receivers that hang.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { register } from 'prom-client';
import { buildSinks, Notifier, verifySignature, SIGNATURE_HEADER, TIMESTAMP_HEADER, DELIVERY_HEADER, type Notification, type SecretSource } from '../../runtime/sinks/index.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

type Behaviour = (req: Received, n: number) => { status: number; body?: string; headers?: Record<string, string> } | 'hang';

class Receiver {
  readonly received: Received[] = [];
  behaviour: Behaviour = () => ({ status: 200, body: 'ok' });
  private server: http.Server | undefined;
  private readonly hung: http.ServerResponse[] = [];
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        const r: Received = { path: req.url ?? '/', headers: req.headers, body, at: Date.now() };
        this.received.push(r);
        const b = this.behaviour(r, this.received.length);
        if (b === 'hang') {
          this.hung.push(res);
          return;
        }
        res.writeHead(b.status, { 'Content-Type': 'text/plain', ...b.headers });
        res.end(b.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.received.length = 0;
    this.behaviour = () => ({ status: 200, body: 'ok' });
    for (const r of this.hung.splice(0)) r.destroy();
  }

  async stop(): Promise<void> {
    for (const r of this.hung.splice(0)) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const secrets = { resolve: async (s: SecretSource): Promise<string> => ('value' in s ? s.value : Promise.reject(new Error('no secrets here'))) };

function notification(i: number, over: Partial<Notification> = {}): Notification {
  return {
    id: `attr-${i}`,
    channel: 'slack',
    namespace: 'team-a',
    severity: 'Critical',
    audience: 'developer',
    detail: 'summary',
    title: 'Pod creation blocked by a ResourceQuota',
    text: 'The namespace quota q1 has no room for requests.cpu=2 <of> 4 & more',
    facts: [{ name: 'Quota', value: 'q1' }],
    regarding: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'team-a', uid: 'u1' },
    rule: { pack: 'builtin-correlations', rule: 'quota-exceeded' },
    createdAt: '2026-11-25T20:00:00.000Z',
    url: 'https://potoo.example/explain/attr-1',
    ...over,
  };
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await register.getSingleMetric(name)?.get()) as { values: { labels: Record<string, string | number>; value: number }[] } | undefined;
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

describe('sinks against local HTTP receivers', () => {
  const slack = new Receiver();
  const teams = new Receiver();
  const hook = new Receiver();
  const notifiers: Notifier[] = [];

  beforeAll(async () => {
    await Promise.all([slack.start(), teams.start(), hook.start()]);
  });
  afterEach(async () => {
    for (const n of notifiers.splice(0)) await n.stop(100);
    slack.reset();
    teams.reset();
    hook.reset();
  });
  afterAll(async () => {
    await Promise.all([slack.stop(), teams.stop(), hook.stop()]);
  });

  function makeNotifier(over: Partial<ConstructorParameters<typeof Notifier>[0]> = {}): Notifier {
    const { sinks, errors } = buildSinks(
      [
        { name: 'slack', type: 'slack', url: { value: `${slack.url}/services/T000/B000/XXXX` } },
        { name: 'teams', type: 'teams', url: { value: `${teams.url}/workflows/abc/triggers/manual/paths/invoke` } },
        { name: 'hook', type: 'webhook', url: { value: `${hook.url}/potoo` }, hmacKey: { value: 'k3y-for-hmac' }, timeoutMs: 300 },
      ],
      { secrets },
    );
    expect(errors).toEqual([]);
    const n = new Notifier({ sinks, backoff: { baseMs: 20, maxMs: 100 }, ...over });
    notifiers.push(n);
    return n;
  }

  it('Slack gets text plus Block Kit blocks, escaped and within limits', async () => {
    const n = makeNotifier();
    expect(n.submit(notification(1))).toBe('queued');
    await n.idle();
    expect(slack.received).toHaveLength(1);
    const r = slack.received[0]!;
    expect(r.path).toBe('/services/T000/B000/XXXX');
    expect(r.headers['content-type']).toBe('application/json');
    const msg = JSON.parse(r.body) as { text: string; blocks: { type: string; text?: { type: string; text: string }; fields?: unknown[]; elements?: unknown[] }[] };
    expect(msg.text).toContain('Critical: Pod creation blocked by a ResourceQuota (Deployment team-a/web)');
    expect(msg.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'actions', 'context']);
    expect(msg.blocks[0]!.text).toEqual({ type: 'plain_text', text: 'Critical: Pod creation blocked by a ResourceQuota', emoji: true });
    expect(msg.blocks[1]!.text!.type).toBe('mrkdwn');
    expect(msg.blocks[1]!.text!.text).toContain('requests.cpu=2 &lt;of&gt; 4 &amp; more');
    expect(msg.blocks[2]!.fields).toContainEqual({ type: 'mrkdwn', text: '*Quota*\nq1' });
  });

  it('Teams gets a message with an Adaptive Card attachment', async () => {
    teams.behaviour = () => ({ status: 202 });
    const n = makeNotifier();
    n.submit(notification(2, { channel: 'teams', severity: 'Warning' }));
    await n.idle();
    expect(teams.received).toHaveLength(1);
    const msg = JSON.parse(teams.received[0]!.body) as { type: string; attachments: { contentType: string; contentUrl: null; content: { type: string; version: string; body: { type: string; text?: string; facts?: unknown[] }[]; actions?: unknown[] } }[] };
    expect(msg.type).toBe('message');
    expect(msg.attachments).toHaveLength(1);
    const a = msg.attachments[0]!;
    expect(a.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(a.contentUrl).toBeNull();
    expect(a.content.type).toBe('AdaptiveCard');
    expect(a.content.version).toBe('1.4');
    expect(a.content.body[0]).toMatchObject({ type: 'TextBlock', text: 'Warning: Pod creation blocked by a ResourceQuota', color: 'Warning', wrap: true });
    expect(a.content.body.find((b) => b.type === 'FactSet')?.facts).toContainEqual({ title: 'Workload', value: 'Deployment team-a/web' });
    expect(a.content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Details', url: 'https://potoo.example/explain/attr-1' }]);
  });

  it('the generic webhook gets the JSON document with a verifiable HMAC-SHA256 signature', async () => {
    const n = makeNotifier();
    n.submit(notification(3, { channel: 'hook' }));
    await n.idle();
    expect(hook.received).toHaveLength(1);
    const r = hook.received[0]!;
    const doc = JSON.parse(r.body) as Record<string, unknown>;
    expect(doc).toMatchObject({ apiVersion: 'potoo.io/v1alpha1', kind: 'Notification', id: 'attr-3', severity: 'Critical', namespace: 'team-a', title: 'Pod creation blocked by a ResourceQuota' });
    expect(r.headers[DELIVERY_HEADER.toLowerCase()]).toBe('attr-3');
    const ts = r.headers[TIMESTAMP_HEADER.toLowerCase()] as string;
    const sig = r.headers[SIGNATURE_HEADER.toLowerCase()] as string;
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature('k3y-for-hmac', ts, r.body, sig)).toBe(true);
    expect(verifySignature('wrong-key', ts, r.body, sig)).toBe(false);
    expect(verifySignature('k3y-for-hmac', ts, r.body.replace('Critical', 'Info'), sig)).toBe(false);
  });

  it('onDelivered hears of each delivery, after any retries; a callback that throws does not make a delivered message failed (or resent)', async () => {
    slack.behaviour = (_r, i) => (i === 1 ? { status: 500, body: 'boom' } : { status: 200, body: 'ok' });
    const delivered: string[] = [];
    const n = makeNotifier({
      onDelivered: (x) => {
        delivered.push(x.id);
        throw new Error('callback bug');
      },
    });
    n.submit(notification(11));
    n.submit(notification(12, { channel: 'hook' }));
    await n.idle();
    expect(delivered.sort()).toEqual(['attr-11', 'attr-12']);
    expect(slack.received).toHaveLength(2);
    expect(hook.received).toHaveLength(1);
    expect(n.deadLetters()).toEqual([]);
  });

  it('a 500 is retried with backoff until the receiver recovers', async () => {
    slack.behaviour = (_r, i) => (i <= 2 ? { status: 500, body: 'boom' } : { status: 200, body: 'ok' });
    const n = makeNotifier();
    n.submit(notification(4));
    await n.idle();
    expect(slack.received).toHaveLength(3);
    // Same payload every time; the gaps grow (backoff).
    expect(new Set(slack.received.map((r) => r.body)).size).toBe(1);
    expect(n.deadLetters()).toHaveLength(0);
    expect(await metricValue('potoo_notification_attempts_total', { channel: 'slack', outcome: 'retry' })).toBeGreaterThanOrEqual(2);
  });

  it('honours Retry-After on 429, and a 400 is not retried', async () => {
    slack.behaviour = (_r, i) => (i === 1 ? { status: 429, body: 'rate_limited', headers: { 'Retry-After': '1' } } : { status: 200, body: 'ok' });
    const n = makeNotifier();
    n.submit(notification(5));
    await n.idle();
    expect(slack.received).toHaveLength(2);
    expect(slack.received[1]!.at - slack.received[0]!.at).toBeGreaterThanOrEqual(900);

    slack.reset();
    slack.behaviour = () => ({ status: 400, body: 'invalid_payload' });
    n.submit(notification(6));
    await n.idle();
    expect(slack.received).toHaveLength(1);
    expect(n.deadLetters().at(-1)).toMatchObject({ attempts: 1, error: expect.stringContaining('HTTP 400') });
  });

  it('1,000 events in one namespace within a minute yield at most 100 notifications', async () => {
    const before = await metricValue('potoo_notification_rate_limited_total', { namespace: 'noisy', channel: 'hook' });
    const n = makeNotifier();
    const results = Array.from({ length: 1000 }, (_, i) => n.submit(notification(1000 + i, { channel: 'hook', namespace: 'noisy' })));
    // Another namespace is not starved by the noisy one.
    expect(n.submit(notification(5000, { channel: 'hook', namespace: 'quiet' }))).toBe('queued');
    await n.idle();
    expect(results.filter((r) => r === 'queued')).toHaveLength(100);
    expect(results.filter((r) => r === 'rate-limited')).toHaveLength(900);
    const noisy = hook.received.filter((r) => (JSON.parse(r.body) as { namespace: string }).namespace === 'noisy');
    expect(noisy.length).toBeLessThanOrEqual(100);
    expect(noisy).toHaveLength(100);
    expect((await metricValue('potoo_notification_rate_limited_total', { namespace: 'noisy', channel: 'hook' })) - before).toBe(900);
  });

  it('a receiver that hangs costs one bounded timeout per attempt, then the message is delivered', async () => {
    hook.behaviour = (_r, i) => (i <= 2 ? 'hang' : { status: 204 });
    const n = makeNotifier();
    const t0 = Date.now();
    n.submit(notification(7, { channel: 'hook' }));
    await n.idle();
    const took = Date.now() - t0;
    expect(hook.received).toHaveLength(3);
    // Two 300 ms timeouts plus small backoffs: well under the sink's default 5 s.
    expect(took).toBeLessThan(3000);
    expect(n.deadLetters()).toHaveLength(0);
  });

  it('a dead receiver opens the channel circuit; queued messages wait instead of burning attempts, and are delivered when it recovers', async () => {
    let down = true;
    hook.behaviour = () => (down ? { status: 503 } : { status: 200 });
    const n = makeNotifier({ circuit: { failures: 3, cooldownMs: 300 }, maxAttempts: 4, concurrency: 1 });
    for (let i = 0; i < 5; i++) n.submit(notification(100 + i, { channel: 'hook', namespace: `ns${i}` }));
    await new Promise((r) => setTimeout(r, 250));
    expect(n.stats().openCircuits).toEqual(['hook']);
    const attemptsWhileOpen = hook.received.length;
    expect(attemptsWhileOpen).toBeLessThanOrEqual(4);
    down = false;
    await n.idle();
    const delivered = new Set(hook.received.filter((r) => r.at > 0).map((r) => (JSON.parse(r.body) as { id: string }).id));
    expect(delivered.size).toBe(5);
    expect(n.deadLetters()).toHaveLength(0);
    expect(n.stats().openCircuits).toEqual([]);
  });

  it('a receiver that never recovers: bounded attempts, then a dead letter with a log line', async () => {
    hook.behaviour = () => ({ status: 502 });
    const lines: string[] = [];
    const { pino } = await import('pino');
    const log = pino({ level: 'warn' }, { write: (s: string) => lines.push(s) });
    const n = makeNotifier({ maxAttempts: 3, log, circuit: { failures: 100, cooldownMs: 10 } });
    n.submit(notification(8, { channel: 'hook' }));
    await n.idle();
    expect(hook.received).toHaveLength(3);
    expect(n.deadLetters()).toHaveLength(1);
    expect(lines.join('')).toMatch(/notification not delivered.*|"msg":"notification not delivered"/);
  });
});
