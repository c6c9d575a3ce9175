import { Decimal } from '../decimal.ts';
import type { RiskLevel, Thresholds } from '../risk/levels.ts';
import type { Alert } from './alert.ts';

const NEXT_WORSE: Record<RiskLevel, { level: RiskLevel; threshold: keyof Thresholds } | null> = {
  SAFE: { level: 'WARNING', threshold: 'warning' },
  WARNING: { level: 'CRITICAL', threshold: 'critical' },
  CRITICAL: { level: 'LIQUIDATION', threshold: 'liquidation' },
  LIQUIDATION: null,
};

export interface WrittenState {
  accountId: string;
  level: RiskLevel | null;
  marginRatio: string | null;
  evaluatedAt: string;
  callMove: string | null;
  incidentId: string | null;
}

/**
 * A predictive alert: the ratio is above the next worse level's threshold t, but by less than
 * `fraction` of t — (r − t) / t < fraction. E.g. SAFE at 2.05 with warning at 2.0 is 2.5% away, inside a
 * 5% fraction. Null when not approaching, at LIQUIDATION, or with no requirement.
 */
export function approachingAlert(
  state: WrittenState,
  thresholds: Thresholds,
  fraction: Decimal,
): Alert | null {
  if (!state.level || state.marginRatio === null) return null;
  const next = NEXT_WORSE[state.level];
  if (!next) return null;
  const t = thresholds[next.threshold] as Decimal;
  const r = new Decimal(state.marginRatio);
  const gap = r.minus(t).dividedBy(t);
  if (gap.isNegative() || !gap.lessThan(fraction)) return null;
  const pct = gap.times(100).toDecimalPlaces(1, Decimal.ROUND_DOWN).toFixed();
  return {
    id: `${state.accountId}:approaching:${next.level}:${state.evaluatedAt}`,
    category: 'approaching',
    severity: next.level === 'WARNING' ? 'info' : 'warning',
    accountId: state.accountId,
    incidentId: state.incidentId,
    level: state.level,
    marginRatio: state.marginRatio,
    callMove: state.callMove,
    headline: `account ${state.accountId} is approaching ${next.level} (ratio ${r.toDecimalPlaces(3).toFixed()}, ${pct}% above ${t.toFixed()})`,
    next: `${next.level} below a ratio of ${t.toFixed()}`,
    at: state.evaluatedAt,
  };
}
