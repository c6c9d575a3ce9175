import { z } from 'zod';
import type { Decimal } from '../decimal.ts';
import { RISK_LEVELS, type RiskLevel } from './levels.ts';

/**
 * Staged trading restrictions, mildest first. Each stage includes everything the milder ones forbid:
 * - `none`: any order the account's funds cover; withdrawals up to `withdrawable`;
 * - `withdrawals-gated`: trading as usual, no cash may leave;
 * - `no-new-risk` (reduce-only): an order may only shrink a position (never open, add to or flip one);
 * - `close-only`: an order may only close a position entirely (to flat); no partial reductions.
 */
export const RESTRICTIONS = ['none', 'withdrawals-gated', 'no-new-risk', 'close-only'] as const;
export type Restriction = (typeof RESTRICTIONS)[number];
export const restrictionSchema = z.enum(RESTRICTIONS);

/** 0 = none … 3 = close-only. */
export function restrictionSeverity(r: Restriction): number {
  return RESTRICTIONS.indexOf(r);
}

export function stricter(a: Restriction, b: Restriction): Restriction {
  return restrictionSeverity(a) >= restrictionSeverity(b) ? a : b;
}

/** What a restriction still allows, as published with TradingRestrictionChanged. */
export function allows(r: Restriction): { newRisk: boolean; partialReduce: boolean; withdrawals: boolean } {
  const s = restrictionSeverity(r);
  return { newRisk: s <= 1, partialReduce: s <= 2, withdrawals: s === 0 };
}

/**
 * The policy: a restriction per risk level and one while a margin call is open; the stricter applies.
 * A worse level never gets a milder restriction (checked), so restrictions only tighten as risk grows.
 */
export const restrictionPolicySchema = z
  .strictObject({
    levels: z
      .strictObject({
        SAFE: restrictionSchema.default('none'),
        WARNING: restrictionSchema.default('withdrawals-gated'),
        CRITICAL: restrictionSchema.default('no-new-risk'),
        LIQUIDATION: restrictionSchema.default('close-only'),
      })
      .default({
        SAFE: 'none',
        WARNING: 'withdrawals-gated',
        CRITICAL: 'no-new-risk',
        LIQUIDATION: 'close-only',
      }),
    marginCall: restrictionSchema.default('no-new-risk'),
  })
  .superRefine((p, ctx) => {
    if (!p.levels) return;
    RISK_LEVELS.forEach((level, i) => {
      const prev = RISK_LEVELS[i - 1];
      if (!prev) return;
      const [a, b] = [p.levels[prev], p.levels[level]];
      if (a && b && restrictionSeverity(b) < restrictionSeverity(a))
        ctx.addIssue({
          code: 'custom',
          path: ['levels', level],
          message: `must not be milder than ${prev}'s restriction (${a})`,
        });
    });
  });

export type RestrictionPolicy = z.output<typeof restrictionPolicySchema>;
export const DEFAULT_RESTRICTION_POLICY: RestrictionPolicy = restrictionPolicySchema.parse({});

/** The restriction for a tracked level and margin-call state; an account never evaluated has none. */
export function restrictionFor(
  policy: RestrictionPolicy,
  level: RiskLevel | null,
  inMarginCall: boolean,
): Restriction {
  const byLevel = level === null ? 'none' : policy.levels[level];
  return inMarginCall ? stricter(byLevel, policy.marginCall) : byLevel;
}

/** What an order does to its position (signed quantities: the position before, the order's change). */
export type OrderEffect = 'open' | 'increase' | 'reduce' | 'close' | 'flip';

export function orderEffect(position: Decimal, change: Decimal): OrderEffect {
  if (position.isZero()) return 'open';
  if (position.isNegative() === change.isNegative()) return 'increase';
  const after = position.plus(change);
  if (after.isZero()) return 'close';
  return after.isNegative() === position.isNegative() ? 'reduce' : 'flip';
}

/** True when an order of this effect adds risk (opens, grows or flips a position). */
export const addsRisk = (e: OrderEffect) => e === 'open' || e === 'increase' || e === 'flip';

/** Whether a restriction lets an order of this effect through (funds are judged separately). */
export function permits(r: Restriction, e: OrderEffect): boolean {
  if (r === 'close-only') return e === 'close';
  if (r === 'no-new-risk') return e === 'reduce' || e === 'close';
  return true;
}
