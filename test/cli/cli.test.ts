// The CLI as a user runs it: a real process, real exit codes, real output.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'bin', 'potoo.js');

function potoo(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'potoo-cli-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

const PACK_HEAD = `apiVersion: potoo.io/v1alpha1
kind: RulePack
metadata: {name: broken}
spec:
  adapters:
    - name: np
      match: {group: networking.k8s.io, resources: [networkpolicies]}
`;

describe('potoo lint on broken packs', () => {
  const cases: { name: string; text: string; expect: RegExp[] }[] = [
    {
      name: 'invalid YAML',
      text: 'apiVersion: potoo.io/v1alpha1\nkind: RulePack\nmetadata: {name: broken\nspec: {}\n',
      expect: [/pack\.yaml:\d+:\d+/, /invalid YAML/],
    },
    {
      name: 'unknown field',
      text: PACK_HEAD + '      emitt: {}\n      emit: {type: X, effect: deny, severity: Info, summary: s, scope: {}}\n',
      expect: [/pack\.yaml:8:7/, /pack broken/, /rule np/, /field spec\.adapters\[0\]\.emitt/, /unknown field emitt/],
    },
    {
      name: 'CEL syntax error',
      text: PACK_HEAD + '      emit: {type: X, effect: "{{ object.spec.( }}", severity: Info, summary: s, scope: {}}\n',
      expect: [/pack\.yaml:8:\d+/, /rule np/, /field spec\.adapters\[0\]\.emit\.effect/],
    },
    {
      name: 'wrong type',
      text: PACK_HEAD.replace('resources: [networkpolicies]', 'resources: networkpolicies') + '      emit: {type: X, effect: deny, severity: Info, summary: s, scope: {}}\n',
      expect: [/pack\.yaml:7:\d+/, /rule np/, /field spec\.adapters\[0\]\.match\.resources/, /must be array/],
    },
    {
      name: 'unknown operator and fact',
      text: PACK_HEAD + '      conditions: {all: [{fact: policy, operator: looksLike, value: 1}]}\n      emit: {type: X, effect: deny, severity: Info, summary: s, scope: {}}\n',
      expect: [/unknown fact policy/, /unknown operator looksLike/, /field spec\.adapters\[0\]\.conditions\.all\[0\]\.fact/],
    },
    {
      name: 'catastrophic or invalid regex',
      text: PACK_HEAD + '      conditions: {all: [{fact: object, path: $.metadata.name, operator: matches, value: "(a+"}]}\n      emit: {type: X, effect: deny, severity: Info, summary: s, scope: {}}\n',
      expect: [/regex/, /field spec\.adapters\[0\]\.conditions\.all\[0\]\.value/],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: exit 2, located message, no stack trace`, () => {
      const f = tmpFile('pack.yaml', c.text);
      const r = potoo(['lint', f]);
      expect(r.code, r.stderr).toBe(2);
      for (const re of c.expect) expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
    });
  }

  it('a good pack lints clean with exit 0', () => {
    const f = tmpFile('pack.yaml', PACK_HEAD + '      emit: {type: X, effect: deny, severity: Info, summary: s, scope: {}}\n');
    const r = potoo(['lint', f]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 pack(s), 1 rule(s) ok; 0 error(s)');
  });
});

describe('potoo test', () => {
  it('passes on the built-in adapters and prints the closing count', () => {
    const r = potoo(['test', join(__dirname, '..', '..', 'adapters')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  });

  it('exits 1 and prints the diff when a case fails', () => {
    const f = tmpFile(
      'pack.yaml',
      PACK_HEAD +
        '      emit: {type: NetworkIngress, effect: deny, severity: Info, summary: s, scope: {}}\n  tests:\n    - name: wrong\n      given: [{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: n, namespace: a}, spec: {podSelector: {}}}]\n      expect: {constraints: [{effect: allow}]}\n',
    );
    const r = potoo(['test', '--no-builtin', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL broken > wrong');
    expect(r.stdout).toContain('- effect: "allow"');
    expect(r.stdout).toContain('+ effect: "deny"');
  });
});

describe('potoo analyze', () => {
  const EXAMPLES = join(__dirname, '..', '..', 'examples', 'cluster');

  it('prints constraints per namespace and workload for the bundled example', () => {
    const r = potoo(['analyze', EXAMPLES]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/NAMESPACE data/);
    // kafka-connect's namespace is at 92% of its CPU quota: Critical.
    const kafka = r.stdout.split('Deployment kafka-connect')[1]?.split(/\n  \S/)[0] ?? '';
    expect(kafka).toMatch(/Critical\s+ResourceQuota\s+limit\s+ResourceQuota data\/data-quota/);
    // payments is default-deny for ingress.
    expect(r.stdout).toMatch(/Warning\s+NetworkIngress\s+deny\s+NetworkPolicy payments\/default-deny-ingress/);
    expect(r.stdout).toMatch(/\d+ objects, 13 workloads, \d+ constraints/);
  });

  it('-o json is machine-readable and filters by namespace', () => {
    const r = potoo(['analyze', EXAMPLES, '-o', 'json', '-n', 'payments']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { namespaces: { name: string; workloads: { name: string; constraints: { type: string }[] }[] }[] };
    expect(report.namespaces.map((n) => n.name)).toEqual(['payments']);
    const api = report.namespaces[0]!.workloads.find((w) => w.name === 'payments-api');
    expect(api?.constraints.some((c) => c.type === 'NetworkIngress')).toBe(true);
  });

  it('reads stdin and reports bad documents per object while analyzing the rest', () => {
    const input = [
      'apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: a}\nspec: {hard: {pods: "10"}}',
      'just: a map\nthat: is not kubernetes',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {containers: [{name: c, image: x}]}',
      '- a\n- list',
      'key: [unclosed',
    ].join('\n---\n');
    const r = potoo(['analyze', '-'], input);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Pod p[\s\S]*ResourceQuota\s+limit\s+ResourceQuota a\/q/);
    expect(r.stderr).toMatch(/<stdin>:6:1.*not a Kubernetes object: missing apiVersion, kind, metadata.name/);
    expect(r.stderr).toMatch(/<stdin>:\d+:1.*not a Kubernetes object \(a list\)/);
    expect(r.stderr).toMatch(/<stdin>:\d+:\d+.*invalid YAML/);
    expect(r.stdout).toMatch(/3 problem\(s\)/);
  });

  it('an unknown flag is a usage error with exit 2', () => {
    const r = potoo(['analyze', EXAMPLES, '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown flag --frobnicate');
  });
});
