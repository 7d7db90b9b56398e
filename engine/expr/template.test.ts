import { describe, it, expect } from 'vitest';
import { compileTemplate, parseSegments, stringifyValue, type Template } from './template.js';
import { defaultCelEnv } from './cel.js';

function tpl(src: string): Template {
  const r = compileTemplate(src);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

function render(src: string, vars: Record<string, unknown> = {}): string {
  const r = tpl(src).render(vars);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const vars = {
  workload: { kind: 'Deployment', name: 'web', replicas: 3, ports: [80, 443], labels: { app: 'web' } },
  object: { spec: { podSelector: { matchLabels: { app: 'web' } } } },
};

describe('compileTemplate', () => {
  it('renders holes into text', () => {
    expect(render('No ServiceMonitor selects {{ workload.kind }} {{ workload.name }}', vars)).toBe(
      'No ServiceMonitor selects Deployment web',
    );
    expect(render('{{workload.replicas + 1}} replicas', vars)).toBe('4 replicas');
    expect(render('pods matching {{ selectorText(object.spec.podSelector) }}', vars)).toBe('pods matching app=web');
    expect(render('{{ 1 > 0 ? "Denies" : "Restricts" }} ingress', vars)).toBe('Denies ingress');
  });

  it('stringifies values sensibly', () => {
    expect(render('ports: {{ workload.ports }}', vars)).toBe('ports: 80, 443');
    expect(render('labels: {{ workload.labels }}', vars)).toBe('labels: {"app":"web"}');
    expect(render('[{{ null }}]', vars)).toBe('[]');
    expect(render('{{ true }}/{{ 1.5 }}/{{ quantity("1024Mi") }}', vars)).toBe('true/1.5/1Gi');
    expect(render('{{ [{"a": 1}, [2, 3], null, "x"] }}', vars)).toBe('{"a":1}, [2,3], , x');
  });

  it('finds the closing braces past CEL maps and strings', () => {
    expect(render('{{ {"a": {"b": 1}}.a.b }}!')).toBe('1!');
    expect(render('{{ "}}" }}')).toBe('}}');
    expect(render("{{ '{{' }} literal")).toBe('{{ literal');
    expect(render('{{ r"\\}}" }}')).toBe('\\}}');
    expect(render("{{ '''a}}b''' }}")).toBe('a}}b');
    expect(render('a }} b')).toBe('a }} b');
  });

  it('is constant without holes', () => {
    const t = tpl('plain text');
    expect(t.isConstant).toBe(true);
    expect(t.sources).toEqual([]);
    expect(t.render({})).toEqual({ ok: true, value: 'plain text' });
    expect(tpl('a {{ x }} b {{ y }}').sources).toEqual([' x ', ' y ']);
  });

  it('places compile errors at the failing {{', () => {
    const r = compileTemplate('ok {{ 1 }} then {{ 1 + }}');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.column).toBe(17);
      expect(r.error.message).toMatch(/Unexpected token.*\(at column \d+ of the expression\)/);
    }
  });

  it('places evaluation errors at the failing {{', () => {
    const r = tpl('{{ workload.name }} has {{ workload.nope }}').render(vars);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.column).toBe(25);
      expect(r.error.message).toMatch(/No such key: nope/);
    }
  });

  it.each([
    ['text {{ x', "'{{' has no matching '}}'", 6],
    ['{{ "abc }}', 'unterminated string literal', 1],
  ])('rejects %j', (src, msg, column) => {
    const r = compileTemplate(src);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toContain(msg);
      expect(r.error.column).toBe(column);
    }
  });

  it('honours a variable list and a custom environment', () => {
    expect(compileTemplate('{{ wrkload.name }}', { variables: ['workload'] }).ok).toBe(false);
    const env = defaultCelEnv().extend({ functions: [{ signature: 'shout(string): string', handler: ((s: string) => s.toUpperCase()) as (...a: never[]) => unknown }] });
    if (!env.ok) throw new Error(env.error.message);
    const t = compileTemplate('{{ shout(workload.name) }}', { env: env.value });
    expect(t.ok && t.value.render(vars)).toEqual({ ok: true, value: 'WEB' });
  });
});

describe('parseSegments / stringifyValue', () => {
  it('splits text and holes with offsets', () => {
    const r = parseSegments('a{{x}}b');
    expect(r).toEqual({
      ok: true,
      value: [
        { kind: 'text', text: 'a' },
        { kind: 'expr', source: 'x', open: 1, start: 3 },
        { kind: 'text', text: 'b' },
      ],
    });
  });

  it('stringifies', () => {
    expect(stringifyValue(undefined)).toBe('');
    expect(stringifyValue(['a', 1, true])).toBe('a, 1, true');
    expect(stringifyValue({ a: [1] })).toBe('{"a":[1]}');
  });
});
