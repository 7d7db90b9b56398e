// `potoo webhook ...` as its own process, as the container runs it: for the webhook
// integration test and the webhook benchmark. Resolves once the server logs its URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package root, from test/integration/ (source) or dist/test/integration/ (compiled). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const ROOT = packageRoot();

export interface WebhookProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Peak and current resident set size of the process, MB (0 where /proc is absent). */
  rssMb(): { peak: number; now: number };
  stop(): Promise<void>;
}

export interface WebhookProcessOptions {
  /** Run dist/runtime/cli/main.js when it is built (default: the source, through tsx). */
  fromDist?: boolean;
  logLevel?: string;
  startTimeoutMs?: number;
}

export async function startWebhookProcess(args: string[], opts: WebhookProcessOptions = {}): Promise<WebhookProcess> {
  const dist = path.join(ROOT, 'dist/runtime/cli/main.js');
  const fromDist = opts.fromDist === true && existsSync(dist);
  const entry = pathToFileURL(fromDist ? dist : path.join(ROOT, 'runtime/cli/main.ts')).href;
  const node = [...(fromDist ? [] : ['--import', 'tsx']), '--input-type=module', '-e', `import { main } from ${JSON.stringify(entry)}; process.exitCode = await main(JSON.parse(process.env.POTOO_ARGS));`];
  const child = spawn(process.execPath, node, {
    cwd: ROOT,
    env: { ...process.env, POTOO_ARGS: JSON.stringify(args), POTOO_LOG_LEVEL: opts.logLevel ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`potoo webhook did not start in ${startTimeoutMs / 1000} s:\n${out}`)), startTimeoutMs);
    const check = (): void => {
      const m = /"msg":"listening","url":"([^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`potoo webhook exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    child,
    url,
    output: () => out,
    rssMb: () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
        return { peak: kb('VmHWM'), now: kb('VmRSS') };
      } catch {
        return { peak: 0, now: 0 };
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}
