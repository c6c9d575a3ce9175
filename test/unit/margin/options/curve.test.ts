import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../../shared/decimal.ts';
import {
  buildBook,
  evaluateBookReference,
  parseEvaluationInput,
} from '../../../../shared/margin/evaluate.ts';
import type { MaintenanceCurve } from '../../../../shared/margin/model.ts';
import { evaluationToJson } from '../../../../shared/margin/serialize.ts';
import { nonFiniteDecimals } from '../../../helpers/non-finite.ts';

/**
 * The option book's maintenance curve (shared/margin/options/curve.ts) is found by a sampled kink search:
 * between consecutive returned breakpoints it must be affine, or the distance solver's exact roots are wrong.
 * Checked on random books at points the search never sampled, on both axes; and the engine's uniform call
 * move is checked against a scan of the gap.
 */

const legArb = fc.record({
  right: fc.constantFrom('call', 'put'),
  strike: fc.constantFrom('80', '90', '100', '110', '120'),
  quantity: fc.integer({ min: -3, max: 3 }).filter((q) => q !== 0),
  cents: fc.integer({ min: 5, max: 2500 }),
});
const bookArb = fc.record({
  legs: fc.uniqueArray(legArb, { minLength: 1, maxLength: 5, selector: (l) => `${l.right}${l.strike}` }),
  shares: fc.constantFrom(0, 100, -100, 300),
  spot: fc.integer({ min: 60, max: 140 }),
  cash: fc.integer({ min: 0, max: 40000 }),
});

interface RawBook {
  legs: { right: string; strike: string; quantity: number; cents: number }[];
  shares: number;
  spot: number;
  cash: number;
}

function inputOf(b: RawBook) {
  const options = b.legs.map((l) => ({
    instrument: `Q ${l.right === 'call' ? 'C' : 'P'}${l.strike}`,
    quantity: String(l.quantity),
    price: new Decimal(l.cents).dividedBy(100).toFixed(),
    instrumentType: 'option',
    underlying: 'Q',
    right: l.right,
    strike: l.strike,
    expiry: '2026-06-19',
    underlyingClass: 'equity',
    ...(b.shares === 0 ? { underlyingPrice: String(b.spot) } : {}),
  }));
  const positions =
    b.shares === 0
      ? options
      : [{ instrument: 'Q', quantity: String(b.shares), price: String(b.spot) }, ...options];
  return { account: { id: 'C', model: 'reg-t', cash: String(b.cash) }, positions };
}

const FRACTIONS = ['0.1234567', '0.5', '0.8765432'].map((f) => new Decimal(f));

function expectAffineBetweenBreakpoints(curve: MaintenanceCurve) {
  const bps = curve.breakpoints;
  const points = [new Decimal(0), ...bps, bps[bps.length - 1]!.times(2)];
  for (let k = 0; k + 1 < points.length; k++) {
    const [l, r] = [points[k]!, points[k + 1]!];
    const [fl, fr] = [curve.at(l), curve.at(r)];
    for (const f of FRACTIONS) {
      const x = l.plus(r.minus(l).times(f));
      const chord = fl.plus(fr.minus(fl).times(f));
      const off = curve.at(x).minus(chord).abs();
      expect(
        off.lessThanOrEqualTo(fl.abs().plus(fr.abs()).plus(1).times('1e-18')),
        `not affine on (${l}, ${r}) at ${x}`,
      ).toBe(true);
    }
  }
}

describe('option book curves', () => {
  it('are affine between their breakpoints: the uniform scale and each position’s price axis', () => {
    fc.assert(
      fc.property(bookArb, fc.nat(), (raw, pick) => {
        const { model, book } = buildBook(parseEvaluationInput(inputOf(raw)), { asOf: '2026-03-02' });
        expectAffineBetweenBreakpoints(
          model.curve(
            book,
            book.positions.map((_, i) => i),
            'scale',
          ),
        );
        expectAffineBetweenBreakpoints(model.curve(book, [pick % book.positions.length], 'price'));
      }),
      { numRuns: 12 },
    );
  });

  it('the engine’s uniform call move is the first crossing of the gap', () => {
    fc.assert(
      fc.property(bookArb, (raw) => {
        const { model, book } = buildBook(parseEvaluationInput(inputOf(raw)), { asOf: '2026-03-02' });
        const e = evaluateBookReference(model, book, { positionPrices: false });
        if (e.inMarginCall) return;
        const curve = model.curve(
          book,
          book.positions.map((_, i) => i),
          'scale',
        );
        const slope = book.positions.reduce(
          (s, p) => s.plus(p.quantity.times(p.multiplier).times(p.price)),
          new Decimal(0),
        );
        const gap = (x: Decimal) => book.account.cash.plus(slope.times(x)).minus(curve.at(x));
        for (const [side, sign] of [
          ['fall', -1],
          ['rise', 1],
        ] as const) {
          const move = e.distanceToCall.call[side];
          // fall and rise are sizes (0.2 = 20%): the root is at 1 − fall or 1 + rise.
          const end = move === null ? new Decimal(sign < 0 ? 0 : 50) : new Decimal(1).plus(move.times(sign));
          if (move !== null) expect(gap(end).abs().lessThanOrEqualTo('1e-12')).toBe(true);
          // No earlier crossing on a 40-point scan strictly between today and the root.
          for (let k = 1; k < 40; k++) {
            const x = new Decimal(1).plus(end.minus(1).times(k).dividedBy(40));
            if (x.lessThanOrEqualTo(0)) continue;
            expect(gap(x).greaterThan(0), `${side}: gap ≤ 0 at ${x} before ${end}`).toBe(true);
          }
        }
      }),
      { numRuns: 12 },
    );
  });
});

describe('option book evaluations', () => {
  it('carry no NaN or Infinity anywhere (full evaluations, every position price, the grouping)', () => {
    fc.assert(
      fc.property(bookArb, (raw) => {
        const { model, book } = buildBook(parseEvaluationInput(inputOf(raw)), { asOf: '2026-03-02' });
        const json = evaluationToJson(evaluateBookReference(model, book));
        expect(nonFiniteDecimals(json)).toEqual([]);
        expect(nonFiniteDecimals(JSON.parse(json.details.optionStrategies as string))).toEqual([]);
      }),
      { numRuns: 8 },
    );
  });
});
