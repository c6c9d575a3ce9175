import { Decimal } from '../decimal.ts';
import type { Position } from '../schemas/position.ts';

/** A tier's upper notional bound; null for the last, open-ended tier. */
export interface TierBound {
  upTo: Decimal | null;
}

/** The index of the risk tier a notional falls in (bounds are inclusive). */
export function tierIndexOf(notional: Decimal, tiers: readonly TierBound[]): number {
  const i = tiers.findIndex((t) => t.upTo === null || notional.lessThanOrEqualTo(t.upTo));
  return i < 0 ? tiers.length - 1 : i;
}

/**
 * Venue-style partial liquidation: how much to close so the position steps down to the next lower risk
 * tier — the largest whole number of lots whose notional at `price` is within that tier's bound. Zero for
 * a position already in the first tier (it can only be closed).
 */
export function stepDownQuantity(
  position: Pick<Position, 'quantity' | 'multiplier' | 'lotSize'>,
  price: Decimal,
  tiers: readonly TierBound[],
): { close: Decimal; fromTier: number; toTier: number } {
  const size = position.quantity.abs();
  const unitNotional = price.times(position.multiplier);
  const tier = tierIndexOf(size.times(unitNotional), tiers);
  if (tier === 0) return { close: new Decimal(0), fromTier: 0, toTier: 0 };
  const bound = tiers[tier - 1]!.upTo!;
  const lot = position.lotSize;
  const keep = Decimal.min(size, bound.dividedBy(unitNotional).dividedBy(lot).floor().times(lot));
  return { close: size.minus(keep), fromTier: tier, toTier: tier - 1 };
}
