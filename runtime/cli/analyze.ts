// `potoo analyze`: offline, over manifests (a cluster dump, a Helm render, a GitOps repo).
import { stringify } from 'yaml';
import { formatProblem } from '../../engine/model.js';
import { analyzeObjects } from '../../engine/analyzer.js';
import { objectsFromText, type SourcedObject } from '../../engine/source/manifests.js';
import { readInputs } from '../files.js';
import { loadAllPacks } from '../packs.js';
import { bool, flag, flagList, parseArgs, UsageError } from './args.js';
import { EXIT, type Command } from './main.js';
import { buildReport, renderReport } from './report.js';

export const analyzeCommand: Command = {
  summary: 'Show, per namespace and workload, the constraints that apply and why (no cluster needed)',
  usage:
    'potoo analyze <files|dirs|-> [-o table|json|yaml] [-n namespace] [--workload Kind/name] [--packs <files|dirs>] [--no-builtin] [--why] [--all-constraints] [--default-namespace ns]',
  async run(argv) {
    const args = parseArgs(argv, {
      output: { value: true, alias: 'o' },
      namespace: { value: true, alias: 'n', repeat: true },
      workload: { value: true, repeat: true },
      packs: { value: true, repeat: true },
      'no-builtin': {},
      why: {},
      'all-constraints': {},
      'default-namespace': { value: true },
    });
    if (args.positionals.length === 0) throw new UsageError('name at least one file, directory, or - for stdin');
    const output = flag(args, 'output') ?? 'table';
    if (!['table', 'json', 'yaml'].includes(output)) throw new UsageError(`-o must be table, json or yaml, not ${output}`);

    const packSet = await loadAllPacks(flagList(args, 'packs'), { builtins: !bool(args, 'no-builtin') });
    const packErrors = packSet.problems.filter((p) => p.severity === 'error');
    for (const p of packErrors) process.stderr.write(formatProblem(p) + '\n');
    if (packErrors.length) return EXIT.usage;

    const { inputs, errors } = await readInputs(args.positionals);
    for (const e of errors) process.stderr.write(`error: ${e}\n`);
    if (inputs.length === 0) return EXIT.usage;
    const objects: SourcedObject[] = [];
    const problems = [];
    for (const input of inputs) {
      const r = objectsFromText(input.text, input.file, { defaultNamespace: flag(args, 'default-namespace') ?? 'default' });
      objects.push(...r.objects);
      problems.push(...r.problems);
    }
    const analyzer = await analyzeObjects(objects, packSet.packs);
    analyzer.inputProblems.push(...problems);

    const report = buildReport(analyzer, {
      namespaces: flagList(args, 'namespace'),
      workloads: flagList(args, 'workload'),
      allConstraints: bool(args, 'all-constraints'),
    });
    if (output === 'json') process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else if (output === 'yaml') process.stdout.write(stringify(report));
    else process.stdout.write(renderReport(report, { why: bool(args, 'why') }));
    for (const p of report.problems) process.stderr.write(formatProblem(p) + '\n');
    return errors.length ? EXIT.usage : EXIT.ok;
  },
};
