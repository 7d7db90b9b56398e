import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeObjects, type Analyzer } from '../analyzer.js';
import { loadPacks } from '../pack/loader.js';
import { flowSignal } from '../signals.js';
import { objectsFromText } from '../source/manifests.js';
import { FactView } from './context.js';
import { explainTraffic, questionsFor } from './netdeny.js';

// Ingress to every pod in `api` only from service account robot in namespace ci.
const CLUSTER = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: robot-only, namespace: api}
spec:
  endpointSelector: {}
  ingress:
    - fromEndpoints:
        - matchLabels: {"io.cilium.k8s.policy.serviceaccount": robot, "k8s:io.kubernetes.pod.namespace": ci}
---
{apiVersion: v1, kind: Pod, metadata: {name: srv, namespace: api, labels: {app: api}}, spec: {containers: [{name: c, image: x}]}}
---
{apiVersion: v1, kind: Pod, metadata: {name: job, namespace: ci, labels: {app: job}}, spec: {serviceAccountName: robot, containers: [{name: c, image: x}]}}
`;

let view: FactView;
beforeAll(async () => {
  const file = fileURLToPath(new URL('../../adapters/cilium.yaml', import.meta.url));
  const packs = loadPacks(readFileSync(file, 'utf8'), { file }).packs;
  const analyzer: Analyzer = await analyzeObjects(objectsFromText(CLUSTER, 'cluster.yaml').objects, packs);
  view = new FactView(analyzer);
});

function denials(source: Record<string, unknown>): string[] {
  const r = flowSignal({ verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', traffic_direction: 'INGRESS', l4: { TCP: { destination_port: 8080 } }, source, destination: { namespace: 'api', pod_name: 'srv', labels: ['k8s:app=api'] } });
  if (!r.ok) throw new Error(r.error);
  return questionsFor(r.signal, view).flatMap((q) => explainTraffic(q, view).map((d) => d.constraint.source.name));
}

describe('the service account of a flow endpoint', () => {
  it('comes from Cilium’s label when the pod is not known (gone, or not in the store)', () => {
    const labels = (sa: string) => ['k8s:app=job', 'k8s:io.kubernetes.pod.namespace=ci', `k8s:io.cilium.k8s.policy.serviceaccount=${sa}`];
    expect(denials({ namespace: 'ci', pod_name: 'job-gone', labels: labels('robot') })).toEqual([]);
    expect(denials({ namespace: 'ci', pod_name: 'job-gone', labels: labels('other') })).toEqual(['robot-only']);
    // No label and no pod: the default service account, as before.
    expect(denials({ namespace: 'ci', pod_name: 'job-gone', labels: ['k8s:app=job'] })).toEqual(['robot-only']);
  });

  it("falls back to the known pod's serviceAccountName when the flow does not report one", () => {
    expect(denials({ namespace: 'ci', pod_name: 'job', labels: ['k8s:app=job'] })).toEqual([]);
  });
});
