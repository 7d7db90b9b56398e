import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  type Quantity,
  type QuantityFormat,
  parseQuantity,
  mustParseQuantity,
  formatQuantity,
  compareQuantity,
  equalQuantity,
  addQuantity,
  subQuantity,
  quantityFromInteger,
  quantityAsInteger,
  quantityAsApproximateFloat,
  quantityIsInteger,
  quantitySign,
  quantityMilliValue,
  quantityValue,
  isQuantity,
} from './quantity.js';

const NANO = 1_000_000_000n;
const q = mustParseQuantity;

describe('parseQuantity / formatQuantity', () => {
  it.each([
    ['0', '0', 0n],
    ['-0', '0', 0n],
    ['+1', '1', NANO],
    ['1', '1', NANO],
    ['1.', '1', NANO],
    ['.5', '500m', NANO / 2n],
    ['0.1', '100m', NANO / 10n],
    ['1.5', '1500m', (NANO * 3n) / 2n],
    ['100m', '100m', NANO / 10n],
    ['1000m', '1', NANO],
    ['1000', '1k', 1000n * NANO],
    ['1500', '1500', 1500n * NANO],
    ['1k', '1k', 1000n * NANO],
    ['1M', '1M', 10n ** 6n * NANO],
    ['1G', '1G', 10n ** 9n * NANO],
    ['1T', '1T', 10n ** 12n * NANO],
    ['1P', '1P', 10n ** 15n * NANO],
    ['1E', '1E', 10n ** 18n * NANO],
    ['1000E', '1000E', 10n ** 21n * NANO],
    ['1n', '1n', 1n],
    ['1u', '1u', 1000n],
    ['1000u', '1m', 10n ** 6n],
    ['1Ki', '1Ki', 1024n * NANO],
    ['1Mi', '1Mi', 1024n ** 2n * NANO],
    ['1Gi', '1Gi', 1024n ** 3n * NANO],
    ['1Ti', '1Ti', 1024n ** 4n * NANO],
    ['1Pi', '1Pi', 1024n ** 5n * NANO],
    ['1Ei', '1Ei', 1024n ** 6n * NANO],
    ['1024Mi', '1Gi', 1024n ** 3n * NANO],
    ['1.5Gi', '1536Mi', 1536n * 1024n ** 2n * NANO],
    ['0.5Ki', '512', 512n * NANO],
    ['1500Ki', '1500Ki', 1500n * 1024n * NANO],
    ['1e3', '1e3', 1000n * NANO],
    ['1E3', '1e3', 1000n * NANO],
    ['1e+3', '1e3', 1000n * NANO],
    ['12e6', '12e6', 12n * 10n ** 6n * NANO],
    ['1.1e5', '110e3', 110_000n * NANO],
    ['1e-3', '1e-3', 10n ** 6n],
    ['-1.5e-3', '-1500e-6', -1_500_000n],
    ['1e0', '1', NANO],
    ['-1Ki', '-1Ki', -1024n * NANO],
    ['-100m', '-100m', -(NANO / 10n)],
  ])('%s -> %s', (src, canonical, nanos) => {
    const r = parseQuantity(src);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.nanos).toBe(nanos);
    expect(formatQuantity(r.value)).toBe(canonical);
  });

  it('rounds amounts finer than a nano away from zero, like the apiserver', () => {
    expect(formatQuantity(q('0.0000000001'))).toBe('1n');
    expect(formatQuantity(q('-0.0000000001'))).toBe('-1n');
    expect(formatQuantity(q('1.0000000001'))).toBe('1000000001n');
    expect(q('0.1n').nanos).toBe(1n);
    expect(q('1e-20').nanos).toBe(1n);
  });

  it('caps BinarySI at 2^63-1 and switches sub-unit BinarySI to DecimalSI', () => {
    expect(formatQuantity(q('16Ei'))).toBe('9223372036854775807');
    expect(q('16Ei').nanos).toBe(9_223_372_036_854_775_807n * NANO);
    expect(q('0.5Ki').format).toBe('BinarySI');
    expect(q('0.0001Ki').format).toBe('DecimalSI');
    // DecimalSI is not capped.
    expect(q('100E').nanos).toBe(10n ** 20n * NANO);
  });

  it.each([
    '',
    ' 1',
    '1 ',
    '1Kb',
    'K',
    '1K',
    '1k2',
    '1.2.3',
    '--1',
    '+',
    '-',
    '.',
    'e3',
    '1e',
    '1e1.5',
    'Mi',
    '1mi',
    '1KI',
    '0x10',
    '1,5',
    '1e1001',
    'Infinity',
    'NaN',
    '1_000',
  ])('rejects %j', (src) => {
    const r = parseQuantity(src);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message.length).toBeGreaterThan(0);
    expect(isQuantity(src)).toBe(false);
  });

  it('explains the grammar in the error', () => {
    const r = parseQuantity('10 cores');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/invalid quantity '10 cores'.*suffix/);
  });

  it('rejects overlong input and non-strings', () => {
    expect(parseQuantity('1'.repeat(300)).ok).toBe(false);
    expect(parseQuantity(5 as unknown as string).ok).toBe(false);
  });
});

describe('arithmetic and conversions', () => {
  it('compares exactly across suffixes', () => {
    expect(equalQuantity(q('1Gi'), q('1073741824'))).toBe(true);
    expect(equalQuantity(q('0.1'), q('100m'))).toBe(true);
    expect(compareQuantity(q('1k'), q('1Ki'))).toBe(-1);
    expect(compareQuantity(q('1Ki'), q('1k'))).toBe(1);
    expect(compareQuantity(q('-1'), q('1n'))).toBe(-1);
    expect(compareQuantity(q('1e3'), q('1k'))).toBe(0);
  });

  it('adds and subtracts keeping the left format (the right one when the left is zero)', () => {
    const s = addQuantity(q('1Gi'), q('512Mi'));
    expect(formatQuantity(s)).toBe('1536Mi');
    expect(formatQuantity(addQuantity(q('0'), q('1Ki')))).toBe('1Ki');
    expect(formatQuantity(subQuantity(q('1'), q('100m')))).toBe('900m');
    expect(formatQuantity(subQuantity(q('1Ki'), q('2Ki')))).toBe('-1Ki');
    expect(formatQuantity(addQuantity(q('100m'), quantityFromInteger(2)))).toBe('2100m');
  });

  it('asInteger errors when not integral or out of int64', () => {
    expect(quantityAsInteger(q('2k'))).toEqual({ ok: true, value: 2000n });
    const frac = quantityAsInteger(q('1500m'));
    expect(frac.ok).toBe(false);
    if (!frac.ok) expect(frac.error.message).toBe('quantity 1500m is not an integer');
    const big = quantityAsInteger(q('10E'));
    expect(big.ok).toBe(false);
    if (!big.ok) expect(big.error.message).toMatch(/overflows int64/);
    expect(quantityIsInteger(q('1500m'))).toBe(false);
    expect(quantityIsInteger(q('1Gi'))).toBe(true);
    expect(quantityIsInteger(q('10E'))).toBe(false);
  });

  it('approximates floats, milli and unit values (rounding away from zero)', () => {
    expect(quantityAsApproximateFloat(q('1500m'))).toBe(1.5);
    expect(quantityAsApproximateFloat(q('1Gi'))).toBe(1073741824);
    expect(quantityAsApproximateFloat(q('-250m'))).toBe(-0.25);
    expect(quantityMilliValue(q('1.5'))).toBe(1500n);
    expect(quantityMilliValue(q('1n'))).toBe(1n);
    expect(quantityMilliValue(q('-1n'))).toBe(-1n);
    expect(quantityValue(q('100m'))).toBe(1n);
    expect(quantityValue(q('2Ki'))).toBe(2048n);
  });

  it('reports the sign', () => {
    expect(quantitySign(q('-1m'))).toBe(-1);
    expect(quantitySign(q('0'))).toBe(0);
    expect(quantitySign(q('3Gi'))).toBe(1);
  });
});

// ---- properties

const INT64_MAX = 9_223_372_036_854_775_807n;
const FORMATS: QuantityFormat[] = ['DecimalSI', 'BinarySI', 'DecimalExponent'];

const arbQuantity: fc.Arbitrary<Quantity> = fc
  .record({
    nanos: fc.oneof(
      fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
      fc.bigInt({ min: -INT64_MAX, max: INT64_MAX }).map((n) => n * NANO),
      fc.bigInt({ min: -INT64_MAX * NANO, max: INT64_MAX * NANO }),
      fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }).map((n) => n * 1024n * NANO),
    ),
    format: fc.constantFrom(...FORMATS),
  })
  .map((x) => x);

/** Multipliers written out independently of the implementation, in nanos. */
const SUFFIX_NANOS: Record<string, bigint> = {
  n: 1n,
  u: 1_000n,
  m: 1_000_000n,
  '': 1_000_000_000n,
  k: 1_000_000_000_000n,
  M: 1_000_000_000_000_000n,
  G: 1_000_000_000_000_000_000n,
  T: 10n ** 21n,
  P: 10n ** 24n,
  E: 10n ** 27n,
  Ki: 1024n * NANO,
  Mi: 1024n * 1024n * NANO,
  Gi: 1024n * 1024n * 1024n * NANO,
  Ti: 1024n ** 4n * NANO,
  e3: 10n ** 12n,
  'e-3': 10n ** 6n,
  e6: 10n ** 15n,
};

describe('properties', () => {
  it('parse(format(x)) round-trips the value, and canonical text is a fixed point', () => {
    fc.assert(
      fc.property(arbQuantity, (x) => {
        const s = formatQuantity(x);
        const back = parseQuantity(s);
        expect(back.ok).toBe(true);
        if (!back.ok) return;
        expect(back.value.nanos).toBe(x.nanos);
        // A BinarySI amount that is no multiple of 1024 prints without suffix and so
        // re-parses as DecimalSI (as in apimachinery); from there the text is stable.
        const s2 = formatQuantity(back.value);
        expect(formatQuantity(q(s2))).toBe(s2);
        if (x.format !== 'BinarySI') expect(s2).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('compare agrees with numeric order across suffixes', () => {
    const arbLit = fc.record({
      sign: fc.constantFrom('', '-', '+'),
      int: fc.bigInt({ min: 0n, max: 10n ** 6n }),
      frac: fc.constantFrom('', '5', '25', '125'),
      suffix: fc.constantFrom('', 'k', 'M', 'G', 'Ki', 'Mi', 'Gi', 'e3', 'e6', 'm'),
    });
    const expected = (l: { sign: string; int: bigint; frac: string; suffix: string }) => {
      const mult = SUFFIX_NANOS[l.suffix] as bigint;
      const scaled = (l.int * 10n ** BigInt(l.frac.length) + BigInt(l.frac || '0')) * mult;
      const v = scaled / 10n ** BigInt(l.frac.length);
      return l.sign === '-' ? -v : v;
    };
    const text = (l: { sign: string; int: bigint; frac: string; suffix: string }) =>
      `${l.sign}${l.int}${l.frac ? '.' + l.frac : ''}${l.suffix}`;
    fc.assert(
      fc.property(arbLit, arbLit, (a, b) => {
        const qa = q(text(a));
        const qb = q(text(b));
        const ea = expected(a);
        const eb = expected(b);
        expect(qa.nanos).toBe(ea);
        expect(compareQuantity(qa, qb)).toBe(ea < eb ? -1 : ea > eb ? 1 : 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('scaling laws: Nk == N*1000, NKi == N*1024, and so on up the suffixes', () => {
    const laws: [string, bigint][] = [
      ['k', 1000n],
      ['M', 1000n ** 2n],
      ['G', 1000n ** 3n],
      ['T', 1000n ** 4n],
      ['Ki', 1024n],
      ['Mi', 1024n ** 2n],
      ['Gi', 1024n ** 3n],
      ['Ti', 1024n ** 4n],
    ];
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 20n), max: 2n ** 20n }), fc.constantFrom(...laws), (n, [suffix, factor]) => {
        expect(equalQuantity(q(`${n}${suffix}`), q(`${n * factor}`))).toBe(true);
        expect(equalQuantity(q(`${n}m`), q(`${n}e-3`))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('add/sub are exact inverses and agree with compare', () => {
    fc.assert(
      fc.property(arbQuantity, arbQuantity, (a, b) => {
        const s = addQuantity(a, b);
        expect(subQuantity(s, b).nanos).toBe(a.nanos);
        expect(compareQuantity(s, a)).toBe(quantitySign(b));
      }),
    );
  });
});
