import type { RiskLevel } from '../risk/levels.ts';

import type { Severity } from '../notify/policy.ts';

export type { Severity };

export interface Notification {
  subject: string;
  message: string;
  severity: Severity;
  level: RiskLevel | null;
  accountId: string;
  kind: 'alert' | 'deleverage' | 'liquidation' | 'resolved' | 'failure';
}

export function severityOf(level: RiskLevel | null): Severity {
  if (level === 'LIQUIDATION') return 'critical';
  if (level === 'WARNING' || level === 'CRITICAL') return 'warning';
  return 'info';
}
