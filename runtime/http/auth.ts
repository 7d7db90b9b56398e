// Kubernetes authentication and authorization for the read API, the way kube-rbac-proxy
// does it: the caller's bearer token goes to a TokenReview, and what it may see is a
// SubjectAccessReview on the ConstraintReports it asks about (get in one namespace, list
// across all). The answer to "what constrains namespace X" is then exactly as private as
// X's ConstraintReport. Decisions are cached briefly, so a busy dashboard costs the
// apiserver little.
import { createHash } from 'node:crypto';
import type { KubeClient } from '../kube/client.js';
import type { Logger } from '../log.js';

export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export type AuthResult = { ok: true; user: UserInfo } | { ok: false; status: 401 | 403; message: string };

export interface Access {
  verb: 'get' | 'list';
  /** Undefined: across all namespaces. */
  namespace?: string;
}

export interface ApiAuthorizer {
  check(authorization: string | undefined, access: Access): Promise<AuthResult>;
}

interface Cached<T> {
  value: T;
  expires: number;
}

const TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;

export class KubernetesAuthorizer implements ApiAuthorizer {
  private readonly tokens = new Map<string, Cached<UserInfo | undefined>>();
  private readonly decisions = new Map<string, Cached<boolean>>();

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
  ) {}

  async check(authorization: string | undefined, access: Access): Promise<AuthResult> {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return { ok: false, status: 401, message: 'a bearer token is required (Authorization: Bearer <token>)' };
    const token = m[1] as string;
    const tokenKey = createHash('sha256').update(token).digest('base64url');
    let user: UserInfo | undefined;
    try {
      user = await this.cached(this.tokens, tokenKey, () => this.review(token));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'TokenReview failed');
      return { ok: false, status: 401, message: 'the token could not be reviewed' };
    }
    if (!user) return { ok: false, status: 401, message: 'the token is not valid' };
    const decisionKey = `${tokenKey}|${access.verb}|${access.namespace ?? '*'}`;
    let allowed: boolean;
    try {
      allowed = await this.cached(this.decisions, decisionKey, () => this.authorize(user as UserInfo, access));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'SubjectAccessReview failed');
      return { ok: false, status: 403, message: 'access could not be checked' };
    }
    if (!allowed) {
      const where = access.namespace ? `in namespace ${access.namespace}` : 'across all namespaces';
      return { ok: false, status: 403, message: `${user.username} may not ${access.verb} constraintreports.potoo.io ${where}` };
    }
    return { ok: true, user };
  }

  private async cached<T>(map: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = map.get(key);
    if (hit && hit.expires > now) return hit.value;
    const value = await load();
    if (map.size >= MAX_ENTRIES) map.clear();
    map.set(key, { value, expires: now + TTL_MS });
    return value;
  }

  private async review(token: string): Promise<UserInfo | undefined> {
    const r = await this.client.create<{ status?: { authenticated?: boolean; user?: UserInfo } }>('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    return r?.status?.authenticated && r.status.user ? r.status.user : undefined;
  }

  private async authorize(user: UserInfo, access: Access): Promise<boolean> {
    const spec: Record<string, unknown> = {
      user: user.username,
      groups: user.groups ?? [],
      resourceAttributes: { group: 'potoo.io', resource: 'constraintreports', verb: access.verb, ...(access.namespace ? { namespace: access.namespace } : {}) },
    };
    if (user.uid) spec.uid = user.uid;
    if (user.extra) spec.extra = user.extra;
    const r = await this.client.create<{ status?: { allowed?: boolean } }>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec,
    });
    return r?.status?.allowed === true;
  }
}
