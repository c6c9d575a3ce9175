import { z } from 'zod';
import { Decimal } from '../decimal.ts';
import { DEFAULT_RESTRICTION_POLICY, restrictionPolicySchema } from '../risk/restrictions.ts';
import { decimalString } from '../schemas/decimal-string.ts';

/** Evaluation pipeline settings (Lambda environment or local mode), validated with defaults. */
export const pipelineConfigSchema = z.object({
  /**
   * A price older than this is stale: the account is flagged, never silently trusted. Age counts in its
   * market's time (shared/market-hours.ts `staleSince`): a price still fresh at the close stays fresh until
   * this long after the next open; a 24x7 instrument (crypto, or no asset class) ages on the wall clock.
   */
  staleAfterMs: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 60_000),
  /**
   * Write state and history at least this often even when nothing changed. Guard bands prove the stored
   * level current between evaluations, and ratio moves are written at every sweep; the heartbeat only
   * refreshes a quiet account's stored figures, so it can be rare (each write is a ~10 KB transaction).
   */
  heartbeatMs: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 60 * 60_000),
  /**
   * The heartbeat while every market the account holds is closed (its prices cannot move): at most this
   * often (shared/pipeline/assess.ts). A 24x7 instrument's market never closes.
   */
  closedHeartbeatMs: z.coerce
    .number()
    .int()
    .positive()
    .default(24 * 60 * 60_000),
  /** Write when the ratio moved at least this much since the last write. */
  ratioDelta: decimalString
    .refine((d) => d.greaterThan(0), { error: 'must be greater than 0' })
    .default(() => new Decimal('0.05')),
  historyTtlDays: z.coerce.number().int().positive().default(90),
  /** Trading restrictions by level and margin call (TradingRestrictionChanged; the API's what-if). */
  restrictionPolicy: restrictionPolicySchema.default(DEFAULT_RESTRICTION_POLICY),
});

export type PipelineConfig = z.output<typeof pipelineConfigSchema>;
export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = pipelineConfigSchema.parse({});
