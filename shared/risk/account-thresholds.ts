import type { Decimal } from '../decimal.ts';
import type { Account } from '../schemas/account.ts';
import { adjustThresholds, DEFAULT_ADJUSTMENTS } from './dynamic-thresholds.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from './levels.ts';

/** The thresholds in force for an account now: its own (or the defaults), adjusted for its risk context. */
export function thresholdsFor(account: Account, equity: Decimal): Thresholds {
  const base = account.thresholds ?? DEFAULT_THRESHOLDS;
  return account.riskContext ? adjustThresholds(base, equity, account.riskContext) : base;
}

/**
 * Equity levels at which thresholdsFor gives different thresholds (the large-account adjustment): a
 * price move that carries equity across one changes the thresholds even when the ratio stays put.
 */
export function thresholdSwitchesFor(account: Account): Decimal[] {
  if (!account.riskContext || DEFAULT_ADJUSTMENTS.largeAccount.equals(1)) return [];
  return [DEFAULT_ADJUSTMENTS.largeAccountEquity];
}
