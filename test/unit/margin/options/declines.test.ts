import { describe, expect, it } from 'vitest';
import { guardBands } from '../../../../shared/bands/guard-bands.ts';
import {
  buildBook,
  evaluateBook,
  evaluateBookReference,
  fastPathStats,
  parseEvaluationInput,
} from '../../../../shared/margin/evaluate.ts';
import { evaluationToJson } from '../../../../shared/margin/serialize.ts';
import { evaluateBook as evaluateRaw, s } from '../../../helpers/book.ts';

const put = {
  instrument: 'XYZ P200',
  quantity: '-1',
  price: '1.20',
  instrumentType: 'option',
  underlying: 'XYZ',
  right: 'put',
  strike: '200',
  expiry: '2026-03-20',
  underlyingClass: 'equity',
  underlyingPrice: '209',
};

function built(positions: Record<string, unknown>[], cash = '5000') {
  return buildBook(parseEvaluationInput({ account: { id: 'O', model: 'reg-t', cash }, positions }), {
    asOf: '2026-03-02',
  });
}

describe('option books leave the fast path and guard bands explicitly', () => {
  it('a summary of an option book is the reference engine’s, counted as a reference evaluation', () => {
    const { model, book } = built([put, { instrument: 'AAPL', quantity: '10', price: '150' }]);
    const before = { ...fastPathStats };
    const summary = evaluateBook(model, book, { positionPrices: false });
    expect(fastPathStats.fast).toBe(before.fast);
    expect(fastPathStats.reference).toBe(before.reference + 1);
    expect(evaluationToJson(summary)).toEqual(
      evaluationToJson(evaluateBookReference(model, book, { positionPrices: false })),
    );
  });

  it('the same book without the option still takes the fast path', () => {
    const { model, book } = built([{ instrument: 'AAPL', quantity: '10', price: '150' }]);
    const before = fastPathStats.fast;
    evaluateBook(model, book, { positionPrices: false });
    expect(fastPathStats.fast).toBe(before + 1);
  });

  it('guard bands: an option book is evaluated on every tick, by name', () => {
    const { model, book } = built([put]);
    expect(guardBands(model, book, { level: 'SAFE', inMarginCall: false })).toEqual({
      kind: 'always',
      reason: 'option book: strategy pairing is not banded yet',
    });
  });
});

describe('distance to call of an option book (reference engine, strategy-based curve)', () => {
  it('a naked put: the requirement’s kinks found, the roots exact', () => {
    // Net requirement 100 · max(0.2·U − max(0, U − 200), 10% · 200), U = 209·x, the put's price 1.20·x.
    // Today: 100 · (41.8 − 9) = 3,280; equity 5,000 − 120 = 4,880.
    // Rising: 100 · (200 − 167.2x) until 20 at x = 180 / 167.2, then 2,000 flat; 5,000 − 120x = 2,000 at x = 25.
    // Falling: the requirement falls with U faster than equity rises: no call.
    const e = evaluateRaw({ model: 'reg-t', cash: '5000', asOf: '2026-03-02' }, [put]);
    expect(s(e.maintenanceRequirement)).toBe('3280');
    expect(s(e.distanceToCall.call.rise)).toBe('24');
    expect(e.distanceToCall.call.fall).toBeNull();
    // Zero equity: 5,000 = 120x → x = 41.66…
    expect(e.distanceToCall.zeroEquity.rise!.toDecimalPlaces(6).toFixed()).toBe('40.666667');
    // The option alone: the naked put's net requirement does not read its own price: 5,000 − 100·V = 3,280.
    expect(s(e.positions[0]!.callPrice)).toBe('17.2');
  });
});
