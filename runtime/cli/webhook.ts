// `potoo webhook`: the validating admission webhook that only ever warns. A separate
// process (and Deployment) with its own fact store: it keeps answering when the
// controller is down, and the API server ignores it when it is down (failurePolicy: Ignore).
import type { Audience, Severity } from '../../engine/model.js';
import { AUDIENCES, SEVERITIES, formatProblem } from '../../engine/model.js';
import { KubeClient, loadKubeConfig } from '../kube/client.js';
import { createLogger } from '../log.js';
import { loadAllPacks } from '../packs.js';
import { startWebhook, type WebhookSource } from '../webhook/index.js';
import type { AudienceResolver } from '../webhook/warnings.js';
import { bool, flag, flagList, intFlag, parseArgs, UsageError } from './args.js';
import { readManifests } from './inputs.js';
import { EXIT, type Command } from './main.js';

const NON_NEGATIVE = { min: 0, what: 'a non-negative integer' };

export const webhookCommand: Command = {
  summary: 'Run the admission webhook: warns (never denies) which constraints apply to an object being admitted',
  usage: [
    'potoo webhook --tls-cert-file <pem> --tls-private-key-file <pem> [--port 8443] [--bind-address 0.0.0.0]',
    '              [--kubeconfig <file>] [--manifests <files|dirs>]... [--packs <files|dirs>]... [--no-builtin]',
    '              [--audience developer|namespace-admin|platform-admin] [--platform-admin-group <group>]...',
    '              [--min-severity Warning] [--max-warnings 8] [--budget-ms 500] [--insecure-http]',
    '',
    'Without --manifests it lists and watches the policy resources its packs adapt (kubeconfig,',
    'or the in-cluster service account). The serving certificate is re-read when its file changes.',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, {
      port: { value: true },
      'bind-address': { value: true },
      'tls-cert-file': { value: true },
      'tls-private-key-file': { value: true },
      'insecure-http': {},
      kubeconfig: { value: true },
      manifests: { value: true, repeat: true },
      packs: { value: true, repeat: true },
      'no-builtin': {},
      audience: { value: true },
      'platform-admin-group': { value: true, repeat: true },
      'namespace-admin-group': { value: true, repeat: true },
      'max-warnings': { value: true },
      'min-severity': { value: true },
      'budget-ms': { value: true },
      'log-level': { value: true },
    });
    if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const certFile = flag(args, 'tls-cert-file');
    const keyFile = flag(args, 'tls-private-key-file');
    const insecure = bool(args, 'insecure-http');
    if (!insecure && (!certFile || !keyFile)) throw new UsageError('the API server only calls webhooks over HTTPS: give --tls-cert-file and --tls-private-key-file');
    // Numbers first, before packs and the kubeconfig load: a typo is a usage error (exit 2).
    const port = intFlag(args, 'port', 8443, NON_NEGATIVE);
    const maxLines = intFlag(args, 'max-warnings', 8, NON_NEGATIVE);
    const budgetMs = intFlag(args, 'budget-ms', 500, NON_NEGATIVE);
    const audience = (flag(args, 'audience') ?? 'developer') as Audience;
    if (!AUDIENCES.includes(audience)) throw new UsageError(`--audience must be one of ${AUDIENCES.join(', ')}`);
    const platformGroups = new Set(flagList(args, 'platform-admin-group'));
    const nsAdminGroups = new Set(flagList(args, 'namespace-admin-group'));
    const resolveAudience: AudienceResolver = (user) => {
      const groups = user.groups ?? [];
      if (groups.some((g) => platformGroups.has(g))) return 'platform-admin';
      if (groups.some((g) => nsAdminGroups.has(g))) return 'namespace-admin';
      return audience;
    };
    const minSeverity = (flag(args, 'min-severity') ?? 'Warning') as Severity;
    if (!SEVERITIES.includes(minSeverity)) throw new UsageError(`--min-severity must be one of ${SEVERITIES.join(', ')}`);
    // SEVERITIES runs from most to least severe.
    const severities = SEVERITIES.slice(0, SEVERITIES.indexOf(minSeverity) + 1);
    const level = flag(args, 'log-level');
    const log = createLogger({ base: { component: 'webhook' }, ...(level ? { level: level as 'info' } : {}) });

    const packSet = await loadAllPacks(flagList(args, 'packs'), { builtins: !bool(args, 'no-builtin') });
    // A serving process keeps going with the packs that load: a broken pack is reported
    // and left out (admission must not depend on every rule pack being valid).
    for (const p of packSet.problems) log[p.severity === 'error' ? 'error' : 'warn']({ pack: p.pack, file: p.file }, `rule pack problem: ${formatProblem(p)}`);
    if (packSet.packs.every((p) => p.adapters.length === 0)) {
      process.stderr.write('potoo webhook: no rule pack with adapters loaded; nothing to warn about\n');
      return EXIT.usage;
    }

    let source: WebhookSource;
    const manifests = flagList(args, 'manifests');
    if (manifests.length) {
      const read = await readManifests(manifests);
      if (read.readErrors) return EXIT.usage;
      for (const p of read.problems) process.stderr.write(formatProblem(p) + '\n');
      source = { kind: 'manifests', objects: read.objects };
    } else {
      const kubeconfig = flag(args, 'kubeconfig');
      const kc = loadKubeConfig(kubeconfig ? { kubeconfig } : {});
      source = { kind: 'cluster', client: await KubeClient.create(kc, { userAgent: 'potoo-webhook' }) };
    }

    const running = await startWebhook({
      packs: packSet.packs,
      source,
      log,
      server: {
        port,
        host: flag(args, 'bind-address') ?? '0.0.0.0',
        ...(insecure ? {} : { tls: { certFile: certFile!, keyFile: keyFile! } }),
      },
      handler: {
        audience: resolveAudience,
        maxLines,
        severities,
        budgetMs,
      },
    });
    // Machine-readable for whoever started us (tests, scripts): the URL we listen on.
    process.stdout.write(JSON.stringify({ msg: 'listening', url: running.url, port: running.port }) + '\n');

    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        log.info({ signal }, 'shutting down');
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await running.stop();
    if (source.kind === 'cluster') source.client.close();
    return EXIT.ok;
  },
};
