import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors.ts';
import { parseEvaluationInput } from '../../shared/margin/evaluate.ts';
import { ParsedInputCache } from '../../shared/margin/parse-cache.ts';
import { BAND_MODELS, bookArb } from '../helpers/band-books.ts';

function outcome(parse: () => unknown): unknown {
  try {
    return { ok: parse() };
  } catch (e) {
    if (e instanceof InputError) return { issues: e.issues };
    throw e;
  }
}

// Prices as a tick would bring them, and the bad ones a table could hold.
const priceArb = fc.oneof(
  fc.integer({ min: 1, max: 10_000_000 }).map((c) => (c / 100).toFixed(2)),
  fc.constantFrom('0', '-5', 'abc', '', ' 12.5 ', '.5', '+7', '1e3', '12.'),
  fc.constant(undefined),
  fc.constant(12.5),
);
const timeArb = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    '2026-01-05T14:30:00Z',
    '2026-01-05T14:30:00.123+02:00',
    'yesterday',
    '2026-13-45T99:00:00Z',
  ),
);

describe('parsed-input cache (property): the same result as zod, every time', () => {
  it('for random books re-evaluated with random (also invalid) prices, values and named errors match', () => {
    const cache = new ParsedInputCache(8);
    fc.assert(
      fc.property(
        fc.oneof(...BAND_MODELS.map((m) => bookArb(m, 8))),
        fc.array(fc.tuple(priceArb, timeArb), { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        (book, ticks, corrupt) => {
          const raw0 = corrupt ? { ...book, account: { ...book.account, cash: 'lots' } } : book;
          for (const [price, priceTime] of [[undefined, undefined] as const, ...ticks]) {
            const raw = {
              ...raw0,
              positions: raw0.positions.map((p, i) =>
                i === 0 && price !== undefined ? { ...p, price, ...(priceTime ? { priceTime } : {}) } : p,
              ),
            };
            expect(outcome(() => cache.parse(raw))).toEqual(outcome(() => parseEvaluationInput(raw)));
          }
        },
      ),
      { numRuns: 400 },
    );
    expect(cache.hits).toBeGreaterThan(200); // the cached path was the one compared
  });
});
