// Shared by the corpus tests: where ../shared/corpus is, how its files are read, and how
// a corpus resource becomes the ScopeTarget Potoo evaluates scopes against.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Constraint, KubeObject, ScopeTarget } from '../../engine/model.js';
import { gvrOf } from '../../engine/gvr.js';
import { objectTarget } from '../../engine/store/workloads.js';
import { objectsFromText } from '../../engine/source/manifests.js';
import type { SourcedObject } from '../../engine/source/manifests.js';
import { analyzeObjects } from '../../engine/analyzer.js';
import { loadAllPacks } from '../../runtime/packs.js';
import type { CompiledPack } from '../../engine/pack/loader.js';

export const ROOT = join(__dirname, '..', '..');
export const CORPUS = join(ROOT, '..', 'shared', 'corpus');
export const present = existsSync(join(CORPUS, 'index.json'));
/** CI must have the corpus: a missing one there is a failure, not a skip. */
export const requiredButMissing = !present && process.env.CI === 'true';

/** The guard every corpus test file starts with: in CI a missing corpus fails, never skips. */
export function describeCorpusRequiredInCI(what: string): void {
  describe(`${what} corpus present in CI`, () => {
    it('CI has ../shared/corpus', () => {
      expect(requiredButMissing, 'CI=true but ../shared/corpus is missing').toBe(false);
    });
  });
}

export interface IndexEntry {
  source: string;
  path: string;
  kinds: string[];
  role: 'policy' | 'resource' | 'test' | 'template';
  unit?: string;
  testOf?: string;
}

export function corpusIndex(): IndexEntry[] {
  return JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8')) as IndexEntry[];
}

export function corpusPath(source: string, path: string): string {
  return join(CORPUS, source, path);
}

/** Plain YAML documents (no Kubernetes checks): test definitions and values files. */
export function yamlDocs(file: string): unknown[] {
  if (!existsSync(file)) return [];
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null && d !== undefined);
}

/** Kubernetes objects of a file, namespaced kinds without a namespace put in `default`. */
export function objectsOf(file: string): SourcedObject[] {
  if (!existsSync(file)) return [];
  return objectsFromText(readFileSync(file, 'utf8'), file).objects;
}

export function relativeTo(file: string, ref: string): string {
  return resolve(dirname(file), ref);
}

let packsPromise: Promise<CompiledPack[]> | undefined;
/** Every built-in pack, as `potoo analyze` loads them. */
export function builtinPacks(): Promise<CompiledPack[]> {
  packsPromise ??= loadAllPacks().then((r) => {
    if (r.problems.length) throw new Error(`built-in packs do not load: ${r.problems.map((p) => p.message).join('; ')}`);
    return r.packs;
  });
  return packsPromise;
}

/**
 * The labels a namespace carries: the Namespace object's when the case provides one,
 * else only `kubernetes.io/metadata.name`, which the apiserver sets on every namespace.
 */
export function namespaceLabels(ns: string | undefined, known: ReadonlyMap<string, Record<string, string>>): Record<string, string> {
  if (!ns) return {};
  return { 'kubernetes.io/metadata.name': ns, ...(known.get(ns) ?? {}) };
}

/** Adds the labels of the Namespace objects among `objects` to `into` (by namespace name). */
export function collectNamespaceLabels(objects: readonly SourcedObject[], into: Map<string, Record<string, string>>): Map<string, Record<string, string>> {
  for (const { object } of objects) {
    if (object.kind === 'Namespace' && object.metadata?.name) into.set(object.metadata.name, object.metadata.labels ?? {});
  }
  return into;
}

export function targetOf(obj: KubeObject, nsLabels: Record<string, string>, operation: string | undefined): ScopeTarget {
  const gvr = gvrOf(obj);
  if (!gvr) throw new Error(`no GVR for ${obj.apiVersion} ${obj.kind}`);
  return objectTarget(gvr, obj, nsLabels, operation);
}

export function describeConstraint(c: Constraint): string {
  return `${c.source.kind} ${c.source.name} (${c.rule.pack}/${c.rule.rule}) scope ${JSON.stringify(c.scope)}`;
}

export interface Recall {
  source: string;
  expected: number;
  hit: number;
  misses: string[];
}

export function formatRecall(r: Recall): string {
  const pct = r.expected === 0 ? 100 : (100 * r.hit) / r.expected;
  return `${r.source}: recall ${r.hit}/${r.expected} = ${pct.toFixed(1)}%`;
}

export interface AdaptCheck {
  /** Whether a reported skip (`analyzer.skipped()[i].object`) is about this object. */
  skipOf(skipObject: string, kind: string | undefined, name: string | undefined): boolean;
  /** A further failure for an object and the constraints it yields, if any. */
  extra?(object: KubeObject, constraints: readonly Constraint[]): string | undefined;
}

/**
 * Adapts every file of `entries` with the built-in packs, and lists what went wrong: an
 * adapter problem, an object yielding neither a constraint nor a reported skip, or one
 * that fell through to the generic adapter. `objects` counts the objects checked.
 */
export async function adaptFailures(source: string, entries: readonly IndexEntry[], check: AdaptCheck): Promise<{ failures: string[]; objects: number }> {
  const packs = await builtinPacks();
  const failures: string[] = [];
  let objects = 0;
  for (const f of entries) {
    const loaded = objectsOf(corpusPath(source, f.path));
    const analyzer = await analyzeObjects(loaded, packs);
    for (const p of analyzer.problems()) failures.push(`${f.path}: ${p.rule ?? ''} ${p.field ?? ''} ${p.message}`);
    for (const { object } of loaded) {
      objects++;
      const name = object.metadata?.name;
      const constraints = analyzer.allConstraints().filter((c) => c.source.kind === object.kind && c.source.name === name);
      const skips = analyzer.skipped().filter((s) => check.skipOf(s.object, object.kind, name));
      if (constraints.length === 0 && skips.length === 0) failures.push(`${f.path}: ${object.kind} ${name} yields neither a constraint nor a skip`);
      if (constraints.some((c) => c.rule.pack === 'generic')) failures.push(`${f.path}: ${object.kind} ${name} fell through to the generic adapter`);
      const more = check.extra?.(object, constraints);
      if (more) failures.push(`${f.path}: ${more}`);
    }
  }
  return { failures, objects };
}
