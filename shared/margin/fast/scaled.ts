import { Decimal } from '../../decimal.ts';

/**
 * Scaled integers: a decimal as a BigInt mantissa m and a scale s (value = m · 10⁻ˢ). Sums and products
 * are exact at any size; V8's BigInt costs about twice a float64 operation at these sizes.
 *
 * The reference engine is decimal.js at 40 significant digits, which is exact only while every
 * intermediate fits in 40 digits. `bounded` keeps every term below 10³⁶ at the book's scale, so any sum of
 * up to 1,000 of them stays below 10³⁹: the reference computed those figures exactly too, and the two
 * agree. Past that the caller falls back to the reference (OVERFLOW).
 */
export const OVERFLOW = new Error('scaled integer past the exact range: fall back to the reference engine');

const LIMIT = 10n ** 36n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** 10^k as BigInt. */
const BIG10 = Array.from({ length: 120 }, (_, k) => 10n ** BigInt(k));
/** 10^k as float64: exact for k ≤ 22; beyond, the float64 tier only ever multiplies zero by them. */
export const POW10 = Array.from({ length: 309 }, (_, k) => 10 ** k);

function bounded(m: bigint): bigint {
  if (m >= LIMIT || m <= -LIMIT) throw OVERFLOW;
  return m;
}

/** m · 10^k. */
function raise(m: bigint, k: number): bigint {
  if (k === 0) return m;
  const factor = BIG10[k];
  if (factor === undefined) throw OVERFLOW;
  return m * factor;
}

export class Scaled {
  constructor(
    /** The mantissa as a float64 when |m| < 2⁵³ (exact), else NaN. */
    readonly n: number,
    readonly s: number,
    /** Decimal digits of |m| (1 for zero): what the float64 tier's static bound adds up. */
    readonly digits: number,
    private big?: bigint,
  ) {}

  /** The mantissa as BigInt, made on first use: the float64 tier never needs it. */
  get m(): bigint {
    return (this.big ??= BigInt(this.n));
  }
}

/** An exact integer of either tier: float64 (static bound proved it below 2⁵³) or BigInt. */
export type Int = number | bigint;

/** m at scale s, raised to scale `to`. */
function at(value: Scaled, to: number): bigint {
  return bounded(raise(value.m, to - value.s));
}

/** coefficient · price at scale `to`. */
function times(coefficient: Scaled, price: Scaled, to: number): bigint {
  return bounded(raise(coefficient.m * price.m, to - coefficient.s - price.s));
}

/**
 * The exact scaled integer of a finite Decimal, read from decimal.js's documented representation (digits
 * `d` in base-10⁷ words, the first holding (e mod 7) + 1 digits, no trailing zero word; exponent `e`;
 * sign `s`), with the scale as small as the value allows.
 */
export function scaledOf(x: Decimal): Scaled {
  const words = x.d;
  if (!words) throw OVERFLOW; // NaN or ±Infinity: never valid input
  const count = words.length;
  let last = words[count - 1]!;
  let zeros = 0;
  if (last !== 0)
    while (last % 10 === 0) {
      last /= 10;
      zeros += 1;
    }
  const firstDigits = (((x.e % 7) + 7) % 7) + 1; // d[0] holds exactly this many digits
  let s = firstDigits + 7 * (count - 1) - 1 - x.e - zeros;
  let digits = firstDigits + 7 * (count - 1) - zeros;
  const sign = x.s < 0 ? -1 : 1;
  if (count <= 2) {
    // At most 14 digits: exact in float64.
    let n = count === 1 ? last : words[0]! * POW10[7 - zeros]! + last;
    if (s < 0 && -s <= 22 && n * POW10[-s]! <= Number.MAX_SAFE_INTEGER) {
      n *= POW10[-s]!;
      digits -= s;
      s = 0;
    }
    if (s >= 0) return new Scaled(sign * n, s, n === 0 ? 1 : digits);
  }
  let m = BigInt(words[0]!);
  for (let j = 1; j < count - 1; j++) m = m * 10_000_000n + BigInt(words[j]!);
  m = count === 1 ? BigInt(last) : m * BIG10[7 - zeros]! + BigInt(last);
  if (s < 0) {
    m *= BIG10[-s] ?? 10n ** BigInt(-s);
    digits -= s;
    s = 0;
  }
  const n = m <= SAFE ? Number(m) : Number.NaN;
  return new Scaled(sign * n, s, digits, x.s < 0 ? -m : m);
}

/**
 * Arithmetic on either tier's integers. A book is evaluated in one tier: float64 when the static digit
 * bound (fast/summary.ts) proves every value below 10¹⁵, BigInt otherwise; `float` says which.
 */
export function lifted(x: Scaled, to: number, float: boolean): Int {
  return float ? x.n * POW10[to - x.s]! : at(x, to);
}

export function product(x: Scaled, price: Scaled, to: number, float: boolean): Int {
  return float ? x.n * price.n * POW10[to - x.s - price.s]! : times(x, price, to);
}

export function plus(a: Int, b: Int): Int {
  return typeof a === 'number' ? a + (b as number) : bounded(a + (b as bigint));
}

export function minus(a: Int, b: Int): Int {
  return typeof a === 'number' ? a - (b as number) : bounded(a - (b as bigint));
}

/** a · 10^k. */
export function shift(a: Int, k: number): Int {
  return typeof a === 'number' ? a * POW10[k]! : raise(a, k);
}

/** θ · a for a scaled coefficient θ (a call ratio). */
export function scaleBy(theta: Scaled, a: Int): Int {
  return typeof a === 'number' ? theta.n * a : theta.m * a;
}

/** Decimal's own layout from significant digits and exponent (see decimalOf). */
function fromDigits(negative: boolean, digits: string, e: number): Decimal {
  const first = (((e % 7) + 7) % 7) + 1;
  const words: number[] = [];
  if (digits.length <= first) words.push(Number(digits.padEnd(first, '0')));
  else {
    words.push(Number(digits.slice(0, first)));
    for (let i = first; i < digits.length; i += 7) words.push(Number(digits.slice(i, i + 7).padEnd(7, '0')));
    while (words[words.length - 1] === 0) words.pop();
  }
  return new Decimal({
    s: negative ? -1 : 1,
    e,
    d: words,
    toStringTag: '[object Decimal]',
  } as unknown as Decimal);
}

/** m · 10⁻ˢ as a Decimal; the same value decimal.js would hold (see decimalOfSafe for the layout). */
export function decimalOf(m: Int, s: number): Decimal {
  if (typeof m === 'number') return decimalOfSafe(m, s);
  if (m <= SAFE && m >= -SAFE) return decimalOfSafe(Number(m), s);
  const negative = m < 0n;
  const digits = (negative ? -m : m).toString();
  return fromDigits(negative, digits, digits.length - 1 - s);
}

/**
 * m · 10⁻ˢ for a safe-integer m. Built in decimal.js's documented
 * representation — base-10⁷ words, the first holding (e mod 7) + 1 digits, no trailing zero word — and
 * passed through its constructor, which accepts any object tagged as a Decimal and copies (and
 * range-checks) it: a quarter of the cost of parsing a string. Checked against parsing in the tests.
 */
function decimalOfSafe(m: number, s: number): Decimal {
  if (m === 0) return new Decimal(0);
  let rest = m < 0 ? -m : m;
  let digits = 1;
  while (digits < 16 && rest >= POW10[digits]!) digits++;
  const e = digits - 1 - s;
  const first = (((e % 7) + 7) % 7) + 1; // digits in the first word
  const words: number[] = [];
  if (digits <= first) words.push(rest * POW10[first - digits]!);
  else {
    let remaining = digits - first; // digits still to place, after the first word
    let low = rest % POW10[remaining]!;
    words.push((rest - low) / POW10[remaining]!);
    rest = low;
    while (remaining > 0) {
      const take = Math.min(7, remaining);
      const unit = POW10[remaining - take]!;
      low = rest % unit;
      words.push(((rest - low) / unit) * POW10[7 - take]!);
      rest = low;
      remaining -= take;
    }
    while (words[words.length - 1] === 0) words.pop();
  }
  return new Decimal({
    s: m < 0 ? -1 : 1,
    e,
    d: words,
    toStringTag: '[object Decimal]',
  } as unknown as Decimal);
}

/** The same value by parsing a string: the reference the layout above is tested against. */
export function decimalOfByString(m: bigint, s: number): Decimal {
  return s === 0 ? new Decimal(m.toString()) : new Decimal(`${m}e-${s}`);
}
