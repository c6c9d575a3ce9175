import { Decimal } from '../decimal.ts';
import type { StoredRiskState } from '../pipeline/stored-state.ts';
import type { RiskLevel } from '../risk/levels.ts';

/**
 * The all-accounts overview: an index on the risk state, partitioned by level (and a shard, so one level's
 * writes never concentrate on one index partition), sorted by margin ratio or by distance to the call.
 * A page is a k-way merge of the level's shards.
 */

/** Levels in the order a risk desk reads them: worst first; accounts never rated come last. */
export const OVERVIEW_LEVELS = ['LIQUIDATION', 'CRITICAL', 'WARNING', 'SAFE', 'UNRATED'] as const;
export type OverviewLevel = (typeof OVERVIEW_LEVELS)[number];
export const OVERVIEW_SHARDS = 8;

/**
 * Sort keys live in a DynamoDB number read back as a JS number, so they are rounded to 15 significant
 * digits and bounded by ±1e15. They only order rows; every value shown comes from the decimal strings.
 */
export const SORT_KEY_BOUND = '1e15';
const BOUND = new Decimal(SORT_KEY_BOUND);

export interface OverviewSummaryFields {
  /** Nearest uniform move (fraction, negative = fall) to the margin call; null if none reaches it. */
  callMove: string | null;
  zeroEquityMove: string | null;
  grossExposure: string | null;
  model: string | null;
  incidentId: string | null;
}

export interface OverviewAttributes {
  overviewPartition: string;
  /** Ascending = riskiest first; no requirement (ratio null) sorts last. */
  ratioKey: string;
  /** |move| to the call; 0 when in a margin call; no reachable call sorts last. */
  callDistanceKey: string;
  overview: OverviewSummaryFields;
}

export function overviewLevelOf(level: RiskLevel | null): OverviewLevel {
  return level ?? 'UNRATED';
}

export function overviewPartition(level: OverviewLevel, shard: number): string {
  return `${level}#${shard}`;
}

/** FNV-1a: a stable shard for an account. */
export function overviewShardOf(accountId: string, shards: number = OVERVIEW_SHARDS): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) {
    h ^= accountId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

function sortKey(value: Decimal | null): string {
  if (value === null || value.greaterThan(BOUND)) return SORT_KEY_BOUND;
  if (value.lessThan(BOUND.negated())) return `-${SORT_KEY_BOUND}`;
  return value.toSignificantDigits(15, Decimal.ROUND_HALF_EVEN).toString();
}

/** What the overview index needs from a risk state (written with it, so the index is never behind it). */
export function overviewAttributes(state: StoredRiskState): OverviewAttributes {
  const call = state.evaluation?.distanceToCall.call.move ?? null;
  const ratio = state.marginRatio === null ? null : new Decimal(state.marginRatio);
  return {
    overviewPartition: overviewPartition(overviewLevelOf(state.level), overviewShardOf(state.accountId)),
    ratioKey: sortKey(ratio),
    callDistanceKey: state.inMarginCall ? '0' : sortKey(call === null ? null : new Decimal(call).abs()),
    overview: {
      callMove: call,
      zeroEquityMove: state.evaluation?.distanceToCall.zeroEquity.move ?? null,
      grossExposure: state.evaluation?.grossExposure ?? null,
      model: state.evaluation?.model ?? null,
      incidentId: state.tracker.incident?.id ?? null,
    },
  };
}

export const OVERVIEW_PROJECTION = [
  'level',
  'marginRatio',
  'equity',
  'maintenanceRequirement',
  'inMarginCall',
  'evaluatedAt',
  'dataProblem',
  'staleInstruments',
  'overview',
] as const;
