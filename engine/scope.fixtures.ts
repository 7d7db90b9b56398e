// Test-only scope subjects shared by engine/scope.test.ts and engine/store/constraints.test.ts.
import type { ScopeSubject } from './scope.js';

/** A cluster-scoped object that is not a Namespace. */
export const clusterRoleSubject: ScopeSubject = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRole',
  name: 'admin',
  labels: {},
  annotations: {},
  namespaceLabels: {},
};

/** A Namespace object; a Namespace's own labels are its namespace labels. */
export const namespaceSubject = (name: string, labels: Record<string, string> = {}): ScopeSubject => ({
  group: '',
  version: 'v1',
  kind: 'Namespace',
  name,
  labels,
  annotations: {},
  namespaceLabels: labels,
});
