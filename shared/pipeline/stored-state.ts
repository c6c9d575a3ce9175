import type { DomainEvent } from '../events/schemas.ts';
import type { EvaluationJson } from '../margin/serialize.ts';
import type { RiskLevel } from '../risk/levels.ts';
import type { Restriction } from '../risk/restrictions.ts';
import type { RiskStateJson } from '../risk/tracker-json.ts';

export interface DataProblem {
  kind: 'stale-prices' | 'missing-prices' | 'invalid-data';
  instruments: string[];
  message: string;
}

/** The risk-state item: the latest evaluation of one account, versioned for optimistic locking. */
export interface StoredRiskState {
  accountId: string;
  version: number;
  evaluatedAt: string;
  level: RiskLevel | null;
  marginRatio: string | null;
  equity: string | null;
  maintenanceRequirement: string | null;
  inMarginCall: boolean;
  staleInstruments: string[];
  dataProblem: DataProblem | null;
  evaluation: EvaluationJson | null;
  tracker: RiskStateJson;
  /**
   * The trading restriction in force (shared/risk/restrictions.ts); absent on items written before
   * restrictions, whose restriction is the policy's for their level and call.
   */
  restriction?: Restriction;
  /** Events committed with this state but not yet confirmed published. */
  outbox: DomainEvent[];
}

export type HistoryReason =
  | 'first'
  | 'level-change'
  | 'margin-call'
  | 'ratio-move'
  | 'heartbeat'
  | 'data-problem'
  | 'restriction-change';

export interface HistoryItem {
  accountId: string;
  /** `at#version` (version zero-padded): orders entries by time, then by state version. */
  entryKey: string;
  at: string;
  level: RiskLevel | null;
  marginRatio: string | null;
  equity: string | null;
  maintenanceRequirement: string | null;
  inMarginCall: boolean;
  reasons: HistoryReason[];
  /** Epoch seconds: DynamoDB TTL removes the entry after the retention period. */
  expiresAt: number;
}

export const historyEntryKey = (at: string, version: number) => `${at}#${String(version).padStart(12, '0')}`;
