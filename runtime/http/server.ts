// The controller's HTTP endpoints: probes, Prometheus metrics, and the read API
// (served by every replica, leader or not).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { register as defaultRegistry, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { ApiError, capabilities, namespaceReport, queryConstraints, type ConstraintQuery } from '../controller/api.js';
import type { Access, ApiAuthorizer } from './auth.js';
import type { Controller } from '../controller/manager.js';

export interface HttpServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * The controller's own registry plus prom-client's default one, where the sinks, the
 * webhook, Hubble and the correlation/notification pipelines register (module-level
 * metrics shared by every controller in a process). A name in both is served once, from
 * the controller's registry, so a default-registry collector can never break the scrape.
 */
export async function mergedMetrics(own: Registry): Promise<string> {
  const mine = new Set(own.getMetricsAsArray().map((m) => m.name));
  const parts = [await own.metrics()];
  for (const m of defaultRegistry.getMetricsAsArray()) {
    if (mine.has(m.name)) continue;
    parts.push(await defaultRegistry.getSingleMetricAsString(m.name));
  }
  return parts.map((p) => p.trimEnd()).filter((p) => p !== '').join('\n') + '\n';
}

function send(res: http.ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(text);
}

function parseQuery(u: URL): ConstraintQuery {
  const q: ConstraintQuery = {};
  const get = (k: string): string | undefined => {
    const v = u.searchParams.get(k);
    return v === null || v === '' ? undefined : v;
  };
  const ns = get('namespace');
  const workload = get('workload');
  const type = get('type');
  const severity = get('severity');
  const limit = get('limit');
  if (ns !== undefined) q.namespace = ns;
  if (workload !== undefined) q.workload = workload;
  if (type !== undefined) q.type = type;
  if (severity !== undefined) q.severity = severity;
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 0) throw new ApiError(400, 'limit must be a non-negative integer');
    q.limit = n;
  }
  return q;
}

export interface HttpServerOptions {
  host?: string;
  port?: number;
  log: Logger;
  /** Guards /api/v1/* (probes and /metrics stay open); absent: the read API is open. */
  auth?: ApiAuthorizer;
}

const REPORT_ROUTE = /^\/api\/v1\/namespaces\/([^/]+)\/report$/;

/** The namespace of a /api/v1/namespaces/<ns>/report path. */
function reportNamespace(path: string): string | undefined {
  const m = REPORT_ROUTE.exec(path);
  return m ? decodeURIComponent(m[1] as string) : undefined;
}

/** What a read-API request reveals, as ConstraintReport access: one namespace, or all of them. */
function accessFor(path: string, u: URL): Access | undefined {
  if (path === '/api/v1/constraints') {
    const ns = u.searchParams.get('namespace');
    return ns ? { verb: 'get', namespace: ns } : { verb: 'list' };
  }
  if (path === '/api/v1/capabilities') return { verb: 'list' };
  const namespace = reportNamespace(path);
  if (namespace !== undefined) return { verb: 'get', namespace };
  return undefined;
}

export async function startHttpServer(ctl: Controller, opts: HttpServerOptions): Promise<HttpServer> {
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      opts.log.error({ err: (err as Error).message, url: req.url }, 'http handler failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { error: 'only GET' });
      return;
    }
    const path = u.pathname.replace(/\/+$/, '') || '/';
    if (opts.auth && path.startsWith('/api/')) {
      const access = accessFor(path, u);
      if (access) {
        const r = await opts.auth.check(req.headers.authorization, access);
        if (!r.ok) {
          if (r.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
          send(res, r.status, { error: r.message });
          return;
        }
      }
    }
    try {
      switch (path) {
        case '/healthz':
        case '/livez':
          send(res, 200, 'ok', 'text/plain');
          return;
        case '/readyz':
          if (ctl.isReady) send(res, 200, 'ok', 'text/plain');
          else send(res, 503, 'initial sync in progress', 'text/plain');
          return;
        case '/metrics': {
          ctl.collectMetrics();
          const text = await mergedMetrics(ctl.metrics.registry);
          send(res, 200, text, ctl.metrics.registry.contentType);
          return;
        }
        case '/api/v1/constraints':
          send(res, 200, { apiVersion: 'potoo.io/v1', kind: 'ConstraintList', replica: ctl.identity, leader: ctl.isLeader, ready: ctl.isReady, ...queryConstraints(ctl, parseQuery(u)) });
          return;
        case '/api/v1/capabilities':
          send(res, 200, { apiVersion: 'potoo.io/v1', kind: 'Capabilities', ...capabilities(ctl) });
          return;
      }
      const namespace = reportNamespace(path);
      if (namespace !== undefined) {
        send(res, 200, { apiVersion: 'potoo.io/v1', kind: 'NamespaceReport', namespace, ...namespaceReport(ctl, namespace) });
        return;
      }
      send(res, 404, { error: `no route ${path}` });
    } catch (err) {
      if (err instanceof ApiError) send(res, err.status, { error: err.message });
      else throw err;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, opts.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
  opts.log.info({ port }, 'http server listening');
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
