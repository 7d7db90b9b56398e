// Kubernetes resource.Quantity, exact.
//
// A quantity is held as a BigInt count of nano-units plus the format its suffix implied.
// Nano is the finest precision the apiserver keeps (ParseQuantity rounds anything finer
// up, away from zero), so every parsed value is an integer number of nanos and
// comparison/addition are exact: `1Gi == 1073741824`, `0.1 == 100m`.
//
// Parsing follows apimachinery's ParseQuantity on well-formed input, including its
// quirks: sub-nano amounts round away from zero, BinarySI magnitudes are capped at
// 2^63-1, and a BinarySI amount below 1 switches to DecimalSI. The grammar is the
// documented one (the apiserver's scanner also takes "+", "-" and "." as zero; we reject
// them as malformed). Formatting is the apiserver's canonical form, except that values
// past the largest suffix keep their value (`1000E`) where Go would drop the suffix.
import { type Result, ok, err } from './result.js';

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** The value in units of 10^-9. */
  readonly nanos: bigint;
  /** Which suffix family canonical formatting uses (the one the source string used). */
  readonly format: QuantityFormat;
}

const NANO = 1_000_000_000n;
const INT64_MAX = 9_223_372_036_854_775_807n;
const INT64_MIN = -9_223_372_036_854_775_808n;
/** Longer strings are not quantities anyone writes; bounding keeps BigInt work small. */
export const MAX_QUANTITY_LENGTH = 256;
/** Exponent bound for the `e`/`E` form, so `1e999999999` cannot allocate a huge BigInt. */
export const MAX_QUANTITY_EXPONENT = 1000;

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIX: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT = new Map<number, string>(Object.entries(DECIMAL_SUFFIX).map(([s, e]) => [e, s]));
const BINARY_BY_EXPONENT = new Map<number, string>(Object.entries(BINARY_SUFFIX).map(([s, e]) => [e / 10, s]));

const QUANTITY_RE = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

const POW10: bigint[] = [];
function pow10(n: number): bigint {
  if (n < 64) {
    let p = POW10[n];
    if (p === undefined) {
      p = 10n ** BigInt(n);
      POW10[n] = p;
    }
    return p;
  }
  return 10n ** BigInt(n);
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** n / d rounded away from zero (d > 0): the rounding the apiserver applies everywhere. */
function divAwayFromZero(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d === 0n ? q : n < 0n ? q - 1n : q + 1n;
}

export function parseQuantity(s: string): Result<Quantity> {
  if (typeof s !== 'string') return err('quantity must be a string');
  if (s.length === 0) return err('quantity is empty');
  if (s.length > MAX_QUANTITY_LENGTH) return err(`quantity is longer than ${MAX_QUANTITY_LENGTH} characters`);
  const m = QUANTITY_RE.exec(s);
  if (!m) {
    return err(
      `invalid quantity '${s}': expected a number with an optional suffix (n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or e<exponent>)`,
    );
  }
  const negative = m[1] === '-';
  const intDigits = m[2] ?? '0';
  const fracDigits = m[3] ?? m[4] ?? '';
  const suffix = m[5] ?? '';

  let format: QuantityFormat;
  let exp10 = 0;
  let exp2 = 0;
  if (suffix in BINARY_SUFFIX) {
    format = 'BinarySI';
    exp2 = BINARY_SUFFIX[suffix] as number;
  } else if (suffix in DECIMAL_SUFFIX) {
    format = 'DecimalSI';
    exp10 = DECIMAL_SUFFIX[suffix] as number;
  } else {
    format = 'DecimalExponent';
    const e = Number(suffix.slice(1));
    if (!Number.isSafeInteger(e) || Math.abs(e) > MAX_QUANTITY_EXPONENT) {
      return err(`invalid quantity '${s}': exponent out of range (|e| <= ${MAX_QUANTITY_EXPONENT})`);
    }
    exp10 = e;
  }

  // value = digits * 10^(exp10 - frac) * 2^exp2; in nanos that is a shift by 9.
  let magnitude = BigInt(intDigits + fracDigits) << BigInt(exp2);
  const shift = exp10 - fracDigits.length + 9;
  if (shift >= 0) magnitude *= pow10(shift);
  else magnitude = divAwayFromZero(magnitude, pow10(-shift));

  if (format === 'BinarySI') {
    if (magnitude > INT64_MAX * NANO) magnitude = INT64_MAX * NANO;
    if (magnitude > 0n && magnitude < NANO) format = 'DecimalSI';
  }
  return ok({ nanos: negative ? -magnitude : magnitude, format });
}

/** Parse or throw; for constants in code and tests. */
export function mustParseQuantity(s: string): Quantity {
  const r = parseQuantity(s);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

export function isQuantity(s: unknown): boolean {
  return typeof s === 'string' && parseQuantity(s).ok;
}

/** Canonical string, as the apiserver would serialize the quantity. */
export function formatQuantity(q: Quantity): string {
  const n = q.nanos;
  if (n === 0n) return '0';
  let format = q.format;
  if (format === 'BinarySI') {
    const a = abs(n);
    if (a < 1024n * NANO || a % NANO !== 0n) format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    let mantissa = n / NANO;
    let exp = 0;
    while (mantissa % 1024n === 0n && exp < 6) {
      mantissa /= 1024n;
      exp++;
    }
    return `${mantissa}${BINARY_BY_EXPONENT.get(exp) ?? ''}`;
  }
  let mantissa = n;
  let exp = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exp++;
  }
  const down = ((exp % 3) + 3) % 3;
  mantissa *= pow10(down);
  exp -= down;
  if (format === 'DecimalExponent') return exp === 0 ? `${mantissa}` : `${mantissa}e${exp}`;
  if (exp > 18) {
    mantissa *= pow10(exp - 18);
    exp = 18;
  }
  return `${mantissa}${DECIMAL_BY_EXPONENT.get(exp) ?? ''}`;
}

/** -1, 0 or 1, by numeric value (format is irrelevant). */
export function compareQuantity(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

export function equalQuantity(a: Quantity, b: Quantity): boolean {
  return a.nanos === b.nanos;
}

/** a + b, keeping a's format (b's when a is zero), as Quantity.Add does. */
export function addQuantity(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos + b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

export function subQuantity(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos - b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

/** A quantity holding an integer, in DecimalSI (what `resource.NewQuantity(n, DecimalSI)` gives). */
export function quantityFromInteger(n: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
  return { nanos: BigInt(n) * NANO, format };
}

export function quantitySign(q: Quantity): -1 | 0 | 1 {
  return q.nanos < 0n ? -1 : q.nanos > 0n ? 1 : 0;
}

/** True when the value is a whole number that fits int64 (Quantity.AsInt64's `ok`). */
export function quantityIsInteger(q: Quantity): boolean {
  if (q.nanos % NANO !== 0n) return false;
  const v = q.nanos / NANO;
  return v >= INT64_MIN && v <= INT64_MAX;
}

/** The integer value; an error when it has a fractional part or does not fit int64. */
export function quantityAsInteger(q: Quantity): Result<bigint> {
  if (q.nanos % NANO !== 0n) return err(`quantity ${formatQuantity(q)} is not an integer`);
  const v = q.nanos / NANO;
  if (v < INT64_MIN || v > INT64_MAX) return err(`quantity ${formatQuantity(q)} overflows int64`);
  return ok(v);
}

/** Nearest double; may lose precision, never fails (huge values become ±Infinity only past 1e308). */
export function quantityAsApproximateFloat(q: Quantity): number {
  const whole = q.nanos / NANO;
  const frac = q.nanos % NANO;
  return Number(whole) + Number(frac) / 1e9;
}

/**
 * The value in units of 10^scale, rounded away from zero (Quantity.ScaledValue): scale 0 is
 * `Value()`, -3 is `MilliValue()`.
 */
export function quantityScaledValue(q: Quantity, scale: number): bigint {
  const shift = scale + 9;
  if (shift <= 0) return q.nanos * pow10(-shift);
  return divAwayFromZero(q.nanos, pow10(shift));
}

export function quantityMilliValue(q: Quantity): bigint {
  return quantityScaledValue(q, -3);
}

export function quantityValue(q: Quantity): bigint {
  return quantityScaledValue(q, 0);
}
