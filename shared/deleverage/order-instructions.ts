import { z } from 'zod';
import { Decimal } from '../decimal.ts';
import { decimalString } from '../schemas/decimal-string.ts';
import { sessionOpenFrom } from '../market-hours.ts';
import type { Position } from '../schemas/position.ts';
import type { Side } from './execution.ts';

const fraction = (max = '1') =>
  decimalString.refine((d) => d.greaterThan(0) && d.lessThan(max), { error: `must be in (0, ${max})` });

const common = {
  timeInForce: z.enum(['DAY', 'GTC', 'IOC', 'FOK']).optional(),
  /** Equities: the broker may only work the order in the regular session. */
  regularHoursOnly: z.boolean().default(false),
};

/**
 * How a step's orders are worked: market; limit (a price bound from the reference, `maxSlippage` away);
 * stop (a stop-market `triggerOffset` beyond the reference); or TWAP (equal slices over a window, each
 * within `maxParticipation` of the interval's share of average daily volume).
 */
export const executionMethodSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('market'), ...common }).strict(),
  z.object({ type: z.literal('limit'), maxSlippage: fraction('0.5'), ...common }).strict(),
  z.object({ type: z.literal('stop'), triggerOffset: fraction('0.5'), ...common }).strict(),
  z
    .object({
      type: z.literal('twap'),
      windowMinutes: z.number().int().min(1).max(1440),
      sliceMinutes: z.number().int().min(1).max(240).default(5),
      maxParticipation: fraction().default(() => new Decimal('0.1')),
      ...common,
    })
    .strict(),
]);
export type ExecutionMethod = z.output<typeof executionMethodSchema>;

/** Per escalation step: deleverage works limit orders by default, liquidation goes at market. */
export const orderMethodsSchema = z
  .object({
    deleverage: executionMethodSchema.default(() =>
      executionMethodSchema.parse({ type: 'limit', maxSlippage: '0.005', timeInForce: 'DAY' }),
    ),
    liquidation: executionMethodSchema.default(() =>
      executionMethodSchema.parse({ type: 'market', timeInForce: 'IOC' }),
    ),
  })
  .strict();
export type OrderMethods = z.output<typeof orderMethodsSchema>;

export interface Slice {
  startAt: string;
  quantity: Decimal;
}

/** What the broker's order system is asked to do with one planned order. */
export interface OrderInstruction {
  orderType: 'MARKET' | 'LIMIT' | 'STOP' | 'TWAP';
  timeInForce: 'DAY' | 'GTC' | 'IOC' | 'FOK';
  /** Always true: the order may only shrink the position, never open or flip it. */
  reduceOnly: true;
  regularHoursOnly: boolean;
  limitPrice?: Decimal;
  stopPrice?: Decimal;
  slices?: Slice[];
}

/** A regular US equity session, in minutes: the participation cap's denominator. */
const SESSION_MINUTES = 390;

/**
 * The instruction for one order. Prices bound the order against us by at most the configured fraction
 * (a sell's limit below the reference, a buy's above), rounded to the position's price increment of
 * 1e-8 in the safe direction. TWAP slices are whole lots, add up to the order exactly, and are as many as
 * the window needs — more (a longer window) if the participation cap demands it.
 */
export function instruct(
  order: { side: Side; quantity: Decimal; referencePrice: Decimal },
  position: Pick<Position, 'lotSize' | 'averageDailyVolume'>,
  method: ExecutionMethod,
  now: Date,
): OrderInstruction {
  const sell = order.side === 'SELL';
  const away = (f: Decimal) =>
    order.referencePrice
      .times(sell ? new Decimal(1).minus(f) : new Decimal(1).plus(f))
      .toDecimalPlaces(8, sell ? Decimal.ROUND_DOWN : Decimal.ROUND_UP);
  const base = { reduceOnly: true as const, regularHoursOnly: method.regularHoursOnly };
  switch (method.type) {
    case 'market':
      return { ...base, orderType: 'MARKET', timeInForce: method.timeInForce ?? 'IOC' };
    case 'limit':
      return {
        ...base,
        orderType: 'LIMIT',
        timeInForce: method.timeInForce ?? 'DAY',
        limitPrice: away(method.maxSlippage),
      };
    case 'stop':
      return {
        ...base,
        orderType: 'STOP',
        timeInForce: method.timeInForce ?? 'GTC',
        stopPrice: away(method.triggerOffset),
      };
    case 'twap':
      return {
        ...base,
        orderType: 'TWAP',
        timeInForce: method.timeInForce ?? 'DAY',
        slices: twapSlices(order.quantity, position, method, now),
      };
  }
}

export function twapSlices(
  quantity: Decimal,
  position: Pick<Position, 'lotSize' | 'averageDailyVolume'>,
  method: Extract<ExecutionMethod, { type: 'twap' }>,
  now: Date,
): Slice[] {
  const lot = position.lotSize;
  const lots = quantity.dividedBy(lot).ceil().toNumber();
  let count = Math.max(1, Math.ceil(method.windowMinutes / method.sliceMinutes));
  if (position.averageDailyVolume && position.averageDailyVolume.greaterThan(0)) {
    // Per slice at most maxParticipation × ADV × (slice minutes / session minutes), in whole lots (≥ 1).
    const capLots = Decimal.max(
      new Decimal(1),
      position.averageDailyVolume
        .times(method.maxParticipation)
        .times(method.sliceMinutes)
        .dividedBy(SESSION_MINUTES)
        .dividedBy(lot)
        .floor(),
    ).toNumber();
    count = Math.max(count, Math.ceil(lots / capLots));
  }
  count = Math.min(count, lots);
  const slices: Slice[] = [];
  let left = quantity;
  // Regular hours only: slices start within the session, continuing at the next open when it closes.
  const place = (t: Date) => (method.regularHoursOnly ? inRegularSession(t) : t);
  let at = place(now);
  for (let i = 0; i < count; i++) {
    const share = Math.floor(lots / count) + (i < lots % count ? 1 : 0);
    const q = i === count - 1 ? left : Decimal.min(left, lot.times(share));
    left = left.minus(q);
    slices.push({ startAt: at.toISOString(), quantity: q });
    at = place(new Date(at.getTime() + method.sliceMinutes * 60_000));
  }
  return slices;
}

/**
 * The instant itself if it falls in the regular US equity session (Mon–Fri 09:30–16:00 New York, NYSE
 * holidays and 13:00 early closes included; see shared/market-hours.ts), else the next session's open.
 */
export const inRegularSession = (at: Date): Date => sessionOpenFrom(at, 'us-equity');
