import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { analyzeObjects } from '../analyzer.js';
import type { KubeObject } from '../model.js';
import { loadPacks, type CompiledPack } from '../pack/loader.js';
import { SIGNAL_KINDS, eventSignal, messageSignal } from '../signals.js';
import { objectsFromText } from '../source/manifests.js';
import { CorrelateStage } from './correlate.js';
import { stageCelEnv } from './env.js';

function pack(yaml: string): CompiledPack[] {
  const r = loadPacks(yaml, { file: 'test.yaml' });
  if (r.problems.some((p) => p.severity === 'error')) throw new Error(r.problems.map((p) => p.message).join('; '));
  return r.packs;
}

const ADAPTERS = pack(`
apiVersion: potoo.io/v1alpha1
kind: RulePack
metadata: {name: quotas}
spec:
  adapters:
    - name: quota
      match: {group: "", resources: [resourcequotas]}
      emit:
        type: ResourceQuota
        effect: limit
        severity: "{{ object.metadata.name.startsWith('hot') ? 'Critical' : 'Info' }}"
        scope: {namespaces: ["{{ object.metadata.namespace }}"]}
        summary: "quota {{ object.metadata.name }}"
`);

const RULES = pack(`
apiVersion: potoo.io/v1alpha1
kind: RulePack
metadata: {name: t}
spec:
  correlations:
    - name: named-quota
      on: [event, message]
      conditions:
        all:
          - {fact: signal, path: $.message, operator: matches, value: "exceeded quota: (?P<quota>[a-z0-9-]+)"}
      blame: "{{ constraintsOf('v1', 'resourcequotas', signal.namespace, match.quota) }}"
      confidence: 0.9
      explain: "quota {{ match.quota }}"
    - name: every-quota
      description: fans out on purpose
      on: event
      conditions:
        all:
          - {fact: signal, path: $.reason, operator: equal, value: QuotaStorm}
      blame: "{{ constraintsIn(signal.namespace) }}"
      confidence: 0.5
      explain: all of them
    - name: unknown-ids
      on: message
      conditions:
        all:
          - {fact: signal, path: $.message, operator: equal, value: ghosts}
      blame: "{{ ['no/such#id', 'resourcequotas/a/q1#quotas/quota'] }}"
      explain: ghosts
    - name: broken-explain
      on: message
      conditions:
        all:
          - {fact: signal, path: $.message, operator: startsWith, value: "exceeded"}
      blame: "{{ [] }}"
      explain: "{{ signal.nope.deeper }}"
    - name: never-when
      on: message
      conditions:
        all:
          - {fact: signal, path: $.message, operator: startsWith, value: "exceeded"}
      when: "{{ size(signal.message) > 100000 }}"
      blame: "{{ [] }}"
      explain: never
    - name: engine-only
      description: a value that refers to another fact needs json-rules-engine
      on: message
      conditions:
        all:
          - {fact: signal, path: $.message, operator: equal, value: {fact: signal, path: $.namespace}}
      blame: "{{ [] }}"
      confidence: 0.1
      explain: "the message is the namespace"
`);

async function world(objects: KubeObject[]) {
  return analyzeObjects(
    objects.map((object) => ({ object, file: 'w', line: 0 })),
    ADAPTERS,
  );
}

const quotas = (ns: string, n: number): KubeObject[] =>
  Array.from({ length: n }, (_, i) => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: `q${i + 1}`, namespace: ns }, spec: { hard: { pods: '1' } } }));

function event(message: string, extra: Record<string, unknown> = {}) {
  const r = eventSignal({ metadata: { name: 'e1', namespace: 'a' }, involvedObject: { kind: 'ReplicaSet', name: 'web-6d9f8b7c5a', namespace: 'a' }, reason: 'FailedCreate', type: 'Warning', message, ...extra });
  if (!r.ok) throw new Error(r.error);
  return r.signal;
}

describe('correlate stage', () => {
  it('names the specific quota; an ADDED and a MODIFIED repeat share one attribution id', async () => {
    const a = await world(quotas('a', 3));
    const stage = new CorrelateStage(RULES, a);
    const first = await stage.correlate(event('pods "x" is forbidden: exceeded quota: q2, requested: pods=1'));
    const again = await stage.correlate(event('pods "y" is forbidden: exceeded quota: q2, requested: pods=1', { count: 9 }));
    const top = first.attributions[0];
    expect(top).toMatchObject({ rule: { rule: 'named-quota' }, constraintIds: ['resourcequotas/a/q2#quotas/quota'], confidence: 0.9, explanation: 'quota q2', count: 1 });
    expect(again.attributions[0]?.id).toBe(top?.id);
    expect(again.attributions[0]?.count).toBe(9);
    expect(top?.details.match).toEqual({ quota: 'q2' });
    stage.dispose();
  });

  it('cuts a fan-out to maxConstraints and says so', async () => {
    const a = await world(quotas('a', 30));
    const stage = new CorrelateStage(RULES, a, { maxConstraints: 5 });
    const r = await stage.correlate(event('storm', { reason: 'QuotaStorm' }));
    expect(r.attributions[0]?.constraintIds).toHaveLength(5);
    expect(r.problems.some((p) => p.severity === 'warning' && /kept the first 5/.test(p.message))).toBe(true);
    expect(stage.counters.fanOutCut).toBe(1);
    // The severity of an attribution without a rule severity is the worst blamed constraint's.
    expect(r.attributions[0]?.severity).toBe('Info');
  });

  it('keeps known ids only; a failing expression is a problem, not a crash, and other rules still attribute', async () => {
    const a = await world(quotas('a', 1));
    const stage = new CorrelateStage(RULES, a);
    const ghosts = await stage.correlate(messageSignal('ghosts', { namespace: 'a' }));
    expect(ghosts.attributions[0]?.constraintIds).toEqual(['resourcequotas/a/q1#quotas/quota']);
    expect(ghosts.problems.some((p) => p.field === 'blame' && /no\/such#id/.test(p.message))).toBe(true);

    const r = await stage.correlate(messageSignal('exceeded quota: q1', { namespace: 'a' }));
    expect(r.attributions.map((x) => x.rule.rule)).toEqual(['named-quota']);
    expect(r.problems).toContainEqual(expect.objectContaining({ severity: 'error', rule: 'broken-explain', field: 'explain' }));
    expect(stage.counters.ruleErrors).toBeGreaterThan(0);
  });

  it('runs a condition json-rules-engine must evaluate (a fact reference as value) through the engine', async () => {
    const a = await world([]);
    const stage = new CorrelateStage(RULES, a);
    const s = messageSignal('ns1', { namespace: 'ns1' });
    expect(stage.correlateSync(s)).toBeUndefined();
    const r = await stage.correlate(s);
    expect(r.attributions.map((x) => x.rule.rule)).toEqual(['engine-only']);
  });

  it('counts bad input: rejected, truncated, unmatched, unknown reasons, vanished subjects', async () => {
    const a = await world(quotas('a', 1));
    const stage = new CorrelateStage(RULES, a);
    const bad = await stage.correlateInput('event', { spec: 'not an event' });
    expect(bad.signal).toBeUndefined();
    expect(bad.problems[0]?.severity).toBe('warning');
    await stage.correlateInput('event', { involvedObject: { kind: 'Pod', name: 'gone-abcde', namespace: 'a' }, reason: 'BackOff', message: '' });
    await stage.correlateInput('event', { involvedObject: { kind: 'Pod', name: 'gone-abcde', namespace: 'a' }, reason: 'FailedCreate', message: 'exceeded quota: q1 ' + 'x'.repeat(100_000) });
    await stage.correlateInput('flow', { verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', traffic_direction: 'INGRESS', source: { namespace: 'b', pod_name: 'x' }, destination: { namespace: 'a', pod_name: 'gone-5d8f9c7b6a-abcde', labels: ['k8s:app=gone'] } });
    // Only QuotaStorm is an indexed reason in this pack: BackOff and FailedCreate are both unknown here.
    expect(stage.counters).toMatchObject({ rejected: 1, truncated: 1, attributed: 1, unknownReason: 2, signals: { event: 2, flow: 1 } });
    expect(stage.counters.unmatched).toBe(2);
    expect(stage.counters.missingSubject).toBe(3);
  });

  it('offers a signal only the rules of its kind and reason', async () => {
    const stage = new CorrelateStage(RULES, await world([]));
    expect(stage.candidates('event', 'QuotaStorm').map((r) => r.name)).toEqual(['named-quota', 'every-quota']);
    expect(stage.candidates('event', 'BackOff').map((r) => r.name)).toEqual(['named-quota']);
    expect(stage.candidates('flow', '')).toEqual([]);
  });

  it('stage helpers refuse to run outside a stage', () => {
    const c = stageCelEnv().compile("constraintsOf('v1', 'resourcequotas', 'a', 'q')");
    if (!c.ok) throw new Error(c.error.message);
    const r = c.value.evaluate({});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/only available in requirement, correlation and notification rules/);
  });
});

describe('correlate stage on arbitrary input', () => {
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
  const files = (dir: string) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.yaml')).map((f) => join(root, dir, f));

  it('never throws, whatever arrives, with the built-in packs over the scenario cluster', async () => {
    const packs = [...files('adapters'), ...files('rules/correlations')].flatMap((f) => loadPacks(readFileSync(f, 'utf8'), { file: f }).packs);
    const objects = files('test/scenarios/cluster').flatMap((f) => objectsFromText(readFileSync(f, 'utf8'), f).objects);
    const stage = new CorrelateStage(packs, await analyzeObjects(objects, packs));
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('exceeded quota: compute', 'admission webhook "x" denied the request', 'violates PodSecurity "a:b"', '0/1 nodes are available: 1 Insufficient cpu'));
    const shaped = fc.record({
      involvedObject: fc.record({ kind: fc.constantFrom('Pod', 'ReplicaSet', 'Job', 'x'), name: fc.string({ maxLength: 20 }), namespace: fc.constantFrom('shop', 'data', '', 'nope') }),
      reason: fc.constantFrom('FailedCreate', 'FailedScheduling', 'PolicyViolation', ''),
      message: text,
      verdict: fc.constantFrom('DROPPED', 2),
      drop_reason_desc: fc.constantFrom('POLICY_DENIED', 133, 'X'),
      source: fc.anything({ maxDepth: 2 }),
      destination: fc.record({ namespace: fc.constantFrom('shop', 'data'), pod_name: fc.string({ maxLength: 12 }), labels: fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }) }),
      request: fc.record({ operation: fc.constantFrom('CREATE', 'UPDATE'), namespace: fc.constantFrom('shop', 'data'), object: fc.anything({ maxDepth: 3 }) }),
    });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SIGNAL_KINDS), fc.oneof(fc.anything({ maxDepth: 4, withNullPrototype: true }), shaped), async (kind, raw) => {
        const r = await stage.correlateInput(kind, raw);
        expect(Array.isArray(r.problems)).toBe(true);
      }),
      { numRuns: 300 },
    );
    stage.dispose();
  });
});
