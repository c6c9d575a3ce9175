import { z } from 'zod';
import { positiveDecimal } from './decimal-string.ts';

/**
 * Listed options as positions (issue 27). An option is a position with `instrumentType: "option"` and the
 * contract terms below; its own `price` is the option's premium per unit of underlying (the prices table
 * carries it as its own instrument) and `multiplier` defaults to 100. The underlying's price is the held
 * underlying position's price when the book holds it, `underlyingPrice` otherwise (filled from the prices
 * table as a separate instrument: both tick, both have staleness).
 *
 * Fields live flat on the position (positionSchema spreads `optionFieldsShape`) and are refused on a
 * position that is not an option; `checkOptionFields` names what is missing or out of place.
 */

/**
 * What the option is written on, which sets the Reg T / FINRA 4210(f)(2) percentages (docs/margin-models.md):
 * equity, etf, narrow-index: 20% / 10%; broad-index, broad-etf (an ETF on a broad-based index, e.g. SPY): 15% / 10%;
 * leveraged-etf, leveraged-broad-etf: those times |leverageFactor| (the position's own field), capped at 100%.
 */
export const UNDERLYING_CLASSES = [
  'equity',
  'etf',
  'broad-etf',
  'leveraged-etf',
  'leveraged-broad-etf',
  'narrow-index',
  'broad-index',
] as const;
export type UnderlyingClass = (typeof UNDERLYING_CLASSES)[number];

export const OPTION_RIGHTS = ['call', 'put'] as const;
export type OptionRight = (typeof OPTION_RIGHTS)[number];
export const OPTION_STYLES = ['american', 'european'] as const;
export type OptionStyle = (typeof OPTION_STYLES)[number];
export const OPTION_SETTLEMENTS = ['physical', 'cash'] as const;
export type OptionSettlement = (typeof OPTION_SETTLEMENTS)[number];

const isoDate = z.iso.date({ error: 'expected a date like "2026-03-20"' });

/** The option fields of a position; every one optional here, required together by checkOptionFields. */
export const optionFieldsShape = {
  /** "option" for a listed option; absent for a linear instrument (stock, ETF, future, crypto). */
  instrumentType: z.enum(['option']).optional(),
  /** The underlying instrument (a held position of that name, or priced by `underlyingPrice`). */
  underlying: z.string().trim().min(1, 'must not be empty').max(64).optional(),
  right: z.enum(OPTION_RIGHTS).optional(),
  strike: positiveDecimal.optional(),
  /** Last trading day (YYYY-MM-DD); after it the option is expired and must be settled, never priced. */
  expiry: isoDate.optional(),
  /** Default: american on equities and ETFs, european on indexes. */
  style: z.enum(OPTION_STYLES).optional(),
  underlyingClass: z.enum(UNDERLYING_CLASSES).optional(),
  /** Default: cash on indexes, physical (shares) otherwise. */
  settlement: z.enum(OPTION_SETTLEMENTS).optional(),
  /** The underlying's price, when the book does not hold the underlying itself. */
  underlyingPrice: positiveDecimal.optional(),
} as const;

const OPTION_ONLY_KEYS = [
  'underlying',
  'right',
  'strike',
  'expiry',
  'style',
  'underlyingClass',
  'settlement',
  'underlyingPrice',
] as const;
const REQUIRED_FOR_OPTIONS = ['underlying', 'right', 'strike', 'expiry', 'underlyingClass'] as const;

/** The listed contract size, used when an option position gives no multiplier. */
export const DEFAULT_OPTION_MULTIPLIER = '100';

/** Before parsing: an option without a multiplier gets the listed 100 (other positions keep 1). */
export function withOptionDefaults(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const record = raw as Record<string, unknown>;
  if (record.instrumentType !== 'option' || record.multiplier !== undefined) return raw;
  return { ...record, multiplier: DEFAULT_OPTION_MULTIPLIER };
}

interface OptionFieldsSeen {
  instrument?: unknown;
  quantity?: unknown;
  instrumentType?: unknown;
  underlying?: unknown;
  [key: string]: unknown;
}

/** Cross-field rules of one option position (run from positionSchema's superRefine). */
export function checkOptionFields(p: OptionFieldsSeen, ctx: z.RefinementCtx): void {
  if (p.instrumentType !== 'option') {
    for (const key of OPTION_ONLY_KEYS)
      if (p[key] !== undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: 'only for options (instrumentType: "option")' });
    return;
  }
  for (const key of REQUIRED_FOR_OPTIONS)
    if (p[key] === undefined)
      ctx.addIssue({ code: 'custom', path: [key], message: 'required for an option' });
  if (typeof p.underlying === 'string' && p.underlying === p.instrument)
    ctx.addIssue({ code: 'custom', path: ['underlying'], message: 'must not be the option itself' });
  const quantity = p.quantity as { isInteger?: () => boolean } | undefined;
  if (quantity && typeof quantity.isInteger === 'function' && !quantity.isInteger())
    ctx.addIssue({ code: 'custom', path: ['quantity'], message: 'options trade in whole contracts' });
}
