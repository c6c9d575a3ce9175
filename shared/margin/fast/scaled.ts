import { Decimal } from '../../decimal.ts';

/**
 * Scaled integers: a decimal as an integer mantissa m and a scale s (value = m · 10⁻ˢ), with m held in a
 * float64 as a safe integer (|m| < 2⁵³). Sums and products of safe integers are exact whenever the result
 * is itself a safe integer: IEEE 754 rounds correctly and every integer below 2⁵³ is representable, so a
 * result that passes Number.isSafeInteger is the exact one. Every operation checks that and throws
 * OVERFLOW otherwise, so a caller either gets the exact value or falls back to decimal.js.
 */
export const OVERFLOW = new Error('scaled integer overflow: fall back to the exact decimal path');

/** 10^k for k ≤ 22: every one is exact in float64. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

export function safe(x: number): number {
  if (!Number.isSafeInteger(x)) throw OVERFLOW;
  return x;
}

/** m · 10^k as a safe integer. */
export function raise(m: number, k: number): number {
  if (k === 0) return m;
  if (k > 22) throw OVERFLOW;
  return safe(m * POW10[k]!);
}

export interface Scaled {
  readonly m: number;
  readonly s: number;
}

/**
 * The exact scaled integer of a Decimal, read from decimal.js's documented representation (digits `d` in
 * base 10⁷ words, the first holding (e mod 7) + 1 digits; exponent `e`; sign `s`), or null when the
 * mantissa is not a safe integer.
 */
export function scaledOf(x: Decimal): Scaled | null {
  const words = x.d;
  if (!words) return null; // NaN or ±Infinity: never valid input
  let m = words[0]!;
  for (let j = 1; j < words.length; j++) m = m * 1e7 + words[j]!;
  if (!Number.isSafeInteger(m)) return null;
  const firstDigits = (((x.e % 7) + 7) % 7) + 1;
  let s = firstDigits + 7 * (words.length - 1) - 1 - x.e;
  while (s >= 4 && m % 10_000 === 0) {
    m /= 10_000;
    s -= 4;
  }
  while (s > 0 && m % 10 === 0) {
    m /= 10;
    s -= 1;
  }
  if (s < 0) {
    if (-s > 22) return null;
    m *= POW10[-s]!;
    if (!Number.isSafeInteger(m)) return null;
    s = 0;
  }
  return { m: x.s < 0 ? -m : m, s };
}

/**
 * m · 10⁻ˢ as a Decimal (exact: at most 16 significant digits). Built in decimal.js's documented
 * representation — base-10⁷ words, the first holding (e mod 7) + 1 digits, no trailing zero word — and
 * passed through its constructor, which accepts any object tagged as a Decimal and copies (and
 * range-checks) it: a quarter of the cost of parsing a string. Checked against parsing in the tests.
 */
export function decimalOf(m: number, s: number): Decimal {
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
export function decimalOfByString(m: number, s: number): Decimal {
  if (m === 0) return new Decimal(0);
  return s === 0 ? new Decimal(m) : new Decimal(`${m}e-${s}`);
}
