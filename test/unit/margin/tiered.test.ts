import { describe, expect, it } from 'vitest';
import { evaluateBook, r, s } from '../../helpers/book.ts';

describe('tiered (futures / crypto) model with the default tier table', () => {
  const btc = (quantity: string, extra: Record<string, unknown> = {}) => ({
    instrument: 'BTC-PERP',
    quantity,
    avgCost: '50000',
    price: '50000',
    assetClass: 'crypto',
    leverage: '10',
    ...extra,
  });

  it('values contracts by PnL on wallet collateral', () => {
    const e = evaluateBook({ model: 'tiered', cash: '5000' }, [btc('1', { price: '51000' })]);
    expect(s(e.equity)).toBe('6000'); // 5,000 wallet + 1,000 PnL
    expect(s(e.longMarketValue)).toBe('51000');
    expect(s(e.initialRequirement)).toBe('5100'); // notional / 10
    // Tier 2 (50k–250k): 0.5% − 50 (the deduction that keeps the table continuous).
    expect(s(e.maintenanceRequirement)).toBe('205');
  });

  it('is continuous across a tier boundary', () => {
    const at = (price: string) =>
      evaluateBook({ model: 'tiered', cash: '5000' }, [btc('1', { price })]).maintenanceRequirement;
    expect(s(at('50000'))).toBe('200'); // 0.4%
    expect(s(at('50000.0001'))).toBe('200.0000005'); // 250.0000005 − 50
  });

  it('long liquidation and bankruptcy prices (cross)', () => {
    const e = evaluateBook({ model: 'tiered', cash: '5000' }, [btc('1')]);
    // 5,000 + (p − 50,000) = 0.004p → p = 45,000 / 0.996
    expect(r(e.positions[0]!.liquidationPrice, 6)).toBe('45180.722892');
    expect(s(e.positions[0]!.bankruptcyPrice)).toBe('45000');
    expect(r(e.positions[0]!.callPrice, 6)).toBe('45180.722892'); // call ratio 1 = exchange liquidation
  });

  it('short liquidation price crosses into tier 2', () => {
    const e = evaluateBook({ model: 'tiered', cash: '5000' }, [btc('-1')]);
    // 5,000 − (p − 50,000) = 0.005p − 50 → p = 55,050 / 1.005
    expect(r(e.positions[0]!.liquidationPrice, 6)).toBe('54776.119403');
    expect(s(e.positions[0]!.bankruptcyPrice)).toBe('55000');
  });

  it('isolated margin ignores the rest of the wallet; cross uses it', () => {
    const cross = evaluateBook({ model: 'tiered', cash: '20000' }, [btc('1')]);
    // 20,000 + p − 50,000 = 0.004p → p = 30,000 / 0.996
    expect(r(cross.positions[0]!.liquidationPrice, 2)).toBe('30120.48');
    const isolated = evaluateBook({ model: 'tiered', cash: '20000', params: { mode: 'isolated' } }, [
      btc('1'),
    ]);
    expect(r(isolated.positions[0]!.liquidationPrice, 6)).toBe('45180.722892');
    expect(s(isolated.details.isolatedMarginPosted as never)).toBe('5000');
  });

  it('rejects leverage above the tier maximum, naming the field', () => {
    expect(() => evaluateBook({ model: 'tiered', cash: '5000' }, [btc('1.2', { leverage: '125' })])).toThrow(
      /positions\[0\]\.leverage: 125x exceeds the 100x maximum/,
    );
  });

  it('validates custom tier tables', () => {
    expect(() =>
      evaluateBook(
        {
          model: 'tiered',
          cash: '1',
          params: { tiers: [{ upTo: '10', maintenanceRate: '0.1', maxLeverage: '5' }] },
        },
        [],
      ),
    ).toThrow(/account\.params\.tiers\[0\]\.upTo: the last tier must be open-ended/);
  });
});
