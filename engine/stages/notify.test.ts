import { describe, expect, it } from 'vitest';
import type { Attribution, Constraint, Finding } from '../model.js';
import { loadPacks, type CompiledPack } from '../pack/loader.js';
import { NotifyStage } from './notify.js';

function pack(yaml: string): CompiledPack[] {
  const r = loadPacks(yaml, { file: 'test.yaml' });
  if (r.problems.some((p) => p.severity === 'error')) throw new Error(r.problems.map((p) => p.message).join('; '));
  return r.packs;
}

const ROUTES = pack(`
apiVersion: potoo.io/v1alpha1
kind: RulePack
metadata: {name: routes}
spec:
  notifications:
    - name: critical-first
      on: attribution
      final: true
      conditions:
        all:
          - {fact: subject, path: $.severity, operator: equal, value: Critical}
      deliver:
        channel: event
        audience: developer
        detail: full
        text:
          summary: "S {{ explanation }}"
          detailed: "D {{ explanation }}"
    - name: never-after-final
      on: attribution
      conditions: {all: [{fact: subject, path: $.resolved, operator: equal, value: true}]}
      deliver: {channel: report, audience: namespace-admin, detail: detailed}
    - name: per-channel
      on: finding
      conditions: {all: [{fact: channels, operator: notEmpty}]}
      forEach: "{{ channels.filter(c, severityRank(subject.severity) >= severityRank(c.minSeverity)) }}"
      deliver:
        channel: "{{ item.type }}"
        audience: "{{ item.audience }}"
        detail: "{{ item.detail }}"
        text: "{{ finding.summary }} ({{ detail }})"
    - name: bad-audience
      on: constraint
      conditions: {all: [{fact: constraint, path: $.id, operator: exists}]}
      deliver: {channel: report, audience: everyone, detail: summary}
`);

const quota: Constraint = {
  id: 'resourcequotas/a/q#rq/quota',
  type: 'ResourceQuota',
  effect: 'limit',
  severity: 'Warning',
  source: { apiVersion: 'v1', kind: 'ResourceQuota', group: '', resource: 'resourcequotas', name: 'q', namespace: 'a' },
  rule: { pack: 'rq', rule: 'quota' },
  scope: { namespaces: ['a'] },
  summary: 'quota q',
  details: {},
  remediation: [],
  tags: [],
};

const attribution = (severity: Attribution['severity']): Attribution => ({
  id: 'x',
  rule: { pack: 'c', rule: 'r' },
  signal: { kind: 'event', ref: 'e', namespace: 'a' },
  constraintIds: [quota.id],
  confidence: 0.9,
  severity,
  explanation: 'quota q is full',
  details: {},
  workload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'a' },
});

const finding = (severity: Finding['severity']): Finding => ({
  id: 'Deployment/a/web#r/x',
  rule: { pack: 'r', rule: 'x' },
  workload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'a' },
  expects: { apiVersion: 'v1', kind: 'Service' },
  severity,
  summary: 'needs a Service',
  remediation: [],
  details: {},
});

describe('notify stage', () => {
  it('caps detail at the audience maximum and picks the text for that level; `final` stops later routes', async () => {
    const stage = new NotifyStage(ROUTES);
    const r = await stage.notify({ subject: { kind: 'attribution', attribution: attribution('Critical') }, constraints: [quota] });
    expect(r.deliveries).toHaveLength(1);
    // developer maxDetail is `detailed` by default: the rule's `full` is capped, and the map has no `full` entry anyway.
    expect(r.deliveries[0]).toMatchObject({ channel: 'event', audience: 'developer', detail: 'detailed', text: 'D quota q is full', subject: { kind: 'attribution', id: 'x', namespace: 'a' } });
    const w = await stage.notify({ subject: { kind: 'attribution', attribution: attribution('Warning') }, constraints: [quota] });
    expect(w.deliveries.map((d) => d.rule.rule)).toEqual(['never-after-final']);
  });

  it('fans out over the channels a NotificationPolicy configures, with their target', async () => {
    const stage = new NotifyStage(ROUTES, undefined, {
      policies: [
        {
          metadata: { name: 'team', namespace: 'a' },
          spec: {
            audiences: { developer: { maxDetail: 'summary' } },
            channels: [
              { name: 'chat', type: 'slack', audience: 'developer', detail: 'full', minSeverity: 'Info', urlSecretRef: { name: 'slack' } },
              { name: 'pager', type: 'webhook', audience: 'namespace-admin', detail: 'detailed', minSeverity: 'Critical', urlSecretRef: { name: 'hook' }, signingSecretRef: { name: 'hmac', key: 'k' } },
            ],
          },
        },
      ],
    });
    const info = await stage.notify({ subject: { kind: 'finding', finding: finding('Info') } });
    expect(info.deliveries).toEqual([expect.objectContaining({ channel: 'slack', detail: 'summary', text: 'needs a Service (summary)', data: expect.objectContaining({ target: { name: 'chat', type: 'slack', policy: 'a/team', urlSecretRef: { name: 'slack', namespace: 'a' } } }) })]);
    const critical = await stage.notify({ subject: { kind: 'finding', finding: finding('Critical') } });
    expect(critical.deliveries.map((d) => `${d.channel}:${d.audience}:${d.detail}`)).toEqual(['slack:developer:summary', 'webhook:namespace-admin:detailed']);
    expect(critical.deliveries[1]?.data.target).toMatchObject({ signingSecretRef: { name: 'hmac', key: 'k', namespace: 'a' } });
  });

  it('reports a route that names an unknown audience instead of delivering', async () => {
    const stage = new NotifyStage(ROUTES);
    const r = await stage.notify({ subject: { kind: 'constraint', constraint: quota } });
    expect(r.deliveries).toEqual([]);
    expect(r.problems).toEqual([expect.objectContaining({ rule: 'bad-audience', field: 'deliver.audience' })]);
  });
});
