// The webhook process, assembled: its own fact store and analyzer (fed by list+watch or
// by manifests), the admission handler, the HTTPS server. `potoo webhook` and the tests
// and benchmarks start it through `startWebhook`.
import type { Logger } from 'pino';
import { Analyzer } from '../../engine/analyzer.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import type { SourcedObject } from '../../engine/source/manifests.js';
import { gvrOf } from '../../engine/gvr.js';
import { FactStore } from '../../engine/store/store.js';
import { isWorkloadGvr } from '../../engine/store/workloads.js';
import { silentLogger } from '../log.js';
import type { KubeClient } from '../kube/client.js';
import { ListWatchFeed, StaticFeed, wantedResources, type StoreFeed, type WantedResource } from './feed.js';
import { AdmissionHandler, analyzerLookup, type HandlerOptions } from './handler.js';
import { WebhookServer, type WebhookServerOptions } from './server.js';

export type WebhookSource =
  | { kind: 'cluster'; client: KubeClient; extra?: WantedResource[]; rediscoverMs?: number }
  | { kind: 'manifests'; objects: readonly SourcedObject[] };

export interface StartWebhookOptions {
  packs: readonly CompiledPack[];
  source: WebhookSource;
  server: Omit<WebhookServerOptions, 'handler' | 'ready' | 'log'>;
  handler?: Omit<HandlerOptions, 'lookup' | 'log'>;
  log?: Logger;
}

export interface RunningWebhook {
  url: string;
  port: number;
  analyzer: Analyzer;
  feed: StoreFeed;
  ready(): boolean;
  stop(): Promise<void>;
}

export async function startWebhook(opts: StartWebhookOptions): Promise<RunningWebhook> {
  const log = opts.log;
  const store = new FactStore({ onListenerError: (err) => log?.error({ err }, 'fact store listener failed') });
  const analyzer = new Analyzer(store, opts.packs);
  let feed: StoreFeed;
  if (opts.source.kind === 'manifests') {
    // The admitted object arrives in each request: stored workloads would only cost
    // memory and GC time, so a manifest set keeps its policies and namespaces.
    analyzer.load(
      opts.source.objects.filter((s) => {
        const gvr = gvrOf(s.object);
        return !gvr || !isWorkloadGvr(gvr);
      }),
    );
    for (const p of analyzer.inputProblems) log?.warn({ problem: p.message, file: p.file, line: p.line }, 'manifest object refused');
    await analyzer.adaptAll();
    feed = new StaticFeed();
  } else {
    analyzer.follow((err) => log?.error({ err }, 'adapting a changed object failed'));
    feed = new ListWatchFeed({
      client: opts.source.client,
      store,
      wanted: [...wantedResources(opts.packs), ...(opts.source.extra ?? [])],
      log: log ?? silentLogger(),
      ...(opts.source.rediscoverMs !== undefined ? { rediscoverMs: opts.source.rediscoverMs } : {}),
    });
  }
  const handler = new AdmissionHandler({ ...opts.handler, lookup: analyzerLookup(analyzer), ...(log ? { log } : {}) });
  // Ready means the store is synced. Before that the webhook still answers (allowed,
  // with whatever it knows): readiness only keeps the Service from routing to a cold replica.
  const ready = (): boolean => feed.synced();
  const server = new WebhookServer({ ...opts.server, handler, ready, ...(log ? { log } : {}) });
  feed.start();
  const { url, port } = await server.start();
  log?.info({ url }, 'admission webhook listening');
  return {
    url,
    port,
    analyzer,
    feed,
    ready,
    async stop() {
      await server.stop();
      await feed.stop();
      analyzer.stop();
    },
  };
}
