import { Decimal } from '../decimal.ts';
import type { RiskLevel } from '../risk/levels.ts';

export type Severity = 'info' | 'warning' | 'critical';

export interface Notification {
  subject: string;
  message: string;
  severity: Severity;
  level: RiskLevel | null;
  accountId: string;
  kind: 'alert' | 'deleverage' | 'liquidation' | 'resolved' | 'failure';
}

export interface NotificationFacts {
  accountId: string;
  incidentId: string;
  level: RiskLevel | null;
  marginRatio: string | null;
  callMove: string | null;
  /** What the system did, in plain words (orders, "nothing: on hold"…). */
  action?: string;
  /** What happens next without intervention. */
  next: string;
}

export function severityOf(level: RiskLevel | null): Severity {
  if (level === 'LIQUIDATION') return 'critical';
  if (level === 'WARNING' || level === 'CRITICAL') return 'warning';
  return 'info';
}

function pct(fraction: string | null): string {
  return fraction === null
    ? 'no move reaches it'
    : `${new Decimal(fraction).times(100).toDecimalPlaces(2).toFixed()}% move`;
}

function ratio(value: string | null): string {
  return value === null ? 'no requirement' : new Decimal(value).toDecimalPlaces(3).toFixed();
}

/** A message a person on call can act on: which account, how bad, how far from the call, what happened, what next. */
export function describe(
  kind: Notification['kind'],
  facts: NotificationFacts,
  severity = severityOf(facts.level),
): Notification {
  const headline: Record<Notification['kind'], string> = {
    alert: `account ${facts.accountId} is ${facts.level}`,
    deleverage: `deleveraging account ${facts.accountId} (${facts.level})`,
    liquidation: `LIQUIDATING account ${facts.accountId}`,
    resolved: `account ${facts.accountId} recovered (${facts.level})`,
    failure: `automation FAILED for account ${facts.accountId}`,
  };
  const lines = [
    `Account: ${facts.accountId}`,
    `Level: ${facts.level ?? 'unknown'}   Margin ratio: ${ratio(facts.marginRatio)}`,
    `Margin call: ${pct(facts.callMove)} away`,
    ...(facts.action ? [`Done: ${facts.action}`] : []),
    `Next: ${facts.next}`,
    `Incident: ${facts.incidentId}`,
  ];
  return {
    subject: `[Margin Guard] ${headline[kind]}`.slice(0, 99),
    message: lines.join('\n'),
    severity,
    level: facts.level,
    accountId: facts.accountId,
    kind,
  };
}
