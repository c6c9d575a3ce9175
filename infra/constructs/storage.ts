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
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config.ts';
import { TABLES, type KeyDef, type TableDef, type TableKey } from '../table-definitions.ts';

const attribute = (k: KeyDef) => ({
  name: k.name,
  type: k.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER,
});

/** All tables, on demand, encrypted with one customer-managed key, point-in-time recovery on. */
export class Storage extends Construct {
  readonly tables: Record<TableKey, Table>;
  readonly key: Key;

  constructor(scope: Construct, id: string, config: DeployConfig) {
    super(scope, id);
    this.key = new Key(this, 'DataKey', {
      enableKeyRotation: true,
      description: 'Margin Guard data at rest (tables, queues, topics)',
      removalPolicy: config.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.tables = Object.fromEntries(
      (Object.entries(TABLES) as [TableKey, (typeof TABLES)[TableKey]][]).map(([key, def]) => {
        const table = new Table(this, def.logicalName, {
          partitionKey: attribute(def.partitionKey),
          ...('sortKey' in def ? { sortKey: attribute(def.sortKey) } : {}),
          billingMode: BillingMode.PAY_PER_REQUEST,
          encryption: TableEncryption.CUSTOMER_MANAGED,
          encryptionKey: this.key,
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          deletionProtection: config.isProd,
          removalPolicy: config.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
          ...('stream' in def ? { stream: StreamViewType.NEW_AND_OLD_IMAGES } : {}),
          ...('ttlAttribute' in def ? { timeToLiveAttribute: def.ttlAttribute } : {}),
        });
        for (const index of ('indexes' in def ? def.indexes : []) as readonly NonNullable<
          TableDef['indexes']
        >[number][]) {
          table.addGlobalSecondaryIndex({
            indexName: index.name,
            partitionKey: attribute(index.partitionKey),
            ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
            projectionType: ProjectionType[index.projection],
            ...(index.include ? { nonKeyAttributes: [...index.include] } : {}),
          });
        }
        return [key, table];
      }),
    ) as Record<TableKey, Table>;
  }

  table(key: TableKey): ITable {
    return this.tables[key];
  }
}
