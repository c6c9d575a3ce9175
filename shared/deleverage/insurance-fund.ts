import { Decimal } from '../decimal.ts';

/** What a bankrupt liquidation cost, and who bore it. */
export interface BankruptcySettlement {
  /** Everything the liquidation lost: the collateral the account had, and the deficit beyond it. */
  loss: Decimal;
  /** The account's collateral, all of it consumed. */
  fromCollateral: Decimal;
  /** The deficit, drawn from the insurance fund so the account is not left negative. */
  fromFund: Decimal;
}

/**
 * Bankruptcy accounting after a liquidation: an account left flat with a negative balance lost its whole
 * collateral and the deficit beyond it; the insurance fund covers the deficit and the balance returns to
 * zero. The ledger always balances: fromCollateral + fromFund = loss. Null when nothing is owed.
 */
export function settleBankruptcy(
  collateralBefore: Decimal,
  balanceAfter: Decimal,
): BankruptcySettlement | null {
  if (!balanceAfter.isNegative()) return null;
  const fromCollateral = Decimal.max(collateralBefore, new Decimal(0));
  const fromFund = balanceAfter.negated();
  return { loss: fromCollateral.plus(fromFund), fromCollateral, fromFund };
}
