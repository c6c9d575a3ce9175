import { describe, expect, it } from 'vitest';
import { InputError } from '../../../shared/errors.ts';
import { evaluateBook, s } from '../../helpers/book.ts';

describe('cash account', () => {
  const book = [{ instrument: 'SPY', quantity: '10', avgCost: '50', price: '50' }];

  it('has no requirement and no margin call; buying power is settled cash', () => {
    const e = evaluateBook({ model: 'cash', cash: '1000' }, book);
    expect(s(e.equity)).toBe('1500');
    expect(s(e.maintenanceRequirement)).toBe('0');
    expect(e.marginRatio).toBeNull();
    expect(e.inMarginCall).toBe(false);
    expect(e.distanceToCall.call.move).toBeNull();
    expect(s(e.buyingPower)).toBe('1000');
    expect(s(e.initialRequirement)).toBe('500'); // fully paid
  });

  it('settles sale proceeds T+1 over the weekend', () => {
    // Sold on Friday 2026-01-02: settles Monday 2026-01-05.
    const account = {
      model: 'cash',
      cash: '1000',
      pendingSettlements: [{ amount: '400', tradeDate: '2026-01-02' }],
    };
    const friday = evaluateBook({ ...account, asOf: '2026-01-02' }, book);
    expect(s(friday.buyingPower)).toBe('600');
    expect(s(friday.details.unsettledCash as never)).toBe('400');
    const monday = evaluateBook({ ...account, asOf: '2026-01-05' }, book);
    expect(s(monday.buyingPower)).toBe('1000');
  });

  it('adds proceeds that settled since an explicit settled balance', () => {
    const e = evaluateBook(
      {
        model: 'cash',
        cash: '1000',
        settledCash: '200',
        asOf: '2026-01-06',
        pendingSettlements: [{ amount: '300', tradeDate: '2026-01-05' }],
      },
      book,
    );
    expect(s(e.buyingPower)).toBe('500');
  });

  it('rejects a short, naming the position', () => {
    try {
      evaluateBook({ model: 'cash', cash: '1000' }, [{ instrument: 'TSLA', quantity: '-5', price: '200' }]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).issues[0]).toMatchObject({ field: 'positions[0].quantity' });
      expect((e as InputError).message).toMatch(/cash accounts cannot hold short positions \(TSLA is -5\)/);
    }
  });

  it('treats a debit as a requirement to cover, and flags it', () => {
    const e = evaluateBook({ model: 'cash', cash: '-100' }, book);
    expect(s(e.maintenanceRequirement)).toBe('100');
    expect(s(e.marginRatio)).toBe('4'); // (500 − 100) / 100
    expect(e.violations[0]).toMatch(/debit of 100/);
    expect(s(e.buyingPower)).toBe('0');
  });
});
