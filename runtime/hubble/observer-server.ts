// A local Hubble Observer (gRPC, the same proto subset) for tests, benchmarks and demos
// without a Cilium cluster: it keeps a ring buffer of flows, answers GetFlows with the
// buffered ones (number/since) and then follows, applying the verdict and pod-namespace
// whitelist filters the client sends. `stop()` is abrupt (like a Relay restart), so
// clients see their streams fail and must reconnect.
import * as grpc from '@grpc/grpc-js';
import { fromTimestamp, observerPackage, toTimestamp, type GetFlowsRequest, type GetFlowsResponse, type WireFlow, type WireFlowFilter } from './proto.js';

interface Follower {
  call: grpc.ServerWritableStream<GetFlowsRequest, GetFlowsResponse>;
  request: GetFlowsRequest;
}

const VERDICT_NUM: Record<string, number> = { VERDICT_UNKNOWN: 0, FORWARDED: 1, DROPPED: 2, ERROR: 3, AUDIT: 4, REDIRECTED: 5, TRACED: 6, TRANSLATED: 7 };

function verdictOf(v: string | number | undefined): number {
  if (typeof v === 'number') return v;
  return VERDICT_NUM[v ?? 'VERDICT_UNKNOWN'] ?? 0;
}

function podMatches(prefixes: string[] | undefined, ns: string | undefined, pod: string | undefined): boolean {
  if (!prefixes?.length) return true;
  const full = `${ns ?? ''}/${pod ?? ''}`;
  return prefixes.some((p) => (p.includes('/') ? full.startsWith(p) : (pod ?? '').startsWith(p)));
}

function filterMatches(f: WireFlowFilter, flow: WireFlow): boolean {
  if (f.verdict?.length && !f.verdict.some((v) => verdictOf(v) === verdictOf(flow.verdict))) return false;
  if (!podMatches(f.source_pod, flow.source?.namespace, flow.source?.pod_name)) return false;
  if (!podMatches(f.destination_pod, flow.destination?.namespace, flow.destination?.pod_name)) return false;
  return true;
}

/** Whitelist filters OR together; an empty whitelist admits everything. Blacklist subtracts. */
export function requestMatches(req: GetFlowsRequest, flow: WireFlow): boolean {
  if (req.whitelist?.length && !req.whitelist.some((f) => filterMatches(f, flow))) return false;
  if (req.blacklist?.some((f) => filterMatches(f, flow))) return false;
  return true;
}

export class LocalObserver {
  private server: grpc.Server | undefined;
  private readonly followers = new Set<Follower>();
  private readonly buffer: { flow: WireFlow; at: Date }[] = [];
  /** Every GetFlows request received, for assertions. */
  readonly requests: GetFlowsRequest[] = [];
  port = 0;

  constructor(private readonly capacity = 4096) {}

  /** Listen on 127.0.0.1 (port 0 = any; pass the old port to come back where clients expect it). */
  async start(port = this.port): Promise<number> {
    const server = new grpc.Server();
    const { observer } = observerPackage();
    server.addService(observer.Observer.service, {
      GetFlows: (call: grpc.ServerWritableStream<GetFlowsRequest, GetFlowsResponse>) => this.getFlows(call),
      ServerStatus: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { num_flows: String(this.buffer.length), max_flows: String(this.capacity), seen_flows: String(this.buffer.length), version: 'potoo-local-observer' }),
    });
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    this.server = server;
    return this.port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  followerCount(): number {
    return this.followers.size;
  }

  /** Record a flow and stream it to every follower whose filters admit it. */
  push(flow: WireFlow, nodeName = 'node-1'): void {
    const at = fromTimestamp(flow.time) ?? new Date();
    const stamped: WireFlow = { ...flow, time: flow.time ?? toTimestamp(at), node_name: flow.node_name ?? nodeName };
    this.buffer.push({ flow: stamped, at });
    if (this.buffer.length > this.capacity) this.buffer.shift();
    for (const f of this.followers) if (requestMatches(f.request, stamped)) f.call.write({ flow: stamped, node_name: stamped.node_name ?? nodeName, time: stamped.time! });
  }

  /** Tell followers Hubble lost events (as Relay does when its queue overflows). */
  pushLost(count: number, source = 'OBSERVER_EVENTS_QUEUE'): void {
    for (const f of this.followers) f.call.write({ lost_events: { source, num_events_lost: String(count) } });
  }

  /** Abrupt stop: open streams fail with UNAVAILABLE/CANCELLED, as when Relay restarts. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const f of this.followers) f.call.destroy(new Error('observer going away'));
    this.followers.clear();
    server?.forceShutdown();
  }

  private getFlows(call: grpc.ServerWritableStream<GetFlowsRequest, GetFlowsResponse>): void {
    const req = call.request;
    this.requests.push(req);
    call.sendMetadata(new grpc.Metadata());
    const since = fromTimestamp(req.since);
    let backlog = this.buffer.filter((b) => (!since || b.at >= since) && requestMatches(req, b.flow));
    const n = Number(req.number ?? 0);
    if (!since) backlog = n > 0 ? (req.first ? backlog.slice(0, n) : backlog.slice(-n)) : req.follow ? [] : backlog;
    for (const b of backlog) call.write({ flow: b.flow, node_name: b.flow.node_name ?? '', time: b.flow.time! });
    if (!req.follow) {
      call.end();
      return;
    }
    const f: Follower = { call, request: req };
    this.followers.add(f);
    const drop = (): void => {
      this.followers.delete(f);
    };
    call.on('cancelled', drop);
    call.on('close', drop);
    call.on('error', drop);
  }
}
