import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TABLES, type TableDef, type TableKey } from '../functions/lib/table-definitions.ts';

/** CreateTable input from the same definitions the CDK stack deploys. */
export function createTableInput(def: TableDef, tableName: string): CreateTableCommandInput {
  const keys = [
    def.partitionKey,
    ...(def.sortKey ? [def.sortKey] : []),
    ...(def.indexes ?? []).flatMap((i) => [i.partitionKey, ...(i.sortKey ? [i.sortKey] : [])]),
  ];
  const attributes = new Map<string, AttributeDefinition>();
  for (const k of keys) attributes.set(k.name, { AttributeName: k.name, AttributeType: k.type });
  const keySchema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes.values()],
    KeySchema: keySchema(def.partitionKey, def.sortKey),
    ...(def.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: def.stream } } : {}),
    ...(def.indexes?.length
      ? {
          GlobalSecondaryIndexes: def.indexes.map((i) => ({
            IndexName: i.name,
            KeySchema: keySchema(i.partitionKey, i.sortKey),
            Projection: {
              ProjectionType: i.projection,
              ...(i.include ? { NonKeyAttributes: [...i.include] } : {}),
            },
          })),
        }
      : {}),
  };
}

export function localTableNames(prefix: string): Record<TableKey, string> {
  return Object.fromEntries(
    Object.entries(TABLES).map(([key, def]) => [key, `${prefix}-${def.logicalName}`]),
  ) as Record<TableKey, string>;
}

/** Creates every table (and TTL) in DynamoDB Local; returns their names. */
export async function createTables(
  client: DynamoDBClient,
  prefix = 'margin-guard',
): Promise<Record<TableKey, string>> {
  const names = localTableNames(prefix);
  for (const [key, def] of Object.entries(TABLES) as [TableKey, TableDef][]) {
    await client.send(new CreateTableCommand(createTableInput(def, names[key])));
    if (def.ttlAttribute) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: names[key],
          TimeToLiveSpecification: { Enabled: true, AttributeName: def.ttlAttribute },
        }),
      );
    }
  }
  return names;
}

export function localClient(endpoint: string): DynamoDBClient {
  // DynamoDB Local accepts any credentials; fixed ones keep the SDK from searching the machine for real ones.
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}
