// Text templates: literal text with `{{ <cel> }}` holes, for summaries and messages.
//
// A hole ends at the first `}}` outside CEL string literals and map braces, so
// `{{ {'a': {'b': 1}} }}` and `{{ "}}" }}` work. A literal `{{` is written `{{ '{{' }}`.
// Values render as text: strings as they are, null as "", lists joined with ", ",
// maps as compact JSON. Errors carry the 1-based column of the failing `{{`.
import { type Result, type ExprError, ok, err } from './result.js';
import { type CelEnv, type CelCompileOptions, type CompiledCel, defaultCelEnv } from './cel.js';

export interface TemplateOptions extends CelCompileOptions {
  /** Environment for the holes; the default environment when absent. */
  env?: CelEnv;
}

export interface Template {
  readonly source: string;
  render(vars: Record<string, unknown>): Result<string>;
  /** True when there are no holes. */
  readonly isConstant: boolean;
  /** CEL sources of the holes, for lint. */
  readonly sources: readonly string[];
}

/** A piece of a template source: literal text, or a hole with its CEL source. */
export type Segment =
  | { kind: 'text'; text: string }
  | {
      kind: 'expr';
      source: string;
      /** 0-based offset of the `{{`. */
      open: number;
      /** 0-based offset of the CEL source (just after `{{`). */
      start: number;
    };

/** Offset just past a CEL string literal starting at `i`, or -1 when unterminated. */
function skipString(src: string, i: number): number {
  let j = i;
  let raw = false;
  while (src[j] === 'r' || src[j] === 'R' || src[j] === 'b' || src[j] === 'B') {
    if (src[j] === 'r' || src[j] === 'R') raw = true;
    j++;
  }
  const q = src[j] as string;
  const triple = src.startsWith(q.repeat(3), j);
  const close = triple ? q.repeat(3) : q;
  j += close.length;
  while (j < src.length) {
    if (!raw && src[j] === '\\') {
      j += 2;
      continue;
    }
    if (src.startsWith(close, j)) return j + close.length;
    if (!triple && src[j] === '\n') return -1;
    j++;
  }
  return -1;
}

function isStringStart(src: string, i: number): boolean {
  const c = src[i];
  if (c === '"' || c === "'") return true;
  // Prefixes only count at a token start: `attr"` is an identifier then a string.
  if (!/[rRbB]/.test(c ?? '') || /[A-Za-z0-9_]/.test(src[i - 1] ?? '')) return false;
  let j = i;
  while (j < i + 2 && /[rRbB]/.test(src[j] ?? '')) j++;
  return src[j] === '"' || src[j] === "'";
}

/** Splits a template source into text and holes. */
export function parseSegments(src: string): Result<Segment[]> {
  const out: Segment[] = [];
  let text = '';
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open === -1) {
      text += src.slice(i);
      break;
    }
    text += src.slice(i, open);
    const start = open + 2;
    let j = start;
    let depth = 0;
    let end = -1;
    while (j < src.length) {
      if (isStringStart(src, j)) {
        const after = skipString(src, j);
        if (after === -1) return err("unterminated string literal inside '{{'", open + 1);
        j = after;
        continue;
      }
      const c = src[j];
      if (c === '{') depth++;
      else if (c === '}') {
        if (depth === 0 && src[j + 1] === '}') {
          end = j;
          break;
        }
        depth--;
      }
      j++;
    }
    if (end === -1) return err("'{{' has no matching '}}'", open + 1);
    if (text !== '') out.push({ kind: 'text', text });
    text = '';
    out.push({ kind: 'expr', source: src.slice(start, end), open, start });
    i = end + 2;
  }
  if (text !== '') out.push({ kind: 'text', text });
  return ok(out);
}

/** How a value appears inside text. */
export function stringifyValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(stringifyElement).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function stringifyElement(v: unknown): string {
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return stringifyValue(v);
}

/** An error from a hole, placed at the hole's `{{`. */
export function holeError(e: ExprError, seg: { open: number; start: number }): ExprError {
  const where = e.column !== undefined ? ` (at column ${e.column} of the expression)` : '';
  return { message: `${e.message}${where}`, column: seg.open + 1 };
}

interface CompiledHole {
  cel: CompiledCel;
  open: number;
  start: number;
}

export function compileTemplate(src: string, opts: TemplateOptions = {}): Result<Template> {
  if (typeof src !== 'string') return err('template must be a string');
  const segs = parseSegments(src);
  if (!segs.ok) return segs;
  const env = opts.env ?? defaultCelEnv();
  const parts: (string | CompiledHole)[] = [];
  const sources: string[] = [];
  for (const s of segs.value) {
    if (s.kind === 'text') {
      parts.push(s.text);
      continue;
    }
    const c = env.compile(s.source, opts);
    if (!c.ok) return { ok: false, error: holeError(c.error, s) };
    sources.push(s.source);
    parts.push({ cel: c.value, open: s.open, start: s.start });
  }
  if (sources.length === 0) {
    const constant: Result<string> = ok(src);
    return ok({ source: src, isConstant: true, sources, render: () => constant });
  }
  return ok({
    source: src,
    isConstant: false,
    sources,
    render(vars) {
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') {
          out += p;
          continue;
        }
        const r = p.cel.evaluate(vars);
        if (!r.ok) return { ok: false, error: holeError(r.error, p) };
        out += stringifyValue(r.value);
      }
      return ok(out);
    },
  });
}
