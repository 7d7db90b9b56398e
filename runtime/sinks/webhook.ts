// A generic JSON webhook: the notification as a versioned document, optionally signed.
// Signature: X-Potoo-Signature: sha256=<hex HMAC-SHA256(key, "<timestamp>.<body>")> with
// X-Potoo-Timestamp: <unix seconds>. Signing the timestamp with the body lets receivers
// refuse replays (reject timestamps older than a few minutes), as Slack and Stripe do.
// X-Potoo-Delivery carries the notification id: retries repeat it, so receivers can dedupe.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { UrlSink, type UrlSinkOptions } from './http.js';
import type { SecretSource } from './secrets.js';
import { SinkError, type Notification } from './types.js';

export const SIGNATURE_HEADER = 'X-Potoo-Signature';
export const TIMESTAMP_HEADER = 'X-Potoo-Timestamp';
export const DELIVERY_HEADER = 'X-Potoo-Delivery';

export function webhookDocument(n: Notification): Record<string, unknown> {
  return { apiVersion: 'potoo.io/v1alpha1', kind: 'Notification', ...n };
}

export function sign(key: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex');
}

/** For receivers (and tests): constant-time check plus a replay window. */
export function verifySignature(key: string, timestamp: string, body: string, header: string, toleranceSec = 300, nowSec = Math.floor(Date.now() / 1000)): boolean {
  const ts = Number(timestamp);
  if (!Number.isFinite(ts) || Math.abs(nowSec - ts) > toleranceSec) return false;
  const want = Buffer.from(sign(key, timestamp, body));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

export interface WebhookSinkOptions extends UrlSinkOptions {
  hmacKey?: SecretSource;
  /** Extra static headers (an API key header a receiver wants; put secrets in hmacKey or the URL). */
  headers?: Record<string, string>;
}

export class WebhookSink extends UrlSink<WebhookSinkOptions> {
  readonly type = 'webhook' as const;

  async send(n: Notification, signal: AbortSignal): Promise<void> {
    const what = this.what;
    const body = JSON.stringify(webhookDocument(n));
    const headers: Record<string, string> = { ...this.opts.headers, [DELIVERY_HEADER]: n.id };
    if (this.opts.hmacKey) {
      let key: string;
      try {
        key = await this.secrets.resolve(this.opts.hmacKey);
      } catch (err) {
        throw new SinkError(`${what}: HMAC key: ${(err as Error).message}`, (err as { retryable?: unknown }).retryable === true);
      }
      const ts = String(Math.floor(Date.now() / 1000));
      headers[TIMESTAMP_HEADER] = ts;
      headers[SIGNATURE_HEADER] = sign(key, ts, body);
    }
    await this.post(body, signal, headers);
  }
}
