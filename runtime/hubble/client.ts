// A Hubble Observer client: one long-lived GetFlows(follow) stream filtered to DROPPED
// flows, re-opened with jittered exponential backoff whenever it ends. On reconnect it
// asks for flows since the last one it saw, so drops during a Relay restart are still
// delivered from Hubble's ring buffer (and the overlap is deduplicated by flow uuid).
// Flow handling is sequential and bounded: if the callback falls behind, the stream is
// paused (gRPC flow control pushes back to the server) rather than buffering without limit.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffPolicy } from '../sinks/backoff.js';
import { hubbleMetrics } from './metrics.js';
import { DedupeWindow } from './dedupe.js';
import { flowHead, flowKey, normalizeFlow, wireFlowKey, type NormalizedFlow } from './normalize.js';
import { observerPackage, toTimestamp, type GetFlowsRequest, type GetFlowsResponse, type ObserverClient, type WireFlowFilter } from './proto.js';

export type FlowHandler = (flow: NormalizedFlow) => void | Promise<void>;

export interface HubbleClientOptions {
  /** host:port of Hubble Relay (or a node's Hubble server, or unix:///var/run/cilium/hubble.sock). */
  address: string;
  /** TLS to Relay (mTLS when cert and key are given); absent = plaintext. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string };
  onFlow: FlowHandler;
  /** Hubble could not deliver `count` events (its buffers overflowed). */
  onLost?: (count: number, source: string) => void;
  /** Only drops involving these namespaces (both directions); default: all. */
  namespaces?: readonly string[];
  backoff?: BackoffPolicy;
  /** Identical drops within this window are counted, not handed on (default 10 s; 0 = off). */
  dedupeWindowMs?: number;
  /** Most distinct drops the dedupe window remembers; past it the oldest are forgotten early (default 100k). */
  dedupeMaxKeys?: number;
  /** Pause the stream when this many flows wait for the handler (default 1000). */
  maxBuffered?: number;
  /** Resume from the last seen flow time after a reconnect (default true). */
  resume?: boolean;
  /** gRPC keepalive ping interval (default 5 min: Go gRPC servers refuse pings more often than that). */
  keepaliveMs?: number;
  log?: Logger;
}

export type HubbleState = 'idle' | 'connecting' | 'streaming' | 'backoff' | 'stopped';

const RECENT_UUIDS = 10_000;
const DEDUPE_MAX_KEYS = 100_000;

export class HubbleClient {
  private readonly opts: HubbleClientOptions;
  private client: ObserverClient | undefined;
  private call: grpc.ClientReadableStream<GetFlowsResponse> | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly stopCtl = new AbortController();
  private state: HubbleState = 'idle';
  private lastSeen: Date | undefined;
  private readonly recentUuids = new Set<string>();
  private readonly dedupe: DedupeWindow | undefined;
  private readonly pending: NormalizedFlow[] = [];
  private draining: Promise<void> | undefined;
  private paused = false;
  private delivered = 0;
  private reconnects = 0;
  private lastError: string | undefined;

  constructor(opts: HubbleClientOptions) {
    this.opts = opts;
    const window = opts.dedupeWindowMs ?? 10_000;
    if (window > 0) this.dedupe = new DedupeWindow(window, Math.max(1, opts.dedupeMaxKeys ?? DEDUPE_MAX_KEYS));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.state = 'stopped';
    this.stopCtl.abort();
    this.call?.cancel();
    await this.loop;
    await this.draining;
    this.client?.close();
    this.client = undefined;
    hubbleMetrics.connected.set(0);
  }

  status(): { state: HubbleState; delivered: number; reconnects: number; lastSeen?: string; lastError?: string } {
    return {
      state: this.state,
      delivered: this.delivered,
      reconnects: this.reconnects,
      ...(this.lastSeen ? { lastSeen: this.lastSeen.toISOString() } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private credentials(): grpc.ChannelCredentials {
    const t = this.opts.tls;
    if (!t) return grpc.credentials.createInsecure();
    return grpc.credentials.createSsl(t.ca ?? null, t.key ?? null, t.cert ?? null);
  }

  private makeClient(): ObserverClient {
    const { observer } = observerPackage();
    const options: grpc.ChannelOptions = {
      'grpc.keepalive_time_ms': this.opts.keepaliveMs ?? 300_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 0,
      // Our own loop reconnects with backoff; keep the channel's retries short.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 5_000,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    };
    if (this.opts.tls?.serverName) options['grpc.ssl_target_name_override'] = this.opts.tls.serverName;
    return new observer.Observer(this.opts.address, this.credentials(), options) as unknown as ObserverClient;
  }

  private request(): GetFlowsRequest {
    const whitelist: WireFlowFilter[] = [];
    const ns = this.opts.namespaces ?? [];
    if (ns.length === 0) whitelist.push({ verdict: ['DROPPED'] });
    else {
      // Filters OR together; fields within one AND: "dropped and from ns" or "dropped and to ns".
      whitelist.push({ verdict: ['DROPPED'], source_pod: ns.map((n) => `${n}/`) });
      whitelist.push({ verdict: ['DROPPED'], destination_pod: ns.map((n) => `${n}/`) });
    }
    const req: GetFlowsRequest = { follow: true, whitelist };
    if (this.lastSeen && this.opts.resume !== false) req.since = toTimestamp(this.lastSeen);
    return req;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (this.running) {
      this.client ??= this.makeClient();
      this.state = 'connecting';
      const opened = Date.now();
      let got = 0;
      const code = await new Promise<string>((resolve) => {
        const call = this.client!.GetFlows(this.request());
        this.call = call;
        let settled = false;
        const done = (c: string): void => {
          if (settled) return;
          settled = true;
          this.call = undefined;
          this.paused = false;
          hubbleMetrics.connected.set(0);
          resolve(c);
        };
        call.on('metadata', () => {
          this.state = 'streaming';
          hubbleMetrics.connected.set(1);
        });
        call.on('data', (msg: GetFlowsResponse) => {
          if (got++ === 0) {
            this.state = 'streaming';
            hubbleMetrics.connected.set(1);
          }
          this.onMessage(msg);
        });
        call.on('error', (err: grpc.ServiceError) => {
          this.lastError = `${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`;
          done(grpc.status[err.code] ?? String(err.code));
        });
        call.on('end', () => done('OK'));
      });
      if (!this.running) return;
      // A stream that stayed up a while was healthy: start the backoff over.
      if (Date.now() - opened > 30_000 || got > 0) attempt = 0;
      this.reconnects++;
      hubbleMetrics.reconnects.inc({ code });
      const delay = backoffDelay(attempt++, this.opts.backoff ?? DEFAULT_BACKOFF);
      const level = code === 'OK' ? 'info' : 'warn';
      this.opts.log?.[level]({ address: this.opts.address, code, err: this.lastError, retryInMs: delay }, 'Hubble flow stream ended; reconnecting');
      this.state = 'backoff';
      await sleep(delay, this.stopCtl.signal);
    }
  }

  private onMessage(msg: GetFlowsResponse): void {
    if (msg.lost_events) {
      const count = Number(msg.lost_events.num_events_lost ?? 0);
      const source = String(msg.lost_events.source ?? 'UNKNOWN_LOST_EVENT_SOURCE');
      hubbleMetrics.lost.inc({ source }, count);
      this.opts.log?.warn({ count, source }, 'Hubble reports lost events; some drops were not seen');
      try {
        this.opts.onLost?.(count, source);
      } catch {
        hubbleMetrics.handlerErrors.inc();
      }
      return;
    }
    const wire = msg.flow;
    if (!wire || typeof wire !== 'object') {
      hubbleMetrics.malformed.inc();
      return;
    }
    // Every flow is counted and moves the resume point, repeats included; only the
    // flows handed on are normalized (a retransmit storm repeats one drop many times).
    // The resume point is a time in the server's clock (`since` is compared with the
    // times Hubble gave its flows): a flow without one leaves it where it is, rather than
    // moving it to our own "now", which may be ahead of the server's and skip flows.
    const head = flowHead(wire);
    hubbleMetrics.flows.inc({ verdict: head.verdict, reason: head.dropReason ?? 'none' });
    if (head.time) {
      const t = new Date(head.time);
      if (!this.lastSeen || t > this.lastSeen) this.lastSeen = t;
    }
    if (wire.uuid) {
      if (this.recentUuids.has(wire.uuid)) return; // overlap after a resume
      this.recentUuids.add(wire.uuid);
      if (this.recentUuids.size > RECENT_UUIDS) this.recentUuids.delete(this.recentUuids.values().next().value as string);
    }
    // The dedupe window runs on our own clock (when the flow arrived), whether or not the flow has a time.
    if (this.dedupe && !this.dedupe.admit(wireFlowKey(wire, head), Date.now())) {
      hubbleMetrics.suppressed.inc();
      return;
    }
    const flow = normalizeFlow(wire, msg.node_name, head)!;
    this.pending.push(flow);
    const max = this.opts.maxBuffered ?? 1000;
    if (this.pending.length >= max && !this.paused && this.call) {
      this.paused = true;
      hubbleMetrics.backpressure.inc();
      this.call.pause();
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    const max = this.opts.maxBuffered ?? 1000;
    while (this.pending.length) {
      const flow = this.pending.shift()!;
      try {
        await this.opts.onFlow(flow);
        this.delivered++;
      } catch (err) {
        hubbleMetrics.handlerErrors.inc();
        this.opts.log?.error({ err: (err as Error).message, flow: flowKey(flow) }, 'flow handler failed');
      }
      if (this.paused && this.pending.length <= max / 2) {
        this.paused = false;
        this.call?.resume();
      }
    }
  }
}
