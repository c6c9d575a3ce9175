import type { Decimal } from '../decimal.ts';
import { nearestRoot, sharedSamples, solveScale } from './distance.ts';
import type { Book, CurveAxis, MaintenanceCurve } from './model.ts';

/**
 * The prices of one position (all others unchanged) at which equity / maintenance reaches each threshold.
 * Solved on the price axis itself, so a root that is a finite decimal comes out exactly.
 */
export function thresholdPrices<P>(
  curveOf: (book: Book<P>, moving: readonly number[], axis: CurveAxis) => MaintenanceCurve,
  book: Book<P>,
  index: number,
  equityOtherwise: Decimal,
  thresholds: readonly Decimal[],
): (Decimal | null)[] {
  const position = book.positions[index]!;
  const exposure = position.quantity.times(position.multiplier);
  if (exposure.isZero()) return thresholds.map(() => null);
  const curve = sharedSamples(curveOf(book, [index], 'price'));
  return thresholds.map((threshold) =>
    nearestRoot(
      solveScale({
        equityConstant: equityOtherwise,
        equitySlope: exposure,
        curve,
        threshold,
        origin: position.price,
      }),
    ),
  );
}
