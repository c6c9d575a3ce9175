import { Decimal, ZERO } from '../decimal.ts';

/** One account's position in an instrument, as ranking needs it. */
export interface AdlCandidate {
  accountId: string;
  /** Signed quantity (negative = short). */
  quantity: Decimal;
  entryPrice: Decimal;
  markPrice: Decimal;
  multiplier: Decimal;
  /** The account's equity (margin balance). */
  equity: Decimal;
}

export interface AdlRank {
  accountId: string;
  side: 'long' | 'short';
  /** Unrealised PnL as a fraction of the entry notional. */
  pnlFraction: Decimal;
  /** |notional at mark| / equity. */
  effectiveLeverage: Decimal;
  /** pnlFraction × effectiveLeverage: higher is deleveraged first. */
  score: Decimal;
  /** 1 (last in line) … 5 (first in line), by score quintile within the side. */
  quantile: number;
}

/**
 * Auto-deleveraging queue for an instrument (Binance-style): when a bankrupt position cannot be closed
 * in the market, the venue closes it against the most profitable, most leveraged positions on the other
 * side. Only profitable positions with positive equity rank; each side is ranked separately.
 */
export function adlRanking(candidates: readonly AdlCandidate[]): AdlRank[] {
  const ranked: AdlRank[] = [];
  for (const side of ['long', 'short'] as const) {
    const scored = candidates
      .filter(
        // greaterThan(0), not isPositive(): decimal.js counts 0 as positive, and equity 0 would rank at
        // an infinite leverage.
        (c) =>
          (side === 'long' ? c.quantity.greaterThan(0) : c.quantity.lessThan(0)) && c.equity.greaterThan(0),
      )
      .map((c) => {
        const entryNotional = c.quantity.abs().times(c.entryPrice).times(c.multiplier);
        const pnl = c.markPrice.minus(c.entryPrice).times(c.quantity).times(c.multiplier);
        const pnlFraction = entryNotional.isZero() ? ZERO : pnl.dividedBy(entryNotional);
        const effectiveLeverage = c.quantity.abs().times(c.markPrice).times(c.multiplier).dividedBy(c.equity);
        return {
          accountId: c.accountId,
          side,
          pnlFraction,
          effectiveLeverage,
          score: pnlFraction.times(effectiveLeverage),
        };
      })
      .filter((r) => r.pnlFraction.greaterThan(0))
      .sort((a, b) => b.score.comparedTo(a.score) || (a.accountId < b.accountId ? -1 : 1));
    scored.forEach((r, i) => ranked.push({ ...r, quantile: 5 - Math.floor((5 * i) / scored.length) }));
  }
  return ranked;
}
