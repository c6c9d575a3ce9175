import { Decimal } from '../decimal.ts';

/**
 * The point strictly inside (lo, hi) with the fewest significant digits, near the middle. Sampling an
 * affine piece at such points keeps the samples exact, so a root that is a finite decimal comes out exact.
 */
export function simplePointBetween(lo: Decimal, hi: Decimal): Decimal {
  const middle = lo.plus(hi).dividedBy(2);
  for (let digits = 1; digits < 40; digits++) {
    const candidate = middle.toSignificantDigits(digits);
    if (candidate.greaterThan(lo) && candidate.lessThan(hi)) return candidate;
  }
  return middle;
}

/** Two simple points inside (lo, hi), or right of lo when the segment is open-ended. */
export function samplePoints(lo: Decimal, hi: Decimal | undefined): readonly [Decimal, Decimal] {
  const end = hi ?? (lo.isZero() ? new Decimal(2) : lo.times(3));
  const x1 = simplePointBetween(lo, end);
  return [x1, simplePointBetween(x1, end)];
}
