import { describe, expect, it } from 'vitest';
import { objectsFromText } from './manifests.js';

const pod = (i: number) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace: 'a', labels: { pad: 'x'.repeat(50) } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

describe('manifest reading', () => {
  it('a large JSON List takes the JSON path and yields every item', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: Array.from({ length: 8000 }, (_, i) => pod(i)) };
    const text = JSON.stringify(list);
    expect(text.length).toBeGreaterThan(1024 * 1024);
    const r = objectsFromText(text, 'dump.json');
    expect(r.problems).toEqual([]);
    expect(r.objects).toHaveLength(8000);
    expect(r.objects[7999]!.object.metadata?.name).toBe('p7999');
  });

  it('a small YAML List keeps per-item line numbers', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a, namespace: x}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b, namespace: x}\n';
    const r = objectsFromText(text, 'list.yaml');
    expect(r.objects.map((o) => [o.object.metadata?.name, o.line])).toEqual([
      ['a', 4],
      ['b', 7],
    ]);
  });

  it('namespaced kinds without a namespace land in the default namespace; cluster kinds do not', () => {
    const r = objectsFromText('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n', 'x.yaml', { defaultNamespace: 'team' });
    expect(r.objects.map((o) => o.object.metadata?.namespace)).toEqual(['team', undefined]);
  });

  it('invalid large JSON falls back to the YAML parser, which says where', () => {
    const text = '{"apiVersion": "v1", "kind": "List", "items": [' + Array.from({ length: 9000 }, (_, i) => JSON.stringify(pod(i))).join(',') + ',]';
    const r = objectsFromText(text, 'broken.json');
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems[0]!.line).toBeGreaterThanOrEqual(1);
  });
});

describe('what kubectl accepts', () => {
  it('a quoted scalar with an under-indented continuation line parses, as go-yaml parses it', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: a\ndata:\n  k: "first part\n and the rest"\n';
    const r = objectsFromText(text, 'lenient.yaml');
    expect(r.problems).toEqual([]);
    expect((r.objects[0]!.object.data as Record<string, string>).k).toBe('first part and the rest');
  });

  it('genuinely broken YAML is still an error with its line', () => {
    const r = objectsFromText('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c\n', 'broken.yaml');
    expect(r.objects).toEqual([]);
    expect(r.problems[0]!.message).toMatch(/invalid YAML/);
    expect(r.problems[0]!.line).toBeGreaterThan(0);
  });
});

describe('hostile YAML', () => {
  it('a billion-laughs document is refused quickly on both parsers', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) lines.push(`${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9).fill('*' + 'abcdefghij'[i - 1]).join(',')}]`);
    // An under-indented quoted continuation sends the document to the lenient parser too.
    const text = lines.join('\n') + '\nkey: "x\ny"\n';
    const t0 = performance.now();
    const r = objectsFromText(text, 'laughs.yaml');
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.objects).toEqual([]);
    expect(r.problems.length).toBeGreaterThan(0);
  });
});
