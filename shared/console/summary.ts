import { Decimal, ZERO } from '../decimal.ts';
import { OVERVIEW_LEVELS, type OverviewLevel, type OverviewSummaryFields } from './overview.ts';

/** An overview-index row, as the index projects it (decimals as strings). */
export interface OverviewRow {
  accountId: string;
  level: string | null;
  marginRatio: string | null;
  equity: string | null;
  maintenanceRequirement: string | null;
  inMarginCall: boolean;
  evaluatedAt: string;
  dataProblem: { kind: string; instruments: string[]; message: string } | null;
  staleInstruments: string[];
  overview?: OverviewSummaryFields;
}

export interface OverviewSummary {
  asOf: string;
  accounts: number;
  byLevel: Record<OverviewLevel, number>;
  totalEquity: string;
  totalGrossExposure: string;
  openIncidents: number;
  inMarginCall: number;
  dataProblems: number;
  actionsLast24h: { total: number; byAction: Record<string, number> };
}

/** Counts and exact totals over overview rows, added one at a time (a million rows never sit in memory). */
export class OverviewTotals {
  private readonly byLevel = Object.fromEntries(OVERVIEW_LEVELS.map((l) => [l, 0])) as Record<
    OverviewLevel,
    number
  >;
  private accounts = 0;
  private equity = ZERO;
  private exposure = ZERO;
  private openIncidents = 0;
  private inMarginCall = 0;
  private dataProblems = 0;
  private readonly byAction: Record<string, number> = {};
  private actions = 0;

  add(row: OverviewRow): this {
    this.accounts += 1;
    this.byLevel[(row.level ?? 'UNRATED') as OverviewLevel] += 1;
    if (row.equity !== null) this.equity = this.equity.plus(new Decimal(row.equity));
    if (row.overview?.grossExposure)
      this.exposure = this.exposure.plus(new Decimal(row.overview.grossExposure));
    if (row.overview?.incidentId) this.openIncidents += 1;
    if (row.inMarginCall) this.inMarginCall += 1;
    if (row.dataProblem) this.dataProblems += 1;
    return this;
  }

  /** An audit-trail action of the summary's 24 h window. */
  addAction(action: string): this {
    this.byAction[action] = (this.byAction[action] ?? 0) + 1;
    this.actions += 1;
    return this;
  }

  summary(asOf: string): OverviewSummary {
    return {
      asOf,
      accounts: this.accounts,
      byLevel: { ...this.byLevel },
      totalEquity: this.equity.toFixed(),
      totalGrossExposure: this.exposure.toFixed(),
      openIncidents: this.openIncidents,
      inMarginCall: this.inMarginCall,
      dataProblems: this.dataProblems,
      actionsLast24h: { total: this.actions, byAction: { ...this.byAction } },
    };
  }
}
