// REST paths of the Kubernetes API: /api/v1/... for the core group, /apis/<group>/<version>/...
// for the rest, with /namespaces/<ns>/ in between for namespaced objects.
import type { Gvr } from '../../engine/model.js';

function groupVersionPath(gvr: Pick<Gvr, 'group' | 'version'>): string {
  return gvr.group === '' ? `/api/${gvr.version}` : `/apis/${gvr.group}/${gvr.version}`;
}

/** The list/watch/create path; a namespace narrows a namespaced resource to it (omit it to span all namespaces). */
export function collectionPath(gvr: Gvr, namespace?: string): string {
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupVersionPath(gvr)}${ns}/${gvr.resource}`;
}

export function objectPath(gvr: Gvr, namespace: string | undefined, name: string, subresource?: string): string {
  return `${collectionPath(gvr, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

/** Well-known GVRs the controller talks to directly. */
export const GVR = {
  namespaces: { group: '', version: 'v1', resource: 'namespaces' },
  configmaps: { group: '', version: 'v1', resource: 'configmaps' },
  events: { group: 'events.k8s.io', version: 'v1', resource: 'events' },
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' },
  crds: { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' },
  constraintProfiles: { group: 'potoo.io', version: 'v1alpha1', resource: 'constraintprofiles' },
  notificationPolicies: { group: 'potoo.io', version: 'v1alpha1', resource: 'notificationpolicies' },
  constraintReports: { group: 'potoo.io', version: 'v1alpha1', resource: 'constraintreports' },
} as const satisfies Record<string, Gvr>;

export const POTOO_GROUP = 'potoo.io';
