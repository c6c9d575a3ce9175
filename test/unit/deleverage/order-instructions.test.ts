import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../shared/decimal.ts';
import { executionSchema } from '../../../shared/deleverage/execution.ts';
import {
  executionMethodSchema,
  inRegularSession,
  instruct,
} from '../../../shared/deleverage/order-instructions.ts';
import { planDeleverage } from '../../../shared/deleverage/planner.ts';
import { parseEvaluationInput } from '../../../shared/margin/evaluate.ts';

const now = new Date('2026-03-02T14:30:00.000Z');
const order = (side: 'SELL' | 'BUY', quantity: string) => ({
  side,
  quantity: new Decimal(quantity),
  referencePrice: new Decimal('100'),
});
const lot1 = { lotSize: new Decimal(1) };

describe('order instructions, by hand', () => {
  it('limit: a sell no lower than 99.50, a buy no higher than 100.50 (0.5% from 100); market IOC; stop 2% beyond', () => {
    const limit = executionMethodSchema.parse({ type: 'limit', maxSlippage: '0.005' });
    expect(instruct(order('SELL', '10'), lot1, limit, now)).toMatchObject({
      orderType: 'LIMIT',
      timeInForce: 'DAY',
      reduceOnly: true,
    });
    expect(instruct(order('SELL', '10'), lot1, limit, now).limitPrice!.toFixed()).toBe('99.5');
    expect(instruct(order('BUY', '10'), lot1, limit, now).limitPrice!.toFixed()).toBe('100.5');
    expect(instruct(order('SELL', '10'), lot1, executionMethodSchema.parse({ type: 'market' }), now)).toEqual(
      {
        orderType: 'MARKET',
        timeInForce: 'IOC',
        reduceOnly: true,
        regularHoursOnly: false,
      },
    );
    const stop = executionMethodSchema.parse({ type: 'stop', triggerOffset: '0.02', regularHoursOnly: true });
    expect(instruct(order('SELL', '10'), lot1, stop, now)).toMatchObject({
      orderType: 'STOP',
      timeInForce: 'GTC',
      regularHoursOnly: true,
    });
    expect(instruct(order('SELL', '10'), lot1, stop, now).stopPrice!.toFixed()).toBe('98');
  });

  it('TWAP: 1,000 shares over an hour in 5-minute slices = 12 slices (84 × 4 + 83 × 8); a thin ADV stretches it', () => {
    const twap = executionMethodSchema.parse({
      type: 'twap',
      windowMinutes: 60,
      sliceMinutes: 5,
      maxParticipation: '0.1',
    });
    // ADV 100,000: a 5-minute slice may take 10% × 100,000 × 5 / 390 = 128.2 → 128 shares; 84 fits.
    const liquid = instruct(
      order('SELL', '1000'),
      { lotSize: new Decimal(1), averageDailyVolume: new Decimal(100_000) },
      twap,
      now,
    );
    expect(liquid.slices!.map((s) => s.quantity.toFixed())).toEqual([
      ...Array(4).fill('84'),
      ...Array(8).fill('83'),
    ]);
    expect(liquid.slices![11]!.startAt).toBe('2026-03-02T15:25:00.000Z');
    // ADV 10,000: 12.8 → 12 shares a slice at most: ⌈1,000 / 12⌉ = 84 slices, 7 hours.
    const thin = instruct(
      order('SELL', '1000'),
      { lotSize: new Decimal(1), averageDailyVolume: new Decimal(10_000) },
      twap,
      now,
    );
    expect(thin.slices).toHaveLength(84);
    expect(Math.max(...thin.slices!.map((s) => s.quantity.toNumber()))).toBe(12);
  });
});

describe('regular hours only', () => {
  it('moves to the next New York session open, across a weekend and a DST change (8 March 2026)', () => {
    const at = (t: string) => inRegularSession(new Date(t)).toISOString();
    expect(at('2026-03-06T20:59:00Z')).toBe('2026-03-06T20:59:00Z'.replace('Z', '.000Z')); // 15:59 EST: open
    expect(at('2026-03-06T23:00:00Z')).toBe('2026-03-09T13:30:00.000Z'); // Friday evening → Monday 09:30 EDT
    expect(at('2026-03-09T12:00:00Z')).toBe('2026-03-09T13:30:00.000Z'); // before the open
  });

  it('TWAP slices stay inside the session: the ones past the close start at the next open', () => {
    const twap = executionMethodSchema.parse({
      type: 'twap',
      windowMinutes: 30,
      sliceMinutes: 10,
      regularHoursOnly: true,
    });
    const i = instruct(order('SELL', '3'), lot1, twap, new Date('2026-03-06T20:50:00Z')); // 15:50 EST, Friday
    expect(i.slices!.map((s) => s.startAt)).toEqual([
      '2026-03-06T20:50:00.000Z',
      '2026-03-09T13:30:00.000Z',
      '2026-03-09T13:40:00.000Z',
    ]);
  });
});

describe('planner with execution methods', () => {
  const input = parseEvaluationInput({
    account: { id: 'L', model: 'gross', cash: '-15000' },
    positions: [
      { instrument: 'HEDGE', quantity: '100', price: '100', avgCost: '100', liquidateLast: true },
      { instrument: 'RISKY', quantity: '100', price: '100', avgCost: '100' },
    ],
  });
  const base = {
    input,
    targetRatio: new Decimal('3'),
    strategy: 'risk-based' as const,
    liquidationPriority: 'risk' as const,
    execution: executionSchema.parse({ feeRate: '0', slippageRate: '0' }),
    incidentId: 'I',
    step: 'deleverage',
  };

  it('a position flagged liquidate-last is reduced only after the others', () => {
    // Equal risk: without the flag the tie breaks by name (HEDGE first); with it, RISKY goes first.
    const plan = planDeleverage(base);
    expect(plan.orders[0]!.instrument).toBe('RISKY');
    const liquidation = planDeleverage({ ...base, fullLiquidation: true, step: 'liquidate' });
    expect(liquidation.orders.map((o) => o.instrument)).toEqual(['RISKY', 'HEDGE']);
  });

  it('every order carries its instruction, reduce-only, when a method is given', () => {
    const plan = planDeleverage({
      ...base,
      orderMethod: executionMethodSchema.parse({ type: 'limit', maxSlippage: '0.01' }),
      now,
    });
    for (const o of plan.orders)
      expect(o.instruction).toMatchObject({
        orderType: 'LIMIT',
        reduceOnly: true,
        limitPrice: new Decimal('99'),
      });
  });
});
