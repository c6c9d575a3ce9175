import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/decimal.ts';
import { settleBankruptcy } from '../../shared/deleverage/insurance-fund.ts';

describe('insurance-fund ledger (property)', () => {
  it('balances on every bankrupt liquidation: collateral + fund draw = loss; nothing owed when the balance is not negative', () => {
    const cents = (min: number, max: number) =>
      fc.integer({ min, max }).map((c) => new Decimal(c).dividedBy(100));
    fc.assert(
      fc.property(cents(0, 1e9), cents(-1e9, 1e9), (collateral, balance) => {
        const s = settleBankruptcy(collateral, balance);
        if (!balance.isNegative()) {
          expect(s).toBeNull();
          return;
        }
        expect(s!.fromCollateral.plus(s!.fromFund).equals(s!.loss)).toBe(true);
        expect(s!.fromFund.equals(balance.negated())).toBe(true);
        expect(s!.fromCollateral.equals(collateral)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
