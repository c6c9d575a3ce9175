import { describe, expect, it } from 'vitest';
import { evaluateBook, r, s } from '../../helpers/book.ts';

describe('portfolio (scenario) model', () => {
  const spy = { instrument: 'SPY', quantity: '100', avgCost: '100', price: '100' };
  const sh = { instrument: 'SH', quantity: '100', avgCost: '100', price: '100', leverageFactor: '-1' };

  it('charges the worst loss over ±15% equity shocks', () => {
    const e = evaluateBook({ model: 'portfolio', cash: '0' }, [spy]);
    expect(s(e.maintenanceRequirement)).toBe('1500');
    expect(e.details.worstScenario).toBe('equity -15%');
    expect(r(e.marginRatio, 4)).toBe('6.6667');
  });

  it('nets a hedge, leaving the per-position minimum (vs 25% gross under Reg T)', () => {
    const e = evaluateBook({ model: 'portfolio', cash: '0' }, [spy, sh]);
    expect(s(e.maintenanceRequirement)).toBe('500'); // 2.5% of 20,000
    expect(s(evaluateBook({ model: 'reg-t', cash: '0' }, [spy, sh]).maintenanceRequirement)).toBe('5000');
  });

  it('wider crypto range, and all classes moving together', () => {
    const btc = { instrument: 'BTC', quantity: '1', avgCost: '10000', price: '10000', assetClass: 'crypto' };
    const e = evaluateBook({ model: 'portfolio', cash: '0' }, [spy, btc]);
    expect(s(e.maintenanceRequirement)).toBe('5500'); // 1,500 + 4,000
    expect(e.details.worstScenario).toBe('all classes down');
  });

  it('custom scenarios replace the grid', () => {
    const e = evaluateBook(
      { model: 'portfolio', cash: '0', params: { scenarios: [{ name: 'crash', shocks: { SPY: '-0.3' } }] } },
      [spy],
    );
    expect(s(e.maintenanceRequirement)).toBe('3000');
  });

  it('uniform distance: −5,000 + 10,000s = 1,500s', () => {
    const e = evaluateBook({ model: 'portfolio', cash: '-5000' }, [spy]);
    expect(r(e.distanceToCall.call.fall, 6)).toBe('0.411765'); // 1 − 5,000 / 8,500
  });

  it('single-position call crosses the point where the worst case switches', () => {
    // Equity V − 5,000 (V = SPY value). Requirement: max(floor 0.025V + 250, SH-up scenario 1,500 − 0.15V).
    // The scenario branch binds below V = 7,142.86: V − 5,000 = 1,500 − 0.15V → V = 5,652.17.
    const e = evaluateBook({ model: 'portfolio', cash: '-15000' }, [spy, sh]);
    expect(r(e.positions[0]!.callPrice, 4)).toBe('56.5217');
  });
});
