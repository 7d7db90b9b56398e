// One bounded HTTP POST for the chat and webhook sinks. A receiver that accepts the
// connection and never answers is cut by the deadline; the status decides whether the
// dispatcher may try again.
import type { SecretResolver, SecretSource } from './secrets.js';
import { retryableStatus, SinkError, type Notification, type Sink } from './types.js';

export interface PostOptions {
  headers?: Record<string, string>;
  /** Whole-request deadline, ms (default 5 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Most response bytes read (for error messages); the rest is discarded. */
  maxResponseBytes?: number;
}

export interface PostResult {
  status: number;
  body: string;
}

/** Seconds or an HTTP date, as Retry-After allows; capped at 5 minutes. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const secs = Number(v);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(v) - now;
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, 5 * 60_000);
}

async function readBounded(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

/**
 * POST a body; resolve with the answer on 2xx, throw SinkError otherwise. `what` names
 * the channel in error messages; the URL never appears in them (it is a secret).
 */
export async function postJson(url: string, body: string, what: string, opts: PostOptions = {}): Promise<PostResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'potoo', ...opts.headers },
      signal,
      // A webhook URL that redirects is misconfigured (or hijacked): do not follow it with the payload.
      redirect: 'manual',
    });
  } catch (err) {
    if (timeout.aborted) throw new SinkError(`${what}: no answer within ${timeoutMs} ms`, true);
    if (opts.signal?.aborted) throw new SinkError(`${what}: cancelled`, false);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new SinkError(`${what}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, true);
  }
  let text: string;
  try {
    text = await readBounded(res, opts.maxResponseBytes ?? 4096);
  } catch (err) {
    if (timeout.aborted) throw new SinkError(`${what}: response not finished within ${timeoutMs} ms`, true);
    throw new SinkError(`${what}: reading the response failed: ${(err as Error).message}`, true);
  }
  if (res.status >= 200 && res.status < 300) return { status: res.status, body: text };
  const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
  throw new SinkError(`${what}: HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, retryableStatus(res.status), res.status, retryAfter);
}

/** A secret URL, with errors turned into SinkErrors the dispatcher understands. */
export async function resolveUrl(secrets: Pick<SecretResolver, 'resolve'>, src: SecretSource, what: string): Promise<string> {
  try {
    const url = await secrets.resolve(src);
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new SinkError(`${what}: URL scheme ${u.protocol} is not http(s)`, false);
    return url;
  } catch (err) {
    if (err instanceof SinkError) throw err;
    const retryable = (err as { retryable?: unknown }).retryable === true;
    throw new SinkError(`${what}: ${(err as Error).message}`, retryable);
  }
}

/** What every URL sink takes besides its URL: a channel name for messages, a deadline. */
export interface UrlSinkOptions {
  name?: string;
  timeoutMs?: number;
}

/** A sink that POSTs one JSON document to a URL held in a secret (Slack, Teams, webhook). */
export abstract class UrlSink<O extends UrlSinkOptions = UrlSinkOptions> implements Sink {
  abstract readonly type: Sink['type'];
  constructor(
    protected readonly url: SecretSource,
    protected readonly secrets: Pick<SecretResolver, 'resolve'>,
    protected readonly opts: O = {} as O,
  ) {}

  abstract send(n: Notification, signal: AbortSignal): Promise<void>;

  /** The channel's name in error messages: its configured name, else its type. */
  protected get what(): string {
    return this.opts.name ?? this.type;
  }

  /** Resolves the URL and POSTs `body` with the channel's deadline. */
  protected async post(body: string, signal: AbortSignal, headers?: Record<string, string>): Promise<PostResult> {
    const url = await resolveUrl(this.secrets, this.url, this.what);
    return postJson(url, body, this.what, { signal, timeoutMs: this.opts.timeoutMs ?? 5000, ...(headers ? { headers } : {}) });
  }
}
