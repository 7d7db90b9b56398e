import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { KubeObject, ScopeTarget } from '../model.js';
import { FactStore, NAMESPACE_NAME_LABEL, type ChangeEvent } from './store.js';

const PODS = 'v1/pods';
const NSS = 'v1/namespaces';

const pod = (ns: string, name: string, extra: Record<string, unknown> = {}, rv?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, ...(rv ? { resourceVersion: rv } : {}) },
  ...extra,
});

function recorder(store: FactStore): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  store.subscribe((e) => events.push(e));
  return events;
}

describe('FactStore mutations', () => {
  it('emits ADDED, MODIFIED and DELETED with the states involved', () => {
    const s = new FactStore();
    const ev = recorder(s);
    expect(s.upsert(PODS, pod('a', 'p', { spec: { x: 1 } }, '1')).ok).toBe(true);
    s.upsert(PODS, pod('a', 'p', { spec: { x: 2 } }, '2'));
    const del = s.delete(PODS, 'a', 'p');
    expect(ev.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(ev[0]).toMatchObject({ gvr: { group: '', version: 'v1', resource: 'pods' }, gvrKey: 'v1/pods', key: 'a/p' });
    expect(ev[1]!.old).toEqual(ev[0]!.object);
    expect(ev[2]!.object).toEqual(ev[1]!.object);
    expect(del).toBe(ev[2]);
    expect(s.delete(PODS, 'a', 'p')).toBeNull();
    expect(s.get(PODS, 'a', 'p')).toBeUndefined();
  });

  it('treats an identical resourceVersion as a no-op', () => {
    const s = new FactStore();
    const ev = recorder(s);
    s.upsert(PODS, pod('a', 'p', {}, '7'));
    const r = s.upsert(PODS, pod('a', 'p', { spec: { stale: true } }, '7'));
    expect(r).toEqual({ ok: true, change: null });
    expect(ev).toHaveLength(1);
  });

  it('compares content when there is no resourceVersion', () => {
    const s = new FactStore();
    const ev = recorder(s);
    s.upsert(PODS, pod('a', 'p', { spec: { x: 1, y: 2 } }));
    s.upsert(PODS, pod('a', 'p', { spec: { y: 2, x: 1 } }));
    expect(ev).toHaveLength(1);
    s.upsert(PODS, pod('a', 'p', { spec: { x: 1, y: 3 } }));
    expect(ev.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED']);
  });

  it('sees an informer list object and the same watch object as one', () => {
    class Meta {
      name?: string;
      namespace?: string;
      resourceVersion?: string;
      creationTimestamp?: Date;
    }
    const m = new Meta();
    m.name = 'p';
    m.namespace = 'a';
    m.creationTimestamp = new Date('2024-01-01T00:00:00Z');
    const s = new FactStore();
    const ev = recorder(s);
    s.upsert(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: m });
    s.upsert(PODS, { kind: 'Pod', apiVersion: 'v1', metadata: { namespace: 'a', name: 'p', creationTimestamp: '2024-01-01T00:00:00Z' } });
    expect(ev).toHaveLength(1);
  });

  it('returns refusals as values and counts them', () => {
    const s = new FactStore({ limits: { maxBytes: 200 } });
    expect(s.upsert(PODS, { kind: 'Pod' })).toEqual({ ok: false, error: 'object has no apiVersion' });
    expect(s.upsert(PODS, pod('a', 'p', { data: 'x'.repeat(500) })).ok).toBe(false);
    expect(s.upsert('not a gvr', pod('a', 'p')).ok).toBe(false);
    expect(s.stats().rejected).toBe(3);
    expect(s.count()).toBe(0);
  });

  it('derives the GVR from apiVersion and kind for offline input', () => {
    const s = new FactStore();
    s.upsertObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'a' } });
    s.upsertObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } });
    expect(s.list('apps/v1/deployments')).toHaveLength(1);
    expect(s.get('example.com/v1/widgets', undefined, 'w')).toBeDefined();
    expect(s.upsertObject({ apiVersion: 'a/b/c', kind: 'X', metadata: { name: 'x' } }).ok).toBe(false);
  });

  it('keeps delivering when a listener throws', () => {
    const errors: unknown[] = [];
    const s = new FactStore({ onListenerError: (e) => errors.push(e) });
    const seen: string[] = [];
    s.subscribe(() => {
      throw new Error('bad listener');
    });
    s.subscribe((e) => seen.push(e.key));
    s.upsert(PODS, pod('a', 'p'));
    expect(seen).toEqual(['a/p']);
    expect(errors).toHaveLength(1);
    expect(s.stats().listenerErrors).toBe(1);
  });

  it('unsubscribes', () => {
    const s = new FactStore();
    const seen: string[] = [];
    const off = s.subscribe((e) => seen.push(e.key));
    s.upsert(PODS, pod('a', 'p'));
    off();
    off();
    s.upsert(PODS, pod('a', 'q'));
    expect(seen).toEqual(['a/p']);
  });
});

describe('replaceAll', () => {
  it('adds, updates and deletes so that no ghost survives a relist', () => {
    const s = new FactStore();
    s.upsert(PODS, pod('a', 'keep', {}, '1'));
    s.upsert(PODS, pod('a', 'change', {}, '1'));
    s.upsert(PODS, pod('a', 'ghost', {}, '1'));
    const ev = recorder(s);
    const r = s.replaceAll(PODS, [pod('a', 'keep', {}, '1'), pod('a', 'change', {}, '2'), pod('b', 'new', {}, '1'), { kind: 'Pod' }]);
    expect(r).toEqual({ added: 1, modified: 1, deleted: 1, unchanged: 1, errors: [{ index: 3, error: 'object has no apiVersion' }] });
    expect(ev.map((e) => `${e.type} ${e.key}`)).toEqual(['MODIFIED a/change', 'ADDED b/new', 'DELETED a/ghost']);
    expect(s.list(PODS).map((o) => o.metadata?.name).sort()).toEqual(['change', 'keep', 'new']);
  });

  it('registers a GVR even when the list is empty, and dropGvr forgets it', () => {
    const s = new FactStore();
    s.replaceAll('apps/v1/deployments', []);
    expect(s.gvrs()).toEqual([{ group: 'apps', version: 'v1', resource: 'deployments' }]);
    s.upsert(PODS, pod('a', 'p'));
    const ev = recorder(s);
    expect(s.dropGvr(PODS)).toBe(1);
    expect(ev.map((e) => e.type)).toEqual(['DELETED']);
    expect(s.gvrs().map((g) => g.resource)).toEqual(['deployments']);
  });

  // Model-based: any sequence of operations leaves the store equal to a plain Map
  // model, and replaying the emitted events onto an empty map reproduces it exactly.
  it('matches a model and its events replay to its contents', () => {
    const name = fc.constantFrom('p1', 'p2', 'p3');
    const ns = fc.constantFrom('a', 'b');
    const obj = fc.record({ ns, name, v: fc.integer({ min: 0, max: 2 }), rv: fc.option(fc.constantFrom('1', '2'), { nil: undefined }) });
    const op = fc.oneof(
      fc.record({ t: fc.constant('upsert' as const), o: obj }),
      fc.record({ t: fc.constant('delete' as const), ns, name }),
      fc.record({ t: fc.constant('replace' as const), os: fc.array(obj, { maxLength: 4 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const s = new FactStore();
        const replay = new Map<string, KubeObject>();
        s.subscribe((e) => {
          if (e.type === 'DELETED') replay.delete(e.key);
          else replay.set(e.key, e.object);
        });
        const model = new Map<string, { v: number; rv: string | undefined }>();
        const mk = (o: { ns: string; name: string; v: number; rv: string | undefined }): KubeObject =>
          pod(o.ns, o.name, { spec: { v: o.v } }, o.rv);
        const put = (o: { ns: string; name: string; v: number; rv: string | undefined }): void => {
          const k = `${o.ns}/${o.name}`;
          const prev = model.get(k);
          if (prev && prev.rv !== undefined && prev.rv === o.rv) return; // same RV: ignored
          model.set(k, { v: o.v, rv: o.rv });
        };
        for (const x of ops) {
          if (x.t === 'upsert') {
            s.upsert(PODS, mk(x.o));
            put(x.o);
          } else if (x.t === 'delete') {
            s.delete(PODS, x.ns, x.name);
            model.delete(`${x.ns}/${x.name}`);
          } else {
            s.replaceAll(PODS, x.os.map(mk));
            const keep = new Set(x.os.map((o) => `${o.ns}/${o.name}`));
            for (const k of [...model.keys()]) if (!keep.has(k)) model.delete(k);
            for (const o of x.os) put(o);
          }
        }
        const actual = new Map(s.list(PODS).map((o) => [`${o.metadata?.namespace}/${o.metadata?.name}`, o]));
        expect([...actual.keys()].sort()).toEqual([...model.keys()].sort());
        for (const [k, m] of model) expect((actual.get(k)?.spec as { v: number }).v).toBe(m.v);
        expect(replay).toEqual(actual);
        for (const n of ['a', 'b']) expect(s.list(PODS, n).length).toBe([...model.keys()].filter((k) => k.startsWith(n + '/')).length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('namespaces', () => {
  it('lists declared and implied namespaces with their labels', () => {
    const s = new FactStore();
    s.upsert(NSS, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments', labels: { team: 'pay' } } });
    s.upsert(PODS, pod('orphans', 'p'));
    expect(s.namespaces()).toEqual([
      { name: 'orphans', labels: { [NAMESPACE_NAME_LABEL]: 'orphans' }, declared: false },
      { name: 'payments', labels: { team: 'pay', [NAMESPACE_NAME_LABEL]: 'payments' }, declared: true },
    ]);
    expect(s.namespaceLabels('nowhere')).toBeUndefined();
  });

  it('follows Namespace label changes and the last object leaving', () => {
    const s = new FactStore();
    s.upsert(PODS, pod('a', 'p'));
    expect(s.namespaceLabels('a')).toEqual({ [NAMESPACE_NAME_LABEL]: 'a' });
    s.upsert(NSS, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { x: '1' } } });
    expect(s.namespaceLabels('a')).toEqual({ x: '1', [NAMESPACE_NAME_LABEL]: 'a' });
    s.upsert(NSS, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { x: '2' } } });
    expect(s.namespaceLabels('a')?.x).toBe('2');
    s.delete(NSS, undefined, 'a');
    expect(s.namespaceLabels('a')).toEqual({ [NAMESPACE_NAME_LABEL]: 'a' });
    s.delete(PODS, 'a', 'p');
    expect(s.namespaceLabels('a')).toBeUndefined();
    expect(s.namespaces()).toEqual([]);
  });

  it('counts implied namespaces across GVRs', () => {
    const s = new FactStore();
    s.upsert(PODS, pod('a', 'p'));
    s.upsert('v1/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'a' } });
    s.delete(PODS, 'a', 'p');
    expect(s.namespaces().map((n) => n.name)).toEqual(['a']);
    s.replaceAll('v1/configmaps', []);
    expect(s.namespaces()).toEqual([]);
  });
});

describe('namespacesOf', () => {
  it('names the namespaces holding objects of one GVR, and forgets emptied ones', () => {
    const s = new FactStore();
    s.upsert(PODS, pod('a', 'p'));
    s.upsert(PODS, pod('b', 'q'));
    s.upsert(NSS, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c' } });
    expect(s.namespacesOf(PODS).sort()).toEqual(['a', 'b']);
    expect(s.namespacesOf(NSS)).toEqual(['']);
    s.delete(PODS, 'a', 'p');
    expect(s.namespacesOf(PODS)).toEqual(['b']);
    expect(s.namespacesOf('v1/configmaps')).toEqual([]);
  });
});

describe('selecting', () => {
  const target: ScopeTarget = {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    name: 'api',
    namespace: 'payments',
    labels: { owner: 'x' },
    annotations: {},
    namespaceLabels: {},
    podLabels: { app: 'api', tier: 'web' },
  };
  const sm = (ns: string, name: string, selector: unknown): KubeObject => ({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name, namespace: ns },
    spec: selector === undefined ? {} : { selector },
  });
  const SM = 'monitoring.coreos.com/v1/servicemonitors';

  it('finds objects whose selector matches the pod labels, in the same namespace', () => {
    const s = new FactStore();
    s.upsert(SM, sm('payments', 'yes', { matchLabels: { app: 'api' } }));
    s.upsert(SM, sm('payments', 'expr', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }));
    s.upsert(SM, sm('payments', 'no', { matchLabels: { app: 'web' } }));
    s.upsert(SM, sm('payments', 'all', {}));
    s.upsert(SM, sm('payments', 'absent', undefined));
    s.upsert(SM, sm('monitoring', 'elsewhere', { matchLabels: { app: 'api' } }));
    const names = (xs: KubeObject[]): string[] => xs.map((o) => o.metadata?.name ?? '').sort();
    expect(names(s.selecting(SM, 'spec.selector', target))).toEqual(['all', 'expr', 'yes']);
    expect(names(s.selecting(SM, 'spec.selector', target, { absent: 'all' }))).toEqual(['absent', 'all', 'expr', 'yes']);
    expect(names(s.selecting(SM, 'spec.selector', target, { namespaces: 'all' }))).toEqual(['all', 'elsewhere', 'expr', 'yes']);
    expect(names(s.selecting(SM, 'spec.selector', target, { namespaces: { also: ['monitoring'] } }))).toEqual([
      'all',
      'elsewhere',
      'expr',
      'yes',
    ]);
    expect(names(s.selecting(SM, 'spec.selector', target, { labels: 'own' }))).toEqual(['all']);
  });

  it('reads plain label maps (Service spec.selector), where empty selects nothing', () => {
    const s = new FactStore();
    const svc = (name: string, selector: Record<string, string>): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'payments' },
      spec: { selector },
    });
    s.upsert('v1/services', svc('api', { app: 'api' }));
    s.upsert('v1/services', svc('other', { app: 'api', tier: 'db' }));
    s.upsert('v1/services', svc('headless', {}));
    expect(s.selecting('v1/services', 'spec.selector', target, { selectorKind: 'map' }).map((o) => o.metadata?.name)).toEqual(['api']);
    expect(s.selecting('v1/services', 'spec.selector', target).map((o) => o.metadata?.name)).toEqual(['api', 'headless']);
  });
});
