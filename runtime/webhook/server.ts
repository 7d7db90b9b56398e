// The HTTPS server the API server calls. Bounded everywhere: body size, time to read
// the body, and the work per request (AdmissionHandler). Serving certificates are
// re-read when their files change, so cert-manager rotation needs no restart.
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { register } from 'prom-client';
import type { AdmissionHandler } from './handler.js';
import { webhookMetrics } from './metrics.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface WebhookServerOptions {
  handler: AdmissionHandler;
  /** PEM strings or files; absent = plain HTTP (tests and benchmarks behind a TLS proxy only). */
  tls?: { cert: string | Buffer; key: string | Buffer } | TlsFiles;
  host?: string;
  port?: number;
  log?: Logger;
  /** Largest accepted body. An AdmissionReview holds object and oldObject (each up to the API server's 3 MiB). */
  maxBodyBytes?: number;
  /** Time allowed to receive a whole request. The API server's own timeout is at most 30 s. */
  requestTimeoutMs?: number;
  /** Answers /readyz: false until the fact store has synced. */
  ready?: () => boolean;
  /** Check the certificate files for changes this often (ms). */
  certReloadMs?: number;
}

const VALIDATE_PATHS = new Set(['/validate', '/']);

export class WebhookServer {
  private server: http.Server | https.Server | undefined;
  private certTimer: NodeJS.Timeout | undefined;
  private certMtime = 0;
  private readonly log: Logger | undefined;
  private readonly maxBody: number;

  constructor(private readonly opts: WebhookServerOptions) {
    this.log = opts.log;
    this.maxBody = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  }

  async start(): Promise<{ port: number; url: string }> {
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => this.route(req, res);
    const tls = this.opts.tls;
    if (tls) {
      const material = 'certFile' in tls ? await this.readTls(tls) : tls;
      this.server = https.createServer({ ...material, minVersion: 'TLSv1.2' }, onRequest);
    } else {
      this.server = http.createServer(onRequest);
    }
    const srv = this.server;
    srv.requestTimeout = this.opts.requestTimeoutMs ?? 10_000;
    srv.headersTimeout = Math.min(srv.requestTimeout, 10_000);
    // The API server reuses connections; keep them a little longer than its idle timeout.
    srv.keepAliveTimeout = 65_000;
    srv.on('clientError', (err, socket) => {
      this.log?.debug({ err }, 'webhook client error');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.opts.port ?? 8443, this.opts.host ?? '0.0.0.0', () => {
        srv.off('error', reject);
        resolve();
      });
    });
    if (tls && 'certFile' in tls) this.watchCerts(tls);
    const addr = srv.address() as AddressInfo;
    const host = this.opts.host && this.opts.host !== '0.0.0.0' ? this.opts.host : '127.0.0.1';
    return { port: addr.port, url: `${tls ? 'https' : 'http'}://${host}:${addr.port}` };
  }

  async stop(): Promise<void> {
    clearInterval(this.certTimer);
    const srv = this.server;
    this.server = undefined;
    if (!srv) return;
    await new Promise<void>((resolve) => {
      srv.close(() => resolve());
      srv.closeAllConnections();
    });
  }

  private async readTls(files: TlsFiles): Promise<{ cert: Buffer; key: Buffer }> {
    const [cert, key, st] = await Promise.all([readFile(files.certFile), readFile(files.keyFile), stat(files.certFile)]);
    this.certMtime = st.mtimeMs;
    return { cert, key };
  }

  private watchCerts(files: TlsFiles): void {
    this.certTimer = setInterval(() => {
      void (async () => {
        try {
          const st = await stat(files.certFile);
          if (st.mtimeMs === this.certMtime) return;
          const material = await this.readTls(files);
          (this.server as https.Server | undefined)?.setSecureContext({ ...material, minVersion: 'TLSv1.2' });
          this.log?.info({ certFile: files.certFile }, 'reloaded the serving certificate');
        } catch (err) {
          // A half-written rotation reads as garbage: keep serving the old certificate, retry next tick.
          this.log?.warn({ err }, 'could not reload the serving certificate; keeping the current one');
        }
      })();
    }, this.opts.certReloadMs ?? 30_000);
    this.certTimer.unref();
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && (path === '/healthz' || path === '/livez')) return this.text(res, 200, 'ok');
    if (req.method === 'GET' && path === '/readyz') {
      const ready = this.opts.ready?.() ?? true;
      return this.text(res, ready ? 200 : 503, ready ? 'ok' : 'fact store not synced');
    }
    if (req.method === 'GET' && path === '/metrics') {
      void register.metrics().then(
        (m) => {
          res.writeHead(200, { 'Content-Type': register.contentType });
          res.end(m);
        },
        () => this.text(res, 500, 'metrics unavailable'),
      );
      return;
    }
    if (!VALIDATE_PATHS.has(path)) return this.text(res, 404, 'not found');
    if (req.method !== 'POST') return this.text(res, 405, 'POST an AdmissionReview');
    this.validate(req, res);
  }

  private validate(req: http.IncomingMessage, res: http.ServerResponse): void {
    const t0 = performance.now();
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > this.maxBody) {
      this.tooLarge(req, res, declared);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (d: Buffer) => {
      if (aborted) return;
      size += d.length;
      if (size > this.maxBody) {
        aborted = true;
        this.tooLarge(req, res, size);
        return;
      }
      chunks.push(d);
    });
    req.once('error', (err) => {
      aborted = true;
      this.log?.debug({ err }, 'admission request stream failed');
    });
    req.once('end', () => {
      if (aborted) return;
      const result = this.opts.handler.handle(Buffer.concat(chunks), t0);
      const payload = JSON.stringify(result.body);
      res.writeHead(result.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
      res.end(payload);
      webhookMetrics.duration.observe((performance.now() - t0) / 1000);
    });
  }

  private tooLarge(req: http.IncomingMessage, res: http.ServerResponse, size: number): void {
    webhookMetrics.malformed.inc({ reason: 'too-large' });
    webhookMetrics.requests.inc({ outcome: 'malformed' });
    this.log?.warn({ bytes: size, limit: this.maxBody }, 'AdmissionReview body over the size limit');
    // The API server applies failurePolicy (Ignore) to a 413: the request goes through.
    res.writeHead(413, { 'Content-Type': 'application/json', Connection: 'close' });
    res.end(JSON.stringify({ error: `body over ${this.maxBody} bytes` }));
    req.resume();
  }

  private text(res: http.ServerResponse, status: number, body: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body + '\n');
  }
}
