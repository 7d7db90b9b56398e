// Manifests named on the command line (files, directories, `-` for stdin) as objects: the
// input half of analyze, explain and webhook. Read errors are printed here, one `error:`
// line each; parse problems are returned, because each command reports them its own way
// (analyze in its report, explain only errors, webhook all of them unless a read failed).
import type { Problem } from '../../engine/model.js';
import { objectsFromText, type ManifestOptions, type SourcedObject } from '../../engine/source/manifests.js';
import { readInputs } from '../files.js';

export interface ManifestInputs {
  objects: SourcedObject[];
  /** Located problems from parsing the files that were read. */
  problems: Problem[];
  /** Files read. */
  files: number;
  /** Paths that could not be read (each already printed). */
  readErrors: number;
}

export async function readManifests(paths: readonly string[], opts: ManifestOptions = {}): Promise<ManifestInputs> {
  const { inputs, errors } = await readInputs(paths);
  for (const e of errors) process.stderr.write(`error: ${e}\n`);
  const out: ManifestInputs = { objects: [], problems: [], files: inputs.length, readErrors: errors.length };
  for (const input of inputs) {
    const r = objectsFromText(input.text, input.file, opts);
    out.objects.push(...r.objects);
    out.problems.push(...r.problems);
  }
  return out;
}
