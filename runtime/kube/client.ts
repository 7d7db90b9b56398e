// A small Kubernetes API client on node:https, authenticated by @kubernetes/client-node's
// KubeConfig. client-node's own Watch swallows undecodable lines and has no idle timeout,
// and its typed APIs turn timestamps into Dates; the controller needs raw JSON, every
// decode error surfaced, a watchdog on quiet streams and one keep-alive connection pool,
// so requests and watch streams are done here.
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import type { Metrics } from '../metrics.js';

export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: Record<string, unknown>;
}

/** An API answer that is not 2xx, or a request that never got an answer (status 0). */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body?: KubeStatus,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }

  static is(err: unknown, status: number): boolean {
    return err instanceof KubeApiError && err.status === status;
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query;
  body?: unknown;
  /** Defaults to application/json; patches name their flavour. */
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
  /** Metric label; defaults from the method (a GET of a collection should say `list`). */
  verb?: string;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

export interface WatchHandlers {
  onEvent(ev: WatchEvent): void;
  /** A line that is not JSON: the stream was cut mid-object or the server misbehaved. */
  onDecodeError(line: string, err: Error): void;
  /** Exactly once, when the stream ends for any reason; `err` is undefined for a clean end. */
  onClose(err?: Error): void;
}

export interface WatchHandle {
  abort(): void;
}

/** A watch stream that said nothing for too long (no event, no bookmark). */
export class WatchIdleError extends Error {
  constructor(ms: number) {
    super(`watch stream idle for ${ms} ms`);
    this.name = 'WatchIdleError';
  }
}

export interface KubeClientOptions {
  metrics?: Metrics;
  userAgent?: string;
  /** Default timeout for non-watch requests. */
  timeoutMs?: number;
}

export interface LoadKubeConfigOptions {
  /** Path to a kubeconfig; default: $KUBECONFIG, ~/.kube/config, or in-cluster. */
  kubeconfig?: string;
  inCluster?: boolean;
  context?: string;
}

/** In-cluster when asked (or when nothing else is configured and we run in a pod). */
export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  if (opts.inCluster) kc.loadFromCluster();
  else if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else if (!process.env['KUBECONFIG'] && process.env['KUBERNETES_SERVICE_HOST']) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (opts.context) kc.setCurrentContext(opts.context);
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current cluster');
  return kc;
}

/** How long auth headers are reused: in-cluster tokens rotate, but not per request. */
const HEADER_TTL_MS = 10_000;

export class KubeClient {
  readonly server: URL;
  private readonly agent: http.Agent;
  private readonly tls: https.RequestOptions;
  private headers: { value: Record<string, string>; at: number } | undefined;
  private readonly metrics: Metrics | undefined;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private closed = false;

  private constructor(
    private readonly kc: KubeConfig,
    tls: https.RequestOptions,
    opts: KubeClientOptions,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.tls = tls;
    this.metrics = opts.metrics;
    this.userAgent = opts.userAgent ?? 'potoo-controller';
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    const agentOpts = { keepAlive: true, keepAliveMsecs: 30_000, maxFreeSockets: 16 };
    this.agent = this.server.protocol === 'https:' ? new https.Agent({ ...agentOpts, ...pickTls(tls) }) : new http.Agent(agentOpts);
  }

  static async create(kc: KubeConfig, opts: KubeClientOptions = {}): Promise<KubeClient> {
    const probe: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(probe);
    return new KubeClient(kc, probe, opts);
  }

  /** The user this client authenticates as, when the kubeconfig names one (for logs). */
  get userName(): string | undefined {
    return this.kc.getCurrentUser()?.name;
  }

  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  private async authHeaders(): Promise<Record<string, string>> {
    const now = Date.now();
    if (this.headers && now - this.headers.at < HEADER_TTL_MS) return this.headers.value;
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const value: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (typeof v === 'string' || typeof v === 'number') value[k] = String(v);
      else if (Array.isArray(v)) value[k] = v.join(', ');
    }
    if (opts.auth) value['Authorization'] = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    this.headers = { value, at: now };
    return value;
  }

  url(path: string, query?: Query): URL {
    const base = this.server.pathname.replace(/\/$/, '');
    const u = new URL(base + path, this.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  private async open(method: string, u: URL, headers: Record<string, string>, timeoutMs: number | undefined): Promise<http.ClientRequest> {
    if (this.closed) throw new KubeApiError(0, 'ClientClosed', 'client is closed');
    const auth = await this.authHeaders();
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, {
      method,
      agent: this.agent,
      headers: { 'User-Agent': this.userAgent, ...auth, ...headers },
      ...(u.protocol === 'https:' ? pickTls(this.tls) : {}),
      ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
    });
    return req;
  }

  /** One request; resolves with the decoded JSON body (undefined when empty), throws KubeApiError otherwise. */
  async request<T = unknown>(opts: RequestOptions): Promise<T> {
    const method = opts.method ?? 'GET';
    const verb = opts.verb ?? verbOf(method);
    const u = this.url(opts.path, opts.query);
    const body = opts.body === undefined ? undefined : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
    if (body) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const end = this.metrics?.kubeRequestDuration.startTimer({ verb });
    let code = 0;
    try {
      const req = await this.open(method, u, headers, timeoutMs);
      const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        req.on('timeout', () => req.destroy(new KubeApiError(0, 'Timeout', `${method} ${opts.path}: no answer within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.on('response', (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          r.on('error', reject);
        });
        req.end(body);
      });
      code = res.status;
      let parsed: unknown;
      if (res.text !== '') {
        try {
          parsed = JSON.parse(res.text);
        } catch {
          parsed = undefined;
        }
      }
      if (res.status < 200 || res.status >= 300) throw statusError(res.status, parsed, res.text, `${method} ${opts.path}`);
      return parsed as T;
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      throw new KubeApiError(0, 'NetworkError', `${method} ${opts.path}: ${(err as Error).message}`);
    } finally {
      end?.();
      this.metrics?.kubeRequests.inc({ verb, code: String(code) });
    }
  }

  /**
   * Open a watch stream (the path must already carry `watch=true` or be a `/watch/` path).
   * Lines are decoded one by one; the stream is aborted when nothing arrives for
   * `idleTimeoutMs`, which catches connections that died without a FIN.
   */
  watch(path: string, query: Query, handlers: WatchHandlers, opts: { idleTimeoutMs: number }): WatchHandle {
    const u = this.url(path, { ...query, watch: true });
    let closed = false;
    let req: http.ClientRequest | undefined;
    let idle: NodeJS.Timeout | undefined;
    const finish = (err?: Error): void => {
      if (closed) return;
      closed = true;
      if (idle) clearTimeout(idle);
      handlers.onClose(err);
    };
    const armIdle = (): void => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => req?.destroy(new WatchIdleError(opts.idleTimeoutMs)), opts.idleTimeoutMs);
    };
    const handle: WatchHandle = {
      abort: () => {
        if (closed) return;
        closed = true;
        if (idle) clearTimeout(idle);
        req?.destroy();
      },
    };
    void (async () => {
      let code = 0;
      try {
        req = await this.open('GET', u, { Accept: 'application/json' }, undefined);
      } catch (err) {
        this.metrics?.kubeRequests.inc({ verb: 'watch', code: '0' });
        finish(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (closed) {
        req.destroy();
        return;
      }
      armIdle();
      req.on('error', (err) => finish(err instanceof KubeApiError || err instanceof WatchIdleError ? err : new KubeApiError(0, 'NetworkError', `watch ${path}: ${err.message}`)));
      req.on('response', (res) => {
        code = res.statusCode ?? 0;
        this.metrics?.kubeRequests.inc({ verb: 'watch', code: String(code) });
        if (code !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            finish(statusError(code, parsed, text, `watch ${path}`));
          });
          res.on('error', (err) => finish(err));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (closed) return;
          armIdle();
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line === '') continue;
            deliver(line);
            if (closed) return;
          }
        });
        res.on('end', () => {
          const rest = buf.trim();
          // A final line without its newline is an object the stream lost mid-way.
          if (rest !== '' && !closed) deliver(rest, true);
          finish();
        });
        res.on('error', (err) => finish(err));
        res.on('aborted', () => finish(new KubeApiError(0, 'NetworkError', `watch ${path}: stream aborted`)));
      });
      req.end();
    })();
    const deliver = (line: string, truncated = false): void => {
      let ev: unknown;
      try {
        ev = JSON.parse(line);
      } catch (err) {
        handlers.onDecodeError(line, truncated ? new Error(`stream ended mid-object: ${(err as Error).message}`) : (err as Error));
        return;
      }
      if (!isWatchEvent(ev)) {
        handlers.onDecodeError(line, new Error('not a watch event (needs type and object)'));
        return;
      }
      try {
        handlers.onEvent(ev);
      } catch (err) {
        // A handler bug must not leave the stream half-consumed and silent.
        handle.abort();
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    };
    return handle;
  }

  // Convenience verbs over request().
  get<T = unknown>(path: string, query?: Query): Promise<T> {
    return this.request<T>({ path, ...(query ? { query } : {}) });
  }
  create<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>({ method: 'POST', path, body });
  }
  replace<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>({ method: 'PUT', path, body });
  }
  mergePatch<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>({ method: 'PATCH', path, body, contentType: 'application/merge-patch+json' });
  }
  delete<T = unknown>(path: string): Promise<T> {
    return this.request<T>({ method: 'DELETE', path });
  }
}

type TlsOptions = Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'servername' | 'rejectUnauthorized'>;

function pickTls(o: https.RequestOptions): TlsOptions {
  const out: TlsOptions = {};
  if (o.ca) out.ca = o.ca;
  if (o.cert) out.cert = o.cert;
  if (o.key) out.key = o.key;
  if (o.pfx) out.pfx = o.pfx;
  if (o.passphrase) out.passphrase = o.passphrase;
  if (o.servername) out.servername = o.servername;
  if (o.rejectUnauthorized !== undefined) out.rejectUnauthorized = o.rejectUnauthorized;
  return out;
}

function isWatchEvent(v: unknown): v is WatchEvent {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.type === 'string' && typeof e.object === 'object' && e.object !== null;
}

function statusError(status: number, parsed: unknown, text: string, what: string): KubeApiError {
  const st = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as KubeStatus;
  const reason = st.reason ?? (http.STATUS_CODES[status] ?? 'Error').replace(/\s+/g, '');
  const message = st.message ?? (text.slice(0, 300) || `HTTP ${status}`);
  return new KubeApiError(status, reason, `${what}: ${status} ${reason}: ${message}`, st);
}

function verbOf(method: string): string {
  switch (method) {
    case 'GET':
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return method.toLowerCase();
  }
}
