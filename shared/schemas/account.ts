import { z } from 'zod';
import { riskContextSchema } from '../risk/dynamic-thresholds.ts';
import { thresholdsSchema } from '../risk/levels.ts';
import { decimalString, positiveDecimal } from './decimal-string.ts';
import { orderSchema } from './order.ts';

export const MODEL_NAMES = ['gross', 'reg-t', 'cash', 'tiered', 'portfolio'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export const modelName = z.enum(MODEL_NAMES, {
  error: (issue) =>
    issue.input === undefined
      ? 'required'
      : `unknown margin model ${JSON.stringify(issue.input)} (expected one of ${MODEL_NAMES.join(', ')})`,
});

const isoDate = z.iso.date({ error: 'expected a date like "2026-01-02"' });

export const pendingSettlementSchema = z.strictObject({
  /** Sale proceeds not yet settled (positive) or a purchase not yet paid (negative). */
  amount: decimalString,
  tradeDate: isoDate,
});

/** Strict: an unknown key (a misspelt field) is refused by name, never dropped. */
export const accountSchema = z.strictObject({
  id: z
    .string({ error: 'required' })
    .trim()
    .min(1, 'must not be empty')
    .max(128)
    .regex(/^[A-Za-z0-9._:@-]+$/, 'may contain only letters, digits and . _ : @ -'),
  model: modelName,
  /** Ledger cash: negative is a loan from the broker. For tiered accounts, the wallet (collateral) balance. */
  cash: decimalString,
  /** Cash accounts: cash already settled and free to trade. Defaults to cash less unsettled proceeds. */
  settledCash: decimalString.optional(),
  pendingSettlements: z.array(pendingSettlementSchema).default([]),
  /** Reg T Special Memorandum Account balance carried by the broker's ledger, if known. */
  sma: decimalString.optional(),
  /** Day trades in the last five business days (pattern-day-trader rule). */
  dayTrades5d: z.number({ error: 'expected a whole number' }).int().nonnegative().default(0),
  /** Broker's own PDT flag; a PDT stays a PDT even after a quiet week. */
  patternDayTrader: z.boolean().optional(),
  /** The evaluation date for settlement (defaults to today, UTC). */
  asOf: isoDate.optional(),
  /** Model parameters; each model validates its own. */
  params: z.record(z.string(), z.unknown()).default({}),
  /** Risk-level thresholds for this account (defaults: 2.0 / 1.5 / 1.2, hysteresis 0.05). */
  thresholds: thresholdsSchema.optional(),
  /** When given, thresholds are raised for strategy risk, market regime and account size. */
  riskContext: riskContextSchema.optional(),
  /** Deposits made at risk: initial capital; informational, used by reports. */
  capital: positiveDecimal.optional(),
  /**
   * Orders resting at the broker: each that would open or add to a position reserves initial margin (and
   * buying power) as the model defines; they never count toward maintenance or equity.
   */
  openOrders: z.array(orderSchema).optional(),
});

export type Account = z.output<typeof accountSchema>;
export type AccountInput = z.input<typeof accountSchema>;
