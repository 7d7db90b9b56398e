// Multi-document YAML/JSON text -> plain values that remember where each field came from.
import { isMap, isNode, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { Problem } from '../model.js';
import { load as lenientLoad } from 'js-yaml';

export type PathSegment = string | number;

export interface Position {
  line: number;
  column: number;
}

export interface LocatedDocument {
  value: unknown;
  /** 0-based index of the document in its stream. */
  index: number;
  /** Where the document starts. */
  start: Position;
  /** The position of the node at `path`, or of its nearest existing ancestor. */
  locate(path: readonly PathSegment[]): Position;
}

export interface YamlLimits {
  /** Largest text accepted, in bytes (characters). */
  maxBytes: number;
  /** Deepest nesting accepted. */
  maxDepth: number;
  /** Alias expansions (billion-laughs guard). */
  maxAliasCount: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = { maxBytes: 64 * 1024 * 1024, maxDepth: 200, maxAliasCount: 100 };

export interface ParsedStream {
  documents: LocatedDocument[];
  problems: Problem[];
}

/** Parse every document; a broken document is a problem with its line, the others still load. */
export function parseYamlStream(text: string, file: string, limits: YamlLimits = DEFAULT_YAML_LIMITS): ParsedStream {
  const problems: Problem[] = [];
  if (text.length > limits.maxBytes) {
    return {
      documents: [],
      problems: [{ severity: 'error', file, message: `input is ${text.length} bytes, over the ${limits.maxBytes}-byte limit` }],
    };
  }
  const lineCounter = new LineCounter();
  let docs: Document.Parsed[] | unknown;
  try {
    docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  } catch (err) {
    return { documents: [], problems: [{ severity: 'error', file, message: `invalid YAML: ${firstLine(String((err as Error).message))}` }] };
  }
  const list: Document.Parsed[] = Array.isArray(docs) ? (docs as Document.Parsed[]) : [];
  const documents: LocatedDocument[] = [];
  const pos = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  list.forEach((doc: Document.Parsed, index) => {
    // Point at the document's content, not at the `---` marker before it.
    const contentStart = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0];
    const start = pos(contentStart ?? doc.range[0]);
    if (doc.errors.length > 0) {
      // kubectl's parser (go-yaml) accepts some documents YAML 1.2 rejects, e.g. a quoted
      // scalar whose continuation line is under-indented. Accept what kubectl accepts;
      // field positions then fall back to the document's start.
      const lenient = lenientDocument(text.slice(doc.range[0], doc.range[2]), limits);
      if (lenient.ok) {
        if (lenient.value !== null && lenient.value !== undefined) documents.push({ value: lenient.value, index, start, locate: () => start });
        return;
      }
      for (const e of doc.errors) {
        const at = pos(e.pos[0]);
        problems.push({ severity: 'error', file, line: at.line, column: at.column, message: `invalid YAML: ${firstLine(e.message)}` });
      }
      return;
    }
    if (doc.contents === null) return; // an empty document between separators
    const depth = nodeDepth(doc.contents, limits.maxDepth + 1);
    if (depth > limits.maxDepth) {
      problems.push({ severity: 'error', file, line: start.line, column: start.column, message: `document nests deeper than ${limits.maxDepth} levels` });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
    } catch (err) {
      problems.push({ severity: 'error', file, line: start.line, column: start.column, message: `invalid YAML: ${firstLine(String((err as Error).message))}` });
      return;
    }
    documents.push({
      value,
      index,
      start,
      locate(path) {
        let node: unknown = doc.contents;
        let best = start;
        for (const seg of path) {
          if (isMap(node)) {
            const pair = node.items.find((p) => (isNode(p.key) ? (p.key as { value?: unknown }).value : p.key) === seg);
            if (!pair) break;
            const k = pair.key;
            if (isNode(k) && k.range) best = pos(k.range[0]);
            node = pair.value;
            if (isNode(node) && node.range && !isMap(node) && !isSeq(node)) best = pos(node.range[0]);
          } else if (isSeq(node) && typeof seg === 'number') {
            const item = node.items[seg];
            if (!isNode(item)) break;
            node = item;
            if (item.range) best = pos(item.range[0]);
          } else {
            break;
          }
        }
        return best;
      },
    });
  });
  return { documents, problems };
}

function lenientDocument(source: string, limits: YamlLimits): { ok: true; value: unknown } | { ok: false } {
  try {
    const value: unknown = lenientLoad(source);
    return valueDepth(value, limits.maxDepth + 1) > limits.maxDepth ? { ok: false } : { ok: true, value };
  } catch {
    return { ok: false };
  }
}

/** Nodes the lenient path may visit: aliases share nodes, so a hostile document is a DAG. */
const LENIENT_NODE_BUDGET = 2_000_000;

function valueDepth(v: unknown, cap: number): number {
  let max = 0;
  let visited = 0;
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length) {
    const [n, d] = stack.pop() as [unknown, number];
    if (d > max) max = d;
    // Over budget counts as too deep: the document is refused like any hostile one.
    if (max >= cap || ++visited > LENIENT_NODE_BUDGET) return cap;
    if (n && typeof n === 'object') for (const c of Object.values(n)) stack.push([c, d + 1]);
  }
  return max;
}

function nodeDepth(node: unknown, cap: number): number {
  // Iterative so that a hostile 100k-level document cannot overflow the stack.
  let max = 0;
  const stack: [unknown, number][] = [[node, 1]];
  while (stack.length) {
    const [n, d] = stack.pop() as [unknown, number];
    if (d > max) max = d;
    if (max >= cap) return max;
    if (isMap(n)) for (const p of n.items) stack.push([p.value, d + 1]);
    else if (isSeq(n)) for (const i of n.items) stack.push([i, d + 1]);
  }
  return max;
}

function firstLine(s: string): string {
  // The parser recurses per nesting level; a stack overflow means a hostile depth.
  if (/Maximum call stack/.test(s)) return 'document nests deeper than the parser can follow';
  return s.split('\n')[0] ?? s;
}

/** `spec.adapters[2].emit.effect` for a path. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

