// Manifest text (YAML/JSON, multi-document, `kind: List`) -> Kubernetes objects with origins.
import type { KubeObject, Problem } from '../model.js';
import { parseYamlStream, DEFAULT_YAML_LIMITS, type YamlLimits } from './yaml.js';
import { gvkOf, resolveKind } from '../gvr.js';

export interface SourcedObject {
  object: KubeObject;
  file: string;
  line: number;
}

export interface ManifestOptions {
  limits?: YamlLimits;
  /**
   * Namespace for namespaced objects written without one, as `kubectl apply -n` would
   * place them (default: `default`). Kinds Potoo does not know are left as written.
   */
  defaultNamespace?: string;
}

export interface ManifestResult {
  objects: SourcedObject[];
  problems: Problem[];
}

/** Above this size a JSON document skips the YAML parser: its node tree costs ~50x the text. */
const JSON_FAST_PATH_BYTES = 1024 * 1024;

/** Turn one file's text into objects; every rejected document is a located problem. */
export function objectsFromText(text: string, file: string, opts: ManifestOptions = {}): ManifestResult {
  const out: ManifestResult = { objects: [], problems: [] };
  const json = text.length > JSON_FAST_PATH_BYTES && /^\s*[[{]/.test(text) ? parseJson(text) : undefined;
  if (json !== undefined) {
    // Line numbers are lost on this path; `kubectl get -o json` dumps are one document anyway.
    collect(json, file, 1, out, () => 1);
  } else {
    const stream = parseYamlStream(text, file, opts.limits ?? DEFAULT_YAML_LIMITS);
    out.problems.push(...stream.problems);
    for (const doc of stream.documents) {
      collect(doc.value, file, doc.start.line, out, (i) => doc.locate(['items', i]).line);
    }
  }
  const ns = opts.defaultNamespace ?? 'default';
  out.objects = out.objects.map((s) => (needsNamespace(s.object) ? { ...s, object: { ...s.object, metadata: { ...s.object.metadata, namespace: ns } } } : s));
  return out;
}

/** undefined when the text is not valid JSON (the YAML path then reports where). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function needsNamespace(obj: KubeObject): boolean {
  if (obj.metadata?.namespace) return false;
  const gvk = gvkOf(obj);
  return gvk !== undefined && resolveKind(gvk).namespaced === true;
}

function collect(value: unknown, file: string, line: number, out: ManifestResult, itemLine: (i: number) => number): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    out.problems.push({ severity: 'error', file, line, column: 1, message: `not a Kubernetes object (a ${Array.isArray(value) ? 'list' : typeof value})` });
    return;
  }
  const obj = value as KubeObject;
  if (typeof obj.kind === 'string' && /List$/.test(obj.kind) && Array.isArray(obj.items)) {
    (obj.items as unknown[]).forEach((item, i) => collect(item, file, itemLine(i), out, () => itemLine(i)));
    return;
  }
  const missing: string[] = [];
  if (typeof obj.apiVersion !== 'string' || !obj.apiVersion) missing.push('apiVersion');
  if (typeof obj.kind !== 'string' || !obj.kind) missing.push('kind');
  const md = obj.metadata;
  if (typeof md !== 'object' || md === null || typeof md.name !== 'string' || !md.name) missing.push('metadata.name');
  if (missing.length) {
    out.problems.push({ severity: 'error', file, line, column: 1, message: `not a Kubernetes object: missing ${missing.join(', ')}` });
    return;
  }
  out.objects.push({ object: obj, file, line });
}
