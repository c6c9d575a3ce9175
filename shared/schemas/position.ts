import { z } from 'zod';
import { allDecimal, decimalString, nonNegativeDecimal, positiveDecimal, rate } from './decimal-string.ts';
import { checkOptionFields, optionFieldsShape, withOptionDefaults } from './option.ts';

export const ASSET_CLASSES = ['equity', 'crypto', 'future'] as const;
export const assetClass = z.enum(ASSET_CLASSES);
export type AssetClass = z.infer<typeof assetClass>;

const isoDateTime = z.iso.datetime({
  offset: true,
  error: 'expected an ISO-8601 timestamp like "2026-01-02T15:04:05Z"',
});

/** A holding with its latest price. Quantity is signed: negative is short. Strict: unknown keys are refused. */
const positionObject = z
  .strictObject({
    instrument: z.string({ error: 'required' }).trim().min(1, 'must not be empty').max(64),
    quantity: decimalString,
    /** Average entry price per unit; the gross and tiered models need it. */
    avgCost: nonNegativeDecimal.optional(),
    price: positiveDecimal,
    /** Units of underlying per contract (1 for shares, 100 for equity options, 5 for micro futures…). */
    multiplier: positiveDecimal.default(() => positiveDecimal.parse('1')),
    /** Leveraged/inverse ETF factor, e.g. "3" or "-1"; raises Reg T requirements by |factor|. */
    leverageFactor: decimalString
      .refine((d) => !d.isZero() && d.abs().lessThanOrEqualTo(10), {
        error: 'must be non-zero, at most 10 in size',
      })
      .default(() => decimalString.parse('1')),
    /** House maintenance rate for this instrument: can only raise the model's requirement. */
    maintenanceRate: rate.optional(),
    /** House initial rate for this instrument: can only raise the model's requirement. */
    initialRate: rate.optional(),
    assetClass: assetClass.default('equity'),
    /** False for instruments that trade only in whole units. */
    fractional: z.boolean().default(true),
    lotSize: positiveDecimal.default(() => positiveDecimal.parse('1')),
    /** Tiered model: the position's leverage setting (initial margin = notional / leverage). */
    leverage: positiveDecimal
      .refine((d) => d.greaterThanOrEqualTo(1), { error: 'must be at least 1' })
      .optional(),
    /** Tiered model, isolated mode: margin posted to this position. */
    isolatedMargin: nonNegativeDecimal.optional(),
    openedAt: isoDateTime.optional(),
    priceTime: isoDateTime.optional(),
    averageDailyVolume: nonNegativeDecimal.optional(),
    /** Reduce or close this position only after every other one (e.g. a hedge the desk wants kept). */
    liquidateLast: z.boolean().default(false),
    /** Listed options: instrumentType "option" and the contract terms (option.ts). */
    ...optionFieldsShape,
  })
  .superRefine((p, ctx) => {
    checkOptionFields(p, ctx);
    // Runs even when a field failed (every issue in one pass): only compare what parsed.
    if (p.fractional === false && allDecimal(p.quantity) && !p.quantity.isInteger()) {
      ctx.addIssue({
        code: 'custom',
        path: ['quantity'],
        message: `${p.instrument} trades in whole units only; got ${p.quantity.toFixed()}`,
      });
    }
  });

/** An option without a multiplier gets the listed 100 before parsing (withOptionDefaults). */
export const positionSchema = z.preprocess(withOptionDefaults, positionObject);

export type Position = z.output<typeof positionSchema>;
export type PositionInput = z.input<typeof positionObject>;

export const positionsSchema = z.array(positionSchema).superRefine((positions, ctx) => {
  const seen = new Map<string, number>();
  positions.forEach((p, i) => {
    if (typeof p?.instrument !== 'string') return; // named by its own issue
    const first = seen.get(p.instrument);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'instrument'],
        message: `duplicate instrument ${p.instrument} (already at positions[${first}])`,
      });
    } else seen.set(p.instrument, i);
  });
});
