import { describe, expect, it } from 'vitest';
import type { Attribution } from '../../engine/model.js';
import { loadAllPacks } from '../packs.js';
import { companionResources } from './requirements.js';
import { bestAttributions, isOwnEvent } from './signals.js';

function attribution(id: string, confidence: number, constraintIds: string[]): Attribution {
  return { id, rule: { pack: 'p', rule: id }, signal: { kind: 'event', ref: 'x' }, constraintIds, confidence, severity: 'Warning', explanation: '', details: {} };
}

describe('signal pipeline helpers', () => {
  it("never correlates Potoo's own Events, whichever API wrote them", () => {
    expect(isOwnEvent({ reportingController: 'potoo.io/controller' })).toBe(true);
    expect(isOwnEvent({ reportingComponent: 'potoo.io/controller' })).toBe(true);
    expect(isOwnEvent({ source: { component: 'potoo.io/controller' } })).toBe(true);
    expect(isOwnEvent({ reportingComponent: 'replicaset-controller', source: { component: 'replicaset-controller' } })).toBe(false);
    expect(isOwnEvent({})).toBe(false);
  });

  it('notifies the best attributions that name a constraint, not every guess', () => {
    expect(bestAttributions([])).toEqual([]);
    expect(bestAttributions([attribution('a', 0.3, [])])).toEqual([]);
    const got = bestAttributions([attribution('a', 0.97, ['c1']), attribution('b', 0.97, ['c2']), attribution('c', 0.5, ['c3']), attribution('d', 0.99, [])]);
    expect(got.map((a) => a.id)).toEqual(['a', 'b']);
  });

  it('derives the companion resources to watch from the built-in requirement rules', async () => {
    const { packs } = await loadAllPacks([], { builtins: true });
    const got = companionResources(packs).map((r) => `${r.group}/${r.resource}`);
    for (const want of ['/services', 'monitoring.coreos.com/servicemonitors', 'monitoring.coreos.com/podmonitors', 'cert-manager.io/issuers', 'cert-manager.io/clusterissuers', 'security.istio.io/peerauthentications', 'networking.istio.io/virtualservices', 'cert-manager.io/certificates', 'networking.k8s.io/ingresses']) {
      expect(got).toContain(want);
    }
  });
});
