import { Decimal, ZERO } from '../decimal.ts';
import type { BrokerEvent } from '../events/broker-feedback.ts';

export type OrderStatus = 'requested' | 'accepted' | 'partially-filled' | 'filled' | 'rejected' | 'cancelled';

/** A requested order as the broker's feedback has moved it on (decimals as strings, as stored). */
export interface TrackedOrder {
  idempotencyKey: string;
  accountId: string;
  incidentId: string;
  step: string;
  instrument: string;
  side: 'SELL' | 'BUY';
  requested: string;
  filled: string;
  /** Filled notional (Σ quantity × price), for the average fill price. */
  filledNotional: string;
  fees: string;
  status: OrderStatus;
  requestedAt: string;
  updatedAt: string;
  /** Broker event ids already applied (a redelivery changes nothing). */
  seen: string[];
  /** The account's collateral when the order was planned. */
  collateral?: string;
}

const FINAL: readonly OrderStatus[] = ['filled', 'rejected', 'cancelled'];
export const isFinal = (o: Pick<TrackedOrder, 'status'>) => FINAL.includes(o.status);
export const unfilled = (o: Pick<TrackedOrder, 'requested' | 'filled'>) =>
  new Decimal(o.requested).minus(new Decimal(o.filled));

/**
 * Applies one broker event. Idempotent (an event id is applied once), and monotone: the filled quantity
 * only grows (cumulative quantities, so a lost or reordered partial fill is made up by the next), a final
 * status stays final, and nothing is filled beyond what was requested.
 */
export function applyFeedback(order: TrackedOrder, e: BrokerEvent): TrackedOrder {
  if (order.seen.includes(e.detail.eventId)) return order;
  const next: TrackedOrder = {
    ...order,
    seen: [...order.seen, e.detail.eventId].slice(-50),
    updatedAt: e.detail.occurredAt > order.updatedAt ? e.detail.occurredAt : order.updatedAt,
  };
  const requested = new Decimal(order.requested);
  switch (e.detailType) {
    case 'OrderAccepted':
      return order.status === 'requested' ? { ...next, status: 'accepted' } : next;
    case 'OrderFilled': {
      const cumulative = Decimal.min(requested, new Decimal(e.detail.cumulativeQuantity));
      const added = Decimal.max(ZERO, cumulative.minus(new Decimal(order.filled)));
      const filled = new Decimal(order.filled).plus(added);
      const complete = filled.greaterThanOrEqualTo(requested);
      return {
        ...next,
        filled: filled.toFixed(),
        filledNotional: new Decimal(order.filledNotional)
          .plus(added.times(new Decimal(e.detail.price)))
          .toFixed(),
        fees: new Decimal(order.fees).plus(new Decimal(e.detail.fees)).toFixed(),
        status: complete
          ? 'filled'
          : isFinal(order)
            ? order.status
            : e.detail.final
              ? 'cancelled'
              : 'partially-filled',
      };
    }
    case 'OrderRejected':
      return isFinal(order)
        ? next
        : { ...next, status: new Decimal(order.filled).isZero() ? 'rejected' : 'cancelled' };
    case 'OrderCancelled':
      return isFinal(order) ? next : { ...next, status: 'cancelled' };
  }
}

/**
 * Where an incident's orders stand: those still working; those that ended short of their quantity
 * (rejected, cancelled, partially filled then ended) — the remainder to re-plan; and those working past
 * the fill timeout — to page about.
 */
export function executionState(orders: readonly TrackedOrder[], now: Date, fillTimeoutMs: number) {
  const open = orders.filter((o) => !isFinal(o));
  return {
    open,
    short: orders.filter((o) => isFinal(o) && unfilled(o).greaterThan(0)),
    overdue: open.filter((o) => now.getTime() - Date.parse(o.requestedAt) >= fillTimeoutMs),
  };
}
