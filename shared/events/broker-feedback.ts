import { z } from 'zod';
import { SCHEMA_VERSION } from './schemas.ts';

/**
 * Events a broker's order system publishes back to the Margin Guard bus (source `margin-guard.broker`)
 * about the orders of DeleverageRequested / LiquidationRequested, each naming the order by its
 * idempotency key. Versioned like ours: additive changes keep `schemaVersion`.
 */
export const BROKER_EVENT_SOURCE = 'margin-guard.broker';

const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal string');
const positive = z.string().regex(/^\d+(\.\d+)?$/, 'a non-negative decimal string');

const envelope = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  /** The broker's id for this event: a redelivery carries the same one. */
  eventId: z.string().min(1),
  accountId: z.string().min(1),
  idempotencyKey: z.string().min(1),
  occurredAt: z.iso.datetime({ offset: true }),
};

export const orderAcceptedSchema = z
  .object({ ...envelope, brokerOrderId: z.string().min(1) })
  .meta({ title: 'OrderAccepted', description: 'The order system accepted the order (not yet filled).' });

export const orderFilledSchema = z
  .object({
    ...envelope,
    /** This fill, and everything filled so far on the order. */
    quantity: positive,
    cumulativeQuantity: positive,
    price: positive,
    fees: decimal,
    /** The order is complete (no more fills will come). */
    final: z.boolean(),
  })
  .meta({ title: 'OrderFilled', description: 'A partial or full fill, with price and fees.' });

export const orderRejectedSchema = z
  .object({ ...envelope, reason: z.string().min(1) })
  .meta({ title: 'OrderRejected', description: 'The order system refused the order; nothing was filled.' });

export const orderCancelledSchema = z
  .object({ ...envelope, reason: z.string().min(1), cumulativeQuantity: positive })
  .meta({
    title: 'OrderCancelled',
    description: 'The order ended before it filled (e.g. IOC remainder, expiry).',
  });

export const BROKER_EVENT_SCHEMAS = {
  OrderAccepted: orderAcceptedSchema,
  OrderFilled: orderFilledSchema,
  OrderRejected: orderRejectedSchema,
  OrderCancelled: orderCancelledSchema,
} as const;

export type BrokerDetailType = keyof typeof BROKER_EVENT_SCHEMAS;
export type BrokerEvent = {
  [T in BrokerDetailType]: { detailType: T; detail: z.output<(typeof BROKER_EVENT_SCHEMAS)[T]> };
}[BrokerDetailType];
