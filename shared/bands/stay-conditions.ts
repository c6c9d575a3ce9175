import { Decimal, ZERO } from '../decimal.ts';
import type { RiskLevel, Thresholds } from '../risk/levels.ts';

/**
 * One inequality on the gap  g(p) = equity(p) − threshold · maintenance(p) − offset  that must keep its
 * sign for the account's risk level and margin-call state to stay as they are.
 * `above`: g must stay ≥ 0 (or > 0); `below`: g must stay ≤ 0 (or < 0). Bands keep every gap strictly on
 * its side, so strictness never matters.
 */
export interface StayCondition {
  threshold: Decimal;
  offset: Decimal;
  side: 'above' | 'below';
  /** For people and tests: which rule this is. */
  reason: string;
}

export interface TrackedPosition {
  level: RiskLevel;
  inMarginCall: boolean;
  thresholds: Thresholds;
  callRatio: Decimal;
  /** Equity levels at which the thresholds in force change (account-size adjustment); see thresholdsFor. */
  thresholdSwitches: readonly Decimal[];
  equity: Decimal;
}

const above = (threshold: Decimal, reason: string): StayCondition => ({
  threshold,
  offset: ZERO,
  side: 'above',
  reason,
});
const below = (threshold: Decimal, reason: string): StayCondition => ({
  threshold,
  offset: ZERO,
  side: 'below',
  reason,
});

/**
 * Exactly the set of (equity, maintenance) pairs on which `classify` keeps `level` and the tracker keeps
 * the margin-call state, written as gap conditions (maintenance > 0 turns ratio comparisons into gaps;
 * at maintenance = 0 the same gaps reduce to the sign of equity, which is what classify and the tracker
 * use there too):
 *   SAFE         ratio > warning
 *   WARNING      critical ≤ ratio ≤ warning + hysteresis
 *   CRITICAL     liquidation ≤ ratio < critical + hysteresis
 *   LIQUIDATION  ratio < liquidation + hysteresis
 *   no call      ratio ≥ callRatio;   in a call: ratio < callRatio + hysteresis
 * plus staying on the same side of every equity level where the thresholds themselves switch.
 */
export function stayConditions(s: TrackedPosition): StayCondition[] {
  const t = s.thresholds;
  const h = t.hysteresis;
  const out: StayCondition[] = [];
  switch (s.level) {
    case 'SAFE':
      out.push(above(t.warning, 'stays above warning'));
      break;
    case 'WARNING':
      out.push(above(t.critical, 'stays at or above critical'));
      out.push(below(t.warning.plus(h), 'does not recover past warning + hysteresis'));
      break;
    case 'CRITICAL':
      out.push(above(t.liquidation, 'stays at or above liquidation'));
      out.push(below(t.critical.plus(h), 'does not recover past critical + hysteresis'));
      break;
    case 'LIQUIDATION':
      out.push(below(t.liquidation.plus(h), 'does not recover past liquidation + hysteresis'));
      break;
  }
  if (s.inMarginCall) out.push(below(s.callRatio.plus(h), 'margin call does not resolve'));
  else out.push(above(s.callRatio, 'no margin call'));
  for (const level of s.thresholdSwitches) {
    out.push({
      threshold: ZERO,
      offset: level,
      side: s.equity.greaterThanOrEqualTo(level) ? 'above' : 'below',
      reason: `equity stays on its side of ${level.toFixed()} (thresholds switch there)`,
    });
  }
  return out;
}
