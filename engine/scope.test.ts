import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { KindRef, LabelSelector, Scope, ScopeTerm } from './model.js';
import {
  candidateNamespaces,
  evaluateScope,
  globCanMatchPrefixed,
  globMatch,
  scopeApplies,
  type ScopeSubject,
} from './scope.js';
import { clusterRoleSubject, namespaceSubject } from './scope.fixtures.js';

// ---------------------------------------------------------------------------------
// An independent reference: written from the semantics stated in model.ts / scope.ts
// docs, deliberately in a different style (regexes, explicit object lists, brute force).
// ---------------------------------------------------------------------------------

const globRe = (p: string): RegExp =>
  new RegExp('^' + p.replace(/[.+^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 's');

function refSelector(sel: LabelSelector, labels: Record<string, string>): boolean {
  const entries = Object.entries(sel.matchLabels ?? {});
  if (!entries.every(([k, v]) => k in labels && labels[k] === v)) return false;
  return (sel.matchExpressions ?? []).every((e) => {
    const present = Object.keys(labels).includes(e.key);
    const vals = e.values ?? [];
    if (e.operator === 'In') return present && vals.includes(labels[e.key]!);
    if (e.operator === 'NotIn') return !present || !vals.includes(labels[e.key]!);
    if (e.operator === 'Exists') return present;
    return !present;
  });
}

/** Brute force: is there a non-empty suffix s with prefix+s matching p? */
function refPrefixed(p: string, prefix: string): boolean {
  const re = globRe(p);
  const alphabet = [...new Set([...p.replace(/[*?]/g, ''), 'z'])];
  const maxLen = p.replace(/\*/g, '').length + 1;
  let layer = [''];
  for (let len = 1; len <= maxLen; len++) {
    const next: string[] = [];
    for (const s of layer) for (const ch of alphabet) next.push(s + ch);
    if (next.some((s) => re.test(prefix + s))) return true;
    layer = next;
  }
  return false;
}

interface RefObj {
  group: string;
  version: string;
  kind: string;
  name: string;
  generated: boolean;
  namespace?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nsLabels: Record<string, string>;
  op?: string;
}

function refObjects(t: ScopeSubject): RefObj[] {
  const objs: RefObj[] = [
    {
      group: t.group,
      version: t.version,
      kind: t.kind,
      name: t.name,
      generated: false,
      namespace: t.namespace,
      labels: t.labels,
      annotations: t.annotations,
      nsLabels: t.namespaceLabels,
      op: t.operation,
    },
  ];
  if (t.podLabels && !(t.group === '' && t.kind === 'Pod')) {
    objs.push({
      group: '',
      version: 'v1',
      kind: 'Pod',
      name: t.name + '-',
      generated: true,
      namespace: t.namespace,
      labels: t.podLabels,
      annotations: t.podAnnotations ?? {},
      nsLabels: t.namespaceLabels,
      op: t.operation === undefined ? undefined : t.operation === 'UPDATE' ? 'CREATE' : t.operation,
    });
  }
  return objs;
}

function refTerm(term: ScopeTerm, o: RefObj): boolean {
  const isNs = o.group === '' && o.kind === 'Namespace';
  const nsName = isNs ? o.name : o.namespace;
  if (term.kinds?.length) {
    const ok = term.kinds.some(
      (k) => globRe(k.group).test(o.group) && (k.version === undefined || globRe(k.version).test(o.version)) && globRe(k.kind).test(o.kind),
    );
    if (!ok) return false;
  }
  if (term.scope === 'Cluster' && !(isNs || o.namespace === undefined)) return false;
  if (term.scope === 'Namespaced' && (isNs || o.namespace === undefined)) return false;
  if (term.namespaces?.length && nsName !== undefined && !term.namespaces.some((p) => globRe(p).test(nsName))) return false;
  if (term.excludedNamespaces?.length && nsName !== undefined && term.excludedNamespaces.some((p) => globRe(p).test(nsName))) return false;
  if (term.selector && !refSelector(term.selector, o.labels)) return false;
  if (term.namespaceSelector && nsName !== undefined && !refSelector(term.namespaceSelector, isNs ? o.labels : o.nsLabels)) return false;
  if (term.names?.length) {
    const ok = term.names.some((p) => (o.generated ? refPrefixed(p, o.name) : globRe(p).test(o.name)));
    if (!ok) return false;
  }
  if (term.annotations) {
    for (const [k, v] of Object.entries(term.annotations)) {
      const hits = Object.entries(o.annotations).filter(([ak, av]) => globRe(k).test(ak) && globRe(v).test(av));
      if (hits.length === 0) return false;
    }
  }
  if (term.operations?.length && o.op !== undefined) {
    if (!term.operations.some((x) => x === '*' || x.toUpperCase() === o.op!.toUpperCase())) return false;
  }
  return true;
}

function refScopeOn(s: Scope, o: RefObj): boolean {
  if (!refTerm(s, o)) return false;
  if (s.any?.length && !s.any.some((t) => refTerm(t, o))) return false;
  if (s.all && !s.all.every((t) => refTerm(t, o))) return false;
  if (s.exclude && s.exclude.some((e) => refScopeOn(e, o))) return false;
  return true;
}

const refApplies = (s: Scope, t: ScopeSubject): boolean => refObjects(t).some((o) => refScopeOn(s, o));

// ---------------------------------------------------------------------------------
// Generators over a small alphabet, so matches are frequent.
// ---------------------------------------------------------------------------------

const KEYS = ['app', 'tier', 'team'];
const VALUES = ['api', 'web', 'pay'];
const NAMESPACES = ['default', 'kube-system', 'payments', 'team-a'];
const NS_PATTERNS = [...NAMESPACES, 'kube-*', '*-system', 'team-*', '*', 'pay?ents'];
const NAMES = ['api', 'web', 'api-1'];
const NAME_PATTERNS = ['api', 'api*', '*-1', 'web', '*', 'a?i', 'api-*', '*i', 'api-?', 'w*-*'];

const labelsArb = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 3 });

const selectorArb: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 }),
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({
          key: fc.constantFrom(...KEYS),
          operator: fc.constantFrom('In' as const, 'NotIn' as const),
          values: fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 2 }),
        }),
        fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
      ),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);

// Pod-targeted refs are weighted up: reaching controllers through their pods is the
// subtle path and should be exercised often.
const kindRefArb: fc.Arbitrary<KindRef> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ group: '', kind: 'Pod' }) },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        group: fc.constantFrom('', 'apps', '*', 'batch', 'rbac.authorization.k8s.io'),
        version: fc.constantFrom('v1', '*', 'v2'),
        kind: fc.constantFrom('Pod', 'Deployment', '*', 'Namespace', 'Job', 'ConfigMap', 'ClusterRole', 'Deploy*', 'P?d'),
      },
      { requiredKeys: ['group', 'kind'] },
    ),
  },
);

const fullTermArb = fc.record(
  {
    kinds: fc.array(kindRefArb, { maxLength: 2 }),
    names: fc.array(fc.constantFrom(...NAME_PATTERNS), { maxLength: 2 }),
    namespaces: fc.array(fc.constantFrom(...NS_PATTERNS), { maxLength: 2 }),
    excludedNamespaces: fc.array(fc.constantFrom(...NS_PATTERNS), { maxLength: 2 }),
    namespaceSelector: selectorArb,
    selector: selectorArb,
    annotations: fc.dictionary(fc.constantFrom('owner', 'own*', 'note'), fc.constantFrom('me', 'm*', '*', 'you'), { maxKeys: 1 }),
    operations: fc.array(fc.constantFrom('CREATE', 'UPDATE', 'DELETE', '*', 'create'), { maxLength: 2 }),
    scope: fc.constantFrom('Cluster' as const, 'Namespaced' as const, '*' as const),
  },
  { requiredKeys: [] },
);

// Real terms set a few fields; a term with every field set almost never matches.
const TERM_FIELDS = [
  'kinds',
  'names',
  'namespaces',
  'excludedNamespaces',
  'namespaceSelector',
  'selector',
  'annotations',
  'operations',
  'scope',
] as const;
const termArb: fc.Arbitrary<ScopeTerm> = fc
  .tuple(fullTermArb, fc.subarray([...TERM_FIELDS], { maxLength: 3 }))
  .map(([full, keep]) => {
    const t: Record<string, unknown> = {};
    for (const k of keep) if (full[k] !== undefined) t[k] = full[k];
    return t as ScopeTerm;
  });

const baseScopeArb: fc.Arbitrary<Scope> = fc
  .tuple(
    termArb,
    fc.option(fc.array(termArb, { maxLength: 3 }), { nil: undefined, freq: 2 }),
    fc.option(fc.array(termArb, { maxLength: 2 }), { nil: undefined, freq: 2 }),
    fc.option(fc.constantFrom([], ['Deployment'], ['Job', 'CronJob']), { nil: undefined }),
  )
  .map(([t, any, all, autogen]) => {
    const s: Scope = { ...t };
    if (any) s.any = any;
    if (all) s.all = all;
    if (autogen) s.autogen = [...autogen];
    return s;
  });

const scopeArb: fc.Arbitrary<Scope> = fc
  .tuple(baseScopeArb, fc.option(fc.array(baseScopeArb, { maxLength: 2 }), { nil: undefined }))
  .map(([s, exclude]) => (exclude ? { ...s, exclude } : s));

const TARGET_KINDS = [
  { group: '', version: 'v1', kind: 'Pod', namespaced: true, pods: 'self' },
  { group: 'apps', version: 'v1', kind: 'Deployment', namespaced: true, pods: 'template' },
  { group: 'batch', version: 'v1', kind: 'Job', namespaced: true, pods: 'template' },
  { group: '', version: 'v1', kind: 'ConfigMap', namespaced: true, pods: 'none' },
  { group: '', version: 'v1', kind: 'Namespace', namespaced: false, pods: 'none' },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', namespaced: false, pods: 'none' },
] as const;

const annotationsArb = fc.dictionary(fc.constantFrom('owner', 'owner2', 'note'), fc.constantFrom('me', 'mine', 'you'), { maxKeys: 2 });

const targetArb: fc.Arbitrary<ScopeSubject> = fc
  .record({
    // Controllers twice as often: they are the targets with two views.
    k: fc.constantFrom(...TARGET_KINDS, TARGET_KINDS[1], TARGET_KINDS[2]),
    name: fc.constantFrom(...NAMES, ...NAMESPACES),
    ns: fc.constantFrom(...NAMESPACES),
    labels: labelsArb,
    annotations: annotationsArb,
    nsLabels: labelsArb,
    podLabels: labelsArb,
    podAnnotations: fc.option(annotationsArb, { nil: undefined }),
    op: fc.option(fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT'), { nil: undefined }),
  })
  .map((r) => {
    const t: ScopeSubject = {
      group: r.k.group,
      version: r.k.version,
      kind: r.k.kind,
      name: r.name,
      labels: r.labels,
      annotations: r.annotations,
      namespaceLabels: r.nsLabels,
    };
    if (r.k.namespaced) t.namespace = r.ns;
    if (r.k.kind === 'Namespace') t.namespaceLabels = r.labels;
    if (r.k.pods === 'self') t.podLabels = r.labels;
    if (r.k.pods === 'template') {
      t.podLabels = r.podLabels;
      if (r.podAnnotations) t.podAnnotations = r.podAnnotations;
    }
    if (r.op) t.operation = r.op;
    return t;
  });

describe('evaluateScope properties', () => {
  it('agrees with the reference implementation', () => {
    fc.assert(
      fc.property(scopeArb, targetArb, (s, t) => {
        const expected = refApplies(s, t);
        const v = evaluateScope(s, t);
        expect(v.applies).toBe(expected);
        expect(scopeApplies(s, t)).toBe(expected);
        expect(v.reasons.length).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with the reference on pod controllers (two views)', () => {
    const controllers = targetArb.filter((t) => t.kind === 'Deployment' || t.kind === 'Job');
    fc.assert(
      fc.property(scopeArb, controllers, (s, t) => {
        expect(evaluateScope(s, t).applies).toBe(refApplies(s, t));
      }),
      { numRuns: 3000 },
    );
  });

  it('finds matches often enough to be meaningful', () => {
    const samples = fc.sample(fc.tuple(baseScopeArb, targetArb), 2000);
    const hits = samples.filter(([s, t]) => refApplies(s, t)).length;
    expect(hits).toBeGreaterThan(100);
    expect(hits).toBeLessThan(1900);
  });

  it('exclusion always wins: excluding the scope itself (or everything) matches nothing', () => {
    fc.assert(
      fc.property(scopeArb, targetArb, (s, t) => {
        const { exclude, ...base } = s;
        expect(evaluateScope({ ...s, exclude: [...(exclude ?? []), base] }, t).applies).toBe(false);
        expect(evaluateScope({ ...s, exclude: [{}] }, t).applies).toBe(false);
      }),
    );
  });

  it('an applying exclude on a target without pods always removes it', () => {
    const podless = targetArb.filter((t) => t.podLabels === undefined || (t.group === '' && t.kind === 'Pod'));
    fc.assert(
      fc.property(scopeArb, baseScopeArb, podless, (s, ex, t) => {
        fc.pre(evaluateScope(ex, t).applies);
        expect(evaluateScope({ ...s, exclude: [...(s.exclude ?? []), ex] }, t).applies).toBe(false);
      }),
    );
  });

  it('an empty scope matches everything', () => {
    fc.assert(
      fc.property(targetArb, (t) => {
        const v = evaluateScope({}, t);
        expect(v.applies).toBe(true);
        expect(v.reasons).toEqual(['scope has no restrictions: matches every object']);
        expect(evaluateScope({ any: [], all: [], exclude: [], kinds: [], namespaces: [] }, t).applies).toBe(true);
      }),
    );
  });

  it('candidateNamespaces never misses a namespace the scope applies in', () => {
    fc.assert(
      fc.property(scopeArb, targetArb, (s, t) => {
        fc.pre(t.namespace !== undefined);
        const cand = candidateNamespaces(s);
        if (cand !== 'all' && evaluateScope(s, t).applies) expect(cand.has(t.namespace!)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('globs', () => {
  it('globMatch agrees with a regex translation', () => {
    const ch = fc.constantFrom('a', 'b', '-', '*', '?');
    fc.assert(
      fc.property(fc.string({ unit: ch, maxLength: 6 }), fc.string({ unit: fc.constantFrom('a', 'b', '-'), maxLength: 6 }), (p, v) => {
        expect(globMatch(p, v)).toBe(globRe(p).test(v));
      }),
      { numRuns: 3000 },
    );
  });

  it('globCanMatchPrefixed agrees with brute force', () => {
    const ch = fc.constantFrom('a', 'b', '-', '*', '?');
    fc.assert(
      fc.property(fc.string({ unit: ch, maxLength: 5 }), fc.string({ unit: fc.constantFrom('a', 'b', '-'), maxLength: 4 }), (p, prefix) => {
        expect(globCanMatchPrefixed(p, prefix)).toBe(refPrefixed(p, prefix));
      }),
      { numRuns: 2000 },
    );
  });

  it('handles the Gatekeeper shapes', () => {
    expect(globMatch('kube-*', 'kube-system')).toBe(true);
    expect(globMatch('kube-*', 'kube')).toBe(false);
    expect(globMatch('*-system', 'gatekeeper-system')).toBe(true);
    expect(globMatch('*-system', 'system')).toBe(false);
    expect(globMatch('default', 'default')).toBe(true);
    expect(globMatch('default', 'defaults')).toBe(false);
  });
});

const deployment = (over: Partial<ScopeSubject> = {}): ScopeSubject => ({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  name: 'api',
  namespace: 'payments',
  labels: { owner: 'team-pay' },
  annotations: {},
  namespaceLabels: { team: 'pay', 'kubernetes.io/metadata.name': 'payments' },
  podLabels: { app: 'api' },
  ...over,
});

describe('evaluateScope examples', () => {
  it('explains a namespaceSelector and a pod selector reached through the pods', () => {
    const v = evaluateScope(
      { kinds: [{ group: '', kind: 'Pod' }], namespaceSelector: { matchLabels: { team: 'pay' } }, selector: { matchLabels: { app: 'api' } } },
      deployment(),
    );
    expect(v.applies).toBe(true);
    expect(v.reasons).toContain('applies to the pods it creates (Pod payments/api-*)');
    expect(v.reasons).toContain('autogen includes Deployment: the Deployment itself is checked too');
    expect(v.reasons).toContain('namespace payments matches namespaceSelector team=pay');
    expect(v.reasons).toContain('pod labels app=api match selector app=api');
  });

  it('records when autogen does not reach the controller, without changing the verdict', () => {
    const v = evaluateScope({ kinds: [{ group: '', kind: 'Pod' }], autogen: [] }, deployment());
    expect(v.applies).toBe(true);
    expect(v.reasons).toContain('autogen does not include Deployment: only the pods it creates are checked');
    const w = evaluateScope({ kinds: [{ group: '', kind: 'Pod' }], autogen: ['StatefulSet'] }, deployment());
    expect(w.reasons).toContain('autogen does not include Deployment: only the pods it creates are checked');
  });

  it('matches a controller kind directly against its own labels', () => {
    const s: Scope = { kinds: [{ group: 'apps', kind: 'Deployment' }], selector: { matchLabels: { app: 'api' } } };
    expect(evaluateScope(s, deployment()).applies).toBe(false);
    expect(evaluateScope(s, deployment({ labels: { app: 'api' } })).applies).toBe(true);
  });

  it('does not mix the controller and its pods within one scope', () => {
    // No single object is both a Deployment and a Pod.
    const s: Scope = {
      all: [
        { kinds: [{ group: 'apps', kind: 'Deployment' }] },
        { kinds: [{ group: '', kind: 'Pod' }], selector: { matchLabels: { app: 'api' } } },
      ],
    };
    expect(evaluateScope(s, deployment()).applies).toBe(false);
  });

  it('reports excludedNamespaces the way people read it', () => {
    const v = evaluateScope({ excludedNamespaces: ['kube-*'] }, deployment({ namespace: 'kube-system' }));
    expect(v.applies).toBe(false);
    expect(v.reasons).toContain('excluded: namespace kube-system is in excludedNamespaces [kube-*]');
  });

  it('reports exclude blocks', () => {
    const v = evaluateScope(
      { kinds: [{ group: '', kind: 'Pod' }], exclude: [{ namespaces: ['payments'] }] },
      { ...deployment(), group: '', kind: 'Pod', podLabels: { app: 'api' } },
    );
    expect(v.applies).toBe(false);
    expect(v.reasons.at(-1)).toBe('excluded by exclude[0]: namespace payments matches namespaces [payments]');
  });

  describe('cluster-scoped targets (Gatekeeper semantics)', () => {
    const clusterRole = clusterRoleSubject;
    const ns = namespaceSubject;

    it('namespace criteria never disqualify a cluster-scoped object', () => {
      const v = evaluateScope(
        { namespaces: ['payments'], excludedNamespaces: ['*'], namespaceSelector: { matchLabels: { team: 'pay' } } },
        clusterRole,
      );
      expect(v.applies).toBe(true);
      expect(v.reasons).toContain('cluster-scoped ClusterRole admin is not restricted by namespaces [payments]');
    });

    it('a Namespace is judged by its own name and labels', () => {
      expect(evaluateScope({ namespaces: ['payments'] }, ns('payments', {})).applies).toBe(true);
      expect(evaluateScope({ namespaces: ['payments'] }, ns('default', {})).applies).toBe(false);
      expect(evaluateScope({ excludedNamespaces: ['kube-*'] }, ns('kube-system', {})).applies).toBe(false);
      const sel = { namespaceSelector: { matchLabels: { team: 'pay' } } };
      expect(evaluateScope(sel, ns('payments', { team: 'pay' })).applies).toBe(true);
      expect(evaluateScope(sel, ns('payments', {})).applies).toBe(false);
    });

    it('scope Cluster / Namespaced', () => {
      expect(evaluateScope({ scope: 'Cluster' }, clusterRole).applies).toBe(true);
      expect(evaluateScope({ scope: 'Cluster' }, ns('a', {})).applies).toBe(true);
      expect(evaluateScope({ scope: 'Namespaced' }, ns('a', {})).applies).toBe(false);
      expect(evaluateScope({ scope: 'Namespaced' }, deployment()).applies).toBe(true);
      expect(evaluateScope({ scope: 'Cluster' }, deployment()).applies).toBe(false);
    });
  });

  it('absent vs empty selectors', () => {
    expect(evaluateScope({ selector: {} }, deployment({ labels: {} })).applies).toBe(true);
    expect(evaluateScope({ namespaceSelector: {} }, deployment({ namespaceLabels: {} })).applies).toBe(true);
    expect(evaluateScope({ namespaceSelector: { matchLabels: { x: 'y' } } }, deployment()).applies).toBe(false);
  });

  it('names reach generated pod names', () => {
    const pod: Scope = { kinds: [{ group: '', kind: 'Pod' }] };
    expect(evaluateScope({ ...pod, names: ['api-*'] }, deployment()).applies).toBe(true);
    // Pods of Deployment "api" are named api-<hash>-<id>, never exactly "api".
    expect(evaluateScope({ ...pod, names: ['api'] }, deployment()).applies).toBe(false);
    expect(evaluateScope({ names: ['api'] }, deployment()).applies).toBe(true);
  });

  it('operations: absent on the target means any; UPDATE of a controller creates pods', () => {
    const s: Scope = { kinds: [{ group: '', kind: 'Pod' }], operations: ['CREATE'] };
    expect(evaluateScope(s, deployment()).applies).toBe(true);
    expect(evaluateScope(s, deployment({ operation: 'UPDATE' })).applies).toBe(true);
    expect(evaluateScope(s, deployment({ operation: 'DELETE' })).applies).toBe(false);
    expect(evaluateScope({ operations: ['*'] }, deployment({ operation: 'DELETE' })).applies).toBe(true);
  });

  it('annotations: all must match, with wildcards', () => {
    const t = deployment({ annotations: { owner: 'me', note: 'x' } });
    expect(evaluateScope({ annotations: { owner: 'me' } }, t).applies).toBe(true);
    expect(evaluateScope({ annotations: { owner: 'm*', note: '?' } }, t).applies).toBe(true);
    expect(evaluateScope({ annotations: { owner: 'me', other: '*' } }, t).applies).toBe(false);
    expect(evaluateScope({ annotations: { 'own*': 'me' } }, t).applies).toBe(true);
  });

  it('any needs one, all needs every', () => {
    const t = deployment();
    expect(evaluateScope({ any: [{ namespaces: ['x'] }, { namespaces: ['payments'] }] }, t).applies).toBe(true);
    expect(evaluateScope({ any: [{ namespaces: ['x'] }, { namespaces: ['y'] }] }, t).applies).toBe(false);
    expect(evaluateScope({ all: [{ namespaces: ['payments'] }, { namespaces: ['pay*'] }] }, t).applies).toBe(true);
    expect(evaluateScope({ all: [{ namespaces: ['payments'] }, { namespaces: ['x'] }] }, t).applies).toBe(false);
  });

  it('kinds with group/version wildcards', () => {
    const t = deployment();
    expect(evaluateScope({ kinds: [{ group: 'apps', version: 'v1', kind: 'Deployment' }] }, t).applies).toBe(true);
    expect(evaluateScope({ kinds: [{ group: 'apps', version: 'v2', kind: 'Deployment' }] }, t).applies).toBe(false);
    expect(evaluateScope({ kinds: [{ group: '*', kind: 'Deploy*' }] }, t).applies).toBe(true);
    expect(evaluateScope({ kinds: [{ group: '', kind: 'Deployment' }] }, t).applies).toBe(false);
  });
});

describe('candidateNamespaces', () => {
  it('narrows only on literal names', () => {
    expect(candidateNamespaces({})).toBe('all');
    expect(candidateNamespaces({ namespaces: ['kube-*'] })).toBe('all');
    expect([...(candidateNamespaces({ namespaces: ['a', 'b'] }) as Set<string>)]).toEqual(['a', 'b']);
    expect([...(candidateNamespaces({ namespaces: ['a', 'b'], all: [{ namespaces: ['b', 'c'] }] }) as Set<string>)]).toEqual(['b']);
    expect([...(candidateNamespaces({ any: [{ namespaces: ['a'] }, { namespaces: ['b'] }] }) as Set<string>)]).toEqual(['a', 'b']);
    expect(candidateNamespaces({ any: [{ namespaces: ['a'] }, {}] })).toBe('all');
  });
});
