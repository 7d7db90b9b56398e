// Cilium identity labels: the `source:key=value` strings Hubble reports for a flow's
// endpoints (and for the policies that denied it), read the way Cilium's pkg/labels
// reads them (ParseLabel / NewLabel), then sorted into what Potoo's evaluators use:
// the pod's Kubernetes labels, its namespace and namespace labels, its service account
// and the reserved identities (world, host, kube-apiserver, ...).
//
// Sources (the part before the first `:`): `k8s` (from Kubernetes), `reserved` (Cilium's
// special identities; `$host` and `reserved.host` are short forms), `container`
// (container runtime), `cidr` and `fqdn` (identities Cilium makes for addresses and DNS
// names), `any` (a selector source that matches every source), `unspec` (no source
// given). Besides the pod's own labels, Cilium adds pseudo-labels with source `k8s`:
// `io.kubernetes.pod.namespace`, `io.cilium.k8s.namespace.labels.<key>`,
// `io.cilium.k8s.policy.serviceaccount` and `io.cilium.k8s.policy.cluster`.

export const CILIUM_SOURCE = {
  any: 'any',
  k8s: 'k8s',
  reserved: 'reserved',
  container: 'container',
  cidr: 'cidr',
  fqdn: 'fqdn',
  unspec: 'unspec',
} as const;

/** The pod's namespace, as a Cilium pseudo-label. */
export const CILIUM_NAMESPACE_KEY = 'io.kubernetes.pod.namespace';
/** Prefix of the pseudo-labels that copy the labels of the pod's namespace. */
export const CILIUM_NAMESPACE_LABELS_PREFIX = 'io.cilium.k8s.namespace.labels.';
export const CILIUM_SERVICE_ACCOUNT_KEY = 'io.cilium.k8s.policy.serviceaccount';
/** Cilium's own bookkeeping (namespace labels, service account, cluster, policy origin). */
const CILIUM_K8S_PREFIX = 'io.cilium.k8s.';
/** Kubernetes pod metadata Cilium may report; never a label a selector can see. */
const POD_METADATA_PREFIX = 'io.kubernetes.pod.';

export interface CiliumLabel {
  source: string;
  key: string;
  /** '' when the label has none (`reserved:world`). */
  value: string;
}

/** Cilium's parseSource: the source and the rest. '' when the text names no source. */
function splitSource(text: string): [string, string] {
  if (text === '') return ['', ''];
  if (text[0] === '$') return [CILIUM_SOURCE.reserved, text.slice(1)];
  const colon = text.indexOf(':');
  if (colon < 0) {
    if (text.startsWith('reserved.')) return [CILIUM_SOURCE.reserved, text.slice('reserved.'.length)];
    return ['', text];
  }
  return [text.slice(0, colon), text.slice(colon + 1)];
}

/**
 * One label string, as Cilium's ParseLabel reads it: the source is everything before
 * the first `:` (`unspec` when there is none; `$x` and `reserved.x` are `reserved:x`),
 * the key runs to the first `=`, the value is the rest.
 */
export function parseCiliumLabel(text: string): CiliumLabel {
  const [src, rest] = splitSource(text);
  const source = src || CILIUM_SOURCE.unspec;
  const eq = rest.indexOf('=');
  if (eq < 0) return { source, key: rest, value: '' };
  if (eq === 0 && source === CILIUM_SOURCE.reserved) return { source, key: rest.slice(1), value: '' };
  return { source, key: rest.slice(0, eq), value: rest.slice(eq + 1) };
}

/** Cilium's Label.String(): `source:key=value`, or `source:key` without a value. */
export function formatCiliumLabel(l: CiliumLabel): string {
  return l.value === '' ? `${l.source}:${l.key}` : `${l.source}:${l.key}=${l.value}`;
}

/** A map entry (`{'k8s:app': 'web'}`), as Cilium's NewLabel reads one: the source comes from the key. */
function entryLabel(key: string, value: string): CiliumLabel {
  const [src, k] = splitSource(key);
  if (src === CILIUM_SOURCE.reserved && k === '') return { source: src, key: value, value: '' };
  return { source: src || CILIUM_SOURCE.unspec, key: k, value };
}

/**
 * Sources whose labels are the pod's Kubernetes labels: `k8s`, and `any` and `unspec`,
 * which a label only has when whoever wrote it left the source open (a hand-written or
 * already-normalized flow): Potoo reads selector keys with `k8s:`, `any:` or no prefix
 * alike, and reads endpoint labels the same way.
 */
export function isKubernetesSource(source: string): boolean {
  return source === CILIUM_SOURCE.k8s || source === CILIUM_SOURCE.any || source === CILIUM_SOURCE.unspec;
}

/** An endpoint's Cilium labels, sorted by what they say about it. */
export interface CiliumEndpointLabels {
  /** The pod's Kubernetes labels: source k8s/any/unspec, without Cilium's pseudo-labels. */
  labels: Record<string, string>;
  /** From `io.cilium.k8s.namespace.labels.<key>=<value>`. */
  namespaceLabels: Record<string, string>;
  /** Reserved identities (`world`, `host`, ...), each once, in order. */
  reserved: string[];
  /** From `io.kubernetes.pod.namespace`; '' when absent. */
  namespace: string;
  /** From `io.cilium.k8s.policy.serviceaccount`; '' when absent. */
  serviceAccount: string;
}

// Label keys come from the wire: define them, so `__proto__` is a key like any other.
function put(o: Record<string, string>, k: string, v: string): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/**
 * Sorts an endpoint's labels, given as Hubble's list of label strings or as a map (keys
 * with or without a source: `{'k8s:app': 'web'}`, `{app: 'web'}`). Non-string entries are
 * skipped; at most `limit` entries are read. Labels of other sources (container, cidr,
 * fqdn, ...), `io.cilium.k8s.*` bookkeeping and `io.kubernetes.pod.*` metadata never
 * reach `labels`: label selectors must see exactly the pod's own labels.
 */
export function ciliumEndpointLabels(input: unknown, limit = Infinity): CiliumEndpointLabels {
  const out: CiliumEndpointLabels = { labels: {}, namespaceLabels: {}, reserved: [], namespace: '', serviceAccount: '' };
  const add = (l: CiliumLabel): void => {
    if (l.source === CILIUM_SOURCE.reserved) {
      if (l.key !== '' && !out.reserved.includes(l.key)) out.reserved.push(l.key);
      return;
    }
    if (!isKubernetesSource(l.source) || l.key === '') return;
    if (l.key === CILIUM_NAMESPACE_KEY) out.namespace = l.value;
    else if (l.key === CILIUM_SERVICE_ACCOUNT_KEY) out.serviceAccount = l.value;
    else if (l.key.startsWith(CILIUM_NAMESPACE_LABELS_PREFIX)) {
      const k = l.key.slice(CILIUM_NAMESPACE_LABELS_PREFIX.length);
      if (k !== '') put(out.namespaceLabels, k, l.value);
    } else if (!l.key.startsWith(CILIUM_K8S_PREFIX) && !l.key.startsWith(POD_METADATA_PREFIX)) put(out.labels, l.key, l.value);
  };
  if (Array.isArray(input)) {
    for (const raw of input.slice(0, limit)) if (typeof raw === 'string') add(parseCiliumLabel(raw));
  } else if (typeof input === 'object' && input !== null) {
    for (const [k, v] of Object.entries(input).slice(0, limit)) if (typeof v === 'string') add(entryLabel(k, v));
  }
  return out;
}

/**
 * Pod labels (as ciliumEndpointLabels returns them) as a map that ciliumEndpointLabels
 * reads back as the same labels: plain keys, except a key a map reader would take a
 * source from (`reserved.example.com/team`, one starting with `$` or holding a `:`),
 * which is written with the source `k8s:`. For maps handed on to be read again (a
 * flow runtime/hubble normalized, replayed through engine/signals.ts).
 */
export function ciliumLabelMap(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    const l = entryLabel(k, v);
    put(out, l.source === CILIUM_SOURCE.unspec && l.key === k ? k : `${CILIUM_SOURCE.k8s}:${k}`, v);
  }
  return out;
}
