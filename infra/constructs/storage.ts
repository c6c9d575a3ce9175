import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
  type ITable,
} from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config.ts';
import { TABLES, type KeyDef, type TableDef, type TableKey } from '../../functions/lib/table-definitions.ts';

const attribute = (k: KeyDef) => ({
  name: k.name,
  type: k.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER,
});

/** What the band-index adapter (functions/lib/bands-repository.ts) calls, and nothing else. */
const BAND_INDEX_ACTIONS = {
  read: ['dynamodb:GetItem', 'dynamodb:Query'],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
} as const;

/**
 * Grants the band index's stripes in one statement (a grant per stripe would push the evaluators'
 * policies past IAM's inline size into overflow policies), with the data key they are encrypted with.
 */
export function grantBandIndex(
  tables: readonly ITable[],
  grantee: IGrantable,
  access: keyof typeof BAND_INDEX_ACTIONS,
): void {
  Grant.addToPrincipal({
    grantee,
    actions: [...BAND_INDEX_ACTIONS[access]],
    resourceArns: tables.map((t) => t.tableArn),
  });
  const key = tables[0]?.encryptionKey;
  if (key && access === 'read') key.grantDecrypt(grantee);
  else if (key) key.grantEncryptDecrypt(grantee);
}

/**
 * All tables, on demand, encrypted with one customer-managed key, point-in-time recovery on. The guard-band
 * index is striped over `bandTables` tables (shared/bands/band-keys.ts stripeOf): each on-demand table has
 * its own write quota, and a crash's band rewrites are what binds it (docs/guard-bands.md, Capacity).
 */
export class Storage extends Construct {
  readonly tables: Record<TableKey, Table>;
  /** The band index's stripes, `tables.bands` first. */
  readonly bandTables: readonly Table[];
  readonly key: Key;

  constructor(scope: Construct, id: string, config: DeployConfig) {
    super(scope, id);
    if (config.bandTables > config.bandShards)
      throw new Error(
        `bandTables (${config.bandTables}) must not exceed bandShards (${config.bandShards}): a stripe holds whole sub-keys`,
      );
    this.key = new Key(this, 'DataKey', {
      enableKeyRotation: true,
      description: 'Margin Guard data at rest (tables, queues, topics)',
      removalPolicy: config.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const makeTable = (logicalName: string, def: TableDef): Table => {
      const table = new Table(this, logicalName, {
        partitionKey: attribute(def.partitionKey),
        ...(def.sortKey ? { sortKey: attribute(def.sortKey) } : {}),
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: this.key,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: config.isProd,
        removalPolicy: config.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        ...(def.stream ? { stream: StreamViewType.NEW_AND_OLD_IMAGES } : {}),
        ...(def.ttlAttribute ? { timeToLiveAttribute: def.ttlAttribute } : {}),
      });
      for (const index of def.indexes ?? []) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: attribute(index.partitionKey),
          ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
          projectionType: ProjectionType[index.projection],
          ...(index.include ? { nonKeyAttributes: [...index.include] } : {}),
        });
      }
      return table;
    };
    this.tables = Object.fromEntries(
      (Object.entries(TABLES) as [TableKey, TableDef][]).map(([key, def]) => [
        key,
        makeTable(def.logicalName, def),
      ]),
    ) as Record<TableKey, Table>;
    this.bandTables = [
      this.tables.bands,
      ...Array.from({ length: config.bandTables - 1 }, (_, i) =>
        makeTable(`${TABLES.bands.logicalName}${i + 2}`, TABLES.bands),
      ),
    ];
  }

  table(key: TableKey): ITable {
    return this.tables[key];
  }
}
