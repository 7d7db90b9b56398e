// Group/Version/Resource and Group/Version/Kind helpers, and the string keys the fact
// store and indices use. Live clusters learn resources from API discovery; this table
// is what offline analysis (manifest files, no API server) knows without asking.
import type { Gvk, Gvr, KubeObject } from './model.js';

export interface GroupVersion {
  group: string;
  version: string;
}

/** One entry of the built-in kind table. `version` is the preferred one, not the only one. */
export interface KindInfo {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
}

/** A GVR object, or its key string (see {@link gvrKey}). */
export type GvrLike = Gvr | string;

/**
 * Split an `apiVersion` the way apimachinery's ParseGroupVersion does: no slash is the
 * core group, one slash is group/version, anything else is malformed (undefined).
 */
export function parseApiVersion(apiVersion: string): GroupVersion | undefined {
  if (typeof apiVersion !== 'string' || apiVersion === '') return undefined;
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  if (apiVersion.indexOf('/', slash + 1) >= 0) return undefined;
  const group = apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  if (group === '' || version === '') return undefined;
  return { group, version };
}

export function formatApiVersion(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

// [kind, resource, namespaced] rows grouped by group/version; flattened into lookups below.
type Row = readonly [kind: string, resource: string, namespaced: boolean];
const NS = true;
const CLUSTER = false;

const TABLE: ReadonlyArray<readonly [group: string, version: string, rows: readonly Row[]]> = [
  [
    '',
    'v1',
    [
      ['Pod', 'pods', NS],
      ['Service', 'services', NS],
      ['Namespace', 'namespaces', CLUSTER],
      ['ConfigMap', 'configmaps', NS],
      ['Secret', 'secrets', NS],
      ['ServiceAccount', 'serviceaccounts', NS],
      ['ResourceQuota', 'resourcequotas', NS],
      ['LimitRange', 'limitranges', NS],
      ['Event', 'events', NS],
      ['ReplicationController', 'replicationcontrollers', NS],
      ['Endpoints', 'endpoints', NS],
      ['PersistentVolumeClaim', 'persistentvolumeclaims', NS],
      ['PersistentVolume', 'persistentvolumes', CLUSTER],
      ['Node', 'nodes', CLUSTER],
      ['PodTemplate', 'podtemplates', NS],
    ],
  ],
  [
    'apps',
    'v1',
    [
      ['Deployment', 'deployments', NS],
      ['StatefulSet', 'statefulsets', NS],
      ['DaemonSet', 'daemonsets', NS],
      ['ReplicaSet', 'replicasets', NS],
      ['ControllerRevision', 'controllerrevisions', NS],
    ],
  ],
  [
    'batch',
    'v1',
    [
      ['Job', 'jobs', NS],
      ['CronJob', 'cronjobs', NS],
    ],
  ],
  ['events.k8s.io', 'v1', [['Event', 'events', NS]]],
  ['policy', 'v1', [['PodDisruptionBudget', 'poddisruptionbudgets', NS]]],
  ['autoscaling', 'v2', [['HorizontalPodAutoscaler', 'horizontalpodautoscalers', NS]]],
  ['scheduling.k8s.io', 'v1', [['PriorityClass', 'priorityclasses', CLUSTER]]],
  ['node.k8s.io', 'v1', [['RuntimeClass', 'runtimeclasses', CLUSTER]]],
  ['apiextensions.k8s.io', 'v1', [['CustomResourceDefinition', 'customresourcedefinitions', CLUSTER]]],
  [
    'rbac.authorization.k8s.io',
    'v1',
    [
      ['Role', 'roles', NS],
      ['RoleBinding', 'rolebindings', NS],
      ['ClusterRole', 'clusterroles', CLUSTER],
      ['ClusterRoleBinding', 'clusterrolebindings', CLUSTER],
    ],
  ],
  [
    'networking.k8s.io',
    'v1',
    [
      ['NetworkPolicy', 'networkpolicies', NS],
      ['Ingress', 'ingresses', NS],
      ['IngressClass', 'ingressclasses', CLUSTER],
    ],
  ],
  [
    'admissionregistration.k8s.io',
    'v1',
    [
      ['ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', CLUSTER],
      ['MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', CLUSTER],
      ['ValidatingAdmissionPolicy', 'validatingadmissionpolicies', CLUSTER],
      ['ValidatingAdmissionPolicyBinding', 'validatingadmissionpolicybindings', CLUSTER],
    ],
  ],
  [
    // Beta in Kubernetes 1.34; the version here is only the default for offline input.
    'admissionregistration.k8s.io',
    'v1beta1',
    [
      ['MutatingAdmissionPolicy', 'mutatingadmissionpolicies', CLUSTER],
      ['MutatingAdmissionPolicyBinding', 'mutatingadmissionpolicybindings', CLUSTER],
    ],
  ],
  [
    'policy.networking.k8s.io',
    'v1alpha1',
    [
      ['AdminNetworkPolicy', 'adminnetworkpolicies', CLUSTER],
      ['BaselineAdminNetworkPolicy', 'baselineadminnetworkpolicies', CLUSTER],
    ],
  ],
  ['policy.networking.k8s.io', 'v1alpha2', [['ClusterNetworkPolicy', 'clusternetworkpolicies', CLUSTER]]],
  [
    'gateway.networking.k8s.io',
    'v1',
    [
      ['Gateway', 'gateways', NS],
      ['HTTPRoute', 'httproutes', NS],
      ['GRPCRoute', 'grpcroutes', NS],
      ['GatewayClass', 'gatewayclasses', CLUSTER],
    ],
  ],
  [
    'cilium.io',
    'v2',
    [
      ['CiliumNetworkPolicy', 'ciliumnetworkpolicies', NS],
      ['CiliumClusterwideNetworkPolicy', 'ciliumclusterwidenetworkpolicies', CLUSTER],
    ],
  ],
  [
    'kyverno.io',
    'v1',
    [
      ['ClusterPolicy', 'clusterpolicies', CLUSTER],
      ['Policy', 'policies', NS],
    ],
  ],
  [
    'kyverno.io',
    'v2',
    [
      ['PolicyException', 'policyexceptions', NS],
      ['CleanupPolicy', 'cleanuppolicies', NS],
      ['ClusterCleanupPolicy', 'clustercleanuppolicies', CLUSTER],
    ],
  ],
  [
    'policies.kyverno.io',
    'v1',
    [
      ['ValidatingPolicy', 'validatingpolicies', CLUSTER],
      ['MutatingPolicy', 'mutatingpolicies', CLUSTER],
      ['GeneratingPolicy', 'generatingpolicies', CLUSTER],
      ['DeletingPolicy', 'deletingpolicies', CLUSTER],
      ['ImageValidatingPolicy', 'imagevalidatingpolicies', CLUSTER],
      ['NamespacedValidatingPolicy', 'namespacedvalidatingpolicies', NS],
      ['NamespacedMutatingPolicy', 'namespacedmutatingpolicies', NS],
      ['NamespacedGeneratingPolicy', 'namespacedgeneratingpolicies', NS],
      ['NamespacedDeletingPolicy', 'namespaceddeletingpolicies', NS],
      ['NamespacedImageValidatingPolicy', 'namespacedimagevalidatingpolicies', NS],
      ['PolicyException', 'policyexceptions', NS],
    ],
  ],
  [
    'security.istio.io',
    'v1',
    [
      ['AuthorizationPolicy', 'authorizationpolicies', NS],
      ['PeerAuthentication', 'peerauthentications', NS],
      ['RequestAuthentication', 'requestauthentications', NS],
    ],
  ],
  [
    'networking.istio.io',
    'v1',
    [
      ['Sidecar', 'sidecars', NS],
      ['VirtualService', 'virtualservices', NS],
      ['DestinationRule', 'destinationrules', NS],
      ['Gateway', 'gateways', NS],
      ['ServiceEntry', 'serviceentries', NS],
    ],
  ],
  [
    'monitoring.coreos.com',
    'v1',
    [
      ['ServiceMonitor', 'servicemonitors', NS],
      ['PodMonitor', 'podmonitors', NS],
      ['PrometheusRule', 'prometheusrules', NS],
      ['Prometheus', 'prometheuses', NS],
    ],
  ],
  [
    'cert-manager.io',
    'v1',
    [
      ['Issuer', 'issuers', NS],
      ['ClusterIssuer', 'clusterissuers', CLUSTER],
      ['Certificate', 'certificates', NS],
      ['CertificateRequest', 'certificaterequests', NS],
    ],
  ],
  ['templates.gatekeeper.sh', 'v1', [['ConstraintTemplate', 'constrainttemplates', CLUSTER]]],
  ['config.gatekeeper.sh', 'v1alpha1', [['Config', 'configs', NS]]],
  [
    'mutations.gatekeeper.sh',
    'v1',
    [
      ['Assign', 'assign', CLUSTER],
      ['AssignMetadata', 'assignmetadata', CLUSTER],
      ['ModifySet', 'modifyset', CLUSTER],
      ['AssignImage', 'assignimage', CLUSTER],
    ],
  ],
  ['coordination.k8s.io', 'v1', [['Lease', 'leases', NS]]],
  [
    'wgpolicyk8s.io',
    'v1alpha2',
    [
      ['PolicyReport', 'policyreports', NS],
      ['ClusterPolicyReport', 'clusterpolicyreports', CLUSTER],
    ],
  ],
];

/**
 * Gatekeeper generates one CRD per ConstraintTemplate in this group, cluster-scoped,
 * whose plural is the lowercased kind with no suffix (e.g. K8sRequiredLabels ->
 * k8srequiredlabels), so the generic pluralizer would guess wrong.
 */
export const GATEKEEPER_CONSTRAINTS_GROUP = 'constraints.gatekeeper.sh';

const BY_GROUP_KIND = new Map<string, KindInfo>();
const BY_GROUP_RESOURCE = new Map<string, KindInfo>();
for (const [group, version, rows] of TABLE) {
  for (const [kind, resource, namespaced] of rows) {
    const info: KindInfo = Object.freeze({ group, version, kind, resource, namespaced });
    BY_GROUP_KIND.set(`${group}|${kind}`, info);
    BY_GROUP_RESOURCE.set(`${group}|${resource}`, info);
  }
}

/** Every kind the built-in table knows. */
export const KNOWN_KINDS: readonly KindInfo[] = Object.freeze([...BY_GROUP_KIND.values()]);

/** The built-in entry for a group and kind (any version: plurals do not change by version). */
export function kindInfo(group: string, kind: string): KindInfo | undefined {
  return BY_GROUP_KIND.get(`${group}|${kind}`);
}

/** Reverse lookup, for informers that know a GVR and need the kind it serves. */
export function kindForResource(group: string, resource: string): KindInfo | undefined {
  return BY_GROUP_RESOURCE.get(`${group}|${resource}`);
}

/**
 * Guess a resource plural from a kind, for kinds neither discovery nor the table know.
 * Follows the English rules CRD generators (kubebuilder's flect, gengo's namer) apply,
 * which is what CRD authors usually ship; a consonant + y takes "ies" but a vowel + y
 * does not (Gateway -> gateways), unlike apimachinery's cruder UnsafeGuessKindToResource.
 */
export function pluralize(kind: string): string {
  const k = kind.toLowerCase();
  if (k === '') return k;
  if (k.endsWith('y') && k.length > 1 && !'aeiou'.includes(k[k.length - 2] as string)) {
    return k.slice(0, -1) + 'ies';
  }
  if (k.endsWith('s') || k.endsWith('x') || k.endsWith('z') || k.endsWith('ch') || k.endsWith('sh')) {
    return k + 'es';
  }
  return k + 's';
}

export interface ResolvedKind {
  gvr: Gvr;
  kind: string;
  /** Undefined when neither the table nor a group convention says. */
  namespaced: boolean | undefined;
  /** True when the built-in table (or a group convention) knew it, false for a guess. */
  known: boolean;
}

/** Map a GVK to its GVR: the built-in table first, then group conventions, then a guess. */
export function resolveKind(gvk: Gvk): ResolvedKind {
  const info = kindInfo(gvk.group, gvk.kind);
  if (info) {
    return {
      gvr: { group: gvk.group, version: gvk.version, resource: info.resource },
      kind: gvk.kind,
      namespaced: info.namespaced,
      known: true,
    };
  }
  if (gvk.group === GATEKEEPER_CONSTRAINTS_GROUP) {
    return {
      gvr: { group: gvk.group, version: gvk.version, resource: gvk.kind.toLowerCase() },
      kind: gvk.kind,
      namespaced: false,
      known: true,
    };
  }
  return {
    gvr: { group: gvk.group, version: gvk.version, resource: pluralize(gvk.kind) },
    kind: gvk.kind,
    namespaced: undefined,
    known: false,
  };
}

/** The GVK an object declares, or undefined when apiVersion/kind are missing or malformed. */
export function gvkOf(obj: KubeObject): Gvk | undefined {
  if (typeof obj.kind !== 'string' || obj.kind === '' || typeof obj.apiVersion !== 'string') return undefined;
  const gv = parseApiVersion(obj.apiVersion);
  if (!gv) return undefined;
  return { group: gv.group, version: gv.version, kind: obj.kind };
}

/** The GVR an object belongs to (via {@link resolveKind}); undefined without a valid GVK. */
export function gvrOf(obj: KubeObject): Gvr | undefined {
  const gvk = gvkOf(obj);
  return gvk ? resolveKind(gvk).gvr : undefined;
}

/**
 * Key format: `<apiVersion>/<resource>`, i.e. `v1/pods` for the core group and
 * `apps/v1/deployments` otherwise. It reads like the apiVersion people already write,
 * and stays unambiguous because neither groups, versions nor resources contain `/`
 * (two segments = core, three = named group).
 */
export function gvrKey(gvr: Gvr): string {
  return `${formatApiVersion(gvr.group, gvr.version)}/${gvr.resource}`;
}

/** Inverse of {@link gvrKey}; also accepts `/v1/pods` (explicit empty group). */
export function parseGvrKey(key: string): Gvr | undefined {
  const parts = key.split('/');
  if (parts.length === 2) {
    const [version, resource] = parts as [string, string];
    if (version && resource) return { group: '', version, resource };
    return undefined;
  }
  if (parts.length === 3) {
    const [group, version, resource] = parts as [string, string, string];
    if (version && resource) return { group, version, resource };
  }
  return undefined;
}

/** Normalize a {@link GvrLike} to a GVR; undefined for a malformed key string. */
export function toGvr(g: GvrLike): Gvr | undefined {
  if (typeof g === 'string') return parseGvrKey(g);
  if (typeof g !== 'object' || g === null) return undefined;
  if (typeof g.group !== 'string' || typeof g.version !== 'string' || typeof g.resource !== 'string') return undefined;
  if (g.version === '' || g.resource === '') return undefined;
  return g;
}

/**
 * client-go's MetaNamespaceKeyFunc convention: `namespace/name`, or just `name` for a
 * cluster-scoped object (no namespace, or an empty one). Names and namespaces cannot
 * contain `/`, so the two shapes never collide.
 */
export function namespacedKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function objectKey(obj: KubeObject): string {
  return namespacedKey(obj.metadata?.namespace, obj.metadata?.name ?? '');
}
