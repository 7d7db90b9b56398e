// `potoo controller`: run the live controller against a cluster (in a pod, or from a
// laptop with a kubeconfig). SIGTERM stops it cleanly and hands the leader Lease over.
import { existsSync, readFileSync } from 'node:fs';
import { parseDuration } from '../../engine/pack/loader.js';
import { KubeClient, loadKubeConfig } from '../kube/client.js';
import { KubernetesAuthorizer } from '../http/auth.js';
import { Controller, defaultIdentity } from '../controller/manager.js';
import { DEFAULT_MAX_CONFIGMAP_PACK_BYTES } from '../controller/rulepacks.js';
import { startHttpServer } from '../http/server.js';
import { createLogger } from '../log.js';
import { Metrics } from '../metrics.js';
import { bool, flag, flagList, intFlag, parseArgs, UsageError } from './args.js';
import { EXIT, type Command } from './main.js';

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function duration(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^([0-9]+(ms|s|m|h))+$/.test(v)) throw new UsageError(`--${name} must be a duration such as 500ms, 15s, 5m (got ${v})`);
  return parseDuration(v);
}

const PORT = { min: 0, max: 65535, what: 'a port number' };

function ownNamespace(): string {
  const env = process.env['POD_NAMESPACE'];
  if (env) return env;
  if (existsSync(SA_NAMESPACE_FILE)) return readFileSync(SA_NAMESPACE_FILE, 'utf8').trim();
  return 'potoo-system';
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type Level = (typeof LEVELS)[number];

export const controllerCommand: Command = {
  summary: 'Run the live controller: discovery, informers, ConstraintReports, read API and metrics',
  usage: [
    'potoo controller [--kubeconfig <file>] [--context <name>] [--in-cluster]',
    '    [--namespace <ns>] [--trusted-namespace <ns>[,<ns>...]] [--identity <name>]',
    '    [--rescan-interval 5m] [--crd-rescan-delay 2s]',
    '    [--no-leader-elect] [--lease-name potoo-controller] [--lease-duration 15s] [--renew-deadline 10s] [--retry-period 2s]',
    '    [--http-host 0.0.0.0] [--http-port 8080] [--api-auth kubernetes|none]',
    '    [--report-debounce 250ms] [--report-max-delay 1s] [--report-concurrency 8] [--report-exclude-namespace <ns>[,...]]',
    '    [--watch-idle-timeout 150s] [--resync-period 15m] [--max-configmap-pack-bytes 1048576]',
    '    [--requirement-debounce 90s] [--no-requirements] [--no-event-correlation] [--event-startup-window 5m]',
    '    [--hubble-address host:port] [--hubble-ca <file>] [--hubble-cert <file> --hubble-key <file>] [--hubble-server-name <name>] [--hubble-namespace <ns>[,...]]',
    '    [--packs <files|dirs>] [--no-builtin] [--log-level info]',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, {
      kubeconfig: { value: true },
      context: { value: true },
      'in-cluster': {},
      namespace: { value: true, alias: 'n' },
      'trusted-namespace': { value: true, repeat: true },
      identity: { value: true },
      'rescan-interval': { value: true },
      'crd-rescan-delay': { value: true },
      'no-leader-elect': {},
      'lease-name': { value: true },
      'lease-duration': { value: true },
      'renew-deadline': { value: true },
      'retry-period': { value: true },
      'http-host': { value: true },
      'http-port': { value: true },
      'report-debounce': { value: true },
      'report-max-delay': { value: true },
      'report-exclude-namespace': { value: true, repeat: true },
      'report-concurrency': { value: true },
      'watch-idle-timeout': { value: true },
      'resync-period': { value: true },
      'max-configmap-pack-bytes': { value: true },
      'requirement-debounce': { value: true },
      'no-requirements': {},
      'no-event-correlation': {},
      'event-startup-window': { value: true },
      'hubble-address': { value: true },
      'hubble-ca': { value: true },
      'hubble-cert': { value: true },
      'hubble-key': { value: true },
      'hubble-server-name': { value: true },
      'hubble-namespace': { value: true, repeat: true },
      packs: { value: true, repeat: true },
      'no-builtin': {},
      'log-level': { value: true },
      'api-auth': { value: true },
    });
    if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const level = (flag(args, 'log-level') ?? process.env['POTOO_LOG_LEVEL'] ?? 'info') as Level;
    if (!LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
    const apiAuth = flag(args, 'api-auth') ?? 'kubernetes';
    if (apiAuth !== 'kubernetes' && apiAuth !== 'none') throw new UsageError('--api-auth must be kubernetes or none');
    const namespace = flag(args, 'namespace') ?? ownNamespace();
    const leaseDurationMs = duration('lease-duration', flag(args, 'lease-duration'), 15_000);
    const renewDeadlineMs = duration('renew-deadline', flag(args, 'renew-deadline'), 10_000);
    const retryPeriodMs = duration('retry-period', flag(args, 'retry-period'), 2_000);
    if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs)) {
      throw new UsageError('--lease-duration must exceed --renew-deadline, which must exceed --retry-period');
    }
    // Every number is checked here, before the kubeconfig is read, so a typo is a usage
    // error (exit 2) naming the flag rather than whatever loading the cluster hits first.
    const maxPack = intFlag(args, 'max-configmap-pack-bytes', DEFAULT_MAX_CONFIGMAP_PACK_BYTES, { min: 1, what: 'a positive number of bytes' });
    const reportConcurrency = intFlag(args, 'report-concurrency', 8, { min: 1, max: 256, what: 'a whole number from 1 to 256' });
    const httpPort = intFlag(args, 'http-port', 8080, PORT);
    const hubbleAddress = flag(args, 'hubble-address');
    const file = (name: string): Buffer | undefined => {
      const f = flag(args, name);
      if (f === undefined) return undefined;
      if (!hubbleAddress) throw new UsageError(`--${name} needs --hubble-address`);
      return readFileSync(f);
    };
    const ca = file('hubble-ca');
    const cert = file('hubble-cert');
    const key = file('hubble-key');
    if (!!cert !== !!key) throw new UsageError('--hubble-cert and --hubble-key go together');
    const serverName = flag(args, 'hubble-server-name');
    const tls = ca || cert || serverName ? { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(serverName ? { serverName } : {}) } : undefined;
    const hubbleNamespaces = flagList(args, 'hubble-namespace');
    const reqDebounce = flag(args, 'requirement-debounce');

    const kubeconfig = flag(args, 'kubeconfig');
    const context = flag(args, 'context');
    const kc = loadKubeConfig({ ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}), inCluster: bool(args, 'in-cluster') });

    const metrics = new Metrics({ defaultMetrics: true });
    const identity = flag(args, 'identity') ?? defaultIdentity();
    const log = createLogger({ level, base: { identity } });
    const ctl = new Controller({
      kubeConfig: kc,
      namespace,
      trustedNamespaces: flagList(args, 'trusted-namespace'),
      identity,
      rescanIntervalMs: duration('rescan-interval', flag(args, 'rescan-interval'), 300_000),
      crdRescanDelayMs: duration('crd-rescan-delay', flag(args, 'crd-rescan-delay'), 2_000),
      leaderElection: bool(args, 'no-leader-elect') ? false : { leaseName: flag(args, 'lease-name') ?? 'potoo-controller', leaseDurationMs, renewDeadlineMs, retryPeriodMs },
      reports: {
        debounceMs: duration('report-debounce', flag(args, 'report-debounce'), 250),
        maxDelayMs: duration('report-max-delay', flag(args, 'report-max-delay'), 1000),
        excludeNamespaces: flagList(args, 'report-exclude-namespace'),
        concurrency: reportConcurrency,
      },
      informer: {
        idleTimeoutMs: duration('watch-idle-timeout', flag(args, 'watch-idle-timeout'), 150_000),
        resyncMs: duration('resync-period', flag(args, 'resync-period'), 15 * 60_000),
      },
      packs: { builtins: !bool(args, 'no-builtin'), paths: flagList(args, 'packs') },
      signals: bool(args, 'no-event-correlation')
        ? false
        : {
            startupWindowMs: duration('event-startup-window', flag(args, 'event-startup-window'), 5 * 60_000),
            ...(hubbleAddress ? { hubble: { address: hubbleAddress, ...(tls ? { tls } : {}), ...(hubbleNamespaces.length ? { namespaces: hubbleNamespaces } : {}) } } : {}),
          },
      requirements: bool(args, 'no-requirements') ? false : reqDebounce !== undefined ? { debounceMs: duration('requirement-debounce', reqDebounce, 90_000) } : {},
      maxConfigMapPackBytes: maxPack,
      log,
      metrics,
    });
    // The read API reveals what constrains each namespace: as private as its ConstraintReport.
    const authClient = apiAuth === 'kubernetes' ? await KubeClient.create(kc) : undefined;
    const http = await startHttpServer(ctl, {
      host: flag(args, 'http-host') ?? '0.0.0.0',
      port: httpPort,
      log,
      ...(authClient ? { auth: new KubernetesAuthorizer(authClient, log) } : {}),
    });

    let stopping: Promise<void> | undefined;
    const stop = (signal: string): Promise<void> =>
      (stopping ??= (async () => {
        log.info({ signal }, 'shutting down');
        await ctl.stop();
        await http.close();
        authClient?.close();
      })());
    const done = new Promise<number>((resolve) => {
      for (const s of ['SIGTERM', 'SIGINT'] as const) {
        process.once(s, () => {
          void stop(s).then(() => resolve(EXIT.ok));
        });
      }
    });
    try {
      await ctl.start();
    } catch (err) {
      log.fatal({ err: (err as Error).message }, 'controller failed to start');
      await stop('startup-failure');
      return EXIT.failed;
    }
    return done;
  },
};
