// The Helm CLI for chart tests, built from the Go module proxy like the cluster binaries
// (no package manager here ships it) and cached outside the clone, keyed by version.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const HELM_VERSION = 'v3.18.6';

let building: Promise<string> | undefined;

/** Path to a helm binary: $POTOO_HELM, the cache, or a fresh `go install` (a few minutes, once). */
export function ensureHelm(): Promise<string> {
  const env = process.env['POTOO_HELM'];
  if (env) return Promise.resolve(env);
  const dir = path.join(process.env['POTOO_CLUSTER_CACHE'] ?? path.join(os.homedir(), '.cache/potoo'), `helm-${HELM_VERSION}`);
  const bin = path.join(dir, 'helm');
  if (existsSync(bin)) return Promise.resolve(bin);
  building ??= (async () => {
    mkdirSync(dir, { recursive: true });
    await exec('go', ['install', '-trimpath', '-ldflags', '-s -w', `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], {
      env: { ...process.env, GOBIN: dir, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      timeout: 20 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (!existsSync(bin)) throw new Error(`go install did not produce ${bin}`);
    return bin;
  })();
  return building;
}

export async function helm(...args: string[]): Promise<string> {
  const { stdout } = await exec(await ensureHelm(), args, { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}
