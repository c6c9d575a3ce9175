import { Decimal, ZERO } from '../decimal.ts';
import { classify, isWorse, type RiskLevel, type Thresholds } from './levels.ts';

/** One evaluation of one account, reduced to what risk tracking needs. */
export interface Observation {
  /** ISO-8601 timestamp (or date) of the prices evaluated; observations must move forward in time. */
  at: string;
  ratio: Decimal | null;
  equity: Decimal;
  inMarginCall: boolean;
  callRatio: Decimal;
}

export interface MarginCallStats {
  triggered: number;
  resolved: number;
  /** Lowest ratio seen while in a call. */
  worstRatio: Decimal | null;
  worstLevel: RiskLevel | null;
  ratioSumInCall: Decimal;
  observationsInCall: number;
  msInCall: number;
}

export interface RiskState {
  accountId: string;
  level: RiskLevel | null;
  ratio: Decimal | null;
  lastAt: string | null;
  /** Open while the account is worse than SAFE; escalation runs once per incident. */
  incident: { id: string; openedAt: string; worstLevel: RiskLevel } | null;
  marginCall: { id: string; since: string; worstRatio: Decimal | null } | null;
  stats: MarginCallStats;
}

export type RiskEvent =
  | {
      type: 'RiskLevelChanged';
      accountId: string;
      at: string;
      from: RiskLevel | null;
      to: RiskLevel;
      ratio: Decimal | null;
      incidentId: string | null;
    }
  | {
      type: 'MarginCallTriggered';
      accountId: string;
      at: string;
      incidentId: string;
      ratio: Decimal | null;
      callRatio: Decimal;
    }
  | {
      type: 'MarginCallResolved';
      accountId: string;
      at: string;
      incidentId: string;
      ratio: Decimal | null;
      durationMs: number;
      worstRatio: Decimal | null;
    };

export function initialRiskState(accountId: string): RiskState {
  return {
    accountId,
    level: null,
    ratio: null,
    lastAt: null,
    incident: null,
    marginCall: null,
    stats: {
      triggered: 0,
      resolved: 0,
      worstRatio: null,
      worstLevel: null,
      ratioSumInCall: ZERO,
      observationsInCall: 0,
      msInCall: 0,
    },
  };
}

/** Incident ids are derived from account and time, so replays and retries produce the same ids. */
export function incidentId(accountId: string, kind: 'risk' | 'call', at: string): string {
  return `${accountId}:${kind}:${at}`;
}

function millisBetween(from: string, to: string): number {
  return Math.max(0, Date.parse(to) - Date.parse(from));
}

function lower(a: Decimal | null, b: Decimal | null): Decimal | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.lessThan(b) ? a : b;
}

function clearsCall(o: Observation, t: Thresholds): boolean {
  if (o.ratio === null) return !o.equity.isNegative();
  return o.ratio.greaterThanOrEqualTo(o.callRatio.plus(t.hysteresis));
}

/**
 * Folds one observation into an account's risk state. Pure: the same state and observation always give
 * the same result. An observation not newer than the last one (a duplicate or reordered delivery)
 * changes nothing and emits nothing, so events are never duplicated.
 */
export function track(
  state: RiskState,
  o: Observation,
  t: Thresholds,
): { state: RiskState; events: RiskEvent[] } {
  if (state.lastAt !== null && o.at <= state.lastAt) return { state, events: [] };
  const events: RiskEvent[] = [];
  const { accountId } = state;
  const level = classify(o.ratio, o.equity, state.level, t);

  let incident = state.incident;
  if (level !== 'SAFE' && incident === null)
    incident = { id: incidentId(accountId, 'risk', o.at), openedAt: o.at, worstLevel: level };
  else if (incident && isWorse(level, incident.worstLevel)) incident = { ...incident, worstLevel: level };
  if (level !== state.level) {
    events.push({
      type: 'RiskLevelChanged',
      accountId,
      at: o.at,
      from: state.level,
      to: level,
      ratio: o.ratio,
      incidentId: incident?.id ?? null,
    });
  }
  if (level === 'SAFE') incident = null;

  let marginCall = state.marginCall;
  let stats = state.stats;
  if (marginCall === null && o.inMarginCall) {
    marginCall = { id: incidentId(accountId, 'call', o.at), since: o.at, worstRatio: o.ratio };
    stats = { ...stats, triggered: stats.triggered + 1 };
    events.push({
      type: 'MarginCallTriggered',
      accountId,
      at: o.at,
      incidentId: marginCall.id,
      ratio: o.ratio,
      callRatio: o.callRatio,
    });
  } else if (marginCall !== null && clearsCall(o, t)) {
    const durationMs = millisBetween(marginCall.since, o.at);
    stats = { ...stats, resolved: stats.resolved + 1, msInCall: stats.msInCall + durationMs };
    events.push({
      type: 'MarginCallResolved',
      accountId,
      at: o.at,
      incidentId: marginCall.id,
      ratio: o.ratio,
      durationMs,
      worstRatio: marginCall.worstRatio,
    });
    marginCall = null;
  }
  if (marginCall !== null) {
    marginCall = { ...marginCall, worstRatio: lower(marginCall.worstRatio, o.ratio) };
    stats = {
      ...stats,
      worstRatio: lower(stats.worstRatio, o.ratio),
      worstLevel: stats.worstLevel === null || isWorse(level, stats.worstLevel) ? level : stats.worstLevel,
      ratioSumInCall: o.ratio === null ? stats.ratioSumInCall : stats.ratioSumInCall.plus(o.ratio),
      observationsInCall: stats.observationsInCall + (o.ratio === null ? 0 : 1),
    };
  }

  return { state: { ...state, level, ratio: o.ratio, lastAt: o.at, incident, marginCall, stats }, events };
}

export function averageRatioInCall(stats: MarginCallStats): Decimal | null {
  return stats.observationsInCall === 0 ? null : stats.ratioSumInCall.dividedBy(stats.observationsInCall);
}
