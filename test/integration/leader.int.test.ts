// Two `potoo controller` processes on one real cluster, with the production Lease
// settings (15 s lease, 10 s renew deadline, 2 s retry): exactly one leads and writes;
// SIGKILL the leader and the other takes over within 20 s; both answer the read API
// the whole time (the survivor never stops answering).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, getJson, getReport, spawnController, startPotooCluster, waitFor, type ChildController, type PotooCluster } from './helpers.js';

const NS = 'payments';

let pc: PotooCluster;
const procs: ChildController[] = [];

interface Caps {
  ready: boolean;
  leader: { isLeader: boolean; holder: string | null };
}

async function caps(c: ChildController): Promise<Caps | undefined> {
  try {
    // The read API authenticates callers (TokenReview) and authorizes them (SubjectAccessReview).
    const r = await getJson<Caps>(c.url('/api/v1/capabilities'), 3000, pc.cluster.token);
    return r.status === 200 ? r.body : undefined;
  } catch {
    return undefined;
  }
}

describe('leader election between two controller processes', () => {
  beforeAll(async () => {
    pc = await startPotooCluster();
    await pc.apply(
      [
        `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"${NS}"}}`,
        JSON.stringify({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'ledger', namespace: NS },
          spec: { selector: { matchLabels: { app: 'ledger' } }, template: { metadata: { labels: { app: 'ledger' } }, spec: { containers: [{ name: 'l', image: 'busybox' }] } } },
        }),
        `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"lockdown","namespace":"${NS}"},"spec":{"podSelector":{},"policyTypes":["Ingress","Egress"]}}`,
      ].join('\n'),
    );
  }, 240_000);

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await pc?.stop();
  }, 60_000);

  it('one leader writes, the standby serves reads; killing the leader hands over within 20 s and reads never stop', async () => {
    const a = spawnController({ kubeconfig: pc.controller, identity: 'ctl-a', port: await freePort(), extra: ['--report-debounce', '150ms'] });
    procs.push(a);
    // Let the first one win the Lease, so the test knows whom to kill.
    await waitFor(async () => (await caps(a))?.leader.isLeader, 60_000, 'ctl-a to lead', 250);
    const b = spawnController({ kubeconfig: pc.controller, identity: 'ctl-b', port: await freePort(), extra: ['--report-debounce', '150ms'] });
    procs.push(b);
    await waitFor(async () => (await caps(b))?.ready, 60_000, 'ctl-b ready', 250);

    // Probe both read APIs continuously from here on.
    const failures: { who: string; at: number; why: string }[] = [];
    let killedAt = Infinity;
    let probing = true;
    const answered = { a: 0, b: 0 };
    // answered.b >= 4 is waited for before the kill: what shows the failover is b answering after it.
    let bAfterKill = 0;
    const probe = (async () => {
      while (probing) {
        for (const [who, c] of [['a', a], ['b', b]] as const) {
          if (who === 'a' && Date.now() >= killedAt) continue;
          try {
            const r = await getJson<{ items: { source: { name: string } }[] }>(c.url(`/api/v1/constraints?namespace=${NS}`), 2000, pc.cluster.token);
            if (r.status !== 200 || !r.body.items.some((i) => i.source.name === 'lockdown')) failures.push({ who, at: Date.now(), why: `status ${r.status}` });
            else {
              answered[who]++;
              if (who === 'b' && Date.now() >= killedAt) bAfterKill++;
            }
          } catch (e) {
            if (!(who === 'a' && Date.now() >= killedAt)) failures.push({ who, at: Date.now(), why: (e as Error).message });
          }
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // Exactly one leader, and the Lease agrees.
    const [ca, cb] = [await caps(a), await caps(b)];
    expect([ca?.leader.isLeader, cb?.leader.isLeader]).toEqual([true, false]);
    const lease = JSON.parse(await pc.kubectl('-n', 'potoo-system', 'get', 'lease', 'potoo-controller', '-o', 'json')) as { spec: { holderIdentity: string; leaseDurationSeconds: number } };
    expect(lease.spec.holderIdentity).toBe('ctl-a');
    expect(lease.spec.leaseDurationSeconds).toBe(15);

    // Only the leader writes.
    await waitFor(async () => (await getReport(pc.admin, NS))?.status?.generatedBy === 'ctl-a', 10_000, 'report by ctl-a');

    // Both replicas answer for a while before the kill.
    await waitFor(() => (answered.a >= 4 && answered.b >= 4 ? true : undefined), 10_000, 'both replicas answering');
    a.child.kill('SIGKILL');
    killedAt = Date.now();
    await waitFor(async () => (await caps(b))?.leader.isLeader, 20_000, 'ctl-b to take over within 20 s', 200);
    const tookOverMs = Date.now() - killedAt;
    expect(tookOverMs).toBeLessThanOrEqual(20_000);

    // The new leader writes: a change lands in the report under its name.
    await pc.apply(`{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"after-failover","namespace":"${NS}"},"spec":{"hard":{"pods":"5"}}}`);
    await waitFor(async () => {
      const r = await getReport(pc.admin, NS);
      return r?.status?.generatedBy === 'ctl-b' && r.status.entries.some((e) => e.source.name === 'after-failover');
    }, 5000, 'report by ctl-b after failover');

    probing = false;
    await probe;
    expect(failures).toEqual([]);
    expect(answered.a).toBeGreaterThanOrEqual(4);
    expect(answered.b).toBeGreaterThan(0);
    expect(bAfterKill).toBeGreaterThan(0);
    process.stdout.write(`leader failover: ctl-b led ${tookOverMs} ms after ctl-a was killed; reads answered a=${answered.a} b=${answered.b}\n`);

    // A clean stop hands the Lease back at once.
    b.child.kill('SIGTERM');
    await waitFor(() => (b.child.exitCode !== null ? true : undefined), 15_000, 'ctl-b to exit');
    const released = JSON.parse(await pc.kubectl('-n', 'potoo-system', 'get', 'lease', 'potoo-controller', '-o', 'json')) as { spec: { holderIdentity?: string } };
    expect(released.spec.holderIdentity ?? '').toBe('');
    expect(b.child.exitCode).toBe(0);
  }, 180_000);
});
