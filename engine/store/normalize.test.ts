import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { formatTimestamp, jsonEqual, normalizeObject } from './normalize.js';

// Shaped like @kubernetes/client-node 1.x models: classes with no own initializers,
// filled field by field in attribute-map order, timestamps as Date.
class V1ObjectMeta {
  creationTimestamp?: Date;
  labels?: Record<string, string>;
  managedFields?: unknown[];
  name?: string;
  namespace?: string;
  resourceVersion?: string;
}
class V1Container {
  image?: string;
  name?: string;
  ports?: { containerPort: number; protocol?: string }[];
}
class V1Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: { containers: V1Container[]; nodeName?: string };
  status?: { startTime?: Date };
  /** A method, as generated models carry static/prototype helpers. */
  describe(): string {
    return 'pod';
  }
}

function classPod(): V1Pod {
  const meta = new V1ObjectMeta();
  meta.creationTimestamp = new Date('2024-05-06T07:08:09Z');
  meta.labels = { app: 'api' };
  meta.managedFields = [{ manager: 'kubectl', time: new Date('2024-05-06T07:08:09Z') }];
  meta.name = 'api-1';
  meta.namespace = 'payments';
  meta.resourceVersion = '42';
  const c = new V1Container();
  c.image = 'api:1';
  c.name = 'api';
  c.ports = [{ containerPort: 8080 }];
  const pod = new V1Pod();
  pod.apiVersion = 'v1';
  pod.kind = 'Pod';
  pod.metadata = meta;
  pod.spec = { containers: [c], nodeName: undefined };
  pod.status = { startTime: new Date('2024-05-06T07:08:10.250Z') };
  return pod;
}

// What the watch delivers for the same object: plain JSON, server field order.
const watchPod = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: {
    name: 'api-1',
    namespace: 'payments',
    resourceVersion: '42',
    creationTimestamp: '2024-05-06T07:08:09Z',
    labels: { app: 'api' },
    managedFields: [{ manager: 'kubectl', time: '2024-05-06T07:08:09Z' }],
  },
  spec: { containers: [{ name: 'api', image: 'api:1', ports: [{ containerPort: 8080 }] }] },
  status: { startTime: '2024-05-06T07:08:10.250000Z' },
};

function ok(input: unknown): Record<string, unknown> {
  const r = normalizeObject(input);
  if (!r.ok) throw new Error(r.error);
  return r.object as Record<string, unknown>;
}

describe('normalizeObject', () => {
  it('gives identical results for informer list class instances and watch JSON', () => {
    const a = ok(classPod());
    const b = ok(watchPod);
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(a.metadata)).toBe(Object.prototype);
  });

  it('drops metadata.managedFields only at the top level', () => {
    const n = ok({ ...watchPod, spec: { managedFields: [1] } });
    expect((n.metadata as Record<string, unknown>).managedFields).toBeUndefined();
    expect((n.spec as Record<string, unknown>).managedFields).toEqual([1]);
  });

  it('formats timestamps as Kubernetes does', () => {
    expect(formatTimestamp(new Date('2024-01-02T03:04:05Z'))).toBe('2024-01-02T03:04:05Z');
    expect(formatTimestamp(new Date('2024-01-02T03:04:05.123Z'))).toBe('2024-01-02T03:04:05.123000Z');
  });

  it('keeps integers as numbers and turns safe bigints into numbers', () => {
    const n = ok({ ...watchPod, spec: { replicas: 3, big: 7n, ratio: 0.5 } });
    expect(n.spec).toEqual({ big: 7, ratio: 0.5, replicas: 3 });
    expect(normalizeObject({ ...watchPod, spec: { x: 2n ** 60n } }).ok).toBe(false);
    expect(normalizeObject({ ...watchPod, spec: { x: Number.NaN } }).ok).toBe(false);
  });

  it('drops undefined and functions, and writes null for them inside arrays, as JSON does', () => {
    const n = ok({ ...watchPod, spec: { a: undefined, f: () => 1, xs: [1, undefined] } });
    expect(n.spec).toEqual({ xs: [1, null] });
  });

  it('treats null metadata fields as absent', () => {
    const n = ok({ ...watchPod, metadata: { name: 'x', labels: null, annotations: null } });
    expect(n.metadata).toEqual({ name: 'x' });
  });

  it('freezes what it returns', () => {
    const n = ok(watchPod);
    expect(Object.isFrozen(n)).toBe(true);
    expect(Object.isFrozen(n.metadata)).toBe(true);
    expect(Object.isFrozen((n.spec as { containers: unknown[] }).containers)).toBe(true);
  });

  it('does not share structure with its input', () => {
    const input = structuredClone(watchPod);
    const n = ok(input);
    input.metadata.labels.app = 'changed';
    expect((n.metadata as { labels: Record<string, string> }).labels.app).toBe('api');
  });

  it('requires kind, apiVersion and metadata.name', () => {
    const { kind: _k, ...noKind } = watchPod;
    const { apiVersion: _a, ...noApi } = watchPod;
    expect(normalizeObject(noKind)).toEqual({ ok: false, error: 'object has no kind' });
    expect(normalizeObject(noApi)).toEqual({ ok: false, error: 'object has no apiVersion' });
    expect(normalizeObject({ apiVersion: 'v1', kind: 'Pod' })).toEqual({ ok: false, error: 'object has no metadata' });
    expect(normalizeObject({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'x-' } })).toEqual({
      ok: false,
      error: 'object has no metadata.name',
    });
    expect(normalizeObject(null).ok).toBe(false);
    expect(normalizeObject([watchPod]).ok).toBe(false);
    expect(normalizeObject('pod').ok).toBe(false);
  });

  it('refuses label and annotation values that are not strings', () => {
    const r = normalizeObject({ ...watchPod, metadata: { name: 'x', labels: { version: 1 } } });
    expect(r).toEqual({ ok: false, error: 'metadata.labels values must be strings' });
    expect(normalizeObject({ ...watchPod, metadata: { name: 'x', annotations: { a: true } } }).ok).toBe(false);
  });

  it('bounds depth', () => {
    const nest = (levels: number): unknown => {
      let v: unknown = 'leaf';
      for (let i = 0; i < levels; i++) v = { v };
      return v;
    };
    // The object itself is level 1, so spec may hold 99 nested objects (levels 2..100).
    expect(normalizeObject({ ...watchPod, spec: nest(99) }).ok).toBe(true);
    const r = normalizeObject({ ...watchPod, spec: nest(100) });
    expect(r).toEqual({ ok: false, error: 'object is nested deeper than 100 levels' });
    expect(normalizeObject({ ...watchPod, spec: nest(10) }, { maxDepth: 5 }).ok).toBe(false);
  });

  it('survives cycles without throwing', () => {
    const spec: Record<string, unknown> = {};
    spec.self = spec;
    const r = normalizeObject({ ...watchPod, spec });
    expect(r.ok).toBe(false);
  });

  it('bounds size, configurably', () => {
    const big = { ...watchPod, data: { blob: 'x'.repeat(5 * 1024 * 1024) } };
    expect(normalizeObject(big)).toEqual({ ok: false, error: `object is larger than ${4 * 1024 * 1024} bytes serialized` });
    expect(normalizeObject(big, { maxBytes: 8 * 1024 * 1024 }).ok).toBe(true);
    expect(normalizeObject(watchPod, { maxBytes: 100 }).ok).toBe(false);
  });

  it('estimates size close to the real serialized length', () => {
    const text = JSON.stringify(ok(watchPod));
    expect(normalizeObject(watchPod, { maxBytes: Math.floor(text.length * 1.5) }).ok).toBe(true);
    expect(normalizeObject(watchPod, { maxBytes: Math.floor(text.length * 0.7) }).ok).toBe(false);
  });

  it('refuses throwing getters as values, not exceptions', () => {
    const evil = { ...watchPod };
    Object.defineProperty(evil, 'spec', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(normalizeObject(evil)).toEqual({ ok: false, error: 'cannot normalize object: boom' });
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true }), (x) => {
        const r = normalizeObject(x);
        expect(typeof r.ok).toBe('boolean');
        const wrapped = normalizeObject({ apiVersion: 'v1', kind: 'X', metadata: { name: 'n' }, spec: x });
        expect(typeof wrapped.ok).toBe('boolean');
      }),
    );
  });

  it('is the JSON round trip (minus managedFields) for JSON input, and idempotent', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.dictionary(fc.string(), fc.string()), (spec, labels) => {
        const input = { apiVersion: 'v1', kind: 'X', metadata: { name: 'n', labels, managedFields: [] }, spec };
        const n = ok(input);
        const expected = JSON.parse(JSON.stringify(input)) as Record<string, { managedFields?: unknown }>;
        delete expected.metadata!.managedFields;
        expect(jsonEqual(n, expected)).toBe(true);
        expect(JSON.stringify(ok(n))).toBe(JSON.stringify(n));
      }),
    );
  });
});

describe('jsonEqual', () => {
  it('ignores key order and distinguishes everything else', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({}, [])).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        expect(jsonEqual(a, b)).toBe(JSON.stringify(ok({ apiVersion: 'v', kind: 'k', metadata: { name: 'n' }, a })) === JSON.stringify(ok({ apiVersion: 'v', kind: 'k', metadata: { name: 'n' }, a: b })));
      }),
    );
  });
});
