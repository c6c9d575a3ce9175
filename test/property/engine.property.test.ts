import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/decimal.ts';
import { buildBook, evaluate, evaluateBook, parseEvaluationInput } from '../../shared/margin/evaluate.ts';
import { evaluationToJson } from '../../shared/margin/serialize.ts';
import { bookArb, MODELS_WITH_SHORTS, unitsToString } from '../helpers/arbitraries.ts';
import { scaled } from '../helpers/scale.ts';

const RUNS = { numRuns: scaled(50, 150) };

function toInput(model: string, book: { cash: string; positions: object[] }) {
  return { account: { id: 'P', model, cash: book.cash, asOf: '2026-01-05' }, positions: book.positions };
}

/** Integer units of 1e-4 as BigInt: an oracle that shares no code (and no float) with the engine. */
function units4(decimal: string): bigint {
  const [whole, frac = ''] = decimal.replace('-', '').split('.');
  const value = BigInt(whole!) * 10_000n + BigInt((frac + '0000').slice(0, 4));
  return decimal.startsWith('-') ? -value : value;
}

describe('engine properties', () => {
  it('equity and exposures are exact (checked against a BigInt oracle)', () => {
    fc.assert(
      fc.property(bookArb(true), (book) => {
        const e = evaluate(toInput('reg-t', book));
        let equity = units4(book.cash) * 10_000n; // cash·1e4 · 1e4 → scale 1e8 like qty·price
        let gross = 0n;
        for (const p of book.positions) {
          const value = BigInt(p.quantity) * units4(p.price) * 10_000n;
          equity += value;
          gross += value < 0n ? -value : value;
        }
        expect(e.equity.toFixed()).toBe(new Decimal(unitsToString(equity, 8)).toFixed());
        expect(e.grossExposure.toFixed()).toBe(new Decimal(unitsToString(gross, 8)).toFixed());
      }),
      RUNS,
    );
  });

  it('is deterministic: the same input gives the same output, whatever the position order', () => {
    fc.assert(
      fc.property(bookArb(true), fc.constantFrom(...MODELS_WITH_SHORTS), (book, model) => {
        const once = evaluationToJson(evaluate(toInput(model, book)));
        const twice = evaluationToJson(evaluate(toInput(model, book)));
        expect(twice).toEqual(once);
        const reversed = evaluationToJson(
          evaluate(toInput(model, { ...book, positions: [...book.positions].reverse() })),
        );
        expect(reversed.equity).toBe(once.equity);
        expect(reversed.maintenanceRequirement).toBe(once.maintenanceRequirement);
        expect(reversed.marginRatio).toBe(once.marginRatio);
      }),
      RUNS,
    );
  });

  it('for a long-only margin book (cash ≤ 0) the ratio falls as prices fall', () => {
    fc.assert(
      fc.property(
        bookArb(false).map((b) => ({ ...b, cash: b.cash.startsWith('-') ? b.cash : `-${b.cash}` })),
        fc.integer({ min: 1, max: 99 }),
        fc.constantFrom('gross', 'reg-t', 'portfolio'),
        (book, fallPct, model) => {
          const before = evaluate(toInput(model, book));
          const fallen = evaluate(
            toInput(model, {
              ...book,
              positions: book.positions.map((p) => ({
                ...p,
                price: new Decimal(p.price)
                  .times(100 - fallPct)
                  .dividedBy(100)
                  .toFixed(),
              })),
            }),
          );
          expect(fallen.equity.lessThan(before.equity)).toBe(true);
          expect(fallen.marginRatio!.lessThanOrEqualTo(before.marginRatio!)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('applying the distance to call to every price lands on the call ratio', () => {
    fc.assert(
      fc.property(bookArb(true), fc.constantFrom(...MODELS_WITH_SHORTS), (book, model) => {
        const { model: m, book: parsed } = buildBook(parseEvaluationInput(toInput(model, book)));
        const e = evaluateBook(m, parsed);
        const move = e.distanceToCall.call.move;
        fc.pre(move !== null && !move.isZero() && !e.inMarginCall);
        const scale = move!.plus(1);
        const at = (factor: Decimal) =>
          evaluateBook(m, {
            ...parsed,
            positions: parsed.positions.map((p) => ({ ...p, price: p.price.times(factor) })),
          });
        fc.pre(scale.greaterThan(0));
        const landed = at(scale);
        const gap = landed.equity.minus(landed.maintenanceRequirement.times(e.callRatio));
        const size = landed.equity.abs().plus(landed.maintenanceRequirement).plus(1);
        expect(gap.abs().dividedBy(size).lessThan('1e-30')).toBe(true);
        // A hair further and the call is on; a hair short and it is not.
        const nudge = new Decimal('1e-9').times(move!.isNegative() ? -1 : 1);
        expect(at(scale.plus(nudge)).inMarginCall).toBe(true);
        expect(at(scale.minus(nudge)).inMarginCall).toBe(false);
      }),
      RUNS,
    );
  });

  it('each position’s call price, alone, lands on the call ratio', () => {
    fc.assert(
      fc.property(
        bookArb(true, 4),
        fc.constantFrom(...MODELS_WITH_SHORTS),
        fc.nat(3),
        (book, model, pick) => {
          const { model: m, book: parsed } = buildBook(parseEvaluationInput(toInput(model, book)));
          const e = evaluateBook(m, parsed);
          const i = pick % parsed.positions.length;
          const callPrice = e.positions[i]!.callPrice;
          fc.pre(callPrice != null && !e.inMarginCall && callPrice.greaterThan(0));
          const landed = evaluateBook(m, {
            ...parsed,
            positions: parsed.positions.map((p, j) => (j === i ? { ...p, price: callPrice! } : p)),
          });
          const gap = landed.equity.minus(landed.maintenanceRequirement.times(e.callRatio));
          const size = landed.equity.abs().plus(landed.maintenanceRequirement).plus(1);
          expect(gap.abs().dividedBy(size).lessThan('1e-30')).toBe(true);
        },
      ),
      RUNS,
    );
  });
});
