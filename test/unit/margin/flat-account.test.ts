import { describe, expect, it } from 'vitest';
import { buildBook, evaluate, evaluateBook, parseEvaluationInput } from '../../../shared/margin/evaluate.ts';
import { evaluationToJson } from '../../../shared/margin/serialize.ts';
import { MODEL_NAMES } from '../../../shared/schemas/account.ts';
import { nonFiniteDecimals } from '../../helpers/non-finite.ts';

/** The reference engine's full evaluation and the fast path's summary of the same book, as JSON. */
function both(raw: unknown) {
  const full = evaluationToJson(evaluate(raw));
  const { model, book } = buildBook(parseEvaluationInput(raw));
  const summary = evaluationToJson(evaluateBook(model, book, { positionPrices: false }));
  return [full, summary];
}

const NONE = { move: null, fall: null, rise: null };
const ALREADY = { move: '0', fall: '0', rise: '0' };

describe.each(MODEL_NAMES)('a flat %s account is shown as what it is', (model) => {
  const flat = (cash: string, positions: unknown[] = []) => ({
    account: { id: 'F1', model, cash, asOf: '2026-03-02' },
    positions,
  });

  it('zero equity, nothing held: leverage 0, no ratio, no distance ("none", never "now"), not in a call', () => {
    for (const e of both(flat('0'))) {
      expect(e).toMatchObject({
        equity: '0',
        grossExposure: '0',
        leverage: '0',
        marginRatio: null,
        marginLevelPct: null,
        inMarginCall: false,
        distanceToCall: { call: NONE, zeroEquity: NONE },
      });
      expect(nonFiniteDecimals(e)).toEqual([]);
    }
  });

  it('a position of zero quantity is flat too', () => {
    const zero = { instrument: 'SPY', quantity: '0', avgCost: '400', price: '410', leverage: '2' };
    for (const e of both(flat('0', [zero]))) {
      expect(e).toMatchObject({ leverage: '0', distanceToCall: { call: NONE, zeroEquity: NONE } });
      expect(e.positions[0]).toMatchObject({ marketValue: '0' });
      expect(nonFiniteDecimals(e)).toEqual([]);
    }
  });

  it('cash only: leverage 0 and no distance', () => {
    for (const e of both(flat('1000'))) {
      expect(e).toMatchObject({
        leverage: '0',
        inMarginCall: false,
        distanceToCall: { call: NONE, zeroEquity: NONE },
      });
    }
  });

  it('a debit with nothing held is already past the call and zero equity, whatever prices do', () => {
    for (const e of both(flat('-100'))) {
      expect(e).toMatchObject({ equity: '-100', leverage: '0', inMarginCall: true });
      expect(e.distanceToCall).toEqual({ call: ALREADY, zeroEquity: ALREADY });
      expect(nonFiniteDecimals(e)).toEqual([]);
    }
  });
});

describe('leverage with exposure', () => {
  const levered = (cash: string) => ({
    account: { id: 'L1', model: 'reg-t', cash, asOf: '2026-03-02' },
    positions: [{ instrument: 'SPY', quantity: '100', price: '10' }],
  });

  it('is unbounded (null) at exactly zero equity, not Infinity', () => {
    for (const e of both(levered('-1000'))) {
      expect(e).toMatchObject({ equity: '0', grossExposure: '1000', leverage: null });
      expect(nonFiniteDecimals(e)).toEqual([]);
    }
  });

  it('is gross exposure / equity when equity is positive, null below zero', () => {
    for (const e of both(levered('-500'))) expect(e.leverage).toBe('2');
    for (const e of both(levered('-1500'))) expect(e.leverage).toBeNull();
  });
});
