import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './main.js';

const DUMP = 'test/scenarios/cluster';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, out, err };
}

afterEach(() => vi.restoreAllMocks());

describe('potoo explain', () => {
  it('names the quota a pasted kubectl error points to', async () => {
    const r = await run(['explain', 'Error from server (Forbidden): pods "p" is forbidden: exceeded quota: compute, requested: limits.cpu=2, used: limits.cpu=7, limited: limits.cpu=8', '-n', 'shop', '-f', DUMP]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^1\. ResourceQuota shop\/compute\n/);
    expect(r.out).toContain('ResourceQuota compute in namespace shop has no room');
    expect(r.out).toContain('fix (developer):');
  });

  it('JSON output ranks attributions; --audience developer hides what the cluster owns', async () => {
    const msg = 'admission webhook "images.acme.io" denied the request: image not signed';
    const full = JSON.parse((await run(['explain', msg, '-n', 'web', '-f', DUMP, '-o', 'json'])).out) as { attributions: { rank: number; constraints: { label: string }[] }[] };
    expect(full.attributions[0]?.constraints[0]?.label).toBe('ValidatingWebhookConfiguration acme-guard');
    const dev = await run(['explain', msg, '-n', 'web', '-f', DUMP, '--audience', 'developer']);
    expect(dev.out).toContain('an admission policy owned by the cluster');
    expect(dev.out).not.toContain('acme-guard');
    expect(dev.out).not.toContain('images.acme.io');
  });

  it('without a dump or a reachable cluster, recognizes the message and says the constraint could not be looked up', async () => {
    const r = await run(['explain', 'exceeded quota: compute', '-n', 'shop', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(r.err).toContain('could not read the cluster');
    expect(r.out).toContain('(constraint not looked up: no dump, no cluster)');
    expect(r.code).toBe(0);
  });

  it('exits 1 when no rule recognizes the message, 2 on bad usage', async () => {
    expect((await run(['explain', 'something odd happened', '-f', DUMP])).code).toBe(1);
    expect((await run(['explain'])).code).toBe(2);
    expect((await run(['explain', 'x', '--workload', 'nonsense'])).code).toBe(2);
  });
});
