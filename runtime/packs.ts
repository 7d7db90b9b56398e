// Loading rule packs from files: the built-in ones (adapters/, rules/) and the user's.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Problem } from '../engine/model.js';
import { loadPacks, type CompiledPack } from '../engine/pack/loader.js';
import { packageRoot, readInputs } from './files.js';

export interface PackSet {
  packs: CompiledPack[];
  problems: Problem[];
}

export function builtinPackDirs(): string[] {
  const root = packageRoot();
  return [join(root, 'adapters'), join(root, 'rules')].filter((d) => existsSync(d));
}

/** Load every pack under `paths`; a broken pack is reported and left out, the rest load. */
export async function loadPackFiles(paths: readonly string[]): Promise<PackSet> {
  const { inputs, errors } = await readInputs(paths);
  const out: PackSet = { packs: [], problems: errors.map((message) => ({ severity: 'error', message })) };
  const names = new Map<string, string>();
  for (const input of inputs) {
    const r = loadPacks(input.text, { file: input.file });
    out.problems.push(...r.problems);
    for (const p of r.packs) {
      const prev = names.get(p.name);
      if (prev !== undefined && prev !== input.file) {
        out.problems.push({ severity: 'error', file: input.file, pack: p.name, message: `pack ${p.name} is already defined in ${prev}; this one is ignored` });
        continue;
      }
      names.set(p.name, input.file);
      out.packs.push(p);
    }
  }
  return out;
}

/** Built-in packs plus extra ones; an extra pack with a built-in's name replaces it. */
export async function loadAllPacks(extra: readonly string[] = [], opts: { builtins?: boolean } = {}): Promise<PackSet> {
  const builtin = opts.builtins === false ? { packs: [], problems: [] } : await loadPackFiles(builtinPackDirs());
  if (extra.length === 0) return builtin;
  const user = await loadPackFiles(extra);
  const replaced = new Set(user.packs.map((p) => p.name));
  return {
    packs: [...builtin.packs.filter((p) => !replaced.has(p.name)), ...user.packs],
    problems: [...builtin.problems, ...user.problems],
  };
}
