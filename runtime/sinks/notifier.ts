// The delivery queue between the notify stage and the sinks. It decides when to give up,
// never what to say:
// - a per-namespace limit (default 100 notifications per sliding minute) protects chat
//   channels from one noisy namespace; refusals are counted, and logged once per window;
// - every attempt is bounded by a deadline, so a receiver that hangs costs one timeout;
// - retryable failures (5xx, 429, timeouts, network) back off exponentially with jitter,
//   honouring Retry-After, up to a bounded number of attempts and a maximum age;
// - a per-channel circuit breaker pauses a channel after consecutive failures, so a dead
//   receiver does not eat the attempts of everything queued behind it: paused items wait,
//   they are not dropped;
// - what finally fails is logged with its id and kept in a small dead-letter list.
import type { Logger } from 'pino';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { sinkMetrics } from './metrics.js';
import { SlidingWindowLimiter } from './ratelimit.js';
import { SinkError, type Notification, type Sink } from './types.js';

export interface NotifierOptions {
  /** Channel name -> sink. */
  sinks: ReadonlyMap<string, Sink> | ((channel: string) => Sink | undefined);
  log?: Logger;
  /** Default 100 per minute per namespace; 0 disables the limit. */
  perNamespacePerMinute?: number;
  /** Limit key: the namespace (default), or e.g. namespace+channel. */
  limitKey?: (n: Notification) => string;
  /** Attempts per notification, including the first (default 6). */
  maxAttempts?: number;
  backoff?: BackoffPolicy;
  /** Upper bound on one attempt, whatever the sink does (default 15 s). */
  attemptTimeoutMs?: number;
  /** Give up on a notification this old, attempts left or not (default 15 min). */
  maxAgeMs?: number;
  /** Notifications waiting (including backoff); beyond it new ones are refused (default 10,000). */
  maxQueue?: number;
  concurrency?: number;
  circuit?: { failures: number; cooldownMs: number; maxCooldownMs?: number };
  /** Called after each delivery that succeeded (NotificationPolicy status counts them); must not throw. */
  onDelivered?: (n: Notification) => void;
  /** Injectable for tests. */
  random?: () => number;
  now?: () => number;
}

export type SubmitResult = 'queued' | 'rate-limited' | 'queue-full' | 'unknown-channel' | 'stopped';

export interface DeadLetter {
  notification: Notification;
  attempts: number;
  error: string;
  at: string;
}

interface Item {
  n: Notification;
  attempt: number;
  dueAt: number;
  submittedAt: number;
}

interface Circuit {
  failures: number;
  openUntil: number;
  cooldownMs: number;
  probing: boolean;
}

const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 60_000, factor: 2, jitter: 0.5 };
const DEAD_LETTERS = 100;

export class Notifier {
  private readonly queue: Item[] = [];
  private inflight = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;
  private readonly stopCtl = new AbortController();
  private readonly limiter: SlidingWindowLimiter | undefined;
  private readonly circuits = new Map<string, Circuit>();
  private readonly limitLogged = new Map<string, number>();
  private readonly dead: DeadLetter[] = [];
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;
  private readonly opts: Required<Omit<NotifierOptions, 'log' | 'random' | 'now' | 'limitKey' | 'onDelivered'>> & Pick<NotifierOptions, 'log' | 'random' | 'limitKey' | 'onDelivered'>;

  constructor(opts: NotifierOptions) {
    this.opts = {
      perNamespacePerMinute: 100,
      maxAttempts: 6,
      backoff: DEFAULT_BACKOFF,
      attemptTimeoutMs: 15_000,
      maxAgeMs: 15 * 60_000,
      maxQueue: 10_000,
      concurrency: 8,
      circuit: { failures: 5, cooldownMs: 30_000, maxCooldownMs: 5 * 60_000 },
      ...opts,
    };
    this.now = opts.now ?? Date.now;
    if (this.opts.perNamespacePerMinute > 0) this.limiter = new SlidingWindowLimiter(this.opts.perNamespacePerMinute, 60_000, this.now);
  }

  /** Queue one notification. Never throws; the result says what happened to it. */
  submit(n: Notification): SubmitResult {
    if (this.stopped) return 'stopped';
    if (!this.sinkFor(n.channel)) {
      sinkMetrics.notifications.inc({ channel: n.channel, result: 'dropped' });
      this.opts.log?.warn({ channel: n.channel, id: n.id }, 'notification for an unknown channel dropped');
      return 'unknown-channel';
    }
    const key = this.opts.limitKey ? this.opts.limitKey(n) : n.namespace;
    if (this.limiter && !this.limiter.tryAcquire(key)) {
      sinkMetrics.rateLimited.inc({ namespace: n.namespace || '_cluster', channel: n.channel });
      const t = this.now();
      const last = this.limitLogged.get(key) ?? 0;
      if (t - last >= 60_000) {
        this.limitLogged.set(key, t);
        this.opts.log?.warn({ namespace: n.namespace, limit: this.opts.perNamespacePerMinute }, 'notification rate limit reached for this namespace; further notifications this minute are counted in potoo_notification_rate_limited_total and not sent');
      }
      return 'rate-limited';
    }
    if (this.queue.length >= this.opts.maxQueue) {
      sinkMetrics.notifications.inc({ channel: n.channel, result: 'dropped' });
      this.opts.log?.error({ channel: n.channel, id: n.id, queue: this.queue.length }, 'notification queue full; notification dropped');
      return 'queue-full';
    }
    const t = this.now();
    this.insert({ n, attempt: 0, dueAt: t, submittedAt: t });
    this.pump();
    return 'queued';
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  deadLetters(): readonly DeadLetter[] {
    return this.dead;
  }

  stats(): { queued: number; inflight: number; openCircuits: string[] } {
    const t = this.now();
    return { queued: this.queue.length, inflight: this.inflight, openCircuits: [...this.circuits].filter(([, c]) => c.openUntil > t).map(([k]) => k) };
  }

  /** Stop accepting; let in-flight attempts finish for up to `drainMs`, then cancel them. Queued items are logged as undelivered. */
  async stop(drainMs = 5000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const left = this.queue.splice(0);
    if (left.length) this.opts.log?.warn({ count: left.length, ids: left.slice(0, 20).map((i) => i.n.id) }, 'stopping with undelivered notifications');
    sinkMetrics.queueDepth.set(0);
    const deadline = setTimeout(() => this.stopCtl.abort(), drainMs);
    await this.idle();
    clearTimeout(deadline);
    this.limiter?.prune();
  }

  private sinkFor(channel: string): Sink | undefined {
    const s = this.opts.sinks;
    return typeof s === 'function' ? s(channel) : s.get(channel);
  }

  private insert(item: Item): void {
    // Binary search keeps the queue ordered by due time; equal times stay FIFO.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.queue[mid]!.dueAt <= item.dueAt) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, item);
    sinkMetrics.queueDepth.set(this.queue.length);
  }

  private circuit(channel: string): Circuit {
    let c = this.circuits.get(channel);
    if (!c) this.circuits.set(channel, (c = { failures: 0, openUntil: 0, cooldownMs: this.opts.circuit.cooldownMs, probing: false }));
    return c;
  }

  private pump(): void {
    if (this.stopped) {
      if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    const t = this.now();
    const deferred: Item[] = [];
    while (this.inflight < this.opts.concurrency && this.queue.length && this.queue[0]!.dueAt <= t) {
      const item = this.queue.shift()!;
      const c = this.circuit(item.n.channel);
      if (c.openUntil > t || c.probing) {
        // Paused channel: wait for the breaker, keep the item (it is not lost).
        item.dueAt = Math.max(c.openUntil, t + 50);
        deferred.push(item);
        continue;
      }
      if (c.openUntil > 0) c.probing = true; // half-open: this attempt is the probe
      this.inflight++;
      void this.attempt(item, c);
    }
    for (const d of deferred) this.insert(d);
    sinkMetrics.queueDepth.set(this.queue.length);
    this.arm();
    if (this.queue.length === 0 && this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private arm(): void {
    const next = this.queue[0]?.dueAt;
    if (next === undefined || this.inflight >= this.opts.concurrency) return;
    if (this.timer && this.timerAt <= next) return;
    clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, next - this.now()));
  }

  private async attempt(item: Item, c: Circuit): Promise<void> {
    const { n } = item;
    const sink = this.sinkFor(n.channel);
    const signal = AbortSignal.any([AbortSignal.timeout(this.opts.attemptTimeoutMs), this.stopCtl.signal]);
    try {
      if (!sink) throw new SinkError(`channel ${n.channel} was removed`, false);
      await Promise.race([
        sink.send(n, signal),
        new Promise<never>((_, reject) => {
          const fail = (): void => reject(new SinkError(`${n.channel}: attempt exceeded ${this.opts.attemptTimeoutMs} ms`, true));
          if (signal.aborted) fail();
          else signal.addEventListener('abort', fail, { once: true });
        }),
      ]);
      sinkMetrics.attempts.inc({ channel: n.channel, outcome: 'ok' });
      sinkMetrics.notifications.inc({ channel: n.channel, result: 'delivered' });
      sinkMetrics.latency.observe({ channel: n.channel }, (this.now() - item.submittedAt) / 1000);
      if (c.openUntil > 0 || c.failures > 0) this.opts.log?.info({ channel: n.channel }, 'channel delivering again');
      c.failures = 0;
      c.openUntil = 0;
      c.probing = false;
      c.cooldownMs = this.opts.circuit.cooldownMs;
      sinkMetrics.circuitOpen.set({ channel: n.channel }, 0);
      this.delivered(n);
    } catch (err) {
      this.failed(item, c, err);
    } finally {
      this.inflight--;
      this.pump();
    }
  }

  private delivered(n: Notification): void {
    // Never lets a throw escape: a delivered message must not be counted failed and sent again.
    try {
      this.opts.onDelivered?.(n);
    } catch (err) {
      this.opts.log?.error({ channel: n.channel, id: n.id, err: (err as Error)?.message ?? String(err) }, 'onDelivered callback failed');
    }
  }

  private failed(item: Item, c: Circuit, err: unknown): void {
    const { n } = item;
    const t = this.now();
    const e = err instanceof SinkError ? err : new SinkError((err as Error)?.message ?? String(err), true);
    const attempts = item.attempt + 1;
    if (e.retryable) {
      c.failures++;
      if (c.probing || c.failures >= this.opts.circuit.failures) {
        c.cooldownMs = c.probing ? Math.min(c.cooldownMs * 2, this.opts.circuit.maxCooldownMs ?? c.cooldownMs * 2) : c.cooldownMs;
        if (c.openUntil <= t) this.opts.log?.warn({ channel: n.channel, failures: c.failures, pauseMs: c.cooldownMs, err: e.message }, 'channel failing; pausing deliveries to it');
        c.openUntil = t + c.cooldownMs;
        sinkMetrics.circuitOpen.set({ channel: n.channel }, 1);
      }
    }
    c.probing = false;
    const tooOld = t - item.submittedAt >= this.opts.maxAgeMs;
    if (!e.retryable || attempts >= this.opts.maxAttempts || tooOld || this.stopped) {
      sinkMetrics.attempts.inc({ channel: n.channel, outcome: 'error' });
      sinkMetrics.notifications.inc({ channel: n.channel, result: 'failed' });
      const why = this.stopped ? 'shutting down' : !e.retryable ? 'not retryable' : tooOld ? 'too old' : 'attempts exhausted';
      this.opts.log?.error({ channel: n.channel, id: n.id, namespace: n.namespace, title: n.title, attempts, err: e.message, why }, 'notification not delivered');
      this.dead.push({ notification: n, attempts, error: e.message, at: new Date(t).toISOString() });
      if (this.dead.length > DEAD_LETTERS) this.dead.shift();
      return;
    }
    sinkMetrics.attempts.inc({ channel: n.channel, outcome: 'retry' });
    const delay = Math.max(backoffDelay(item.attempt, this.opts.backoff, this.opts.random), e.retryAfterMs ?? 0);
    this.opts.log?.debug({ channel: n.channel, id: n.id, attempt: attempts, retryInMs: delay, err: e.message }, 'delivery failed; will retry');
    item.attempt = attempts;
    item.dueAt = t + delay;
    this.insert(item);
  }
}
