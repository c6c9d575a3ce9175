import { z } from 'zod';
import type { Decimal } from '../decimal.ts';
import type { Position } from '../schemas/position.ts';

export const STRATEGIES = ['proportional', 'risk-based', 'liquidity-aware', 'time-based'] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const strategySchema = z.enum(STRATEGIES, { error: `expected one of ${STRATEGIES.join(', ')}` });

export const LIQUIDATION_PRIORITIES = ['risk', 'size', 'liquidity', 'time'] as const;
export type LiquidationPriority = (typeof LIQUIDATION_PRIORITIES)[number];
export const liquidationPrioritySchema = z.enum(LIQUIDATION_PRIORITIES, {
  error: `expected one of ${LIQUIDATION_PRIORITIES.join(', ')}`,
});

export interface Candidate {
  index: number;
  position: Position;
  maintenance: Decimal;
  /** |qty|·multiplier·price */
  size: Decimal;
  /** Average daily volume in money, or null when unknown. */
  liquidity: Decimal | null;
}

type Key = (c: Candidate) => Decimal | string | null;

/** Sorts by one key (nulls last), then by instrument so the same book always gives the same order. */
function sortBy(candidates: readonly Candidate[], key: Key, descending: boolean): Candidate[] {
  return [...candidates].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka === null && kb !== null) return 1;
    if (kb === null && ka !== null) return -1;
    if (ka !== null && kb !== null) {
      const c = typeof ka === 'string' ? ka.localeCompare(kb as string) : ka.comparedTo(kb as Decimal);
      if (c !== 0) return descending ? -c : c;
    }
    return a.position.instrument < b.position.instrument
      ? -1
      : a.position.instrument > b.position.instrument
        ? 1
        : 0;
  });
}

const byRisk = (c: readonly Candidate[]) => sortBy(c, (x) => x.maintenance, true);
const bySize = (c: readonly Candidate[]) => sortBy(c, (x) => x.size, true);
const byLiquidity = (c: readonly Candidate[]) => sortBy(c, (x) => x.liquidity, true);
const byAge = (c: readonly Candidate[]) => sortBy(c, (x) => x.position.openedAt ?? null, false);

/** Positions flagged `liquidateLast` keep their order among themselves but come after every other. */
const lastly = (ordered: Candidate[]) => [
  ...ordered.filter((c) => !c.position.liquidateLast),
  ...ordered.filter((c) => c.position.liquidateLast),
];

export function orderForStrategy(
  strategy: Exclude<Strategy, 'proportional'>,
  c: readonly Candidate[],
): Candidate[] {
  switch (strategy) {
    case 'risk-based':
      return lastly(byRisk(c));
    case 'liquidity-aware':
      return lastly(byLiquidity(c));
    case 'time-based':
      return lastly(byAge(c));
  }
}

export function orderForLiquidation(priority: LiquidationPriority, c: readonly Candidate[]): Candidate[] {
  switch (priority) {
    case 'risk':
      return lastly(byRisk(c));
    case 'size':
      return lastly(bySize(c));
    case 'liquidity':
      return lastly(byLiquidity(c));
    case 'time':
      return lastly(byAge(c));
  }
}
