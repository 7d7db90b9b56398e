// `potoo` and `kubectl potoo`: dispatch to one module per command.
import { UsageError } from './args.js';

export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** Exit codes: 0 ok, 1 failures found (tests, checks), 2 bad input or usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const COMMANDS: Record<string, () => Promise<Command>> = {
  analyze: async () => (await import('./analyze.js')).analyzeCommand,
  test: async () => (await import('./test.js')).testCommand,
  lint: async () => (await import('./lint.js')).lintCommand,
  schema: async () => (await import('./schema.js')).schemaCommand,
  controller: async () => (await import('./controller.js')).controllerCommand,
  webhook: async () => (await import('./webhook.js')).webhookCommand,
  explain: async () => (await import('./explain.js')).explainCommand,
};

export function registerCommand(name: string, load: () => Promise<Command>): void {
  COMMANDS[name] = load;
}

async function help(): Promise<string> {
  const lines = ['potoo: explains which cluster constraints apply to a workload, and why it is blocked.', '', 'Commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(11)} ${(await load()).summary}`);
  lines.push('', 'Run `potoo <command> --help` for its flags.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // POTOO_CONDITIONS=engine runs every rule condition through json-rules-engine (the
  // reference semantics) instead of compiled closures; see engine/stages/runner.ts.
  const mode = process.env.POTOO_CONDITIONS;
  if (mode === 'engine' || mode === 'compiled') (await import('../../engine/stages/runner.js')).setConditionMode(mode);
  else if (mode) process.stderr.write(`potoo: ignoring POTOO_CONDITIONS=${mode} (use engine or compiled)\n`);
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write((await help()) + '\n');
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === 'version' || name === '--version') {
    const { packageVersion } = await import('./version.js');
    process.stdout.write(`potoo ${await packageVersion()}\n`);
    return EXIT.ok;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`potoo: unknown command ${name}\n\n${await help()}\n`);
    return EXIT.usage;
  }
  const cmd = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${cmd.summary}\n\nUsage: ${cmd.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`potoo ${name}: ${err.message}\nUsage: ${cmd.usage}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}
