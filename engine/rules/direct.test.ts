import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadPacks, type CompiledCorrelation } from '../pack/loader.js';
import { compileConditions, type EngineCondition } from './conditions.js';
import { collectCaptures, compileDirect, requiredValues } from './direct.js';
import { RuleSet } from './ruleset.js';
import { eventSignal, flowSignal, messageSignal } from '../signals.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

function builtinCorrelations(): CompiledCorrelation[] {
  const dir = join(root, 'rules', 'correlations');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => loadPacks(readFileSync(join(dir, f), 'utf8'), { file: f }).packs.flatMap((p) => p.correlations));
}

async function viaEngine(tree: EngineCondition, vars: Record<string, unknown>): Promise<boolean> {
  const rs = new RuleSet([{ id: 'r', conditions: { tree }, payload: 'r' }]);
  const r = await rs.evaluate(vars);
  return r.fired.length > 0;
}

// Fragments of real messages, so generated messages hit and miss every rule.
const FRAGMENTS = [
  'Error creating: ',
  'pods "web-1" is forbidden: ',
  'exceeded quota: compute, requested: limits.cpu=2, used: limits.cpu=3, limited: limits.cpu=4',
  'failed quota: q: must specify limits.cpu for: app',
  'maximum cpu usage per Container is 2, but limit is 4',
  'admission webhook "images.acme.io" denied the request: no',
  '[must-have-owner] you must provide labels',
  'Constraint: c1, Message: m',
  'blocked due to the following policies \n\nrequire-labels:\n  check: x',
  'policy p1/r1 fail: nope',
  "ValidatingAdmissionPolicy 'p' with binding 'b' denied request: x",
  'violates PodSecurity "restricted:latest": privileged',
  'failed calling webhook "h.io": refused',
  '0/3 nodes are available: 3 Insufficient cpu.',
  '0/2 nodes are available: 2 node(s) had untolerated taint',
  ' ',
  '\n',
  'noise',
];

const message = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 4 }).map((xs) => xs.join(''));
const reason = fc.constantFrom('FailedCreate', 'FailedScheduling', 'PolicyViolation', 'BackOff', '');

describe('direct condition evaluation', () => {
  const rules = builtinCorrelations();

  it('compiles every built-in correlation condition', () => {
    expect(rules.length).toBeGreaterThan(10);
    for (const r of rules) expect(r.conditions && compileDirect(r.conditions.tree), `${r.pack}/${r.name}`).toBeTruthy();
  });

  it('agrees with json-rules-engine on the built-in rules, captures included', async () => {
    await fc.assert(
      fc.asyncProperty(message, reason, fc.boolean(), async (msg, why, asMessage) => {
        const e = eventSignal({ involvedObject: { kind: 'ReplicaSet', name: 'web-1', namespace: 'a' }, reason: why, type: 'Warning', message: msg });
        const signal = asMessage || !e.ok ? messageSignal(msg, { namespace: 'a' }) : e.signal;
        const vars = { signal, [signal.kind]: signal, namespace: {}, workload: null };
        for (const r of rules) {
          if (!r.on.includes(signal.kind) || !r.conditions) continue;
          const d = compileDirect(r.conditions.tree) as NonNullable<ReturnType<typeof compileDirect>>;
          const caps: Record<string, string> = {};
          const direct = d(vars, caps);
          expect(direct, `${r.name} on ${JSON.stringify(msg)}`).toBe(await viaEngine(r.conditions.tree, vars));
          if (direct) expect(caps).toEqual(collectCaptures(r.conditions.tree, vars));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('agrees on flows', async () => {
    const flow = fc.record({
      verdict: fc.constantFrom('DROPPED', 'FORWARDED'),
      drop_reason_desc: fc.constantFrom('POLICY_DENIED', 'POLICY_DENY', 'CT_MAP_INSERTION_FAILED'),
      traffic_direction: fc.constantFrom('INGRESS', 'EGRESS', 'TRAFFIC_DIRECTION_UNKNOWN'),
      ingress_denied_by: fc.array(fc.record({ name: fc.constantFrom('a', 'b'), namespace: fc.constant('x') }), { maxLength: 2 }),
      source: fc.constant({ namespace: 'x', pod_name: 'p', labels: ['k8s:app=a'] }),
    });
    const rulesFlow = rules.filter((r) => r.on.includes('flow'));
    await fc.assert(
      fc.asyncProperty(flow, async (raw) => {
        const f = flowSignal(raw);
        if (!f.ok) return;
        const vars = { signal: f.signal, flow: f.signal, namespace: {}, workload: null };
        for (const r of rulesFlow) {
          const d = compileDirect((r.conditions as { tree: EngineCondition }).tree) as NonNullable<ReturnType<typeof compileDirect>>;
          expect(d(vars)).toBe(await viaEngine((r.conditions as { tree: EngineCondition }).tree, vars));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('agrees on the operator set with mixed fact shapes', async () => {
    const ops: [string, unknown][] = [
      ['equal', 'x'],
      ['notEqual', 1],
      ['in', ['a', 1]],
      ['notIn', ['a']],
      ['contains', 'a'],
      ['doesNotContain', 'a'],
      ['lessThan', 3],
      ['greaterThanInclusive', 2],
      ['exists', true],
      ['absent', true],
      ['empty', true],
      ['notEmpty', true],
      ['startsWith', 'a'],
      ['endsWith', 'z'],
      ['containsAny', ['a', 'b']],
      ['containsAll', ['a', 'b']],
      ['sizeEqual', 2],
      ['sizeGreaterThan', 1],
      ['matches', '^a(?P<rest>.*)$'],
      ['notMatches', 'b'],
    ];
    const value = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string({ maxLength: 4 }), fc.integer({ min: -3, max: 5 }), fc.array(fc.constantFrom('a', 'b', 1), { maxLength: 3 }), fc.dictionary(fc.constantFrom('k', 'j'), fc.string({ maxLength: 2 })));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ops), value, fc.boolean(), async ([op, v], fact, nested) => {
        const leaf = { fact: 'object', ...(nested ? { path: '$.x' } : {}), operator: op, value: v };
        const c = compileConditions({ all: [leaf, { not: { fact: 'object', path: '$.missing', operator: 'exists', value: true } }] }, ['object']);
        if (!c.ok) throw new Error(JSON.stringify(c.errors));
        const vars = { object: nested ? { x: fact } : fact };
        const d = compileDirect(c.value.tree) as NonNullable<ReturnType<typeof compileDirect>>;
        // An operator that throws (parseFloat on a null-prototype map) is an error on both
        // paths, and the rule does not fire on either (the runner reports the error).
        let direct: boolean;
        try {
          direct = d(vars);
        } catch {
          direct = false;
        }
        expect(direct).toBe(await viaEngine(c.value.tree, vars));
      }),
      { numRuns: 400 },
    );
  });

  it('finds the reasons a rule requires, for indexing', () => {
    const c = compileConditions({ all: [{ fact: 'signal', path: '$.reason', operator: 'in', value: ['A', 'B'] }, { fact: 'event', path: '$.reason', operator: 'equal', value: 'B' }] }, ['signal', 'event']);
    if (!c.ok) throw new Error('compile');
    expect([...(requiredValues(c.value.tree, ['signal', 'event'], '$.reason') ?? [])]).toEqual(['B']);
    const any = compileConditions({ any: [{ fact: 'signal', path: '$.reason', operator: 'equal', value: 'A' }] }, ['signal']);
    if (!any.ok) throw new Error('compile');
    expect(requiredValues(any.value.tree, ['signal'], '$.reason')).toBeUndefined();
  });
});
