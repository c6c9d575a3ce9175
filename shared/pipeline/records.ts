import { z } from 'zod';
import {
  isTradingSession,
  sessionForAssetClass,
  TRADING_SESSIONS,
  type TradingSession,
} from '../market-hours.ts';
import { positiveDecimal } from '../schemas/decimal-string.ts';

/**
 * What the tables hold. Items keep the engine's edge shape (decimal strings), so an item is an engine
 * input plus its keys; these schemas only check the keys and the few fields the pipeline itself reads —
 * the engine validates the rest, strictly, and names any bad field. An account or position item may carry
 * exactly these attributes besides the engine's fields (stripped by toEngineAccount / toEnginePosition):
 * its keys, `updatedAt`, the writer's last-change time, and the ingestion's ordering attributes
 * (`sequence`, `cashSequence`, `bookSequence`: shared/ingest/apply.ts). Any other attribute is refused by name (an
 * invalid-data problem), so a misspelt field is never silently dropped.
 */
export const accountItemSchema = z.object({ accountId: z.string().min(1), model: z.string() }).passthrough();
export type AccountItem = z.output<typeof accountItemSchema> & Record<string, unknown>;

export const positionItemSchema = z
  .object({ accountId: z.string().min(1), instrument: z.string().min(1) })
  .passthrough();
export type PositionItem = z.output<typeof positionItemSchema> & Record<string, unknown>;

/** Strict: a price item with an attribute it does not define is dead-lettered, naming it. */
export const priceItemSchema = z.strictObject({
  instrument: z.string().min(1),
  /** The last traded price. */
  price: z.string(),
  /**
   * Venues that value positions at a mark (crypto perpetuals: an index-based fair price) publish it too:
   * equity, requirements, ratios, liquidation prices and guard bands then use the mark, not the last trade.
   */
  markPrice: z.string().optional(),
  /** When the price was observed at its source (ISO-8601). */
  priceTime: z.iso.datetime({ offset: true }),
  /**
   * The trading session the instrument follows (`us-equity`, `cme-globex`, `24x7`; shared/market-hours.ts):
   * time while its market is closed does not age the price. Optional: without it each holder's position
   * decides by its asset class (see `sessionOf`). The feed knows its venue, so setting it is best.
   */
  session: z.enum(TRADING_SESSIONS).optional(),
  source: z.string().optional(),
});
export type PriceItem = z.output<typeof priceItemSchema>;

const positive = (field: 'price' | 'markPrice') => ({
  path: [field],
  error: 'must be a positive decimal string',
});

/** A price item whose prices are positive decimals: what the price stream and the bulk import accept. */
export const validPriceItemSchema = priceItemSchema
  .refine((p) => positiveDecimal.safeParse(p.price).success, positive('price'))
  .refine(
    (p) => p.markPrice === undefined || positiveDecimal.safeParse(p.markPrice).success,
    positive('markPrice'),
  );

/** Positions that are not flat: a flat position needs no price; anything else (including unparsable quantities) does. */
export function heldPositions(positions: readonly PositionItem[]): PositionItem[] {
  return positions.filter((p) => !/^[+-]?0*(\.0*)?$/.test(String(p.quantity ?? '')));
}

/**
 * The trading session whose hours age a held position's price: the price item's `session` when it names
 * a known one, else the position's asset class (equity → `us-equity`, future → `cme-globex`; crypto, no
 * class or an unknown one → `24x7`, the clock always runs). Stored items are not re-validated on read, so
 * an unknown `session` (dead-lettered by the price stream) is ignored here rather than trusted.
 */
export function sessionOf(
  price: { session?: unknown },
  position: Readonly<Record<string, unknown>> | undefined,
): TradingSession {
  return isTradingSession(price.session) ? price.session : sessionForAssetClass(position?.assetClass);
}

/** The price positions are valued at: the mark where the venue publishes one, else the last trade. */
export const valuationPrice = (item: Pick<PriceItem, 'price' | 'markPrice'>): string =>
  item.markPrice ?? item.price;

/** Position item → engine position input: drop the keys and bookkeeping, add the latest (mark) price. */
export function toEnginePosition(item: PositionItem, price: PriceItem | undefined): Record<string, unknown> {
  const { accountId: _a, updatedAt: _u, sequence: _s, ...rest } = item;
  return price ? { ...rest, price: valuationPrice(price), priceTime: price.priceTime } : rest;
}

export function toEngineAccount(item: AccountItem): Record<string, unknown> {
  const { accountId, updatedAt: _u, sequence: _s, cashSequence: _c, bookSequence: _b, ...rest } = item;
  return { ...rest, id: accountId };
}

/** The engine's raw input for an account: its item, its positions, each with its latest price. */
export function toEngineInput(
  account: AccountItem,
  positions: readonly PositionItem[],
  prices: ReadonlyMap<string, PriceItem>,
) {
  return {
    account: toEngineAccount(account),
    positions: positions.map((p) => toEnginePosition(p, prices.get(p.instrument))),
  };
}
