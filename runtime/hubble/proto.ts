// Loading the Hubble proto subset and the wire shapes it decodes to. Decoding options:
// field names as in the .proto (snake_case, as Hubble's own JSON), enums as names,
// 64-bit integers as strings (no precision loss), oneofs named.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The proto directory, from source (runtime/hubble/) or compiled (dist/runtime/hubble/) code. */
export function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'runtime', 'hubble', 'proto');
    if (existsSync(join(dir, 'proto', 'observer', 'observer.proto'))) return join(dir, 'proto');
    if (existsSync(join(candidate, 'observer', 'observer.proto'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('cannot find the Hubble proto files (runtime/hubble/proto)');
}

export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true };

let cached: protoLoader.PackageDefinition | undefined;

export function packageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(['observer/observer.proto'], { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
  return cached;
}

// Wire shapes (with the options above). Everything is optional: proto3 omits defaults.

export interface WireTimestamp {
  seconds?: string | number;
  nanos?: number;
}

export interface WirePolicy {
  name?: string;
  namespace?: string;
  labels?: string[];
  revision?: string;
  kind?: string;
}

export interface WireEndpoint {
  ID?: number;
  identity?: number;
  namespace?: string;
  labels?: string[];
  pod_name?: string;
  workloads?: { name?: string; kind?: string }[];
}

export interface WirePorts {
  source_port?: number;
  destination_port?: number;
}

export interface WireFlow {
  time?: WireTimestamp;
  uuid?: string;
  verdict?: string | number;
  drop_reason?: number;
  IP?: { source?: string; destination?: string; ipVersion?: string | number };
  l4?: { protocol?: string; TCP?: WirePorts; UDP?: WirePorts; SCTP?: WirePorts; ICMPv4?: { type?: number; code?: number }; ICMPv6?: { type?: number; code?: number } };
  source?: WireEndpoint;
  destination?: WireEndpoint;
  Type?: string | number;
  node_name?: string;
  source_names?: string[];
  destination_names?: string[];
  event_type?: { type?: number; sub_type?: number };
  source_service?: { name?: string; namespace?: string };
  destination_service?: { name?: string; namespace?: string };
  traffic_direction?: string | number;
  policy_match_type?: number;
  drop_reason_desc?: string | number;
  is_reply?: { value?: boolean };
  egress_allowed_by?: WirePolicy[];
  ingress_allowed_by?: WirePolicy[];
  egress_denied_by?: WirePolicy[];
  ingress_denied_by?: WirePolicy[];
  Summary?: string;
}

export interface WireLostEvent {
  source?: string | number;
  num_events_lost?: string | number;
  cpu?: { value?: number };
}

export interface WireFlowFilter {
  source_pod?: string[];
  destination_pod?: string[];
  verdict?: (string | number)[];
  event_type?: { type?: number; match_sub_type?: boolean; sub_type?: number }[];
  source_label?: string[];
  destination_label?: string[];
  traffic_direction?: (string | number)[];
}

export interface GetFlowsRequest {
  number?: string | number;
  follow?: boolean;
  blacklist?: WireFlowFilter[];
  whitelist?: WireFlowFilter[];
  since?: WireTimestamp;
  until?: WireTimestamp;
  first?: boolean;
}

export interface GetFlowsResponse {
  response_types?: 'flow' | 'lost_events';
  flow?: WireFlow;
  lost_events?: WireLostEvent;
  node_name?: string;
  time?: WireTimestamp;
}

export interface ServerStatusResponse {
  num_flows?: string;
  max_flows?: string;
  seen_flows?: string;
  uptime_ns?: string;
  version?: string;
}

export interface ObserverClient extends grpc.Client {
  GetFlows(request: GetFlowsRequest, metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<GetFlowsResponse>;
  ServerStatus(request: Record<string, never>, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res?: ServerStatusResponse) => void): grpc.ClientUnaryCall;
}

interface ObserverPackage {
  observer: { Observer: grpc.ServiceClientConstructor };
}

export function observerPackage(): ObserverPackage {
  return grpc.loadPackageDefinition(packageDefinition()) as unknown as ObserverPackage;
}

export function toTimestamp(d: Date): WireTimestamp {
  const ms = d.getTime();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

export function fromTimestamp(t: WireTimestamp | undefined): Date | undefined {
  if (!t || t.seconds === undefined) return undefined;
  const s = Number(t.seconds);
  if (!Number.isFinite(s)) return undefined;
  return new Date(s * 1000 + Math.floor((t.nanos ?? 0) / 1_000_000));
}
