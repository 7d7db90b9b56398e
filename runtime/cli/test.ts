// `potoo test`: run rule-pack tests; failing cases print with a diff; exit 1 on failure.
import { formatProblem } from '../../engine/model.js';
import { formatTestResults, runPackTests, type TestCaseResult } from '../../engine/testing/index.js';
// Registers the attributions / findings / deliveries expectations.
import { loadAllPacks, loadPackFiles } from '../packs.js';
import { bool, parseArgs, UsageError } from './args.js';
import { EXIT, type Command } from './main.js';

export const testCommand: Command = {
  summary: 'Run the tests written inside rule packs (exit 1 when one fails, 2 when a pack does not load)',
  usage: 'potoo test <pack files or directories...> [--no-builtin] [-o json]',
  async run(argv) {
    const args = parseArgs(argv, { 'no-builtin': {}, output: { value: true, alias: 'o' } });
    if (args.positionals.length === 0) throw new UsageError('name at least one pack file or directory');
    const under = await loadPackFiles(args.positionals);
    for (const p of under.problems) process.stderr.write(formatProblem(p) + '\n');
    // The built-in packs are context (so a requirement pack's tests see stock adapters).
    const context = bool(args, 'no-builtin') ? [] : (await loadAllPacks()).packs;
    const results: TestCaseResult[] = [];
    for (const pack of under.packs) results.push(...(await runPackTests(pack, context)));
    if (args.flags.get('output')?.[0] === 'json') process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    else process.stdout.write(formatTestResults(results) + '\n');
    if (under.problems.some((p) => p.severity === 'error')) return EXIT.usage;
    return results.some((r) => !r.ok) ? EXIT.failed : EXIT.ok;
  },
};
