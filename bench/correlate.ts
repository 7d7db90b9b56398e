// Issue #5 benchmark: the correlate stage offline, over the issue-2 snapshot plus a few
// cluster policies of every engine, fed generated Warning Events (a realistic mix and an
// all-matching worst case), Hubble drops (explicit deny and computed default deny),
// admission requests and pasted messages. Also measures what the conditions would cost
// through json-rules-engine, the reference the direct evaluator replaces.
// Run: npx tsx bench/correlate.ts [--scale 1] [--events 50000]
import { Analyzer } from '../engine/analyzer.js';
import type { Constraint, KubeObject } from '../engine/model.js';
import { RuleSet } from '../engine/rules/ruleset.js';
import { admissionSignal, eventSignal, flowSignal, messageSignal, type Signal } from '../engine/signals.js';
import { CorrelateStage } from '../engine/stages/correlate.js';
import { FactStore } from '../engine/store/store.js';
import { loadAllPacks } from '../runtime/packs.js';
import { generateSnapshot, ISSUE2_SIZE, rng, type SnapshotSize } from './generate.js';
import { arg, mb, peakRss, percentile, printTable, type BenchRow } from './table.js';

/** Cluster policies the snapshot lacks: Gatekeeper, Kyverno, a ValidatingAdmissionPolicy, Pod Security labels. */
function extraPolicies(): KubeObject[] {
  return [
    { apiVersion: 'constraints.gatekeeper.sh/v1beta1', kind: 'K8sRequiredLabels', metadata: { name: 'must-have-owner' }, spec: { match: { kinds: [{ apiGroups: ['apps'], kinds: ['Deployment'] }] }, parameters: { labels: [{ key: 'owner' }] } } },
    { apiVersion: 'constraints.gatekeeper.sh/v1beta1', kind: 'K8sRequiredLabels', metadata: { name: 'pods-must-have-team' }, spec: { match: { kinds: [{ apiGroups: [''], kinds: ['Pod'] }] }, parameters: { labels: [{ key: 'team' }] } } },
    {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'require-probes' },
      spec: { validationFailureAction: 'Enforce', rules: [{ name: 'check-probes', match: { any: [{ resources: { kinds: ['Pod'] } }] }, validate: { message: 'probes required', pattern: { spec: { containers: [{ livenessProbe: { periodSeconds: '>0' } }] } } } }] },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: 'max-replicas' },
      spec: { matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] }] }, validations: [{ expression: 'object.spec.replicas <= 5' }] },
    },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: 'max-replicas-all' }, spec: { policyName: 'max-replicas', validationActions: ['Deny'] } },
  ];
}

interface World {
  quotas: Constraint[];
  ranges: Constraint[];
  hooks: string[];
  deployments: { ns: string; name: string; app: string }[];
}

function worldOf(a: Analyzer): World {
  const all = a.allConstraints();
  return {
    quotas: all.filter((c) => c.source.resource === 'resourcequotas'),
    ranges: all.filter((c) => c.source.resource === 'limitranges'),
    hooks: all.filter((c) => c.source.resource === 'validatingwebhookconfigurations').map((c) => String(c.details.webhook)),
    deployments: a.workloads
      .list()
      .filter((w) => w.kind === 'Deployment')
      .map((w) => ({ ns: w.namespace, name: w.name, app: w.podLabels.app ?? w.name })),
  };
}

/** Warning Events as controllers write them. `mix` adds the unmatched reasons that dominate real clusters. */
function makeEvents(w: World, n: number, mix: boolean, seed: number): unknown[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const d = pick(w.deployments);
    const rs = `${d.name}-${(0x10000000 + Math.floor(r() * 0xefffffff)).toString(16)}`;
    const pod = `${rs}-${Math.floor(r() * 1e5).toString(36).padStart(5, 'x')}`;
    const base = { metadata: { name: `${rs}.${i.toString(16)}`, namespace: d.ns }, involvedObject: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, namespace: d.ns }, type: 'Warning', count: 1 + (i % 7) };
    const roll = r();
    const q = pick(w.quotas);
    let ev: Record<string, unknown>;
    if (mix && roll < 0.45) {
      const reason = pick(['BackOff', 'Unhealthy', 'FailedMount', 'FailedPullImage', 'ProbeWarning']);
      ev = { ...base, involvedObject: { kind: 'Pod', name: pod, namespace: d.ns }, reason, message: `${reason}: container ${d.app} in pod ${pod} failed (exit 137)` };
    } else {
      const k = Math.floor(r() * 9);
      const msg = [
        `Error creating: pods "${pod}" is forbidden: exceeded quota: ${q.source.name}, requested: requests.cpu=2, used: requests.cpu=9, limited: requests.cpu=10`,
        `Error creating: pods "${pod}" is forbidden: failed quota: ${q.source.name}: must specify requests.memory for: ${d.app}`,
        `Error creating: pods "${pod}" is forbidden: maximum cpu usage per Container is 2, but limit is 4`,
        `Error creating: admission webhook "${pick(w.hooks)}" denied the request: image is not signed`,
        `Error creating: admission webhook "validation.gatekeeper.sh" denied the request: [pods-must-have-team] you must provide labels: {"team"}`,
        `Error creating: admission webhook "validate.kyverno.svc-fail" denied the request: \n\nresource Pod/${d.ns}/${pod} was blocked due to the following policies \n\nrequire-probes:\n  check-probes: 'validation error: probes required'`,
        `Error creating: pods "${pod}" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true`,
        `0/12 nodes are available: 12 Insufficient cpu. preemption: 0/12 nodes are available: 12 No preemption victims found for incoming pod.`,
        `Error creating: Internal error occurred: failed calling webhook "${pick(w.hooks)}": context deadline exceeded`,
      ][k] as string;
      const reason = k === 7 ? 'FailedScheduling' : 'FailedCreate';
      ev = k === 7 ? { ...base, involvedObject: { kind: 'Pod', name: pod, namespace: d.ns }, reason, message: msg } : { ...base, reason, message: msg };
      if (k < 3) ev = { ...ev, metadata: { name: `${rs}.${i.toString(16)}`, namespace: q.source.namespace }, involvedObject: { ...(ev.involvedObject as object), namespace: q.source.namespace } };
    }
    out.push(ev);
  }
  return out;
}

function makeFlows(w: World, n: number, seed: number): unknown[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const src = pick(w.deployments);
    const dst = pick(w.deployments);
    const named = r() < 0.3;
    out.push({
      verdict: 'DROPPED',
      drop_reason_desc: named ? 'POLICY_DENY' : 'POLICY_DENIED',
      traffic_direction: 'INGRESS',
      l4: { TCP: { source_port: 40000 + (i % 20000), destination_port: 8080 } },
      source: { namespace: src.ns, pod_name: `${src.name}-abc12-${i % 1000}`, labels: [`k8s:app=${src.app}`] },
      destination: { namespace: dst.ns, pod_name: `${dst.name}-def34-${i % 1000}`, labels: [`k8s:app=${dst.app}`, 'k8s:tier=backend'] },
      ...(named ? { ingress_denied_by: [{ name: `np-${Math.floor(r() * 6000)}`, namespace: dst.ns, kind: 'NetworkPolicy' }] } : {}),
    });
  }
  return out;
}

function makeAdmissions(w: World, n: number, seed: number): unknown[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  return Array.from({ length: n }, (_, i) => {
    const d = pick(w.deployments);
    return {
      request: {
        uid: `u${i}`,
        kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        resource: { group: 'apps', version: 'v1', resource: 'deployments' },
        name: `${d.name}-new`,
        namespace: d.ns,
        operation: 'CREATE',
        object: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: `${d.name}-new`, namespace: d.ns },
          spec: { selector: { matchLabels: { app: d.app } }, template: { metadata: { labels: { app: d.app } }, spec: { containers: [{ name: d.app, image: 'x:1', resources: { limits: { cpu: i % 2 ? '4' : '1' } } }] } } },
        },
      },
    };
  });
}

async function timeSignals(stage: CorrelateStage, signals: Signal[]): Promise<{ ms: number; perItemUs: number[]; attributed: number }> {
  const perItemUs: number[] = [];
  let attributed = 0;
  const t0 = performance.now();
  for (const s of signals) {
    const a = performance.now();
    const r = stage.correlateSync(s) ?? (await stage.correlate(s));
    perItemUs.push((performance.now() - a) * 1000);
    if (r.attributions.some((x) => x.constraintIds.length > 0)) attributed++;
  }
  return { ms: performance.now() - t0, perItemUs: perItemUs.sort((x, y) => x - y), attributed };
}

function normalizeAll<T>(raw: unknown[], f: (x: unknown) => { ok: true; signal: T } | { ok: false; error: string }): { signals: T[]; ms: number } {
  const t0 = performance.now();
  const signals: T[] = [];
  for (const x of raw) {
    const s = f(x);
    if (s.ok) signals.push(s.signal);
  }
  return { signals, ms: performance.now() - t0 };
}

async function main(): Promise<void> {
  const scale = arg('scale', 1);
  const nEvents = arg('events', 50_000);
  const size = Object.fromEntries(Object.entries(ISSUE2_SIZE).map(([k, v]) => [k, Math.max(1, Math.round(v * scale))])) as unknown as SnapshotSize;
  const { packs, problems } = await loadAllPacks();
  // A pack with errors is left out (as the controller would): say so, measure the rest.
  for (const p of problems.filter((x) => x.severity === 'error')) process.stderr.write(`warning: pack ${p.pack ?? p.file} left out: ${p.message}\n`);
  const store = new FactStore();
  for (const o of [...generateSnapshot(size), ...extraPolicies()]) {
    const r = store.upsertObject(o);
    if (!r.ok) throw new Error(r.error);
  }
  const analyzer = new Analyzer(store, packs);
  await analyzer.adaptAll();
  const world = worldOf(analyzer);
  const stage = new CorrelateStage(packs, analyzer);
  const sizeText = `${size.namespaces} ns, ${analyzer.workloads.size} workloads, ${analyzer.constraints.size} constraints, ${packs.reduce((n, p) => n + p.correlations.length, 0)} correlation rules`;
  const rows: BenchRow[] = [];
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;

  const run = async (label: string, raw: unknown[], normalize: (x: unknown) => { ok: true; signal: Signal } | { ok: false; error: string }, note = ''): Promise<void> => {
    // Warm-up on a slice so the JIT and the CEL conversion caches are in steady state.
    const warm = normalizeAll(raw.slice(0, Math.min(2000, raw.length)), normalize);
    await timeSignals(stage, warm.signals);
    const n = normalizeAll(raw, normalize);
    const t = await timeSignals(stage, n.signals);
    const total = n.ms + t.ms;
    rows.push({
      operation: label,
      size: `${raw.length} signals`,
      time: `${Math.round(raw.length / (total / 1000))}/s; p50 ${percentile(t.perItemUs, 50).toFixed(0)} us, p99 ${percentile(t.perItemUs, 99).toFixed(0)} us`,
      memory: `heap ${mb(process.memoryUsage().heapUsed)} (${mb(heap0)} after load), RSS peak ${mb(peakRss())}`,
      note: `${((t.attributed / raw.length) * 100).toFixed(0)}% attributed; normalize ${((n.ms / total) * 100).toFixed(0)}% of time${note ? '; ' + note : ''}`,
    });
  };

  await run('Warning Events, realistic mix (45% unmatched reasons)', makeEvents(world, nEvents, true, 1), eventSignal);
  await run('Warning Events, all FailedCreate/FailedScheduling', makeEvents(world, nEvents, false, 2), eventSignal, 'worst case: every event matches a rule');
  await run('pasted messages (potoo explain)', makeEvents(world, Math.round(nEvents / 5), false, 3).map((e) => ({ message: (e as { message: string }).message, namespace: (e as { metadata: { namespace: string } }).metadata.namespace })), (x) => {
    const m = x as { message: string; namespace: string };
    return { ok: true, signal: messageSignal(m.message, { namespace: m.namespace }) };
  });
  await run('Hubble drops (30% denied-by, 70% default deny)', makeFlows(world, Math.round(nEvents / 5), 4), flowSignal, 'default deny runs the traffic evaluator');
  await run('admission requests (Deployment CREATE)', makeAdmissions(world, Math.round(nEvents / 10), 5), admissionSignal);

  // The same conditions through json-rules-engine, for the record: candidate rules of
  // 2,000 events, each rule in its own engine as RuleRunner would build it.
  const sample = normalizeAll(makeEvents(world, 2000, false, 6), eventSignal).signals;
  const engines = new Map<string, RuleSet<string>>();
  for (const p of packs) for (const r of p.correlations) engines.set(`${r.pack}/${r.name}`, new RuleSet([{ id: r.name, conditions: r.conditions, payload: r.name }]));
  const t0 = performance.now();
  let runs = 0;
  for (const s of sample) {
    const vars = { signal: s, [s.kind]: s, namespace: {}, namespaceObject: {}, workload: null, match: {} };
    for (const r of stage.candidates(s.kind, s.reason)) {
      await (engines.get(`${r.pack}/${r.name}`) as RuleSet<string>).evaluate(vars);
      runs++;
    }
  }
  const engineMs = performance.now() - t0;
  rows.push({
    operation: 'conditions only, via json-rules-engine (reference)',
    size: `${sample.length} events, ${runs} rule runs`,
    time: `${Math.round(sample.length / (engineMs / 1000))} events/s; ${((engineMs * 1000) / runs).toFixed(0)} us/rule run`,
    memory: '',
    note: 'what the direct evaluator replaces; same conditions, same candidates',
  });

  process.stdout.write(`\ncorrelate stage, ${sizeText}\n\n`);
  printTable(rows);
  const c = stage.counters;
  process.stdout.write(`\ncounters: ${JSON.stringify({ ...c, signals: c.signals })}\n`);
}

await main();
