// Reading inputs from disk and stdin: files, directories (recursively), and `-`.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, extname, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

export interface TextInput {
  file: string;
  text: string;
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Every YAML/JSON file under the given paths, sorted for stable output; `-` is stdin. */
export async function readInputs(paths: readonly string[], opts: { maxFileBytes?: number } = {}): Promise<{ inputs: TextInput[]; errors: string[] }> {
  const inputs: TextInput[] = [];
  const errors: string[] = [];
  const max = opts.maxFileBytes ?? 64 * 1024 * 1024;
  for (const p of paths) {
    if (p === '-') {
      inputs.push({ file: '<stdin>', text: await readStdin() });
      continue;
    }
    let files: string[];
    try {
      files = await expand(p);
    } catch (err) {
      errors.push(`${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
      continue;
    }
    for (const f of files) {
      const s = await stat(f);
      if (s.size > max) {
        errors.push(`${f}: ${s.size} bytes, over the ${max}-byte limit`);
        continue;
      }
      inputs.push({ file: f, text: await readFile(f, 'utf8') });
    }
  }
  return { inputs, errors };
}

async function expand(p: string): Promise<string[]> {
  const s = await stat(p);
  if (!s.isDirectory()) return [p];
  const out: string[] = [];
  const entries = (await readdir(p, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const full = join(p, e.name);
    if (e.isDirectory()) out.push(...(await expand(full)));
    else if (MANIFEST_EXTENSIONS.has(extname(e.name))) out.push(full);
  }
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The package root (where package.json, adapters/ and rules/ live), from compiled or source code. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'adapters'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the potoo package root (package.json next to adapters/)');
}
