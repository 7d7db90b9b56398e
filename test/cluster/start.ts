/**
 * `npm run cluster`: starts a real kube-apiserver + etcd on loopback and keeps them
 * running until Ctrl-C. Prints the KUBECONFIG to export and the extra users' tokens.
 */
import { startCluster } from './cluster.js';

const log = (s: string): void => {
  process.stderr.write(`[cluster] ${s}\n`);
};

const cluster = await startCluster({ log, keepDataDir: process.env['POTOO_CLUSTER_KEEP'] === '1' });

const otherUsers = Object.entries(cluster.tokens).filter(([name]) => name !== 'admin');
process.stdout.write(
  [
    `export KUBECONFIG=${cluster.kubeconfigPath}`,
    `# server:   ${cluster.server}`,
    `# etcd:     ${cluster.etcdUrl}`,
    `# data/logs: ${cluster.dataDir}`,
    ...otherUsers.map(([name, token]) => `# user ${name}: token ${token}`),
    '# Ctrl-C to stop (the data dir is removed unless POTOO_CLUSTER_KEEP=1).',
    '',
  ].join('\n'),
);

let stopping = false;
const shutdown = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  cluster
    .stop()
    .catch((e: unknown) => {
      log(`stop failed: ${(e as Error).message}`);
    })
    .finally(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

// Keep the event loop alive until a signal arrives.
setInterval(() => {}, 1 << 30);
