import type { RiskLevel } from '../risk/levels.ts';
import type { AlertCategory, Severity } from './policy.ts';

/** One thing people must hear about, before it is routed to channels and recipients. */
export interface Alert {
  /** Stable for what it is about (account, incident, category, step): delivering it twice is a no-op. */
  id: string;
  category: AlertCategory;
  severity: Severity;
  accountId: string;
  incidentId: string | null;
  level: RiskLevel | null;
  marginRatio: string | null;
  /** Nearest uniform move (fraction, negative = fall) to the margin call; null if none reaches it. */
  callMove: string | null;
  headline: string;
  /** What the system did, in plain words. */
  done?: string;
  /** What happens next without intervention. */
  next: string;
  at: string;
}

/** The category of a level alert: the level the account is at. */
export function levelCategory(level: RiskLevel | null): AlertCategory {
  if (level === 'LIQUIDATION') return 'liquidation-approaching';
  if (level === 'CRITICAL') return 'critical';
  return 'warning';
}

export function severityOfLevel(level: RiskLevel | null): Severity {
  if (level === 'LIQUIDATION') return 'critical';
  if (level === 'WARNING' || level === 'CRITICAL') return 'warning';
  return 'info';
}
