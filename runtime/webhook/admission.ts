// AdmissionReview (admission.k8s.io/v1, and v1beta1 for old API servers): reading what
// the API server sends and writing the only answer Potoo ever gives: allowed, with
// warnings. Reading is defensive: the body comes over the network and a malformed one
// must cost a bounded amount of work and produce a clear reason, never an exception.
import { rec } from '../../engine/json.js';
import type { Gvr, KubeObject } from '../../engine/model.js';

export const ADMISSION_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;
export type AdmissionVersion = (typeof ADMISSION_VERSIONS)[number];

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const OPERATIONS: readonly string[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

export interface AdmissionUser {
  username?: string;
  uid?: string;
  groups?: string[];
}

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: Gvr;
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  userInfo: AdmissionUser;
  object?: KubeObject;
  oldObject?: KubeObject;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: true;
  warnings?: string[];
}

export interface AdmissionReviewOut {
  apiVersion: AdmissionVersion;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export type ParsedReview =
  | { ok: true; apiVersion: AdmissionVersion; request: AdmissionRequest }
  /** `uid` is set when the request identified itself: it can still get an allowed answer. */
  | { ok: false; reason: MalformedReason; message: string; uid?: string; apiVersion?: AdmissionVersion };

export type MalformedReason = 'json' | 'not-review' | 'version' | 'no-request' | 'no-uid' | 'fields';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Parse and validate one AdmissionReview body. */
export function parseAdmissionReview(body: string | Buffer): ParsedReview {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'json', message: `body is not JSON: ${(err as Error).message}` };
  }
  const review = rec(doc);
  if (!review || review.kind !== 'AdmissionReview') return { ok: false, reason: 'not-review', message: 'body is not an AdmissionReview' };
  const apiVersion = ADMISSION_VERSIONS.find((v) => v === review.apiVersion);
  if (!apiVersion) return { ok: false, reason: 'version', message: `unsupported AdmissionReview apiVersion ${JSON.stringify(review.apiVersion)}` };
  const req = rec(review.request);
  if (!req) return { ok: false, reason: 'no-request', message: 'AdmissionReview has no request', apiVersion };
  const uid = str(req.uid);
  if (!uid) return { ok: false, reason: 'no-uid', message: 'AdmissionReview request has no uid', apiVersion };

  const bad = (message: string): ParsedReview => ({ ok: false, reason: 'fields', message, uid, apiVersion });
  const kind = rec(req.kind);
  const resource = rec(req.resource);
  if (!kind || typeof kind.kind !== 'string' || typeof kind.version !== 'string') return bad('request.kind is missing or malformed');
  if (!resource || typeof resource.resource !== 'string' || typeof resource.version !== 'string') return bad('request.resource is missing or malformed');
  const operation = str(req.operation);
  if (!operation || !OPERATIONS.includes(operation)) return bad(`request.operation ${JSON.stringify(req.operation)} is not one of ${OPERATIONS.join(', ')}`);
  const object = req.object === null || req.object === undefined ? undefined : rec(req.object);
  if (req.object !== null && req.object !== undefined && !object) return bad('request.object is not an object');
  const oldObject = req.oldObject === null || req.oldObject === undefined ? undefined : rec(req.oldObject);
  const user = rec(req.userInfo) ?? {};
  const groups = Array.isArray(user.groups) ? user.groups.filter((g): g is string => typeof g === 'string') : undefined;

  const request: AdmissionRequest = {
    uid,
    kind: { group: str(kind.group) ?? '', version: kind.version, kind: kind.kind },
    resource: { group: str(resource.group) ?? '', version: resource.version, resource: resource.resource },
    operation: operation as Operation,
    userInfo: { ...(str(user.username) !== undefined ? { username: str(user.username) } : {}), ...(groups ? { groups } : {}) },
  };
  const sub = str(req.subResource);
  if (sub) request.subResource = sub;
  const name = str(req.name);
  if (name) request.name = name;
  const ns = str(req.namespace);
  if (ns) request.namespace = ns;
  if (object) request.object = object as KubeObject;
  if (oldObject) request.oldObject = oldObject as KubeObject;
  if (req.dryRun === true) request.dryRun = true;
  return { ok: true, apiVersion, request };
}

/** The answer: always allowed. Warnings only when there are some (an empty list is noise in the audit log). */
export function allowedReview(uid: string, warnings: readonly string[] = [], apiVersion: AdmissionVersion = 'admission.k8s.io/v1'): AdmissionReviewOut {
  const response: AdmissionResponse = { uid, allowed: true };
  if (warnings.length) response.warnings = [...warnings];
  return { apiVersion, kind: 'AdmissionReview', response };
}
