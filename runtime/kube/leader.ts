// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: a
// candidate takes the lease only after it has seen the holder's record unchanged for a
// full lease duration (measured on its own clock, never comparing clocks across
// machines); a leader that cannot renew within the renew deadline steps down before
// anyone else may take over; a leader that stops cleanly releases the lease so a
// standby takes over at once. Writes use resourceVersion preconditions, so two
// candidates racing for an expired lease cannot both win.
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { KubeApiError, type KubeClient } from './client.js';
import { GVR, collectionPath, objectPath } from './paths.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Give the lease up on stop() (default true). */
  releaseOnStop?: boolean;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  /** Any change of holder, including other replicas (for status pages). */
  onNewLeader?: (identity: string | undefined) => void;
  log: Logger;
  metrics?: Metrics;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

/** metav1.MicroTime, which the Lease fields are. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private leading = false;
  private running = false;
  private observed: { key: string; at: number } | undefined;
  private lastRenew = 0;
  private current: Lease | undefined;
  private holder: string | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryMs)) {
      throw new Error('leader election needs lease duration > renew deadline > retry period');
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Who holds the lease, as last observed (undefined when nobody does). */
  get leader(): string | undefined {
    return this.holder;
  }

  get identity(): string {
    return this.opts.identity;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((err: unknown) => this.opts.log.error({ err }, 'leader election loop crashed'));
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loop;
    if (this.leading) {
      if (this.opts.releaseOnStop !== false) await this.release();
      this.setLeading(false);
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const ok = await this.tryAcquireOrRenew();
      if (!this.running) return;
      if (ok) {
        this.lastRenew = Date.now();
        if (!this.leading) this.setLeading(true);
      } else if (this.leading && Date.now() - this.lastRenew >= this.renewDeadlineMs) {
        // Past the renew deadline another replica may take over soon: stop writing now.
        this.opts.log.warn({ lease: this.opts.name, sinceRenewMs: Date.now() - this.lastRenew }, 'could not renew the leader lease in time; stepping down');
        this.setLeading(false);
      }
      // Jitter keeps candidates from hitting the lease in lockstep.
      const wait = this.leading ? this.retryMs : this.retryMs * (1 + Math.random() * 0.2);
      await this.sleep(wait);
    }
  }

  private setLeading(v: boolean): void {
    if (this.leading === v) return;
    this.leading = v;
    this.opts.metrics?.leader.set(v ? 1 : 0);
    this.opts.metrics?.leaderTransitions.inc();
    this.opts.log.info({ lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity }, v ? 'became leader' : 'stopped leading');
    try {
      if (v) this.opts.onStartedLeading?.();
      else this.opts.onStoppedLeading?.();
    } catch (err) {
      this.opts.log.error({ err }, 'leadership callback failed');
    }
  }

  private noteHolder(holder: string | undefined): void {
    if (holder === this.holder) return;
    this.holder = holder;
    try {
      this.opts.onNewLeader?.(holder);
    } catch (err) {
      this.opts.log.error({ err }, 'onNewLeader callback failed');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private path(): string {
    return objectPath(GVR.leases, this.opts.namespace, this.opts.name);
  }

  private desired(now: Date, prev: LeaseSpec | undefined): LeaseSpec {
    const mine = prev?.holderIdentity === this.opts.identity;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.max(1, Math.round(this.leaseMs / 1000)),
      acquireTime: mine && prev?.acquireTime ? prev.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: mine ? (prev?.leaseTransitions ?? 0) : (prev?.leaseTransitions ?? -1) + 1,
    };
  }

  /** One round: true when we hold the lease afterwards. Never throws. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    let lease: Lease;
    try {
      lease = await this.client.request<Lease>({ path: this.path(), timeoutMs: this.retryMs * 2 });
    } catch (err) {
      if (KubeApiError.is(err, 404)) return this.create(now);
      this.opts.log.debug({ err: (err as Error).message }, 'cannot read the leader lease');
      return false;
    }
    this.current = lease;
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity || undefined;
    this.noteHolder(holder);
    // Expiry is judged by when *we* saw the record change, so clock skew cannot matter.
    const key = `${holder ?? ''}|${spec.renewTime ?? ''}|${lease.metadata.resourceVersion ?? ''}`;
    if (!this.observed || this.observed.key !== key) this.observed = { key, at: Date.now() };
    const durationMs = (spec.leaseDurationSeconds ?? Math.round(this.leaseMs / 1000)) * 1000;
    if (holder && holder !== this.opts.identity && this.observed.at + durationMs > Date.now()) return false;
    const body: Lease = { ...lease, spec: this.desired(now, spec) };
    try {
      const updated = await this.client.request<Lease>({ method: 'PUT', path: this.path(), body, timeoutMs: this.retryMs * 2 });
      this.current = updated;
      this.observed = undefined;
      this.noteHolder(this.opts.identity);
      if (holder !== this.opts.identity) this.opts.log.info({ previous: holder ?? null }, 'acquired the leader lease');
      return true;
    } catch (err) {
      // 409: someone else wrote first; they hold it now.
      if (!KubeApiError.is(err, 409)) this.opts.log.debug({ err: (err as Error).message }, 'cannot update the leader lease');
      return false;
    }
  }

  private async create(now: Date): Promise<boolean> {
    const body: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.opts.name, namespace: this.opts.namespace },
      spec: this.desired(now, undefined),
    };
    try {
      this.current = await this.client.request<Lease>({ method: 'POST', path: collectionPath(GVR.leases, this.opts.namespace), body, timeoutMs: this.retryMs * 2 });
      this.noteHolder(this.opts.identity);
      this.opts.log.info('created the leader lease');
      return true;
    } catch (err) {
      if (!KubeApiError.is(err, 409)) this.opts.log.warn({ err: (err as Error).message }, 'cannot create the leader lease');
      return false;
    }
  }

  /** Hand the lease back: an empty holder lets a standby take it on its next try. */
  private async release(): Promise<void> {
    const lease = this.current;
    if (!lease || lease.spec?.holderIdentity !== this.opts.identity) return;
    const body: Lease = {
      ...lease,
      spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(new Date()), acquireTime: null },
    };
    try {
      await this.client.request({ method: 'PUT', path: this.path(), body, timeoutMs: 3000 });
      this.opts.log.info('released the leader lease');
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'could not release the leader lease; a standby takes over when it expires');
    }
  }
}
