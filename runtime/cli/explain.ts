// `potoo explain "<error message>" -n <ns>`: which constraint a pasted error (kubectl
// output, an Event message, a controller's status condition) points to. Runs the same
// correlation packs the controller uses, over an offline dump read like `potoo analyze`
// reads it, or live: without -f it reads the cluster (kubeconfig, or in-cluster) once,
// listing the policy resources the packs adapt plus the namespace's workloads.
import { stringify } from 'yaml';
import { formatProblem, type Attribution, type Audience, type Constraint } from '../../engine/model.js';
import { AUDIENCES } from '../../engine/model.js';
import { analyzeObjects } from '../../engine/analyzer.js';
import type { SourcedObject } from '../../engine/source/manifests.js';
import { messageSignal, parseWorkloadArg } from '../../engine/signals.js';
import { CorrelateStage } from '../../engine/stages/correlate.js';
import { DEFAULT_AUDIENCES, constraintView, hiddenTokens, scrubber, type Viewer } from '../../engine/privacy.js';
import { loadKubeConfig } from '../kube/client.js';
import { readManifests } from './inputs.js';
import { readClusterObjects } from './live.js';
import { sourceText } from './report.js';
import { loadAllPacks } from '../packs.js';
import { bool, flag, flagList, parseArgs, UsageError } from './args.js';
import { EXIT, type Command } from './main.js';

export interface ExplainedConstraint {
  id: string;
  label: string;
  type: string;
  effect: string;
  severity: string;
  summary: string;
  remediation: { action: string; who: string; command?: string }[];
}

export interface ExplainedAttribution {
  rank: number;
  rule: string;
  confidence: number;
  severity: string;
  explanation: string;
  constraints: ExplainedConstraint[];
  workload?: string;
}

export const explainCommand: Command = {
  summary: 'Name the constraint behind an error message (kubectl output, an Event), over the live cluster or a dump',
  usage:
    'potoo explain "<error message>" | - [-n namespace] [--workload Kind/name] [-f <files|dirs>]... [--kubeconfig <file>] [--context <name>] [--in-cluster] [--audience developer|namespace-admin|platform-admin] [-o table|json|yaml] [--packs <files|dirs>] [--no-builtin]',
  async run(argv) {
    const args = parseArgs(argv, {
      namespace: { value: true, alias: 'n' },
      workload: { value: true },
      file: { value: true, alias: 'f', repeat: true },
      kubeconfig: { value: true },
      context: { value: true },
      'in-cluster': {},
      audience: { value: true },
      output: { value: true, alias: 'o' },
      packs: { value: true, repeat: true },
      'no-builtin': {},
    });
    if (args.positionals.length === 0) throw new UsageError('give the error message (quoted), or - to read it from stdin');
    const output = flag(args, 'output') ?? 'table';
    if (!['table', 'json', 'yaml'].includes(output)) throw new UsageError(`-o must be table, json or yaml, not ${output}`);
    const audience = flag(args, 'audience');
    if (audience !== undefined && !AUDIENCES.includes(audience as Audience)) throw new UsageError(`--audience must be one of ${AUDIENCES.join(', ')}`);
    const workloadArg = flag(args, 'workload');
    const workload = workloadArg ? parseWorkloadArg(workloadArg) : undefined;
    if (workloadArg && !workload) throw new UsageError(`--workload must look like Kind/name (e.g. Deployment/web), not ${workloadArg}`);
    const namespace = flag(args, 'namespace') ?? '';

    const message = args.positionals.length === 1 && args.positionals[0] === '-' ? await readStdin() : args.positionals.join(' ');
    if (message.trim() === '') throw new UsageError('the message is empty');

    const packSet = await loadAllPacks(flagList(args, 'packs'), { builtins: !bool(args, 'no-builtin') });
    const packErrors = packSet.problems.filter((p) => p.severity === 'error');
    for (const p of packErrors) process.stderr.write(formatProblem(p) + '\n');
    if (packErrors.length) return EXIT.usage;

    const files = flagList(args, 'file');
    const objects: SourcedObject[] = [];
    let inputErrors = 0;
    let live = false;
    if (files.length === 0) {
      const kubeconfig = flag(args, 'kubeconfig');
      const context = flag(args, 'context');
      try {
        const kc = loadKubeConfig({ ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}), inCluster: bool(args, 'in-cluster') });
        const r = await readClusterObjects(kc, packSet.packs, namespace ? { namespace } : {});
        objects.push(...r.objects);
        live = true;
        for (const s of r.skipped) process.stderr.write(`note: not read: ${s}\n`);
      } catch (err) {
        // No cluster is not fatal: the message is still recognized, the constraint just not looked up.
        process.stderr.write(`note: could not read the cluster (${(err as Error).message.split('\n')[0]}); give a dump with -f to look constraints up\n`);
      }
    } else {
      const read = await readManifests(files);
      inputErrors = read.readErrors;
      objects.push(...read.objects);
      for (const p of read.problems) if (p.severity === 'error') process.stderr.write(formatProblem(p) + '\n');
    }
    const analyzer = await analyzeObjects(objects, packSet.packs);
    const stage = new CorrelateStage(packSet.packs, analyzer);
    const opts: { namespace?: string; workload?: { kind: string; name: string } } = { namespace };
    if (workload) opts.workload = workload;
    const result = await stage.correlate(messageSignal(message, opts));
    stage.dispose();
    for (const p of result.problems) if (p.severity === 'error') process.stderr.write(formatProblem(p) + '\n');

    const explained = result.attributions.map((a, i) => explainOne(a, i + 1, (id) => analyzer.constraints.get(id), audience as Audience | undefined, namespace));
    if (output === 'json') process.stdout.write(JSON.stringify({ message: result.signal.message, namespace, attributions: explained }, null, 2) + '\n');
    else if (output === 'yaml') process.stdout.write(stringify({ message: result.signal.message, namespace, attributions: explained }));
    else process.stdout.write(renderTable(explained, files.length > 0 || live, live));
    if (inputErrors) return EXIT.usage;
    return explained.length > 0 ? EXIT.ok : EXIT.failed;
  },
};

function explainOne(
  a: Attribution,
  rank: number,
  get: (id: string) => Constraint | undefined,
  audience: Audience | undefined,
  namespace: string,
): ExplainedAttribution {
  const constraints = a.constraintIds.map(get).filter((c): c is Constraint => c !== undefined);
  const out: ExplainedAttribution = {
    rank,
    rule: `${a.rule.pack}/${a.rule.rule}`,
    confidence: a.confidence,
    severity: a.severity,
    explanation: a.explanation,
    constraints: [],
  };
  if (a.workload) out.workload = `${a.workload.kind}/${a.workload.name}`;
  if (!audience) {
    out.constraints = constraints.map((c) => ({
      id: c.id,
      label: sourceText(c),
      type: c.type,
      effect: c.effect,
      severity: c.severity,
      summary: c.summary,
      remediation: c.remediation,
    }));
    return out;
  }
  // Preview what an audience would be told: the notify stage's views and scrubbing.
  const viewer: Viewer = { audience, namespace, detail: DEFAULT_AUDIENCES[audience].maxDetail, policy: DEFAULT_AUDIENCES[audience] };
  const views = constraints.map((c) => constraintView(c, viewer));
  const scrub = scrubber(hiddenTokens(constraints, viewer), [namespace, a.workload?.name ?? '']);
  // As the notify stage does: an explanation that names a hidden constraint is replaced by the views.
  out.explanation = views.every((v) => v.visible) ? a.explanation : scrub(views.map((v) => v.summary).join('; ') || a.explanation);
  out.constraints = views.map((v) => ({ id: v.id, label: v.label, type: v.type, effect: v.effect, severity: v.severity, summary: v.summary, remediation: v.remediation }));
  return out;
}

function renderTable(list: readonly ExplainedAttribution[], haveDump: boolean, live = false): string {
  if (list.length === 0) return 'No correlation rule recognizes this message.\n';
  const lines: string[] = [];
  for (const a of list) {
    const head = a.constraints.length ? a.constraints.map((c) => c.label).join(', ') : haveDump ? (live ? '(no matching constraint in the cluster)' : '(no matching constraint in the dump)') : '(constraint not looked up: no dump, no cluster)';
    lines.push(`${a.rank}. ${head}`);
    lines.push(`   ${a.explanation}`);
    lines.push(`   confidence ${a.confidence.toFixed(2)}, ${a.severity}, rule ${a.rule}${a.workload ? `, workload ${a.workload}` : ''}`);
    for (const c of a.constraints) {
      lines.push(`   - ${c.label} (${c.type}, ${c.effect}): ${c.summary}`);
      for (const s of c.remediation) lines.push(`     fix (${s.who}): ${s.action}${s.command ? `  $ ${s.command}` : ''}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
