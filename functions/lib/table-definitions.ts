/**
 * The tables, as plain data: the CDK storage construct and local mode (DynamoDB Local) both build from
 * these, so the deployed and local schemas cannot drift apart. No CDK or SDK imports here.
 */
import { OVERVIEW_PROJECTION } from '../../shared/console/overview.ts';

export interface KeyDef {
  name: string;
  type: 'S' | 'N';
}

export interface TableDef {
  /** Logical name: construct id and environment variable suffix. */
  logicalName: string;
  partitionKey: KeyDef;
  sortKey?: KeyDef;
  stream?: 'NEW_AND_OLD_IMAGES';
  ttlAttribute?: string;
  indexes?: {
    name: string;
    partitionKey: KeyDef;
    sortKey?: KeyDef;
    projection: 'KEYS_ONLY' | 'ALL' | 'INCLUDE';
    /** With `INCLUDE`: the attributes copied into the index besides the keys. */
    include?: readonly string[];
  }[];
}

export const TABLES = {
  // Streamed too: a cash movement (a withdrawal) changes margin as much as a trade does.
  accounts: {
    logicalName: 'Accounts',
    partitionKey: { name: 'accountId', type: 'S' },
    stream: 'NEW_AND_OLD_IMAGES',
  },
  positions: {
    logicalName: 'Positions',
    partitionKey: { name: 'accountId', type: 'S' },
    sortKey: { name: 'instrument', type: 'S' },
    stream: 'NEW_AND_OLD_IMAGES',
    // The holdings index: instrument → accounts, for fanning a price change out.
    indexes: [
      {
        name: 'byInstrument',
        partitionKey: { name: 'instrument', type: 'S' },
        sortKey: { name: 'accountId', type: 'S' },
        projection: 'KEYS_ONLY',
      },
    ],
  },
  prices: {
    logicalName: 'Prices',
    partitionKey: { name: 'instrument', type: 'S' },
    stream: 'NEW_AND_OLD_IMAGES',
  },
  // Streamed for the console's margin-updates channel. The overview indexes list every account by level,
  // riskiest first (shared/console/overview.ts); the level is sharded so no index partition runs hot.
  riskState: {
    logicalName: 'RiskState',
    partitionKey: { name: 'accountId', type: 'S' },
    stream: 'NEW_AND_OLD_IMAGES',
    indexes: [
      {
        name: 'byLevelRatio',
        partitionKey: { name: 'overviewPartition', type: 'S' },
        sortKey: { name: 'ratioKey', type: 'N' },
        projection: 'INCLUDE',
        include: OVERVIEW_PROJECTION,
      },
      {
        name: 'byLevelCallDistance',
        partitionKey: { name: 'overviewPartition', type: 'S' },
        sortKey: { name: 'callDistanceKey', type: 'N' },
        projection: 'INCLUDE',
        include: OVERVIEW_PROJECTION,
      },
    ],
  },
  // Keyed by time and state version: two evaluations in the same millisecond (or, in a replay, on the
  // same bar) are two entries, never one overwriting the other.
  riskHistory: {
    logicalName: 'RiskHistory',
    partitionKey: { name: 'accountId', type: 'S' },
    sortKey: { name: 'entryKey', type: 'S' },
    ttlAttribute: 'expiresAt',
  },
  // Escalation steps (one record per incident and step: a step never runs twice), holds, and the audit trail.
  // Streamed for the console's actions channel; audit entries are indexed by day for the 24 h summary.
  actions: {
    logicalName: 'Actions',
    partitionKey: { name: 'accountId', type: 'S' },
    sortKey: { name: 'actionKey', type: 'S' },
    stream: 'NEW_AND_OLD_IMAGES',
    indexes: [
      {
        name: 'byAuditDay',
        partitionKey: { name: 'auditDay', type: 'S' },
        sortKey: { name: 'at', type: 'S' },
        projection: 'INCLUDE',
        include: ['action'],
      },
    ],
  },
  // Guard bands (shared/bands/band-keys.ts): bounds keyed by price bucket on the base table, so a tick reads
  // only the buckets it moved across (strongly consistent: it must see a band written just before it) and
  // a crash's rewrites spread over many partitions. No local index: an LSI would pin each key to one
  // partition (1,000 WCU/s) and cap its item collection at 10 GB.
  bands: {
    logicalName: 'Bands',
    partitionKey: { name: 'partition', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
  },
  // Console WebSocket connections and their subscriptions; API Gateway closes a connection after 2 h.
  connections: {
    logicalName: 'Connections',
    partitionKey: { name: 'connectionId', type: 'S' },
    ttlAttribute: 'expiresAt',
  },
  settings: { logicalName: 'Settings', partitionKey: { name: 'name', type: 'S' } },
  idempotency: {
    logicalName: 'Idempotency',
    partitionKey: { name: 'id', type: 'S' },
    ttlAttribute: 'expiration',
  },
} as const satisfies Record<string, TableDef>;

export type TableKey = keyof typeof TABLES;

/** Environment variable that carries a table's name into the Lambdas. */
export function tableEnvName(key: TableKey): string {
  return `TABLE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}
