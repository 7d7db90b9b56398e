// Issue #3 acceptance, network and mesh engines: every Cilium, Istio and NetworkPolicy
// recipes file of ../shared/corpus adapts with no adapter error, and every policy object
// in it yields at least one constraint or an explicit, reported reason why it is not one
// (Istio's test data holds deliberately invalid objects: each must be a reported skip
// with a reason, never a crash or a silent drop). Network constraints must carry
// well-formed normalized details (engine/network.ts).
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { analyzeObjects } from '../../engine/analyzer.js';
import { formatProblem } from '../../engine/model.js';
import { networkDetailsOf, validateNetworkDetails } from '../../engine/network.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import { loadPackFiles } from '../../runtime/packs.js';
import { CORPUS, ROOT, objectsOf, present, describeCorpusRequiredInCI } from './corpus.js';

const SOURCES = ['cilium', 'istio', 'netpol-recipes'] as const;
/** The packs under test, loaded on their own so a broken pack elsewhere cannot mask them. */
const PACKS = ['networkpolicy.yaml', 'cilium.yaml', 'istio.yaml', 'adminnetworkpolicy.yaml', 'generic.yaml'].map((f) => join(ROOT, 'adapters', f));

describeCorpusRequiredInCI('network');

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(f) ? [p] : [];
    });
}

/** Objects that are subjects or plumbing, not policies: workloads, namespaces, services. */
const NOT_POLICY_GROUPS = new Set(['', 'apps', 'batch']);

async function packs(): Promise<CompiledPack[]> {
  const r = await loadPackFiles(PACKS);
  const errors = r.problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new Error(errors.map(formatProblem).join('\n'));
  return r.packs;
}

describe.skipIf(!present)('network and mesh corpus: every policy object adapts or is reported', async () => {
  const compiled = present ? await packs() : [];
  for (const source of SOURCES) {
    it(`${source}: no adapter error; each policy yields a constraint or a reported skip`, async () => {
      const files = yamlFiles(join(CORPUS, source));
      expect(files.length, `no YAML under ${source}`).toBeGreaterThan(5);
      let objects = 0;
      let constraints = 0;
      let skips = 0;
      const failures: string[] = [];
      for (const file of files) {
        const sourced = objectsOf(file);
        // One analysis per file: examples in different files reuse names.
        const analyzer = await analyzeObjects(sourced, compiled);
        const rel = relative(CORPUS, file);
        for (const p of analyzer.problems()) failures.push(`${rel}: ${formatProblem(p)}`);
        const all = analyzer.allConstraints();
        const skipped = analyzer.skipped();
        for (const { object } of sourced) {
          const apiVersion = String(object.apiVersion ?? '');
          const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
          if (NOT_POLICY_GROUPS.has(group ?? '')) continue;
          objects++;
          const name = object.metadata?.name ?? '';
          const ns = object.metadata?.namespace;
          const mine = all.filter((c) => c.source.kind === object.kind && c.source.name === name && (c.source.namespace ?? undefined) === (ns || undefined));
          const ref = `${object.kind} ${ns ? ns + '/' : ''}${name}`;
          const why = skipped.filter((s) => s.object === ref);
          constraints += mine.length;
          skips += why.length;
          if (mine.length === 0 && why.length === 0) failures.push(`${rel}: ${ref} yields no constraint and no reported reason`);
          for (const s of why) if (!s.reason || s.reason === 'null') failures.push(`${rel}: ${ref} skipped without a reason`);
          for (const c of mine) {
            const d = networkDetailsOf(c);
            if (c.type === 'NetworkIngress' || c.type === 'NetworkEgress') {
              if (!d) failures.push(`${rel}: ${c.id} has no normalized network details`);
            }
            if (d) for (const e of validateNetworkDetails(c.details)) failures.push(`${rel}: ${c.id}: details ${e}`);
          }
        }
      }
      console.log(`${source}: ${files.length} files, ${objects} policy objects, ${constraints} constraints, ${skips} reported skips`);
      expect(failures).toEqual([]);
      expect(constraints).toBeGreaterThan(0);
    });
  }

  it('Istio: the deliberately invalid objects are reported skips that say why', async () => {
    const file = join(CORPUS, 'istio', 'pkg', 'config', 'validation', 'testdata', 'crds', 'peerauth-invalid.yaml');
    if (!existsSync(file)) return;
    const analyzer = await analyzeObjects(objectsOf(file), compiled);
    expect(analyzer.problems()).toEqual([]);
    expect(analyzer.allConstraints()).toEqual([]);
    const reasons = analyzer.skipped().map((s) => s.reason);
    expect(reasons.length).toBe(objectsOf(file).length);
    for (const r of reasons) expect(r).toMatch(/^invalid PeerAuthentication/);
    expect(reasons.join('\n')).toContain('mtls.mode BLAH is not one of UNSET, DISABLE, PERMISSIVE, STRICT');
    expect(reasons.join('\n')).toContain('portLevelMtls requires a selector');
  });
});
