// Webhook URLs and HMAC keys live in Kubernetes Secrets, never in a NotificationPolicy
// or a ConfigMap. The resolver reads one key of one Secret, caches it briefly (a rotated
// Secret is picked up within the TTL), and keeps serving the last good value when the
// API is unreachable, so an apiserver hiccup does not drop notifications.
import type { KubeClient } from '../kube/client.js';
import { KubeApiError } from '../kube/client.js';

export interface SecretKeyRef {
  /** Defaults to the resolver's namespace (where Potoo runs). */
  namespace?: string;
  name: string;
  key: string;
}

/** A value given inline (tests, non-secret settings) or read from a Secret. */
export type SecretSource = { value: string } | { secretRef: SecretKeyRef };

/** Why a Secret could not be read; a NotificationPolicy's status names it. */
export type SecretProblem = 'no-namespace' | 'not-allowed' | 'not-found' | 'forbidden' | 'no-key' | 'unavailable';

export class SecretError extends Error {
  constructor(
    message: string,
    /** A missing Secret or key will not fix itself on retry; a network error may. */
    readonly retryable: boolean,
    readonly problem: SecretProblem,
  ) {
    super(message);
    this.name = 'SecretError';
  }
}

export interface SecretResolverOptions {
  /** Namespace for refs that name none (Potoo's own). */
  namespace: string;
  ttlMs?: number;
  /**
   * Namespaces Potoo may read Secrets from. Default: only its own, so a configuration
   * cannot make Potoo send another team's Secret to a URL it controls. 'any' is for
   * callers whose refs carry a trusted namespace (the notify stage sets a channel's
   * Secret namespace to its NotificationPolicy's own).
   */
  allowedNamespaces?: readonly string[] | 'any';
}

interface Cached {
  value: string;
  at: number;
}

type SecretReader = Pick<KubeClient, 'request'>;

export class SecretResolver {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly ttlMs: number;
  private readonly allowed: ReadonlySet<string> | 'any';

  constructor(
    private readonly client: SecretReader,
    private readonly opts: SecretResolverOptions,
  ) {
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.allowed = opts.allowedNamespaces === 'any' ? 'any' : new Set(opts.allowedNamespaces ?? [opts.namespace]);
  }

  async resolve(src: SecretSource): Promise<string> {
    if ('value' in src) return src.value;
    const ref = src.secretRef;
    const ns = ref.namespace ?? this.opts.namespace;
    if (!ns) throw new SecretError(`Secret ${ref.name}: no namespace given`, false, 'no-namespace');
    if (this.allowed !== 'any' && !this.allowed.has(ns)) throw new SecretError(`Secret ${ns}/${ref.name}: Potoo may not read Secrets in namespace ${ns}`, false, 'not-allowed');
    const key = `${ns}/${ref.name}#${ref.key}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.fetch(ns, ref).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    try {
      const value = await p;
      this.cache.set(key, { value, at: Date.now() });
      return value;
    } catch (err) {
      // Stale beats nothing while the API is down; a deleted Secret is not "down".
      if (hit && err instanceof SecretError && err.retryable) return hit.value;
      throw err;
    }
  }

  /** Forget cached values (a Secret watch saw a change). */
  invalidate(namespace?: string, name?: string): void {
    if (!namespace) return this.cache.clear();
    for (const k of [...this.cache.keys()]) if (k.startsWith(`${namespace}/${name ?? ''}`)) this.cache.delete(k);
  }

  private async fetch(ns: string, ref: SecretKeyRef): Promise<string> {
    let secret: { data?: Record<string, string>; stringData?: Record<string, string> } | undefined;
    try {
      secret = await this.client.request({ path: `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets/${encodeURIComponent(ref.name)}`, timeoutMs: 5000 });
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 404 || err.status === 403)) {
        throw new SecretError(`Secret ${ns}/${ref.name}: ${err.status === 404 ? 'not found' : 'forbidden (grant get on it to Potoo)'}`, false, err.status === 404 ? 'not-found' : 'forbidden');
      }
      throw new SecretError(`Secret ${ns}/${ref.name}: ${(err as Error).message}`, true, 'unavailable');
    }
    const b64 = secret?.data?.[ref.key];
    if (b64 === undefined) throw new SecretError(`Secret ${ns}/${ref.name} has no key ${ref.key}`, false, 'no-key');
    return Buffer.from(b64, 'base64').toString('utf8').trim();
  }
}
