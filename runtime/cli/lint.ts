// `potoo lint`: load rule packs and report every problem with its location.
import { formatProblem } from '../../engine/model.js';
import { loadPackFiles } from '../packs.js';
import { parseArgs, UsageError } from './args.js';
import { EXIT, type Command } from './main.js';

export const lintCommand: Command = {
  summary: 'Check rule packs: schema, expressions, facts, operators (exit 2 on errors)',
  usage: 'potoo lint <pack files or directories...>',
  async run(argv) {
    const args = parseArgs(argv, {});
    if (args.positionals.length === 0) throw new UsageError('name at least one pack file or directory');
    const { packs, problems } = await loadPackFiles(args.positionals);
    for (const p of problems) process.stderr.write(formatProblem(p) + '\n');
    const errors = problems.filter((p) => p.severity === 'error').length;
    const rules = packs.reduce((n, p) => n + p.adapters.length + p.requirements.length + p.correlations.length + p.notifications.length, 0);
    process.stdout.write(`${packs.length} pack(s), ${rules} rule(s) ok; ${errors} error(s)\n`);
    return errors ? EXIT.usage : EXIT.ok;
  },
};
