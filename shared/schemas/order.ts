import { z } from 'zod';
import { positiveDecimal } from './decimal-string.ts';

export const ORDER_SIDES = ['BUY', 'SELL'] as const;
export const orderSide = z.enum(ORDER_SIDES);
export type OrderSide = z.infer<typeof orderSide>;

/**
 * An order: resting at the broker (an account's `openOrders`) or proposed (a what-if). Quantity is a
 * positive size, the side gives the direction. `price` is the limit price; without it the order is a
 * market order, priced at the instrument's current price. Strict: unknown keys are refused by name.
 */
export const orderSchema = z.strictObject({
  instrument: z.string({ error: 'required' }).trim().min(1, 'must not be empty').max(64),
  side: orderSide,
  quantity: positiveDecimal,
  price: positiveDecimal.optional(),
  /** Units of underlying per contract, for an instrument the account does not hold yet (default 1). */
  multiplier: positiveDecimal.optional(),
});

export type Order = z.output<typeof orderSchema>;
export type OrderInput = z.input<typeof orderSchema>;
