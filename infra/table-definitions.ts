/**
 * The tables, as plain data: the CDK storage construct and local mode (DynamoDB Local) both build from
 * these, so the deployed and local schemas cannot drift apart. No CDK or SDK imports here.
 */
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
  indexes?: { name: string; partitionKey: KeyDef; sortKey?: KeyDef; projection: 'KEYS_ONLY' | 'ALL' }[];
  /** Local secondary indexes: same partition, another sort key, and strongly consistent queries. */
  localIndexes?: { name: string; sortKey: KeyDef; projection: 'KEYS_ONLY' | 'ALL' }[];
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
  riskState: { logicalName: 'RiskState', partitionKey: { name: 'accountId', type: 'S' } },
  riskHistory: {
    logicalName: 'RiskHistory',
    partitionKey: { name: 'accountId', type: 'S' },
    sortKey: { name: 'at', type: 'S' },
    ttlAttribute: 'expiresAt',
  },
  // Escalation steps (one record per incident and step: a step never runs twice), holds, and the audit trail.
  actions: {
    logicalName: 'Actions',
    partitionKey: { name: 'accountId', type: 'S' },
    sortKey: { name: 'actionKey', type: 'S' },
  },
  // Guard bands (shared/bands/band-rows.ts): a tick queries the accounts whose band it leaves. Local
  // indexes, not global ones, because the tick's query must see a band written just before it.
  bands: {
    logicalName: 'Bands',
    partitionKey: { name: 'partition', type: 'S' },
    sortKey: { name: 'accountId', type: 'S' },
    localIndexes: [
      { name: 'byLow', sortKey: { name: 'low', type: 'N' }, projection: 'KEYS_ONLY' },
      { name: 'byHigh', sortKey: { name: 'high', type: 'N' }, projection: 'KEYS_ONLY' },
    ],
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
