import { z } from 'zod';
import { safeParseFields, type FieldIssue } from '../errors.ts';
import { SCHEMA_VERSION } from './schemas.ts';

/**
 * Events a broker's order system publishes back to the Margin Guard bus (source `margin-guard.broker`)
 * about the orders of DeleverageRequested / LiquidationRequested, each naming the order by its
 * idempotency key. Versioned like ours: additive changes keep `schemaVersion`. Strict: a key this
 * version does not define (a misspelt field, or one a newer producer added before this schema did) is
 * refused by name and the event dead-lettered whole, never half-read.
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
  .strictObject({ ...envelope, brokerOrderId: z.string().min(1) })
  .meta({ title: 'OrderAccepted', description: 'The order system accepted the order (not yet filled).' });

export const orderFilledSchema = z
  .strictObject({
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
  .strictObject({ ...envelope, reason: z.string().min(1) })
  .meta({ title: 'OrderRejected', description: 'The order system refused the order; nothing was filled.' });

export const orderCancelledSchema = z
  .strictObject({ ...envelope, reason: z.string().min(1), cumulativeQuantity: positive })
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

/**
 * A broker event's detail, validated by its detail-type: the event, or every problem named by its field
 * (`detail.quantity`, `detail-type`). Never throws on bad input, whatever its shape.
 */
export function parseBrokerEvent(
  detailType: unknown,
  detail: unknown,
): { ok: true; event: BrokerEvent } | { ok: false; issues: FieldIssue[] } {
  if (typeof detailType !== 'string' || !Object.hasOwn(BROKER_EVENT_SCHEMAS, detailType))
    return {
      ok: false,
      issues: [
        {
          field: 'detail-type',
          message: `unknown detail-type ${JSON.stringify(detailType) ?? 'undefined'} (expected one of ${Object.keys(BROKER_EVENT_SCHEMAS).join(', ')})`,
        },
      ],
    };
  const type = detailType as BrokerDetailType;
  const parsed = safeParseFields(BROKER_EVENT_SCHEMAS[type], detail, ['detail']);
  return parsed.success
    ? { ok: true, event: { detailType: type, detail: parsed.data } as BrokerEvent }
    : { ok: false, issues: parsed.error.issues };
}
