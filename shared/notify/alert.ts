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
  /** max(0, maintenance requirement − equity), a decimal string, when known (storm mode sums it). */
  shortfall?: string | null;
  headline: string;
  /** What the system did, in plain words. */
  done?: string;
  /** What happens next without intervention. */
  next: string;
  at: string;
  /** Page on-call whatever the policy's page categories say (the /alerts settings' page levels). */
  page?: boolean;
}

/** The category of a level alert: the level the account is at. */
export function levelCategory(level: RiskLevel | null): AlertCategory {
  if (level === 'LIQUIDATION') return 'liquidation-approaching';
  if (level === 'CRITICAL') return 'critical';
  return 'warning';
}

export type AlertKind = 'alert' | 'deleverage' | 'liquidation' | 'resolved' | 'failure';

const CATEGORY_OF_KIND: Record<Exclude<AlertKind, 'alert'>, AlertCategory> = {
  deleverage: 'deleverage',
  liquidation: 'liquidation',
  resolved: 'recovery',
  failure: 'system',
};

/** The escalation's notifications as alerts: one id per (account, incident, kind) so a retry is the same alert. */
export function alertFor(
  kind: AlertKind,
  facts: Pick<
    Alert,
    'accountId' | 'incidentId' | 'level' | 'marginRatio' | 'callMove' | 'next' | 'done' | 'shortfall'
  >,
  severity: Severity,
  at: string,
  page = false,
): Alert {
  const headline: Record<AlertKind, string> = {
    alert: `account ${facts.accountId} is ${facts.level}`,
    deleverage: `deleveraging account ${facts.accountId} (${facts.level})`,
    liquidation: `LIQUIDATING account ${facts.accountId}`,
    resolved: `account ${facts.accountId} recovered (${facts.level})`,
    failure: `automation FAILED for account ${facts.accountId}`,
  };
  return {
    id: `${facts.accountId}:${facts.incidentId ?? '-'}:${kind}`,
    category: kind === 'alert' ? levelCategory(facts.level) : CATEGORY_OF_KIND[kind],
    severity,
    ...facts,
    headline: headline[kind],
    at,
    ...(page ? { page: true } : {}),
  };
}
