import { describe, expect, it } from 'vitest';
import { evaluateBook, r, s } from '../../helpers/book.ts';

describe('gross (capital basis) model — the walk-through, by hand', () => {
  it('starts with 10,000 cash: buying power 20,000 at 50% initial', () => {
    const e = evaluateBook({ model: 'gross', cash: '10000' }, []);
    expect(s(e.equity)).toBe('10000');
    expect(s(e.buyingPower)).toBe('20000');
    expect(e.marginRatio).toBeNull(); // no requirement at all
    expect(e.marginLevelPct).toBeNull();
  });

  it('buys 10,000 long: buying power 10,000', () => {
    const e = evaluateBook({ model: 'gross', cash: '0' }, [
      { instrument: 'A', quantity: '100', avgCost: '100', price: '100' },
    ]);
    expect(s(e.equity)).toBe('10000');
    expect(s(e.initialRequirement)).toBe('5000'); // 50% of 10,000 cost
    expect(s(e.buyingPower)).toBe('10000'); // (10,000 − 5,000) / 0.5
  });

  it('the long rises to 11,000: buying power 12,000 (initial stays on cost basis)', () => {
    const e = evaluateBook({ model: 'gross', cash: '0' }, [
      { instrument: 'A', quantity: '100', avgCost: '100', price: '110' },
    ]);
    expect(s(e.equity)).toBe('11000');
    expect(s(e.initialRequirement)).toBe('5000');
    expect(s(e.buyingPower)).toBe('12000'); // (11,000 − 5,000) / 0.5
  });

  it('buys 12,000 of a second long: buying power 0', () => {
    const e = evaluateBook({ model: 'gross', cash: '-12000' }, [
      { instrument: 'A', quantity: '100', avgCost: '100', price: '110' },
      { instrument: 'B', quantity: '120', avgCost: '100', price: '100' },
    ]);
    expect(s(e.equity)).toBe('11000'); // −12,000 + 11,000 + 12,000
    expect(s(e.initialRequirement)).toBe('11000'); // 50% of 22,000 cost
    expect(s(e.buyingPower)).toBe('0');
  });

  it('the first falls to 9,000: margin level 9,000 / 21,000 = 42.86%', () => {
    const e = evaluateBook({ model: 'gross', cash: '-12000' }, [
      { instrument: 'A', quantity: '100', avgCost: '100', price: '90' },
      { instrument: 'B', quantity: '120', avgCost: '100', price: '100' },
    ]);
    expect(s(e.equity)).toBe('9000');
    expect(s(e.grossExposure)).toBe('21000');
    expect(r(e.marginLevelPct)).toBe('42.86');
    // Maintenance 25% of market: 5,250; ratio 9,000 / 5,250 = 1.714…
    expect(s(e.maintenanceRequirement)).toBe('5250');
    expect(r(e.marginRatio, 4)).toBe('1.7143');
    expect(s(e.availableFunds)).toBe('-2000');
    expect(s(e.buyingPower)).toBe('0'); // never negative
    // Uniform fall to the call: −12,000 + 21,000·s = 0.25·21,000·s → s = 12,000 / 15,750.
    expect(r(e.distanceToCall.call.move, 6)).toBe('-0.238095');
    // Equity zero: 21,000·s = 12,000 → s = 4/7, a 42.857% fall.
    expect(r(e.distanceToCall.zeroEquity.fall, 6)).toBe('0.428571');
    // A alone: 9,000 + 100(p − 90) = 3,000 + 25p → p = 40.
    expect(s(e.positions[0]!.callPrice)).toBe('40');
    // B alone: −12,000 + 9,000 + 120p = 2,250 + 30p → p = 58.33…
    expect(r(e.positions[1]!.callPrice)).toBe('58.33');
  });

  it('counts a short as gross exposure, with no netting against a long', () => {
    const e = evaluateBook({ model: 'gross', cash: '10000' }, [
      { instrument: 'SPY', quantity: '10', avgCost: '100', price: '100' },
      { instrument: 'SH', quantity: '-10', avgCost: '100', price: '100' },
    ]);
    expect(s(e.grossExposure)).toBe('2000');
    expect(s(e.netExposure)).toBe('0');
    expect(s(e.initialRequirement)).toBe('1000'); // 50% of both legs
    expect(s(e.maintenanceRequirement)).toBe('500');
  });
});

describe('the 5x leveraged long (the backtester bug)', () => {
  // 325 shares at $100 with 10,000 capital: 32,500 notional, 22,500 borrowed, 6,500 posted (5x).
  // Maintenance is a fixed 75% of the 6,500 posted = 4,875 (15% of entry notional).
  const account = {
    model: 'gross',
    cash: '-22500',
    params: { initialRate: '0.2', maintenanceRate: '0.15', maintenanceBasis: 'entry' },
  };
  const at = (price: string) =>
    evaluateBook(account, [{ instrument: 'X', quantity: '325', avgCost: '100', price }]);

  it('posts 6,500 and requires a fixed 4,875', () => {
    const e = at('100');
    expect(s(e.initialRequirement)).toBe('6500');
    expect(s(e.maintenanceRequirement)).toBe('4875');
    expect(s(at('90').maintenanceRequirement)).toBe('4875');
  });

  it('calls below $84.23 and reaches zero equity at $69.23 (a 30.77% fall, not 75.8%)', () => {
    const e = at('100');
    // 325p − 22,500 = 4,875 → p = 27,375 / 325 = 84.2307…
    expect(r(e.positions[0]!.callPrice)).toBe('84.23');
    // 325p = 22,500 → p = 69.2307…
    expect(r(e.positions[0]!.zeroEquityPrice)).toBe('69.23');
    expect(r(e.distanceToCall.zeroEquity.fall, 4)).toBe('0.3077');
    expect(r(e.distanceToCall.call.fall, 4)).toBe('0.1577');
    expect(at('84.24').inMarginCall).toBe(false);
    expect(at('84.23').inMarginCall).toBe(true);
    expect(s(at('69.23').equity)).toBe('-0.25');
  });
});
