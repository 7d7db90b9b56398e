// `potoo analyze`: offline, over manifests (a cluster dump, a Helm render, a GitOps repo).
import { stringify } from 'yaml';
import { formatProblem } from '../../engine/model.js';
import { analyzeObjects } from '../../engine/analyzer.js';
import { loadAllPacks } from '../packs.js';
import { bool, flag, flagList, parseArgs, UsageError } from './args.js';
import { readManifests } from './inputs.js';
import { EXIT, type Command } from './main.js';
import { buildReport, renderReport } from './report.js';
import { evaluateTraffic, renderTrafficVerdict, resolveEndpoint } from '../../engine/traffic.js';

export const analyzeCommand: Command = {
  summary: 'Show, per namespace and workload, the constraints that apply and why (no cluster needed)',
  usage:
    'potoo analyze <files|dirs|-> [-o table|json|yaml] [-n namespace] [--workload Kind/name] [--packs <files|dirs>] [--no-builtin] [--why] [--all-constraints] [--default-namespace ns] [--explain-traffic <src> <dst> <port>]\n' +
    '  --explain-traffic: is traffic from src to dst on port allowed, and which rules decide. src/dst: namespace/Kind/name,\n' +
    '    namespace/label=value,..., an IP address, an entity (world, host, ...) or a DNS name; port: 80, 80/UDP or a port name',
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
      'explain-traffic': { arity: 3 },
    });
    if (args.positionals.length === 0) throw new UsageError('name at least one file, directory, or - for stdin');
    const output = flag(args, 'output') ?? 'table';
    if (!['table', 'json', 'yaml'].includes(output)) throw new UsageError(`-o must be table, json or yaml, not ${output}`);

    const packSet = await loadAllPacks(flagList(args, 'packs'), { builtins: !bool(args, 'no-builtin') });
    const packErrors = packSet.problems.filter((p) => p.severity === 'error');
    for (const p of packErrors) process.stderr.write(formatProblem(p) + '\n');
    if (packErrors.length) return EXIT.usage;

    const read = await readManifests(args.positionals, { defaultNamespace: flag(args, 'default-namespace') ?? 'default' });
    if (read.files === 0) return EXIT.usage;
    const analyzer = await analyzeObjects(read.objects, packSet.packs);
    analyzer.inputProblems.push(...read.problems);

    const traffic = args.flags.get('explain-traffic');
    if (traffic) {
      const [srcText, dstText, portText] = traffic as [string, string, string];
      const src = resolveEndpoint(analyzer, srcText);
      const dst = resolveEndpoint(analyzer, dstText);
      for (const r of [src, dst]) if (!r.ok) process.stderr.write(`error: ${r.error}\n`);
      if (!src.ok || !dst.ok) return EXIT.usage;
      const verdict = evaluateTraffic(analyzer, { src: src.endpoint, dst: dst.endpoint, port: portText });
      if (output === 'json') process.stdout.write(JSON.stringify(verdict, null, 2) + '\n');
      else if (output === 'yaml') process.stdout.write(stringify(verdict));
      else process.stdout.write(renderTrafficVerdict(verdict));
      for (const p of analyzer.problems()) process.stderr.write(formatProblem(p) + '\n');
      return read.readErrors ? EXIT.usage : EXIT.ok;
    }

    const report = buildReport(analyzer, {
      namespaces: flagList(args, 'namespace'),
      workloads: flagList(args, 'workload'),
      allConstraints: bool(args, 'all-constraints'),
    });
    if (output === 'json') process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else if (output === 'yaml') process.stdout.write(stringify(report));
    else process.stdout.write(renderReport(report, { why: bool(args, 'why') }));
    for (const p of report.problems) process.stderr.write(formatProblem(p) + '\n');
    return read.readErrors ? EXIT.usage : EXIT.ok;
  },
};
