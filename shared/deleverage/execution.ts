import { z } from 'zod';
import { Decimal } from '../decimal.ts';
import { decimalString } from '../schemas/decimal-string.ts';
import type { Position } from '../schemas/position.ts';
import type { ValidatedInput } from '../margin/evaluate.ts';

/** What an order is assumed to cost: planning must not count on a fill at the last price for free. */
export const executionSchema = z
  .object({
    /** Fee as a fraction of the executed notional. */
    feeRate: decimalString
      .refine((d) => d.greaterThanOrEqualTo(0) && d.lessThan(1), { error: 'must be in [0, 1)' })
      .default(() => new Decimal('0.0005')),
    feePerOrder: decimalString
      .refine((d) => d.greaterThanOrEqualTo(0), { error: 'must not be negative' })
      .default(() => new Decimal('0')),
    /** Adverse price move assumed on every fill, as a fraction. */
    slippageRate: decimalString
      .refine((d) => d.greaterThanOrEqualTo(0) && d.lessThan(1), { error: 'must be in [0, 1)' })
      .default(() => new Decimal('0.001')),
    /** Liquidity-aware strategy: an order may be at most this fraction of average daily volume. */
    maxAdvFraction: decimalString
      .refine((d) => d.greaterThan(0) && d.lessThanOrEqualTo(1), { error: 'must be in (0, 1]' })
      .default(() => new Decimal('0.1')),
  })
  .strict();

export type ExecutionAssumptions = z.output<typeof executionSchema>;

/** Reducing a long sells; reducing a short buys to cover. Never the other way: orders only shrink positions. */
export type Side = 'SELL' | 'BUY';

export interface Fill {
  instrument: string;
  side: Side;
  /** Positive number of units (contracts/shares) to trade. */
  quantity: Decimal;
  /** Price the fill is assumed to happen at (reference price moved against us by slippage). */
  price: Decimal;
  fees: Decimal;
}

export function closingSide(position: Position): Side {
  return position.quantity.isNegative() ? 'BUY' : 'SELL';
}

export function estimateFill(
  position: Position,
  quantity: Decimal,
  referencePrice: Decimal,
  exec: ExecutionAssumptions,
): Fill {
  const side = closingSide(position);
  const price =
    side === 'SELL'
      ? referencePrice.times(exec.slippageRate.negated().plus(1))
      : referencePrice.times(exec.slippageRate.plus(1));
  const notional = quantity.times(position.multiplier).times(price);
  return {
    instrument: position.instrument,
    side,
    quantity,
    price,
    fees: notional.times(exec.feeRate).plus(exec.feePerOrder),
  };
}

/**
 * The book after fills. Spot positions: the sale (or cover) moves cash by the traded value.
 * Contracts (derivative valuation): closing realises PnL against the entry price into the wallet.
 */
export function applyFills(
  input: ValidatedInput,
  fills: readonly Fill[],
  valuation: 'spot' | 'derivative',
): ValidatedInput {
  let cash = input.account.cash;
  const byInstrument = new Map(fills.map((f) => [f.instrument, f]));
  const positions: Position[] = [];
  const underlyings = new Set(
    input.positions.flatMap((p) => (p.instrumentType === 'option' ? [p.underlying] : [])),
  );
  for (const p of input.positions) {
    const fill = byInstrument.get(p.instrument);
    if (!fill) {
      positions.push(p);
      continue;
    }
    const signed = fill.side === 'SELL' ? fill.quantity.negated() : fill.quantity; // change in position
    const traded = signed.times(p.multiplier);
    cash =
      valuation === 'spot'
        ? cash.minus(traded.times(fill.price))
        : cash.plus(traded.negated().times(fill.price.minus(p.avgCost ?? p.price)));
    cash = cash.minus(fill.fees);
    const remaining = p.quantity.plus(signed);
    // A closed underlying of a held option stays as a flat row: the option is priced from its price.
    if (!remaining.isZero() || underlyings.has(p.instrument)) positions.push({ ...p, quantity: remaining });
  }
  return { account: { ...input.account, cash }, positions };
}
