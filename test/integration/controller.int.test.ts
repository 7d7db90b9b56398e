// The live controller against a real kube-apiserver + etcd, running under the
// least-privilege ServiceAccount from deploy/rbac.yaml: policies of four engines flow
// into ConstraintReports within 5 s, discovery follows CRDs, rule packs hot-reload from
// ConfigMaps, ConstraintProfiles register resources, and bad input is reported, not fatal.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Controller } from '../../runtime/controller/manager.js';
import { startHttpServer, type HttpServer } from '../../runtime/http/server.js';
import { KubernetesAuthorizer } from '../../runtime/http/auth.js';
import { KubeClient } from '../../runtime/kube/client.js';
import { Metrics } from '../../runtime/metrics.js';
import { ensureHelm, helm } from './helm.js';
import { crd, getJson, getReport, kubeConfigFromFile, kubectlWith, memoryLogger, repoRoot, startPotooCluster, waitFor, type PotooCluster, type ReportObject } from './helpers.js';

const NS = 'team-a';
const WITHIN = 5000;

let pc: PotooCluster;
let ctl: Controller;
let http: HttpServer;
let logs: Record<string, unknown>[];

const report = (): Promise<ReportObject | undefined> => getReport(pc.admin, NS);
const entriesOf = async (): Promise<NonNullable<ReportObject['status']>['entries']> => (await report())?.status?.entries ?? [];
const entryFor = async (kind: string, name: string) => (await entriesOf()).find((e) => e.source.kind === kind && e.source.name === name);
const machineText = async (kind: string, name: string): Promise<string> => {
  const r = await report();
  const ids = new Set((r?.status?.entries ?? []).filter((e) => e.source.kind === kind && e.source.name === name).map((e) => e.id));
  return JSON.stringify((r?.status?.machine.constraints ?? []).filter((c) => ids.has(c.id)));
};

/** Waits (at most WITHIN ms) for a report condition and returns how long it took. */
async function within(what: string, cond: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  await waitFor(async () => (await cond()) || undefined, WITHIN, what, 100);
  return Date.now() - t0;
}

async function capabilities(): Promise<{ gvrs: { gvr: string; objects: number; constraints: number; informer: { lastError?: { status: number } } }[]; lastScan: { scans: number } }> {
  return (await getJson<{ gvrs: { gvr: string; objects: number; constraints: number; informer: { lastError?: { status: number } } }[]; lastScan: { scans: number } }>(`${http.url}/api/v1/capabilities`)).body;
}

/** What a platform admin adds for an extra policy CRD (aggregation fills the real role in clusters with a controller-manager). */
function readRole(name: string, group: string): string {
  return `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ${name}, labels: {potoo.io/aggregate-to-controller: "true"}}
rules: [{apiGroups: [${group}], resources: ["*"], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ${name}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${name}}
subjects: [{kind: ServiceAccount, name: potoo-controller, namespace: potoo-system}]
`;
}

describe('potoo controller on a real kube-apiserver', () => {
  beforeAll(async () => {
    // Built once from the Go module proxy and cached (like the cluster binaries).
    await ensureHelm();
    pc = await startPotooCluster();
    await pc.apply(`
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}, labels: {team: a}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: busybox}]}
`);
    await pc.apply(crd('constraints.gatekeeper.sh', 'K8sRequiredLabels', 'k8srequiredlabels', { scope: 'Cluster', version: 'v1beta1' }));
    await pc.apply(crd('kyverno.io', 'ClusterPolicy', 'clusterpolicies', { scope: 'Cluster' }));
    await pc.kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd/k8srequiredlabels.constraints.gatekeeper.sh', 'crd/clusterpolicies.kyverno.io');
    const m = memoryLogger();
    logs = m.lines;
    ctl = new Controller({
      kubeConfig: kubeConfigFromFile(pc.controller),
      namespace: 'potoo-system',
      identity: 'it-controller',
      rescanIntervalMs: 3000,
      // Only the periodic re-scan discovers CRDs here, so the test shows it does.
      crdRescanDelayMs: 0,
      leaderElection: { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 },
      reports: { debounceMs: 150, maxDelayMs: 800 },
      informer: { idleTimeoutMs: 60_000 },
      maxConfigMapPackBytes: 100_000,
      housekeepingMs: 1000,
      log: m.log,
      metrics: new Metrics(),
    });
    http = await startHttpServer(ctl, { host: '127.0.0.1', port: 0, log: m.log });
    await ctl.start();
    await waitFor(() => ctl.isLeader, 10_000, 'leadership');
  }, 240_000);

  afterAll(async () => {
    await ctl?.stop();
    await http?.close();
    await pc?.stop();
  }, 60_000);

  it('runs under the least-privilege role from deploy/, which it does not exceed', async () => {
    const can = async (...a: string[]): Promise<string> => (await kubectlWith(pc.controller, ['auth', 'can-i', ...a]).catch((e: { stdout?: string }) => e.stdout ?? 'no')).trim();
    expect(await can('list', 'secrets', '-A')).toBe('no');
    expect(await can('delete', 'pods', '-n', NS)).toBe('no');
    expect(await can('create', 'networkpolicies', '-n', NS)).toBe('no');
    expect(await can('create', 'constraintreports.potoo.io', '-n', NS)).toBe('yes');
    expect(await can('watch', 'networkpolicies', '-A')).toBe('yes');
    const who = (await kubectlWith(pc.controller, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).trim();
    expect(who).toBe('system:serviceaccount:potoo-system:potoo-controller');
    // Every resource it chose to watch is readable with that role.
    const caps = await capabilities();
    expect(caps.gvrs.length).toBeGreaterThan(10);
    expect(caps.gvrs.filter((g) => g.informer.lastError?.status === 403)).toEqual([]);
    const ready = await fetch(`${http.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('NetworkPolicy: create, update and delete each reach the report within 5 s', async () => {
    await pc.apply(`{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"deny-all","namespace":"${NS}"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}`);
    await within('NetworkPolicy in report', async () => (await entryFor('NetworkPolicy', 'deny-all'))?.effect === 'deny');
    const e = await entryFor('NetworkPolicy', 'deny-all');
    expect(e?.type).toBe('NetworkIngress');
    expect(e?.appliesTo).toBe('all 2 workloads');
    const machine = (await report())?.status?.machine.constraints.find((c) => c.id === e?.id) as { workloads?: string[] } | undefined;
    expect(machine?.workloads).toEqual(['Deployment/api', 'Deployment/web']);
    expect(e?.reasons.length).toBeGreaterThan(0);

    await pc.apply(
      `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"deny-all","namespace":"${NS}"},"spec":{"podSelector":{"matchLabels":{"app":"web"}},"policyTypes":["Ingress"],"ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"api"}}}],"ports":[{"port":80}]}]}}`,
    );
    await within('NetworkPolicy update in report', async () => {
      const u = await entryFor('NetworkPolicy', 'deny-all');
      return u?.effect === 'restrict' && u.workloads.length === 1 && u.workloads[0]?.name === 'web';
    });

    await pc.kubectl('-n', NS, 'delete', 'networkpolicy', 'deny-all');
    await within('NetworkPolicy gone from report', async () => (await entryFor('NetworkPolicy', 'deny-all')) === undefined);
  });

  it('ResourceQuota: create, update and delete each reach the report within 5 s', async () => {
    await pc.apply(`{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"compute","namespace":"${NS}"},"spec":{"hard":{"pods":"10"}}}`);
    await within('quota in report', async () => (await entryFor('ResourceQuota', 'compute'))?.type === 'ResourceQuota');
    await pc.apply(`{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"compute","namespace":"${NS}"},"spec":{"hard":{"pods":"10","requests.cpu":"4"}}}`);
    await within('quota update in report', async () => (await entryFor('ResourceQuota', 'compute'))?.summary.includes('requests.cpu') === true);
    await pc.kubectl('-n', NS, 'delete', 'resourcequota', 'compute');
    await within('quota gone from report', async () => (await entryFor('ResourceQuota', 'compute')) === undefined);
  });

  it('Gatekeeper constraint (CRD installed by the test): create, update and delete within 5 s', async () => {
    const constraint = (labels: string[]): string =>
      JSON.stringify({
        apiVersion: 'constraints.gatekeeper.sh/v1beta1',
        kind: 'K8sRequiredLabels',
        metadata: { name: 'must-have-owner' },
        spec: {
          enforcementAction: 'deny',
          match: { kinds: [{ apiGroups: ['', 'apps'], kinds: ['Pod', 'Deployment'] }], namespaces: [NS] },
          parameters: { labels: labels.map((key) => ({ key })) },
        },
      });
    await pc.apply(constraint(['owner']));
    await within('Gatekeeper constraint in report', async () => (await entryFor('K8sRequiredLabels', 'must-have-owner')) !== undefined);
    await pc.apply(constraint(['owner', 'cost-center']));
    await within('Gatekeeper update in report', async () => (await machineText('K8sRequiredLabels', 'must-have-owner')).includes('cost-center'));
    await pc.kubectl('delete', 'k8srequiredlabels', 'must-have-owner');
    await within('Gatekeeper constraint gone', async () => (await entryFor('K8sRequiredLabels', 'must-have-owner')) === undefined);
  });

  it('Kyverno ClusterPolicy (CRD installed by the test): create, update and delete within 5 s', async () => {
    const policy = (message: string): string =>
      JSON.stringify({
        apiVersion: 'kyverno.io/v1',
        kind: 'ClusterPolicy',
        metadata: { name: 'require-team-label' },
        spec: {
          validationFailureAction: 'Enforce',
          rules: [
            {
              name: 'check-team',
              match: { any: [{ resources: { kinds: ['Pod'] } }] },
              validate: { message, pattern: { metadata: { labels: { team: '?*' } } } },
            },
          ],
        },
      });
    await pc.apply(policy('label team is required'));
    await within('Kyverno policy in report', async () => (await entryFor('ClusterPolicy', 'require-team-label')) !== undefined);
    const e = await entryFor('ClusterPolicy', 'require-team-label');
    // Autogen (or the generic fallback's whole-namespace reach) brings it to the Deployments.
    expect(e?.workloads.length ?? 0).toBeGreaterThanOrEqual(0);
    await pc.apply(policy('every pod needs a team label (v2-marker)'));
    await within('Kyverno update in report', async () => {
      const text = JSON.stringify((await entriesOf()).filter((x) => x.source.name === 'require-team-label')) + (await machineText('ClusterPolicy', 'require-team-label'));
      return text.includes('v2-marker');
    });
    await pc.kubectl('delete', 'clusterpolicies.kyverno.io', 'require-team-label');
    await within('Kyverno policy gone', async () => (await entryFor('ClusterPolicy', 'require-team-label')) === undefined);
  });

  it('kubectl get constraintreports -A prints the printer columns', async () => {
    await pc.apply(`{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"deny-egress","namespace":"${NS}"},"spec":{"podSelector":{},"policyTypes":["Egress"]}}`);
    await within('egress policy in report', async () => (await entryFor('NetworkPolicy', 'deny-egress')) !== undefined);
    const out = await pc.kubectl('get', 'constraintreports', '-A');
    const [header, ...rows] = out.trim().split('\n');
    expect(header?.split(/\s+/)).toEqual(['NAMESPACE', 'NAME', 'CONSTRAINTS', 'CRITICAL', 'WARNING', 'INFO', 'WORKLOADS', 'AFFECTED', 'UPDATED']);
    const row = rows.find((r) => r.startsWith(NS))?.split(/\s+/);
    expect(row?.[1]).toBe('potoo');
    expect(Number(row?.[2])).toBeGreaterThanOrEqual(1);
    expect(Number(row?.[6])).toBe(2);
    const short = await pc.kubectl('get', 'creport', '-n', NS);
    expect(short).toContain('potoo');
  });

  it('writes nothing when nothing changed', async () => {
    await ctl.settle();
    const before = (await report())?.metadata.resourceVersion;
    // A Deployment status-only change and a relabel that no selector reads do not change the report.
    await pc.kubectl('-n', NS, 'annotate', 'deployment', 'web', 'unrelated=1', '--overwrite');
    await new Promise((r) => setTimeout(r, 1500));
    await ctl.settle();
    expect((await report())?.metadata.resourceVersion).toBe(before);
  });

  it('indexes a new CRD annotated potoo.io/is-policy after the next re-scan; deleting the CRD stops its informer and drops its constraints', async () => {
    await pc.apply(readRole('potoo-read-acme', 'acme.example.com'));
    const scansBefore = (await capabilities()).lastScan.scans;
    await pc.apply(crd('acme.example.com', 'Fence', 'fences', { annotations: { 'potoo.io/is-policy': 'true' } }));
    await pc.kubectl('wait', '--for=condition=Established', '--timeout=30s', 'crd/fences.acme.example.com');
    await pc.apply(
      JSON.stringify({
        apiVersion: 'acme.example.com/v1',
        kind: 'Fence',
        metadata: { name: 'web-fence', namespace: NS, annotations: { 'potoo.io/severity': 'Critical', 'potoo.io/summary': 'Web pods are fenced' } },
        spec: { podSelector: { matchLabels: { app: 'web' } } },
      }),
    );
    await waitFor(async () => (await capabilities()).gvrs.find((g) => g.gvr === 'acme.example.com/v1/fences' && g.constraints === 1), 10_000, 'fences indexed');
    expect((await capabilities()).lastScan.scans).toBeGreaterThan(scansBefore);
    await within('fence in report', async () => (await entryFor('Fence', 'web-fence'))?.severity === 'Critical');
    expect((await entryFor('Fence', 'web-fence'))?.workloads.map((w) => w.name)).toEqual(['web']);
    const api = await getJson<{ items: { source: { kind: string } }[] }>(`${http.url}/api/v1/constraints?namespace=${NS}&workload=Deployment/web`);
    expect(api.body.items.some((c) => c.source.kind === 'Fence')).toBe(true);

    await pc.kubectl('delete', 'crd', 'fences.acme.example.com');
    await waitFor(async () => !(await capabilities()).gvrs.some((g) => g.gvr === 'acme.example.com/v1/fences'), 10_000, 'fences informer stopped');
    expect(logs.some((l) => l.msg === 'informer stopped' && l.gvr === 'acme.example.com/v1/fences')).toBe(true);
    const after = await getJson<{ items: { source: { kind: string } }[] }>(`${http.url}/api/v1/constraints`);
    expect(after.body.items.some((c) => c.source.kind === 'Fence')).toBe(false);
    await within('fence gone from report', async () => (await entryFor('Fence', 'web-fence')) === undefined);
  });

  it('loads a ConfigMap rule pack; a broken version yields a Warning Event with the loader message and the old rules stay active', async () => {
    const pack = (summary: string, effect = "'audit'"): string => `apiVersion: potoo.io/v1alpha1
kind: RulePack
metadata:
  name: team-extras
spec:
  adapters:
    - name: audit-netpol
      match: {group: networking.k8s.io, resources: [networkpolicies]}
      emit:
        type: NetworkAudit
        effect: "{{ ${effect} }}"
        severity: Info
        scope:
          namespaces: ["{{ object.metadata.namespace }}"]
        summary: "${summary} {{ object.metadata.name }}"
`;
    const cm = (text: string): string =>
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra-rules', namespace: 'potoo-system', labels: { 'potoo.io/rule-pack': 'true' } }, data: { 'pack.yaml': text } });
    await pc.apply(cm(pack('Audited v1:')));
    const audit = async (): Promise<string | undefined> => (await entriesOf()).find((e) => e.type === 'NetworkAudit' && e.source.name === 'deny-egress')?.summary;
    await within('ConfigMap pack takes effect', async () => (await audit()) === 'Audited v1: deny-egress');

    await pc.apply(cm(pack('Audited v2:', "object.spec.")));
    const event = await waitFor(
      async () => {
        const list = JSON.parse(await pc.kubectl('-n', 'potoo-system', 'get', 'events.events.k8s.io', '-o', 'json')) as { items: { reason: string; note: string; type: string; regarding: { name: string; kind: string } }[] };
        return list.items.find((e) => e.reason === 'RulePackInvalid' && e.regarding.name === 'extra-rules');
      },
      WITHIN,
      'RulePackInvalid Event',
    );
    expect(event.type).toBe('Warning');
    expect(event.regarding.kind).toBe('ConfigMap');
    expect(event.note).toContain('pack team-extras');
    expect(event.note).toContain('rule audit-netpol');
    expect(event.note).toContain('field spec.adapters[0].emit.effect');
    expect(event.note).toMatch(/\(pack\.yaml\):\d+:\d+/);
    expect(event.note).toContain('previous version stays active');
    // `kubectl describe` shows it on the ConfigMap.
    expect(await pc.kubectl('-n', 'potoo-system', 'describe', 'configmap', 'extra-rules')).toContain('RulePackInvalid');
    const metrics = await (await fetch(`${http.url}/metrics`)).text();
    expect(metrics).toMatch(/potoo_rulepack_load_errors_total\{source="configmap"\} [1-9]/);
    // The old rules keep running, also for objects that change after the rejection.
    await pc.kubectl('-n', NS, 'label', 'networkpolicy', 'deny-egress', 'touched=yes');
    await ctl.settle();
    expect(await audit()).toBe('Audited v1: deny-egress');

    await pc.apply(cm(pack('Audited v3:')));
    await within('fixed pack takes effect', async () => (await audit()) === 'Audited v3: deny-egress');

    // Over the configured size limit: rejected with an Event, v3 stays.
    await pc.apply(cm(pack('Audited v4:') + '# ' + 'x'.repeat(150_000) + '\n'));
    await waitFor(
      async () => {
        const list = JSON.parse(await pc.kubectl('-n', 'potoo-system', 'get', 'events.events.k8s.io', '-o', 'json')) as { items: { reason: string; note: string }[] };
        return list.items.find((e) => e.reason === 'RulePackInvalid' && e.note.includes('over the 100000-byte limit'));
      },
      WITHIN,
      'size-limit Event',
    );
    expect(await audit()).toBe('Audited v3: deny-egress');

    // A 5 MB pack cannot even be stored: the apiserver refuses the ConfigMap.
    await expect(pc.apply(cm(pack('Audited v5:') + '# ' + 'y'.repeat(5 * 1024 * 1024) + '\n'))).rejects.toThrow(/Too long|too long|exceed|limit/i);
    expect(await audit()).toBe('Audited v3: deny-egress');

    await pc.kubectl('-n', 'potoo-system', 'delete', 'configmap', 'extra-rules');
    await within('pack unloaded', async () => (await audit()) === undefined);
  });

  it('ConstraintProfile: built-in adapter by name with severity override, inline rules, missing GVR, broken rules, enabled flag', async () => {
    await pc.apply(readRole('potoo-read-widgets', 'widgets.example.com'));
    await pc.apply(crd('widgets.example.com', 'Widget', 'widgets'));
    await pc.kubectl('wait', '--for=condition=Established', '--timeout=30s', 'crd/widgets.widgets.example.com');
    await pc.apply(
      JSON.stringify({ apiVersion: 'widgets.example.com/v1', kind: 'Widget', metadata: { name: 'w1', namespace: NS }, spec: { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'] } }),
    );
    // Not a policy by any name heuristic: nothing reads it yet.
    await new Promise((r) => setTimeout(r, 3500));
    expect((await capabilities()).gvrs.some((g) => g.gvr.startsWith('widgets.example.com'))).toBe(false);

    const profile = (name: string, spec: Record<string, unknown>): string => JSON.stringify({ apiVersion: 'potoo.io/v1alpha1', kind: 'ConstraintProfile', metadata: { name }, spec });
    await pc.apply(profile('widgets', { target: { group: 'widgets.example.com', resource: 'widgets' }, adapter: 'networkpolicy/ingress', severity: 'Critical' }));
    await within('widget constraint via built-in adapter', async () => {
      const e = await entryFor('Widget', 'w1');
      return e?.type === 'NetworkIngress' && e.severity === 'Critical' && e.workloads.map((w) => w.name).join() === 'api';
    });
    type Prof = { metadata: { generation: number }; status?: { observedGeneration?: number; constraints?: number; conditions?: { type: string; status: string; reason: string; message: string; observedGeneration?: number }[] } };
    const prof = async (name: string): Promise<Prof> => JSON.parse(await pc.kubectl('get', 'constraintprofile', name, '-o', 'json')) as Prof;
    const cond = (p: Prof, type: string) => p.status?.conditions?.find((c) => c.type === type);
    await waitFor(async () => {
      const p = await prof('widgets');
      return cond(p, 'Accepted')?.status === 'True' && cond(p, 'Served')?.status === 'True' && p.status?.constraints === 1 && p.status.observedGeneration === p.metadata.generation;
    }, WITHIN, 'widgets profile status');

    await pc.apply(profile('ghosts', { target: { group: 'nothing.example.com', resource: 'ghosts' }, adapters: [{ name: 'g', emit: { type: 'Ghost', effect: 'deny', severity: 'Info', scope: {}, summary: 'boo' } }] }));
    await waitFor(async () => {
      const p = await prof('ghosts');
      return cond(p, 'Served')?.status === 'False' && cond(p, 'Served')?.reason === 'NotServed' && cond(p, 'Accepted')?.status === 'True';
    }, WITHIN, 'ghosts NotServed');

    await pc.apply(
      profile('broken', {
        target: { group: 'widgets.example.com', resource: 'gizmos' },
        adapters: [{ name: 'bad', emit: { type: 'X', effect: '{{ object.spec. }}', severity: 'Info', scope: {}, summary: 's' } }],
      }),
    );
    await waitFor(async () => {
      const p = await prof('broken');
      const inv = cond(p, 'Invalid');
      return cond(p, 'Accepted')?.status === 'False' && inv?.status === 'True' && inv.reason === 'InvalidRules' && inv.message.includes('spec.adapters[0].emit.effect') && inv.observedGeneration === p.metadata.generation;
    }, WITHIN, 'broken profile Invalid');
    const printed = await pc.kubectl('get', 'constraintprofiles');
    expect(printed.split('\n')[0]).toMatch(/NAME\s+GROUP\s+RESOURCE\s+ADAPTER\s+ENABLED\s+ACCEPTED\s+SERVED\s+CONSTRAINTS\s+AGE/);

    // Inline rules replace the built-in adapter.
    await pc.apply(
      profile('widgets', {
        target: { group: 'widgets.example.com', resource: 'widgets' },
        adapters: [{ name: 'widget-rule', emit: { type: 'WidgetRule', effect: 'restrict', severity: 'Warning', scope: { namespaces: ['{{ object.metadata.namespace }}'] }, summary: 'Widget {{ object.metadata.name }} restricts the namespace' } }],
      }),
    );
    await within('inline profile rules', async () => (await entryFor('Widget', 'w1'))?.type === 'WidgetRule');

    // enabled: false makes Potoo ignore the resource: informer stopped, constraints gone.
    await pc.apply(profile('widgets', { target: { group: 'widgets.example.com', resource: 'widgets' }, enabled: false }));
    await within('disabled profile drops the widget', async () => (await entryFor('Widget', 'w1')) === undefined);
    expect((await capabilities()).gvrs.some((g) => g.gvr.startsWith('widgets.example.com'))).toBe(false);
    await pc.kubectl('delete', 'constraintprofile', 'widgets', 'ghosts', 'broken');
  });

  it('bad input: objects of a policy CRD that match no adapter are logged and shown in capabilities, and nothing else stops', async () => {
    await pc.apply(readRole('potoo-read-acme', 'acme.example.com'));
    await pc.apply(crd('acme.example.com', 'Gadget', 'gadgets', { annotations: { 'potoo.io/is-policy': 'true' } }));
    await pc.kubectl('wait', '--for=condition=Established', '--timeout=30s', 'crd/gadgets.acme.example.com');
    await pc.apply(JSON.stringify({ apiVersion: 'acme.example.com/v1', kind: 'Gadget', metadata: { name: 'g1', namespace: NS }, spec: { whatever: true } }));
    await waitFor(async () => (await capabilities()).gvrs.find((g) => g.gvr === 'acme.example.com/v1/gadgets' && g.objects === 1), 10_000, 'gadgets watched');
    await waitFor(() => logs.find((l) => l.gvr === 'acme.example.com/v1/gadgets' && typeof l.msg === 'string' && l.msg.includes('no adapter matches')), 5000, 'no-adapter log line');
    expect((await capabilities()).gvrs.find((g) => g.gvr === 'acme.example.com/v1/gadgets')?.constraints).toBe(0);
    // The rest keeps working.
    await pc.apply(`{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"late","namespace":"${NS}"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}`);
    await within('later policy still reported', async () => (await entryFor('NetworkPolicy', 'late')) !== undefined);
    expect((await fetch(`${http.url}/healthz`)).status).toBe(200);
  });

  it('the plain manifests and the Helm chart apply cleanly (server-side dry run), and the chart grants exactly deploy/rbac.yaml', async () => {
    const plain = await pc.kubectl('apply', '-k', path.join(repoRoot, 'deploy'), '--dry-run=server');
    expect(plain).toContain('deployment.apps/potoo-controller');
    expect(plain).toContain('clusterrole.rbac.authorization.k8s.io/potoo-controller');
    const chart = path.join(repoRoot, 'deploy/helm/potoo');
    await helm('lint', chart, '--kube-version', '1.34.0');
    const rendered = await helm('template', 'potoo', chart, '-n', 'potoo-system', '--kube-version', '1.34.0', '--include-crds', '--set', 'controller.trustedNamespaces={potoo-system,team-a}');
    const applied = await kubectlWith(pc.admin, ['apply', '--dry-run=server', '-f', '-'], rendered);
    expect(applied).toContain('deployment.apps/potoo-controller');
    expect(applied).toContain('role.rbac.authorization.k8s.io/potoo-controller-rule-packs');

    type Doc = { kind?: string; metadata?: { name?: string }; rules?: unknown; spec?: { replicas?: number; template?: { spec?: { containers?: { readinessProbe?: unknown; livenessProbe?: unknown }[] } } } };
    const docs = (text: string): Doc[] => parseAllDocuments(text).map((d) => d.toJSON() as Doc).filter((d) => d !== null);
    const mine = docs(readFileSync(path.join(repoRoot, 'deploy/rbac.yaml'), 'utf8'));
    const chartDocs = docs(await helm('template', 'potoo', chart, '-n', 'potoo-system', '--kube-version', '1.34.0'));
    const find = (list: Doc[], kind: string, name: string): Doc | undefined => list.find((d) => d.kind === kind && d.metadata?.name === name);
    // Both sides missing would compare equal: deploy/rbac.yaml must have the roles to compare.
    for (const kind of ['ClusterRole', 'Role']) expect((find(mine, kind, 'potoo-controller')?.rules as unknown[] | undefined)?.length ?? 0).toBeGreaterThan(0);
    expect(find(chartDocs, 'ClusterRole', 'potoo-controller')?.rules).toEqual(find(mine, 'ClusterRole', 'potoo-controller')?.rules);
    expect(find(chartDocs, 'Role', 'potoo-controller')?.rules).toEqual(find(mine, 'Role', 'potoo-controller')?.rules);
    const dep = find(chartDocs, 'Deployment', 'potoo-controller');
    expect(dep?.spec?.replicas).toBe(2);
    expect(dep?.spec?.template?.spec?.containers?.[0]?.readinessProbe).toEqual({ httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, failureThreshold: 2 });
    expect(find(chartDocs, 'Service', 'potoo-controller')).toBeDefined();
    // The chart ships the same CRDs as deploy/crds.
    for (const f of ['constraintprofiles.potoo.io.yaml', 'constraintreports.potoo.io.yaml', 'notificationpolicies.potoo.io.yaml']) {
      expect(readFileSync(path.join(chart, 'crds', f), 'utf8')).toBe(readFileSync(path.join(repoRoot, 'deploy/crds', f), 'utf8'));
    }
  });

  it('the read API, when guarded, is exactly as private as the ConstraintReports (TokenReview + SubjectAccessReview)', async () => {
    const m = memoryLogger();
    const authClient = await KubeClient.create(kubeConfigFromFile(pc.controller));
    const guarded = await startHttpServer(ctl, { host: '127.0.0.1', port: 0, log: m.log, auth: new KubernetesAuthorizer(authClient, m.log) });
    try {
      const dev = pc.cluster.tokens['developer'] as string;
      const nsUrl = `${guarded.url}/api/v1/constraints?namespace=${NS}`;
      expect((await getJson(nsUrl)).status).toBe(401);
      expect((await getJson(nsUrl, 3000, 'not-a-token')).status).toBe(401);
      const denied = await getJson<{ error: string }>(nsUrl, 3000, dev);
      expect(denied.status).toBe(403);
      expect(denied.body.error).toBe(`developer may not get constraintreports.potoo.io in namespace ${NS}`);
      await pc.kubectl('-n', NS, 'create', 'role', 'read-reports', '--verb=get', '--resource=constraintreports.potoo.io');
      await pc.kubectl('-n', NS, 'create', 'rolebinding', 'dev-reads-reports', '--role=read-reports', '--user=developer');
      // Decisions are cached for 30 s; a fresh server asks again.
      const fresh = await startHttpServer(ctl, { host: '127.0.0.1', port: 0, log: m.log, auth: new KubernetesAuthorizer(authClient, m.log) });
      try {
        const u = `${fresh.url}/api/v1/constraints?namespace=${NS}`;
        await waitFor(async () => ((await getJson(u, 3000, dev)).status === 200 ? true : undefined), 10_000, 'developer allowed in its namespace');
        expect((await getJson(`${fresh.url}/api/v1/namespaces/${NS}/report`, 3000, dev)).status).toBe(200);
        // Not across namespaces, and not the cluster-wide capabilities.
        expect((await getJson(`${fresh.url}/api/v1/constraints`, 3000, dev)).status).toBe(403);
        expect((await getJson(`${fresh.url}/api/v1/constraints?namespace=kube-system`, 3000, dev)).status).toBe(403);
        expect((await getJson(`${fresh.url}/api/v1/capabilities`, 3000, dev)).status).toBe(403);
        // Probes and metrics stay open.
        expect((await fetch(`${fresh.url}/readyz`)).status).toBe(200);
        expect((await fetch(`${fresh.url}/metrics`)).status).toBe(200);
      } finally {
        await fresh.close();
      }
    } finally {
      await guarded.close();
      authClient.close();
    }
  });
});
