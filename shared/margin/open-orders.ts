import { Decimal, ZERO, sum } from '../decimal.ts';
import { InputError } from '../errors.ts';
import type { Order } from '../schemas/order.ts';
import { positionSchema, type Position } from '../schemas/position.ts';
import type { Book, CommonParams, MarginModel } from './model.ts';

/** The order's signed change of its position: + for a buy, − for a sell. */
export function signedQuantity(order: Pick<Order, 'side' | 'quantity'>): Decimal {
  return order.side === 'BUY' ? order.quantity : order.quantity.negated();
}

/**
 * The part of a change that opens risk on a position of `held`: all of it when it opens or adds, the part
 * beyond flat when it flips, nothing when it only reduces or closes.
 */
export function openingPart(held: Decimal, change: Decimal): Decimal {
  if (held.isZero() || held.isNegative() === change.isNegative()) return change;
  const after = held.plus(change);
  return after.isZero() || after.isNegative() === held.isNegative() ? ZERO : after;
}

/** A position for an instrument the account does not hold: the model's defaults, the order's multiplier. */
export function newPosition(instrument: string, price: Decimal, multiplier?: Decimal): Position {
  return {
    ...positionSchema.parse({ instrument, quantity: '0', price: price.toFixed() }),
    ...(multiplier ? { multiplier } : {}),
  };
}

export interface Reservation {
  /** Initial margin reserved by each open order (0 for one that only reduces). */
  perOrder: Decimal[];
  total: Decimal;
}

/**
 * Initial margin reserved by the account's open orders, as the model prices a position: each order that
 * would open, add to or flip a position reserves the model's initial requirement of that opening part on
 * its own, at its limit price (a market order at the current price). Orders are not netted against each
 * other (any of them may fill first), and an order that only reduces reserves nothing. Maintenance and
 * equity never see open orders.
 */
export function openOrderReservation(
  model: MarginModel<CommonParams>,
  book: Book<CommonParams>,
): Reservation | null {
  const orders = book.account.openOrders;
  if (!orders || orders.length === 0) return null;
  if (!model.separable)
    throw InputError.single(
      'account.openOrders',
      `open orders are not supported by the ${model.name} model (its requirement nets positions; evaluate the orders with a what-if instead)`,
    );
  const { rule } = model.separable(book);
  const held = new Map(book.positions.map((p) => [p.instrument, p]));
  const issues: { field: string; message: string }[] = [];
  const perOrder = orders.map((order, i) => {
    const position = held.get(order.instrument);
    const price = order.price ?? position?.price;
    if (!price) {
      issues.push({
        field: `account.openOrders[${i}].price`,
        message: `required: ${order.instrument} is not held, so a market order has no price`,
      });
      return ZERO;
    }
    const opening = openingPart(position?.quantity ?? ZERO, signedQuantity(order));
    if (opening.isZero()) return ZERO;
    const template = position ?? newPosition(order.instrument, price, order.multiplier);
    return rule.requirement({ ...template, quantity: opening, avgCost: price, price }, price).initial;
  });
  if (issues.length > 0) throw new InputError(issues);
  return { perOrder, total: sum(perOrder) };
}
