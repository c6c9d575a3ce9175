import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../../shared/decimal.ts';
import { applyFills, executionSchema } from '../../../../shared/deleverage/execution.ts';
import { STRATEGIES } from '../../../../shared/deleverage/ordering.ts';
import { planDeleverage } from '../../../../shared/deleverage/planner.ts';
import { parseEvaluationInput } from '../../../../shared/margin/evaluate.ts';

const option = (instrument: string, quantity: string, price: string, right: string, strike: string) => ({
  instrument,
  quantity,
  price,
  instrumentType: 'option',
  underlying: 'Q',
  right,
  strike,
  expiry: '2026-06-19',
  underlyingClass: 'equity',
});
const input = parseEvaluationInput({
  account: { id: 'C', model: 'reg-t', cash: '-6000', asOf: '2026-03-02' },
  positions: [
    { instrument: 'Q', quantity: '200', price: '50' },
    option('Q C55', '-2', '1', 'call', '55'),
    option('Q P45', '2', '0.8', 'put', '45'),
    option('Q P40', '-3', '0.3', 'put', '40'),
  ],
});
const execution = executionSchema.parse({ feeRate: '0', slippageRate: '0' });

describe('the deleverage planner on an option book', () => {
  it('plans under every strategy, pricing the options after each candidate fill', () => {
    for (const strategy of STRATEGIES) {
      const plan = planDeleverage({
        input,
        targetRatio: new Decimal('1.5'),
        strategy,
        liquidationPriority: 'risk',
        execution,
        incidentId: 'I',
        step: 1,
      } as never);
      expect(plan.kind, strategy).toBe('deleverage');
      expect(plan.restoresTarget, strategy).toBe(true);
    }
  });

  it('a closed underlying of a held option stays as a flat row (its price still prices the options)', () => {
    const after = applyFills(
      input,
      [
        {
          instrument: 'Q',
          side: 'SELL',
          quantity: new Decimal(200),
          price: new Decimal(50),
          fees: new Decimal(0),
        },
      ],
      'spot',
    );
    expect(after.positions.map((p) => [p.instrument, p.quantity.toFixed()])[0]).toEqual(['Q', '0']);
  });
});
