import { beforeAll, describe, expect, it } from 'vitest';
import type { CompiledPack } from '../../engine/pack/loader.js';
import { loadAllPacks } from '../packs.js';
import { compileProfile, profileStatus } from './profiles.js';

let builtins: CompiledPack[];
beforeAll(async () => {
  builtins = (await loadAllPacks()).packs;
});

const profile = (spec: Record<string, unknown>, generation = 3) => ({ apiVersion: 'potoo.io/v1alpha1', kind: 'ConstraintProfile', metadata: { name: 'p', uid: 'u1', generation }, spec });
const target = { group: 'acme.io', resource: 'fences' };
const now = new Date('2026-01-01T00:00:00Z');

describe('compileProfile', () => {
  it('reuses a built-in adapter by name for the target, with a severity override', () => {
    const p = compileProfile(profile({ target, adapter: 'networkpolicy/ingress', severity: 'Critical' }), builtins);
    expect(p.problems).toEqual([]);
    expect(p.adapter).toBe('networkpolicy/ingress');
    expect(p.pack?.name).toBe('profile.p');
    expect(p.pack?.adapters.map((a) => [a.name, a.match])).toEqual([['ingress', { group: 'acme.io', resources: ['fences'] }]]);
    expect(p.target).toEqual({ profile: 'p', group: 'acme.io', resource: 'fences', enabled: true });
  });

  it('takes inline adapter rules, defaulting match to the target', () => {
    const p = compileProfile(profile({ target, adapters: [{ name: 'r', emit: { type: 'Fence', effect: 'deny', severity: 'Info', scope: {}, summary: 'x' } }] }), builtins);
    expect(p.problems).toEqual([]);
    expect(p.adapter).toBe('inline');
    expect(p.pack?.adapters[0]?.match).toEqual({ group: 'acme.io', resources: ['fences'] });
  });

  it('broken inline rules are Invalid, with the field path in the profile', () => {
    const p = compileProfile(profile({ target, adapters: [{ name: 'r', emit: { type: 'X', effect: '{{ object.spec. }}', severity: 'Info', scope: {}, summary: 'x' } }] }), builtins);
    expect(p.pack).toBeUndefined();
    expect(p.reason).toBe('InvalidRules');
    expect(p.problems[0]).toMatchObject({ rule: 'r', field: 'spec.adapters[0].emit.effect', file: 'constraintprofile p' });
    const st = profileStatus(p, { servedVersion: 'v1', objects: 0, constraints: 0 }, undefined, now);
    expect(st.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Accepted', 'False', 'InvalidRules'],
      ['Invalid', 'True', 'InvalidRules'],
      ['Served', 'True', 'Served'],
    ]);
    expect(st.conditions.every((c) => c.observedGeneration === 3)).toBe(true);
  });

  it('an unknown adapter name lists the ones that exist', () => {
    const p = compileProfile(profile({ target, adapter: 'nope' }), builtins);
    expect(p.reason).toBe('UnknownAdapter');
    expect(p.problems[0]?.message).toMatch(/no rule pack named nope; packs with adapters: .*networkpolicy/);
  });

  it('disabled and registration-only profiles', () => {
    expect(compileProfile(profile({ target, enabled: false }), builtins)).toMatchObject({ reason: 'Disabled', pack: undefined, target: { enabled: false } });
    expect(compileProfile(profile({ target }), builtins)).toMatchObject({ reason: 'Loaded', adapter: 'generic', pack: undefined });
    expect(compileProfile(profile({}), builtins).reason).toBe('InvalidSpec');
  });

  it('status keeps transition times while a condition holds, and says when the target is not served', () => {
    const p = compileProfile(profile({ target }), builtins);
    const first = profileStatus(p, { servedVersion: undefined, objects: 0, constraints: 0 }, undefined, now);
    expect(first.conditions.find((c) => c.type === 'Served')).toMatchObject({ status: 'False', reason: 'NotServed' });
    const later = profileStatus(p, { servedVersion: undefined, objects: 0, constraints: 0 }, first, new Date('2026-01-02T00:00:00Z'));
    expect(later).toEqual(first);
    const served = profileStatus(p, { servedVersion: 'v1', objects: 2, constraints: 2 }, first, new Date('2026-01-02T00:00:00Z'));
    expect(served.conditions.find((c) => c.type === 'Served')?.lastTransitionTime).toBe('2026-01-02T00:00:00Z');
    expect(served.conditions.find((c) => c.type === 'Accepted')?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });
});
