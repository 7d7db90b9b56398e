// Faults a healthy kube-apiserver will not produce on demand (a watch line cut in the
// middle of an object, an expired resourceVersion mid-watch, a silent connection, a 500
// on list), served over real HTTP by a tiny local server that speaks the list/watch
// protocol. The real-apiserver behaviour is covered by test/integration.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test/wait.js';
import { KubeConfig } from '@kubernetes/client-node';
import { FactStore } from '../../engine/store/store.js';
import { silentLogger } from '../log.js';
import { Metrics } from '../metrics.js';
import { KubeClient } from './client.js';
import { Informer, informerKey } from './informer.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace: string; resourceVersion: string } };
type WatchScript = (res: http.ServerResponse, rv: string | null) => void;

const cm = (name: string, rv: number): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion: String(rv) } });
const line = (type: string, object: unknown): string => JSON.stringify({ type, object }) + '\n';

interface Fake {
  url: string;
  lists: number;
  watches: (string | null)[];
  setList(items: Obj[], rv: number, status?: number): void;
  onWatch(script: WatchScript): void;
  close(): Promise<void>;
}

async function fakeApi(): Promise<Fake> {
  let items: Obj[] = [];
  let listRv = 1;
  let listStatus = 200;
  const scripts: WatchScript[] = [];
  const open = new Set<http.ServerResponse>();
  const fake: Fake = {
    url: '',
    lists: 0,
    watches: [],
    setList(i, rv, status = 200) {
      items = i;
      listRv = rv;
      listStatus = status;
    },
    onWatch(s) {
      scripts.push(s);
    },
    close: () =>
      new Promise((resolve) => {
        for (const r of open) r.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.searchParams.get('watch') === 'true') {
      fake.watches.push(u.searchParams.get('resourceVersion'));
      const script = scripts.shift();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      open.add(res);
      res.on('close', () => open.delete(res));
      // No script: hang quietly (the watchdog's case).
      if (script) script(res, u.searchParams.get('resourceVersion'));
      return;
    }
    fake.lists++;
    if (listStatus !== 200) {
      res.writeHead(listStatus, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: listStatus, reason: 'InternalError', message: 'boom' }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: String(listRv) }, items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

async function clientFor(url: string): Promise<KubeClient> {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return KubeClient.create(kc);
}


const names = (store: FactStore): string[] => store.list('v1/configmaps').map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort();

describe('Informer', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(tuning: { idleTimeoutMs?: number } = {}) {
    const fake = await fakeApi();
    const client = await clientFor(fake.url);
    const store = new FactStore();
    const metrics = new Metrics();
    const gvr = { group: '', version: 'v1', resource: 'configmaps' };
    const sink = {
      replace: (items: Record<string, unknown>[]) => void store.replaceAll(gvr, items),
      upsert: (o: Record<string, unknown>) => void store.upsert(gvr, o),
      delete: (o: Record<string, unknown>) => {
        const md = o.metadata as { namespace: string; name: string };
        store.delete(gvr, md.namespace, md.name);
      },
    };
    const inf = new Informer(client, sink, { gvr, log: silentLogger(), metrics, backoff: { initialMs: 10, maxMs: 50 }, resyncMs: 0, ...tuning });
    cleanups.push(async () => {
      await inf.stop();
      client.close();
      await fake.close();
    });
    return { fake, store, metrics, inf };
  }

  it('lists, then watches from the list resourceVersion with bookmarks; list items get their kind back', async () => {
    const { fake, store, inf } = await setup();
    fake.setList([cm('a', 5)], 10);
    fake.onWatch((res) => {
      res.write(line('ADDED', cm('b', 11)));
      res.write(line('BOOKMARK', { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '12' } }));
    });
    inf.start();
    await inf.waitForSync();
    await until(() => store.count() === 2);
    expect(names(store)).toEqual(['a@5', 'b@11']);
    expect(store.list('v1/configmaps').every((o) => o.kind === 'ConfigMap' && o.apiVersion === 'v1')).toBe(true);
    expect(fake.watches[0]).toBe('10');
  });

  it('a watch line cut mid-object: logs and counts it, resumes from the last applied version, and the object arrives on the retry', async () => {
    const { fake, store, metrics, inf } = await setup();
    fake.setList([cm('a', 5)], 10);
    fake.onWatch((res) => {
      res.write(line('ADDED', cm('b', 11)));
      // Half of an object, then the stream ends.
      res.end(line('ADDED', cm('c', 12)).slice(0, 40));
    });
    fake.onWatch((res) => res.write(line('ADDED', cm('c', 12))));
    inf.start();
    await until(() => store.count() === 3);
    expect(names(store)).toEqual(['a@5', 'b@11', 'c@12']);
    expect(fake.watches).toEqual(['10', '11']);
    expect((await metrics.watchDecodeErrors.get()).values[0]?.value).toBe(1);
    expect(inf.status().lastError?.message).toMatch(/stream ended mid-object/);
  });

  it('410 Gone mid-watch: relists, and objects deleted meanwhile do not survive as ghosts', async () => {
    const { fake, store, inf } = await setup();
    fake.setList([cm('a', 5), cm('b', 6)], 10);
    fake.onWatch((res) => {
      fake.setList([cm('a', 5), cm('z', 30)], 31);
      res.write(line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' }));
    });
    inf.start();
    await until(() => fake.lists === 2 && store.count() === 2 && store.get('v1/configmaps', 'ns', 'z') !== undefined);
    expect(names(store)).toEqual(['a@5', 'z@30']);
    expect(fake.watches).toEqual(['10', '31']);
  });

  it('a watch that goes quiet is restarted by the watchdog', async () => {
    const { fake, metrics, inf } = await setup({ idleTimeoutMs: 150 });
    fake.setList([], 10);
    inf.start();
    await until(() => fake.watches.length >= 3);
    const restarts = (await metrics.informerRestarts.get()).values.find((v) => v.labels.reason === 'idle');
    expect(restarts?.value).toBeGreaterThanOrEqual(2);
  });

  it('a failing list backs off and retries instead of stopping for good', async () => {
    const { fake, store, inf } = await setup();
    fake.setList([cm('a', 1)], 5, 500);
    inf.start();
    await until(() => fake.lists >= 3);
    expect(inf.synced).toBe(false);
    expect(inf.status().lastError?.status).toBe(500);
    fake.setList([cm('a', 1)], 5, 200);
    await inf.waitForSync();
    expect(names(store)).toEqual(['a@1']);
  });

  it('a forbidden list settles startup (it will not fix itself soon) while retries go on', async () => {
    const { fake, inf } = await setup();
    fake.setList([], 5, 403);
    inf.start();
    await inf.waitForSettled();
    expect(inf.synced).toBe(false);
    expect(inf.status().lastError?.status).toBe(403);
  });

  it('informers on one resource with different selectors keep separate metric series', async () => {
    const fake = await fakeApi();
    const client = await clientFor(fake.url);
    const metrics = new Metrics();
    const gvr = { group: '', version: 'v1', resource: 'events' };
    const sink = { replace: () => undefined, upsert: () => undefined, delete: () => undefined };
    const make = (fieldSelector: string): Informer => new Informer(client, sink, { gvr, fieldSelector, log: silentLogger(), metrics, backoff: { initialMs: 10, maxMs: 50 }, resyncMs: 0 });
    const warnings = make('type=Warning');
    const normal = make('type=Normal');
    cleanups.push(async () => {
      await warnings.stop();
      await normal.stop();
      client.close();
      await fake.close();
    });
    fake.setList([], 10);
    warnings.start();
    normal.start();
    await warnings.waitForSync();
    await normal.waitForSync();
    const synced = async (): Promise<Record<string, number>> => Object.fromEntries((await metrics.informerSynced.get()).values.map((v) => [String(v.labels.gvr), v.value]));
    expect(await synced()).toEqual({ 'v1/events?fieldSelector=type=Warning': 1, 'v1/events?fieldSelector=type=Normal': 1 });
    const relists = (await metrics.informerRelists.get()).values.map((v) => [v.labels.gvr, v.value]);
    expect(relists).toEqual(expect.arrayContaining([['v1/events?fieldSelector=type=Warning', 1], ['v1/events?fieldSelector=type=Normal', 1]]));
    // Stopping one removes its series only: the other informer is still synced.
    await normal.stop();
    expect(await synced()).toEqual({ 'v1/events?fieldSelector=type=Warning': 1 });
  });

  it('the key names namespace and both selectors, and stays the bare resource without them', () => {
    const gvr = { group: '', version: 'v1', resource: 'configmaps' };
    expect(informerKey({ gvr })).toBe('v1/configmaps');
    expect(informerKey({ gvr, namespace: 'potoo-system', labelSelector: 'potoo.io/rule-pack=true' })).toBe('v1/configmaps@potoo-system?labelSelector=potoo.io/rule-pack=true');
    expect(informerKey({ gvr, labelSelector: 'app=web', fieldSelector: 'metadata.name=a' })).toBe('v1/configmaps?labelSelector=app=web&fieldSelector=metadata.name=a');
  });

  it('stop() ends the watch; nothing is delivered afterwards', async () => {
    const { fake, store, inf } = await setup();
    fake.setList([], 10);
    let late: http.ServerResponse | undefined;
    fake.onWatch((res) => (late = res));
    inf.start();
    await until(() => late !== undefined);
    await inf.stop();
    late?.write(line('ADDED', cm('late', 11)));
    await new Promise((r) => setTimeout(r, 50));
    expect(store.count()).toBe(0);
    expect(inf.status().state).toBe('stopped');
  });
});
