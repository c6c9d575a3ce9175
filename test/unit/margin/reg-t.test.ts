import { describe, expect, it } from 'vitest';
import { evaluateBook, r, s } from '../../helpers/book.ts';

const regT = (cash: string, params: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({
  model: 'reg-t',
  cash,
  params,
  ...extra,
});

describe('Reg T + FINRA 4210', () => {
  it('long: 50% initial, 25% maintenance, SMA buying power', () => {
    const e = evaluateBook(regT('-20000'), [
      { instrument: 'SPY', quantity: '100', avgCost: '400', price: '410.25' },
    ]);
    expect(s(e.equity)).toBe('21025');
    expect(s(e.initialRequirement)).toBe('20512.5');
    expect(s(e.maintenanceRequirement)).toBe('10256.25');
    expect(s(e.excessLiquidity)).toBe('10768.75');
    expect(s(e.availableFunds)).toBe('512.5');
    expect(s(e.details.sma as never)).toBe('512.5');
    // SMA 512.50 buys 1,025 of stock at 50%.
    expect(s(e.buyingPower)).toBe('1025');
    // 100p − 20,000 = 25p → p = 266.67; uniform: 20,000 / 30,768.75 = 0.65 → 35% fall.
    expect(r(e.positions[0]!.callPrice)).toBe('266.67');
    expect(r(e.distanceToCall.call.fall, 4)).toBe('0.35');
    expect(s(e.positions[0]!.zeroEquityPrice)).toBe('200');
  });

  it('short at $5 or more: max(30% of value, $5 per share)', () => {
    const at = (price: string) =>
      evaluateBook(regT('100000'), [{ instrument: 'XYZ', quantity: '-100', avgCost: '20', price }])
        .maintenanceRequirement;
    expect(s(at('20'))).toBe('600'); // 30% of 2,000 beats 500
    expect(s(at('10'))).toBe('500'); // $5 × 100 beats 300
    expect(s(at('5'))).toBe('500');
  });

  it('short under $5: max(100% of value, $2.50 per share), continuous at $5', () => {
    const at = (price: string) =>
      evaluateBook(regT('100000'), [{ instrument: 'PNY', quantity: '-100', avgCost: '4', price }])
        .maintenanceRequirement;
    expect(s(at('4'))).toBe('400');
    expect(s(at('2'))).toBe('250');
    expect(s(at('4.99'))).toBe('499');
  });

  it('solves a short call across the $2.50 and $5 breakpoints exactly', () => {
    // Short 1,000 at $2 with 8,000 cash (incl. proceeds): equity 6,000, requirement 2,500.
    // Rising through [2.5, 5): 8,000 − 1,000p = 1,000p → p = 4 (a 100% rise).
    const e = evaluateBook(regT('8000'), [
      { instrument: 'PNY', quantity: '-1000', avgCost: '2', price: '2' },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('2500');
    expect(s(e.positions[0]!.callPrice)).toBe('4');
    expect(s(e.distanceToCall.call.move)).toBe('1');
    expect(e.distanceToCall.call.fall).toBeNull();
    expect(s(e.positions[0]!.zeroEquityPrice)).toBe('8');
  });

  it('short at $6 with the $5/share minimum binding: call at $7', () => {
    // 12,000 − 1,000p = 5,000 while 30%·p < $5 (p < 16.67) → p = 7.
    const e = evaluateBook(regT('12000'), [
      { instrument: 'XYZ', quantity: '-1000', avgCost: '6', price: '6' },
    ]);
    expect(r(e.marginRatio)).toBe('1.2');
    expect(s(e.positions[0]!.callPrice)).toBe('7');
  });

  it('short with 30% binding: 15,000 − 100p = 30p → p = 115.38', () => {
    const e = evaluateBook(regT('15000'), [
      { instrument: 'XYZ', quantity: '-100', avgCost: '50', price: '50' },
    ]);
    expect(s(e.equity)).toBe('10000');
    expect(s(e.maintenanceRequirement)).toBe('1500');
    expect(r(e.positions[0]!.callPrice)).toBe('115.38');
    expect(r(e.distanceToCall.call.rise, 4)).toBe('1.3077');
    expect(s(e.positions[0]!.zeroEquityPrice)).toBe('150');
  });

  it('leveraged ETFs multiply the percentage by |factor|, capped at 100%', () => {
    const e = evaluateBook(regT('100000'), [
      { instrument: 'TQQQ', quantity: '100', avgCost: '50', price: '50', leverageFactor: '3' },
      { instrument: 'SDS', quantity: '-100', avgCost: '50', price: '50', leverageFactor: '-2' },
      { instrument: 'X5', quantity: '100', avgCost: '50', price: '50', leverageFactor: '5' },
    ]);
    expect(s(e.positions[0]!.maintenanceRequirement)).toBe('3750'); // 75% of 5,000
    expect(s(e.positions[1]!.maintenanceRequirement)).toBe('3000'); // 60% of 5,000
    expect(s(e.positions[2]!.maintenanceRequirement)).toBe('5000'); // 125% capped at 100%
  });

  it('house requirements only raise', () => {
    const book = [{ instrument: 'SPY', quantity: '100', avgCost: '100', price: '100' }];
    expect(s(evaluateBook(regT('0', { houseMaintenanceRate: '0.35' }), book).maintenanceRequirement)).toBe(
      '3500',
    );
    expect(s(evaluateBook(regT('0', { houseMaintenanceRate: '0.10' }), book).maintenanceRequirement)).toBe(
      '2500',
    );
    expect(s(evaluateBook(regT('0'), [{ ...book[0]!, maintenanceRate: '0.1' }]).maintenanceRequirement)).toBe(
      '2500',
    );
    expect(s(evaluateBook(regT('0'), [{ ...book[0]!, maintenanceRate: '0.4' }]).maintenanceRequirement)).toBe(
      '4000',
    );
  });

  it('pattern day trader: 4× maintenance excess, suspended under $25,000', () => {
    const book = [{ instrument: 'SPY', quantity: '100', avgCost: '100', price: '100' }];
    const pdt = evaluateBook(regT('20000', {}, { dayTrades5d: 4 }), book);
    expect(pdt.details.patternDayTrader).toBe(true);
    expect(pdt.details.pdtRestricted).toBe(false);
    // Equity 30,000, maintenance 2,500: excess 27,500 × 4.
    expect(s(pdt.details.dayTradingBuyingPower as never)).toBe('110000');

    const small = evaluateBook(regT('10000', {}, { dayTrades5d: 5 }), book);
    expect(small.details.pdtRestricted).toBe(true);
    expect(s(small.details.dayTradingBuyingPower as never)).toBe('0');
    expect(small.violations[0]).toMatch(/pattern day trader with equity 20000 below the 25000 minimum/);

    const casual = evaluateBook(regT('10000', {}, { dayTrades5d: 3 }), book);
    expect(casual.details.patternDayTrader).toBe(false);
    expect(s(casual.details.dayTradingBuyingPower as never)).toBe(s(casual.buyingPower));
  });

  it('keeps a broker-supplied SMA when it is higher than today’s excess', () => {
    const e = evaluateBook(regT('-5000', {}, { sma: '3000' }), [
      { instrument: 'SPY', quantity: '100', avgCost: '100', price: '100' },
    ]);
    // Excess equity 5,000 − 5,000 = 0, SMA 3,000 → 6,000; maintenance cap 2,500 / 0.25 = 10,000.
    expect(s(e.buyingPower)).toBe('6000');
  });

  it('a house rate above the short rate adds a kink where it meets the $5/share minimum ($10 at 50%)', () => {
    // 100 short at $6, house 50%, cash 1,200: M = max(30%·600, $5·100, 50%·600) = 500 up to $10, then 50·p.
    // E = 1,200 − 100p reaches M at 1,200 − 100p = 500 → p = 7 (inside the flat part). Treating (5, 16.67)
    // as one affine piece (the kink at 10 undeclared) would have given 1,200 − 100p = 50p → p = 8.
    const e = evaluateBook(regT('1200', { houseMaintenanceRate: '0.5' }), [
      { instrument: 'XYZ', quantity: '-100', avgCost: '6', price: '6' },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('500');
    expect(s(e.positions[0]!.callPrice)).toBe('7');
    expect(s(e.positions[0]!.zeroEquityPrice)).toBe('12');
  });
});

describe('Reg T params can only be stricter than the rules', () => {
  it.each([
    ['initialRate', '0.4', '0.5'],
    ['maintenanceRate', '0.2', '0.25'],
    ['shortMaintenanceRate', '0.25', '0.30'],
    ['shortPerShareMinimum', '4', '5'],
    ['lowPricedShortPerShare', '2', '2.5'],
  ])('%s below the minimum is refused', (key, value, floor) => {
    expect(() => evaluateBook(regT('0', { [key]: value }), [])).toThrow(
      `account.params.${key}: must not be below the regulatory minimum ${floor}`,
    );
  });

  it('a stricter broker is fine', () => {
    const e = evaluateBook(regT('0', { maintenanceRate: '0.3', initialRate: '0.6' }), [
      { instrument: 'SPY', quantity: '10', avgCost: '100', price: '100' },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('300');
    expect(s(e.initialRequirement)).toBe('600');
  });
});
