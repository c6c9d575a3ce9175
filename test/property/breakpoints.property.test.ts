import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/decimal.ts';
import { InputError } from '../../shared/errors.ts';
import { buildBook, parseEvaluationInput } from '../../shared/margin/evaluate.ts';
import { BAND_MODELS, bookArb } from '../helpers/band-books.ts';
import { scaled } from '../helpers/scale.ts';

/**
 * The exact solvers (distance to call, per-position prices, guard bands) take the requirement to be
 * affine between the breakpoints a model declares. A kink the model forgets (a house rate meeting a
 * per-share minimum, say) would make them wrong without a sound: check collinearity on every piece.
 */
describe('margin models (property): the requirement is affine between declared breakpoints', () => {
  for (const model of BAND_MODELS) {
    it(`${model}: three points on every piece of every one-position curve are collinear`, () => {
      fc.assert(
        fc.property(bookArb(model, 4), (raw) => {
          let built;
          try {
            built = buildBook(parseEvaluationInput(raw), { asOf: '2026-01-05' });
          } catch (e) {
            if (e instanceof InputError) return;
            throw e;
          }
          const { model: m, book } = built;
          book.positions.forEach((_, i) => {
            const curve = m.curve(book, [i], 'price');
            const points = [
              ...new Set(curve.breakpoints.filter((b) => b.greaterThan(0)).map((b) => b.toString())),
            ]
              .map((b) => new Decimal(b))
              .sort((a, b) => a.comparedTo(b));
            const edges = [new Decimal(0), ...points];
            edges.forEach((lo, k) => {
              const hi = points[k] ?? lo.times(3).plus(10);
              const at = (f: string) => lo.plus(hi.minus(lo).times(f));
              const [x1, x2, x3] = [at('0.25'), at('0.5'), at('0.75')];
              const [y1, y2, y3] = [curve.at(x1), curve.at(x2), curve.at(x3)];
              const skew = y2
                .minus(y1)
                .times(x3.minus(x2))
                .minus(y3.minus(y2).times(x2.minus(x1)));
              const scale = y1.abs().plus(y3.abs()).plus(1).times(hi.minus(lo).plus(1));
              expect(
                skew.abs().lessThanOrEqualTo(scale.times('1e-30')),
                `${model} position ${i} piece (${lo}, ${hi})`,
              ).toBe(true);
            });
          });
        }),
        { numRuns: scaled(100, 300) },
      );
    });
  }
});
