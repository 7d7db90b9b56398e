import { describe, it, expect } from 'vitest';
import { compileSafeRegex, RegexCache, MAX_PATTERN_LENGTH, MAX_INPUT_LENGTH, type SafeRegex } from './regex.js';

function re(p: string): SafeRegex {
  const r = compileSafeRegex(p);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('compileSafeRegex', () => {
  it('searches unanchored, like Go MatchString', () => {
    expect(re('b+').test('abbbc')).toBe(true);
    expect(re('^b').test('abc')).toBe(false);
    expect(re('(?i)ABC').test('xabcx')).toBe(true);
    expect(compileSafeRegex('abc', { caseInsensitive: true }).ok && re('abc').test('ABC')).toBe(false);
    const ci = compileSafeRegex('abc', { caseInsensitive: true });
    expect(ci.ok && ci.value.test('ABC')).toBe(true);
  });

  it('supports (?<name>) and (?P<name>) named groups', () => {
    const msg = 'Error creating: pods "x" is forbidden: exceeded quota: q1, requested: cpu=2, used: cpu=1';
    const m = re('exceeded quota: (?<quota>[^,]+), requested: (?P<req>\\S+)').exec(msg);
    expect(m).not.toBeNull();
    expect(m?.groups).toEqual({ quota: 'q1', req: 'cpu=2,' });
    expect(m?.captures).toEqual(['exceeded quota: q1, requested: cpu=2,', 'q1', 'cpu=2,']);
    expect(m?.index).toBe(msg.indexOf('exceeded'));
    expect(re('(?<a>x)?(?<b>y)').groupNames).toEqual(['a', 'b']);
  });

  it("gives '' for groups that did not take part", () => {
    const m = re('(?<a>x)?(?<b>y)').exec('y');
    expect(m?.groups).toEqual({ a: '', b: 'y' });
    expect(m?.captures).toEqual(['y', '', 'y']);
  });

  it('returns null when nothing matches', () => {
    expect(re('z').exec('abc')).toBeNull();
  });

  it('findAll returns successive matches up to a limit', () => {
    const r = re('[0-9]+');
    expect(r.findAll('a1b22c333').map((m) => m.match)).toEqual(['1', '22', '333']);
    expect(r.findAll('a1b22c333', 2).map((m) => m.match)).toEqual(['1', '22']);
    expect(r.findAll('a1b22c333', 0)).toEqual([]);
    expect(r.findAll('abc')).toEqual([]);
    expect(re('x*').findAll('ab').length).toBe(3);
  });

  it('matches pathological patterns in linear time: (a+)+$ on 50k a\'s and a !', () => {
    const input = 'a'.repeat(50_000) + '!';
    const r = re('(a+)+$');
    const t0 = Date.now();
    expect(r.test(input)).toBe(false);
    expect(r.exec(input)).toBeNull();
    expect(re('(x+x+)+y').test('x'.repeat(50_000))).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it.each([
    ['(', /missing closing \)/],
    ['a{2000}', /invalid repeat count/],
    ['(?=x)', /invalid or unsupported Perl syntax/],
    ['\\1', /invalid escape sequence/],
    ['[z-a]', /invalid character class range/],
  ])('rejects %j with a message', (p, why) => {
    const r = compileSafeRegex(p);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toContain(`invalid regular expression '${p}'`);
      expect(r.error.message).toMatch(why);
    }
  });

  it('bounds pattern length and program size', () => {
    const long = compileSafeRegex('a'.repeat(MAX_PATTERN_LENGTH + 1));
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.error.message).toMatch(/longer than 2000/);
    const big = compileSafeRegex('((((a{1,100}){1,10}){1,10}))');
    expect(big.ok).toBe(false);
    if (!big.ok) expect(big.error.message).toMatch(/too complex|invalid repeat count/);
    const wide = compileSafeRegex('[a-z]{1,1000}'.repeat(20));
    expect(wide.ok).toBe(false);
    if (!wide.ok) expect(wide.error.message).toMatch(/too complex/);
  });

  it('truncates inputs at MAX_INPUT_LENGTH', () => {
    const tail = 'x'.repeat(MAX_INPUT_LENGTH) + 'NEEDLE';
    expect(re('NEEDLE').test(tail)).toBe(false);
    expect(re('NEEDLE').test('x'.repeat(100) + 'NEEDLE')).toBe(true);
  });
});

describe('RegexCache', () => {
  it('caches results, including errors, and evicts beyond capacity', () => {
    const c = new RegexCache(2);
    const a = c.get('a+');
    expect(c.get('a+')).toBe(a);
    expect(c.get('(').ok).toBe(false);
    c.get('b');
    expect(c.get('a+')).not.toBe(a);
  });
});
