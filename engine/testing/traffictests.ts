// `expect.traffic` in rule-pack tests: traffic verdicts over the given objects, so a
// network adapter's author proves what the normalized details mean, not only their shape.
import type { Analyzer } from '../analyzer.js';
import type { PackTest } from '../pack/types.js';
import { evaluateTraffic, resolveEndpoint, renderTrafficVerdict } from '../traffic.js';
import { partialDiff, renderDiff } from './match.js';

export function runTrafficExpectations(test: PackTest, analyzer: Analyzer): string[] {
  const failures: string[] = [];
  for (const [i, t] of (test.expect.traffic ?? []).entries()) {
    const label = `traffic #${i + 1}${t.name ? ` (${t.name})` : ''} ${t.from} -> ${t.to} on ${t.port}`;
    const src = resolveEndpoint(analyzer, t.from);
    const dst = resolveEndpoint(analyzer, t.to);
    if (!src.ok || !dst.ok) {
      failures.push(`  ${label}: ${[src, dst].filter((r) => !r.ok).map((r) => (r as { error: string }).error).join('; ')}`);
      continue;
    }
    const v = evaluateTraffic(analyzer, { src: src.endpoint, dst: dst.endpoint, port: t.port });
    const problems: string[] = [];
    if (v.allowed !== t.allowed) problems.push(`expected ${t.allowed ? 'allowed' : 'denied'}, got ${v.allowed ? 'allowed' : 'denied'}`);
    for (const dir of ['ingress', 'egress'] as const) {
      const exp = t[dir];
      if (!exp) continue;
      const d = partialDiff(exp, v[dir]);
      if (d.length) problems.push(`${dir} differs:\n${renderDiff(d)}`);
    }
    if (t.decidedBy) {
      const names = new Set([...v.ingress.decidedBy, ...v.egress.decidedBy].map((d) => d.source.name));
      const missing = t.decidedBy.filter((n) => !names.has(n));
      if (missing.length) problems.push(`expected decided by ${missing.join(', ')}; deciding: ${[...names].join(', ') || '(none)'}`);
    }
    if (t.l7) {
      const d = partialDiff(t.l7, v.l7);
      if (d.length) problems.push(`l7 differs:\n${renderDiff(d)}`);
    }
    if (problems.length) failures.push(`  ${label}: ${problems.join('; ')}\n${renderTrafficVerdict(v).replace(/^/gm, '    ')}`);
  }
  return failures;
}
