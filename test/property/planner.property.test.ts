import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/decimal.ts';
import { applyFills, executionSchema } from '../../shared/deleverage/execution.ts';
import { STRATEGIES } from '../../shared/deleverage/ordering.ts';
import { planDeleverage, plannedFills } from '../../shared/deleverage/planner.ts';
import { evaluateBook, buildBook, parseEvaluationInput } from '../../shared/margin/evaluate.ts';
import { bookArb } from '../helpers/arbitraries.ts';

const execution = executionSchema.parse({ feeRate: '0.0005', slippageRate: '0.001' });

describe('planner properties', () => {
  it('after the plan the ratio reaches the target or the book is flat; no order grows exposure; same input, same plan', () => {
    fc.assert(
      fc.property(
        bookArb(true, 5),
        fc.constantFrom('gross', 'reg-t', 'tiered', 'portfolio'),
        fc.constantFrom(...STRATEGIES),
        fc.integer({ min: 100, max: 400 }),
        (book, model, strategy, targetPct) => {
          const input = parseEvaluationInput({
            account: { id: 'P', model, cash: book.cash, asOf: '2026-01-05' },
            positions: book.positions,
          });
          const request = {
            input,
            targetRatio: new Decimal(targetPct).dividedBy(100),
            strategy,
            liquidationPriority: 'risk' as const,
            execution,
            incidentId: 'INC',
            step: 'deleverage',
          };
          const plan = planDeleverage(request);
          const { model: m, book: built } = buildBook(input);
          const fills = plannedFills(plan);
          const after = applyFills(input, fills, m.valuation);
          const e = evaluateBook(
            m,
            { ...built, account: after.account, positions: after.positions },
            { positionPrices: false },
          );
          const flat = after.positions.length === 0;
          expect(
            flat ||
              (e.marginRatio !== null && e.marginRatio.greaterThanOrEqualTo(request.targetRatio)) ||
              (e.marginRatio === null && !e.equity.isNegative()) ||
              (plan.kind === 'none' && plan.reason === 'no positions to reduce'),
          ).toBe(true);
          for (const o of plan.orders) {
            const p = input.positions.find((x) => x.instrument === o.instrument)!;
            expect(o.quantity.greaterThan(0)).toBe(true);
            expect(o.quantity.lessThanOrEqualTo(p.quantity.abs())).toBe(true);
            expect(o.side).toBe(p.quantity.isNegative() ? 'BUY' : 'SELL');
          }
          const grossBefore = input.positions.reduce(
            (s, p) => s.plus(p.quantity.abs().times(p.price)),
            new Decimal(0),
          );
          const grossAfter = after.positions.reduce(
            (s, p) => s.plus(p.quantity.abs().times(p.price)),
            new Decimal(0),
          );
          expect(grossAfter.lessThanOrEqualTo(grossBefore)).toBe(true);
          expect(planDeleverage(request)).toEqual(plan);
        },
      ),
      { numRuns: 120 },
    );
  });
});
