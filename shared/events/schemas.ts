import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RISK_LEVELS } from '../risk/levels.ts';
import { RESTRICTIONS } from '../risk/restrictions.ts';

/**
 * Events on the Margin Guard bus (source `margin-guard`). The EventBridge detail-type is the event name;
 * `schemaVersion` inside the detail is the contract version: additive changes keep it, breaking changes
 * bump it. Decimals are strings. `eventId` is derived from what the event is about, so a re-delivery
 * carries the same id and consumers can drop duplicates.
 */
export const EVENT_SOURCE = 'margin-guard';
export const SCHEMA_VERSION = '1';

const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal string');
const level = z.enum(RISK_LEVELS);

const envelope = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  eventId: z.string().min(1),
  accountId: z.string().min(1),
  occurredAt: z.iso.datetime({ offset: true }),
};

export const riskLevelChangedSchema = z
  .object({
    ...envelope,
    from: level.nullable(),
    to: level,
    marginRatio: decimal.nullable(),
    equity: decimal,
    maintenanceRequirement: decimal,
    excessLiquidity: decimal,
    /** Nearest uniform price move (fraction, negative = fall) to the margin call; null if none reaches it. */
    callMove: decimal.nullable(),
    zeroEquityMove: decimal.nullable(),
    /** The risk incident this change belongs to (or closes); escalation keys on it. */
    incidentId: z.string().nullable(),
    staleInstruments: z.array(z.string()),
  })
  .meta({
    title: 'RiskLevelChanged',
    description: 'An account moved between SAFE, WARNING, CRITICAL and LIQUIDATION.',
  });

export const marginCallTriggeredSchema = z
  .object({
    ...envelope,
    incidentId: z.string(),
    marginRatio: decimal.nullable(),
    callRatio: decimal,
    equity: decimal,
    maintenanceRequirement: decimal,
    /** Funds needed to be back at the call ratio: callRatio · maintenance − equity. */
    shortfall: decimal,
  })
  .meta({
    title: 'MarginCallTriggered',
    description: 'Equity fell below callRatio × maintenance requirement.',
  });

export const marginCallResolvedSchema = z
  .object({
    ...envelope,
    incidentId: z.string(),
    marginRatio: decimal.nullable(),
    durationMs: z.number().int().nonnegative(),
    worstRatio: decimal.nullable(),
  })
  .meta({
    title: 'MarginCallResolved',
    description: 'The ratio is back above the call ratio plus hysteresis.',
  });

export const riskDataProblemSchema = z
  .object({
    ...envelope,
    kind: z.enum(['stale-prices', 'missing-prices', 'invalid-data', 'resolved']),
    instruments: z.array(z.string()),
    message: z.string(),
  })
  .meta({
    title: 'RiskDataProblem',
    description:
      'Margin cannot be trusted: prices stale or missing, or stored data invalid; `resolved` when it clears.',
  });

const restriction = z.enum(RESTRICTIONS);

export const tradingRestrictionChangedSchema = z
  .object({
    ...envelope,
    /** The restriction before (`none` for an account never restricted). */
    from: restriction,
    to: restriction,
    /** The tracked level and margin call that the restriction policy mapped to `to`. */
    level: level.nullable(),
    inMarginCall: z.boolean(),
    marginRatio: decimal.nullable(),
    /** The risk incident the change belongs to (or closes); null outside one. */
    incidentId: z.string().nullable(),
    /** What `to` still allows: new risk (opening or adding), partial reductions, withdrawals. */
    allows: z.object({ newRisk: z.boolean(), partialReduce: z.boolean(), withdrawals: z.boolean() }),
  })
  .meta({
    title: 'TradingRestrictionChanged',
    description:
      'The account’s trading restriction changed (none → withdrawals-gated → no-new-risk (reduce-only) → close-only, by the restriction policy of levels and margin call): for the broker’s order and payments systems.',
  });

const order = z.object({
  instrument: z.string(),
  side: z.enum(['SELL', 'BUY']),
  quantity: decimal,
  referencePrice: decimal,
  estimatedPrice: decimal,
  estimatedFees: decimal,
  /** Same key for the same (account, incident, step, instrument): submit-once for the order system. */
  idempotencyKey: z.string(),
  /** How to work it (additive in v1; absent from older producers: treat as a plain market order). */
  orderType: z.enum(['MARKET', 'LIMIT', 'STOP', 'TWAP']).optional(),
  timeInForce: z.enum(['DAY', 'GTC', 'IOC', 'FOK']).optional(),
  /** Always true when present: the order may only reduce the position, never open or flip it. */
  reduceOnly: z.literal(true).optional(),
  regularHoursOnly: z.boolean().optional(),
  limitPrice: decimal.optional(),
  stopPrice: decimal.optional(),
  /** TWAP: whole-lot slices adding up to the quantity, each to start at its time. */
  slices: z.array(z.object({ startAt: z.iso.datetime({ offset: true }), quantity: decimal })).optional(),
});

const orderRequest = {
  ...envelope,
  incidentId: z.string(),
  step: z.string(),
  requestedBy: z.enum(['automation', 'manual']),
  reason: z.string(),
  marginRatio: decimal.nullable(),
  targetRatio: decimal,
  projectedRatio: decimal.nullable(),
  strategy: z.string(),
  liquidationPriority: z.string(),
  orders: z.array(order),
};

export const deleverageRequestedSchema = z.object(orderRequest).meta({
  title: 'DeleverageRequested',
  description: 'Orders that reduce the account back to the target ratio, for the broker’s order system.',
});

export const liquidationRequestedSchema = z.object(orderRequest).meta({
  title: 'LiquidationRequested',
  description: 'Orders that close every position of the account, in liquidation priority order.',
});

const adlEntry = z.object({
  accountId: z.string(),
  /** 5 = first in line … 1 = last. */
  quantile: z.number().int().min(1).max(5),
  score: decimal,
  pnlFraction: decimal,
  effectiveLeverage: decimal,
});

export const adlQueuePublishedSchema = z
  .object({
    ...envelope,
    /** The bankrupt liquidation that drew on the insurance fund. */
    incidentId: z.string(),
    instrument: z.string(),
    markPrice: decimal,
    long: z.array(adlEntry),
    short: z.array(adlEntry),
  })
  .meta({
    title: 'AdlQueuePublished',
    description:
      'After a bankrupt liquidation drew on the insurance fund: the instrument’s auto-deleveraging queue (profitable positions per side by PnL% × effective leverage, quintiles), for the venue’s engine.',
  });

export const EVENT_SCHEMAS = {
  RiskLevelChanged: riskLevelChangedSchema,
  MarginCallTriggered: marginCallTriggeredSchema,
  MarginCallResolved: marginCallResolvedSchema,
  RiskDataProblem: riskDataProblemSchema,
  DeleverageRequested: deleverageRequestedSchema,
  LiquidationRequested: liquidationRequestedSchema,
  AdlQueuePublished: adlQueuePublishedSchema,
  TradingRestrictionChanged: tradingRestrictionChangedSchema,
} as const;

export type DetailType = keyof typeof EVENT_SCHEMAS;
export type EventDetail<T extends DetailType> = z.output<(typeof EVENT_SCHEMAS)[T]>;

export type DomainEvent = { [T in DetailType]: { detailType: T; detail: EventDetail<T> } }[DetailType];

export function eventId(detailType: DetailType, accountId: string, key: string): string {
  return createHash('sha256').update([detailType, accountId, key].join('\u0000')).digest('hex').slice(0, 32);
}
