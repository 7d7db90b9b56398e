import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ciliumEndpointLabels, ciliumLabelMap, formatCiliumLabel, parseCiliumLabel, type CiliumLabel } from './cilium.js';
import { flowSignal } from './signals.js';
import { podEndpoint } from './traffic.js';

const SOURCES = ['k8s', 'any', 'unspec', 'reserved', 'container', 'cidr', 'fqdn', 'cilium-generated'];
const POD_SOURCES = ['k8s', 'any', 'unspec'];
const OTHER_SOURCES = ['container', 'cidr', 'fqdn', 'cilium-generated', 'mesos'];

// Kubernetes label keys and values: [prefix/]name, alphanumerics with - _ . inside.
const part = fc.stringMatching(/^[a-z0-9]([a-z0-9._-]{0,10}[a-z0-9])?$/);
const k8sKey = fc.tuple(fc.option(fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,10}[a-z0-9])?$/), { nil: undefined }), part).map(([p, n]) => (p ? `${p}/${n}` : n));
const k8sValue = fc.oneof(fc.constant(''), part);

// Any label Cilium could print: a source without ':' (not starting with '$'), a non-empty key without '='.
const labelArb: fc.Arbitrary<CiliumLabel> = fc.record({
  source: fc.oneof(fc.constantFrom(...SOURCES), fc.string({ minLength: 1 }).filter((s) => !s.includes(':') && !s.startsWith('$'))),
  key: fc.string({ minLength: 1 }).filter((s) => !s.includes('=')),
  value: fc.string(),
});

describe('parseCiliumLabel / formatCiliumLabel', () => {
  it('parse(format(label)) is the label', () => {
    fc.assert(
      fc.property(labelArb, (l) => {
        expect(parseCiliumLabel(formatCiliumLabel(l))).toEqual(l);
      }),
    );
  });

  it("reads labels as Cilium's ParseLabel does", () => {
    expect(parseCiliumLabel('k8s:app=web')).toEqual({ source: 'k8s', key: 'app', value: 'web' });
    expect(parseCiliumLabel('k8s:app.kubernetes.io/name=a=b')).toEqual({ source: 'k8s', key: 'app.kubernetes.io/name', value: 'a=b' });
    expect(parseCiliumLabel('reserved:world')).toEqual({ source: 'reserved', key: 'world', value: '' });
    expect(parseCiliumLabel('$host')).toEqual({ source: 'reserved', key: 'host', value: '' });
    expect(parseCiliumLabel('reserved.host')).toEqual({ source: 'reserved', key: 'host', value: '' });
    expect(parseCiliumLabel('reserved:=host')).toEqual({ source: 'reserved', key: 'host', value: '' });
    expect(parseCiliumLabel('cidr:2001-db8--/32')).toEqual({ source: 'cidr', key: '2001-db8--/32', value: '' });
    expect(parseCiliumLabel('fqdn:*.example.com')).toEqual({ source: 'fqdn', key: '*.example.com', value: '' });
    expect(parseCiliumLabel('app=web')).toEqual({ source: 'unspec', key: 'app', value: 'web' });
    expect(parseCiliumLabel(':app=web')).toEqual({ source: 'unspec', key: 'app', value: 'web' });
    expect(parseCiliumLabel('')).toEqual({ source: 'unspec', key: '', value: '' });
  });
});

describe('ciliumEndpointLabels', () => {
  it('a Kubernetes label reaches labels under k8s:, any:, unspec: or no source, and never under another', () => {
    fc.assert(
      fc.property(k8sKey.filter((k) => !k.startsWith('reserved.')), k8sValue, fc.constantFrom(...POD_SOURCES, ...OTHER_SOURCES, 'reserved', ''), (k, v, source) => {
        const text = source === '' ? (v ? `${k}=${v}` : k) : formatCiliumLabel({ source, key: k, value: v });
        const got = ciliumEndpointLabels([text]);
        const pseudo = k.startsWith('io.cilium.k8s.') || k.startsWith('io.kubernetes.pod.');
        if ((source === '' || POD_SOURCES.includes(source)) && !pseudo) expect(got.labels).toEqual({ [k]: v });
        else expect(got.labels).toEqual({});
        expect(got.reserved).toEqual(source === 'reserved' ? [k] : []);
      }),
    );
  });

  it('a map reads like the list of its labels', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ source: fc.constantFrom(...SOURCES), key: k8sKey, value: k8sValue }), { maxLength: 8 }), (ls) => {
        const map = Object.fromEntries(ls.map((l) => [`${l.source}:${l.key}`, l.value]));
        // A list keeps every label, a map one value per source:key: the last in both.
        const list = Object.entries(map).map(([sk, v]) => (v ? `${sk}=${v}` : sk));
        expect(ciliumEndpointLabels(map)).toEqual(ciliumEndpointLabels(list));
      }),
    );
  });

  it("Cilium's pseudo-labels never reach labels, and fill their own fields", () => {
    fc.assert(
      fc.property(k8sKey, part, fc.constantFrom('k8s:', 'any:', ''), (k, v, prefix) => {
        const got = ciliumEndpointLabels([
          `${prefix}io.kubernetes.pod.namespace=${v}`,
          `${prefix}io.cilium.k8s.namespace.labels.${k}=${v}`,
          `${prefix}io.cilium.k8s.policy.serviceaccount=${v}`,
          `${prefix}io.cilium.k8s.policy.cluster=${v}`,
        ]);
        expect(got).toEqual({ labels: {}, namespaceLabels: { [k]: v }, reserved: [], namespace: v, serviceAccount: v });
      }),
    );
  });

  it('reads at most `limit` entries and skips non-strings', () => {
    expect(ciliumEndpointLabels(['k8s:a=1', 7, 'k8s:b=2', 'k8s:c=3'], 3).labels).toEqual({ a: '1', b: '2' });
    expect(ciliumEndpointLabels({ a: '1', b: 2 }).labels).toEqual({ a: '1' });
    expect(ciliumEndpointLabels('k8s:a=1')).toEqual({ labels: {}, namespaceLabels: {}, reserved: [], namespace: '', serviceAccount: '' });
  });

  // The two copies this replaces (engine/signals.ts ciliumLabels, engine/traffic.ts
  // podEndpoint) disagreed on these inputs. `chosen` is what both read now; the
  // reason is Cilium's own reading (pkg/labels ParseLabel / NewLabel) and the fact that
  // `labels` is matched by Kubernetes label selectors, so it holds the pod's labels only.
  const cases: { input: string[] | Record<string, string>; signals: string; traffic: string; chosen: Partial<ReturnType<typeof ciliumEndpointLabels>>; why: string }[] = [
    {
      input: ['k8s:io.kubernetes.pod.namespace=web'],
      signals: "labels {'io.kubernetes.pod.namespace': 'web'} (and the flow's namespace)",
      traffic: 'dropped',
      chosen: { labels: {}, namespace: 'web' },
      why: 'a Cilium pseudo-label, not a pod label; the Cilium adapter reads it in selectors as the namespace',
    },
    {
      input: ['k8s:io.cilium.k8s.namespace.labels.team=a'],
      signals: "namespaceLabels {team: 'a'}",
      traffic: 'dropped',
      chosen: { labels: {}, namespaceLabels: { team: 'a' } },
      why: "the namespace's labels as Cilium saw them; podEndpoint now passes them on (the evaluator merges them over the store's)",
    },
    {
      input: ['k8s:io.cilium.k8s.other=x', 'k8s:io.kubernetes.pod.name=p'],
      signals: 'labels (only io.cilium.k8s.policy.* was dropped)',
      traffic: 'dropped (io.cilium.k8s.* and io.kubernetes.pod.*)',
      chosen: { labels: {} },
      why: "Cilium's and Kubernetes' bookkeeping; Cilium's default identity filter ignores io.kubernetes labels",
    },
    {
      input: ['k8s:any:app=x'],
      signals: "labels {'any:app': 'x'}",
      traffic: 'dropped (a key with ":" was taken for another source)',
      chosen: { labels: { 'any:app': 'x' } },
      why: 'Cilium splits the source at the first ":" only; the rest is the key',
    },
    {
      input: ['app=a:b'],
      signals: 'dropped (source "app=a")',
      traffic: "labels {app: 'a:b'}",
      chosen: { labels: {} },
      why: 'Cilium reads source "app=a", key "b" (a Kubernetes label value cannot hold ":")',
    },
    {
      input: ['=x'],
      signals: "labels {'': 'x'}",
      traffic: "labels {'=x': ''}",
      chosen: { labels: {} },
      why: 'an empty key is no label (Cilium drops it too)',
    },
    {
      input: [':app=web', 'unspec:tier=db'],
      signals: "labels {app: 'web'} (unspec: dropped)",
      traffic: 'both dropped',
      chosen: { labels: { app: 'web', tier: 'db' } },
      why: 'both are Cilium\'s "unspec" source, the same as a label written without a source, which both copies read as a pod label',
    },
    {
      input: ['$host', 'reserved.world', 'reserved:host'],
      signals: "labels {'$host': '', 'reserved.world': ''}, reserved [host]",
      traffic: "labels {'$host': '', 'reserved.world': ''}",
      chosen: { labels: {}, reserved: ['host', 'world'] },
      why: "Cilium's short forms of reserved:host and reserved:world; each identity once",
    },
    {
      input: { 'k8s:app': 'web', 'reserved:world': '' },
      signals: "labels {'k8s:app': 'web', 'reserved:world': ''} (a map was copied as is)",
      traffic: "labels {app: 'web'}",
      chosen: { labels: { app: 'web' }, reserved: ['world'] },
      why: "a map key carries the source as in Cilium's Map2Labels",
    },
    {
      input: ['k8s:io.cilium.k8s.policy.serviceaccount=api'],
      signals: 'dropped',
      traffic: 'dropped',
      chosen: { labels: {}, serviceAccount: 'api' },
      why: 'not a disagreement: both dropped it; kept now because the Cilium adapter selects service accounts by it',
    },
  ];
  it.each(cases)('$input: signals read $signals, traffic $traffic', ({ input, chosen }) => {
    expect(ciliumEndpointLabels(input)).toMatchObject(chosen);
  });

  it('label keys from the wire are plain keys, __proto__ included', () => {
    const got = ciliumEndpointLabels(['k8s:__proto__=x', 'k8s:io.cilium.k8s.namespace.labels.__proto__=y']);
    expect(Object.keys(got.labels)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(got.labels)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(got.namespaceLabels, '__proto__')?.value).toBe('y');
  });
});

describe('the two callers read the same labels', () => {
  const hubble = ['k8s:app=api', 'k8s:io.kubernetes.pod.namespace=web', 'k8s:io.cilium.k8s.namespace.labels.team=t', 'k8s:io.cilium.k8s.policy.serviceaccount=api', 'container:id=1'];

  it('flowSignal and podEndpoint agree on labels, namespace and namespace labels', () => {
    const r = flowSignal({ verdict: 'DROPPED', traffic_direction: 'INGRESS', destination: { labels: hubble } });
    if (!r.ok) throw new Error(r.error);
    const e = podEndpoint('', hubble);
    expect(r.signal.destination).toMatchObject({ namespace: 'web', labels: { app: 'api' }, namespaceLabels: { team: 't' }, reserved: [] });
    expect(e).toEqual({ kind: 'pod', namespace: 'web', labels: { app: 'api' }, namespaceLabels: { team: 't' }, serviceAccount: 'api' });
    expect(r.signal.namespace).toBe('web');
  });
});

describe('ciliumLabelMap', () => {
  it('plain keys, except one a map reader would take a source from', () => {
    const got = ciliumLabelMap({ app: 'web', 'reserved.example.com/team': 'a', $x: '1', 'a:b': 'c', 'app.kubernetes.io/name': 'n' });
    expect(got).toEqual({ app: 'web', 'k8s:reserved.example.com/team': 'a', 'k8s:$x': '1', 'k8s:a:b': 'c', 'app.kubernetes.io/name': 'n' });
  });

  it('is read back as the same pod labels, whatever the labels', () => {
    const key = fc.oneof(k8sKey, fc.string({ minLength: 1 }), fc.constantFrom('__proto__', 'reserved.x', '$', ':', 'k8s:a', 'reserved:'));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...POD_SOURCES), key, fc.string()), { maxLength: 6 }), (entries) => {
        const labels = ciliumEndpointLabels(entries.map(([s, k, v]) => formatCiliumLabel({ source: s, key: k, value: v }))).labels;
        const back = ciliumEndpointLabels(ciliumLabelMap(labels));
        expect(back.labels).toEqual(labels);
        expect(back).toMatchObject({ reserved: [], namespaceLabels: {}, namespace: '', serviceAccount: '' });
      }),
    );
  });
});
