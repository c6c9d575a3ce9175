import type { Decimal } from '../decimal.ts';
import type { Account } from '../schemas/account.ts';
import { adjustThresholds } from './dynamic-thresholds.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from './levels.ts';

/** The thresholds in force for an account now: its own (or the defaults), adjusted for its risk context. */
export function thresholdsFor(account: Account, equity: Decimal): Thresholds {
  const base = account.thresholds ?? DEFAULT_THRESHOLDS;
  return account.riskContext ? adjustThresholds(base, equity, account.riskContext) : base;
}
